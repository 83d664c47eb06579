"""Reports on the JSON API: the merchant manager's report and the officers' dashboard summary.
Amounts are strings with two decimals (``"1250.00"``), never floats."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import request
from flask_login import current_user
from pydantic import BaseModel

from unionhub import db
from unionhub.access.service import can
from unionhub.api import ApiError, QueryParam, operation

from ..models import BenefitsMallMerchant, MerchantStatus, StaffRole
from ..staff import current_staff
from ..web import api
from . import service
from .service import PERMISSION, ReportError


class FiguresOut(BaseModel):
    redeemed: int
    undone: int
    net: int
    amount: str


class StoreDayOut(FiguresOut):
    day: date
    store_id: int | None
    store_name: str


class OfferFiguresOut(FiguresOut):
    offer_id: int
    title: str


class MerchantReportOut(BaseModel):
    merchant_id: int
    start: date
    end: date
    total: FiguresOut
    by_store_day: list[StoreDayOut]
    by_offer: list[OfferFiguresOut]


class DayOut(BaseModel):
    day: date
    claims: int
    redemptions: int


class GroupOut(BaseModel):
    key: str
    name: str
    claims: int
    redemptions: int
    amount: str


class DashboardOut(BaseModel):
    start: date
    end: date
    claims: int
    redemptions: int
    amount: str
    redemption_rate: str | None
    days: list[DayOut]
    categories: list[GroupOut]
    merchants: list[GroupOut]
    org_id: int | None
    orgs: list[GroupOut]


def _figures(f: service.Figures) -> dict[str, Any]:
    return {"redeemed": f.redeemed, "undone": f.undone, "net": f.net, "amount": f"{f.amount:.2f}"}


def _day_arg(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "bad_parameter", f"{name} 应为 YYYY-MM-DD 格式的日期",
                       {name: "应为 YYYY-MM-DD"}) from None


@api.route("/merchant/report")
@operation("福利云商：商户核销报表（按门店与日期、按优惠）", tags=["benefits_mall"],
           response=MerchantReportOut, errors=(400, 403),
           params=(QueryParam("start", {"type": "string", "format": "date"},
                              "开始日期（北京时间），默认本月1日"),
                   QueryParam("end", {"type": "string", "format": "date"},
                              "结束日期（含），默认今天")))
def api_merchant_report() -> Any:
    staff = current_staff()
    if staff is None or staff.role != StaffRole.MANAGER:
        raise ApiError(403, "forbidden", "仅合作商户的管理员可查看报表")
    merchant = db.session().get(BenefitsMallMerchant, staff.merchant_id)
    if merchant is None or merchant.status != MerchantStatus.ACTIVE:
        raise ApiError(403, "forbidden", "商户已暂停合作")
    today = service.beijing_today()
    start = _day_arg("start") or today.replace(day=1)
    end = _day_arg("end") or today
    try:
        report = service.merchant_report(db.session(), staff.merchant_id, start, end)
    except ReportError as exc:
        raise ApiError(400, "bad_parameter", str(exc), {"start": str(exc)}) from None
    return MerchantReportOut(
        merchant_id=report.merchant_id, start=report.start, end=report.end,
        total=FiguresOut(**_figures(report.total)),
        by_store_day=[StoreDayOut(**_figures(r), day=r.day, store_id=r.store_id,
                                  store_name=r.store_name) for r in report.by_store_day],
        by_offer=[OfferFiguresOut(**_figures(r), offer_id=r.offer_id, title=r.title)
                  for r in report.by_offer])


def _groups(groups: list[service.Group]) -> list[GroupOut]:
    return [GroupOut(key=str(g.key), name=g.name, claims=g.claims, redemptions=g.redemptions,
                     amount=f"{g.amount:.2f}") for g in groups]


@api.route("/dashboard")
@operation("福利云商：福利统计概况（管辖范围内近30天）", tags=["benefits_mall"],
           response=DashboardOut, errors=(403, 404),
           params=(QueryParam("org_id", {"type": "integer"}, "只看管辖范围内的某个工会组织"),))
def api_dashboard() -> Any:
    if not can(current_user, PERMISSION):
        raise ApiError(403, "forbidden", "没有查看福利统计的权限")
    s = db.session()
    org = None
    raw = request.args.get("org_id", "").strip()
    if raw:
        org = (service.in_scope(s, current_user, int(raw))
               if raw.isdigit() and len(raw) < 12 else None)
        if org is None:
            raise ApiError(404, "not_found", "管辖范围内没有该工会组织")
    d = service.dashboard(s, service.Scope(current_user, org), service.beijing_today())
    h = d.headline
    return DashboardOut(
        start=h.start, end=h.end, claims=h.claims, redemptions=h.redemptions,
        amount=f"{h.amount:.2f}", redemption_rate=None if h.rate is None else f"{h.rate}%",
        days=[DayOut(day=x.day, claims=x.claims, redemptions=x.redemptions) for x in d.days],
        categories=_groups(d.categories), merchants=_groups(d.merchants),
        org_id=None if d.base is None else d.base.id, orgs=_groups(d.orgs))
