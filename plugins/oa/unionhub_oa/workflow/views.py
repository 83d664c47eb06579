"""The approval pages of the officers' office (``/oa``): the inbox (待办 / 已办 / 我发起的 /
抄送我的), starting a general request from a workflow's form, a request's page with the
actions open to the viewer (approving works on a phone), its files, and the workflow admin
(definitions as JSON; a changed definition becomes a new version).

Every action posts the request's ``lock`` as it was shown: an action on a request someone else
changed in between is refused with a message (the engine's :class:`~.engine.Conflict`) and
nothing is stored. Each POST ends its own transaction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import FileStorage

from unionhub import db
from unionhub.access import service as access
from unionhub.access.models import RoleGrant
from unionhub.i18n import _
from unionhub.identity.models import Account
from unionhub.orgs.models import Org
from unionhub.web.pagination import Page, page_arg

from ..web import USE, WORKFLOW_MANAGE, bp, require
from . import attachments, definition, engine, inbox
from .models import (
    REQUEST_STATE_LABELS,
    TASK_STATE_LABELS,
    OaAttachment,
    OaCc,
    OaRequest,
    OaWorkflow,
    OaWorkflowVersion,
    RequestState,
)

GENERAL = engine.GENERAL

TABS = tuple((key, inbox.TAB_LABELS[key]) for key in inbox.TABS)
EMPTY = {"todo": "没有待办的审批。", "done": "还没有办理过审批。", "mine": "您还没有发起过申请。",
         "cc": "没有抄送给您的审批。"}
KIND_LABELS = {"oa.general": "通用申请", "oa.document": "公文", "oa.exchange_run": "数据交换"}
#: Actions that decide or move the request: they carry the request's ``lock`` to the engine.
DECISIONS = ("approve", "reject", "return", "transfer", "delegate", "add_signer", "answer",
             "withdraw")
ACTIONS = (*DECISIONS, "cc", "comment", "attach")
DONE_MESSAGES = {"approve": "已同意", "reject": "已提交不同意意见", "return": "已退回",
                 "transfer": "已转办", "delegate": "已委托", "add_signer": "已加签",
                 "answer": "已回复委托人", "withdraw": "已撤回申请", "cc": "已抄送",
                 "comment": "已发表评论", "attach": "附件已上传"}
USERNAME_SPLIT = re.compile(r"[\s,，、;；]+")
#: Form fields of the workflow editor; every other key of a DefinitionError is a path in
#: the definition.
WORKFLOW_FIELDS = ("code", "name", "kind", "description", "enabled")


class ActionRefused(Exception):
    """Bad input on an action form (shown as a flash; nothing stored)."""


# -- shared helpers ----------------------------------------------------------------------------


def visible_request(s: Session, account: Any, request_id: int) -> OaRequest:
    """The request ``account`` may see, or 404 (never revealing that it exists)."""
    req = s.get(OaRequest, request_id) if 0 < request_id < 2**31 else None
    if req is None or not engine.can_view(s, account, req):
        abort(404)
    return req


def officer_by_username(s: Session, username: str) -> Account | None:
    """The active account signing in as ``username`` that holds ``oa.use`` somewhere."""
    name = username.strip()
    if not name or len(name) > 64:
        return None
    acc = s.scalar(select(Account).where(Account.username == name))
    if acc is None or not acc.is_active or not access.can(acc, USE):
        return None
    return acc


def officers_by_usernames(s: Session, text: str) -> list[Account]:
    """The officers named in ``text`` (separated by commas, spaces or 、); ActionRefused names
    the unknown ones."""
    names = [n for n in USERNAME_SPLIT.split(text or "") if n]
    if not names:
        raise ActionRefused(_("请填写用户名"))
    found: list[Account] = []
    unknown: list[str] = []
    for name in dict.fromkeys(names):
        acc = officer_by_username(s, name)
        if acc is None:
            unknown.append(name[:64])
        else:
            found.append(acc)
    if unknown:
        raise ActionRefused(_("找不到在用的干部账号：%(names)s", names="、".join(unknown)))
    return found


def subject_url(req: OaRequest) -> str:
    """The link to what the request signs off, when it is a local path or an http(s) URL."""
    url = (req.url or "").strip()
    if url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    if url.startswith(("https://", "http://")):
        return url
    return ""


def version_of(s: Session, req: OaRequest) -> OaWorkflowVersion:
    version = s.get(OaWorkflowVersion, req.version_id)
    assert version is not None  # RESTRICT foreign key
    return version


def request_files(s: Session, req: OaRequest) -> list[OaAttachment]:
    return attachments.list_for(s, "request", req.id)


# -- the inbox ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    """One line of the inbox, whatever tab it is on."""

    id: int
    title: str
    workflow: str
    org: str
    step: str
    state: str
    state_label: str
    at: datetime
    task_state: str
    task_state_label: str
    unread: bool


def inbox_rows(s: Session, account: Any, tab: str, page: int) -> tuple[list[InboxRow], int]:
    """One page of an inbox tab as display rows, and the tab's total (three queries for the
    page's workflows, step names and orgs, whatever its length)."""
    rows, total = inbox.query(s, account, tab, page)
    reqs = [r.request for r in rows]
    versions = {vid: (name, defn) for vid, name, defn in s.execute(
        select(OaWorkflowVersion.id, OaWorkflow.name, OaWorkflowVersion.definition)
        .join(OaWorkflow, OaWorkflow.id == OaWorkflowVersion.workflow_id)
        .where(OaWorkflowVersion.id.in_({r.version_id for r in reqs})))} if reqs else {}
    orgs = dict(s.execute(select(Org.id, Org.name).where(
        Org.id.in_({r.org_id for r in reqs}))).all()) if reqs else {}
    out = []
    for row in rows:
        req = row.request
        wf_name, defn = versions.get(req.version_id, ("", {}))
        steps = (defn or {}).get("steps") or []
        step = ""
        if req.state == RequestState.RUNNING and req.step is not None \
                and 0 <= req.step < len(steps):
            step = str(steps[req.step].get("name", ""))
        if row.task is not None:
            at = row.task.created_at
        elif row.cc is not None:
            at = row.cc.created_at
        else:
            at = req.updated_at or req.created_at
        out.append(InboxRow(
            id=req.id, title=req.title, workflow=wf_name, org=orgs.get(req.org_id, ""),
            step=step, state=req.state,
            state_label=REQUEST_STATE_LABELS.get(req.state, req.state), at=at,
            task_state=row.task.state if row.task else "",
            task_state_label=TASK_STATE_LABELS.get(row.task.state, "") if row.task else "",
            unread=row.cc is not None and row.cc.read_at is None))
    return out, total


