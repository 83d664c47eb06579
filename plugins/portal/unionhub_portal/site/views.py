"""The PC portal (``/portal/…``): home, sections, articles and the search, for the ``pc``
viewer. Anything the viewer may not read is a 404, whether it exists or not."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request
from markupsafe import Markup

from unionhub import db

from ..models import SectionKind
from ..web import bp, current_viewer
from . import feeds, pages, service
from .counter import count_view


@bp.route("/")
def home() -> Any:
    return pages.cached_home("pc", lambda: render_template(
        "portal/site/home.html", **pages.home_context(db.session(), current_viewer("pc"))))


@bp.route("/s/<code>")
def section(code: str) -> Any:
    s, viewer = db.session(), current_viewer("pc")
    found = service.section_by_code(s, viewer, code)
    if found is None:
        abort(404)
    target = service.redirect_target(found)
    if target is not None:
        return redirect(target)
    if found.kind == SectionKind.DISCOUNTS:
        return render_template("portal/site/discounts.html", active_section=_top(found),
                               **pages.discounts_context(s, viewer, found))
    pages.set_section_head(found, feeds=feeds.is_public(found))
    return render_template("portal/site/section.html", active_section=_top(found),
                           public=feeds.is_public(found), **pages.list_context(s, viewer, found))


@bp.route("/a/<key>")
def article(key: str) -> Any:
    s, viewer = db.session(), current_viewer("pc")
    read = service.article_for_page(s, viewer, key)
    if read is None:
        abort(404)
    found = read.article
    view = pages.article_view(s, viewer, read)
    pages.set_head(found, pages.canonical_url(found))
    html = render_template("portal/site/article.html", view=view, article=found,
                           section=found.section, active_section=_top(found.section),
                           viewer=viewer)
    count_view(s, found.id)
    s.commit()
    return html


@bp.route("/search")
def search() -> Any:
    q = pages.query_text()
    results = pages.search(q, "pc", service.clamp_page(request.args.get("page", 1)))
    return render_template("portal/site/search.html", q=q, results=results)


def _top(section: Any) -> str:
    """The code of the top-level section a section is under (the menu highlights it)."""
    while section.parent is not None:
        section = section.parent
    return str(section.code)


def notices_card(**_ctx: Any) -> Markup | None:
    """``home.main`` contribution: the latest notices the visitor may read on the portal."""
    viewer = current_viewer("pc")
    items = service.notices(db.session(), viewer, limit=5)
    if not items:
        return None
    return Markup(render_template("portal/site/_home_card.html", notices=items))
