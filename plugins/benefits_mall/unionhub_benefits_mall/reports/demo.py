"""Demo settlement statements: last month's, for every merchant with redemptions in it.

Runs after the coupons demo (which redeems through the coupons service); when no redemption
or undo falls in last month, nothing is built.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from . import service


def seed(session: Session, ctx: Any) -> None:
    today = service.beijing_today()
    start, end = service.previous_month(today)
    if not service.merchants_to_settle(session, start, end):
        return
    admin = ctx.officers.get("admin")
    outcomes = service.build_month(session, start, getattr(admin, "id", None), today=today)
    built = [o.settlement for o in outcomes if o.settlement is not None]
    if built:
        ctx.lines.append(f"福利云商结算单: {len(built)} 张（{start:%Y-%m}）")
