"""Members and Jingka cards: creation, look-up by number, loss and replacement.

Numbers are looked up by keyed hash; clear values exist only in memory, for the one
request that needs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from unionhub import db
from unionhub.audit import service as audit
from unionhub.db import utcnow
from unionhub.identity.models import Account, CardStatus, JingkaCard, Member, MemberStatus
from unionhub.identity.numbers import (
    InvalidNumber,
    id_birth_date,
    id_sex,
    mask_card_number,
    mask_id_number,
    normalize_digits,
    validate_card_number,
    validate_id_number,
    validate_mobile,
)
from unionhub.orgs.models import Org
from unionhub.search import queue as search_queue
from unionhub.security.crypto import FieldCipher

#: The search document type of members (see unionhub.search.core_indexers).
MEMBER_DOC = "core.member"


class IdentityError(ValueError):
    """A refused identity change, with a message fit for the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def cipher() -> FieldCipher:
    return current_app.extensions["unionhub"].cipher


def jingka_bins() -> tuple[str, ...] | None:
    from unionhub.settings import service as settings

    raw = str(settings.get("core.jingka_bins") or "").replace("，", ",")
    bins = tuple(b.strip() for b in raw.split(",") if b.strip())
    return bins or None


def id_hash(id_number: str) -> str:
    return cipher().lookup_hash(id_number, "id")


def card_hash(card_number: str) -> str:
    return cipher().lookup_hash(card_number, "card")


@dataclass(frozen=True)
class CardLookup:
    member: Member
    card: JingkaCard

    @property
    def replaced(self) -> bool:
        return self.card.status == CardStatus.REPLACED

    @property
    def current_card(self) -> JingkaCard | None:
        return self.member.active_card


def identifier_kinds(raw: str) -> tuple[str, ...]:
    """What a typed identifier may be, most specific first: an 18-digit number can be an ID
    or a 18-digit card; 11 digits starting with 1 is a mobile."""
    digits = normalize_digits(raw).upper()
    if len(digits) == 11 and digits.isdigit() and digits.startswith("1"):
        return ("mobile",)
    kinds: list[str] = []
    if len(digits) == 18 and digits[:17].isdigit():
        kinds.append("id")
    if digits.isdigit() and 16 <= len(digits) <= 19:
        kinds.append("card")
    return tuple(kinds)


def find_by_card(number: str, session: Session | None = None) -> CardLookup | None:
    """Find the member holding (or having held) this card number."""
    try:
        number = validate_card_number(number, bins=None)
    except InvalidNumber:
        return None
    s = session or db.session()
    card = s.scalar(select(JingkaCard).where(JingkaCard.number_hash == card_hash(number)))
    return CardLookup(card.member, card) if card else None


def find_by_id_number(id_number: str, session: Session | None = None) -> Member | None:
    try:
        id_number = validate_id_number(id_number)
    except InvalidNumber:
        return None
    s = session or db.session()
    return s.scalar(select(Member).where(Member.id_number_hash == id_hash(id_number)))


def find_by_mobile(mobile: str, session: Session | None = None) -> list[Member]:
    try:
        mobile = validate_mobile(mobile)
    except InvalidNumber:
        return []
    s = session or db.session()
    return list(s.scalars(select(Member).where(Member.mobile == mobile)))


def reveal_id_number(member: Member) -> str:
    return cipher().decrypt(member.id_number_enc)


def reveal_card_number(card: JingkaCard) -> str:
    return cipher().decrypt(card.number_enc)


