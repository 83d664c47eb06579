"""The hotline on the mobile-app API (``/api/v1/portal/hotline…``): the categories and the
published Q&As (anonymous callers allowed), asking, the member's questions and one of them
with its trail and the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import request
from flask_login import current_user
from pydantic import BaseModel, Field

from unionhub import db
from unionhub.access.service import can
from unionhub.api import PAGE_PARAMS, ApiError, Page, QueryParam, operation, paginate

from ..web import api
from . import service
from .models import PortalHotlineQuestion

TAG = ["portal"]


class HotlineCategoryOut(BaseModel):
    code: str
    label: str


class HotlinePublicQaOut(BaseModel):
    id: int
    category: str
    category_label: str
    subject: str
    question: str
    answer: str
    #: "匿名职工" or the masked name ("张*").
    asker: str
    org: str
    asked_at: datetime
    answered_at: datetime | None
    published_at: datetime | None


class HotlineQuestionOut(BaseModel):
    id: int
    category: str
    category_label: str
    subject: str
    state: str
    state_label: str
    org: str
    anonymous: bool
    asked_at: datetime
    due_at: datetime
    answered_at: datetime | None
    published_at: datetime | None


class HotlineEventOut(BaseModel):
    kind: str
    label: str
    at: datetime


class HotlineQuestionDetailOut(HotlineQuestionOut):
    body: str
    answer: str | None
    rating: int | None
    #: The public (redacted) copy once published.
    public_url: str | None
    events: list[HotlineEventOut]


class HotlineAskIn(BaseModel):
    category: str = Field(description="类别代码，见 /hotline/categories")
    subject: str = Field(description=f"标题，1–{service.SUBJECT_MAX} 个字")
    body: str = Field(description=f"问题描述，{service.BODY_MIN}–{service.BODY_MAX} 个字")
    anonymous: bool = Field(True, description="公开问答时是否隐去姓名（显示为“匿名职工”）")
    org_id: int | None = Field(None, description="答复的工会：本人所在基层工会（默认）或其上级")


def _public(q: PortalHotlineQuestion) -> HotlinePublicQaOut:
    return HotlinePublicQaOut(id=q.id, category=q.category, category_label=service.category_label(
        q.category), subject=q.public_subject or "", question=q.public_question or "",
        answer=q.public_answer or "", asker=service.public_asker(q), org=q.org.name,
        asked_at=q.asked_at, answered_at=q.answered_at, published_at=q.published_at)


def _out(q: PortalHotlineQuestion) -> HotlineQuestionOut:
    return HotlineQuestionOut(id=q.id, category=q.category,
                       category_label=service.category_label(q.category), subject=q.subject,
                       state=q.state, state_label=service.STATE_LABELS.get(q.state, q.state),
                       org=q.org.name, anonymous=q.anonymous, asked_at=q.asked_at,
                       due_at=q.due_at, answered_at=q.answered_at, published_at=q.published_at)


def _detail(q: PortalHotlineQuestion) -> HotlineQuestionDetailOut:
    events = [HotlineEventOut(kind=e.kind, label=service.EVENT_LABELS.get(e.kind, e.kind), at=e.at)
              for e in service.events_of(db.session(), q.id)]
    return HotlineQuestionDetailOut(
        **_out(q).model_dump(), body=q.body, answer=q.answer, rating=q.rating,
        public_url=f"/portal/hotline/{q.id}" if q.state == "published" else None,
        events=events)


def _member() -> Any:
    member = current_user.member
    if member is None or not can(current_user, service.ASK):
        raise ApiError(403, "forbidden", "仅工会会员本人可以向职工热线提问和查看提问")
    return member


@api.route("/hotline/categories")
@operation("职工热线：问题类别", tags=TAG, response=list[HotlineCategoryOut], auth=False)
def api_hotline_categories() -> Any:
    return [HotlineCategoryOut(code=k, label=v) for k, v in service.CATEGORIES.items()]


@api.route("/hotline")
@operation("职工热线：已公开的问答", tags=TAG, response=Page[HotlinePublicQaOut], auth=False,
           errors=(400,),
           params=(*PAGE_PARAMS,
                   QueryParam("category", {"type": "string", "enum": list(service.CATEGORIES)},
                              "类别代码"),
                   QueryParam("q", {"type": "string", "maxLength": 50}, "关键词")),
           description="无需登录。提问人显示为“匿名职工”或隐去名字的姓氏（如“张*”）；"
                       "问答内容为工会干部去除个人信息后公开的文本。")
def api_hotline_public() -> Any:
    category = request.args.get("category") or None
    if category is not None and category not in service.CATEGORIES:
        raise ApiError(400, "bad_parameter", "category 不是有效的类别代码",
                       {"category": "不是有效的类别代码"})
    text = (request.args.get("q") or "").strip()[:50]
    return paginate(service.published(category, text or None), _public)


@api.route("/hotline/<int:question_id>")
@operation("职工热线：一条已公开的问答", tags=TAG, response=HotlinePublicQaOut, auth=False,
           errors=(404,))
def api_hotline_qa(question_id: int) -> Any:
    q = service.published_question(db.session(), question_id)
    if q is None:
        raise ApiError(404, "not_found", "没有这条公开的问答")
    return _public(q)


@api.route("/hotline/questions", methods=["POST"])
@operation("职工热线：提问", tags=TAG, body=HotlineAskIn, response=HotlineQuestionDetailOut,
           status=201, errors=(403, 422),
           description="问题默认交本人所在的基层工会答复，答复时限见 due_at（工作时间）。"
                       "输入有误时返回 422，fields 列出各字段的原因。")
def api_hotline_ask(data: HotlineAskIn) -> Any:
    _member()
    s = db.session()
    try:
        q = service.ask(s, current_user, category=data.category, subject=data.subject,
                        body=data.body, anonymous=data.anonymous, org_id=data.org_id,
                        channel="app")
    except service.HotlineError as exc:
        s.rollback()
        raise ApiError(422, "invalid", exc.reason, exc.errors or None) from None
    s.commit()
    return _detail(q)


@api.route("/hotline/questions")
@operation("职工热线：我的提问", tags=TAG, response=Page[HotlineQuestionOut], errors=(403,),
           params=PAGE_PARAMS)
def api_hotline_my() -> Any:
    member = _member()
    return paginate(service.my_questions(member.id), _out)


@api.route("/hotline/questions/<int:question_id>")
@operation("职工热线：我的一条提问（办理记录与答复）", tags=TAG, response=HotlineQuestionDetailOut,
           errors=(403, 404))
def api_hotline_mine(question_id: int) -> Any:
    member = _member()
    q = service.own_question(db.session(), member.id, question_id)
    if q is None:
        raise ApiError(404, "not_found", "没有这条提问")
    return _detail(q)
