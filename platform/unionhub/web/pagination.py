"""Uniform offset pagination over a SQLAlchemy select."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, request, url_for
from sqlalchemy import Select, func, select

from unionhub import db

#: The largest page number served: a larger ``?page=`` shows this page (empty past the end)
#: instead of an offset the database integer cannot hold.
MAX_PAGE = 1_000_000


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


def page_arg(raw: str | None) -> int:
    """``?page=`` as a page number in 1 … :data:`MAX_PAGE` (anything else: 1; too large:
    the last allowed page). Only ASCII digits: ``int`` refuses ``²`` although ``isdigit``
    accepts it."""
    text = (raw or "").strip()
    if not (text.isascii() and text.isdigit()):
        return 1
    if len(text) > len(str(MAX_PAGE)):
        return MAX_PAGE
    return min(max(1, int(text)), MAX_PAGE)


def paginate(stmt: Select[Any], per_page: int | None = None, scalars: bool = True) -> Page:
    per_page = per_page or int(current_app.config["PAGE_SIZE"])
    page = page_arg(request.args.get("page"))
    s = db.session()
    total = s.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = s.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    items = list(rows.scalars().unique()) if scalars else list(rows.all())
    return Page(items, page, per_page, int(total))


def page_url(number: int) -> str:
    """The current URL with ``page`` replaced (a Jinja global)."""
    args = {**(request.view_args or {}), **request.args.to_dict(), "page": number}
    return url_for(request.endpoint or "web.home", **args)
