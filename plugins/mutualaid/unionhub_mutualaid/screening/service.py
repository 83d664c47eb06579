"""Critical-illness screening: settlement diagnoses against the programs' disease catalogues.

:func:`flag` turns settlement records of members into one flag per (member, catalogue disease).
The catalogues are those of the active plans covering the settlement date whose rules carry a
catalogue (ZDJB, NGTJ …), united and keyed by catalogue entry code. A plan restricted to some
sexes (NGTJ: women) contributes its catalogue only for members of those sexes.

It is a screening signal for the member's own union (condolence visit, secondary aid), never a
claim decision. It runs after every settlement import (``flag(session,
settlement_ids=[...])``) and as the ``screening_scan`` job (``{"since": "YYYY-MM-DD"}``).
Work is one pass over the records: a catalogue match is a few dict look-ups per code, the
catalogue set is built once per (settlement date, sex), existing flags are read in chunks, new
flags inserted with a conflict-ignoring INSERT (the unique key makes each flag happen once, even
under concurrent imports) and seen-again flags updated with conditional UPDATEs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from unionhub.audit import service as audit
from unionhub.db import utcnow
from unionhub.identity.models import Member
from unionhub.money import money_sum
from unionhub.orgs.models import Org

from ..catalogue import DiseaseCatalogue
from ..models import MutualaidPlan, MutualaidSettlement, PlanStatus
from ..plans import rules_of
from ..rules import PROGRAM_CODES
from .models import FlagStatus, MutualaidScreeningFlag, MutualaidScreeningVisit

CHUNK = 500  # ids per IN (...) list: well below every database's bound-parameter limit
#: the largest aid an officer can record on one visit (a typo guard, not a policy)
MAX_AID = Decimal("100000.00")


class ScreeningError(ValueError):
    """Refused input; ``field`` names the form field, the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --- catalogues ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Source:
    program: str
    plan_year: int
    version: int
    term_start: date
    term_end: date
    sexes: frozenset[str]
    catalogue: DiseaseCatalogue

    @property
    def label(self) -> str:
        return f"{self.program} {self.catalogue.version}"


class _Catalogues:
    """The catalogue plans, loaded once; per (date, sex) the covering plan of each program."""

    def __init__(self, session: Session) -> None:
        order = {code: i for i, code in enumerate(PROGRAM_CODES)}
        sources: list[_Source] = []
        for plan in session.scalars(select(MutualaidPlan).where(
                MutualaidPlan.status == PlanStatus.ACTIVE)):
            rules = rules_of(plan)
            if rules.catalogue is None or not rules.catalogue.entries:
                continue
            sexes = frozenset(str(s) for s in rules.eligibility.sexes)
            sources.append(_Source(plan.program, plan.plan_year, plan.version,
                                   plan.term_start, plan.term_end, sexes, rules.catalogue))
        # newest plan year (then version) first, as plans.covering picks it
        sources.sort(key=lambda s: (order.get(s.program, 99), -s.plan_year, -s.version))
        self._sources = sources
        self._cache: dict[tuple[date, str], tuple[_Source, ...]] = {}

    def on(self, day: date, sex: str) -> tuple[_Source, ...]:
        key = (day, sex)
        found = self._cache.get(key)
        if found is None:
            chosen: dict[str, _Source] = {}
            for src in self._sources:
                if src.program in chosen or not (src.term_start <= day <= src.term_end):
                    continue
                chosen[src.program] = src
            found = tuple(s for s in chosen.values() if not s.sexes or sex in s.sexes)
            self._cache[key] = found
        return found


@dataclass(frozen=True, slots=True)
class Hit:
    """One catalogue disease found in one settlement record."""

    disease_code: str
    disease_name: str
    catalogue_version: str
    diagnosis_code: str


def split_codes(text: str | None) -> list[str]:
    """``"C50.9; I10"`` → ``["C50.9", "I10"]`` (also tolerates "," and full-width "；")."""
    if not text:
        return []
    for sep in ("；", ",", "，"):
        text = text.replace(sep, ";")
    return [c.strip() for c in text.split(";") if c.strip()]


def match(sources: Iterable[_Source], codes: Sequence[str]) -> list[Hit]:
    """The union of the sources' matches, keyed by entry code (first program wins)."""
    hits: dict[str, Hit] = {}
    for src in sources:
        for m in src.catalogue.match(codes):
            if m.entry.code not in hits:
                hits[m.entry.code] = Hit(m.entry.code, m.entry.name, src.label, m.diagnosis)
    return list(hits.values())


# --- flagging --------------------------------------------------------------------------------