def _tab() -> str:
    tab = request.args.get("tab", "todo")
    return tab if tab in inbox.TABS else "todo"


@bp.route("/", endpoint="inbox")
@bp.route("/inbox", endpoint="inbox")
@login_required
def inbox_page() -> Any:
    account = require(USE)
    s = db.session()
    tab, page = _tab(), page_arg(request.args.get("page"))
    rows, total = inbox_rows(s, account, tab, page)
    return render_template("oa/workflow/inbox.html", tabs=TABS, tab=tab,
                           counts=inbox.counts(s, account), empty=EMPTY[tab],
                           page=Page(rows, page, inbox.PER_PAGE, total))


# -- starting a request ------------------------------------------------------------------------


@bp.route("/requests/new", endpoint="new_request")
@login_required
def new_request() -> Any:
    require(USE)
    workflows = db.session().scalars(
        select(OaWorkflow).where(OaWorkflow.kind == GENERAL, OaWorkflow.enabled.is_(True))
        .order_by(OaWorkflow.name, OaWorkflow.id)).all()
    return render_template("oa/workflow/new.html", workflows=workflows)


def initiating_orgs(s: Session, account: Any) -> list[Org]:
    """Orgs where ``account`` holds ``oa.use`` through a grant, its first grant first."""
    rows = s.scalars(select(Org).join(RoleGrant, RoleGrant.org_id == Org.id).where(
        RoleGrant.account_id == account.id,
        RoleGrant.role.in_(access.roles_with(USE, s))).order_by(RoleGrant.id)).all()
    return list({o.id: o for o in rows}.values())


