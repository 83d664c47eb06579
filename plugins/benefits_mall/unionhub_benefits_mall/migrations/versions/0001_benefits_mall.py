"""welfare mall tables

Revision ID: benefits_mall_0001
Revises:
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import unionhub.db
import unionhub.money

# The 16 categories as they were at this revision (a copy: later edits of the code must not
# change what this migration inserted).
CATEGORIES = (
    ("medical", "医疗健康", "🏥"), ("travel", "旅游出行", "🧳"), ("leisure", "休闲娱乐", "🎭"),
    ("fitness", "运动健身", "🏋"), ("shopping", "购物百货", "🛍"), ("lodging", "酒店住宿", "🏨"),
    ("ticketing", "票务演出", "🎫"), ("wedding", "婚恋婚庆", "💍"),
    ("home_repair", "家电燃气维修", "🔧"), ("dining", "餐饮美食", "🍜"),
    ("education", "教育培训", "📚"), ("childcare", "母婴托育", "🍼"),
    ("elderly", "养老照护", "🧓"), ("housekeeping", "家政服务", "🧹"),
    ("auto", "汽车服务", "🚗"), ("finance", "金融保险", "🏦"),
)

revision: str = "benefits_mall_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "benefits_mall_category",
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("icon", sa.String(length=8), nullable=False),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_benefits_mall_category")),
    )
    op.create_table(
        "benefits_mall_audience",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_kind", sa.String(length=8), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("org_path", sa.String(length=512), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(org_id IS NULL) <> (group_id IS NULL)",
            name=op.f("ck_benefits_mall_audience_org_or_group"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["member_group.id"],
            name=op.f("fk_benefits_mall_audience_group_id_member_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["org.id"],
            name=op.f("fk_benefits_mall_audience_org_id_org"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefits_mall_audience")),
    )
    op.create_index(
        "ix_benefits_mall_audience_owner",
        "benefits_mall_audience",
        ["owner_kind", "owner_id"],
        unique=False,
    )
    op.create_table(
        "benefits_mall_merchant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category_code", sa.String(length=24), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("contact_name", sa.String(length=100), nullable=False),
        sa.Column("contact_phone", sa.String(length=40), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=True),
        sa.Column("settlement_bank", sa.String(length=100), nullable=True),
        sa.Column("settlement_account_name", sa.String(length=200), nullable=True),
        sa.Column("settlement_account_enc", sa.String(length=200), nullable=True),
        sa.Column("settlement_account_masked", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["benefits_mall_category.code"],
            name=op.f("fk_benefits_mall_merchant_category_code_benefits_mall_category"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefits_mall_merchant")),
        sa.UniqueConstraint("name", name=op.f("uq_benefits_mall_merchant_name")),
    )
    op.create_index(
        op.f("ix_benefits_mall_merchant_category_code"),
        "benefits_mall_merchant",
        ["category_code"],
        unique=False,
    )
    op.create_table(
        "benefits_mall_points_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("occasion", sa.String(length=24), nullable=False),
        sa.Column("per_grant", sa.Integer(), nullable=False),
        sa.Column("per_member_occasion", sa.Integer(), nullable=False),
        sa.Column("per_member_year", sa.Integer(), nullable=False),
        sa.Column("valid_months", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["org.id"],
            name=op.f("fk_benefits_mall_points_rule_org_id_org"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefits_mall_points_rule")),
        sa.UniqueConstraint("org_id", "occasion", name="uq_benefits_mall_points_rule"),
    )
    op.create_table(
        "benefits_mall_quota_use",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=24), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_benefits_mall_quota_use_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "member_id", "scope", "period", name=op.f("pk_benefits_mall_quota_use")
        ),
    )
    op.create_table(
        "benefits_mall_store",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("district", sa.String(length=40), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("hours", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["benefits_mall_merchant.id"],
            name=op.f("fk_benefits_mall_store_merchant_id_benefits_mall_merchant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefits_mall_store")),
    )
    op.create_index(
        op.f("ix_benefits_mall_store_merchant_id"),
        "benefits_mall_store",
        ["merchant_id"],
        unique=False,
    )
    op.create_table(
        "benefits_mall_channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("org_path", sa.String(length=512), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("total_quota", sa.Integer(), nullable=True),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("per_member_quota", sa.Integer(), nullable=True),
        sa.Column("per_member_period", sa.String(length=8), nullable=False),
        sa.Column("requires_active_member", sa.Boolean(), nullable=False),
        sa.Column("requires_jingka", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "total_quota IS NULL OR issued <= total_quota",
            name=op.f("ck_benefits_mall_channel_issued_within_quota"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["account.id"],
            name=op.f("fk_benefits_mall_channel_created_by_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["org.id"],
            name=op.f("fk_benefits_mall_channel_org_id_org"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefits_mall_channel")),
    )
    op.create_index(
        op.f("ix_benefits_mall_channel_org_id"), "benefits_mall_channel", ["org_id"], unique=False
    )
    op.create_index(
        op.f("ix_benefits_mall_channel_org_path"),
        "benefits_mall_channel",
        ["org_path"],
        unique=False,
    )
    op.create_table(
        "benefits_mall_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price", unionhub.money.Fen(), nullable=True),
        sa.Column("member_price", unionhub.money.Fen(), nullable=True),
        sa.Column("subsidy", unionhub.money.Fen(), nullable=False),
        sa.Column("points_price", sa.Integer(), nullable=True),
        sa.Column("images", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("coupon_valid_days", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("per_member_limit", sa.Integer(), nullable=True),
        sa.Column("per_member_period", sa.String(length=8), nullable=False),
        sa.Column("requires_active_member", sa.Boolean(), nullable=False),
        sa.Column("requires_jingka", sa.Boolean(), nullable=False),
        sa.Column("booking_hold_minutes", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("review_note", sa.String(length=500), nullable=True),
        sa.Column("proposed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("view_count", sa.Integer(), nullable=False),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("issued >= 0", name=op.f("ck_benefits_mall_offer_issued_not_negative")),
        sa.CheckConstraint(
            "stock IS NULL OR issued <= stock",
            name=op.f("ck_benefits_mall_offer_issued_within_stock"),
        ),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["benefits_mall_category.code"],
            name=op.f("fk_benefits_mall_offer_category_code_benefits_mall_category"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["benefits_mall_merchant.id"],
            name=op.f("fk_benefits_mall_offer_merchant_id_benefits_mall_merchant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by"],
            ["account.id"],
            name=op.f("fk_benefits_mall_offer_proposed_by_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"],
            ["account.id"],
            name=op.f("fk_benefits_mall_offer_reviewed_by_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefits_mall_offer")),
    )
    op.create_index(
        "ix_benefits_mall_offer_listing",
        "benefits_mall_offer",
        ["status", "category_code", "valid_until"],
        unique=False,
    )
    op.create_index(
        op.f("ix_benefits_mall_offer_merchant_id"),
        "benefits_mall_offer",
        ["merchant_id"],
        unique=False,
    )
    op.create_table(
        "benefits_mall_settlement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("redemptions", sa.Integer(), nullable=False),
        sa.Column("undone", sa.Integer(), nullable=False),
        sa.Column("amount", unionhub.money.Fen(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["account.id"],
            name=op.f("fk_benefits_mall_settlement_created_by_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["benefits_mall_merchant.id"],
            name=op.f("fk_benefits_mall_settlement_merchant_id_benefits_mall_merchant"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefits_mall_settlement")),
        sa.UniqueConstraint("merchant_id", "period_start", name="uq_benefits_mall_settlement"),
    )
    op.create_table(
        "benefits_mall_staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_benefits_mall_staff_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["benefits_mall_merchant.id"],
            name=op.f("fk_benefits_mall_staff_merchant_id_benefits_mall_merchant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["benefits_mall_store.id"],
            name=op.f("fk_benefits_mall_staff_store_id_benefits_mall_store"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefits_mall_staff")),
        sa.UniqueConstraint("account_id", name=op.f("uq_benefits_mall_staff_account_id")),
    )
    op.create_index(
        op.f("ix_benefits_mall_staff_merchant_id"),
        "benefits_mall_staff",
        ["merchant_id"],
        unique=False,
    )
    op.create_table(
        "benefits_mall_booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("org_path", sa.String(length=512), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("contact_phone", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("hold_until", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("quota_taken", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["benefits_mall_channel.id"],
            name=op.f("fk_benefits_mall_booking_channel_id_benefits_mall_channel"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["account.id"],
            name=op.f("fk_benefits_mall_booking_decided_by_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_benefits_mall_booking_member_id_member"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["benefits_mall_merchant.id"],
            name=op.f("fk_benefits_mall_booking_merchant_id_benefits_mall_merchant"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["benefits_mall_offer.id"],
            name=op.f("fk_benefits_mall_booking_offer_id_benefits_mall_offer"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["benefits_mall_store.id"],
            name=op.f("fk_benefits_mall_booking_store_id_benefits_mall_store"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefits_mall_booking")),
        sa.UniqueConstraint("number", name=op.f("uq_benefits_mall_booking_number")),
    )
    op.create_index(
        "ix_benefits_mall_booking_hold",
        "benefits_mall_booking",
        ["state", "hold_until"],
        unique=False,
    )
    op.create_index(
        op.f("ix_benefits_mall_booking_member_id"),
        "benefits_mall_booking",
        ["member_id"],
        unique=False,
    )
    op.create_index(
        "ix_benefits_mall_booking_merchant",
        "benefits_mall_booking",
        ["merchant_id", "state"],
        unique=False,
    )
    op.create_index(
        op.f("ix_benefits_mall_booking_org_path"),
        "benefits_mall_booking",
        ["org_path"],
        unique=False,
    )
    op.create_table(
        "benefits_mall_channel_offer",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["benefits_mall_channel.id"],
            name=op.f("fk_benefits_mall_channel_offer_channel_id_benefits_mall_channel"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["benefits_mall_offer.id"],
            name=op.f("fk_benefits_mall_channel_offer_offer_id_benefits_mall_offer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "channel_id", "offer_id", name=op.f("pk_benefits_mall_channel_offer")
        ),
    )
    op.create_index(
        op.f("ix_benefits_mall_channel_offer_offer_id"),
        "benefits_mall_channel_offer",
        ["offer_id"],
        unique=False,
    )
    op.create_table(
        "benefits_mall_coupon",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("org_path", sa.String(length=512), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("points_spent", sa.Integer(), nullable=False),
        sa.Column("claimed_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("redeemed_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("redeemed_store_id", sa.Integer(), nullable=True),
        sa.Column("redeemed_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["benefits_mall_channel.id"],
            name=op.f("fk_benefits_mall_coupon_channel_id_benefits_mall_channel"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_benefits_mall_coupon_member_id_member"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["benefits_mall_merchant.id"],
            name=op.f("fk_benefits_mall_coupon_merchant_id_benefits_mall_merchant"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["benefits_mall_offer.id"],
            name=op.f("fk_benefits_mall_coupon_offer_id_benefits_mall_offer"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["redeemed_by"],
            ["account.id"],
            name=op.f("fk_benefits_mall_coupon_redeemed_by_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["redeemed_store_id"],
            ["benefits_mall_store.id"],
            name=op.f("fk_benefits_mall_coupon_redeemed_store_id_benefits_mall_store"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefits_mall_coupon")),
        sa.UniqueConstraint("code", name=op.f("uq_benefits_mall_coupon_code")),
    )
    op.create_index(
        op.f("ix_benefits_mall_coupon_channel_id"),
        "benefits_mall_coupon",
        ["channel_id"],
        unique=False,
    )
    op.create_index(
        "ix_benefits_mall_coupon_expiry",
        "benefits_mall_coupon",
        ["state", "expires_at"],
        unique=False,
    )
    op.create_index(
        "ix_benefits_mall_coupon_member",
        "benefits_mall_coupon",
        ["member_id", "state"],
        unique=False,
    )
    op.create_index(
        op.f("ix_benefits_mall_coupon_merchant_id"),
        "benefits_mall_coupon",
        ["merchant_id"],
        unique=False,
    )
    op.create_index(
        "ix_benefits_mall_coupon_offer", "benefits_mall_coupon", ["offer_id", "state"], unique=False
    )
    op.create_index(
        op.f("ix_benefits_mall_coupon_org_path"), "benefits_mall_coupon", ["org_path"], unique=False
    )
    op.create_table(
        "benefits_mall_offer_store",
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["benefits_mall_offer.id"],
            name=op.f("fk_benefits_mall_offer_store_offer_id_benefits_mall_offer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["benefits_mall_store.id"],
            name=op.f("fk_benefits_mall_offer_store_store_id_benefits_mall_store"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("offer_id", "store_id", name=op.f("pk_benefits_mall_offer_store")),
    )
    op.create_table(
        "benefits_mall_coupon_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coupon_id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("amount", unionhub.money.Fen(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_benefits_mall_coupon_event_account_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["coupon_id"],
            ["benefits_mall_coupon.id"],
            name=op.f("fk_benefits_mall_coupon_event_coupon_id_benefits_mall_coupon"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["benefits_mall_merchant.id"],
            name=op.f("fk_benefits_mall_coupon_event_merchant_id_benefits_mall_merchant"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["benefits_mall_offer.id"],
            name=op.f("fk_benefits_mall_coupon_event_offer_id_benefits_mall_offer"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["benefits_mall_store.id"],
            name=op.f("fk_benefits_mall_coupon_event_store_id_benefits_mall_store"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefits_mall_coupon_event")),
        sa.UniqueConstraint(
            "idempotency_key", name=op.f("uq_benefits_mall_coupon_event_idempotency_key")
        ),
    )
    op.create_index(
        op.f("ix_benefits_mall_coupon_event_coupon_id"),
        "benefits_mall_coupon_event",
        ["coupon_id"],
        unique=False,
    )
    op.create_index(
        "ix_benefits_mall_coupon_event_merchant",
        "benefits_mall_coupon_event",
        ["merchant_id", "kind", "at"],
        unique=False,
    )
    op.create_table(
        "benefits_mall_points_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("occasion", sa.String(length=24), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("org_path", sa.String(length=512), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("coupon_id", sa.Integer(), nullable=True),
        sa.Column("batch_key", sa.String(length=80), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["coupon_id"],
            ["benefits_mall_coupon.id"],
            name=op.f("fk_benefits_mall_points_entry_coupon_id_benefits_mall_coupon"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["account.id"],
            name=op.f("fk_benefits_mall_points_entry_created_by_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["benefits_mall_points_entry.id"],
            name=op.f("fk_benefits_mall_points_entry_grant_id_benefits_mall_points_entry"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_benefits_mall_points_entry_member_id_member"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["org.id"],
            name=op.f("fk_benefits_mall_points_entry_org_id_org"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefits_mall_points_entry")),
        sa.UniqueConstraint("member_id", "batch_key", name="uq_benefits_mall_points_batch"),
    )
    op.create_index(
        "ix_benefits_mall_points_member",
        "benefits_mall_points_entry",
        ["member_id", "kind"],
        unique=False,
    )
    op.create_index(
        "ix_benefits_mall_points_expiry",
        "benefits_mall_points_entry",
        ["kind", "expires_on"],
        unique=False,
    )
    op.create_index(
        "ix_benefits_mall_points_grant", "benefits_mall_points_entry", ["grant_id"], unique=False
    )
    op.create_index(
        "ix_benefits_mall_points_org",
        "benefits_mall_points_entry",
        ["org_path", "year"],
        unique=False,
    )
    op.create_table(
        "benefits_mall_settlement_line",
        sa.Column("settlement_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("amount", unionhub.money.Fen(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["benefits_mall_coupon_event.id"],
            name=op.f("fk_benefits_mall_settlement_line_event_id_benefits_mall_coupon_event"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["benefits_mall_settlement.id"],
            name=op.f("fk_benefits_mall_settlement_line_settlement_id_benefits_mall_settlement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_benefits_mall_settlement_line")),
    )
    op.create_index(
        op.f("ix_benefits_mall_settlement_line_settlement_id"),
        "benefits_mall_settlement_line",
        ["settlement_id"],
        unique=False,
    )

    category = sa.table("benefits_mall_category", sa.column("code", sa.String),
                        sa.column("name", sa.String), sa.column("icon", sa.String),
                        sa.column("sort", sa.Integer))
    op.bulk_insert(category, [{"code": c, "name": n, "icon": i, "sort": k}
                              for k, (c, n, i) in enumerate(CATEGORIES)])


def downgrade() -> None:
    op.drop_index(
        op.f("ix_benefits_mall_settlement_line_settlement_id"),
        table_name="benefits_mall_settlement_line",
    )
    op.drop_table("benefits_mall_settlement_line")
    op.drop_index("ix_benefits_mall_points_org", table_name="benefits_mall_points_entry")
    op.drop_index("ix_benefits_mall_points_grant", table_name="benefits_mall_points_entry")
    op.drop_index("ix_benefits_mall_points_expiry", table_name="benefits_mall_points_entry")
    op.drop_index("ix_benefits_mall_points_member", table_name="benefits_mall_points_entry")
    op.drop_table("benefits_mall_points_entry")
    op.drop_index("ix_benefits_mall_coupon_event_merchant", table_name="benefits_mall_coupon_event")
    op.drop_index(
        op.f("ix_benefits_mall_coupon_event_coupon_id"), table_name="benefits_mall_coupon_event"
    )
    op.drop_table("benefits_mall_coupon_event")
    op.drop_table("benefits_mall_offer_store")
    op.drop_index(op.f("ix_benefits_mall_coupon_org_path"), table_name="benefits_mall_coupon")
    op.drop_index("ix_benefits_mall_coupon_offer", table_name="benefits_mall_coupon")
    op.drop_index(op.f("ix_benefits_mall_coupon_merchant_id"), table_name="benefits_mall_coupon")
    op.drop_index("ix_benefits_mall_coupon_member", table_name="benefits_mall_coupon")
    op.drop_index("ix_benefits_mall_coupon_expiry", table_name="benefits_mall_coupon")
    op.drop_index(op.f("ix_benefits_mall_coupon_channel_id"), table_name="benefits_mall_coupon")
    op.drop_table("benefits_mall_coupon")
    op.drop_index(
        op.f("ix_benefits_mall_channel_offer_offer_id"), table_name="benefits_mall_channel_offer"
    )
    op.drop_table("benefits_mall_channel_offer")
    op.drop_index(op.f("ix_benefits_mall_booking_org_path"), table_name="benefits_mall_booking")
    op.drop_index("ix_benefits_mall_booking_merchant", table_name="benefits_mall_booking")
    op.drop_index(op.f("ix_benefits_mall_booking_member_id"), table_name="benefits_mall_booking")
    op.drop_index("ix_benefits_mall_booking_hold", table_name="benefits_mall_booking")
    op.drop_table("benefits_mall_booking")
    op.drop_index(op.f("ix_benefits_mall_staff_merchant_id"), table_name="benefits_mall_staff")
    op.drop_table("benefits_mall_staff")
    op.drop_table("benefits_mall_settlement")
    op.drop_index(op.f("ix_benefits_mall_offer_merchant_id"), table_name="benefits_mall_offer")
    op.drop_index("ix_benefits_mall_offer_listing", table_name="benefits_mall_offer")
    op.drop_table("benefits_mall_offer")
    op.drop_index(op.f("ix_benefits_mall_channel_org_path"), table_name="benefits_mall_channel")
    op.drop_index(op.f("ix_benefits_mall_channel_org_id"), table_name="benefits_mall_channel")
    op.drop_table("benefits_mall_channel")
    op.drop_index(op.f("ix_benefits_mall_store_merchant_id"), table_name="benefits_mall_store")
    op.drop_table("benefits_mall_store")
    op.drop_table("benefits_mall_quota_use")
    op.drop_table("benefits_mall_points_rule")
    op.drop_index(
        op.f("ix_benefits_mall_merchant_category_code"), table_name="benefits_mall_merchant"
    )
    op.drop_table("benefits_mall_merchant")
    op.drop_index("ix_benefits_mall_audience_owner", table_name="benefits_mall_audience")
    op.drop_table("benefits_mall_audience")
    op.drop_table("benefits_mall_category")
