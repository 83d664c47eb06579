"""The welfare mall's Jingka discounts for other plugins (the portal's 京卡优惠 section):
:class:`~unionhub.offers.OfferProvider` ``jingka``, filtered for the viewer by the same SQL
rule as the mall's own listing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import has_request_context, url_for

from unionhub import db
from unionhub.i18n import _
from unionhub.money import fmt
from unionhub.offers import OfferCard, OfferProvider

from ..models import BenefitsMallOffer, OfferKind
from . import service


def offer_url(offer_id: int) -> str:
    if has_request_context():
        return url_for("benefits_mall.offer", offer_id=offer_id)
    return f"/benefits_mall/offers/{offer_id}"


def image_url(name: str) -> str:
    if has_request_context():
        return url_for("benefits_mall.offer_image", name=name)
    return f"/benefits_mall/images/{name}"


def tags(offer: BenefitsMallOffer, *, kind: bool = True) -> tuple[str, ...]:
    """Short badges for a listing (``kind``: include "专属服务" for services — pages that
    show the kind anyway leave it out)."""
    out: list[str] = []
    if kind and offer.kind == OfferKind.SERVICE:
        out.append(_("专属服务"))
    if offer.requires_jingka:
        out.append(_("京卡专享"))
    if offer.stock is not None:
        out.append(_("限量"))
    if offer.points_price:
        out.append(_("积分兑换"))
    return tuple(out)


def card(offer: BenefitsMallOffer) -> OfferCard:
    return OfferCard(
        title=offer.title, url=offer_url(offer.id), merchant=offer.merchant.name,
        category=offer.category.name, summary=offer.summary,
        price=f"¥{fmt(offer.price)}" if offer.price is not None else None,
        member_price=f"¥{fmt(offer.member_price)}" if offer.member_price is not None else None,
        image_url=image_url(offer.images[0]) if offer.images else None,
        valid_until=offer.valid_until, tags=tags(offer))


def listing(viewer: Any, limit: int, category: str | None) -> Sequence[OfferCard]:
    """Up to ``limit`` offers ``viewer`` (an account or None) may see, most claimed first."""
    if limit <= 0:
        return []
    s = db.session()
    who = service.viewer_of(s, viewer) if viewer is not None else None
    stmt = service.visible_offers(who, service.today(), category=category or "",
                                  sort="popular").limit(limit)
    return [card(o) for o in s.scalars(stmt).unique()]


def categories() -> Sequence[tuple[str, str]]:
    return [(c.code, c.name) for c in service.categories(db.session())]


def providers() -> list[OfferProvider]:
    return [OfferProvider("jingka", "京卡优惠", listing, categories, priority=10)]