def create_member(
    session: Session,
    *,
    name: str,
    id_number: str,
    org: Org,
    mobile: str | None = None,
    joined_on: date | None = None,
    status: str = MemberStatus.ACTIVE,
    card_number: str | None = None,
    with_account: bool = True,
) -> Member:
    name = name.strip()
    if not name:
        raise IdentityError("姓名不能为空", "name")
    try:
        id_number = validate_id_number(id_number)
        mobile = validate_mobile(mobile) if mobile else None
    except InvalidNumber as exc:
        raise IdentityError(f"{exc.reason}", exc.field) from exc
    if find_by_id_number(id_number, session):
        raise IdentityError("该身份证号已登记为会员", "id_number")
    c = cipher()
    member = Member(
        name=name,
        sex=id_sex(id_number),
        id_number_enc=c.encrypt(id_number),
        id_number_hash=c.lookup_hash(id_number, "id"),
        id_number_masked=mask_id_number(id_number),
        birth_date=id_birth_date(id_number),
        mobile=mobile,
        org=org,
        status=status,
        joined_on=joined_on,
    )
    session.add(member)
    session.flush()
    if card_number:
        issue_card(session, member, card_number, audit_it=False)
    if with_account:
        session.add(Account(member=member, display_name=name))
    audit.record("member.create", target_type="member", target_id=member.id,
                 org_path=org.path, details={"id": member.id_number_masked}, session=session)
    search_queue.enqueue(session, MEMBER_DOC, [member.id])
    return member


def _checked_number(session: Session, number: str) -> tuple[str, str]:
    """Validate a new card number; returns (number, keyed hash) or raises IdentityError."""
    try:
        number = validate_card_number(number, bins=jingka_bins())
    except InvalidNumber as exc:
        raise IdentityError(exc.reason, "card_number") from exc
    h = card_hash(number)
    if session.scalar(select(JingkaCard.id).where(JingkaCard.number_hash == h)):
        # A number is never reused, not even for the same member.
        raise IdentityError("该京卡卡号已被使用过，不能再次登记", "card_number")
    return number, h


def _new_card(session: Session, member: Member, number: str, h: str) -> JingkaCard:
    card = JingkaCard(
        member=member,
        number_enc=cipher().encrypt(number),
        number_hash=h,
        number_masked=mask_card_number(number),
        status=CardStatus.ACTIVE,
        issued_on=date.today(),
    )
    session.add(card)
    return card


def issue_card(session: Session, member: Member, number: str, *, audit_it: bool = True
               ) -> JingkaCard:
    if member.active_card is not None:
        raise IdentityError("该会员已有一张正常状态的京卡，请走补卡流程", "card_number")
    card = _new_card(session, member, *_checked_number(session, number))
    session.flush()
    if audit_it:
        audit.record("card.issue", target_type="member", target_id=member.id,
                     org_path=member.org.path, details={"card": card.number_masked},
                     session=session)
    return card


def _transition(session: Session, card: JingkaCard, allowed: tuple[str, ...], new: str
                ) -> None:
    """Move a card to ``new`` only if it is still in one of ``allowed`` states: one
    conditional UPDATE, so two officers acting at once cannot both succeed."""
    result = session.execute(
        update(JingkaCard)
        .where(JingkaCard.id == card.id, JingkaCard.status.in_(allowed))
        .values(status=new, status_changed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(card)
        raise IdentityError(f"该卡状态已变为「{card.status_label}」，请刷新后重试")
    session.refresh(card)


def report_lost(session: Session, card: JingkaCard) -> JingkaCard:
    if card.status != CardStatus.ACTIVE:
        raise IdentityError(f"该卡状态为「{card.status_label}」，不能挂失")
    _transition(session, card, (CardStatus.ACTIVE,), CardStatus.LOST)
    audit.record("card.report_lost", target_type="member", target_id=card.member_id,
                 org_path=card.member.org.path, details={"card": card.number_masked},
                 session=session)
    return card


def replace_card(session: Session, old: JingkaCard, new_number: str) -> JingkaCard:
    """挂失补卡: the old number is retired for good; the member, their history, account and
    pending payouts follow the new card (everything is keyed on the member)."""
    if old.status not in (CardStatus.ACTIVE, CardStatus.LOST):
        raise IdentityError(f"该卡状态为「{old.status_label}」，不能补卡")
    member = old.member
    checked = _checked_number(session, new_number)
    # Frees the one-active-card slot before the new card is inserted.
    _transition(session, old, (CardStatus.ACTIVE, CardStatus.LOST), CardStatus.REPLACED)
    new = _new_card(session, member, *checked)
    session.flush()
    old.replaced_by = new
    audit.record("card.replace", target_type="member", target_id=member.id,
                 org_path=member.org.path,
                 details={"old": old.number_masked, "new": new.number_masked}, session=session)
    return new
