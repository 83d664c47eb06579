"""What the catalogue puts on other pages: the new books on the home pages and the meta
tags of the library's own pages."""

from __future__ import annotations

from typing import Any

from flask import g, render_template
from markupsafe import Markup

from unionhub import db

from . import queries

#: New books in a home-page block.
WIDGET_BOOKS = 6
#: The portal's home-page slot (declared by the portal plugin, when it is enabled).
PORTAL_SLOT = "portal.home.widgets"


def new_books_card(**_ctx: Any) -> Markup | None:
    """The newest books as a card (the core home page's ``home.main`` and the portal's
    ``portal.home.widgets``); nothing while the catalogue is empty."""
    books = queries.latest(db.session(), WIDGET_BOOKS)
    if not books:
        return None
    return Markup(render_template("library/browse/_new_books_card.html", books=books))


def head_tags(**_ctx: Any) -> Markup | None:
    """``layout.head``: the meta description and canonical link of the library page being
    shown (set by its view; nothing on other pages)."""
    head: dict[str, str] | None = g.get("library_head")
    if not head:
        return None
    out = []
    if head.get("description"):
        out.append(Markup('<meta name="description" content="{}">').format(head["description"]))
    if head.get("canonical"):
        out.append(Markup('<link rel="canonical" href="{}">').format(head["canonical"]))
    return Markup("\n").join(out) or None
