"""Uniform offset pagination over a SQLAlchemy select."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, request, url_for
from sqlalchemy import Select, func, select

from unionhub import db


class PageMath:
    """Page arithmetic for anything with ``page``, ``per_page`` and ``total`` (the
    ``pager`` template macro relies on it)."""

    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass
class Page(PageMath):
    items: list[Any]
    page: int
    per_page: int
    total: int


def paginate(stmt: Select[Any], per_page: int | None = None, scalars: bool = True) -> Page:
    per_page = per_page or int(current_app.config["PAGE_SIZE"])
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    s = db.session()
    total = s.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = s.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    items = list(rows.scalars().unique()) if scalars else list(rows.all())
    return Page(items, page, per_page, int(total))


def page_url(number: int) -> str:
    """The current URL with ``page`` replaced (a Jinja global)."""
    args = {**(request.view_args or {}), **request.args.to_dict(), "page": number}
    return url_for(request.endpoint or "web.home", **args)