def _general_workflow(s: Session, code: str) -> OaWorkflow:
    wf = s.scalar(select(OaWorkflow).where(OaWorkflow.code == code[:64]))
    if wf is None or wf.kind != GENERAL or not wf.enabled:
        abort(404)
    return wf


def _uploads() -> list[FileStorage]:
    return [f for f in request.files.getlist("file") if f and f.filename]


def _attach(s: Session, account: Any, req: OaRequest, files: Sequence[FileStorage]) -> None:
    for f in files:
        attachments.add(s, account, "request", req.id, f.filename or "", f.read(),
                        f.mimetype or "application/octet-stream")


@bp.route("/requests/new/<code>", methods=["GET", "POST"], endpoint="request_start")
@login_required
def request_start(code: str) -> Any:
    account = require(USE)
    s = db.session()
    wf = _general_workflow(s, code)
    try:
        defn = engine.version_definition(s, engine.current_version(s, wf))
    except engine.EngineError:
        abort(404)
    orgs = initiating_orgs(s, account)
    if not orgs:
        abort(403)
    values: dict[str, str] = {"org_id": str(orgs[0].id)}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {k: v for k, v in request.form.items() if k != "csrf_token"}
        org = next((o for o in orgs if str(o.id) == values.get("org_id", "")), None)
        if org is None:
            errors["org_id"] = _("请选择您任职的单位")
        else:
            fields = {f.name: values.get("f_" + f.name, "") for f in defn.fields}
            try:
                req = engine.start(s, wf, initiator=account, org=org,
                                   title=values.get("title", ""), fields=fields)
                _attach(s, account, req, _uploads())
            except engine.EngineError as exc:
                s.rollback()
                names = {f.name for f in defn.fields}
                errors.update({("f_" + k if k in names else k): v
                               for k, v in exc.errors.items()} or {"form": exc.message})
            else:
                s.commit()
                flash(_("已提交申请“%(title)s”", title=req.title), "success")
                return redirect(url_for("oa.request_detail", request_id=req.id))
    return render_template("oa/workflow/start.html", workflow=wf, fields=defn.fields,
                           orgs=orgs, values=values, errors=errors, accept=attachments.ACCEPT,
                           max_mb=attachments.max_bytes() // (1024 * 1024)
                           ), 422 if errors else 200


# -- a request's page --------------------------------------------------------------------------


@bp.route("/requests/<int:request_id>", endpoint="request_detail")
@login_required
def request_detail(request_id: int) -> Any:
    account = require(USE)
    s = db.session()
    req = visible_request(s, account, request_id)
    unread = s.scalar(select(OaCc.id).where(OaCc.request_id == req.id,
                                            OaCc.account_id == account.id,
                                            OaCc.read_at.is_(None)).limit(1))
    if unread is not None:
        inbox.mark_cc_read(s, account, req.id)
        s.commit()
    version = version_of(s, req)
    steps = engine.steps_view(s, req)
    step_names = {st.index: st.name for st in steps}
    running = req.state == RequestState.RUNNING
    return render_template(
        "oa/workflow/detail.html", req=req, workflow=s.get(OaWorkflow, version.workflow_id),
        version=version, org=s.get(Org, req.org_id), names=engine.people(s, req),
        fields=engine.shown_fields(s, req), subject_url=subject_url(req), steps=steps,
        step_names=step_names, current_step=step_names.get(req.step) if running and
        req.step is not None else None, trail=engine.trail(s, req),
        files=request_files(s, req),
        ccs=s.scalars(select(OaCc).where(OaCc.request_id == req.id).order_by(OaCc.id)).all(),
        available=engine.available(s, account, req), decision_actions=DECISIONS,
        accept=attachments.ACCEPT,
        max_mb=attachments.max_bytes() // (1024 * 1024),
        action_url=url_for("oa.request_action", request_id=req.id))


