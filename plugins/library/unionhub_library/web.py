"""The plugin's blueprints and what every library page shares.

``bp`` is the web surface (``/library``; one set of responsive pages for PC, phone and
tablet; the museum under ``/library/museum``, OPDS under ``/library/opds``). ``api`` is the
mobile-app API (``/api/v1/library``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort
from flask_login import current_user

from unionhub.access import service as access

bp = Blueprint("library", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")
api = Blueprint("library_api", __name__)

READ = "library.read"
DOWNLOAD = "library.download"
MANAGE = "library.catalogue.manage"
STATS = "library.stats.view"
MUSEUM = "library.museum.manage"


def may(permission: str) -> bool:
    """The signed-in user holds ``permission`` somewhere (False for a visitor)."""
    return current_user.is_authenticated and access.can(current_user, permission)


def require_reader() -> Any:
    """The signed-in account allowed to read, or 403 (a visitor is sent to sign in by the
    core's 401 handling when the view is ``login_required``)."""
    if not may(READ):
        abort(403)
    return current_user


@bp.context_processor
def _library_context() -> dict[str, Any]:
    return {"library_may": may}
