"""The approval engine: workflows and their versions, requests going through them, and every
action an initiator or approver takes.

Every function takes the caller's session, writes and never commits. Errors are
:class:`EngineError` (``errors`` maps form fields to messages when the input was at fault),
:class:`Forbidden` when the account may not do this, :class:`Conflict` when someone else acted
first (the caller shows "refresh and try again").

Concurrency: every decision first bumps the request row (``OaRequest.lock`` is SQLAlchemy's
version counter), so two approvers acting on one request serialize on that row and the slower
one's flush fails (``StaleDataError`` → :class:`Conflict`) — before it touches any task, so
there is no lock-order deadlock between tasks and request. Tasks then change state with a
conditional ``UPDATE … WHERE state = 'pending'`` whose row count is checked.

A step's tasks are the step's ``round``: each activation of a step (including a return to it)
bumps ``OaRequest.round``, and tasks of older rounds are history. Voters are the tasks that are
not delegates' (a delegate only answers); ``single``/``all``/``sequential`` pass when no voter
is open and none rejected, ``any`` on the first decision, ``ratio`` once approvals/voters reach
the ratio (and rejects once they no longer can).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app, has_request_context, url_for
from sqlalchemy import ColumnElement, exists, false, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.routing import BuildError

from unionhub import approvals
from unionhub.access import service as access
from unionhub.access.models import RoleGrant
from unionhub.audit import service as audit
from unionhub.contrib import ApprovalDecision
from unionhub.db import utcnow
from unionhub.i18n import _
from unionhub.identity.models import Account
from unionhub.orgs.models import Org

from . import notices, resolve
from .definition import (
    Definition,
    DefinitionError,
    StepDef,
    dump,
    parse,
    typed_values,
)
from .expr import ExprError
from .models import (
    OaAction,
    OaCc,
    OaRequest,
    OaTask,
    OaWorkflow,
    OaWorkflowVersion,
    RequestState,
    TaskState,
)

GENERAL = "oa.general"
USE = "oa.use"
MANAGE = "oa.workflow.manage"
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
KIND_RE = approvals.KIND_RE
OPEN = (TaskState.WAITING, TaskState.PENDING, TaskState.DELEGATED)
VOTING = (*OPEN, TaskState.APPROVED, TaskState.REJECTED)
MAX_TITLE = 200
MAX_OPINION = 2000
MAX_TEXT = 200
MAX_TEXTAREA = 5000
MAX_NUMBER = Decimal(10) ** 12
CONFLICT_MESSAGE = "该审批已被他人处理，请刷新后重试"


class EngineError(ValueError):
    """A refused action; ``errors`` maps form fields to messages when the input was at
    fault (``start`` with invalid fields)."""

    def __init__(self, message: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors: dict[str, str] = dict(errors or {})


class FieldErrors(EngineError):
    """The request's fields (or title) are invalid: ``errors``/``messages`` map each field
    name to what is wrong."""

    @property
    def messages(self) -> dict[str, str]:
        return self.errors


class Forbidden(EngineError):
    """The account may not do this (not the task's assignee, not the initiator…): a 403."""


class Conflict(EngineError):
    """Someone else changed the request first: reload and try again (a 409)."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or _(CONFLICT_MESSAGE))


# -- workflows and versions -------------------------------------------------------------


def role_choices() -> list[tuple[str, str]]:
    """(role, label) of every role known to the platform, for the workflow editor."""
    roles = current_app.extensions["unionhub"].registries.roles
    return sorted((name, r.label or name) for name, r in roles.items())


def _check_rule(s: Session, rule: Any, path: str, errors: dict[str, str]) -> None:
    if rule is None:
        return
    if rule.by == "users":
        found = set(s.scalars(select(Account.username).where(
            Account.username.in_(list(rule.users)), Account.is_active.is_(True))))
        missing = [u for u in rule.users if u not in found]
        if missing:
            errors[f"{path}.users"] = _("找不到这些在用的用户：%(names)s",
                                        names="、".join(missing))
        return
    if rule.role not in current_app.extensions["unionhub"].registries.roles:
        errors[f"{path}.role"] = _("没有这个角色：%(role)s", role=rule.role)
    if rule.org.startswith("code:"):
        code = rule.org[5:].strip()
        if s.scalar(select(Org.id).where(Org.code == code)) is None:
            errors[f"{path}.org"] = _("没有代码为 %(code)s 的组织", code=code)


def check(s: Session, defn: Definition) -> None:
    """What :func:`~.definition.parse` cannot check alone: the roles, user names and org codes
    the steps name exist. Raises :class:`DefinitionError`."""
    errors: dict[str, str] = {}
    for i, step in enumerate(defn.steps):
        _check_rule(s, step.approvers, f"steps[{i}].approvers", errors)
        _check_rule(s, step.cc, f"steps[{i}].cc", errors)
    if errors:
        raise DefinitionError(errors)


def _checked(s: Session, definition: Mapping[str, Any],
             errors: dict[str, str]) -> Definition | None:
    try:
        defn = parse(definition)
        check(s, defn)
        return defn
    except DefinitionError as exc:
        errors.update(exc.messages)
        return None


def create_workflow(s: Session, *, code: str, name: str, kind: str,
                    definition: Mapping[str, Any], by_id: int | None = None,
                    description: str = "", enabled: bool = True) -> OaWorkflow:
    """A new workflow with its version 1. Raises :class:`DefinitionError` naming every bad
    item (``code``, ``name``, ``kind``, ``description`` or a path in the definition)."""
    errors: dict[str, str] = {}
    code = (code or "").strip()
    name = (name or "").strip()
    kind = (kind or "").strip()
    description = (description or "").strip()
    if not CODE_RE.match(code):
        errors["code"] = _("流程代码应由小写字母、数字、下划线和连字符组成（不超过 64 个字符）")
    elif s.scalar(select(OaWorkflow.id).where(OaWorkflow.code == code)) is not None:
        errors["code"] = _("流程代码“%(code)s”已被使用", code=code)
    if not name:
        errors["name"] = _("请填写流程名称")
    elif len(name) > 100:
        errors["name"] = _("流程名称不能超过 %(n)s 个字", n=100)
    if not KIND_RE.match(kind) or len(kind) > 100:
        errors["kind"] = _("审批类别应是“插件.事项”的形式，如 oa.general")
    if len(description) > 500:
        errors["description"] = _("说明不能超过 %(n)s 个字", n=500)
    defn = _checked(s, definition, errors)
    if errors or defn is None:
        raise DefinitionError(errors)
    wf = OaWorkflow(code=code, name=name, kind=kind, description=description,
                    enabled=enabled, current_version=1)
    s.add(wf)
    s.flush()
    s.add(OaWorkflowVersion(workflow_id=wf.id, version=1, definition=dump(defn),
                            created_by=by_id))
    audit.record("oa.workflow.create", target_type="oa_workflow", target_id=wf.id,
                 actor=s.get(Account, by_id) if by_id else None, session=s,
                 details={"code": code, "kind": kind, "version": 1})
    s.flush()
    return wf


def new_version(s: Session, workflow: OaWorkflow, definition: Mapping[str, Any],
                by_id: int | None = None) -> OaWorkflowVersion:
    """Store ``definition`` as the workflow's next version, used by requests started from now
    on (running requests keep theirs). Raises :class:`DefinitionError`."""
    errors: dict[str, str] = {}
    defn = _checked(s, definition, errors)
    if errors or defn is None:
        raise DefinitionError(errors)
    latest = s.scalar(select(func.max(OaWorkflowVersion.version)).where(
        OaWorkflowVersion.workflow_id == workflow.id)) or 0
    version = OaWorkflowVersion(workflow_id=workflow.id, version=latest + 1,
                                definition=dump(defn), created_by=by_id)
    s.add(version)
    workflow.current_version = latest + 1
    audit.record("oa.workflow.version", target_type="oa_workflow", target_id=workflow.id,
                 actor=s.get(Account, by_id) if by_id else None, session=s,
                 details={"code": workflow.code, "version": latest + 1})
    s.flush()
    return version


def update_workflow(s: Session, workflow: OaWorkflow, *, name: str | None = None,
                    description: str | None = None, enabled: bool | None = None) -> None:
    """Rename, describe, enable or disable a workflow (its definition changes only through
    :func:`new_version`)."""
    errors: dict[str, str] = {}
    if name is not None:
        name = name.strip()
        if not name:
            errors["name"] = _("请填写流程名称")
        elif len(name) > 100:
            errors["name"] = _("流程名称不能超过 %(n)s 个字", n=100)
        else:
            workflow.name = name
    if description is not None:
        if len(description.strip()) > 500:
            errors["description"] = _("说明不能超过 %(n)s 个字", n=500)
        else:
            workflow.description = description.strip()
    if errors:
        raise DefinitionError(errors)
    if enabled is not None:
        workflow.enabled = enabled
    s.flush()


def workflow_for_kind(s: Session, kind: str) -> OaWorkflow | None:
    """The enabled workflow for ``kind`` (the oldest, when several are enabled)."""
    return s.scalars(select(OaWorkflow).where(OaWorkflow.kind == kind,
                                              OaWorkflow.enabled.is_(True))
                     .order_by(OaWorkflow.id).limit(1)).first()


def current_version(s: Session, workflow: OaWorkflow) -> OaWorkflowVersion:
    version = s.scalar(select(OaWorkflowVersion).where(
        OaWorkflowVersion.workflow_id == workflow.id,
        OaWorkflowVersion.version == workflow.current_version))
    if version is None:
        raise EngineError(_("流程“%(name)s”没有可用的版本", name=workflow.name))
    return version


def version_definition(s: Session, version: OaWorkflowVersion) -> Definition:
    """The parsed definition of a version (cached in the session: versions never change)."""
    cache: dict[int, Definition] = s.info.setdefault("oa_definitions", {})
    if version.id not in cache:
        cache[version.id] = parse(version.definition)
    return cache[version.id]


def definition_of(s: Session, request: OaRequest) -> Definition:
    """The definition of the version ``request`` started with."""
    version = s.get(OaWorkflowVersion, request.version_id)
    assert version is not None
    return version_definition(s, version)


# -- starting ---------------------------------------------------------------------------


def validate_fields(defn: Definition, raw: Mapping[str, Any]
                    ) -> tuple[dict[str, Any], dict[str, str]]:
    """The definition's fields from ``raw`` as stored (int as int, decimal and date as text),
    and the errors (field name → message). Keys of ``raw`` the definition does not know are
    ignored."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in defn.fields:
        v = raw.get(f.name)
        if isinstance(v, str):
            v = v.strip()
        if v is None or v == "":
            if f.required:
                errors[f.name] = _("请填写%(label)s", label=f.label)
            continue
        if f.type in ("text", "textarea"):
            text = str(v)
            limit = MAX_TEXT if f.type == "text" else MAX_TEXTAREA
            if len(text) > limit:
                errors[f.name] = _("%(label)s不能超过 %(n)s 个字", label=f.label, n=limit)
            else:
                values[f.name] = text
        elif f.type == "int":
            text = str(v).replace(",", "")
            if isinstance(v, bool) or not re.fullmatch(r"-?\d{1,15}", text):
                errors[f.name] = _("%(label)s应为整数", label=f.label)
            else:
                values[f.name] = int(text)
        elif f.type == "decimal":
            try:
                number = Decimal(str(v).replace(",", "").replace("，", ""))
                if isinstance(v, bool) or not number.is_finite() or abs(number) >= MAX_NUMBER:
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                errors[f.name] = _("%(label)s应为数字", label=f.label)
            else:
                values[f.name] = str(number)
        elif f.type == "date":
            try:
                day = v if isinstance(v, date) else date.fromisoformat(str(v))
            except ValueError:
                errors[f.name] = _("%(label)s应为日期（如 2025-01-31）", label=f.label)
            else:
                values[f.name] = day.isoformat()
        elif f.type == "choice":
            if str(v) not in f.choices:
                errors[f.name] = _("%(label)s只能是：%(choices)s", label=f.label,
                                   choices="、".join(f.choices))
            else:
                values[f.name] = str(v)
    return values, errors


def _holds(defn: Definition, index: int, values: Mapping[str, Any]) -> bool:
    cond = defn.condition(index)
    if cond is None:
        return True
    try:
        return cond.evaluate(values)
    except ExprError as exc:
        raise EngineError(_("环节“%(step)s”的条件无法判断：%(error)s",
                            step=defn.steps[index].name, error=str(exc))) from exc


def _applies(s: Session, defn: Definition, index: int, values: Mapping[str, Any],
             origin: Org) -> bool:
    """The step's condition holds and its level exists above the initiating org."""
    step = defn.steps[index]
    if step.approvers.by == "role" and resolve.above_level(s, step.approvers.org, origin):
        return False
    return _holds(defn, index, values)


def _resolve(s: Session, origin: Org, step: StepDef, *, first: bool,
             exclude: Collection[int] = ()) -> resolve.Resolved:
    """The step's approvers; nobody → an error at the start, the city admins later."""
    try:
        res = resolve.approvers(s, step.approvers, origin, exclude)
    except resolve.ResolveError:
        res = resolve.Resolved()
    if res.accounts:
        return res
    if first and res.target is not None:
        raise EngineError(_("环节“%(step)s”找不到审批人：%(org)s及其上级组织都没有在岗的相应人员，"
                            "请联系管理员调整流程或人员", step=step.name, org=res.target.name))
    if first:
        raise EngineError(_("环节“%(step)s”找不到审批人：指定的审批人都不在岗，"
                            "请联系管理员调整流程或人员", step=step.name))
    admins = resolve.city_admins(s, origin, exclude)
    if not admins.accounts:
        raise EngineError(_("环节“%(step)s”找不到审批人，市总工会也没有管理员", step=step.name))
    admins.walked, admins.missing_users = res.walked, res.missing_users
    if res.target is not None:
        admins.target = res.target
    return admins


def start(s: Session, workflow: OaWorkflow, *, initiator: Account | None, org: Org, title: str,
          fields: Mapping[str, Any], subject_id: str | int | None = None, url: str = "",
          shown: Mapping[str, str] | None = None) -> OaRequest:
    """Start a request on the workflow's current version.

    ``fields`` are checked against the definition (required, type, choices): invalid ones
    raise :class:`EngineError` with ``errors`` (field name → message); keys it does not define
    are ignored. ``shown`` are label → text pairs kept with the fields for display only (what a
    plugin's sign-off sends). The first step whose condition holds is activated; when none
    does, the request is approved at once. Nothing is written when an error is raised.
    """
    if not workflow.enabled:
        raise EngineError(_("流程“%(name)s”已停用", name=workflow.name))
    version = current_version(s, workflow)
    defn = version_definition(s, version)
    values, errors = validate_fields(defn, fields)
    title = (title or "").strip()
    if not title:
        errors["title"] = _("请填写标题")
    elif len(title) > MAX_TITLE:
        errors["title"] = _("标题不能超过 %(n)s 个字", n=MAX_TITLE)
    if errors:
        raise FieldErrors(_("请检查填写的内容：%(fields)s", fields="；".join(errors.values())),
                          errors)
    stored: dict[str, Any] = {}
    for label, text in (shown or {}).items():
        if str(label) not in values:
            stored[str(label)[:40]] = str(text)[:MAX_TEXTAREA]
    stored.update(values)
    typed = typed_values(defn, stored)
    first, skipped = None, []
    for j in range(len(defn.steps)):
        if _applies(s, defn, j, typed, org):
            first = j
            break
        skipped.append(j)
    resolved = _resolve(s, org, defn.steps[first], first=True) if first is not None else None
    now = utcnow()
    request = OaRequest(version_id=version.id, kind=workflow.kind,
                        subject_id=None if subject_id is None else str(subject_id)[:64],
                        title=title, org_id=org.id, org_path=org.path,
                        initiator_id=initiator.id if initiator else None, url=(url or "")[:300],
                        fields=stored, state=RequestState.RUNNING, step=None, round=0,
                        touched=False, undelivered=False, created_at=now, updated_at=now)
    s.add(request)
    s.flush()
    _record(s, request, "start", request.initiator_id, workflow=workflow.code,
            version=version.version)
    for j in skipped:
        _skip(s, request, defn, j)
    if first is None:
        _finish(s, request, RequestState.APPROVED, None, _("没有需要审批的环节，自动通过"))
    else:
        _activate(s, request, defn, first, resolved)
    s.flush()
    return request


# -- the trail, notifications -----------------------------------------------------------


def _record(s: Session, request: OaRequest, action: str, actor_id: int | None, *,
            step: int | None = None, opinion: str | None = None, **details: Any) -> OaAction:
    entry = OaAction(request_id=request.id, actor_id=actor_id, action=action,
                     step=request.step if step is None else step, opinion=opinion or None,
                     details=details, at=utcnow())
    s.add(entry)
    return entry


def _skip(s: Session, request: OaRequest, defn: Definition, index: int) -> None:
    st = defn.steps[index]
    _record(s, request, "step", None, step=index, skipped=True, name=st.name, when=st.when)


def detail_url(request_id: int) -> str:
    """The request's page (a path), also outside a web request (jobs, the CLI)."""
    try:
        if has_request_context():
            return url_for("oa.request_detail", request_id=request_id)
        adapter = current_app.url_map.bind(
            "localhost", script_name=current_app.config.get("APPLICATION_ROOT") or "/")
        return adapter.build("oa.request_detail", {"request_id": request_id})
    except (BuildError, RuntimeError):
        return f"/oa/requests/{request_id}"


def _names(s: Session, ids: Collection[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(s.execute(select(Account.id, Account.display_name).where(
        Account.id.in_(wanted))).all())


def _context(s: Session, request: OaRequest, step: StepDef | None = None,
             **extra: Any) -> dict[str, Any]:
    initiator = _names(s, [request.initiator_id]).get(request.initiator_id or 0, "")
    return {"title": request.title, "initiator": initiator, "step": step.name if step else "",
            "url": detail_url(request.id), "request_id": request.id, **extra}


def _notify_todo(s: Session, request: OaRequest, step: StepDef, tasks: Sequence[OaTask],
                 suffix: str = "") -> None:
    ctx = _context(s, request, step)
    for task in tasks:
        notices.send(s, notices.TODO, [task.assignee_id], ctx, f"task:{task.id}{suffix}")


# -- steps ------------------------------------------------------------------------------


def _due(step: StepDef, now: datetime) -> datetime | None:
    return now + timedelta(hours=step.deadline_hours) if step.deadline_hours else None


def _activate(s: Session, request: OaRequest, defn: Definition, index: int,
              resolved: resolve.Resolved | None = None) -> list[OaTask]:
    """Make step ``index`` the active one in a new round: one task per approver (``single``:
    the first resolved; ``sequential``: in order, the first pending, the others waiting)."""
    step = defn.steps[index]
    origin = s.get(Org, request.org_id)
    assert origin is not None
    res = resolved or _resolve(s, origin, step, first=False)
    request.round += 1
    request.step = index
    now = utcnow()
    accounts = res.accounts[:1] if step.mode == "single" else res.accounts
    sequential = step.mode == "sequential"
    tasks = []
    for seq, (account_id, org_id) in enumerate(accounts):
        pending = not sequential or seq == 0
        tasks.append(OaTask(request_id=request.id, step=index, round=request.round,
                            seq=seq if sequential else 0, assignee_id=account_id, org_id=org_id,
                            state=TaskState.PENDING if pending else TaskState.WAITING,
                            due_at=_due(step, now) if pending else None, created_at=now))
    s.add_all(tasks)
    s.flush()
    names = _names(s, [a for a, _o in accounts])
    _record(s, request, "step", None, step=index, name=step.name, round=request.round,
            approvers=[names.get(a, str(a)) for a, _o in accounts], **res.details())
    if step.cc is not None:
        try:
            cc_res = resolve.approvers(s, step.cc, origin)
        except resolve.ResolveError:
            cc_res = resolve.Resolved()
        _add_cc(s, request, cc_res.account_ids, None)
    _notify_todo(s, request, step, [t for t in tasks if t.state == TaskState.PENDING])
    return tasks


def _voters(s: Session, request: OaRequest) -> list[OaTask]:
    return list(s.scalars(select(OaTask).where(
        OaTask.request_id == request.id, OaTask.round == request.round,
        OaTask.step == request.step, OaTask.delegated_from_id.is_(None),
        OaTask.state.in_(VOTING)).order_by(OaTask.seq, OaTask.id)))


def _outcome(step: StepDef, voters: Sequence[OaTask]) -> str | None:
    """"pass", "reject" or None (the step goes on)."""
    approved = sum(t.state == TaskState.APPROVED for t in voters)
    rejected = sum(t.state == TaskState.REJECTED for t in voters)
    still_open = sum(t.state in OPEN for t in voters)
    total = len(voters)
    if step.mode == "any":
        if approved:
            return "pass"
        return "reject" if rejected or not still_open else None
    if step.mode == "ratio":
        ratio = step.ratio or Decimal(1)
        if total and Decimal(approved) / Decimal(total) >= ratio:
            return "pass"
        if not total or Decimal(approved + still_open) / Decimal(total) < ratio:
            return "reject"
        return None
    if rejected:
        return "reject"
    return "pass" if not still_open else None


def _cancel_open(s: Session, request: OaRequest, *, all_rounds: bool = False) -> None:
    stmt = update(OaTask).where(OaTask.request_id == request.id, OaTask.state.in_(OPEN))
    if not all_rounds:
        stmt = stmt.where(OaTask.round == request.round)
    s.execute(stmt.values(state=TaskState.CANCELLED))


def _settle(s: Session, request: OaRequest, defn: Definition, actor_id: int,
            opinion: str) -> None:
    """After a decision: pass the step, reject the request, or (sequential) hand the step to
    the next approver in line."""
    step = defn.steps[request.step or 0]
    voters = _voters(s, request)
    outcome = _outcome(step, voters)
    if outcome == "pass":
        _cancel_open(s, request)
        _advance(s, request, defn, request.step or 0, actor_id, opinion)
    elif outcome == "reject":
        _finish(s, request, RequestState.REJECTED, actor_id, opinion)
    elif step.mode == "sequential" and not any(
            t.state in (TaskState.PENDING, TaskState.DELEGATED) for t in voters):
        waiting = [t for t in voters if t.state == TaskState.WAITING]
        if waiting:
            nxt = min(t.seq for t in waiting)
            now = utcnow()
            woken = [t for t in waiting if t.seq == nxt]
            for t in woken:
                t.state = TaskState.PENDING
                t.due_at = _due(step, now)
            s.flush()
            _notify_todo(s, request, step, woken)


def _advance(s: Session, request: OaRequest, defn: Definition, after: int,
             actor_id: int | None, opinion: str) -> None:
    typed = typed_values(defn, request.fields or {})
    origin = s.get(Org, request.org_id)
    assert origin is not None
    for j in range(after + 1, len(defn.steps)):
        if _applies(s, defn, j, typed, origin):
            _activate(s, request, defn, j)
            return
        _skip(s, request, defn, j)
    _finish(s, request, RequestState.APPROVED, actor_id, opinion)


def _subject(value: str | None) -> int | str:
    if value is None:
        return ""
    return int(value) if value.isdigit() else value


def decision_of(request: OaRequest, approved: bool, by_id: int | None,
                opinion: str | None) -> ApprovalDecision:
    return ApprovalDecision(request.kind, _subject(request.subject_id), request.ref, approved,
                            by_id, opinion or "")


def deliver(s: Session, request: OaRequest, approved: bool, by_id: int | None,
            opinion: str | None) -> bool:
    """Report the end of ``request`` to the plugin owning its kind; remembers (``undelivered``)
    when nobody listened, for the timers to try again."""
    if request.kind == GENERAL:
        request.undelivered = False
        return True
    delivered = approvals.decided(decision_of(request, approved, by_id, opinion))
    request.undelivered = not delivered
    return delivered


def _finish(s: Session, request: OaRequest, state: str, actor_id: int | None,
            opinion: str | None) -> None:
    """End the request: remaining tasks cancelled, the initiator told, the owning plugin
    told (every kind but ``oa.general``)."""
    _cancel_open(s, request, all_rounds=True)
    last_step = request.step
    request.state = state
    request.finished_at = utcnow()
    request.step = None
    _record(s, request, "finish", actor_id, step=last_step, opinion=opinion, state=state)
    if state != RequestState.WITHDRAWN and request.initiator_id:
        result = _("已通过") if state == RequestState.APPROVED else _("未通过")
        notices.send(s, notices.RESULT, [request.initiator_id],
                     _context(s, request, result=result,
                              opinion=_("审批意见：%(opinion)s", opinion=opinion) if opinion
                              else ""),
                     f"request:{request.id}:result")
    s.flush()
    deliver(s, request, state == RequestState.APPROVED, actor_id, opinion)


# -- locking ----------------------------------------------------------------------------


@contextmanager
def _guard() -> Iterator[None]:
    try:
        yield
    except StaleDataError as exc:
        raise Conflict() from exc


def _lock_request(s: Session, request_id: int, lock: int | None) -> OaRequest:
    """Load the request fresh and bump its version: from here on this transaction holds the
    request row, and a concurrent action on it fails with :class:`Conflict`."""
    request = s.get(OaRequest, request_id, populate_existing=True)
    if request is None:
        raise EngineError(_("找不到这个审批"))
    if lock is not None and int(lock) != request.lock:
        raise Conflict()
    request.updated_at = utcnow()
    flag_modified(request, "updated_at")
    s.flush()
    return request


def _open_task(s: Session, account: Account, task_id: int, lock: int | None
               ) -> tuple[OaTask, OaRequest, Definition]:
    task = s.get(OaTask, task_id, populate_existing=True)
    if task is None:
        raise EngineError(_("找不到这个待办"))
    if task.assignee_id != account.id:
        raise Forbidden(_("只有这个待办的处理人本人可以处理"))
    request = _lock_request(s, task.request_id, lock)
    s.refresh(task)
    if request.state != RequestState.RUNNING or task.state != TaskState.PENDING \
            or task.round != request.round or task.step != request.step:
        raise Conflict()
    return task, request, definition_of(s, request)


def _claim(s: Session, task: OaTask, state: str, opinion: str | None,
           expect: str = TaskState.PENDING, **values: Any) -> None:
    """Move ``task`` from ``expect`` to ``state`` only if nobody did meanwhile."""
    result = s.execute(
        update(OaTask).where(OaTask.id == task.id, OaTask.state == expect)
        .values(state=state, opinion=opinion or None, acted_at=utcnow(), **values)
        .execution_options(synchronize_session="fetch"))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict()


def _opinion(opinion: str | None, *, required: bool, what: str = "") -> str:
    text = (opinion or "").strip()
    if required and not text:
        raise EngineError(what or _("请填写审批意见"), {"opinion": what or _("请填写审批意见")})
    if len(text) > MAX_OPINION:
        msg = _("意见不能超过 %(n)s 个字", n=MAX_OPINION)
        raise EngineError(msg, {"opinion": msg})
    return text


def _not_delegate(task: OaTask) -> None:
    if task.delegated_from_id is not None:
        raise EngineError(_("这是委托给您的待办：请回复意见，由委托人决定"))


# -- actions ----------------------------------------------------------------------------


def approve(s: Session, account: Account, task_id: int, opinion: str = "", *,
            lock: int | None = None) -> OaRequest:
    """Agree (同意)."""
    opinion = _opinion(opinion, required=False)
    with _guard():
        task, request, defn = _open_task(s, account, task_id, lock)
        _not_delegate(task)
        _claim(s, task, TaskState.APPROVED, opinion)
        request.touched = True
        _record(s, request, "approve", account.id, opinion=opinion, task=task.id)
        _settle(s, request, defn, account.id, opinion)
        s.flush()
    return request


def reject(s: Session, account: Account, task_id: int, opinion: str, *,
           lock: int | None = None) -> OaRequest:
    """Disagree (不同意); the opinion is required."""
    opinion = _opinion(opinion, required=True, what=_("不同意时请填写意见"))
    with _guard():
        task, request, defn = _open_task(s, account, task_id, lock)
        _not_delegate(task)
        _claim(s, task, TaskState.REJECTED, opinion)
        request.touched = True
        _record(s, request, "reject", account.id, opinion=opinion, task=task.id)
        _settle(s, request, defn, account.id, opinion)
        s.flush()
    return request


def return_steps(s: Session, request: OaRequest) -> list[tuple[int, str]]:
    """The earlier steps this request went through (a return may go back to them)."""
    if request.state != RequestState.RUNNING or request.step is None:
        return []
    defn = definition_of(s, request)
    done = set(s.scalars(select(OaTask.step).where(
        OaTask.request_id == request.id, OaTask.step < request.step).distinct()))
    return [(i, defn.steps[i].name) for i in sorted(done)]


def return_to(s: Session, account: Account, task_id: int, step: int, opinion: str, *,
              lock: int | None = None) -> OaRequest:
    """Send the request back to an earlier step (退回): it is activated again, with its
    approvers resolved anew; the current step's other tasks are cancelled."""
    opinion = _opinion(opinion, required=True, what=_("退回时请填写意见"))
    with _guard():
        task, request, defn = _open_task(s, account, task_id, lock)
        _not_delegate(task)
        allowed = dict(return_steps(s, request))
        if step not in allowed:
            raise EngineError(_("只能退回到本审批之前经过的环节"), {"step": _("请选择退回的环节")})
        _claim(s, task, TaskState.RETURNED, opinion)
        request.touched = True
        _record(s, request, "return", account.id, opinion=opinion, task=task.id, to_step=step,
                to_name=allowed[step])
        _cancel_open(s, request)
        _activate(s, request, defn, step)
        s.flush()
    return request


def withdraw(s: Session, account: Account, request_id: int, *,
             lock: int | None = None) -> OaRequest:
    """The initiator takes the request back while no approver has acted on it."""
    found = s.get(OaRequest, request_id)
    if found is None:
        raise EngineError(_("找不到这个审批"))
    if found.initiator_id != account.id:
        raise Forbidden(_("只有发起人可以撤回"))
    with _guard():
        request = _lock_request(s, request_id, lock)
        if request.state != RequestState.RUNNING:
            raise EngineError(_("这个审批已经结束，不能撤回"))
        if request.touched:
            raise EngineError(_("已有审批人处理过，不能撤回"))
        _record(s, request, "withdraw", account.id)
        _finish(s, request, RequestState.WITHDRAWN, account.id, _("发起人已撤回"))
        s.flush()
    return request


def _officer(s: Session, to_id: int | None) -> Account:
    """An active account that may use the office (holds ``oa.use`` somewhere)."""
    target = s.get(Account, to_id) if to_id else None
    roles = access.roles_with(USE, s)
    if target is None or not target.is_active or s.scalar(select(RoleGrant.id).where(
            RoleGrant.account_id == target.id, RoleGrant.role.in_(roles)).limit(1)) is None:
        msg = _("请选择一位在岗的办公系统用户")
        raise EngineError(msg, {"to": msg})
    return target


def _not_in_step(s: Session, request: OaRequest, target: Account) -> None:
    busy = s.scalar(select(OaTask.id).where(
        OaTask.request_id == request.id, OaTask.round == request.round,
        OaTask.step == request.step, OaTask.assignee_id == target.id,
        OaTask.state.in_(OPEN)).limit(1))
    if busy is not None:
        msg = _("%(name)s已是本环节的处理人", name=target.display_name)
        raise EngineError(msg, {"to": msg})


def _hand_over(s: Session, account: Account, task_id: int, to_id: int, opinion: str,
               lock: int | None, action: str) -> OaRequest:
    opinion = _opinion(opinion, required=False)
    target = _officer(s, to_id)
    if target.id == account.id:
        msg = _("不能交给自己")
        raise EngineError(msg, {"to": msg})
    with _guard():
        task, request, defn = _open_task(s, account, task_id, lock)
        _not_delegate(task)
        _not_in_step(s, request, target)
        state = TaskState.TRANSFERRED if action == "transfer" else TaskState.DELEGATED
        _claim(s, task, state, opinion)
        request.touched = True
        new = OaTask(request_id=request.id, step=task.step, round=task.round, seq=task.seq,
                     assignee_id=target.id, org_id=task.org_id, state=TaskState.PENDING,
                     delegated_from_id=task.id if action == "delegate" else None,
                     added_by_id=account.id, due_at=task.due_at, created_at=utcnow())
        s.add(new)
        s.flush()
        _record(s, request, action, account.id, opinion=opinion, task=task.id, new_task=new.id,
                to=target.display_name)
        _notify_todo(s, request, defn.steps[task.step], [new])
        s.flush()
    return request


def transfer(s: Session, account: Account, task_id: int, to_id: int, opinion: str = "", *,
             lock: int | None = None) -> OaRequest:
    """Hand the task over for good (转办): the target decides in the approver's place."""
    return _hand_over(s, account, task_id, to_id, opinion, lock, "transfer")


def delegate(s: Session, account: Account, task_id: int, to_id: int, opinion: str = "", *,
             lock: int | None = None) -> OaRequest:
    """Ask someone for their opinion (委托): the task comes back when they answer."""
    return _hand_over(s, account, task_id, to_id, opinion, lock, "delegate")


def answer(s: Session, account: Account, task_id: int, opinion: str, *,
           lock: int | None = None) -> OaRequest:
    """The delegate's reply: their task is answered and the delegator's is pending again."""
    opinion = _opinion(opinion, required=True, what=_("请填写回复意见"))
    with _guard():
        task, request, defn = _open_task(s, account, task_id, lock)
        if task.delegated_from_id is None:
            raise EngineError(_("这不是委托给您的待办"))
        _claim(s, task, TaskState.ANSWERED, opinion)
        origin = s.get(OaTask, task.delegated_from_id, populate_existing=True)
        assert origin is not None
        result = s.execute(
            update(OaTask).where(OaTask.id == origin.id, OaTask.state == TaskState.DELEGATED)
            .values(state=TaskState.PENDING, acted_at=None)
            .execution_options(synchronize_session="fetch"))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict()
        request.touched = True
        _record(s, request, "answer", account.id, opinion=opinion, task=task.id,
                to_task=origin.id)
        _notify_todo(s, request, defn.steps[task.step], [origin], f":answer:{task.id}")
        s.flush()
    return request


def add_signer(s: Session, account: Account, task_id: int, to_id: int, opinion: str = "", *,
               lock: int | None = None) -> OaRequest:
    """Add an approver to the current step (加签); in a sequential step after the last one.
    The adder's own task stays to do."""
    opinion = _opinion(opinion, required=False)
    target = _officer(s, to_id)
    with _guard():
        task, request, defn = _open_task(s, account, task_id, lock)
        _not_delegate(task)
        _not_in_step(s, request, target)
        step = defn.steps[task.step]
        request.touched = True
        now = utcnow()
        if step.mode == "sequential":
            last = max((t.seq for t in _voters(s, request)), default=0)
            new = OaTask(request_id=request.id, step=task.step, round=task.round, seq=last + 1,
                         assignee_id=target.id, org_id=task.org_id, state=TaskState.WAITING,
                         added_by_id=account.id, created_at=now)
        else:
            new = OaTask(request_id=request.id, step=task.step, round=task.round, seq=0,
                         assignee_id=target.id, org_id=task.org_id, state=TaskState.PENDING,
                         added_by_id=account.id, due_at=_due(step, now), created_at=now)
        s.add(new)
        s.flush()
        _record(s, request, "add_signer", account.id, opinion=opinion, task=task.id,
                new_task=new.id, to=target.display_name)
        if new.state == TaskState.PENDING:
            _notify_todo(s, request, step, [new])
        s.flush()
    return request


def _add_cc(s: Session, request: OaRequest, account_ids: Collection[int],
            by_id: int | None) -> list[OaCc]:
    already = set(s.scalars(select(OaCc.account_id).where(OaCc.request_id == request.id)))
    wanted = [i for i in dict.fromkeys(account_ids) if i not in already]
    if not wanted:
        return []
    rows = [OaCc(request_id=request.id, account_id=i, by_id=by_id, created_at=utcnow())
            for i in wanted]
    s.add_all(rows)
    s.flush()
    names = _names(s, wanted)
    entry = _record(s, request, "cc", by_id, accounts=[names.get(i, str(i)) for i in wanted])
    s.flush()
    by = _names(s, [by_id]).get(by_id or 0, "") if by_id else _("审批流程")
    notices.send(s, notices.CC, wanted, _context(s, request, by=by),
                 f"request:{request.id}:cc:{entry.id}")
    return rows


def cc(s: Session, account: Account, request_id: int, account_ids: Sequence[int]
       ) -> list[OaCc]:
    """Copy the request to these accounts (抄送): it shows in their CC inbox. Returns the new
    copies (accounts already copied are skipped)."""
    request = _viewable(s, account, request_id)
    ids = [int(i) for i in dict.fromkeys(account_ids)]
    if not ids:
        msg = _("请选择抄送的人")
        raise EngineError(msg, {"to": msg})
    found = set(s.scalars(select(Account.id).where(Account.id.in_(ids),
                                                   Account.is_active.is_(True))))
    if set(ids) - found:
        msg = _("抄送的人中有不存在或已停用的账号")
        raise EngineError(msg, {"to": msg})
    return _add_cc(s, request, ids, account.id)


def comment(s: Session, account: Account, request_id: int, text: str) -> OaAction:
    """A comment on the request's trail (anyone who may see the request)."""
    request = _viewable(s, account, request_id)
    text = (text or "").strip()
    if not text:
        msg = _("请填写评论内容")
        raise EngineError(msg, {"text": msg})
    if len(text) > MAX_OPINION:
        msg = _("评论不能超过 %(n)s 个字", n=MAX_OPINION)
        raise EngineError(msg, {"text": msg})
    entry = _record(s, request, "comment", account.id, opinion=text)
    s.flush()
    return entry


# -- who sees what ----------------------------------------------------------------------


def visible(account: Account | None) -> ColumnElement[bool]:
    """A WHERE over :class:`OaRequest`: requests ``account`` started, has (had) a task in,
    was copied on, or oversees (``oa.workflow.manage`` on the request's org)."""
    if account is None or getattr(account, "is_anonymous", False) or not account.is_active:
        return false()
    return or_(
        OaRequest.initiator_id == account.id,
        exists(select(OaTask.id).where(OaTask.request_id == OaRequest.id,
                                       OaTask.assignee_id == account.id)),
        exists(select(OaCc.id).where(OaCc.request_id == OaRequest.id,
                                     OaCc.account_id == account.id)),
        access.scope_filter(account, MANAGE, OaRequest.org_path),
    )


def can_view(s: Session, account: Account | None, request: OaRequest) -> bool:
    return s.scalar(select(OaRequest.id).where(OaRequest.id == request.id,
                                               visible(account))) is not None


def _viewable(s: Session, account: Account, request_id: int) -> OaRequest:
    request = s.get(OaRequest, request_id)
    if request is None or not can_view(s, account, request):
        raise Forbidden(_("找不到这个审批，或您无权查看"))
    return request


@dataclass(frozen=True)
class Available:
    """What ``account`` may do on a request now: ``task`` is their pending task (a delegate's
    task allows only ``answer``); ``actions`` among approve, reject, return, transfer,
    delegate, add_signer, answer, withdraw, cc, comment, attach; ``return_steps`` the
    (index, name) a return may go to; ``lock`` the request's version to post back."""

    task: OaTask | None
    actions: frozenset[str]
    return_steps: list[tuple[int, str]] = field(default_factory=list)
    lock: int = 0

    @property
    def delegated(self) -> bool:
        """The task is a delegate's (answer only)."""
        return self.task is not None and self.task.delegated_from_id is not None


def available(s: Session, account: Account | None, request: OaRequest) -> Available:
    if account is None or not can_view(s, account, request):
        return Available(None, frozenset(), [], request.lock)
    actions = {"comment", "cc"}
    running = request.state == RequestState.RUNNING
    task = None
    steps: list[tuple[int, str]] = []
    if running:
        actions.add("attach")
        if request.initiator_id == account.id and not request.touched:
            actions.add("withdraw")
        task = s.scalars(select(OaTask).where(
            OaTask.request_id == request.id, OaTask.round == request.round,
            OaTask.step == request.step, OaTask.assignee_id == account.id,
            OaTask.state == TaskState.PENDING)
            .order_by(OaTask.delegated_from_id.is_not(None), OaTask.id).limit(1)).first()
        if task is not None and task.delegated_from_id is not None:
            actions.add("answer")
        elif task is not None:
            actions |= {"approve", "reject", "transfer", "delegate", "add_signer"}
            steps = return_steps(s, request)
            if steps:
                actions.add("return")
    return Available(task, frozenset(actions), steps, request.lock)


# -- reading a request ------------------------------------------------------------------


@dataclass(frozen=True)
class StepView:
    """One step of a request for display: ``state`` is done, active, todo or skipped;
    ``tasks`` those of the step's latest round (ordered by seq), none for todo/skipped."""

    index: int
    name: str
    mode: str
    state: str
    tasks: list[OaTask]
    key: str = ""
    mode_label: str = ""
    when: str | None = None
    deadline_hours: int | None = None


def steps_view(s: Session, request: OaRequest) -> list[StepView]:
    defn = definition_of(s, request)
    tasks = list(s.scalars(select(OaTask).where(OaTask.request_id == request.id)
                           .order_by(OaTask.round, OaTask.seq, OaTask.id)))
    latest: dict[int, int] = {}
    for t in tasks:
        latest[t.step] = max(latest.get(t.step, 0), t.round)
    typed = typed_values(defn, request.fields or {})
    running = request.state == RequestState.RUNNING
    origin = s.get(Org, request.org_id)
    assert origin is not None
    out = []
    for i, st in enumerate(defn.steps):
        try:
            holds = _applies(s, defn, i, typed, origin)
        except EngineError:
            holds = True
        shown: list[OaTask] = []
        if running and i == request.step:
            state = "active"
            shown = [t for t in tasks if t.step == i and t.round == request.round]
        elif running and request.step is not None and i > request.step:
            state = "todo" if holds else "skipped"
        elif i in latest:
            state = "done"
            shown = [t for t in tasks if t.step == i and t.round == latest[i]]
        else:
            state = "skipped" if not holds or running else "todo"
        out.append(StepView(i, st.name, st.mode, state, shown, st.key, st.mode_label, st.when,
                            st.deadline_hours))
    return out


def trail(s: Session, request: OaRequest) -> list[OaAction]:
    """The request's append-only trail, oldest first."""
    return list(s.scalars(select(OaAction).where(OaAction.request_id == request.id)
                          .order_by(OaAction.id)))


def people(s: Session, request: OaRequest) -> dict[int, str]:
    """Display names of everyone on the request (initiator, assignees, actors, copied)."""
    ids: set[int | None] = {request.initiator_id}
    ids.update(s.scalars(select(OaTask.assignee_id).where(OaTask.request_id == request.id)))
    ids.update(s.scalars(select(OaTask.added_by_id).where(OaTask.request_id == request.id)))
    ids.update(s.scalars(select(OaAction.actor_id).where(OaAction.request_id == request.id)))
    ids.update(s.scalars(select(OaCc.account_id).where(OaCc.request_id == request.id)))
    return _names(s, ids)


def shown_fields(s: Session, request: OaRequest) -> list[tuple[str, str]]:
    """(label, text) of the request's fields: the definition's in order, then those a plugin
    sent for display."""
    defn = definition_of(s, request)
    stored = dict(request.fields or {})
    out = []
    for f in defn.fields:
        if f.name in stored:
            out.append((f.label, str(stored.pop(f.name))))
    out.extend((str(k), str(v)) for k, v in stored.items())
    return out


__all__ = [
    "Available", "Conflict", "EngineError", "FieldErrors", "Forbidden", "StepView",
    "add_signer", "answer", "approve", "available", "can_view", "cc", "check", "comment",
    "create_workflow", "current_version", "decision_of", "definition_of", "delegate", "deliver",
    "detail_url", "new_version", "people", "reject", "return_steps", "return_to",
    "role_choices", "shown_fields", "start", "steps_view", "trail", "transfer",
    "update_workflow", "validate_fields", "version_definition", "visible", "withdraw",
    "workflow_for_kind",
]
