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

A booking made through a discount channel (``channel_id``) also holds one unit of the
channel's total quota and of the member's quota for that channel — per the channel's period
of the same service date — and gives them back with the rest (cancellation, expiry).

The contact phone is what the member typed on the form, never their registered mobile:
merchant clerks see it masked (:func:`mask_phone`), managers can call it.
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
from unionhub.identity.numbers import mask_mobile, normalize_digits

from .. import quota
from ..eligibility import Viewer, audience_clause, live_offer_clause, period_key, refusal
from ..models import (
    BenefitsMallBooking,
    BenefitsMallChannel,
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
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
#: area code (3 or 4 digits, leading 0), number (7 or 8 digits), optional extension
LANDLINE = re.compile(r"^(0[0-9]{2,3})-?([0-9]{7,8})(-[0-9]{1,6})?$")
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


def bookable_offer(session: Session, viewer: Viewer, offer_id: int, today: date
                   ) -> BenefitsMallOffer | None:
    """The service offer ``offer_id`` if it is live and ``viewer`` is in its audience, else
    None (the pages answer 404, as the offer page does: a targeted offer is not revealed to
    members outside its audience). Member requirements (active membership, a Jingka) do not
    hide it: the booking page says why instead."""
    return session.scalar(select(BenefitsMallOffer).where(
        BenefitsMallOffer.id == offer_id, BenefitsMallOffer.kind == OfferKind.SERVICE,
        live_offer_clause(today),
        audience_clause("offer", BenefitsMallOffer.id, viewer)))


def normalize_phone(raw: str | None) -> str | None:
    """The contact phone in a canonical form — 11 digits for a mobile (spaces, hyphens,
    full-width digits and a +86 prefix dropped); for a landline the digits with the hyphens
    the member typed (``010-66668888``, ``0571-88886666-12``) — or None when it is neither."""
    text = (raw or "").strip()
    if not text:
        return None
    digits = normalize_digits(text)
    if digits.startswith("+86"):
        digits = digits[3:]
    if MOBILE.match(digits):
        return digits
    compact = "-".join(normalize_digits(part) for part in text.split("-"))
    return compact if LANDLINE.match(compact) else None


def mask_phone(phone: str | None) -> str:
    """A contact phone as merchant clerks see it: ``138****1234``, ``010-****8888``."""
    value = phone or ""
    if MOBILE.match(value):
        return mask_mobile(value)
    if not LANDLINE.match(value):
        return "*" * 11
    if "-" in value:
        area, rest = value.split("-", 1)
        return f"{area}-****{rest.split('-')[0][-4:]}"
    return f"{value[:3]}****{value[-4:]}"


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
    if not (contact_phone or "").strip():
        raise BookingRefused(_("联系电话：请填写联系电话，商户将通过它与您联系"), "contact_phone")
    phone = normalize_phone(contact_phone)
    if phone is None:
        raise BookingRefused(_("联系电话：请填写 11 位手机号或固定电话"), "contact_phone")
    text = (note or "").strip()
    if len(text) > 500:
        raise BookingRefused(_("备注：不超过 500 个字"), "note")
    return BookingInput(service_date, store_id, people, phone, text)


def book(session: Session, member: Member, offer_id: int, *, service_date: date | None,
         store_id: int | None, people: int | None, contact_phone: str, note: str = "",
         channel_id: int | None = None, today: date | None = None,
         now: datetime | None = None) -> BenefitsMallBooking:
    """Book ``offer_id`` for ``member`` (through the discount channel ``channel_id``, if
    given): eligibility re-checked now — the channel's too — the fields validated, then held
    until ``hold_until``: one unit of the member's quota for the offer and, with a channel,
    for the channel (both per period of the service date), one of the channel's total quota
    and one of the offer's stock — the same order as a coupon claim, the offer's row last.

    Raises :class:`BookingRefused` with a reason for the member; the writes are made in a
    savepoint, so a refusal leaves the caller's transaction as it was.
    """
    today = today or beijing_today()
    now = now or utcnow()
    offer = session.get(BenefitsMallOffer, offer_id)
    if offer is None or offer.kind != OfferKind.SERVICE:
        raise BookingRefused(_("没有这项可预约的服务"))
    channel: BenefitsMallChannel | None = None
    if channel_id is not None:
        channel = session.get(BenefitsMallChannel, channel_id, populate_existing=True)
        if channel is None:
            raise BookingRefused(_("没有这个优惠通道"))
    why = refusal(session, Viewer.of(session, member), offer, today, channel)
    if why:
        raise BookingRefused(_(why))
    data = check_input(session, offer, service_date=service_date, store_id=store_id,
                       people=people, contact_phone=contact_phone, note=note, today=today)
    taken: list[list[str]] = []  # [scope, period] of each member counter raised
    with session.begin_nested():
        if offer.per_member_limit is not None:
            scope = quota.offer_scope(offer.id)
            period = period_key(offer.per_member_period, data.service_date)
            if not quota.take_quota(session, member.id, scope, period, offer.per_member_limit):
                raise BookingRefused(_quota_message(offer.per_member_limit,
                                                    offer.per_member_period))
            taken.append([scope, period])
        if channel is not None:
            if channel.per_member_quota is not None:
                scope = quota.channel_scope(channel.id)
                period = period_key(channel.per_member_period, data.service_date)
                if not quota.take_quota(session, member.id, scope, period,
                                        channel.per_member_quota):
                    raise BookingRefused(_quota_message(
                        channel.per_member_quota, channel.per_member_period, channel=True))
                taken.append([scope, period])
            if not quota.hold(session, BenefitsMallChannel, channel.id):
                raise BookingRefused(_("该优惠通道名额已用完"))
        if not quota.hold(session, BenefitsMallOffer, offer.id):
            raise BookingRefused(_("该服务的预约名额已满"))
        booking = B(number=_number(session, today), offer_id=offer.id,
                    channel_id=channel.id if channel else None,
                    merchant_id=offer.merchant_id, store_id=data.store_id, member_id=member.id,
                    org_path=member.org.path, service_date=data.service_date,
                    people=data.people, contact_phone=data.contact_phone, note=data.note,
                    state=BookingState.PENDING, created_at=now, quota_taken=taken,
                    hold_until=now + timedelta(minutes=max(offer.booking_hold_minutes, 1)))
        session.add(booking)
        session.flush()
    session.expire(offer, ["issued"])
    if channel is not None:
        session.expire(channel, ["issued"])
    return booking


_PER_PERIOD = {"all": "每人限预约 %(n)s 次", "year": "每人每年限预约 %(n)s 次",
               "month": "每人每月限预约 %(n)s 次", "day": "每人每天限预约 %(n)s 次"}


def _quota_message(limit: int, period: str, *, channel: bool = False) -> str:
    rule = _(_PER_PERIOD.get(period, _PER_PERIOD["all"]), n=limit)
    if channel:
        return _("您在该优惠通道的预约次数已用完（%(rule)s）", rule=rule)
    return _("您的预约次数已用完（%(rule)s）", rule=rule)


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
    """Give back what bookings that just stopped holding held: the offers' stock and the
    channels' total quota (one UPDATE per offer / channel, with the count), and exactly the
    member counters each booking raised (``quota_taken``: one UPDATE per member, scope and
    period) — not recomputed from the current limits, which an officer may have changed."""
    moved: list[tuple[type, int]] = []
    for offer_id, n in session.execute(select(B.offer_id, func.count()).where(
            B.id.in_(booking_ids)).group_by(B.offer_id)):
        quota.release(session, BenefitsMallOffer, offer_id, int(n))
        moved.append((BenefitsMallOffer, offer_id))
    for channel_id, n in session.execute(select(B.channel_id, func.count()).where(
            B.id.in_(booking_ids), B.channel_id.is_not(None)).group_by(B.channel_id)):
        quota.release(session, BenefitsMallChannel, channel_id, int(n))
        moved.append((BenefitsMallChannel, channel_id))
    counts: dict[tuple[int, str, str], int] = {}
    for member_id, taken in session.execute(
            select(B.member_id, B.quota_taken).where(B.id.in_(booking_ids))):
        for scope, period in taken or ():
            counts[member_id, scope, period] = counts.get((member_id, scope, period), 0) + 1
    for (member_id, scope, period), n in sorted(counts.items()):
        quota.release_quota(session, member_id, scope, period, n)
    for model, row_id in moved:  # loaded counters are stale now
        loaded = session.identity_map.get(session.identity_key(model, row_id))
        if loaded is not None:
            session.expire(loaded, ["issued"])


def expire_holds(session: Session, now: datetime | None = None) -> int:
    """Pending bookings past ``hold_until`` → expired, set-based, with their stock, channel
    quota and member quotas given back (grouped per offer, channel, member and period) and
    the members told; returns how many expired."""
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
