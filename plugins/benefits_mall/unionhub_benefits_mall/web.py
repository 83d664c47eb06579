"""The plugin's blueprints; feature view modules add their routes to these.

``bp`` is the web surface (``/benefits_mall``: members, officers and merchant staff — the
pages are responsive, so the mobile site is the same pages), ``api`` the mobile-app API
(``/api/v1/benefits_mall``).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("benefits_mall", __name__, template_folder="templates")
api = Blueprint("benefits_mall_api", __name__)
