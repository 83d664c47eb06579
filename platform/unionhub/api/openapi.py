"""The OpenAPI 3.1 document, generated from the routes that carry ``@operation``."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from pydantic import BaseModel, TypeAdapter

from unionhub import __version__
from unionhub.api.core import ErrorResponse, Operation

CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
TYPES = {"int": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},  # web.BoundedInt.MAX
         "string": {"type": "string"}, None: {"type": "string"},
         "path": {"type": "string"}}
REF = "#/components/schemas/{model}"


def _schema(tp: Any, components: dict[str, Any]) -> dict[str, Any]:
    """JSON schema of a model or type, its definitions hoisted into components."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        schema = tp.model_json_schema(ref_template=REF, mode="serialization")
        name = tp.__name__
    else:
        schema = TypeAdapter(tp).json_schema(ref_template=REF, mode="serialization")
        name = None
    for def_name, definition in schema.pop("$defs", {}).items():
        _add(components, def_name, definition)
    if name:
        _add(components, name, schema)
        return {"$ref": REF.format(model=name)}
    return schema


def _add(components: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    """Components are named by model class: two different models of one name (two plugins'
    ``CategoryOut``) would silently describe one plugin's answers with the other's schema."""
    if components.setdefault(name, schema) != schema:
        raise ValueError(f"two different API models are named {name!r}: give one a prefix "
                         f"(e.g. the plugin's name)")


def build(app: Flask) -> dict[str, Any]:
    components: dict[str, Any] = {}
    error_ref = _schema(ErrorResponse, components)
    paths: dict[str, Any] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        meta: Operation | None = getattr(view, "__api__", None)
        if meta is None or not rule.rule.startswith("/api/v1"):
            continue
        path = CONVERTER.sub(lambda m: "{" + m.group(2) + "}", rule.rule)
        parameters: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True,
             "schema": TYPES.get(conv, {"type": "string"})}
            for conv, name in CONVERTER.findall(rule.rule)
        ]
        parameters += [{"name": p.name, "in": "query", "required": p.required,
                        "schema": p.schema, "description": p.description}
                       for p in meta.params]
        responses: dict[str, Any] = {}
        if meta.response is None:
            responses[str(204 if meta.status == 200 else meta.status)] = {"description": "成功"}
        elif meta.response is bytes:  # a file; its type is in Content-Type
            responses[str(meta.status)] = {"description": "成功（文件）", "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
        else:
            responses[str(meta.status)] = {
                "description": "成功",
                "content": {"application/json": {"schema": _schema(meta.response, components)}},
            }
        errors = {"400": "请求有误", "404": "不存在或无权访问", "405": "方法不允许"}
        if meta.auth:
            errors["401"] = "需要有效的登录令牌"
            errors["403"] = "无权限"
        if meta.body is not None:
            errors["422"] = "参数校验未通过"
            errors["415"] = "请求体格式不受支持"
        errors["429"] = "请求过于频繁"
        for code in meta.errors:
            errors.setdefault(str(code), "见说明")
        for code, text in errors.items():
            responses[code] = {"description": text,
                               "content": {"application/json": {"schema": error_ref}}}
        op: dict[str, Any] = {
            "operationId": rule.endpoint.replace(".", "_"),
            "summary": meta.summary,
            "tags": list(meta.tags) or [rule.endpoint.split(".")[0]],
            "parameters": parameters,
            "responses": responses,
        }
        if meta.description:
            op["description"] = meta.description
        if meta.body is not None:
            op["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": _schema(meta.body, components)}}}
        op["security"] = [{"bearer": []}] if meta.auth else []
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "UnionHub API (数字工会)", "version": __version__,
                 "description": "移动应用接口。用 POST /api/v1/auth/token 取得令牌，"
                                "之后在请求头中携带 Authorization: Bearer <token>。"},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
