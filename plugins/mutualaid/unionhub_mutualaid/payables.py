"""Approved amounts owed to members: one :class:`MutualaidPayout` per approved source.

Claims (on approval) and 二次报销 lines (per quarterly batch) call :func:`queue`; the payouts
module puts pending payouts into bank batches. ``(source, source_id)`` is unique and the insert
ignores a conflict, so re-running an approval or a batch job can never owe an amount twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from unionhub.db import utcnow
from unionhub.identity.models import Member

from .models import MutualaidPayout, PayoutStatus

#: 摘要 on the bank file (互助金-住院医疗); the bank shows at most about 20 characters.
SHORT_NAMES: Mapping[str, str] = {
    "ZYYL": "住院医疗", "ZYJT": "住院津贴", "ZDJB": "重大疾病", "NGTJ": "女工特疾",
    "YWSH": "意外伤害", "ZNYW": "子女意外", "ECBX": "二次报销", "FGSZH": "非工伤综合",
}


def summary(program: str) -> str:
    return f"互助金-{SHORT_NAMES.get(program, program)}"


def insert_ignore(session: Session, table: Table, values: Mapping[str, Any]) -> bool:
    """INSERT that does nothing on a unique conflict; True when a row was inserted."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    result = session.execute(insert(table).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)  # type: ignore[attr-defined]


def queue(session: Session, *, member: Member, source: str, source_id: int, program: str,
          amount: Decimal, summary: str) -> MutualaidPayout:
    """Owe ``amount`` to ``member`` for (``source``, ``source_id``) — once, however often called."""
    now = utcnow()
    insert_ignore(session, MutualaidPayout.__table__, {
        "member_id": member.id, "org_path": member.org.path, "source": source,
        "source_id": source_id, "program": program, "amount": amount, "summary": summary,
        "status": PayoutStatus.PENDING, "attempts": 0, "created_at": now, "updated_at": now})
    payout = session.scalar(select(MutualaidPayout).where(
        MutualaidPayout.source == source, MutualaidPayout.source_id == source_id))
    assert payout is not None
    return payout

