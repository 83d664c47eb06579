"""Payout figures: the direct-pay rate (直赔率) and the payee verification success rate.

Both are one SQL aggregate each, restricted by a WHERE clause the caller builds (usually
``scope_filter`` on the org path column), never by filtering rows in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import ColumnElement, case, func, select, true
from sqlalchemy.orm import Session

from ..models import MutualaidPayout, PayoutStatus
from .models import MutualaidPayeeCheck


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def ratio(self) -> Decimal | None:
        """numerator ÷ denominator, or None when nothing was counted."""
        if not self.denominator:
            return None
        return Decimal(self.numerator) / Decimal(self.denominator)

    @property
    def percent(self) -> str:
        """``98.5%`` (one decimal, half up), or ``—`` when nothing was counted."""
        ratio = self.ratio
        if ratio is None:
            return "—"
        return f"{(ratio * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def _rate(session: Session, hit: ColumnElement[bool], where: ColumnElement[bool],
          base: ColumnElement[bool], table: type) -> Rate:
    num, den = session.execute(
        select(func.coalesce(func.sum(case((hit, 1), else_=0)), 0), func.count())
        .select_from(table).where(base, where)).one()
    return Rate(int(num), int(den))


def direct_pay_rate(session: Session, where_clause: ColumnElement[bool] | None = None) -> Rate:
    """直赔率: payouts paid onto the Jingka in their first batch ÷ all paid payouts
    (``where_clause`` filters ``mutualaid_payout`` rows)."""
    return _rate(session, MutualaidPayout.paid_first_batch.is_(True),
                 where_clause if where_clause is not None else true(),
                 MutualaidPayout.status == PayoutStatus.PAID, MutualaidPayout)


def verification_rate(session: Session, where_clause: ColumnElement[bool] | None = None
                      ) -> Rate:
    """收款人核验通过率: verifications passed ÷ verifications made (``where_clause`` filters
    ``mutualaid_payee_check`` rows)."""
    return _rate(session, MutualaidPayeeCheck.ok.is_(True),
                 where_clause if where_clause is not None else true(), true(),
                 MutualaidPayeeCheck)
