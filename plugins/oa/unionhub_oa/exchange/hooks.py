"""The run's reaction to its own import (``unionhub_members_changed``).

The core's member import calls every plugin inside its apply transaction. When the import
belongs to a data-exchange run (its params carry ``oa_run``), the members it created, those
who left and those whose card was replaced are recorded as :class:`.models.OaRunMember` rows
— ``INSERT … SELECT`` from the import's own SELECTs, never a list of ids in Python.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, literal, select

from unionhub.contrib import ChangeReaction, MemberChanges

from .models import MEMBER_KIND_LABELS, MemberKind, OaRun, OaRunMember

LABEL = "数据交换"


def run_id_of(params: Any) -> int | None:
    raw = (params or {}).get("oa_run")
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def members_changed(changes: MemberChanges) -> ChangeReaction | None:
    """Record the run's members by kind; ``None`` for imports that are not a run's."""
    run_id = run_id_of(changes.params)
    if run_id is None:
        return None
    s = changes.session  # the import's transaction
    if s.get(OaRun, run_id) is None:
        return None
    sources = {MemberKind.NEW: changes.new, MemberKind.LEFT: changes.left,
               MemberKind.CARD_REPLACED: changes.cards_replaced}
    counts: dict[str, int] = {}
    for kind, members in sources.items():
        ids = members.subquery()
        member_id = ids.c[0]
        s.execute(insert(OaRunMember).from_select(
            ["run_id", "member_id", "kind"],
            select(literal(run_id), member_id, literal(kind.value))
            .where(member_id.is_not(None))
            .where(~select(OaRunMember.member_id).where(
                OaRunMember.run_id == run_id, OaRunMember.kind == kind.value,
                OaRunMember.member_id == member_id).exists())
            .distinct()))
        counts[kind.value] = s.scalar(select(func.count()).select_from(OaRunMember).where(
            OaRunMember.run_id == run_id, OaRunMember.kind == kind.value)) or 0
    return ChangeReaction(LABEL, counts, dict(MEMBER_KIND_LABELS))
