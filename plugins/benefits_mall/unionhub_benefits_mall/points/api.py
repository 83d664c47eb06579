"""Points on the mobile-app API: the member's balance, points expiring soon, and entries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_login import current_user
from pydantic import BaseModel

from unionhub import db
from unionhub.api import PAGE_PARAMS, ApiError, Page, operation, paginate

from ..models import BenefitsMallPointsEntry
from ..web import api
from . import service


class ExpiringOut(BaseModel):
    points: int
    expires_on: date
    occasion: str | None
    occasion_name: str | None


class BalanceOut(BaseModel):
    balance: int
    expiring: list[ExpiringOut]


class EntryOut(BaseModel):
    id: int
    kind: str
    kind_label: str
    points: int
    occasion: str | None
    occasion_name: str | None
    expires_on: date | None
    note: str
    created_at: datetime


def _member() -> Any:
    member = current_user.member
    if member is None:
        raise ApiError(403, "forbidden", "仅会员本人可查看积分")
    return member


def _entry(e: BenefitsMallPointsEntry) -> EntryOut:
    return EntryOut(id=e.id, kind=e.kind, kind_label=service.KIND_LABELS.get(e.kind, e.kind),
                    points=e.points, occasion=e.occasion,
                    occasion_name=service.occasion_name(e.occasion) if e.occasion else None,
                    expires_on=e.expires_on, note=e.note or "", created_at=e.created_at)


@api.route("/points")
@operation("福利商城：我的积分（可用余额与 30 天内到期的积分）", tags=["benefits_mall"],
           response=BalanceOut, errors=(403,))
def api_points() -> Any:
    member = _member()
    s = db.session()
    today = service.beijing_today()
    soon = service.expiring(s, member.id, today)
    return BalanceOut(balance=service.balance(s, member.id, today), expiring=[
        ExpiringOut(points=lot.remainder, expires_on=lot.expires_on, occasion=lot.occasion,
                    occasion_name=service.occasion_name(lot.occasion) if lot.occasion
                    else None)
        for lot in soon if lot.expires_on is not None])


@api.route("/points/entries")
@operation("福利商城：我的积分明细", tags=["benefits_mall"], response=Page[EntryOut],
           params=PAGE_PARAMS, errors=(403,))
def api_points_entries() -> Any:
    member = _member()
    return paginate(service.entries(member.id), _entry)
