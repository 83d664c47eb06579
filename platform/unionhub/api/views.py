"""The core's app API: sign-in and out, my profile (masked), my cards, my devices."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, current_app, g, jsonify, render_template, request
from flask_login import current_user
from pydantic import BaseModel, Field
from sqlalchemy import func, select, update

from unionhub import db
from unionhub.api import tokens
from unionhub.api.core import PAGE_PARAMS, ApiError, Page, QueryParam, operation, paginate
from unionhub.api.models import ApiToken
from unionhub.api.openapi import build
from unionhub.auth.service import AuthError, authenticate
from unionhub.db import utcnow
from unionhub.identity.numbers import mask_mobile

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class TokenRequest(BaseModel):
    identifier: str = Field(min_length=1, max_length=100, description="京卡卡号、手机号或身份证号")
    password: str = Field(min_length=1, max_length=200)
    device: str = Field(default="app", min_length=1, max_length=100, description="设备名称")


class TokenResponse(BaseModel):
    token: str = Field(description="只返回这一次；之后以 Authorization: Bearer 携带")
    token_id: int
    device: str
    expires_at: datetime


class OrgOut(BaseModel):
    id: int
    code: str
    name: str


class CardOut(BaseModel):
    number: str = Field(description="脱敏卡号")
    status: str
    issued_on: date | None


class ProfileOut(BaseModel):
    id: int
    name: str
    sex: str
    id_number: str = Field(description="脱敏身份证号")
    mobile: str | None = Field(description="脱敏手机号")
    org: OrgOut
    status: str
    joined_on: date | None
    cards: list[CardOut]


class DeviceOut(BaseModel):
    id: int
    device: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    current: bool


@bp.route("/auth/token", methods=["POST"])
@operation("登录并取得令牌", tags=["auth"], body=TokenRequest, response=TokenResponse,
           status=201, auth=False, errors=(401, 403),
           description="失败时统一返回“账号或密码错误”(401)；连续失败会被暂时锁定(429)；"
                       "须先修改初始密码时返回 403。")
def sign_in(data: TokenRequest) -> TokenResponse:
    s = db.session()
    try:
        account = authenticate(s, data.identifier, data.password)
    except AuthError as exc:
        status = 429 if "次数过多" in exc.message else 401
        raise ApiError(status, "locked" if status == 429 else "bad_credentials",
                       exc.message) from None
    if account.must_change_password:
        raise ApiError(403, "password_change_required", "请先在网页上修改初始密码")
    token, row = tokens.issue(s, account, data.device)
    s.commit()
    return TokenResponse(token=token, token_id=row.id, device=row.device,
                         expires_at=row.expires_at)


@bp.route("/auth/token", methods=["DELETE"])
@operation("注销当前令牌", tags=["auth"])
def sign_out() -> None:
    s = db.session()
    tokens.revoke(s, current_user, g.api_token_id)
    s.commit()


def _profile() -> ProfileOut:
    m = current_user.member
    if m is None:
        raise ApiError(404, "no_member", "该账号没有会员信息")
    return ProfileOut(
        id=m.id, name=m.name, sex=m.sex, id_number=m.id_number_masked,
        mobile=mask_mobile(m.mobile) if m.mobile else None,
        org=OrgOut(id=m.org.id, code=m.org.code, name=m.org.name), status=m.status,
        joined_on=m.joined_on,
        cards=[CardOut(number=c.number_masked, status=c.status, issued_on=c.issued_on)
               for c in reversed(m.cards)],
    )


@bp.route("/me")
@operation("我的资料（证件号、卡号、手机号均已脱敏）", tags=["me"], response=ProfileOut)
def me() -> ProfileOut:
    return _profile()


@bp.route("/me/cards")
@operation("我的京卡（含已挂失、已换卡的旧卡）", tags=["me"], response=list[CardOut])
def my_cards() -> list[CardOut]:
    return _profile().cards


@bp.route("/me/devices")
@operation("我登录过的设备（令牌）", tags=["me"], response=list[DeviceOut])
def my_devices() -> list[DeviceOut]:
    rows = db.session().scalars(
        select(ApiToken).where(ApiToken.account_id == current_user.id,
                               ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id.desc()))
    return [DeviceOut(id=r.id, device=r.device, prefix=r.prefix, created_at=r.created_at,
                      last_used_at=r.last_used_at, expires_at=r.expires_at,
                      current=r.id == g.get("api_token_id")) for r in rows]


@bp.route("/me/devices/<int:token_id>", methods=["DELETE"])
@operation("让某台设备退出登录", tags=["me"])
def revoke_device(token_id: int) -> None:
    s = db.session()
    if not tokens.revoke(s, current_user, token_id):
        raise ApiError(404, "not_found", "没有这台设备")
    s.commit()


class NotificationOut(BaseModel):
    id: int
    type: str
    title: str
    body: str
    url: str | None
    created_at: datetime
    read: bool


class UnreadOut(BaseModel):
    unread: int


def _mine() -> Any:
    from unionhub.notify.models import Notification

    member_id = current_user.member_id
    if member_id is None:
        raise ApiError(404, "no_member", "该账号没有会员信息")
    return Notification, Notification.member_id == member_id


@bp.route("/me/notifications")
@operation("我的消息（分页；unread=1 只看未读）", tags=["me"], response=Page[NotificationOut],
           params=(*PAGE_PARAMS, QueryParam("unread", {"type": "integer", "enum": [0, 1]},
                                            "1 = 只看未读")))
def my_notifications() -> Any:
    model, mine = _mine()
    unread = request.args.get("unread", "0")
    if unread not in ("0", "1"):
        raise ApiError(400, "bad_parameter", "unread 只能是 0 或 1", {"unread": "只能是 0 或 1"})
    stmt = select(model).where(mine)
    if unread == "1":
        stmt = stmt.where(model.read_at.is_(None))
    return paginate(stmt.order_by(model.id.desc()), lambda n: NotificationOut(
        id=n.id, type=n.type_key, title=n.title, body=n.body, url=n.url,
        created_at=n.created_at, read=n.read_at is not None))


@bp.route("/me/notifications/unread")
@operation("未读消息数", tags=["me"], response=UnreadOut)
def unread_count() -> UnreadOut:
    model, mine = _mine()
    n = db.session().scalar(select(func.count()).select_from(model).where(
        mine, model.read_at.is_(None))) or 0
    return UnreadOut(unread=n)


@bp.route("/me/notifications/<int:notification_id>/read", methods=["POST"])
@operation("标记一条消息为已读", tags=["me"])
def mark_read(notification_id: int) -> None:
    model, mine = _mine()
    s = db.session()
    row = s.scalar(select(model).where(mine, model.id == notification_id))
    if row is None:
        raise ApiError(404, "not_found", "没有这条消息")
    if row.read_at is None:
        row.read_at = utcnow()
        s.commit()


@bp.route("/me/notifications/read-all", methods=["POST"])
@operation("全部标记为已读", tags=["me"], response=UnreadOut)
def mark_all_read() -> UnreadOut:
    model, mine = _mine()
    s = db.session()
    s.execute(update(model).where(mine, model.read_at.is_(None)).values(read_at=utcnow()))
    s.commit()
    return UnreadOut(unread=0)


@bp.route("/openapi.json")
def openapi() -> Any:
    return jsonify(build(current_app))


@bp.route("/docs")
def docs() -> Any:
    return render_template("api/docs.html", spec=build(current_app))