def _lock(raw: Any) -> int:
    try:
        lock = int(str(raw if raw is not None else ""))
    except ValueError:
        raise ActionRefused(_("表单已失效，请刷新页面后重试")) from None
    if not 0 <= lock < 2**31:
        raise ActionRefused(_("表单已失效，请刷新页面后重试"))
    return lock


def _return_step(raw: Any, allowed: list[tuple[int, str]]) -> int:
    try:
        step = int(str(raw if raw is not None else ""))
    except ValueError:
        step = -1
    if step not in {i for i, _name in allowed}:
        raise ActionRefused(_("请选择要退回到的环节"))
    return step


def perform(s: Session, account: Any, req: OaRequest, action: str, form: Mapping[str, Any],
            files: Sequence[FileStorage] = ()) -> None:
    """Do ``action`` on ``req`` for ``account`` with the values of ``form`` (``lock``,
    ``opinion``, ``step``, ``to``: one user name, or several for ``cc``). Shared by the web
    page and the API. Raises ActionRefused (bad input), engine.Conflict (the request changed
    since ``lock``) or engine.EngineError (the engine refused).

    Decisions (:data:`DECISIONS`) are refused when the request changed since ``lock``; a
    comment, a CC or a file is added to whatever the request has become (the engine takes
    no lock for them, and someone approving meanwhile should not lose a typed comment)."""
    if action not in ACTIONS:
        raise ActionRefused(_("未知的操作"))
    lock = _lock(form.get("lock"))
    available = engine.available(s, account, req)
    if action not in available.actions:
        if lock != req.lock:
            raise engine.Conflict()
        raise ActionRefused(_("您现在不能对该审批单执行此操作"))
    task_id = available.task.id if available.task is not None else 0
    opinion = str(form.get("opinion") or "")
    to = str(form.get("to") or "")
    if action == "approve":
        engine.approve(s, account, task_id, opinion, lock=lock)
    elif action == "reject":
        engine.reject(s, account, task_id, opinion, lock=lock)
    elif action == "return":
        engine.return_to(s, account, task_id, _return_step(form.get("step"),
                                                           available.return_steps),
                         opinion, lock=lock)
    elif action in ("transfer", "delegate", "add_signer"):
        target = officer_by_username(s, to)
        if target is None:
            raise ActionRefused(_("找不到用户名为“%(name)s”的在用干部账号",
                                  name=to.strip()[:64]))
        getattr(engine, action)(s, account, task_id, target.id, opinion, lock=lock)
    elif action == "answer":
        engine.answer(s, account, task_id, opinion, lock=lock)
    elif action == "withdraw":
        engine.withdraw(s, account, req.id, lock=lock)
    elif action == "cc":
        engine.cc(s, account, req.id, [a.id for a in officers_by_usernames(s, to)])
    elif action == "comment":
        engine.comment(s, account, req.id, opinion)
    elif not files:
        raise ActionRefused(_("请选择要上传的文件"))
    else:
        _attach(s, account, req, files)


@bp.route("/requests/<int:request_id>/action", methods=["POST"], endpoint="request_action")
@login_required
def request_action(request_id: int) -> Any:
    account = require(USE)
    s = db.session()
    req = visible_request(s, account, request_id)
    action = request.form.get("action", "")
    try:
        perform(s, account, req, action, request.form, _uploads())
        s.commit()
    except engine.EngineError as exc:
        s.rollback()
        flash(exc.message, "error")
    except ActionRefused as exc:
        s.rollback()
        flash(str(exc), "error")
    except StaleDataError:
        s.rollback()
        flash(engine.Conflict().message, "error")
    else:
        flash(_(DONE_MESSAGES[action]), "success")
    return redirect(url_for("oa.request_detail", request_id=request_id))


