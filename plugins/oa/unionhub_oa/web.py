"""The plugin's blueprints and what every OA page shares.

``bp`` is the officers' office (``/oa``: inbox, requests, documents, data-exchange runs,
accounting, campaigns; responsive, approving works on a phone). ``api`` serves the mobile app
(``/api/v1/oa``: the inbox and approval actions).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort
from flask_login import current_user

from unionhub.access import service as access

bp = Blueprint("oa", __name__, template_folder="templates")
api = Blueprint("oa_api", __name__)

USE = "oa.use"
WORKFLOW_MANAGE = "oa.workflow.manage"
DOCS_DRAFT = "oa.docs.draft"
DOCS_ISSUE = "oa.docs.issue"
EXCHANGE = "oa.exchange.run"
ACCOUNTING = "oa.accounting.view"
CAMPAIGNS = "oa.campaigns.manage"


def may(permission: str) -> bool:
    """The signed-in user holds ``permission`` somewhere (False for a visitor)."""
    return current_user.is_authenticated and access.can(current_user, permission)


def require(permission: str) -> Any:
    """The signed-in account holding ``permission`` somewhere, or 403."""
    if not may(permission):
        abort(403)
    return current_user


def todo_count() -> int:
    """The signed-in officer's to-do count (0 for others)."""
    from .workflow.inbox import todo_badge

    return todo_badge() or 0


@bp.context_processor
def _oa_context() -> dict[str, Any]:
    return {"oa_may": may, "oa_todo_count": todo_count}
