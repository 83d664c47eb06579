"""The plugin's blueprints and what every portal page shares.

``bp`` is the web surface (``/portal``): the PC portal at ``/portal/…`` and the mobile
micro-site at ``/portal/m/…`` (same content, mobile templates under ``templates/portal/m/``,
the audience rule for the ``mobile`` platform; endpoints of the micro-site start with ``m_``).
``api`` is the mobile-app API (``/api/v1/portal``; the ``app`` platform).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple

from flask import Blueprint, g, render_template, request
from flask_babel import get_translations
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from unionhub import db

from .audience import Platform, Viewer, built_for, section_clause
from .models import PortalSection

bp = Blueprint("portal", __name__, template_folder="templates")
api = Blueprint("portal_api", __name__)


def _looked_up(platform: Platform) -> tuple[Viewer, list[PortalSection]]:
    """This request's viewer on ``platform`` and the sections it may see, in menu order —
    one query for both (computed once per request)."""
    cache: dict[str, tuple[Viewer, list[PortalSection]]] = g.setdefault("_portal_viewers", {})
    if platform not in cache:
        session = db.session()
        viewer = Viewer.of(session, current_user, platform)
        shown = _in_menu_order(session, viewer)
        cache[platform] = (replace(viewer, sections=tuple(sorted(s.id for s in shown))), shown)
    return cache[platform]


def _in_menu_order(session: Session, viewer: Viewer) -> list[PortalSection]:
    """Every section ``viewer`` may see, in menu order (a statement built once per kind of
    viewer)."""
    return list(session.scalars(built_for("portal.sections", viewer, lambda: (
        select(PortalSection).where(section_clause(viewer))
        .order_by(PortalSection.sort, PortalSection.id)))))


def current_viewer(platform: Platform = "pc") -> Viewer:
    """The viewer of this request on ``platform``, with the sections it may see looked up
    (see :func:`.audience.with_sections`)."""
    return _looked_up(platform)[0]


def menu_sections(viewer: Viewer) -> list[PortalSection]:
    """The top-level sections ``viewer`` may see, in menu order."""
    return [s for s in _in_menu_order(db.session(), viewer) if s.parent_id is None]


class MenuEntry(NamedTuple):
    code: str
    #: In the viewer's language.
    name: str


def portal_menu(platform: Platform = "pc") -> list[MenuEntry]:
    """The layout's section menu: the top-level sections of the request's viewer (no query
    of its own), their names translated here with the request's catalog — one lookup each,
    where ``_()`` in the template cost ~15 µs a name."""
    translations = get_translations()
    return [MenuEntry(s.code, translations.gettext(s.name))
            for s in _looked_up(platform)[1] if s.parent_id is None]


@bp.context_processor
def _portal_context() -> dict[str, Any]:
    """``portal_menu(platform)`` for the layouts (evaluated only when a template calls it)."""
    return {"portal_menu": portal_menu}


@bp.errorhandler(403)
@bp.errorhandler(404)
def _not_here(exc: HTTPException) -> Any:
    """On the micro-site a refusal or a missing page keeps the micro-site's layout; elsewhere
    the core's error page."""
    code = exc.code or 404
    template = "portal/m/error.html" if request.path.startswith("/portal/m/") \
        else "errors/error.html"
    return render_template(template, code=code, error=exc, m_tab=None), code
