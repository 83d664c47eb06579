"""Mobile-app API: the member's own payouts (GET /api/v1/mutualaid/payouts)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_login import current_user
from pydantic import BaseModel
from sqlalchemy import select

from unionhub import db
from unionhub.api import PAGE_PARAMS, Page, operation, paginate

from ..models import MutualaidPayout
from ..web import api
from .models import PAYOUT_STATUS_LABELS
from .views import cards_of


class PayoutOut(BaseModel):
    id: int
    program: str
    summary: str
    amount: str  # 元, two decimals (exact; never a float)
    status: str
    status_label: str
    card: str | None  # masked card number
    failure: str | None
    paid_on: date | None
    created_on: date


@api.route("/payouts")
@operation("互助保障：我的到账", tags=["mutualaid"], response=Page[PayoutOut],
           params=PAGE_PARAMS)
def api_payouts() -> Any:
    member = current_user.member
    if member is None:
        return {"items": [], "page": 1, "per_page": 20, "total": 0}
    s = db.session()

    def item(p: MutualaidPayout) -> PayoutOut:
        return PayoutOut(id=p.id, program=p.program, summary=p.summary,
                         amount=f"{p.amount:.2f}", status=p.status,
                         status_label=PAYOUT_STATUS_LABELS.get(p.status, p.status),
                         card=cards_of(s, [p]).get(p.id), failure=p.failure,
                         paid_on=p.paid_on, created_on=p.created_at.date())

    return paginate(select(MutualaidPayout).where(MutualaidPayout.member_id == member.id)
                    .order_by(MutualaidPayout.id.desc()), item)
