"""The API toolkit: the ``operation`` decorator, uniform errors and pagination.

Every JSON endpoint under ``/api/v1`` — the core's and plugins' — declares itself with
``@operation(...)``: that both enforces token auth and request validation and feeds the
OpenAPI document (:mod:`unionhub.api.openapi`), so the document cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Generic, TypeVar

from flask import Response, jsonify, request
from flask_login import current_user
from pydantic import BaseModel, ValidationError
from sqlalchemy import Select, func, select

from unionhub import db

T = TypeVar("T")
MAX_PER_PAGE = 100
MAX_PAGE = 10**6


class ApiError(Exception):
    """An error response: ``{"error": {"code", "message", "fields"?}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str,
                 fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields

    def response(self) -> Any:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return jsonify(error=body), self.status


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: dict[str, str] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class Page(BaseModel, Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int


@dataclass(frozen=True)
class QueryParam:
    name: str
    schema: dict[str, Any]
    description: str = ""
    required: bool = False


PAGE_PARAMS = (
    QueryParam("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
               "页码，从 1 开始"),
    QueryParam("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                            "default": 20}, "每页条数"),
)


@dataclass(frozen=True)
class Operation:
    summary: str
    tags: Sequence[str] = ()
    body: type[BaseModel] | None = None
    response: Any = None
    status: int = 200
    auth: bool = True
    params: Sequence[QueryParam] = field(default_factory=tuple)
    description: str = ""
    #: Further error statuses the view raises (documented in OpenAPI).
    errors: Sequence[int] = ()


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """A bounded integer query argument (``default`` when absent); a 400 naming it otherwise."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "bad_parameter", f"{name} 应为整数", {name: "应为整数"}) from None
    if not low <= value <= high:
        raise ApiError(400, "bad_parameter", f"{name} 应在 {low} 到 {high} 之间",
                       {name: f"应在 {low} 到 {high} 之间"})
    return value


def page_args() -> tuple[int, int]:
    return int_arg("page", 1, 1, MAX_PAGE), int_arg("per_page", 20, 1, MAX_PER_PAGE)


def paginate(stmt: Select[Any], to_item: Callable[[Any], Any]) -> dict[str, Any]:
    """Uniform pagination: ``{"items", "page", "per_page", "total"}``."""
    page, per_page = page_args()
    s = db.session()
    total = s.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = s.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).unique()
    return {"items": [to_item(r) for r in rows], "page": page, "per_page": per_page,
            "total": total}


def _dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value


NUL_MESSAGE = "不能包含空字符（NUL）"


def _nul_paths(value: Any, path: str = "") -> list[str]:
    """Where a validated body holds text with a NUL character (PostgreSQL text cannot store
    one, so it is refused up front instead of failing in the database)."""
    if isinstance(value, str):
        return [path or "body"] if "\x00" in value else []
    if isinstance(value, dict):
        return [p for k, v in value.items()
                for p in _nul_paths(k, path or "body") + _nul_paths(v, f"{path}.{k}".lstrip("."))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nul_paths(v, f"{path}.{i}".lstrip("."))]
    return []


def operation(summary: str, *, tags: Sequence[str] = (), body: type[BaseModel] | None = None,
              response: Any = None, status: int = 200, auth: bool = True,
              params: Sequence[QueryParam] = (), description: str = "",
              errors: Sequence[int] = ()) -> Callable[..., Any]:
    """Declare an API endpoint. The view gets the validated body as ``data=`` and returns
    a model, a dict/list (JSON), None (204) or — declared with ``response=bytes`` — a file
    ``Response`` (e.g. from ``send_file``), passed through as it is."""
    meta = Operation(summary, tuple(tags), body, response, status, auth, tuple(params),
                     description, tuple(errors))

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(fn)
        def view(*args: Any, **kwargs: Any) -> Any:
            try:
                if auth and not current_user.is_authenticated:
                    raise ApiError(401, "unauthorized", "需要有效的登录令牌 (Bearer token)")
                bad_args = sorted({k for k, v in request.args.items(multi=True)
                                   if "\x00" in k or "\x00" in v})
                if bad_args:
                    raise ApiError(400, "bad_parameter", NUL_MESSAGE,
                                   dict.fromkeys(bad_args, NUL_MESSAGE))
                if body is not None:
                    payload = request.get_json(silent=True)
                    if not isinstance(payload, dict):
                        raise ApiError(400, "bad_json", "请求体应为 JSON 对象")
                    try:
                        kwargs["data"] = body.model_validate(payload)
                    except ValidationError as exc:
                        fields = {".".join(str(p) for p in e["loc"]) or "body": e["msg"]
                                  for e in exc.errors()}
                        raise ApiError(422, "invalid", "请求参数有误", fields) from None
                    if nul := _nul_paths(kwargs["data"].model_dump()):
                        raise ApiError(422, "invalid", "请求参数有误",
                                       dict.fromkeys(nul, NUL_MESSAGE))
                result = fn(*args, **kwargs)
            except ApiError as exc:
                return exc.response()
            if result is None:
                return "", 204
            if isinstance(result, Response):  # a file (``response=bytes``)
                return result
            return jsonify(_dump(result)), status

        view.__api__ = meta  # type: ignore[attr-defined]
        return view

    return decorate
