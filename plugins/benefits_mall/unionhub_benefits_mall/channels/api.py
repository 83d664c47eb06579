"""Discount channels on the mobile-app API (``/api/v1/benefits_mall/channels``): the channels
open to the signed-in member, one of them, and — a page at a time — the offers the member may
claim in it (``/channels/<id>/offers``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_login import current_user
from pydantic import BaseModel
from sqlalchemy import select

from unionhub import db
from unionhub.api import PAGE_PARAMS, ApiError, Page, operation, paginate
from unionhub.i18n import _
from unionhub.orgs.models import Org

from ..eligibility import PERIODS, Viewer
from ..models import BenefitsMallChannel, BenefitsMallOffer
from ..web import api
from . import audience, service


class ChannelOut(BaseModel):
    id: int
    name: str
    description: str
    org_name: str
    valid_from: date
    valid_until: date
    total_quota: int | None
    issued: int
    remaining_total: int | None
    per_member_quota: int | None
    per_member_period: str
    per_member_period_label: str
    #: What this member may still claim through the channel (``null``: unlimited).
    remaining_for_me: int | None
    audience: str
    offer_count: int


class ChannelOfferOut(BaseModel):
    id: int
    kind: str
    title: str
    summary: str
    merchant_name: str
    category_code: str
    price: str | None
    member_price: str | None
    points_price: int | None
    valid_until: date
    remaining_stock: int | None


def _open_or_404(viewer: Viewer, channel_id: int, on: date) -> BenefitsMallChannel:
    found = service.open_channel(db.session(), viewer, channel_id, on)
    if found is None:
        raise ApiError(404, "not_found", _("没有这个优惠通道，或它未向您开放"))
    return found


def _viewer() -> Viewer:
    member = current_user.member
    if member is None:
        raise ApiError(403, "forbidden", _("仅会员可查看优惠通道"))
    return Viewer.of(db.session(), member)


def _channel_out(c: BenefitsMallChannel, org_name: str, left: service.Remaining,
                 audience_text: str, count: int) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "description": c.description, "org_name": org_name,
            "valid_from": c.valid_from, "valid_until": c.valid_until,
            "total_quota": c.total_quota, "issued": c.issued, "remaining_total": left.total,
            "per_member_quota": c.per_member_quota, "per_member_period": c.per_member_period,
            "per_member_period_label": _(PERIODS.get(c.per_member_period, "")),
            "remaining_for_me": left.for_member, "audience": audience_text,
            "offer_count": count}


def _offer_out(o: BenefitsMallOffer) -> ChannelOfferOut:
    return ChannelOfferOut(
        id=o.id, kind=o.kind, title=o.title, summary=o.summary, merchant_name=o.merchant.name,
        category_code=o.category_code,
        price=None if o.price is None else str(o.price),
        member_price=None if o.member_price is None else str(o.member_price),
        points_price=o.points_price, valid_until=o.valid_until,
        remaining_stock=None if o.stock is None else max(0, o.stock - o.issued))


@api.route("/channels")
@operation("福利商城：向我开放的优惠通道", tags=["benefits_mall"], response=Page[ChannelOut],
           params=PAGE_PARAMS, errors=(400, 403))
def api_channels() -> Any:
    viewer = _viewer()
    s = db.session()
    on = service.today()
    result = paginate(service.open_channels(viewer, on), lambda c: c)
    rows: list[BenefitsMallChannel] = result["items"]
    ids = [c.id for c in rows]
    orgs = dict(s.execute(select(Org.id, Org.name).where(
        Org.id.in_({c.org_id for c in rows}))).all()) if rows else {}
    left = service.remaining(s, viewer.member_id, rows, on)
    texts = audience.describe_many(s, "channel", ids)
    counts = service.open_offer_counts(s, viewer, ids, on)
    result["items"] = [ChannelOut(**_channel_out(c, orgs.get(c.org_id, ""), left[c.id],
                                                 texts[c.id], counts.get(c.id, 0)))
                       for c in rows]
    return result


@api.route("/channels/<int:channel_id>")
@operation("福利商城：优惠通道详情", tags=["benefits_mall"], response=ChannelOut,
           errors=(403, 404),
           description="通道内我可领取的优惠分页列在 /channels/{channel_id}/offers。")
def api_channel(channel_id: int) -> Any:
    viewer = _viewer()
    s = db.session()
    on = service.today()
    found = _open_or_404(viewer, channel_id, on)
    org = s.get(Org, found.org_id)
    left = service.remaining(s, viewer.member_id, [found], on)[found.id]
    count = service.open_offer_counts(s, viewer, [found.id], on).get(found.id, 0)
    return ChannelOut(**_channel_out(found, org.name if org else "", left,
                                     audience.describe(s, "channel", found.id), count))


@api.route("/channels/<int:channel_id>/offers")
@operation("福利商城：优惠通道内我可领取的优惠", tags=["benefits_mall"],
           response=Page[ChannelOfferOut], params=PAGE_PARAMS, errors=(400, 403, 404))
def api_channel_offers(channel_id: int) -> Any:
    viewer = _viewer()
    on = service.today()
    found = _open_or_404(viewer, channel_id, on)
    return paginate(service.open_offers(found.id, viewer, on), _offer_out)
