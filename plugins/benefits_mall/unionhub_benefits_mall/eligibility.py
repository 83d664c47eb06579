"""Who may claim what: one rule for listings (as SQL) and for claiming and booking (checked again
at that moment, in the same transaction — never only when listing).

An offer or channel is open to a member when

* it is live: approved (offers) or active (channels), its merchant active, today within its
  validity;
* the member is active, when ``requires_active_member``; holds an active Jingka, when
  ``requires_jingka``;
* its audience matches (:class:`~.models.BenefitsMallAudience`): with org rows, the member's org
  lies in one of those subtrees; with group rows, the member is in one of those groups; no rows
  of a kind means no restriction of that kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, exists, false, literal, not_, or_, select, true
from sqlalchemy.orm import Session

from unionhub.groups.service import groups_of
from unionhub.identity.models import CardStatus, JingkaCard, Member, MemberStatus

from .models import (
    BenefitsMallAudience,
    BenefitsMallChannel,
    BenefitsMallChannelOffer,
    BenefitsMallMerchant,
    BenefitsMallOffer,
    MerchantStatus,
    OfferStatus,
)

PERIODS = {"all": "不限期", "year": "每年", "month": "每月", "day": "每天"}


def period_key(period: str, today: date) -> str:
    """The counter period a claim on ``today`` falls in (``all``, ``2026``, ``2026-11``,
    ``2026-11-30``)."""
    if period == "all":
        return "all"
    if period == "year":
        return f"{today.year}"
    if period == "month":
        return f"{today:%Y-%m}"
    if period == "day":
        return today.isoformat()
    raise ValueError(f"unknown period {period!r}")


@dataclass(frozen=True)
class Viewer:
    """What eligibility needs to know about a member (loaded once per request)."""

    member_id: int
    org_path: str
    active: bool
    has_jingka: bool
    groups: frozenset[int]

    @classmethod
    def of(cls, session: Session, member: Member) -> Viewer:
        has_card = session.scalar(select(exists().where(
            JingkaCard.member_id == member.id, JingkaCard.status == CardStatus.ACTIVE)))
        return cls(member.id, member.org.path, member.status == MemberStatus.ACTIVE,
                   bool(has_card), frozenset(groups_of(session, member.id)))


def _rows(kind: str, owner_id: ColumnElement[int], *criteria: ColumnElement[bool]
          ) -> ColumnElement[bool]:
    return exists(select(BenefitsMallAudience.id).where(
        BenefitsMallAudience.owner_kind == kind, BenefitsMallAudience.owner_id == owner_id,
        *criteria))


def audience_clause(kind: str, owner_id: ColumnElement[int], viewer: Viewer | None
                    ) -> ColumnElement[bool]:
    """True for offers/channels (``kind``) whose audience includes ``viewer``; for ``None``
    (an anonymous visitor) only those with no audience restriction at all."""
    has_orgs = _rows(kind, owner_id, BenefitsMallAudience.org_id.is_not(None))
    has_groups = _rows(kind, owner_id, BenefitsMallAudience.group_id.is_not(None))
    if viewer is None:
        return and_(not_(has_orgs), not_(has_groups))
    org_ok = or_(not_(has_orgs), _rows(
        kind, owner_id, literal(viewer.org_path).like(BenefitsMallAudience.org_path + "%")))
    group_ok = or_(not_(has_groups), _rows(
        kind, owner_id, BenefitsMallAudience.group_id.in_(sorted(viewer.groups)))
        if viewer.groups else false())
    return and_(org_ok, group_ok)


def _member_clause(requires_active: ColumnElement[bool], requires_jingka: ColumnElement[bool],
                   viewer: Viewer | None) -> ColumnElement[bool]:
    if viewer is None:
        return true()
    return and_(or_(not_(requires_active), literal(viewer.active)),
                or_(not_(requires_jingka), literal(viewer.has_jingka)))


def live_offer_clause(today: date) -> ColumnElement[bool]:
    """Approved, within validity, merchant active (join-free: a correlated EXISTS)."""
    return and_(
        BenefitsMallOffer.status == OfferStatus.APPROVED,
        BenefitsMallOffer.valid_from <= today, BenefitsMallOffer.valid_until >= today,
        exists(select(BenefitsMallMerchant.id).where(
            BenefitsMallMerchant.id == BenefitsMallOffer.merchant_id,
            BenefitsMallMerchant.status == MerchantStatus.ACTIVE)))


def offer_clause(viewer: Viewer | None, today: date) -> ColumnElement[bool]:
    """Offers ``viewer`` may see and claim today (as a WHERE clause on ``BenefitsMallOffer``)."""
    return and_(live_offer_clause(today),
                _member_clause(BenefitsMallOffer.requires_active_member,
                               BenefitsMallOffer.requires_jingka, viewer),
                audience_clause("offer", BenefitsMallOffer.id, viewer))


def channel_clause(viewer: Viewer | None, today: date) -> ColumnElement[bool]:
    """Channels ``viewer`` may use today (as a WHERE clause on ``BenefitsMallChannel``): a
    channel is for members of its owning union's subtree, whatever its audience rows say."""
    within_owner = (literal(viewer.org_path).like(BenefitsMallChannel.org_path + "%")
                    if viewer is not None else true())
    return and_(BenefitsMallChannel.active.is_(True), within_owner,
                BenefitsMallChannel.valid_from <= today, BenefitsMallChannel.valid_until >= today,
                _member_clause(BenefitsMallChannel.requires_active_member,
                               BenefitsMallChannel.requires_jingka, viewer),
                audience_clause("channel", BenefitsMallChannel.id, viewer))


def refusal(session: Session, viewer: Viewer, offer: BenefitsMallOffer, today: date,
            channel: BenefitsMallChannel | None = None) -> str | None:
    """Why ``viewer`` may not claim or book ``offer`` (through ``channel``) today, in words a
    member understands, or ``None`` when they may. Quotas and stock are not checked here: they
    are decided by the conditional updates of the claim itself."""
    if offer.merchant.status != MerchantStatus.ACTIVE:
        return "该商户已暂停合作"
    if offer.status != OfferStatus.APPROVED:
        return "该优惠未上架"
    if today < offer.valid_from:
        return f"该优惠 {offer.valid_from:%Y-%m-%d} 起可领取"
    if today > offer.valid_until:
        return "该优惠已过期"
    why = _member_refusal(viewer, offer.requires_active_member, offer.requires_jingka)
    if why:
        return why
    if not session.scalar(select(audience_clause("offer", literal(offer.id), viewer))):
        return "该优惠仅面向指定工会或会员群体"
    if channel is None:
        return None
    if not session.scalar(select(exists().where(
            BenefitsMallChannelOffer.channel_id == channel.id,
            BenefitsMallChannelOffer.offer_id == offer.id))):
        return "该优惠不属于这个优惠通道"
    if not channel.active:
        return "该优惠通道已关闭"
    if not channel.valid_from <= today <= channel.valid_until:
        return "不在该优惠通道的开放期内"
    why = _member_refusal(viewer, channel.requires_active_member, channel.requires_jingka)
    if why:
        return why
    if not viewer.org_path.startswith(channel.org_path) or not session.scalar(
            select(audience_clause("channel", literal(channel.id), viewer))):
        return "该优惠通道仅面向指定工会或会员群体"
    return None


def _member_refusal(viewer: Viewer, requires_active: bool, requires_jingka: bool) -> str | None:
    if requires_active and not viewer.active:
        return "仅限在册会员领取"
    if requires_jingka and not viewer.has_jingka:
        return "仅限持有效京卡的会员领取"
    return None