@dataclass
class _Seen:
    member_id: int
    org_path: str
    hit: Hit
    first_id: int
    first_on: date
    hospital: str | None
    last_on: date


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _records(session: Session, settlement_ids: Sequence[int] | None,
             since: date | None) -> Iterator[Any]:
    base = (
        select(MutualaidSettlement.id, MutualaidSettlement.member_id,
               MutualaidSettlement.diagnosis_codes, MutualaidSettlement.settled_on,
               MutualaidSettlement.hospital, Member.sex, Org.path)
        .join(Member, Member.id == MutualaidSettlement.member_id)
        .join(Org, Org.id == Member.org_id)
        .where(MutualaidSettlement.member_id.is_not(None),
               MutualaidSettlement.diagnosis_codes.is_not(None),
               MutualaidSettlement.diagnosis_codes != "")
    )
    if settlement_ids is not None:
        ids = sorted(set(settlement_ids))
        for part in _chunks(ids):
            yield from session.execute(base.where(MutualaidSettlement.id.in_(part)))
        return
    if since is not None:
        base = base.where(MutualaidSettlement.settled_on >= since)
    yield from session.execute(
        base.order_by(MutualaidSettlement.id).execution_options(yield_per=2000))


def _insert_ignore(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table = MutualaidScreeningFlag.__table__
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for part in _chunks(rows):
        session.execute(insert(table).on_conflict_do_nothing(), list(part))


def flag(session: Session, settlement_ids: Sequence[int] | None = None,
         since: date | None = None) -> dict[str, int]:
    """Flag the members whose settlement records show a catalogue disease.

    ``settlement_ids``: only those records (after an import); else records settled on or after
    ``since``; else every record. Idempotent: a disease already flagged for the member gets no
    second flag — its ``last_seen`` moves forward (and its first settlement back, when an earlier
    record turns up), and its ``org_path`` follows the member. Returns counts: ``records``
    (member records with diagnoses read), ``matched`` (records with a catalogue disease),
    ``flagged`` (new flags), ``updated`` (existing flags seen again).
    """
    cats = _Catalogues(session)
    seen: dict[tuple[int, str], _Seen] = {}
    records = matched = 0
    for sid, member_id, codes_text, settled_on, hospital, sex, path in _records(
            session, settlement_ids, since):
        records += 1
        codes = split_codes(codes_text)
        sources = cats.on(settled_on, sex) if codes else ()
        hits = match(sources, codes) if sources else []
        if hits:
            matched += 1
        for hit in hits:
            key = (member_id, hit.disease_code)
            cur = seen.get(key)
            if cur is None:
                seen[key] = _Seen(member_id, path, hit, sid, settled_on, hospital, settled_on)
                continue
            if (settled_on, sid) < (cur.first_on, cur.first_id):
                cur.hit, cur.first_id, cur.first_on, cur.hospital = hit, sid, settled_on, hospital
            cur.last_on = max(cur.last_on, settled_on)
    if not seen:
        return {"records": records, "matched": matched, "flagged": 0, "updated": 0}

    existing: dict[tuple[int, str], int] = {}
    member_ids = sorted({m for m, _ in seen})
    for part in _chunks(member_ids):
        for fid, mid, code in session.execute(
                select(MutualaidScreeningFlag.id, MutualaidScreeningFlag.member_id,
                       MutualaidScreeningFlag.disease_code)
                .where(MutualaidScreeningFlag.member_id.in_(part))):
            existing[(mid, code)] = fid

    now = utcnow()
    new_rows = [
        {"member_id": s.member_id, "org_path": s.org_path, "disease_code": s.hit.disease_code,
         "disease_name": s.hit.disease_name, "catalogue_version": s.hit.catalogue_version,
         "diagnosis_code": s.hit.diagnosis_code[:40], "first_settlement_id": s.first_id,
         "first_settled_on": s.first_on, "hospital": s.hospital, "last_seen": s.last_on,
         "status": FlagStatus.NEW, "created_at": now}
        for key, s in seen.items() if key not in existing]
    _insert_ignore(session, new_rows)

    again = [(existing[key], s) for key, s in seen.items() if key in existing]
    if again:
        _update_seen_again(session, again)
    for obj in list(session.identity_map.values()):  # loaded flags must not look stale
        if isinstance(obj, MutualaidScreeningFlag):
            session.expire(obj)
    return {"records": records, "matched": matched, "flagged": len(new_rows),
            "updated": len(again)}


def _update_seen_again(session: Session, again: list[tuple[int, _Seen]]) -> None:
    """Conditional UPDATEs (executemany): only ever move dates outward, never back."""
    t = MutualaidScreeningFlag.__table__
    conn = session.connection()
    conn.execute(
        update(t).where(t.c.id == bindparam("fid"), t.c.last_seen < bindparam("day"))
        .values(last_seen=bindparam("day")),
        [{"fid": fid, "day": s.last_on} for fid, s in again])
    conn.execute(
        update(t).where(t.c.id == bindparam("fid"), t.c.first_settled_on > bindparam("day"))
        .values(first_settled_on=bindparam("day"), first_settlement_id=bindparam("sid"),
                hospital=bindparam("hosp"), diagnosis_code=bindparam("diag")),
        [{"fid": fid, "day": s.first_on, "sid": s.first_id, "hosp": s.hospital,
          "diag": s.hit.diagnosis_code[:40]} for fid, s in again])
    conn.execute(
        update(t).where(t.c.id == bindparam("fid"), t.c.org_path != bindparam("path"))
        .values(org_path=bindparam("path")),
        [{"fid": fid, "path": s.org_path} for fid, s in again])


# --- visits and closing ----------------------------------------------------------------------

def parse_amount(text: str | None) -> Decimal:
    """The aid amount typed by the officer (empty = 0); refuses what is not 0–MAX_AID with at
    most two decimals."""
    raw = (text or "").strip().replace(",", "").replace("，", "")
    if not raw:
        return Decimal("0.00")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ScreeningError("aid_amount", f"慰问金额“{raw[:20]}”不是有效的金额") from None
    if not value.is_finite():
        raise ScreeningError("aid_amount", f"慰问金额“{raw[:20]}”不是有效的金额")
    if value < 0:
        raise ScreeningError("aid_amount", "慰问金额不能为负数")
    if value > MAX_AID:  # before quantize: 1e30 would overflow the decimal context
        raise ScreeningError("aid_amount", f"慰问金额不能超过 {MAX_AID} 元")
    if value != value.quantize(Decimal("0.01")):
        raise ScreeningError("aid_amount", "慰问金额最多两位小数（精确到分）")
    return value.quantize(Decimal("0.01"))


def record_visit(session: Session, flag_row: MutualaidScreeningFlag, *, visited_on: date | None,
                 note: str | None, aid_amount: Decimal, actor: Any,
                 today: date | None = None) -> MutualaidScreeningVisit:
    """Record a visit (and the aid handed over); the flag becomes ``visited``. Audited.

    Raises :class:`ScreeningError` (nothing written) for a closed flag or a bad date/amount.
    The audit entry carries no diagnosis: the audit log is read by people who must not see it.
    """
    today = today or date.today()
    if visited_on is None:
        raise ScreeningError("visited_on", "请填写走访日期")
    if visited_on > today:
        raise ScreeningError("visited_on", f"走访日期 {visited_on} 晚于今天")
    if aid_amount < 0 or aid_amount > MAX_AID:
        raise ScreeningError("aid_amount", "慰问金额超出范围")
    note = (note or "").strip()[:1000] or None
    moved = session.execute(
        update(MutualaidScreeningFlag)
        .where(MutualaidScreeningFlag.id == flag_row.id,
               MutualaidScreeningFlag.status != FlagStatus.CLOSED)
        .values(status=FlagStatus.VISITED)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        raise ScreeningError("status", "该筛查记录已关闭，不能再登记走访")
    visit = MutualaidScreeningVisit(flag_id=flag_row.id, visited_on=visited_on,
                                    visitor=getattr(actor, "id", None), note=note,
                                    aid_amount=aid_amount)
    session.add(visit)
    session.flush()
    audit.record("mutualaid.screening.visit", target_type="mutualaid_screening_flag",
                 target_id=flag_row.id, org_path=flag_row.org_path,
                 details={"member_id": flag_row.member_id, "visit_id": visit.id,
                          "visited_on": visited_on.isoformat(), "aid_amount": str(aid_amount)},
                 actor=actor, session=session)
    session.refresh(flag_row)
    return visit


def close(session: Session, flag_row: MutualaidScreeningFlag, *, actor: Any) -> bool:
    """Close a flag (no further follow-up); False when it was already closed."""
    now: datetime = utcnow()
    moved = session.execute(
        update(MutualaidScreeningFlag)
        .where(MutualaidScreeningFlag.id == flag_row.id,
               MutualaidScreeningFlag.status != FlagStatus.CLOSED)
        .values(status=FlagStatus.CLOSED, closed_at=now, closed_by=getattr(actor, "id", None))
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if moved:
        audit.record("mutualaid.screening.close", target_type="mutualaid_screening_flag",
                     target_id=flag_row.id, org_path=flag_row.org_path,
                     details={"member_id": flag_row.member_id}, actor=actor, session=session)
    session.refresh(flag_row)
    return bool(moved)


def aid_total(session: Session, flag_id: int) -> Decimal:
    return session.scalar(
        select(money_sum(MutualaidScreeningVisit.aid_amount))
        .where(MutualaidScreeningVisit.flag_id == flag_id))


# --- the rescan job --------------------------------------------------------------------------

def scan_job(ctx: Any) -> dict[str, Any]:
    """Job ``screening_scan``: rescan records settled on or after ``params["since"]``
    (all records when absent). Safe to re-run: flagging is idempotent."""
    from unionhub import db

    raw = ctx.params.get("since")
    since = None
    if raw:
        try:
            since = date.fromisoformat(str(raw))
        except ValueError:
            raise ValueError(f"since: “{raw}” 不是 YYYY-MM-DD 日期") from None
    s = db.session()
    counts = flag(s, since=since)
    s.commit()
    ctx.counts.update(counts)
    return counts


__all__ = ["FlagStatus", "ScreeningError", "close", "flag", "match", "parse_amount",
           "record_visit", "scan_job", "split_codes"]
