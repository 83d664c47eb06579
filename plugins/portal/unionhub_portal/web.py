"""The plugin's blueprints and what every portal page shares.

``bp`` is the web surface (``/portal``): the PC portal at ``/portal/…`` and the mobile
micro-site at ``/portal/m/…`` (same content, mobile templates under ``templates/portal/m/``,
the audience rule for the ``mobile`` platform; endpoints of the micro-site start with ``m_``).
``api`` is the mobile-app API (``/api/v1/portal``; the ``app`` platform).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template, request
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from unionhub import db

from .audience import Platform, Viewer, section_clause, with_sections
from .models import PortalSection

bp = Blueprint("portal", __name__, template_folder="templates")
api = Blueprint("portal_api", __name__)


def current_viewer(platform: Platform = "pc") -> Viewer:
    """The viewer of this request on ``platform`` (computed once per request)."""
    cache: dict[str, Viewer] = g.setdefault("_portal_viewers", {})
    if platform not in cache:
        session = db.session()
        cache[platform] = with_sections(session, Viewer.of(session, current_user, platform))
    return cache[platform]


def menu_sections(viewer: Viewer) -> list[PortalSection]:
    """The top-level sections ``viewer`` may see, in menu order."""
    visible = (section_clause(viewer) if viewer.sections is None
               else PortalSection.id.in_(viewer.sections))
    return list(db.session().scalars(
        select(PortalSection).where(PortalSection.parent_id.is_(None), visible)
        .order_by(PortalSection.sort, PortalSection.id)))


@bp.context_processor
def _portal_context() -> dict[str, Any]:
    """``portal_menu(platform)`` for the layouts (evaluated only when a template calls it)."""
    return {"portal_menu": lambda platform="pc": menu_sections(current_viewer(platform))}


@bp.errorhandler(403)
@bp.errorhandler(404)
def _not_here(exc: HTTPException) -> Any:
    """On the micro-site a refusal or a missing page keeps the micro-site's layout; elsewhere
    the core's error page."""
    code = exc.code or 404
    template = "portal/m/error.html" if request.path.startswith("/portal/m/") \
        else "errors/error.html"
    return render_template(template, code=code, error=exc, m_tab=None), code
