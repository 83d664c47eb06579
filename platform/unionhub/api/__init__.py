"""The mobile-app JSON API (``/api/v1``): token auth, uniform errors and pagination, and
an OpenAPI document generated from the code. Plugins declare endpoints on their ``api``
blueprint with :func:`operation`."""

from unionhub.api.core import PAGE_PARAMS, ApiError, Page, QueryParam, operation, paginate

__all__ = ["PAGE_PARAMS", "ApiError", "Page", "QueryParam", "operation", "paginate"]
