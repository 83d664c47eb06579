"""The approval inbox: to do (待办), done (已办), started by me (我发起的), copied to me (抄送我的),
their counts, the nav badge and the officer home widget.

- to do: the account's pending tasks (a request may appear once per pending task);
- done: requests where the account acted on a task (latest action first);
- mine: requests the account started;
- cc: requests copied to the account (unread first counted in ``cc_unread``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import render_template
from markupsafe import Markup
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from unionhub.identity.models import Account
from unionhub.orgs.models import Org

from .engine import definition_of
from .models import OaCc, OaRequest, OaTask, OaWorkflow, OaWorkflowVersion, TaskState

TABS = ("todo", "done", "mine", "cc")
TAB_LABELS = {"todo": "待办", "done": "已办", "mine": "我发起的", "cc": "抄送我的"}
PER_PAGE = 20
WIDGET_ROWS = 5


@dataclass(frozen=True)
class InboxRow:
    """A row of an inbox tab: the request, with the account's pending ``task`` (to do) or
    its ``cc`` (copied); the workflow's and the initiating org's names, the active step's
    name, ``at`` (when the task came, the account last acted, the request started or was
    copied) and ``unread`` (a copy not opened yet). Other attribute reads fall through to the
    request (``row.title``)."""

    request: OaRequest
    task: OaTask | None = None
    cc: OaCc | None = None
    workflow_name: str = ""
    org_name: str = ""
    step_name: str = ""
    at: datetime | None = None
    unread: bool = False

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "request":
            raise AttributeError(name)
        return getattr(self.request, name)


def counts(s: Session, account: Account) -> dict[str, int]:
    """Counts of each tab, and of unread copies (``cc_unread``)."""
    todo = todo_count(s, account.id)
    done = s.scalar(select(func.count(func.distinct(OaTask.request_id))).where(
        OaTask.assignee_id == account.id, OaTask.acted_at.is_not(None))) or 0
    mine = s.scalar(select(func.count()).select_from(OaRequest).where(
        OaRequest.initiator_id == account.id)) or 0
    cc_total, cc_unread = s.execute(select(
        func.count(), func.count().filter(OaCc.read_at.is_(None))).where(
        OaCc.account_id == account.id)).one()
    return {"todo": int(todo), "done": int(done), "mine": int(mine), "cc": int(cc_total or 0),
            "cc_unread": int(cc_unread or 0)}


def _base(*extra: Any) -> Select[Any]:
    return (select(OaRequest, OaWorkflow.name, Org.name, *extra)
            .join(OaWorkflowVersion, OaWorkflowVersion.id == OaRequest.version_id)
            .join(OaWorkflow, OaWorkflow.id == OaWorkflowVersion.workflow_id)
            .join(Org, Org.id == OaRequest.org_id))


def _step_name(s: Session, request: OaRequest) -> str:
    if request.step is None:
        return ""
    steps = definition_of(s, request).steps
    return steps[request.step].name if request.step < len(steps) else ""


def query(s: Session, account: Account, tab: str, page: int = 1, per_page: int = PER_PAGE
          ) -> tuple[list[InboxRow], int]:
    """One page of a tab: (rows, total)."""
    if tab not in TABS:
        raise ValueError(f"unknown inbox tab {tab!r}")
    page = max(int(page or 1), 1)
    offset = (page - 1) * per_page
    out: list[InboxRow] = []
    if tab == "todo":
        where = (OaTask.assignee_id == account.id, OaTask.state == TaskState.PENDING)
        total = todo_count(s, account.id)
        for r, wf, org, task in s.execute(
                _base(OaTask).join(OaTask, OaTask.request_id == OaRequest.id).where(*where)
                .order_by(OaTask.id.desc()).offset(offset).limit(per_page)):
            out.append(InboxRow(r, task=task, workflow_name=wf, org_name=org,
                                step_name=_step_name(s, r), at=task.created_at))
        return out, total
    if tab == "done":
        acted = (select(OaTask.request_id, func.max(OaTask.acted_at).label("last"))
                 .where(OaTask.assignee_id == account.id, OaTask.acted_at.is_not(None))
                 .group_by(OaTask.request_id).subquery())
        total = s.scalar(select(func.count()).select_from(acted)) or 0
        for r, wf, org, last in s.execute(
                _base(acted.c.last).join(acted, acted.c.request_id == OaRequest.id)
                .order_by(acted.c.last.desc(), OaRequest.id.desc())
                .offset(offset).limit(per_page)):
            out.append(InboxRow(r, workflow_name=wf, org_name=org, step_name=_step_name(s, r),
                                at=_aware(last)))
        return out, int(total)
    if tab == "mine":
        where_mine = OaRequest.initiator_id == account.id
        total = s.scalar(select(func.count()).select_from(OaRequest).where(where_mine)) or 0
        for r, wf, org in s.execute(
                _base().where(where_mine)
                .order_by(OaRequest.created_at.desc(), OaRequest.id.desc())
                .offset(offset).limit(per_page)):
            out.append(InboxRow(r, workflow_name=wf, org_name=org, step_name=_step_name(s, r),
                                at=r.created_at))
        return out, int(total)
    total = s.scalar(select(func.count()).select_from(OaCc).where(
        OaCc.account_id == account.id)) or 0
    for r, wf, org, cc in s.execute(
            _base(OaCc).join(OaCc, OaCc.request_id == OaRequest.id)
            .where(OaCc.account_id == account.id)
            .order_by(OaCc.id.desc()).offset(offset).limit(per_page)):
        out.append(InboxRow(r, cc=cc, workflow_name=wf, org_name=org,
                            step_name=_step_name(s, r), at=cc.created_at,
                            unread=cc.read_at is None))
    return out, int(total)


def _aware(value: datetime | None) -> datetime | None:
    """``max()`` of a timestamp column comes back without the column's type on SQLite."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def mark_cc_read(s: Session, account: Account, request_id: int) -> None:
    """The account opened a request copied to it."""
    from unionhub.db import utcnow

    for row in s.scalars(select(OaCc).where(OaCc.request_id == request_id,
                                            OaCc.account_id == account.id,
                                            OaCc.read_at.is_(None))):
        row.read_at = utcnow()


def _user() -> Account | None:
    """The signed-in account if it may use the office."""
    from flask_login import current_user

    from unionhub.access import service as access

    if not current_user or not current_user.is_authenticated:
        return None
    if not access.can(current_user, "oa.use"):
        return None
    return current_user  # type: ignore[no-any-return]


def todo_count(s: Session, account_id: int) -> int:
    return int(s.scalar(select(func.count()).select_from(OaTask).where(
        OaTask.assignee_id == account_id, OaTask.state == TaskState.PENDING)) or 0)


def todo_badge() -> int | None:
    """The nav badge: the signed-in officer's to-do count (None for others)."""
    from unionhub import db

    user = _user()
    if user is None:
        return None
    return todo_count(db.session(), user.id)


def officer_widget(**_ctx: Any) -> Markup | None:
    """The officer home: the to-do count and the latest to-dos."""
    from unionhub import db

    user = _user()
    if user is None:
        return None
    s = db.session()
    rows, total = query(s, user, "todo", 1, WIDGET_ROWS)
    return Markup(render_template("oa/workflow/_widget.html", rows=rows, total=total))


__all__ = [
    "TABS",
    "TAB_LABELS",
    "InboxRow",
    "counts",
    "mark_cc_read",
    "officer_widget",
    "query",
    "todo_badge",
]
