"""Approvals on the mobile-app API (``/api/v1/oa/…``): the inbox with its counts, a request
with its steps, trail and the actions open to the caller, and acting on it — the same rules
as the web pages (permission ``oa.use``, requests the caller may see, the request's ``lock``
as it was shown: a request changed in between is a 409 and nothing is stored)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from flask import request
from flask_login import current_user
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from unionhub import db
from unionhub.access.service import can
from unionhub.api import ApiError, QueryParam, operation
from unionhub.api.core import MAX_PAGE, int_arg
from unionhub.orgs.models import Org

from ..web import USE, api
from . import engine, inbox
from .models import REQUEST_STATE_LABELS, TASK_STATE_LABELS, OaCc, OaRequest, OaWorkflow
from .views import ActionRefused, inbox_rows, perform, request_files, subject_url, version_of

TAG = ["oa"]
TAB_NAMES = list(inbox.TABS)


class OaInboxCountsOut(BaseModel):
    todo: int
    done: int
    mine: int
    cc: int
    #: CC'd requests not opened yet.
    cc_unread: int


class OaInboxRowOut(BaseModel):
    id: int
    title: str
    workflow: str
    org: str
    #: The active step's name ("" once the request ended).
    step: str
    state: str
    state_label: str
    at: datetime
    #: The state of the caller's task on the 待办 tab ("" elsewhere).
    task_state: str
    task_state_label: str
    unread: bool


class OaInboxOut(BaseModel):
    tab: str
    counts: OaInboxCountsOut
    items: list[OaInboxRowOut]
    page: int
    per_page: int
    total: int


class OaFieldOut(BaseModel):
    label: str
    value: str


class OaTaskOut(BaseModel):
    id: int
    assignee: str
    state: str
    state_label: str
    due_at: datetime | None
    acted_at: datetime | None


class OaStepOut(BaseModel):
    index: int
    name: str
    mode: str
    mode_label: str
    #: done, active, todo or skipped.
    state: str
    tasks: list[OaTaskOut]


class OaTrailOut(BaseModel):
    id: int
    actor: str
    action: str
    label: str
    step: int | None
    opinion: str | None
    at: datetime


class OaAttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    created_at: datetime


class OaCcOut(BaseModel):
    account: str
    read_at: datetime | None


class OaReturnStepOut(BaseModel):
    index: int
    name: str


class OaAvailableOut(BaseModel):
    actions: list[str]
    task_id: int | None
    return_steps: list[OaReturnStepOut]


class OaRequestOut(BaseModel):
    id: int
    ref: str
    kind: str
    title: str
    workflow: str
    version: int
    state: str
    state_label: str
    org: str
    initiator: str
    created_at: datetime
    finished_at: datetime | None
    #: Send it back with an action: an action on a request changed since is refused (409).
    lock: int
    fields: list[OaFieldOut]
    url: str
    steps: list[OaStepOut]
    trail: list[OaTrailOut]
    attachments: list[OaAttachmentOut]
    cc: list[OaCcOut]
    available: OaAvailableOut


class OaActionIn(BaseModel):
    action: Literal["approve", "reject", "return", "answer", "comment", "withdraw",
                    "transfer", "delegate", "add_signer"] = Field(description="操作")
    opinion: str = Field("", max_length=2000, description="意见（不同意、退回、回复、评论时必填）")
    lock: int = Field(ge=0, lt=2**31, description="取得审批单时的 lock")
    step: int | None = Field(None, ge=0, lt=1000, description="退回到的环节序号（return）")
    to: str | None = Field(None, max_length=64,
                           description="转办、委托、加签的对象（用户名）")


def _user() -> Any:
    if not can(current_user, USE):
        raise ApiError(403, "forbidden", "您没有使用办公系统的权限")
    return current_user


def _request(s: Session, request_id: int) -> OaRequest:
    req = s.get(OaRequest, request_id) if 0 < request_id < 2**31 else None
    if req is None or not engine.can_view(s, current_user, req):
        raise ApiError(404, "not_found", "没有这份审批单")
    return req


def _detail(s: Session, req: OaRequest) -> OaRequestOut:
    version = version_of(s, req)
    workflow = s.get(OaWorkflow, version.workflow_id)
    steps = engine.steps_view(s, req)
    trail = engine.trail(s, req)
    files = request_files(s, req)
    ccs = s.scalars(select(OaCc).where(OaCc.request_id == req.id).order_by(OaCc.id)).all()
    names = engine.people(s, req)
    org = s.get(Org, req.org_id)
    av = engine.available(s, current_user, req)
    return OaRequestOut(
        id=req.id, ref=req.ref, kind=req.kind, title=req.title,
        workflow=workflow.name if workflow else "", version=version.version, state=req.state,
        state_label=REQUEST_STATE_LABELS.get(req.state, req.state),
        org=org.name if org else "",
        initiator=names.get(req.initiator_id or 0, "") if req.initiator_id else "系统",
        created_at=req.created_at, finished_at=req.finished_at, lock=req.lock,
        fields=[OaFieldOut(label=k, value=v) for k, v in engine.shown_fields(s, req)],
        url=subject_url(req),
        steps=[OaStepOut(index=st.index, name=st.name, mode=st.mode,
                         mode_label=st.mode_label, state=st.state,
                         tasks=[OaTaskOut(id=t.id, assignee=names.get(t.assignee_id, ""),
                                          state=t.state,
                                          state_label=TASK_STATE_LABELS.get(t.state, t.state),
                                          due_at=t.due_at, acted_at=t.acted_at)
                                for t in st.tasks])
               for st in steps],
        trail=[OaTrailOut(id=a.id, actor=names.get(a.actor_id or 0, "系统"), action=a.action,
                          label=a.label, step=a.step, opinion=a.opinion, at=a.at)
               for a in trail],
        attachments=[OaAttachmentOut(id=f.id, filename=f.filename, content_type=f.content_type,
                                     size=f.size, created_at=f.created_at) for f in files],
        cc=[OaCcOut(account=names.get(c.account_id, ""), read_at=c.read_at) for c in ccs],
        available=OaAvailableOut(
            actions=sorted(av.actions - {"attach", "cc"}),
            task_id=av.task.id if av.task is not None else None,
            return_steps=[OaReturnStepOut(index=i, name=n) for i, n in av.return_steps]))


@api.route("/inbox")
@operation("办公：审批待办", tags=TAG, response=OaInboxOut, errors=(400, 403),
           params=(QueryParam("tab", {"type": "string", "enum": TAB_NAMES, "default": "todo"},
                              "todo 待办、done 已办、mine 我发起的、cc 抄送我的"),
                   QueryParam("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE,
                                       "default": 1}, "页码，从 1 开始")),
           description="各分类的数量与当前分类的一页审批单。")
def api_inbox() -> Any:
    account = _user()
    tab = request.args.get("tab", "todo")
    if tab not in TAB_NAMES:
        raise ApiError(400, "bad_parameter", "tab 应为 todo、done、mine 或 cc",
                       {"tab": "应为 todo、done、mine 或 cc"})
    page = int_arg("page", 1, 1, MAX_PAGE)
    s = db.session()
    counts = inbox.counts(s, account)
    rows, total = inbox_rows(s, account, tab, page)
    return OaInboxOut(
        tab=tab, counts=OaInboxCountsOut(**{k: int(counts.get(k, 0)) for k in
                                            ("todo", "done", "mine", "cc", "cc_unread")}),
        items=[OaInboxRowOut(**vars(r)) for r in rows], page=page, per_page=inbox.PER_PAGE,
        total=total)


@api.route("/requests/<int:request_id>")
@operation("办公：审批单详情", tags=TAG, response=OaRequestOut, errors=(403, 404),
           description="审批单的内容、审批进度、办理记录、附件、抄送，以及当前用户可执行的"
                       "操作（available.actions）。办理时请带上 lock。")
def api_request(request_id: int) -> Any:
    _user()
    s = db.session()
    return _detail(s, _request(s, request_id))


@api.route("/requests/<int:request_id>/actions", methods=["POST"])
@operation("办公：办理审批", tags=TAG, body=OaActionIn, response=OaRequestOut,
           errors=(403, 404, 409, 422),
           description="同意、不同意（需填写意见）、退回（step 为环节序号）、委托回复、评论、"
                       "撤回（发起人，尚无人办理时）、转办/委托/加签（to 为用户名）。"
                       "审批单已被他人处理（lock 不一致）时返回 409，其他不能办理的情况返回 422"
                       "并说明原因。成功时返回审批单的最新状态。")
def api_act(request_id: int, data: OaActionIn) -> Any:
    account = _user()
    s = db.session()
    req = _request(s, request_id)
    try:
        perform(s, account, req, data.action, data.model_dump())
        s.commit()
    except engine.Conflict as exc:
        s.rollback()
        raise ApiError(409, "conflict", exc.message) from None
    except StaleDataError:
        s.rollback()
        raise ApiError(409, "conflict", engine.Conflict().message) from None
    except engine.Forbidden as exc:
        s.rollback()
        raise ApiError(403, "forbidden", exc.message) from None
    except engine.EngineError as exc:
        s.rollback()
        raise ApiError(422, "refused", exc.message, exc.errors or None) from None
    except ActionRefused as exc:
        s.rollback()
        raise ApiError(422, "refused", str(exc)) from None
    return _detail(s, _request(s, request_id))
