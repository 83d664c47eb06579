"""Fast claims (京卡直赔) from imported settlement records.

For each inpatient record of an enrolled member that an import stored or corrected, one
住院医疗 claim (benefit ``medical``, out of pocket = 个人自付一) and one 住院津贴 claim (benefit
``allowance``, the stay) are made through :func:`claims.service.create_fast_claim`, keyed
``<program>:<serial>`` — idempotent, so a re-run of the job or a re-import makes nothing twice.

Candidates are selected in SQL (inpatient, matched member, a coverage row of the program
whose period contains the admission), so members who are not enrolled cost nothing. The job
commits every :data:`CHUNK` records: a crash resumes where it stopped without duplicates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from unionhub.identity.models import Member

from ..models import MutualaidClaim, MutualaidCoverage, MutualaidSettlement

PROGRAMS: tuple[tuple[str, str], ...] = (("ZYYL", "medical"), ("ZYJT", "allowance"))
CHUNK = 500


def claim_serial(program: str, serial: str) -> str:
    return f"{program}:{serial}"


def _enrolled(program: str) -> Any:
    S = MutualaidSettlement
    return exists().where(
        MutualaidCoverage.member_id == S.member_id, MutualaidCoverage.program == program,
        MutualaidCoverage.start <= S.admitted_on, MutualaidCoverage.end >= S.admitted_on)


def candidates(session: Session, *where: Any) -> list[Any]:
    """Inpatient records of enrolled members among the records matching ``where``."""
    S = MutualaidSettlement
    return list(session.execute(
        select(S.id, S.serial, S.member_id, S.hospital, S.admitted_on, S.discharged_on,
               S.total, S.self_pay_1, S.diagnosis_codes,
               *(_enrolled(p).label(p) for p, _b in PROGRAMS))
        .where(*where, S.visit_type == "inpatient",
               S.member_id.is_not(None), S.admitted_on.is_not(None),
               S.discharged_on.is_not(None))
        .where(_enrolled("ZYYL") | _enrolled("ZYJT"))
        .order_by(S.id)).all())


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def create_for_import(session: Session, import_id: int, *, commit: bool = False,
                      progress: Callable[..., None] | None = None) -> dict[str, int]:
    """Make the fast claims of the records import ``import_id`` stored or corrected."""
    return create_for(session, MutualaidSettlement.import_id == import_id, commit=commit,
                      progress=progress)


def create_for(session: Session, *where: Any, commit: bool = False,
               progress: Callable[..., None] | None = None) -> dict[str, int]:
    """Make the fast claims of the records matching ``where``; returns counts (records,
    created, existing, not_enrolled)."""
    from ..claims.service import create_fast_claim

    rows = candidates(session, *where)
    counts = {"records": len(rows), "created": 0, "existing": 0, "not_enrolled": 0}
    today = date.today()
    done = 0
    for chunk in _chunks(rows, CHUNK):
        members = {m.id: m for m in session.scalars(
            select(Member).where(Member.id.in_({r.member_id for r in chunk})))}
        keys = [claim_serial(p, r.serial) for r in chunk for p, _b in PROGRAMS]
        before = set(session.scalars(select(MutualaidClaim.settlement_serial).where(
            MutualaidClaim.settlement_serial.in_(keys))))
        for r in chunk:
            submitted = max(today, r.discharged_on)
            codes = tuple(c for c in (r.diagnosis_codes or "").split(";") if c)
            for program, benefit in PROGRAMS:
                if not getattr(r, program):
                    continue
                key = claim_serial(program, r.serial)
                claim = create_fast_claim(
                    session, member=members[r.member_id], program=program, benefit=benefit,
                    serial=key, stays=[(r.admitted_on, r.discharged_on)], hospital=r.hospital,
                    total=r.total, out_of_pocket=r.self_pay_1, diagnoses=codes,
                    submitted_on=submitted)
                if claim is None:
                    counts["not_enrolled"] += 1
                elif key in before:
                    counts["existing"] += 1
                else:
                    counts["created"] += 1
        done += len(chunk)
        if commit:
            session.commit()
        if progress is not None:
            progress(done, len(rows), f"已处理 {done} 条住院记录")
    return counts


def followup_job(ctx: Any) -> dict[str, Any]:
    """Job ``mutualaid.settlement_followup`` (params ``{"import_id": …}``), after an import:
    critical-illness screening of the members' records it stored or corrected (the screening
    feature's :func:`flag`, idempotent), then the fast claims. Safe to re-run."""
    from unionhub import db

    from ..screening.service import flag

    s = db.session()
    import_id = int(ctx.params["import_id"])
    S = MutualaidSettlement
    ids = list(s.scalars(select(S.id).where(
        S.import_id == import_id, S.member_id.is_not(None), S.diagnosis_codes.is_not(None))))
    screened = flag(s, settlement_ids=ids)
    s.commit()
    counts = create_for_import(s, import_id, commit=True, progress=ctx.progress)
    s.commit()
    counts.update({f"screening_{k}": v for k, v in screened.items()})
    ctx.counts.update(counts)
    return counts
