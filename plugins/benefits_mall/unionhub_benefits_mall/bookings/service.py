"""Bookings of exclusive services (专属服务预约).

States: ``pending`` (holds one unit of the offer's stock and one of the member's quota until
``hold_until``) → ``confirmed`` by the merchant's staff → ``completed`` on or after the service
date; a pending or confirmed booking may be ``cancelled`` (by the member, or by staff with a
reason); a pending booking not confirmed in time becomes ``expired`` (:func:`expire_holds`, on
beat every five minutes). Cancelled and expired bookings give their stock and quota back.

Every state change is one conditional ``UPDATE … WHERE state = …`` whose row count decides, so
two staff acting on one booking at once — or a confirmation racing the expiry job — end with
exactly one winner. The member's quota counts bookings per ``per_member_period`` of the
*service date* (an offer limited to 2 a month allows two services in each month).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from unionhub.db import utcnow
from unionhub.i18n import _
from unionhub.identity.models import Member

from .. import quota
from ..eligibility import Viewer, period_key, refusal
from ..models import (
    BenefitsMallBooking,
    BenefitsMallOffer,
    BenefitsMallOfferStore,
    BenefitsMallStaff,
    BenefitsMallStore,
    BookingState,
    OfferKind,
)

B = BenefitsMallBooking
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
STATE_LABELS = {"pending": "待确认", "confirmed": "已确认", "completed": "已完成",
                "cancelled": "已取消", "expired": "已失效"}
OPEN = (BookingState.PENDING, BookingState.CONFIRMED)
MAX_PEOPLE = 20
PHONE = re.compile(r"^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?)$")
#: WeChat template fields hold at most 20 characters.
WECHAT_FIELD = 20
EXPIRE_CHUNK = 500



class BookingRefused(Exception):
    """A booking that cannot be made; ``reason`` is for the member."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class BookingError(Exception):
    """A state change that cannot be made (not found, already decided, too late)."""

    def __init__(self, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.not_found = not_found


def beijing_today() -> date:
    return datetime.now(CHINA).date()


def short(text: str | None, limit: int = WECHAT_FIELD) -> str:
    """``text`` cut to ``limit`` characters (with an ellipsis) for a WeChat template field."""
    value = " ".join((text or "").split())
    return value if len(value) <= limit else value[:limit - 1] + "…"


def stores_for(session: Session, offer: BenefitsMallOffer) -> list[BenefitsMallStore]:
    """The active stores where ``offer`` is served: those listed for it, else every store of
    its merchant."""
    listed = select(BenefitsMallOfferStore.store_id).where(
        BenefitsMallOfferStore.offer_id == offer.id)
    stmt = select(BenefitsMallStore).where(BenefitsMallStore.merchant_id == offer.merchant_id,
                                           BenefitsMallStore.active.is_(True))
    if session.scalar(select(exists(listed))):
        stmt = stmt.where(BenefitsMallStore.id.in_(listed))
    return list(session.scalars(stmt.order_by(BenefitsMallStore.id)))


def _number(session: Session, today: date) -> str:
    for _attempt in range(10):
        number = f"YY{today:%Y%m%d}{secrets.randbelow(10**8):08d}"
        if not session.scalar(select(exists().where(B.number == number))):
            return number
    raise BookingRefused(_("系统繁忙，请稍后重试"))  # pragma: no cover - 10 collisions in 1e8


@dataclass(frozen=True)
class BookingInput:
    service_date: date
    store_id: int | None
    people: int
    contact_phone: str
    note: str


def check_input(session: Session, offer: BenefitsMallOffer, *, service_date: date | None,
                store_id: int | None, people: int | None, contact_phone: str, note: str,
                today: date) -> BookingInput:
    """Validate the booking's fields (raises :class:`BookingRefused` naming the field)."""
    if service_date is None:
        raise BookingRefused(_("服务日期：请选择日期"), "service_date")
    if service_date < today:
        raise BookingRefused(_("服务日期：不能早于今天"), "service_date")
    if service_date < offer.valid_from:
        raise BookingRefused(_("服务日期：不能早于 %(day)s", day=offer.valid_from.isoformat()),
                             "service_date")
    if service_date > offer.valid_until:
        raise BookingRefused(_("服务日期：该服务 %(day)s 截止", day=offer.valid_until.isoformat()),
                             "service_date")
    stores = stores_for(session, offer)
    if stores:
        if store_id is None:
            raise BookingRefused(_("门店：请选择门店"), "store_id")
        if store_id not in {st.id for st in stores}:
            raise BookingRefused(_("门店：该服务不在这家门店提供"), "store_id")
    elif store_id is not None:
        raise BookingRefused(_("门店：该服务不在这家门店提供"), "store_id")
    if people is None or not 1 <= people <= MAX_PEOPLE:
        raise BookingRefused(_("人数：应在 1 到 %(n)s 之间", n=MAX_PEOPLE), "people")
    phone = re.sub(r"[\s]", "", contact_phone or "")
    if not PHONE.match(phone):
        raise BookingRefused(_("联系电话：请填写 11 位手机号或固定电话"), "contact_phone")
    text = (note or "").strip()
    if len(text) > 500:
        raise BookingRefused(_("备注：不超过 500 个字"), "note")
    return BookingInput(service_date, store_id, people, phone, text)


def book(session: Session, member: Member, offer_id: int, *, service_date: date | None,
         store_id: int | None, people: int | None, contact_phone: str, note: str = "",
         today: date | None = None, now: datetime | None = None) -> BenefitsMallBooking:
    """Book ``offer_id`` for ``member``: eligibility re-checked now, the fields validated,
    then one unit of stock and of the member's quota held until ``hold_until``.

    Raises :class:`BookingRefused` with a reason for the member; the writes are made in a
    savepoint, so a refusal leaves the caller's transaction as it was.
    """
    today = today or beijing_today()
    now = now or utcnow()
    offer = session.get(BenefitsMallOffer, offer_id)
    if offer is None or offer.kind != OfferKind.SERVICE:
        raise BookingRefused(_("没有这项可预约的服务"))
    why = refusal(session, Viewer.of(session, member), offer, today)
    if why:
        raise BookingRefused(_(why))
    data = check_input(session, offer, service_date=service_date, store_id=store_id,
                       people=people, contact_phone=contact_phone, note=note, today=today)
    with session.begin_nested():
        if offer.per_member_limit is not None and not quota.take_quota(
                session, member.id, quota.offer_scope(offer.id),
                period_key(offer.per_member_period, data.service_date),
                offer.per_member_limit):
            raise BookingRefused(_quota_message(offer))
        if not quota.hold(session, BenefitsMallOffer, offer.id):
            raise BookingRefused(_("该服务的预约名额已满"))
        booking = B(number=_number(session, today), offer_id=offer.id,
                    merchant_id=offer.merchant_id, store_id=data.store_id, member_id=member.id,
                    org_path=member.org.path, service_date=data.service_date,
                    people=data.people, contact_phone=data.contact_phone, note=data.note,
                    state=BookingState.PENDING, created_at=now,
                    hold_until=now + timedelta(minutes=max(offer.booking_hold_minutes, 1)))
        session.add(booking)
        session.flush()
    session.expire(offer, ["issued"])
    return booking


def _quota_message(offer: BenefitsMallOffer) -> str:
    per = {"all": _("每人限预约 %(n)s 次"), "year": _("每人每年限预约 %(n)s 次"),
           "month": _("每人每月限预约 %(n)s 次"), "day": _("每人每天限预约 %(n)s 次")}
    text = per.get(offer.per_member_period, per["all"])
    return _("您的预约次数已用完（%(rule)s）", rule=text % {"n": offer.per_member_limit})


# -- state changes ----------------------------------------------------------------------------


def _fresh(session: Session, booking_id: int) -> BenefitsMallBooking:
    booking = session.scalar(select(B).where(B.id == booking_id)
                             .execution_options(populate_existing=True))
    assert booking is not None
    return booking


def _explain(session: Session, booking_id: int, owner: Any, action: str,
             expected: Sequence[str], now: datetime) -> BookingError:
    """Why a conditional update changed nothing, in words for the person who tried."""
    booking = session.scalar(select(B).where(B.id == booking_id, owner)
                             .execution_options(populate_existing=True))
    if booking is None:
        return BookingError(_("没有这个预约"), not_found=True)
    if booking.state not in expected:
        return BookingError(_("预约 %(number)s %(state)s，不能%(action)s", number=booking.number,
                              state=_(STATE_LABELS.get(booking.state, booking.state)),
                              action=action))
    if booking.state == BookingState.PENDING and booking.hold_until <= now:
        return BookingError(_("预约 %(number)s 已超过确认时限，不能再确认", number=booking.number))
    return BookingError(_("预约 %(number)s 不能%(action)s", number=booking.number, action=action))


def _change(session: Session, booking_id: int, owner: Any, expected: Sequence[str],
            values: dict[str, Any], *extra: Any) -> bool:
    result = session.execute(
        update(B).where(B.id == booking_id, owner, B.state.in_(list(expected)), *extra)
        .values(**values).execution_options(synchronize_session=False))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def confirm(session: Session, booking_id: int, staff: BenefitsMallStaff, *,
            now: datetime | None = None) -> BenefitsMallBooking:
    """pending → confirmed by the merchant's staff, before ``hold_until``."""
    now = now or utcnow()
    owner = B.merchant_id == staff.merchant_id
    if not _change(session, booking_id, owner, [BookingState.PENDING],
                   {"state": BookingState.CONFIRMED, "decided_at": now,
                    "decided_by": staff.account_id}, B.hold_until > now):
        raise _explain(session, booking_id, owner, _("确认"), [BookingState.PENDING], now)
    booking = _fresh(session, booking_id)
    _notify(session, "booking_confirmed", booking)
    return booking


def complete(session: Session, booking_id: int, staff: BenefitsMallStaff, *,
             today: date | None = None, now: datetime | None = None) -> BenefitsMallBooking:
    """confirmed → completed, on or after the service date."""
    today = today or beijing_today()
    now = now or utcnow()
    owner = B.merchant_id == staff.merchant_id
    if not _change(session, booking_id, owner, [BookingState.CONFIRMED],
                   {"state": BookingState.COMPLETED, "decided_at": now,
                    "decided_by": staff.account_id}, B.service_date <= today):
        error = _explain(session, booking_id, owner, _("标记完成"), [BookingState.CONFIRMED], now)
        booking = session.scalar(select(B).where(B.id == booking_id, owner))
        if booking is not None and booking.state == BookingState.CONFIRMED:
            error = BookingError(_("服务日期 %(day)s 之前不能标记完成",
                                   day=booking.service_date.isoformat()))
        raise error
    return _fresh(session, booking_id)


def cancel(session: Session, booking_id: int, *, by_member: Member | None = None,
           by_staff: BenefitsMallStaff | None = None, reason: str = "",
           expected_state: str | None = None, today: date | None = None,
           now: datetime | None = None) -> BenefitsMallBooking:
    """Cancel a pending or confirmed booking — by its member (before the service date) or by
    the merchant's staff (a reason is required) — and give its stock and quota back.

    ``expected_state`` is the state the person saw (the pages send it): when someone else
    changed the booking meanwhile — a colleague confirmed it — the cancellation is refused
    instead of silently undoing their decision."""
    today = today or beijing_today()
    now = now or utcnow()
    if (by_member is None) == (by_staff is None):
        raise ValueError("cancel by exactly one of by_member, by_staff")
    states = [st for st in OPEN if expected_state in (None, "", st)]
    if not states:
        raise BookingError(_("预约状态已变化，请刷新页面后再操作"))
    text = " ".join((reason or "").split())
    if len(text) > 300:
        raise BookingError(_("取消原因：不超过 300 个字"))
    extra: list[Any] = []
    if by_staff is not None:
        if not text:
            raise BookingError(_("取消原因：请填写取消原因，会通知会员"))
        owner = B.merchant_id == by_staff.merchant_id
        values = {"decided_by": by_staff.account_id}
    else:
        assert by_member is not None
        owner = B.member_id == by_member.id
        values = {"decided_by": None}
        extra.append(B.service_date >= today)
        text = text or _("会员取消")
    values.update(state=BookingState.CANCELLED, decided_at=now, reason=text)
    if not _change(session, booking_id, owner, states, values, *extra):
        error = _explain(session, booking_id, owner, _("取消"), states, now)
        booking = session.scalar(select(B).where(B.id == booking_id, owner))
        if booking is not None and booking.state in states and by_member is not None:
            error = BookingError(_("服务日期已过，不能取消"))
        elif booking is not None and booking.state in OPEN and booking.state not in states:
            error = BookingError(_("预约 %(number)s 刚刚%(state)s，请刷新页面后再操作",
                                   number=booking.number,
                                   state=_(STATE_LABELS.get(booking.state, booking.state))))
        raise error
    booking = _fresh(session, booking_id)
    _release(session, [booking.id])
    if by_staff is not None:
        _notify(session, "booking_cancelled", booking)
    return booking


def _release(session: Session, booking_ids: Sequence[int]) -> None:
    """Give back the stock (one UPDATE per offer, with the count) and the members' quota (one
    UPDATE per member, offer and period) of bookings that just stopped holding."""
    for offer_id, n in session.execute(select(B.offer_id, func.count()).where(
            B.id.in_(booking_ids)).group_by(B.offer_id)):
        quota.release(session, BenefitsMallOffer, offer_id, int(n))
    rows = session.execute(
        select(B.member_id, B.offer_id, B.service_date, BenefitsMallOffer.per_member_period,
               BenefitsMallOffer.per_member_limit)
        .join(BenefitsMallOffer, BenefitsMallOffer.id == B.offer_id)
        .where(B.id.in_(booking_ids)))
    counts: dict[tuple[int, str, str], int] = {}
    for member_id, offer_id, service_date, period, limit in rows:
        if limit is None:
            continue
        key = (member_id, quota.offer_scope(offer_id), period_key(period, service_date))
        counts[key] = counts.get(key, 0) + 1
    for (member_id, scope, period), n in sorted(counts.items()):
        quota.release_quota(session, member_id, scope, period, n)


def expire_holds(session: Session, now: datetime | None = None) -> int:
    """Pending bookings past ``hold_until`` → expired, set-based, with their stock and quota
    given back and the members told; returns how many expired."""
    now = now or utcnow()
    table = B.__table__
    rows = session.execute(
        update(table).where(table.c.state == BookingState.PENDING, table.c.hold_until <= now)
        .values(state=BookingState.EXPIRED, decided_at=now, reason="超时未确认")
        .returning(table.c.id)).all()
    ids = sorted(int(r[0]) for r in rows)
    for i in range(0, len(ids), EXPIRE_CHUNK):
        chunk = ids[i:i + EXPIRE_CHUNK]
        _release(session, chunk)
        for booking in session.scalars(select(B).where(B.id.in_(chunk))
                                       .execution_options(populate_existing=True)):
            _notify(session, "booking_expired", booking, dispatch=False)
    if ids:
        from unionhub.notify import service as notify

        notify.kick(session)  # one dispatcher for every message queued above
    return len(ids)


# -- notifications ----------------------------------------------------------------------------


def _notify(session: Session, key: str, booking: BenefitsMallBooking, *,
            dispatch: bool = True) -> None:
    from unionhub.notify import service as notify

    store = session.get(BenefitsMallStore, booking.store_id) if booking.store_id else None
    notify.send(session, f"benefits_mall.{key}", [booking.member_id], {
        "number": booking.number,
        "offer": short(booking.offer.title),
        "merchant": short(booking.offer.merchant.name),
        "date": booking.service_date.isoformat(),
        "store": short(store.name if store else booking.offer.merchant.name),
        "reason": short(booking.reason or ""),
    }, f"{key}:{booking.id}", dispatch=dispatch)


def member_bookings(member_id: int) -> Any:
    """The member's bookings, newest first."""
    return select(B).where(B.member_id == member_id).order_by(B.id.desc())
