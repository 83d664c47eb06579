"""The search page and its JSON twin: every registered type, filtered for the viewer."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template, request
from flask_login import current_user

from unionhub.search.backend import SearchResults
from unionhub.search.service import SearchService, get_service

search_bp = Blueprint("search", __name__, url_prefix="/search")


def _args() -> tuple[str, str | None, int]:
    q = request.args.get("q", "").strip()
    doc_type = request.args.get("type") or None
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    return q, doc_type, page


def _run(service: SearchService, q: str, doc_type: str | None, page: int) -> SearchResults:
    if not q:
        return SearchResults(per_page=service.per_page)
    viewer = current_user if current_user.is_authenticated else None
    return service.search_as(viewer, q, doc_type=doc_type, page=page)


@search_bp.route("/")
def page() -> Any:
    service = get_service()
    q, doc_type, page_no = _args()
    if doc_type not in service.indexers:
        doc_type = None
    results = _run(service, q, doc_type, page_no)
    return render_template("search/page.html", q=q, doc_type=doc_type, results=results,
                           labels=service.labels())


@search_bp.route("/api")
def api() -> Any:
    service = get_service()
    q, doc_type, page_no = _args()
    results = _run(service, q, doc_type, page_no)
    labels = service.labels()
    return jsonify(
        q=q,
        type=doc_type if doc_type in service.indexers else None,
        total=results.total,
        page=results.page,
        pages=results.pages,
        per_page=results.per_page,
        facets=results.facets,
        labels=labels,
        hits=[{
            "doc_type": h.doc_type,
            "type_label": labels.get(h.doc_type, h.doc_type),
            "doc_id": h.doc_id,
            "title": h.title,
            "title_html": str(h.title_html),
            "url": h.url,
            "snippet": str(h.snippet),
            "score": round(h.score, 4),
            "published_at": h.published_at.isoformat() if h.published_at else None,
            "updated_at": h.updated_at.isoformat() if h.updated_at else None,
        } for h in results.hits],
    )
