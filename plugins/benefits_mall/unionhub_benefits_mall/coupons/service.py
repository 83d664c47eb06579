"""Coupons: claiming, redemption (核销), undo, cancellation and expiry.

Every limited thing is decided by the row count of one conditional statement, never by
reading a value and writing it back (two requests would both read "one left"):

* the offer's stock and a channel's total quota: ``UPDATE … SET issued = issued + 1 WHERE id
  = :id AND (stock IS NULL OR issued < stock)``;
* a member's limit per period: ``INSERT … ON CONFLICT (member_id, scope, period) DO UPDATE
  SET used = used + 1 WHERE used < :limit RETURNING used`` (no row back: limit reached);
* a coupon's state: ``UPDATE … WHERE id = :id AND state = 'issued' AND expires_at > :now``.

Transactions belong to the caller: :func:`claim`, :func:`cancel`, :func:`redeem` and
:func:`undo` work in the session's open transaction and never commit. After
:class:`ClaimRefused` (or :class:`CouponError`) the caller MUST roll back — the counters a
refused claim already raised are undone only by that rollback — and after success it
commits. :func:`redeem` and :func:`undo` return refusals as results instead of raising; a
refused result has changed nothing, but roll back anyway to keep the rule simple. The one
exception: when a concurrent request with the same idempotency key wins the race to record
its event, they roll the session back themselves and return that request's outcome.

Every change of a coupon appends a :class:`~..models.BenefitsMallCouponEvent` (never updated
or deleted); settlement reads the ``redeemed``/``undone`` events and their ``amount``.
Days are Asia/Shanghai calendar days; timestamps are stored in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    cast,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from unionhub.db import UTCDateTime, utcnow
from unionhub.i18n import _
from unionhub.identity.models import Account, Member
from unionhub.identity.numbers import mask_name
from unionhub.money import money_sum

from .. import quota
from ..eligibility import Viewer, period_key, refusal
from ..models import (
    BenefitsMallChannel,
    BenefitsMallCoupon,
    BenefitsMallCouponEvent,
    BenefitsMallMerchant,
    BenefitsMallOffer,
    BenefitsMallOfferStore,
    BenefitsMallStaff,
    BenefitsMallStore,
    CouponEventKind,
    CouponState,
    MerchantStatus,
    OfferKind,
)
from . import codes

CHINA = ZoneInfo("Asia/Shanghai")
ZERO = Decimal("0.00")
EXPIRE_BATCH = 2000
EXPIRING_TYPE = "benefits_mall.coupon_expiring"
MAX_KEY = 64

STATE_LABELS = {
    CouponState.ISSUED: "可使用",
    CouponState.REDEEMED: "已使用",
    CouponState.EXPIRED: "已过期",
    CouponState.CANCELLED: "已退还",
}
EVENT_LABELS = {
    CouponEventKind.CLAIMED: "领取",
    CouponEventKind.REDEEMED: "核销",
    CouponEventKind.UNDONE: "撤销核销",
    CouponEventKind.EXPIRED: "过期",
    CouponEventKind.CANCELLED: "退还",
}
TABS = {"usable": "可使用", "used": "已使用", "expired": "已失效"}


class CouponError(Exception):
    """A refusal with a reason a member or a clerk understands (``str(exc)``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ClaimRefused(CouponError):
    """The claim is refused; the caller must roll back the session."""


class InvalidKey(CouponError):
    """An idempotency key that is empty, too long or not printable."""


@dataclass(frozen=True)
class RedeemResult:
    """The outcome of a redemption or an undo. ``ok`` False: ``reason`` says why and nothing
    changed. ``replayed``: a retry of an earlier request (same idempotency key) that returns
    that request's outcome without acting again. Coupon details are filled only for the
    merchant's own coupons."""

    ok: bool
    reason: str = ""
    kind: str = CouponEventKind.REDEEMED
    coupon_id: int | None = None
    code: str = ""
    offer_title: str = ""
    member_name: str = ""
    store_name: str = ""
    at: datetime | None = None
    amount: Decimal = ZERO
    replayed: bool = False
    undo_until: datetime | None = None
    state: str = ""

    @classmethod
    def refused(cls, reason: str, coupon: BenefitsMallCoupon | None = None, *,
                kind: str = CouponEventKind.REDEEMED) -> RedeemResult:
        if coupon is None:
            return cls(False, reason, kind)
        return cls(False, reason, kind, coupon.id, codes.display(coupon.code),
                   coupon.offer.title, state=coupon.state)


@dataclass(frozen=True)
class PanelSummary:
    usable: int
    next_to_expire: BenefitsMallCoupon | None = None
    soon: list[BenefitsMallCoupon] = field(default_factory=list)


# --- time -------------------------------------------------------------------------------------


def local_date(moment: datetime) -> date:
    """The Asia/Shanghai calendar day of ``moment``."""
    return moment.astimezone(CHINA).date()


def day_start(day: date) -> datetime:
    """00:00 Asia/Shanghai of ``day``, in UTC."""
    return datetime.combine(day, time(0), tzinfo=CHINA).astimezone(UTC)


def coupon_expiry(offer: BenefitsMallOffer, claimed_at: datetime) -> datetime:
    """``coupon_valid_days`` after claiming, but never past the end of the offer's last day."""
    return min(claimed_at + timedelta(days=offer.coupon_valid_days),
               day_start(offer.valid_until + timedelta(days=1)))


def local_text(moment: datetime | None) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if moment else ""


def undo_minutes() -> int:
    from unionhub.settings import service as settings

    return int(settings.get("benefits_mall.redeem_undo_minutes"))


# --- low-level conditional statements ---------------------------------------------------------


def _insert(session: Session) -> Any:
    """The dialect's ``insert`` (with ``on_conflict_do_update``) for the session's database."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    raise RuntimeError(f"unsupported database {name}")  # pragma: no cover


def _scoped_key(kind: str, owner: int, key: str | None) -> str | None:
    """Namespace a client's idempotency key (kind and owner), so that keys of different
    members or merchants never meet and one's retry cannot read another's outcome."""
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise InvalidKey(_("幂等键无效：应为 1–%(n)s 个可见字符", n=MAX_KEY))
    return f"{kind}:{owner}:{key}"


_OFFER_LIMITS = {
    "all": "该券每人限领 %(n)s 张，您已达到上限",
    "year": "该券每人每年限领 %(n)s 张，您已达到上限",
    "month": "该券每人每月限领 %(n)s 张，您已达到上限",
    "day": "该券每人每天限领 %(n)s 张，您已达到上限",
}
_CHANNEL_LIMITS = {
    "all": "该优惠通道每人限领 %(n)s 张，您已达到上限",
    "year": "该优惠通道每人每年限领 %(n)s 张，您已达到上限",
    "month": "该优惠通道每人每月限领 %(n)s 张，您已达到上限",
    "day": "该优惠通道每人每天限领 %(n)s 张，您已达到上限",
}


def _limit_reason(limit: int, period: str, *, channel: bool = False) -> str:
    table = _CHANNEL_LIMITS if channel else _OFFER_LIMITS
    return _(table.get(period, table["all"]), n=limit)


# --- claiming ---------------------------------------------------------------------------------


def claimed_with_key(session: Session, member_id: int, idempotency_key: str
                     ) -> BenefitsMallCoupon | None:
    """The coupon an earlier claim with this key (by this member) produced, if any."""
    key = _scoped_key("claim", member_id, idempotency_key)
    return session.scalar(
        select(BenefitsMallCoupon).join(
            BenefitsMallCouponEvent, BenefitsMallCouponEvent.coupon_id == BenefitsMallCoupon.id)
        .where(BenefitsMallCouponEvent.idempotency_key == key,
               BenefitsMallCoupon.member_id == member_id))


def claim(session: Session, member: Member, offer_id: int, *, channel_id: int | None = None,
          account_id: int | None = None, today: date | None = None,
          idempotency_key: str | None = None, now: datetime | None = None
          ) -> BenefitsMallCoupon:
    """Issue one coupon of ``offer_id`` to ``member`` (through ``channel_id``), or raise
    :class:`ClaimRefused`. The caller commits on success and rolls back on refusal.

    Eligibility is checked again here, whatever the listing showed. The member's own counters
    come first and the offer's stock — the row every claimant wants — last, so its row lock
    is held only from that UPDATE to the commit. ``idempotency_key`` (optional, the API's
    ``Idempotency-Key``): a retry returns the coupon of the first claim. ``now`` (default:
    the clock) is the claim time, for the demo's history.
    """
    now = now or utcnow()
    today = today or local_date(now)
    key = _scoped_key("claim", member.id, idempotency_key)
    if idempotency_key is not None:
        earlier = claimed_with_key(session, member.id, idempotency_key)
        if earlier is not None:
            return earlier
    offer = session.get(BenefitsMallOffer, offer_id, populate_existing=True)
    if offer is None:
        raise ClaimRefused(_("没有这项优惠"))
    if offer.kind != OfferKind.COUPON:
        raise ClaimRefused(_("该优惠为预约服务，请在优惠页预约，无需领券"))
    channel: BenefitsMallChannel | None = None
    if channel_id is not None:
        channel = session.get(BenefitsMallChannel, channel_id, populate_existing=True)
        if channel is None:
            raise ClaimRefused(_("没有这个优惠通道"))
    viewer = Viewer.of(session, member)
    why = refusal(session, viewer, offer, today, channel)
    if why:
        raise ClaimRefused(_(why))
    # Early answers from what was just read: they only ever refuse, and spare a claimant the
    # wait for the offer's row lock once it is sold out. The UPDATEs below decide.
    if offer.stock is not None and offer.issued >= offer.stock:
        raise ClaimRefused(_("该券已领完"))
    if channel is not None and channel.total_quota is not None \
            and channel.issued >= channel.total_quota:
        raise ClaimRefused(_("该优惠通道名额已用完"))

    taken: list[list[str]] = []
    if offer.per_member_limit is not None:
        scope, period = f"offer:{offer.id}", period_key(offer.per_member_period, today)
        if not quota.take_quota(session, member.id, scope, period, offer.per_member_limit):
            raise ClaimRefused(_limit_reason(offer.per_member_limit, offer.per_member_period))
        taken.append([scope, period])
    if channel is not None and channel.per_member_quota is not None:
        scope, period = f"channel:{channel.id}", period_key(channel.per_member_period, today)
        if not quota.take_quota(session, member.id, scope, period, channel.per_member_quota):
            raise ClaimRefused(_limit_reason(channel.per_member_quota,
                                             channel.per_member_period, channel=True))
        taken.append([scope, period])

    coupon = BenefitsMallCoupon(
        code=codes.generate(), offer_id=offer.id, channel_id=channel_id,
        merchant_id=offer.merchant_id, member_id=member.id, org_path=viewer.org_path,
        state=CouponState.ISSUED, version=1, claimed_at=now,
        expires_at=coupon_expiry(offer, now))
    session.add(coupon)
    session.flush()
    if offer.points_price:
        from ..points import service as points

        try:
            points.spend(session, member.id, offer.points_price, batch_key=f"coupon:{coupon.id}",
                         coupon_id=coupon.id, note=f"领取：{offer.title}"[:200],
                         account_id=account_id, today=today)
        except points.PointsError as exc:
            raise ClaimRefused(str(exc)) from None
        coupon.points_spent = offer.points_price
    session.add(BenefitsMallCouponEvent(
        coupon_id=coupon.id, merchant_id=offer.merchant_id, offer_id=offer.id,
        kind=CouponEventKind.CLAIMED, at=now, account_id=account_id, amount=ZERO,
        idempotency_key=key,
        detail={"quota": taken, "channel_id": channel_id, "points": coupon.points_spent}))
    session.flush()

    if channel is not None and not quota.hold(session, BenefitsMallChannel, channel.id):
        raise ClaimRefused(_("该优惠通道名额已用完"))
    if not quota.hold(session, BenefitsMallOffer, offer.id):
        raise ClaimRefused(_("该券已领完"))
    session.expire(offer, ["issued"])
    if channel is not None:
        session.expire(channel, ["issued"])
    return coupon


# --- cancelling -------------------------------------------------------------------------------


def cancel(session: Session, coupon_id: int, member: Member, *,
           now: datetime | None = None) -> BenefitsMallCoupon:
    """The member gives back an unused, unexpired coupon: it is cancelled, the offer's stock,
    the channel's quota and the member's counters taken at claim are released, and points
    spent on it are refunded. Raises :class:`CouponError`; the caller commits or rolls back."""
    now = now or utcnow()
    c = BenefitsMallCoupon
    coupon = session.scalar(select(c).where(c.id == coupon_id, c.member_id == member.id)
                            .execution_options(populate_existing=True))
    if coupon is None:
        raise CouponError(_("没有这张券"))
    result = session.execute(
        update(c).where(c.id == coupon.id, c.member_id == member.id,
                        c.state == CouponState.ISSUED, c.expires_at > now)
        .values(state=CouponState.CANCELLED, version=c.version + 1)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(coupon)
        raise CouponError(state_refusal(session, coupon, now) or _("该券当前不能退还"))
    session.refresh(coupon)
    quota.release(session, BenefitsMallOffer, coupon.offer_id)
    session.expire(coupon.offer, ["issued"])
    if coupon.channel_id is not None:
        quota.release(session, BenefitsMallChannel, coupon.channel_id)
        channel = session.get(BenefitsMallChannel, coupon.channel_id)
        if channel is not None:
            session.expire(channel, ["issued"])
    claimed = session.scalar(select(BenefitsMallCouponEvent.detail).where(
        BenefitsMallCouponEvent.coupon_id == coupon.id,
        BenefitsMallCouponEvent.kind == CouponEventKind.CLAIMED))
    for scope, period in (claimed or {}).get("quota", []):
        quota.release_quota(session, member.id, scope, period)
    refunded = 0
    if coupon.points_spent:
        refunded = _refund_points(session, coupon, now)
    session.add(BenefitsMallCouponEvent(
        coupon_id=coupon.id, merchant_id=coupon.merchant_id, offer_id=coupon.offer_id,
        kind=CouponEventKind.CANCELLED, at=now, amount=ZERO,
        detail={"points_refunded": refunded}))
    session.flush()
    return coupon


def _refund_points(session: Session, coupon: BenefitsMallCoupon, now: datetime) -> int:
    from ..models import BenefitsMallPointsEntry, PointsKind
    from ..points import service as points

    entry = session.scalar(select(BenefitsMallPointsEntry).where(
        BenefitsMallPointsEntry.coupon_id == coupon.id,
        BenefitsMallPointsEntry.kind == PointsKind.SPEND))
    if entry is None:
        return 0
    points.refund(session, entry, batch_key=f"coupon-refund:{coupon.id}",
                  note=f"退还：{coupon.offer.title}"[:200], today=local_date(now))
    return abs(entry.points)


# --- redemption -------------------------------------------------------------------------------


def state_refusal(session: Session, coupon: BenefitsMallCoupon, now: datetime) -> str | None:
    """Why ``coupon`` cannot be used now (``None``: it can)."""
    if coupon.state == CouponState.REDEEMED:
        store = (session.get(BenefitsMallStore, coupon.redeemed_store_id)
                 if coupon.redeemed_store_id else None)
        if store is None:
            return _("该券已核销（%(time)s）", time=local_text(coupon.redeemed_at))
        return _("该券已核销（%(time)s 于%(store)s）", time=local_text(coupon.redeemed_at),
                 store=store.name)
    if coupon.state == CouponState.CANCELLED:
        return _("该券已由会员退还，已作废")
    if coupon.state == CouponState.EXPIRED or coupon.expires_at <= now:
        return _("该券已过期（有效期至 %(time)s）", time=local_text(coupon.expires_at))
    return None


def usable_stores(session: Session, offer: BenefitsMallOffer) -> list[BenefitsMallStore]:
    """The active stores where ``offer``'s coupons can be used (none listed: all of the
    merchant's)."""
    listed = select(BenefitsMallOfferStore.store_id).where(
        BenefitsMallOfferStore.offer_id == offer.id)
    s = BenefitsMallStore
    return list(session.scalars(select(s).where(
        s.merchant_id == offer.merchant_id, s.active.is_(True),
        or_(~exists(listed), s.id.in_(listed))).order_by(s.id)))


def _replay(session: Session, key: str | None, *, code: str | None = None,
            coupon_id: int | None = None) -> RedeemResult | None:
    """The outcome recorded under ``key`` (a retried request), or None. A key reused for
    another coupon (``code`` / ``coupon_id`` differ from the recorded one) is refused: the
    client sent a new request under an old key, and answering with the old outcome would
    report a redemption that did not happen."""
    if key is None:
        return None
    event = session.scalar(select(BenefitsMallCouponEvent).where(
        BenefitsMallCouponEvent.idempotency_key == key))
    if event is None:
        return None
    coupon = session.get(BenefitsMallCoupon, event.coupon_id)
    assert coupon is not None
    if (code is not None and code != coupon.code) or (
            coupon_id is not None and coupon_id != coupon.id):
        return RedeemResult.refused(_("该请求编号已用于另一张券，请刷新页面后重新操作"))
    return _success(session, coupon, event, replayed=True)


def _success(session: Session, coupon: BenefitsMallCoupon, event: BenefitsMallCouponEvent, *,
             replayed: bool) -> RedeemResult:
    store = session.get(BenefitsMallStore, event.store_id) if event.store_id else None
    member_name = session.scalar(select(Member.name).where(Member.id == coupon.member_id))
    until = None
    if event.kind == CouponEventKind.REDEEMED:
        until = event.at + timedelta(minutes=undo_minutes())
    return RedeemResult(True, "", event.kind, coupon.id, codes.display(coupon.code),
                        coupon.offer.title, mask_name(member_name),
                        store.name if store else "", event.at, event.amount, replayed, until,
                        coupon.state)


def redeem(session: Session, code: str, *, staff: BenefitsMallStaff, store_id: int | None,
           idempotency_key: str, now: datetime | None = None) -> RedeemResult:
    """Redeem the coupon with ``code`` at ``store_id`` for ``staff``'s merchant.

    A request whose ``idempotency_key`` was seen before returns that request's outcome and
    redeems nothing. Otherwise the refusals come with their reason (unknown code, another
    merchant's coupon, expired, already redeemed — when and where —, given back, a store that
    is not this merchant's or not one where the offer is valid); the state change itself is
    one conditional UPDATE, so of two devices redeeming one coupon at once exactly one wins.
    """
    now = now or utcnow()
    try:
        key = _scoped_key("redeem", staff.merchant_id, idempotency_key)
    except CouponError as exc:
        return RedeemResult.refused(exc.reason)
    try:
        normalized = codes.normalize(code)
    except codes.CodeError as exc:
        return RedeemResult.refused(str(exc))
    earlier = _replay(session, key, code=normalized)
    if earlier is not None:
        return earlier
    c = BenefitsMallCoupon
    coupon = session.scalar(select(c).where(c.code == normalized)
                            .execution_options(populate_existing=True))
    if coupon is None:
        return RedeemResult.refused(_("没有这张券，请核对券码"))
    if coupon.merchant_id != staff.merchant_id:
        return RedeemResult.refused(_("该券不属于本商户"))
    merchant = session.get(BenefitsMallMerchant, staff.merchant_id)
    if merchant is None or merchant.status != MerchantStatus.ACTIVE:
        return RedeemResult.refused(_("本商户已暂停合作，暂不能核销"), coupon)
    why = state_refusal(session, coupon, now)
    if why:
        return RedeemResult.refused(why, coupon)
    store = session.get(BenefitsMallStore, store_id) if store_id else None
    if store is None or store.merchant_id != staff.merchant_id:
        return RedeemResult.refused(_("请选择本商户的门店"), coupon)
    if not store.active:
        return RedeemResult.refused(_("门店“%(store)s”已停用", store=store.name), coupon)
    allowed = usable_stores(session, coupon.offer)
    if store.id not in {s.id for s in allowed}:
        names = "、".join(s.name for s in allowed) or _("无")
        return RedeemResult.refused(
            _("该券不能在%(store)s使用（适用门店：%(stores)s）", store=store.name, stores=names),
            coupon)

    result = session.execute(
        update(c).where(c.id == coupon.id, c.merchant_id == staff.merchant_id,
                        c.state == CouponState.ISSUED, c.expires_at > now)
        .values(state=CouponState.REDEEMED, version=c.version + 1, redeemed_at=now,
                redeemed_store_id=store.id, redeemed_by=staff.account_id)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        # Someone else changed it first — perhaps our own retry, which then answers for us.
        earlier = _replay(session, key, code=normalized)
        if earlier is not None:
            return earlier
        session.refresh(coupon)
        return RedeemResult.refused(state_refusal(session, coupon, now)
                                    or _("该券状态刚刚发生变化，请重新核销"), coupon)
    event = BenefitsMallCouponEvent(
        coupon_id=coupon.id, merchant_id=coupon.merchant_id, offer_id=coupon.offer_id,
        kind=CouponEventKind.REDEEMED, at=now, account_id=staff.account_id, store_id=store.id,
        amount=coupon.offer.subsidy, idempotency_key=key,
        detail={"version": coupon.version + 1})
    session.add(event)
    try:
        session.flush()
    except IntegrityError:
        # The same key, recorded first by a concurrent request: its outcome answers (or, for
        # another code, the reuse of the key is refused); ours is rolled back.
        session.rollback()
        earlier = _replay(session, key, code=normalized)
        if earlier is not None:
            return earlier
        raise
    session.refresh(coupon)
    return _success(session, coupon, event, replayed=False)


def undo(session: Session, coupon_id: int, *, staff: BenefitsMallStaff, idempotency_key: str,
         now: datetime | None = None) -> RedeemResult:
    """Undo a redemption of ``staff``'s merchant within ``benefits_mall.redeem_undo_minutes``
    of it: the coupon is usable again and an ``undone`` event with the negative subsidy
    offsets the redemption in settlement."""
    now = now or utcnow()
    kind = CouponEventKind.UNDONE
    try:
        key = _scoped_key("undo", staff.merchant_id, idempotency_key)
    except CouponError as exc:
        return RedeemResult.refused(exc.reason, kind=kind)
    earlier = _replay(session, key, coupon_id=coupon_id)
    if earlier is not None:
        return earlier
    c = BenefitsMallCoupon
    coupon = session.scalar(select(c).where(c.id == coupon_id)
                            .execution_options(populate_existing=True))
    if coupon is None or coupon.merchant_id != staff.merchant_id:
        return RedeemResult.refused(_("该券不属于本商户"), kind=kind)
    if coupon.state != CouponState.REDEEMED or coupon.redeemed_at is None:
        return RedeemResult.refused(_("该券当前不是已核销状态，无需撤销"), coupon, kind=kind)
    minutes = undo_minutes()
    if now > coupon.redeemed_at + timedelta(minutes=minutes):
        return RedeemResult.refused(
            _("已超过撤销时限：核销后 %(n)s 分钟内可撤销（核销于 %(time)s）", n=minutes,
              time=local_text(coupon.redeemed_at)), coupon, kind=kind)
    redeemed = session.scalar(
        select(BenefitsMallCouponEvent).where(
            BenefitsMallCouponEvent.coupon_id == coupon.id,
            BenefitsMallCouponEvent.kind == CouponEventKind.REDEEMED)
        .order_by(BenefitsMallCouponEvent.id.desc()).limit(1))
    assert redeemed is not None, f"coupon {coupon.id} redeemed without an event"
    result = session.execute(
        update(c).where(c.id == coupon.id, c.merchant_id == staff.merchant_id,
                        c.state == CouponState.REDEEMED, c.version == coupon.version,
                        c.redeemed_at >= now - timedelta(minutes=minutes))
        .values(state=CouponState.ISSUED, version=c.version + 1, redeemed_at=None,
                redeemed_store_id=None, redeemed_by=None)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        earlier = _replay(session, key, coupon_id=coupon_id)
        if earlier is not None:
            return earlier
        session.refresh(coupon)
        return RedeemResult.refused(_("该券状态刚刚发生变化，请刷新后再试"), coupon,
                                    kind=kind)
    event = BenefitsMallCouponEvent(
        coupon_id=coupon.id, merchant_id=coupon.merchant_id, offer_id=coupon.offer_id,
        kind=kind, at=now, account_id=staff.account_id, store_id=redeemed.store_id,
        amount=-redeemed.amount, idempotency_key=key,
        detail={"undoes": redeemed.id, "version": coupon.version + 1})
    session.add(event)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        earlier = _replay(session, key, coupon_id=coupon_id)
        if earlier is not None:
            return earlier
        raise
    from unionhub.audit.service import record

    record("benefits_mall.coupon_undo", target_type="benefits_mall_coupon",
           target_id=coupon.id, org_path=coupon.org_path,
           details={"event_id": event.id, "amount": str(event.amount)}, session=session)
    session.refresh(coupon)
    return _success(session, coupon, event, replayed=False)


# --- expiry -----------------------------------------------------------------------------------


def expire_due(session: Session, now: datetime) -> int:
    """Mark every issued coupon whose time is up as expired (set-based, in batches) and
    append an ``expired`` event for each; the offer's ``issued`` stays (stock counts issued
    coupons, not usable ones). Returns how many expired. The caller commits."""
    c = BenefitsMallCoupon
    events = BenefitsMallCouponEvent.__table__
    total = 0
    while True:
        due = (select(c.id).where(c.state == CouponState.ISSUED, c.expires_at <= now)
               .order_by(c.id).limit(EXPIRE_BATCH))
        ids = list(session.scalars(
            update(c).where(c.id.in_(due), c.state == CouponState.ISSUED, c.expires_at <= now)
            .values(state=CouponState.EXPIRED, version=c.version + 1)
            .returning(c.id).execution_options(synchronize_session=False)))
        if not ids:
            break
        session.execute(insert(events).from_select(
            ["coupon_id", "merchant_id", "offer_id", "kind", "at"],
            select(c.id, c.merchant_id, c.offer_id, literal(CouponEventKind.EXPIRED.value),
                   literal(now, UTCDateTime())).where(c.id.in_(ids))))
        total += len(ids)
        if len(ids) < EXPIRE_BATCH:
            break
    return total


def notify_expiring(session: Session, now: datetime) -> int:
    """Tell members about coupons that expire within ``coupon_expiry_notice_days``: one
    notification per coupon, its batch key ``coupon_expiring:<id>`` — a coupon already
    notified is skipped in SQL, and a re-run could not send it twice anyway."""
    from unionhub.notify import send
    from unionhub.notify.models import NotifyBatch
    from unionhub.notify.service import kick
    from unionhub.settings import service as settings

    days = int(settings.get("benefits_mall.coupon_expiry_notice_days"))
    if days <= 0:
        return 0
    c = BenefitsMallCoupon
    batch_key = literal("coupon_expiring:") + cast(c.id, String)
    rows = session.execute(
        select(c.id, c.member_id, c.expires_at, BenefitsMallOffer.title,
               BenefitsMallMerchant.name)
        .join(BenefitsMallOffer, BenefitsMallOffer.id == c.offer_id)
        .join(BenefitsMallMerchant, BenefitsMallMerchant.id == c.merchant_id)
        .where(c.state == CouponState.ISSUED, c.expires_at > now,
               c.expires_at <= now + timedelta(days=days),
               ~exists().where(NotifyBatch.type_key == EXPIRING_TYPE,
                               NotifyBatch.key == batch_key))
        .order_by(c.expires_at, c.id)).all()
    for coupon_id, member_id, expires_at, title, merchant in rows:
        send(session, EXPIRING_TYPE, [member_id],
             {"coupon_id": coupon_id, "offer": title, "offer_short": _short(title),
              "merchant": merchant, "merchant_short": _short(merchant),
              "expires": local_text(expires_at)},
             f"coupon_expiring:{coupon_id}", dispatch=False)
    if rows:
        kick(session)
    return len(rows)


def _short(text: str, limit: int = 20) -> str:
    """WeChat template fields hold at most 20 characters."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def expire_job(ctx: Any) -> dict[str, Any]:
    """Job ``benefits_mall.coupons_expire`` (beat: every 15 minutes): expire, then remind.
    Safe to re-run: both steps only act on what is still due."""
    from unionhub import db

    s = db.session()
    now = utcnow()
    expired = expire_due(s, now)
    s.commit()
    notified = notify_expiring(s, now)
    s.commit()
    counts = {"expired": expired, "notified": notified}
    ctx.counts.update(counts)
    return counts


# --- queries for pages and the API ------------------------------------------------------------


def tab_clause(tab: str, now: datetime) -> ColumnElement[bool]:
    c = BenefitsMallCoupon
    if tab == "used":
        return c.state == CouponState.REDEEMED
    if tab == "expired":
        return or_(c.state.in_([CouponState.EXPIRED, CouponState.CANCELLED]),
                   and_(c.state == CouponState.ISSUED, c.expires_at <= now))
    return and_(c.state == CouponState.ISSUED, c.expires_at > now)


def member_coupons(member_id: int, tab: str, now: datetime) -> Select[Any]:
    """The member's coupons in one tab (``usable``: soonest to expire first; the others:
    latest first)."""
    c = BenefitsMallCoupon
    stmt = select(c).where(c.member_id == member_id, tab_clause(tab, now))
    if tab in ("used", "expired"):
        return stmt.order_by(func.coalesce(c.redeemed_at, c.expires_at).desc(), c.id.desc())
    return stmt.order_by(c.expires_at, c.id)


def shown_state(coupon: BenefitsMallCoupon, now: datetime) -> str:
    """The state as the member sees it (an issued coupon past its time is expired, even
    before the expiry job has run)."""
    if coupon.state == CouponState.ISSUED and coupon.expires_at <= now:
        return CouponState.EXPIRED
    return coupon.state


def panel_summary(session: Session, member_id: int, now: datetime) -> PanelSummary:
    c = BenefitsMallCoupon
    usable = int(session.scalar(select(func.count()).select_from(c).where(
        c.member_id == member_id, tab_clause("usable", now))) or 0)
    soon = list(session.scalars(member_coupons(member_id, "usable", now).limit(3)))
    return PanelSummary(usable, soon[0] if soon else None, soon)


def events_of(session: Session, coupon_id: int) -> Sequence[BenefitsMallCouponEvent]:
    e = BenefitsMallCouponEvent
    return list(session.scalars(select(e).where(e.coupon_id == coupon_id).order_by(e.id)))


@dataclass(frozen=True)
class RedemptionRow:
    event: BenefitsMallCouponEvent
    code: str
    offer_title: str
    store_name: str
    clerk: str
    state: str
    undo_until: datetime | None


def _day_events(merchant_id: int, day: date) -> ColumnElement[bool]:
    e = BenefitsMallCouponEvent
    return and_(e.merchant_id == merchant_id,
                e.kind.in_([CouponEventKind.REDEEMED, CouponEventKind.UNDONE]),
                e.at >= day_start(day), e.at < day_start(day + timedelta(days=1)))


def day_totals(session: Session, merchant_id: int, day: date) -> tuple[int, int, Decimal]:
    """(redemptions, undos, net subsidy) of the merchant's Shanghai day, in one query."""
    e = BenefitsMallCouponEvent
    redeemed, undone, amount = session.execute(
        select(func.count().filter(e.kind == CouponEventKind.REDEEMED),
               func.count().filter(e.kind == CouponEventKind.UNDONE), money_sum(e.amount))
        .where(_day_events(merchant_id, day))).one()
    return int(redeemed or 0), int(undone or 0), amount


def redemptions_on(session: Session, merchant_id: int, day: date, now: datetime, *,
                   limit: int | None = None, offset: int = 0) -> list[RedemptionRow]:
    """The merchant's redemption and undo events of one Shanghai day, latest first (a page
    of them with ``limit``/``offset``); a redemption still in the undo window (and not
    undone) carries ``undo_until``."""
    e, c = BenefitsMallCouponEvent, BenefitsMallCoupon
    rows = session.execute(
        select(e, c.code, c.state, c.version, BenefitsMallOffer.title, BenefitsMallStore.name,
               Account.display_name)
        .join(c, c.id == e.coupon_id)
        .join(BenefitsMallOffer, BenefitsMallOffer.id == e.offer_id)
        .outerjoin(BenefitsMallStore, BenefitsMallStore.id == e.store_id)
        .outerjoin(Account, Account.id == e.account_id)
        .where(_day_events(merchant_id, day))
        .order_by(e.id.desc()).limit(limit).offset(offset)).all()
    minutes = undo_minutes()
    out = []
    for event, code, state, version, title, store, clerk in rows:
        until = None
        if (event.kind == CouponEventKind.REDEEMED and state == CouponState.REDEEMED
                and event.detail.get("version") == version
                and now <= event.at + timedelta(minutes=minutes)):
            until = event.at + timedelta(minutes=minutes)
        out.append(RedemptionRow(event, codes.display(code), title, store or "", clerk or "",
                                 state, until))
    return out


def staff_stores(session: Session, staff: BenefitsMallStaff) -> list[BenefitsMallStore]:
    s = BenefitsMallStore
    return list(session.scalars(select(s).where(s.merchant_id == staff.merchant_id,
                                                s.active.is_(True)).order_by(s.id)))


__all__ = [
    "CHINA", "EVENT_LABELS", "STATE_LABELS", "TABS", "ClaimRefused", "CouponError", "InvalidKey",
    "PanelSummary", "RedeemResult", "RedemptionRow", "cancel", "claim", "claimed_with_key",
    "coupon_expiry", "day_start", "day_totals", "events_of", "expire_due", "expire_job",
    "local_date", "local_text", "member_coupons", "notify_expiring", "panel_summary", "redeem",
    "redemptions_on", "shown_state", "staff_stores", "state_refusal", "tab_clause", "undo",
    "undo_minutes",
    "usable_stores",
]
