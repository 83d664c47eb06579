"""Bookings on the mobile-app API: book a service, list my bookings, cancel one."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_login import current_user
from pydantic import BaseModel, Field

from unionhub import db
from unionhub.access.service import can
from unionhub.api import PAGE_PARAMS, ApiError, Page, operation, paginate

from ..eligibility import Viewer
from ..models import BenefitsMallBooking
from ..web import api
from . import service


class BookingIn(BaseModel):
    service_date: date
    store_id: int | None = None
    people: int = 1
    contact_phone: str = Field(max_length=40, description=(
        "本次预约的联系电话（手机号或固定电话），必填；不会用会员登记的手机号代替"))
    note: str = Field(default="", max_length=500)
    channel_id: int | None = Field(default=None, description=(
        "从优惠通道进入时的通道 id：占用该通道的总名额和每人限额"))


class CancelIn(BaseModel):
    reason: str = Field(default="", max_length=300)


class BookingOut(BaseModel):
    id: int
    number: str
    offer_id: int
    channel_id: int | None
    offer_title: str
    merchant: str
    store_id: int | None
    service_date: date
    people: int
    contact_phone: str
    note: str
    state: str
    state_label: str
    hold_until: datetime
    created_at: datetime
    reason: str | None


def _member() -> Any:
    member = current_user.member
    if member is None or not can(current_user, "benefits_mall.offers.claim"):
        raise ApiError(403, "forbidden", "仅会员本人可预约和查看预约")
    return member


def _out(b: BenefitsMallBooking) -> BookingOut:
    return BookingOut(id=b.id, number=b.number, offer_id=b.offer_id, channel_id=b.channel_id,
                      offer_title=b.offer.title,
                      merchant=b.offer.merchant.name, store_id=b.store_id,
                      service_date=b.service_date, people=b.people,
                      contact_phone=b.contact_phone, note=b.note, state=b.state,
                      state_label=service.STATE_LABELS.get(b.state, b.state),
                      hold_until=b.hold_until, created_at=b.created_at, reason=b.reason)


@api.route("/offers/<int:offer_id>/bookings", methods=["POST"])
@operation("福利商城：预约专属服务（名额与每人限额在提交时占用，商户确认前超时自动释放）",
           tags=["benefits_mall"], body=BookingIn, response=BookingOut, status=201,
           errors=(403, 404, 422))
def api_book(offer_id: int, data: BookingIn) -> Any:
    member = _member()
    s = db.session()
    viewer = Viewer.of(s, member)
    if service.bookable_offer(s, viewer, offer_id, service.beijing_today()) is None:
        raise ApiError(404, "not_found", "没有这项可预约的服务，或它不面向您")
    try:
        booking = service.book(s, member, offer_id, service_date=data.service_date,
                               store_id=data.store_id, people=data.people,
                               contact_phone=data.contact_phone, note=data.note,
                               channel_id=data.channel_id)
    except service.BookingRefused as exc:
        s.rollback()
        raise ApiError(422, "refused", exc.reason,
                       {exc.field: exc.reason} if exc.field else None) from None
    s.commit()
    return _out(booking)


@api.route("/bookings")
@operation("福利商城：我的预约", tags=["benefits_mall"], response=Page[BookingOut],
           params=PAGE_PARAMS, errors=(403,))
def api_bookings() -> Any:
    member = _member()
    return paginate(service.member_bookings(member.id), _out)


@api.route("/bookings/<int:booking_id>/cancel", methods=["POST"])
@operation("福利商城：取消我的预约（服务日期之前）", tags=["benefits_mall"], body=CancelIn,
           response=BookingOut, errors=(403, 404, 409))
def api_booking_cancel(booking_id: int, data: CancelIn) -> Any:
    member = _member()
    s = db.session()
    try:
        booking = service.cancel(s, booking_id, by_member=member, reason=data.reason)
    except service.BookingError as exc:
        s.rollback()
        if exc.not_found:
            raise ApiError(404, "not_found", "没有这个预约") from None
        raise ApiError(409, "conflict", exc.message) from None
    s.commit()
    return _out(booking)
