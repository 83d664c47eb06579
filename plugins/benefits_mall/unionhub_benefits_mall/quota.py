"""Limited things, moved only by atomic statements whose outcome decides (never read-then-write).

* :func:`take_quota` — a member's use of a per-period limit (``benefits_mall_quota_use``):
  ``INSERT … ON CONFLICT DO UPDATE SET used = used + 1 WHERE used < limit``. The row is created
  or raised in one statement; a concurrent taker waits on the row and re-checks the limit
  (PostgreSQL) or runs after the first (SQLite). The outcome is read from ``RETURNING``
  (psycopg reports no row count for an INSERT).
* :func:`hold` — one unit of an offer's stock or a channel's total quota:
  ``UPDATE … SET issued = issued + 1 WHERE id = :id AND (bound IS NULL OR issued < bound)``;
  its row count decides.
* releases never go below zero.

Coupons (claim, cancel) and bookings (book, cancel, expiry) use the same functions, so the
counters mean the same thing whoever moved them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, or_, update
from sqlalchemy.orm import Session

from .models import BenefitsMallChannel, BenefitsMallOffer, BenefitsMallQuotaUse

QUOTA = BenefitsMallQuotaUse.__table__
OFFER = BenefitsMallOffer.__table__
CHANNEL = BenefitsMallChannel.__table__


def offer_scope(offer_id: int) -> str:
    return f"offer:{offer_id}"


def channel_scope(channel_id: int) -> str:
    return f"channel:{channel_id}"


def _insert(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(QUOTA)


def take_quota(session: Session, member_id: int, scope: str, period: str, limit: int) -> bool:
    """Use one unit of the member's ``limit`` for ``scope`` in ``period``; False when used up."""
    if limit <= 0:
        return False
    stmt = _insert(session).values(member_id=member_id, scope=scope, period=period, used=1)
    stmt = stmt.on_conflict_do_update(index_elements=["member_id", "scope", "period"],
                                      set_={"used": QUOTA.c.used + 1}, where=QUOTA.c.used < limit)
    return session.execute(stmt.returning(QUOTA.c.used)).first() is not None


def release_quota(session: Session, member_id: int, scope: str, period: str,
                  n: int = 1) -> bool:
    """Give back ``n`` units (never below zero); False when there was nothing to give back."""
    result = session.execute(
        update(QUOTA).where(QUOTA.c.member_id == member_id, QUOTA.c.scope == scope,
                            QUOTA.c.period == period, QUOTA.c.used > 0)
        .values(used=case((QUOTA.c.used >= n, QUOTA.c.used - n), else_=0)))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _counter(model: type) -> tuple[Any, Any, dict[str, Any]]:
    """(table, bound column, values that must not change) of an offer or a channel. An
    offer's ``updated_at`` is kept: stock moving is not an edit of the offer."""
    if model is BenefitsMallOffer:
        return OFFER, OFFER.c.stock, {"updated_at": OFFER.c.updated_at}
    if model is BenefitsMallChannel:
        return CHANNEL, CHANNEL.c.total_quota, {}
    raise TypeError(f"{model!r} has no issued counter")


def hold(session: Session, model: type, row_id: int) -> bool:
    """Take one unit of an offer's stock or a channel's total quota; False when none is left."""
    table, bound, keep = _counter(model)
    result = session.execute(
        update(table).where(table.c.id == row_id, or_(bound.is_(None), table.c.issued < bound))
        .values(issued=table.c.issued + 1, **keep))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release(session: Session, model: type, row_id: int, n: int = 1) -> None:
    """Give back ``n`` units of an offer's stock or a channel's quota (never below zero)."""
    table, _bound, keep = _counter(model)
    session.execute(
        update(table).where(table.c.id == row_id, table.c.issued > 0)
        .values(issued=case((table.c.issued >= n, table.c.issued - n), else_=0), **keep))
