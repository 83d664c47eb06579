"""Recording audit entries in the caller's transaction (so an action and its entry commit
or roll back together). Callers pass masked values only."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy.orm import Session

from unionhub import db
from unionhub.audit.models import AuditLog


def record(
    action: str,
    *,
    target_type: str | None = None,
    target_id: object = None,
    org_path: str | None = None,
    details: dict[str, Any] | None = None,
    actor: Any = None,
    session: Session | None = None,
) -> AuditLog:
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    entry = AuditLog(
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "display_name", None) or ("system" if actor is None else None),
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        org_path=org_path,
        ip=request.remote_addr if has_request_context() else None,
        details=details or {},
    )
    (session or db.session()).add(entry)
    return entry