@bp.route("/requests/<int:request_id>/files/<int:attachment_id>", endpoint="request_file")
@login_required
def request_file(request_id: int, attachment_id: int) -> Any:
    account = require(USE)
    s = db.session()
    req = visible_request(s, account, request_id)
    return attachments.send(s, "request", req.id, attachment_id)


# -- the workflow admin ------------------------------------------------------------------------


@bp.route("/workflows", endpoint="workflows")
@login_required
def workflows() -> Any:
    account = require(WORKFLOW_MANAGE)
    s = db.session()
    scope = access.scope_filter(account, WORKFLOW_MANAGE, OaRequest.org_path)
    counts = {wid: (total, running) for wid, total, running in s.execute(
        select(OaWorkflowVersion.workflow_id, func.count(OaRequest.id),
               func.count(OaRequest.id).filter(OaRequest.state == RequestState.RUNNING))
        .join(OaRequest, OaRequest.version_id == OaWorkflowVersion.id)
        .where(scope).group_by(OaWorkflowVersion.workflow_id))}
    rows = [(wf, *counts.get(wf.id, (0, 0))) for wf in s.scalars(
        select(OaWorkflow).order_by(OaWorkflow.kind, OaWorkflow.code))]
    return render_template("oa/workflow/workflows.html", rows=rows, kind_labels=KIND_LABELS)


def _definition_json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def read_definition(raw: str) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The definition typed in the textarea as JSON; (None, message) when it is not a JSON
    object. The engine checks the rest."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        line, col = getattr(exc, "lineno", 0), getattr(exc, "colno", 0)
        return None, {"definition": _("流程定义不是有效的 JSON（第 %(line)s 行第 %(col)s 列）",
                                      line=line, col=col)}
    if not isinstance(data, dict):
        return None, {"definition": _("流程定义应为 JSON 对象，包含 fields 与 steps")}
    return data, {}


def _definition_errors(exc: definition.DefinitionError) -> dict[str, str]:
    """The engine's messages by form field (``code``, ``name``…) or by definition path
    (``steps[0].mode``, shown as ``definition.steps[0].mode``)."""
    return {(k if k in WORKFLOW_FIELDS else f"definition.{k}" if k else "definition"): v
            for k, v in exc.messages.items()} or {"definition": str(exc)}


