"""The museum's public pages (``/library/museum/…``): the exhibitions, an exhibition with its
sections, an item with the zoomable viewer or a player, the museum search, and the media
endpoint.

A draft is shown only to those who manage it (see :mod:`.service`); to anyone else its page,
its items, their media and their search hits do not exist (404).
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, request, send_file
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from unionhub import db
from unionhub.search.backend import SearchResults
from unionhub.search.service import get_service
from unionhub.web.richtext import ARTICLE, html_to_text, render

from ..models import MuseumExhibition, MuseumItem
from ..web import bp
from . import dc, media, service

MAX_QUERY = 100
SEARCH_PER_PAGE = 12


def _rich(value: str | None) -> Markup:
    return render(value, ARTICLE)


def _excerpt(value: str | None, length: int = 80) -> str:
    text = " ".join(html_to_text(value).split())
    return text if len(text) <= length else text[:length] + "…"


def _page(template: str, **ctx: Any) -> str:
    return render_template(template, rich=_rich, excerpt=_excerpt,
                 kind_labels=service.KIND_LABELS, active_tab="museum", **ctx)


def _viewer() -> Any:
    return current_user if current_user.is_authenticated else None


def _visible_or_404(exhibition: MuseumExhibition | None) -> MuseumExhibition:
    if exhibition is None or not service.visible(db.session(), _viewer(), exhibition):
        abort(404)
    return exhibition


@bp.route("/museum/")
def museum_home() -> Any:
    s = db.session()
    exhibitions = service.published(s)
    ids = [e.id for e in exhibitions]
    return _page("library/museum/home.html", exhibitions=exhibitions,
                 covers=service.covers(s, exhibitions),
                 counts=service.item_counts(s, ids), q="")


@bp.route("/museum/search")
def museum_search() -> Any:
    q = (request.args.get("q") or "").strip()[:MAX_QUERY]
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    svc = get_service()
    results = (svc.search_as(_viewer(), q, doc_type=service.DOC_TYPE, page=page,
                             per_page=SEARCH_PER_PAGE)
               if q else SearchResults(per_page=SEARCH_PER_PAGE))
    ids = [int(h.doc_id) for h in results.hits if h.doc_id.isdigit()]
    items = {i.id: i for i in db.session().scalars(
        select(MuseumItem).where(MuseumItem.id.in_(ids)))} if ids else {}
    return _page("library/museum/search.html", q=q, results=results, items=items)


@bp.route("/museum/<slug>")
def museum_exhibition(slug: str) -> Any:
    s = db.session()
    exhibition = _visible_or_404(service.by_slug(s, slug))
    return _page("library/museum/exhibition.html", exhibition=exhibition,
                 cover=service.covers(s, [exhibition]).get(exhibition.id),
                 manages=service.can_manage(s, _viewer(), exhibition))


@bp.route("/museum/item/<int:item_id>")
def museum_item(item_id: int) -> Any:
    s = db.session()
    found = service.item_in_context(s, item_id)
    if found is None:
        abort(404)
    item, section, exhibition = found
    _visible_or_404(exhibition)
    prev_item, next_item, position, total = service.neighbours(s, exhibition.id, item.id)
    return _page("library/museum/item.html", item=item, section=section,
                 exhibition=exhibition, prev_item=prev_item, next_item=next_item,
                 position=position, total=total, dc_rows=dc.rows(item),
                 manages=service.can_manage(s, _viewer(), exhibition))


def _media_item(item_id: int) -> MuseumItem:
    found = service.item_in_context(db.session(), item_id)
    if found is None or not found[0].media_name:
        abort(404)
    _visible_or_404(found[2])
    return found[0]


def _send(path: Any, mimetype: str) -> Response:
    if path is None or not path.is_file():
        abort(404)
    resp = send_file(path, mimetype=mimetype, conditional=True, etag=True, max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp.headers["Accept-Ranges"] = "bytes"
    # A draft may become public and a public exhibition a draft again: caches revalidate.
    resp.cache_control.public = False
    resp.cache_control.private = True
    resp.cache_control.no_cache = True
    return resp


@bp.route("/museum/media/<int:item_id>")
def museum_media(item_id: int) -> Response:
    """An item's file (ranges and conditional requests for seeking and revalidation)."""
    item = _media_item(item_id)
    return _send(media.media_path(item.media_name), item.media_type or "application/octet-stream")


@bp.route("/museum/media/<int:item_id>/thumb")
def museum_thumb(item_id: int) -> Response:
    """An image item's grid thumbnail (JPEG)."""
    item = _media_item(item_id)
    if item.kind != "image":
        abort(404)
    return _send(media.thumb_path(item.media_name), "image/jpeg")
