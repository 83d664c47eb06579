"""Demo coupons, made through the services like real ones: about 200 members claim coupons
over the last weeks (refusals — eligibility, limits, stock — are skipped), about 80 of them
are redeemed by the merchants' staff (the accounts the catalogue demo seeded) a little after
claiming, a few redemptions are undone within the window, and a few coupons expire (their
expiry moved into the past, then the expiry job's :func:`~.service.expire_due` runs).
Choices come from ``ctx.rng``, so the demo is the same every time (codes stay random)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from unionhub.db import utcnow
from unionhub.identity.models import Member

from ..models import (
    BenefitsMallChannel,
    BenefitsMallChannelOffer,
    BenefitsMallCoupon,
    BenefitsMallMerchant,
    BenefitsMallOffer,
    BenefitsMallStaff,
    CouponState,
    MerchantStatus,
    OfferKind,
    OfferStatus,
    StaffRole,
)
from . import service

MEMBERS = 200
REDEEMED = 80
UNDONE = 4
EXPIRED = 8
HISTORY_DAYS = 40


def _claim_time(rng: Any, offer: BenefitsMallOffer, now: datetime) -> datetime:
    """A moment in the last weeks within the offer's validity (its days in Shanghai)."""
    earliest = max(now - timedelta(days=HISTORY_DAYS), service.day_start(offer.valid_from))
    span = max(0.0, (now - earliest).total_seconds() - 3600)
    return earliest + timedelta(seconds=rng.uniform(0, span))


def seed(session: Session, ctx: Any) -> None:
    rng = ctx.rng
    now = utcnow()
    today = service.local_date(now)
    offers = list(session.scalars(
        select(BenefitsMallOffer).join(BenefitsMallMerchant,
                                       BenefitsMallMerchant.id == BenefitsMallOffer.merchant_id)
        .where(BenefitsMallOffer.kind == OfferKind.COUPON,
               BenefitsMallOffer.status == OfferStatus.APPROVED,
               BenefitsMallOffer.valid_until >= today,
               BenefitsMallMerchant.status == MerchantStatus.ACTIVE)
        .order_by(BenefitsMallOffer.id)))
    if not offers or not ctx.member_ids:
        return
    channels: dict[int, list[int]] = defaultdict(list)
    link = BenefitsMallChannelOffer
    for channel_id, offer_id in session.execute(
            select(link.channel_id, link.offer_id)
            .join(BenefitsMallChannel, BenefitsMallChannel.id == link.channel_id)
            .where(BenefitsMallChannel.active.is_(True))
            .order_by(link.channel_id, link.offer_id)):
        channels[offer_id].append(channel_id)

    claimed: list[BenefitsMallCoupon] = []
    members = rng.sample(sorted(ctx.member_ids), min(MEMBERS, len(ctx.member_ids)))
    for member_id in members:
        member = session.get(Member, member_id)
        if member is None:
            continue
        for offer in rng.sample(offers, min(len(offers), rng.choice((1, 1, 2, 3)))):
            via = channels.get(offer.id)
            channel_id = rng.choice(via) if via and rng.random() < 0.4 else None
            at = _claim_time(rng, offer, now)
            try:
                with session.begin_nested():
                    coupon = service.claim(session, member, offer.id, channel_id=channel_id,
                                           today=service.local_date(at), now=at)
            except service.CouponError:
                continue  # not eligible, over a limit or sold out: the savepoint rolled back
            claimed.append(coupon)

    staff_of: dict[int, list[BenefitsMallStaff]] = defaultdict(list)
    for staff in session.scalars(select(BenefitsMallStaff).order_by(BenefitsMallStaff.id)):
        staff_of[staff.merchant_id].append(staff)
    redeemable = [c for c in claimed if staff_of.get(c.merchant_id)
                  and c.expires_at > c.claimed_at + timedelta(hours=2)]
    redeemed: list[tuple[BenefitsMallCoupon, BenefitsMallStaff, datetime]] = []
    for coupon in rng.sample(redeemable, min(REDEEMED, len(redeemable))):
        team = staff_of[coupon.merchant_id]
        clerk = next((s for s in team if s.role == StaffRole.CLERK), team[0])
        stores = service.usable_stores(session, coupon.offer)
        if not stores:
            continue
        store_id = clerk.store_id if clerk.store_id in {s.id for s in stores} else \
            rng.choice(stores).id
        latest = min(now - timedelta(minutes=1), coupon.expires_at - timedelta(minutes=1))
        span = (latest - coupon.claimed_at).total_seconds()
        if span <= 0:
            continue
        at = coupon.claimed_at + timedelta(seconds=rng.uniform(min(span, 1800.0), span))
        result = service.redeem(session, coupon.code, staff=clerk, store_id=store_id,
                                idempotency_key=f"demo-redeem-{coupon.id}", now=at)
        if result.ok:
            redeemed.append((coupon, clerk, at))

    undone = 0
    for coupon, clerk, at in rng.sample(redeemed, min(UNDONE, len(redeemed))):
        result = service.undo(session, coupon.id, staff=clerk,
                              idempotency_key=f"demo-undo-{coupon.id}",
                              now=at + timedelta(minutes=rng.randint(1, 10)))
        undone += int(result.ok)

    session.flush()
    usable = [c.id for c in claimed
              if session.scalar(select(BenefitsMallCoupon.state)
                                .where(BenefitsMallCoupon.id == c.id)) == CouponState.ISSUED]
    to_expire = rng.sample(usable, min(EXPIRED, len(usable)))
    if to_expire:
        # Their time ran out: claimed long enough ago in a story where the job just ran.
        session.execute(update(BenefitsMallCoupon)
                        .where(BenefitsMallCoupon.id.in_(to_expire))
                        .values(expires_at=now - timedelta(hours=1))
                        .execution_options(synchronize_session=False))
    expired = service.expire_due(session, now)
    session.flush()
    ctx.lines.append(f"  福利券：{len(claimed)} 张领取，{len(redeemed)} 张核销"
                     f"（{undone} 张撤销），{expired} 张过期")
