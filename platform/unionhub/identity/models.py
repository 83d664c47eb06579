"""Members, their Jingka cards and their sign-in accounts.

ID and card numbers are never stored in clear: ``*_enc`` holds the AES-GCM ciphertext,
``*_hash`` a keyed HMAC for look-ups and uniqueness, ``*_masked`` the display form.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from unionhub.db import Base, UTCDateTime, utcnow
from unionhub.orgs.models import Org


class MemberStatus(StrEnum):
    ACTIVE = "active"  # 在会
    TRANSFERRED = "transferred"  # 转出
    LEFT = "left"  # 退会


MEMBER_STATUS_LABELS = {"active": "在会", "transferred": "转出", "left": "退会"}


class CardStatus(StrEnum):
    ACTIVE = "active"  # 正常
    LOST = "lost"  # 挂失
    REPLACED = "replaced"  # 已补卡换号
    CLOSED = "closed"  # 注销


CARD_STATUS_LABELS = {"active": "正常", "lost": "已挂失", "replaced": "已换卡", "closed": "注销"}


class Member(Base):
    __tablename__ = "member"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(1))
    id_number_enc: Mapped[str] = mapped_column(String(120))
    id_number_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_number_masked: Mapped[str] = mapped_column(String(18))
    birth_date: Mapped[date] = mapped_column(Date)
    mobile: Mapped[str | None] = mapped_column(String(11), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=MemberStatus.ACTIVE)
    joined_on: Mapped[date | None] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    org: Mapped[Org] = relationship(lazy="joined")
    cards: Mapped[list[JingkaCard]] = relationship(
        back_populates="member", order_by="JingkaCard.id", foreign_keys="JingkaCard.member_id"
    )

    @property
    def active_card(self) -> JingkaCard | None:
        return next((c for c in self.cards if c.status == CardStatus.ACTIVE), None)

    @property
    def status_label(self) -> str:
        return MEMBER_STATUS_LABELS.get(self.status, self.status)


class JingkaCard(Base):
    __tablename__ = "jingka_card"
    __table_args__ = (
        # One active card per member, enforced by the database on SQLite and PostgreSQL.
        Index(
            "uq_jingka_card_one_active",
            "member_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), index=True
    )
    number_enc: Mapped[str] = mapped_column(String(120))
    #: Unique for ever: a number never belongs to two members and is never reused.
    number_hash: Mapped[str] = mapped_column(String(64), unique=True)
    number_masked: Mapped[str] = mapped_column(String(19))
    status: Mapped[str] = mapped_column(String(16), default=CardStatus.ACTIVE)
    issued_on: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    replaced_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("jingka_card.id", ondelete="SET NULL")
    )
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship(back_populates="cards", foreign_keys=[member_id])
    replaced_by: Mapped[JingkaCard | None] = relationship(remote_side=[id])

    @property
    def status_label(self) -> str:
        return CARD_STATUS_LABELS.get(self.status, self.status)


class Account(Base):
    """How a person signs in. Members sign in with card, mobile or ID number; officers and
    admins may also have a username. ``password_hash`` is NULL until the first sign-in."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), unique=True
    )
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Bumped on password change and sign-out everywhere; part of the session id.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locale: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member | None] = relationship(lazy="joined")

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class LoginThrottle(Base):
    """Failed sign-ins per identifier (keyed hash) — also for identifiers that match no
    account, so lock-out does not reveal which identifiers exist."""

    __tablename__ = "login_throttle"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