def _workflow_values(form: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {k: form.get(k, "").strip() for k in
                              ("code", "name", "kind", "description")}
    values["enabled"] = bool(form.get("enabled"))
    values["definition"] = form.get("definition", "")
    return values


def _enabled_clash(s: Session, kind: str, workflow_id: int | None) -> dict[str, str]:
    """A message when another workflow of ``kind`` is enabled: one workflow signs off a
    plugin's kind (general requests may have many)."""
    if kind == GENERAL:
        return {}
    stmt = select(OaWorkflow).where(OaWorkflow.kind == kind, OaWorkflow.enabled.is_(True))
    if workflow_id is not None:
        stmt = stmt.where(OaWorkflow.id != workflow_id)
    other = s.scalar(stmt.limit(1))
    if other is None:
        return {}
    return {"enabled": _("已有启用的同类型流程“%(name)s”，请先停用它", name=other.name)}


EXAMPLE = {"fields": [{"name": "amount", "label": "金额（元）", "type": "decimal",
                       "required": True},
                      {"name": "reason", "label": "事由", "type": "textarea", "required": True}],
           "steps": [{"key": "district", "name": "区/产业工会审核",
                      "approvers": {"by": "role", "role": "district_officer",
                                    "org": "level:district"},
                      "mode": "any", "deadline_hours": 48},
                     {"key": "city", "name": "市总工会审批",
                      "approvers": {"by": "role", "role": "city_officer", "org": "city"},
                      "mode": "any", "when": "amount > 5000"}]}


def _edit_page(workflow: OaWorkflow | None, values: Mapping[str, Any],
               errors: Mapping[str, str]) -> Any:
    s = db.session()
    versions: list[tuple[OaWorkflowVersion, int]] = []
    if workflow is not None:
        used = dict(s.execute(
            select(OaRequest.version_id, func.count(OaRequest.id))
            .join(OaWorkflowVersion, OaWorkflowVersion.id == OaRequest.version_id)
            .where(OaWorkflowVersion.workflow_id == workflow.id)
            .group_by(OaRequest.version_id)).all())
        versions = [(v, used.get(v.id, 0)) for v in s.scalars(
            select(OaWorkflowVersion).where(OaWorkflowVersion.workflow_id == workflow.id)
            .order_by(OaWorkflowVersion.version.desc()))]
    created_by = {v.created_by for v, _n in versions if v.created_by}
    names = dict(s.execute(select(Account.id, Account.display_name).where(
        Account.id.in_(created_by))).all()) if created_by else {}
    return render_template(
        "oa/workflow/workflow_edit.html", workflow=workflow, values=values, errors=errors,
        versions=versions, names=names, kind_labels=KIND_LABELS,
        definition_errors=any(k.startswith("definition") for k in errors)
    ), 422 if errors else 200


@bp.route("/workflows/new", methods=["GET", "POST"], endpoint="workflow_new")
@login_required
def workflow_new() -> Any:
    account = require(WORKFLOW_MANAGE)
    s = db.session()
    if request.method == "GET":
        return _edit_page(None, {"kind": GENERAL, "enabled": True,
                                 "definition": _definition_json(EXAMPLE)}, {})
    values = _workflow_values(request.form)
    data, errors = read_definition(values["definition"])
    if values["enabled"]:
        errors.update(_enabled_clash(s, values["kind"], None))
    if not errors and data is not None:
        try:
            wf = engine.create_workflow(s, code=values["code"], name=values["name"],
                                        kind=values["kind"], definition=data, by_id=account.id,
                                        description=values["description"],
                                        enabled=values["enabled"])
        except definition.DefinitionError as exc:
            s.rollback()
            errors.update(_definition_errors(exc))
        else:
            s.commit()
            flash(_("已创建流程“%(name)s”", name=wf.name), "success")
            return redirect(url_for("oa.workflow_edit", workflow_id=wf.id))
    return _edit_page(None, values, errors)


@bp.route("/workflows/<int:workflow_id>", methods=["GET", "POST"], endpoint="workflow_edit")
@login_required
def workflow_edit(workflow_id: int) -> Any:
    account = require(WORKFLOW_MANAGE)
    s = db.session()
    wf = s.get(OaWorkflow, workflow_id) if 0 < workflow_id < 2**31 else None
    if wf is None:
        abort(404)
    current = s.scalar(select(OaWorkflowVersion).where(
        OaWorkflowVersion.workflow_id == wf.id, OaWorkflowVersion.version == wf.current_version))
    current_def = current.definition if current is not None else {}
    if request.method == "GET":
        return _edit_page(wf, {"name": wf.name, "description": wf.description,
                               "enabled": wf.enabled,
                               "definition": _definition_json(current_def)}, {})
    values = _workflow_values(request.form)
    data, errors = read_definition(values["definition"])
    if values["enabled"] and not wf.enabled:
        errors.update(_enabled_clash(s, wf.kind, wf.id))
    if not errors and data is not None:
        try:
            engine.update_workflow(s, wf, name=values["name"],
                                   description=values["description"],
                                   enabled=values["enabled"])
            changed = _normalised(data) != _normalised(current_def)
            if changed:
                engine.new_version(s, wf, data, by_id=account.id)
        except definition.DefinitionError as exc:
            s.rollback()
            errors.update(_definition_errors(exc))
        else:
            s.commit()
            flash(_("已保存为新版本 v%(n)s", n=wf.current_version) if changed
                  else _("已保存"), "success")
            return redirect(url_for("oa.workflow_edit", workflow_id=wf.id))
    return _edit_page(wf, values, errors)


def _normalised(data: Mapping[str, Any]) -> Any:
    """A definition in its canonical form (the stored one is already); a definition that does
    not parse is compared as it is (and refused by the engine)."""
    try:
        return definition.dump(definition.parse(data))
    except definition.DefinitionError:
        return dict(data)
