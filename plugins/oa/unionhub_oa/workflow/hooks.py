"""The OA plugin as the platform's approval engine (``unionhub_approval_start`` /
``unionhub_approval_decided``).

Other plugins ask for a sign-off with :func:`unionhub.approvals.start`; if an enabled workflow
serves the kind, a request starts in the caller's transaction and its reference (``oa-<id>``)
is returned. When a request ends, the engine reports the decision through
:func:`unionhub.approvals.decided`; for OA's own kinds, :func:`approval_decided` hands it to
the feature that owns the kind (:data:`HANDLERS`, imported only when such a decision comes,
so the engine works before — or without — those features).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from unionhub import db
from unionhub.approvals import ApprovalError
from unionhub.contrib import ApprovalDecision, ApprovalRequest
from unionhub.identity.models import Account
from unionhub.orgs.models import Org

from . import engine

log = logging.getLogger(__name__)

#: OA's own kinds → "module:function" called as ``handler(session, decision)`` (idempotent).
HANDLERS: dict[str, str] = {
    "oa.document": "unionhub_oa.documents.service:on_decided",
    "oa.exchange_run": "unionhub_oa.exchange.run:on_decided",
}


def _root(s: Any) -> Org | None:
    return s.scalar(select(Org).where(Org.parent_id.is_(None)).order_by(Org.id).limit(1))


def approval_start(request: ApprovalRequest) -> str | None:
    """Start a request for ``request`` if a workflow serves its kind (else None: another
    engine, or the asking plugin's own review, decides). Its ``fields`` fill the definition's
    fields whose label or name they match; the others are kept for display."""
    s = db.session()
    wf = engine.workflow_for_kind(s, request.kind)
    if wf is None:
        return None
    org = s.get(Org, request.org_id) if request.org_id is not None else _root(s)
    if org is None:
        raise ApprovalError(f"approval {request.kind}: org {request.org_id} does not exist")
    initiator = s.get(Account, request.initiator_id) if request.initiator_id else None
    defn = engine.version_definition(s, engine.current_version(s, wf))
    by_key = {f.label: f.name for f in defn.fields} | {f.name: f.name for f in defn.fields}
    fields: dict[str, Any] = {}
    shown: dict[str, str] = {}
    for key, value in (request.fields or {}).items():
        name = by_key.get(str(key))
        if name is not None:
            fields[name] = value
        else:
            shown[str(key)] = "" if value is None else str(value)
    try:
        started = engine.start(s, wf, initiator=initiator, org=org, title=request.title,
                               fields=fields, shown=shown, subject_id=request.subject_id,
                               url=request.url)
    except engine.EngineError as exc:
        raise ApprovalError(exc.message) from exc
    return started.ref


def _handler(kind: str) -> Callable[[Any, ApprovalDecision], Any] | None:
    target = HANDLERS.get(kind)
    if target is None:
        return None
    module_name, _sep, func = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only the handler's own module (or its package) missing means "not there yet";
        # an import error inside it is a bug and goes on.
        if exc.name and module_name.startswith(exc.name):
            log.warning("no handler module %s for approval kind %s", module_name, kind)
            return None
        raise
    handler: Callable[[Any, ApprovalDecision], Any] = getattr(module, func)
    return handler


def approval_decided(decision: ApprovalDecision) -> None:
    """Hand a decision on one of OA's own kinds to the feature owning it; others are
    ignored (their owning plugins hear them through the same hook)."""
    handler = _handler(decision.kind)
    if handler is not None:
        handler(db.session(), decision)


__all__ = ["HANDLERS", "approval_decided", "approval_start"]
