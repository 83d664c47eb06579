"""Demo bookings: for the catalogue demo's service offers, bookings in every state — pending,
confirmed, completed, cancelled by the member and by the merchant, and expired — some through
a discount channel that bundles the offer, all made through :mod:`.service`, so stock,
channel and member quotas and notifications are as in real use. Contact phones are made up
(members type one on the form; the registered mobile is never used)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub.db import utcnow
from unionhub.identity.models import Member, MemberStatus

from ..models import (
    BenefitsMallChannel,
    BenefitsMallChannelOffer,
    BenefitsMallOffer,
    BenefitsMallStaff,
    OfferKind,
    OfferStatus,
)
from . import service

PLAN = ("expired", "pending", "confirmed", "completed", "cancelled_member", "cancelled_staff",
        "pending", "confirmed")
MAX_OFFERS = 12


def _book(session: Session, offer: BenefitsMallOffer, members: list[Member], ctx: Any,
          days_ahead: int, channel_id: int | None = None, **kw: Any) -> Any:
    """A booking of ``offer`` by some member (through ``channel_id`` for the first tries:
    its audience may not include the member drawn), or (None, None)."""
    today = service.beijing_today()
    day = min(today + timedelta(days=days_ahead), offer.valid_until)
    stores = service.stores_for(session, offer)
    for attempt in range(8):
        member = ctx.rng.choice(members)
        try:
            return service.book(session, member, offer.id, service_date=day,
                                 store_id=stores[0].id if stores else None,
                                 people=ctx.rng.choice([1, 1, 2]),
                                 contact_phone=f"139{ctx.rng.randrange(10**8):08d}",
                                 note="", channel_id=channel_id if attempt < 4 else None,
                                 today=today, **kw), member
        except service.BookingRefused:
            continue
    return None, None


def _channels_of(session: Session, offers: list[BenefitsMallOffer]) -> dict[int, int]:
    """For each offer bundled in a channel open today: one such channel."""
    today = service.beijing_today()
    rows = session.execute(
        select(BenefitsMallChannelOffer.offer_id, BenefitsMallChannel.id)
        .join(BenefitsMallChannel, BenefitsMallChannel.id == BenefitsMallChannelOffer.channel_id)
        .where(BenefitsMallChannelOffer.offer_id.in_([o.id for o in offers]),
               BenefitsMallChannel.active.is_(True), BenefitsMallChannel.valid_from <= today,
               BenefitsMallChannel.valid_until >= today)
        .order_by(BenefitsMallChannel.id))
    out: dict[int, int] = {}
    for offer_id, channel_id in rows:
        out.setdefault(offer_id, channel_id)
    return out


def seed(session: Session, ctx: Any) -> None:
    today = service.beijing_today()
    offers = list(session.scalars(
        select(BenefitsMallOffer).where(BenefitsMallOffer.kind == OfferKind.SERVICE,
                                        BenefitsMallOffer.status == OfferStatus.APPROVED,
                                        BenefitsMallOffer.valid_from <= today,
                                        BenefitsMallOffer.valid_until >= today)
        .order_by(BenefitsMallOffer.id).limit(MAX_OFFERS)))
    members = list(session.scalars(select(Member).where(
        Member.id.in_(ctx.member_ids), Member.status == MemberStatus.ACTIVE)
        .order_by(Member.id).limit(300)))
    if not offers or not members:
        return
    staff = {s.merchant_id: s for s in session.scalars(
        select(BenefitsMallStaff).order_by(BenefitsMallStaff.id.desc()))}
    made: Counter[str] = Counter()
    channels = _channels_of(session, offers)
    # bookings whose hold ran out two days ago: the expiry releases them
    for offer in offers[::3]:
        _book(session, offer, members, ctx, 1, now=utcnow() - timedelta(days=2))
    made["expired"] += service.expire_holds(session)
    for i, offer in enumerate(offers):
        clerk = staff.get(offer.merchant_id)
        for j, state in enumerate(PLAN[1 + i % 3:5 + i % 3]):
            ahead = 0 if state == "completed" else ctx.rng.randint(1, 14)
            via = channels.get(offer.id) if j % 2 == 0 else None
            booking, member = _book(session, offer, members, ctx, ahead, channel_id=via)
            if booking is None:
                continue
            if booking.channel_id is not None:
                made["via_channel"] += 1
            if state in ("confirmed", "completed", "cancelled_staff") and clerk is None:
                made["pending"] += 1
                continue
            if state in ("confirmed", "completed"):
                service.confirm(session, booking.id, clerk)
            if state == "completed":
                service.complete(session, booking.id, clerk, today=today)
            elif state == "cancelled_member":
                service.cancel(session, booking.id, by_member=member, reason="行程有变")
            elif state == "cancelled_staff":
                service.cancel(session, booking.id, by_staff=clerk,
                               reason="当日技师已约满，请改约其他日期")
            made[state] += 1
    labels = {"pending": "待确认", "confirmed": "已确认", "completed": "已完成",
              "cancelled_member": "会员取消", "cancelled_staff": "商户取消", "expired": "超时失效",
              "via_channel": "经优惠通道"}
    ctx.lines.append("专属服务预约: " + "，".join(
        f"{labels[k]} {v}" for k, v in sorted(made.items()) if v))
