"""The catalogue on the mobile-app API (``/api/v1/benefits_mall``): categories, the offers the
signed-in member may see (same SQL rule as the pages) and one offer with the member's
eligibility."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import request
from flask_login import current_user
from pydantic import BaseModel
from sqlalchemy import func, select

from unionhub import db
from unionhub.access.service import can
from unionhub.api import PAGE_PARAMS, ApiError, Page, QueryParam, operation, paginate
from unionhub.i18n import _

from .. import eligibility
from ..categories import CATEGORIES
from ..models import BenefitsMallChannel, BenefitsMallOffer, OfferKind
from ..web import api
from . import service
from .provider import image_url, offer_url, tags
from .text import html_to_text, render_description


class CategoryOut(BaseModel):
    code: str
    name: str
    icon: str
    #: Offers in the category the member may see today.
    offers: int


class OfferOut(BaseModel):
    id: int
    title: str
    summary: str
    kind: str
    kind_label: str
    category: str
    category_name: str
    merchant: str
    price: str | None
    member_price: str | None
    points_price: int | None
    valid_from: date
    valid_until: date
    #: Left to claim or book; null when unlimited.
    remaining: int | None
    image_url: str | None
    url: str
    tags: list[str]


class StoreOut(BaseModel):
    id: int
    name: str
    district: str
    address: str
    phone: str
    hours: str


class OfferDetailOut(OfferOut):
    #: Sanitised HTML (safe to show in a web view) and the same as plain text.
    description_html: str
    description_text: str
    images: list[str]
    stores: list[StoreOut]
    coupon_valid_days: int
    per_member_limit: int | None
    per_member_period: str
    limit_text: str
    requires_jingka: bool
    requires_active_member: bool
    #: ``claim`` (a coupon) or ``book`` (a service).
    action: str
    #: Whether the member may claim or book it now (stock and quota are decided by the claim).
    eligible: bool
    #: Why not, in words for the member; null when eligible.
    refusal: str | None
    #: The member's use of the per-member limit in the current period.
    used: int | None


def _money(value: Any) -> str | None:
    return None if value is None else str(value)


def _out(offer: BenefitsMallOffer) -> OfferOut:
    return OfferOut(
        id=offer.id, title=offer.title, summary=offer.summary, kind=offer.kind,
        kind_label=_(service.KIND_LABELS.get(offer.kind, offer.kind)),
        category=offer.category_code, category_name=_(offer.category.name),
        merchant=offer.merchant.name, price=_money(offer.price),
        member_price=_money(offer.member_price), points_price=offer.points_price,
        valid_from=offer.valid_from, valid_until=offer.valid_until,
        remaining=service.remaining(offer),
        image_url=image_url(offer.images[0]) if offer.images else None,
        url=offer_url(offer.id), tags=list(tags(offer)))


def _int_param(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise ApiError(400, "bad_parameter", f"{name} 应为正整数", {name: "应为正整数"})
    return int(raw)


@api.route("/categories")
@operation("福利云商：服务类别（含我可见的优惠数）", tags=["benefits_mall"],
           response=list[CategoryOut])
def api_categories() -> Any:
    s = db.session()
    viewer = service.viewer_of(s, current_user)
    counts = {code: int(n) for code, n in s.execute(
        select(BenefitsMallOffer.category_code, func.count())
        .where(eligibility.offer_clause(viewer, service.today()))
        .group_by(BenefitsMallOffer.category_code))}
    return [CategoryOut(code=c.code, name=_(c.name), icon=c.icon, offers=int(counts.get(c.code, 0)))
            for c in service.categories(s)]


OFFER_PARAMS = (
    QueryParam("category", {"type": "string", "enum": [c for c, _n, _i in CATEGORIES]},
               "服务类别代码（见 /categories）"),
    QueryParam("kind", {"type": "string", "enum": list(OfferKind)},
               "coupon 优惠券 / service 专属服务"),
    QueryParam("sort", {"type": "string", "enum": list(service.SORTS), "default": "new"},
               "new 最新 / popular 最热"),
    *PAGE_PARAMS,
)


@api.route("/offers")
@operation("福利云商：我可领取的优惠", tags=["benefits_mall"], response=Page[OfferOut],
           params=OFFER_PARAMS, errors=(400,))
def api_offers() -> Any:
    s = db.session()
    category = request.args.get("category", "")
    if category and category not in {c.code for c in service.categories(s)}:
        raise ApiError(400, "bad_parameter", "没有这个服务类别", {"category": "没有这个服务类别"})
    kind = request.args.get("kind", "")
    if kind and kind not in tuple(OfferKind):
        raise ApiError(400, "bad_parameter", "kind 应为 coupon 或 service",
                       {"kind": "应为 coupon 或 service"})
    sort = request.args.get("sort", "new")
    if sort not in service.SORTS:
        raise ApiError(400, "bad_parameter", "sort 应为 new 或 popular",
                       {"sort": "应为 new 或 popular"})
    viewer = service.viewer_of(s, current_user)
    return paginate(service.visible_offers(viewer, service.today(), category=category,
                                           kind=kind, sort=sort), _out)


@api.route("/offers/<int:offer_id>")
@operation("福利云商：优惠详情（含我能否领取及原因）", tags=["benefits_mall"],
           response=OfferDetailOut, errors=(400, 404),
           params=(QueryParam("channel", {"type": "integer", "minimum": 1},
                              "从优惠通道进入时的通道 id"),))
def api_offer(offer_id: int) -> Any:
    s = db.session()
    on = service.today()
    viewer = service.viewer_of(s, current_user)
    offer = service.viewable_offer(s, viewer, offer_id, on)
    if offer is None:
        raise ApiError(404, "not_found", "没有这个优惠，或它不面向您")
    channel_id = _int_param("channel")
    channel = s.get(BenefitsMallChannel, channel_id) if channel_id else None
    refusal: str | None
    used: int | None = None
    if viewer is None:
        refusal = _("仅工会会员可以领取")
    else:
        refusal = eligibility.refusal(s, viewer, offer, on, channel)
        if refusal is None and not can(current_user, service.CLAIM):
            refusal = _("您没有领取福利的权限")
        used = service.used_by(s, viewer.member_id, offer, on)
    if refusal is None and service.remaining(offer) == 0:
        refusal = _("已领完")
    # A service's quota counts per period of the service date: this period's use does not
    # refuse it (booking checks per date); coupons count per period of the claim.
    if refusal is None and used is not None and offer.kind == OfferKind.COUPON \
            and offer.per_member_limit is not None and used >= offer.per_member_limit:
        refusal = _("您已达到本期领取上限")
    detail = OfferDetailOut(
        **_out(offer).model_dump(),
        description_html=str(render_description(offer.description)),
        description_text=html_to_text(offer.description),
        images=[image_url(n) for n in offer.images or []],
        stores=[StoreOut(id=st.id, name=st.name, district=st.district, address=st.address,
                         phone=st.phone, hours=st.hours)
                for st in service.offer_stores(s, offer)],
        coupon_valid_days=offer.coupon_valid_days, per_member_limit=offer.per_member_limit,
        per_member_period=offer.per_member_period, limit_text=service.limit_text(offer),
        requires_jingka=offer.requires_jingka,
        requires_active_member=offer.requires_active_member,
        action="book" if offer.kind == OfferKind.SERVICE else "claim",
        eligible=refusal is None, refusal=refusal, used=used)
    service.count_view(s, offer.id)
    s.commit()
    return detail
