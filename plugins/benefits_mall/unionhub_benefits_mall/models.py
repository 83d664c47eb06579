"""The welfare mall's tables (every one named ``benefits_mall_*``).

Merchants and their stores and staff; offers (coupons and bookable exclusive services) and the
discount channels that bundle them; audience rows that say who may claim; coupons with an
append-only event log; per-member quota counters; bookings; the welfare-points ledger and the
unions' caps; settlement statements built from redemption events.

Limited things (stock, channel quota, a member's quota, one coupon's state) change only through
conditional ``UPDATE … WHERE`` statements whose row count decides (see :mod:`.coupons.service`),
never read-then-write. Money is :class:`~unionhub.money.Fen` (whole fen, ``Decimal`` 元).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from unionhub.db import Base, UTCDateTime, utcnow
from unionhub.money import Fen


class MerchantStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # its offers are not listed and its coupons cannot be redeemed


class BenefitsMallCategory(Base):
    """One of the service categories (16 seeded: medical, travel, leisure, fitness …)."""

    __tablename__ = "benefits_mall_category"

    code: Mapped[str] = mapped_column(String(24), primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    icon: Mapped[str] = mapped_column(String(8), default="")
    sort: Mapped[int] = mapped_column(Integer, default=0)


class BenefitsMallMerchant(Base):
    """A partner enterprise. Its settlement account number is stored encrypted and masked."""

    __tablename__ = "benefits_mall_merchant"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    category_code: Mapped[str] = mapped_column(
        ForeignKey("benefits_mall_category.code", ondelete="RESTRICT"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    credit_code: Mapped[str | None] = mapped_column(String(18))  # 统一社会信用代码
    settlement_bank: Mapped[str | None] = mapped_column(String(100))
    settlement_account_name: Mapped[str | None] = mapped_column(String(200))
    settlement_account_enc: Mapped[str | None] = mapped_column(String(200))
    settlement_account_masked: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default=MerchantStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    stores: Mapped[list[BenefitsMallStore]] = relationship(
        back_populates="merchant", order_by="BenefitsMallStore.id")


class BenefitsMallStore(Base):
    """A merchant's store (门店): where coupons are redeemed and services booked."""

    __tablename__ = "benefits_mall_store"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("benefits_mall_merchant.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    district: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    hours: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    merchant: Mapped[BenefitsMallMerchant] = relationship(back_populates="stores")


class StaffRole(StrEnum):
    MANAGER = "manager"  # the merchant's offers, stores, staff, reports and statements
    CLERK = "clerk"  # redeems coupons and handles bookings


class BenefitsMallStaff(Base):
    """A merchant's staff account: it sees only its own merchant (one merchant per account)."""

    __tablename__ = "benefits_mall_staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("benefits_mall_merchant.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), unique=True)
    role: Mapped[str] = mapped_column(String(16), default=StaffRole.CLERK)
    store_id: Mapped[int | None] = mapped_column(
        ForeignKey("benefits_mall_store.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    merchant: Mapped[BenefitsMallMerchant] = relationship(lazy="joined")


class OfferKind(StrEnum):
    COUPON = "coupon"  # a discount coupon, claimed then redeemed at a store
    SERVICE = "service"  # a member-exclusive service, booked then confirmed and completed


class OfferStatus(StrEnum):
    PROPOSED = "proposed"  # by a merchant, awaiting an officer
    APPROVED = "approved"  # listed (within its validity)
    REJECTED = "rejected"
    OFFLINE = "offline"  # taken down by an officer or its merchant


class BenefitsMallOffer(Base):
    """An offer: a coupon or a bookable exclusive service.

    ``stock`` bounds what is ever issued (``NULL``: unlimited); ``issued`` counts coupons and
    holding bookings and only moves by conditional UPDATE. ``per_member_limit`` bounds one
    member per ``per_member_period`` (``all``, ``year``, ``month``, ``day``). A coupon is valid
    ``coupon_valid_days`` after claiming, never past ``valid_until``. ``subsidy`` is what the
    union pays the merchant per redemption (the settlement statements' amount);
    ``points_price`` (optional) is charged in welfare points when claiming.
    """

    __tablename__ = "benefits_mall_offer"
    __table_args__ = (
        CheckConstraint("stock IS NULL OR issued <= stock", name="issued_within_stock"),
        CheckConstraint("issued >= 0", name="issued_not_negative"),
        Index("ix_benefits_mall_offer_listing", "status", "category_code", "valid_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("benefits_mall_merchant.id", ondelete="CASCADE"), index=True)
    category_code: Mapped[str] = mapped_column(
        ForeignKey("benefits_mall_category.code", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(16), default=OfferKind.COUPON)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")  # sanitised HTML
    price: Mapped[Decimal | None] = mapped_column(Fen)
    member_price: Mapped[Decimal | None] = mapped_column(Fen)
    subsidy: Mapped[Decimal] = mapped_column(Fen, default=Decimal("0.00"))
    points_price: Mapped[int | None] = mapped_column(Integer)
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    coupon_valid_days: Mapped[int] = mapped_column(Integer, default=30)
    stock: Mapped[int | None] = mapped_column(Integer)
    issued: Mapped[int] = mapped_column(Integer, default=0)
    per_member_limit: Mapped[int | None] = mapped_column(Integer, default=1)
    per_member_period: Mapped[str] = mapped_column(String(8), default="all")
    requires_active_member: Mapped[bool] = mapped_column(Boolean, default=True)
    requires_jingka: Mapped[bool] = mapped_column(Boolean, default=False)
    booking_hold_minutes: Mapped[int] = mapped_column(Integer, default=120)
    status: Mapped[str] = mapped_column(String(16), default=OfferStatus.PROPOSED)
    review_note: Mapped[str | None] = mapped_column(String(500))
    proposed_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    view_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    merchant: Mapped[BenefitsMallMerchant] = relationship(lazy="joined")
    category: Mapped[BenefitsMallCategory] = relationship(lazy="joined")


class BenefitsMallOfferStore(Base):
    """The stores where an offer can be used (none listed: every store of its merchant)."""

    __tablename__ = "benefits_mall_offer_store"

    offer_id: Mapped[int] = mapped_column(
        ForeignKey("benefits_mall_offer.id", ondelete="CASCADE"), primary_key=True)
    store_id: Mapped[int] = mapped_column(
        ForeignKey("benefits_mall_store.id", ondelete="CASCADE"), primary_key=True)


class BenefitsMallChannel(Base):
    """A discount channel (优惠通道): offers bundled with an audience, a validity window and
    quotas (``total_quota`` over all members; ``per_member_quota`` per ``per_member_period``).
    Owned by an org: officers manage the channels in their subtree."""

    __tablename__ = "benefits_mall_channel"
    __table_args__ = (
        CheckConstraint("total_quota IS NULL OR issued <= total_quota",
                        name="issued_within_quota"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id", ondelete="RESTRICT"), index=True)
    org_path: Mapped[str] = mapped_column(String(512), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    total_quota: Mapped[int | None] = mapped_column(Integer)
    issued: Mapped[int] = mapped_column(Integer, default=0)
    per_member_quota: Mapped[int | None] = mapped_column(Integer)
    per_member_period: Mapped[str] = mapped_column(String(8), default="month")
    requires_active_member: Mapped[bool] = mapped_column(Boolean, default=True)
    requires_jingka: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BenefitsMallChannelOffer(Base):
    __tablename__ = "benefits_mall_channel_offer"

    channel_id: Mapped[int] = mapped_column(
        ForeignKey("benefits_mall_channel.id", ondelete="CASCADE"), primary_key=True)
    offer_id: Mapped[int] = mapped_column(
        ForeignKey("benefits_mall_offer.id", ondelete="CASCADE"), primary_key=True, index=True)


class BenefitsMallAudience(Base):
    """Who may claim an offer or use a channel: the rows of one owner (``offer`` or
    ``channel``) with an ``org_id`` are OR-ed as org subtrees, those with a ``group_id`` as
    member groups; both kinds present means both must match; none means everyone."""

    __tablename__ = "benefits_mall_audience"
    __table_args__ = (
        CheckConstraint("(org_id IS NULL) <> (group_id IS NULL)", name="org_or_group"),
        Index("ix_benefits_mall_audience_owner", "owner_kind", "owner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(8))  # "offer" | "channel"
    owner_id: Mapped[int] = mapped_column(Integer)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("org.id", ondelete="CASCADE"))
    org_path: Mapped[str | None] = mapped_column(String(512))
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("member_group.id", ondelete="CASCADE"))


class CouponState(StrEnum):
    ISSUED = "issued"
    REDEEMED = "redeemed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class BenefitsMallCoupon(Base):
    """A claimed coupon. ``code`` is random (80 bits, Crockford base32), shown as text and QR.
    ``state`` changes only by conditional UPDATE on ``(id, state)``; ``version`` counts them."""

    __tablename__ = "benefits_mall_coupon"
    __table_args__ = (
        Index("ix_benefits_mall_coupon_member", "member_id", "state"),
        Index("ix_benefits_mall_coupon_expiry", "state", "expires_at"),
        Index("ix_benefits_mall_coupon_offer", "offer_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    offer_id: Mapped[int] = mapped_column(
        ForeignKey("benefits_mall_offer.id", ondelete="RESTRICT"))
    channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("benefits_mall_channel.id", ondelete="RESTRICT"), index=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("benefits_mall_merchant.id", ondelete="RESTRICT"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="RESTRICT"))
    org_path: Mapped[str] = mapped_column(String(512), index=True)  # the member's, at claim
    state: Mapped[str] = mapped_column(String(16), default=CouponState.ISSUED)
    version: Mapped[int] = mapped_column(Integer, default=1)
    points_spent: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redeemed_store_id: Mapped[int | None] = mapped_column(
        ForeignKey("benefits_mall_store.id", ondelete="SET NULL"))
    redeemed_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))

    offer: Mapped[BenefitsMallOffer] = relationship(lazy="joined")


class CouponEventKind(StrEnum):
    CLAIMED = "claimed"
    REDEEMED = "redeemed"
    UNDONE = "undone"  # a redemption undone within the window
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class BenefitsMallCouponEvent(Base):
    """Append-only: every change of a coupon (never updated or deleted). ``idempotency_key``
    is unique, so a retried redemption request finds its first event instead of acting
    twice. Settlement is built from these events (redeemed minus undone)."""

    __tablename__ = "benefits_mall_coupon_event"
    __table_args__ = (
        Index("ix_benefits_mall_coupon_event_merchant", "merchant_id", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    coupon_id: Mapped[int] = mapped_column(
        ForeignKey("benefits_mall_coupon.id", ondelete="RESTRICT"), index=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("benefits_mall_merchant.id", ondelete="RESTRICT"))
    offer_id: Mapped[int] = mapped_column(
        ForeignKey("benefits_mall_offer.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    store_id: Mapped[int | None] = mapped_column(
        ForeignKey("benefits_mall_store.id", ondelete="SET NULL"))
    amount: Mapped[Decimal] = mapped_column(Fen, default=Decimal("0.00"))  # subsidy, ± on undo
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class BenefitsMallQuotaUse(Base):
    """How much of one limit one member has used in one period: ``scope`` is ``offer:<id>`` or
    ``channel:<id>``, ``period`` ``all``, ``2026``, ``2026-11`` or ``2026-11-30``. Raised by
    ``INSERT … ON CONFLICT DO UPDATE … WHERE used < limit`` (atomic on both databases)."""

    __tablename__ = "benefits_mall_quota_use"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(24), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)


class BookingState(StrEnum):
    PENDING = "pending"  # holds one unit of the offer's stock until hold_until
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # by the member or the merchant: stock released
    EXPIRED = "expired"  # not confirmed in time: stock released


class BenefitsMallBooking(Base):
    """A member's booking of an exclusive service (offer kind ``service``)."""

    __tablename__ = "benefits_mall_booking"
    __table_args__ = (
        Index("ix_benefits_mall_booking_hold", "state", "hold_until"),
        Index("ix_benefits_mall_booking_merchant", "merchant_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    offer_id: Mapped[int] = mapped_column(
        ForeignKey("benefits_mall_offer.id", ondelete="RESTRICT"))
    #: The discount channel it was booked through (its quotas are held too), if any.
    channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("benefits_mall_channel.id", ondelete="RESTRICT"))
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("benefits_mall_merchant.id", ondelete="RESTRICT"))
    store_id: Mapped[int | None] = mapped_column(
        ForeignKey("benefits_mall_store.id", ondelete="SET NULL"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="RESTRICT"),
                                           index=True)
    org_path: Mapped[str] = mapped_column(String(512), index=True)
    service_date: Mapped[date] = mapped_column(Date)
    people: Mapped[int] = mapped_column(Integer, default=1)
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    state: Mapped[str] = mapped_column(String(16), default=BookingState.PENDING)
    hold_until: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(String(300))
    #: The member counters this booking raised, ``[[scope, period], …]``: released as recorded.
    quota_taken: Mapped[list[list[str]]] = mapped_column(JSON, default=list)

    offer: Mapped[BenefitsMallOffer] = relationship(lazy="joined")


class PointsKind(StrEnum):
    GRANT = "grant"
    SPEND = "spend"
    EXPIRE = "expire"
    REFUND = "refund"


class BenefitsMallPointsEntry(Base):
    """The welfare-points ledger: a member's balance is the SUM of their entries (grants and
    refunds positive, spending and expiry negative); there is no mutable balance. A grant
    carries its occasion, year, granting org and expiry date; ``batch_key`` is unique per
    member so a re-run grant or a retried spend is a no-op."""

    __tablename__ = "benefits_mall_points_entry"
    __table_args__ = (
        UniqueConstraint("member_id", "batch_key", name="uq_benefits_mall_points_batch"),
        Index("ix_benefits_mall_points_member", "member_id", "kind"),
        Index("ix_benefits_mall_points_org", "org_path", "year"),
        Index("ix_benefits_mall_points_expiry", "kind", "expires_on"),
        Index("ix_benefits_mall_points_grant", "grant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(8))
    points: Mapped[int] = mapped_column(Integer)  # signed
    occasion: Mapped[str | None] = mapped_column(String(24))
    year: Mapped[int] = mapped_column(Integer)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("org.id", ondelete="SET NULL"))
    org_path: Mapped[str] = mapped_column(String(512))  # granting union's (member's for spend)
    expires_on: Mapped[date | None] = mapped_column(Date)
    grant_id: Mapped[int | None] = mapped_column(
        ForeignKey("benefits_mall_points_entry.id", ondelete="RESTRICT"))  # expire → its grant
    coupon_id: Mapped[int | None] = mapped_column(
        ForeignKey("benefits_mall_coupon.id", ondelete="SET NULL"))
    batch_key: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BenefitsMallPointsRule(Base):
    """A union's cap for one occasion (节日 ``festival``, 生日 ``birthday`` …): at most
    ``per_grant`` points in one grant, ``per_member_occasion`` per member for the occasion in a
    year, and ``per_member_year`` per member over all occasions this union grants in a year.
    The rule of the nearest org up the tree applies."""

    __tablename__ = "benefits_mall_points_rule"
    __table_args__ = (UniqueConstraint("org_id", "occasion", name="uq_benefits_mall_points_rule"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id", ondelete="CASCADE"))
    occasion: Mapped[str] = mapped_column(String(24))
    per_grant: Mapped[int] = mapped_column(Integer)
    per_member_occasion: Mapped[int] = mapped_column(Integer)
    per_member_year: Mapped[int] = mapped_column(Integer)
    valid_months: Mapped[int] = mapped_column(Integer, default=12)


class SettlementStatus(StrEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"  # the merchant agreed the figures
    PAID = "paid"


class BenefitsMallSettlement(Base):
    """A merchant's settlement statement for a period, built from redemption events (every
    event in the period belongs to exactly one statement: ``settlement_id`` on the lines)."""

    __tablename__ = "benefits_mall_settlement"
    __table_args__ = (
        UniqueConstraint("merchant_id", "period_start", name="uq_benefits_mall_settlement"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("benefits_mall_merchant.id", ondelete="RESTRICT"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    redemptions: Mapped[int] = mapped_column(Integer, default=0)
    undone: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[Decimal] = mapped_column(Fen, default=Decimal("0.00"))
    status: Mapped[str] = mapped_column(String(16), default=SettlementStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))

    merchant: Mapped[BenefitsMallMerchant] = relationship(lazy="joined")


class BenefitsMallSettlementLine(Base):
    """One redemption event in a statement (the event is in at most one statement)."""

    __tablename__ = "benefits_mall_settlement_line"

    settlement_id: Mapped[int] = mapped_column(
        ForeignKey("benefits_mall_settlement.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("benefits_mall_coupon_event.id", ondelete="RESTRICT"), primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Fen)


MODELS: tuple[type, ...] = (
    BenefitsMallCategory, BenefitsMallMerchant, BenefitsMallStore, BenefitsMallStaff,
    BenefitsMallOffer, BenefitsMallOfferStore, BenefitsMallChannel, BenefitsMallChannelOffer,
    BenefitsMallAudience, BenefitsMallCoupon, BenefitsMallCouponEvent, BenefitsMallQuotaUse,
    BenefitsMallBooking, BenefitsMallPointsEntry, BenefitsMallPointsRule,
    BenefitsMallSettlement, BenefitsMallSettlementLine,
)
