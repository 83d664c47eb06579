"""Coupons on the mobile-app API (``/api/v1/benefits_mall``): claiming (with an optional
``Idempotency-Key`` header), the member's coupons and one coupon with its QR as SVG text,
giving a coupon back; and, for merchant staff tokens, redemption and undo."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import request
from flask_login import current_user
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from unionhub import db
from unionhub.access.service import can
from unionhub.api import PAGE_PARAMS, ApiError, Page, QueryParam, operation, paginate
from unionhub.db import utcnow

from ..models import BenefitsMallCoupon, BenefitsMallMerchant, BenefitsMallStaff, MerchantStatus
from ..staff import current_staff
from ..web import api
from . import codes, service

TAG = ["benefits_mall"]


class CouponStoreOut(BaseModel):
    id: int
    name: str
    district: str
    address: str
    phone: str
    hours: str


class EventOut(BaseModel):
    kind: str
    label: str
    at: datetime


class CouponOut(BaseModel):
    id: int
    code: str
    offer_id: int
    offer_title: str
    merchant: str
    channel_id: int | None
    state: str
    state_label: str
    points_spent: int
    claimed_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None


class CouponDetailOut(CouponOut):
    #: The code as an SVG QR image (null once the coupon cannot be used).
    qr_svg: str | None
    stores: list[CouponStoreOut]
    events: list[EventOut]


class CouponClaimIn(BaseModel):
    channel_id: int | None = None


class RedeemIn(BaseModel):
    code: str
    store_id: int
    idempotency_key: str


class UndoIn(BaseModel):
    idempotency_key: str


class RedeemOut(BaseModel):
    ok: bool
    kind: str
    replayed: bool
    coupon_id: int | None
    code: str
    offer_title: str
    member_name: str
    store_name: str
    at: datetime | None
    amount: str
    undo_until: datetime | None


def _member() -> Any:
    member = current_user.member
    if member is None or not can(current_user, "benefits_mall.offers.claim"):
        raise ApiError(403, "forbidden", "仅会员本人可领取和查看福利券")
    return member


def _out(c: BenefitsMallCoupon) -> CouponOut:
    state = service.shown_state(c, utcnow())
    return CouponOut(id=c.id, code=codes.display(c.code), offer_id=c.offer_id,
                     offer_title=c.offer.title, merchant=c.offer.merchant.name,
                     channel_id=c.channel_id, state=state,
                     state_label=service.STATE_LABELS.get(state, state),
                     points_spent=c.points_spent, claimed_at=c.claimed_at,
                     expires_at=c.expires_at, redeemed_at=c.redeemed_at)


def _detail(c: BenefitsMallCoupon) -> CouponDetailOut:
    s = db.session()
    base = _out(c)
    return CouponDetailOut(
        **base.model_dump(),
        qr_svg=str(codes.qr_svg(c.code)) if base.state == "issued" else None,
        stores=[CouponStoreOut(id=st.id, name=st.name, district=st.district, address=st.address,
                         phone=st.phone, hours=st.hours)
                for st in service.usable_stores(s, c.offer)],
        events=[EventOut(kind=e.kind, label=service.EVENT_LABELS.get(e.kind, e.kind), at=e.at)
                for e in service.events_of(s, c.id)])


def _own(coupon_id: int) -> BenefitsMallCoupon:
    member = _member()
    coupon = db.session().scalar(select(BenefitsMallCoupon).where(
        BenefitsMallCoupon.id == coupon_id, BenefitsMallCoupon.member_id == member.id))
    if coupon is None:
        raise ApiError(404, "not_found", "没有这张券")
    return coupon


@api.route("/offers/<int:offer_id>/claim", methods=["POST"])
@operation("福利云商：领取福利券", tags=TAG, body=CouponClaimIn, response=CouponOut,
           status=201, errors=(403, 409, 422),
           description="可带 Idempotency-Key 请求头（1–64 个字符）：同一个键重试时返回第一次"
                       "领取的券，不会重复领取。被拒绝时返回 409，message 为原因。"
                       "二维码、适用门店与记录见券详情 /coupons/{id}。")
def api_coupon_claim(offer_id: int, data: CouponClaimIn) -> Any:
    member = _member()
    key = request.headers.get("Idempotency-Key")
    s = db.session()
    try:
        coupon = service.claim(s, member, offer_id, channel_id=data.channel_id,
                               account_id=current_user.id, idempotency_key=key)
        s.commit()
    except service.CouponError as exc:
        s.rollback()
        if isinstance(exc, service.InvalidKey):
            raise ApiError(422, "invalid", exc.reason,
                           {"Idempotency-Key": exc.reason}) from None
        raise ApiError(409, "refused", exc.reason) from None
    except IntegrityError:
        # A concurrent request with the same Idempotency-Key recorded its claim first.
        s.rollback()
        earlier = service.claimed_with_key(s, member.id, key) if key else None
        if earlier is None:
            raise
        coupon = earlier
    return _out(coupon)


@api.route("/coupons")
@operation("福利云商：我的券", tags=TAG, response=Page[CouponOut], errors=(400, 403),
           params=(*PAGE_PARAMS,
                   QueryParam("state", {"type": "string", "enum": list(service.TABS),
                                        "default": "usable"},
                              "usable 可使用，used 已使用，expired 已失效（过期或退还）")))
def api_my_coupons() -> Any:
    member = _member()
    tab = request.args.get("state", "usable")
    if tab not in service.TABS:
        raise ApiError(400, "bad_parameter", "state 应为 usable、used 或 expired",
                       {"state": "应为 usable、used 或 expired"})
    return paginate(service.member_coupons(member.id, tab, utcnow()), _out)


@api.route("/coupons/<int:coupon_id>")
@operation("福利云商：券详情（券码、二维码 SVG、适用门店、记录）", tags=TAG,
           response=CouponDetailOut, errors=(403, 404))
def api_coupon(coupon_id: int) -> Any:
    return _detail(_own(coupon_id))


@api.route("/coupons/<int:coupon_id>/cancel", methods=["POST"])
@operation("福利云商：退还未使用的券（释放名额，退回积分）", tags=TAG, response=CouponOut,
           errors=(403, 404, 409))
def api_coupon_cancel(coupon_id: int) -> Any:
    member = _member()
    coupon = _own(coupon_id)
    s = db.session()
    try:
        service.cancel(s, coupon.id, member)
        s.commit()
    except service.CouponError as exc:
        s.rollback()
        raise ApiError(409, "refused", exc.reason) from None
    return _out(coupon)


# -- merchant staff ----------------------------------------------------------------------------


def _staff() -> BenefitsMallStaff:
    staff = current_staff()
    if staff is None:
        raise ApiError(403, "forbidden", "仅合作商户的员工可以核销")
    merchant = db.session().get(BenefitsMallMerchant, staff.merchant_id)
    if merchant is None or merchant.status != MerchantStatus.ACTIVE:
        raise ApiError(403, "forbidden", "本商户已暂停合作")
    return staff


def _result(result: service.RedeemResult) -> RedeemOut:
    if not result.ok:
        raise ApiError(409, "refused", result.reason)
    return RedeemOut(ok=True, kind=result.kind, replayed=result.replayed,
                     coupon_id=result.coupon_id, code=result.code,
                     offer_title=result.offer_title, member_name=result.member_name,
                     store_name=result.store_name, at=result.at, amount=str(result.amount),
                     undo_until=result.undo_until)


@api.route("/merchant/redeem", methods=["POST"])
@operation("福利云商：商户核销福利券", tags=TAG, body=RedeemIn, response=RedeemOut,
           errors=(403, 409),
           description="idempotency_key 由客户端为每次核销生成（如 UUID）；网络重试时带同一个键，"
                       "只核销一次并返回第一次的结果（replayed 为 true）。不能核销时返回 409，"
                       "message 为原因（券码有误、非本商户的券、已过期、已核销等）。")
def api_redeem(data: RedeemIn) -> Any:
    staff = _staff()
    s = db.session()
    result = service.redeem(s, data.code, staff=staff, store_id=data.store_id,
                            idempotency_key=data.idempotency_key)
    if result.ok:
        s.commit()
    else:
        s.rollback()
    return _result(result)


@api.route("/merchant/coupons/<int:coupon_id>/undo", methods=["POST"])
@operation("福利云商：撤销核销（核销后规定时间内）", tags=TAG, body=UndoIn, response=RedeemOut,
           errors=(403, 409))
def api_redeem_undo(coupon_id: int, data: UndoIn) -> Any:
    staff = _staff()
    s = db.session()
    result = service.undo(s, coupon_id, staff=staff, idempotency_key=data.idempotency_key)
    if result.ok:
        s.commit()
    else:
        s.rollback()
    return _result(result)
