"""Import handler ``enrollment`` (参保名单): an agent office's enrollment list.

Columns: 身份证号 or 京卡卡号 (at least one), 姓名, 项目代码, 份数; optional 档次 (YWSH). The
unit and plan year are chosen on the upload page (``params``: ``unit_org_id``, ``plan_year``).

Review resolves the members and runs the same judgement as online enrollment
(:func:`.service.assess`), writing the outcome of each row (new / unchanged, fee, continuous
cover, waiting period) into the staging table. Apply inserts the new rows with one
``INSERT … SELECT`` per program (``NOT EXISTS`` guards against rows enrolled since the review,
the unique constraint stays the last line of defence), checks the participation ratio in SQL
and recomputes the fee statements. The rows' cover starts as online enrollment's does on the
day of the apply (:func:`.service.cover_start`), and no earlier than the unit's payment.
Importing the same file twice changes nothing: the second
review finds every row unchanged.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal,
    not_,
    null,
    select,
    update,
)

from unionhub.db import Base, utcnow
from unionhub.identity.models import Account, JingkaCard, Member
from unionhub.identity.numbers import InvalidNumber, validate_card_number, validate_id_number
from unionhub.imports.engine import ImportContext, ImportError_
from unionhub.imports.types import ImportHandler, RowError
from unionhub.orgs.models import Org

from ..rules import PROGRAM_CODES

REQUIRED = ("姓名", "项目代码", "份数")
OPTIONAL = ("身份证号", "京卡卡号", "档次")
_SHARES = re.compile(r"^(\d{1,3})(?:\.0+)?$")
_TIER = re.compile(r"^(\d+)(?:\.0+)?\s*元?$")

stage = Table(
    "mutualaid_enroll_stage",
    Base.metadata,
    Column("import_id", Integer, primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("id_hash", String(64)),
    Column("card_hash", String(64)),
    Column("name", String(100), nullable=False),
    Column("program", String(8), nullable=False),
    Column("shares", Integer, nullable=False),
    Column("tier", String(16)),
    # Filled by review:
    Column("member_id", Integer),
    Column("outcome", String(16)),  # new | unchanged
    Column("fee_fen", BigInteger),
    Column("first_enrolled", Date),
    Column("waiting_until", Date),
)


def prepare(ctx: ImportContext) -> None:
    """Keys, Jingka BINs and the plan year's programs (for validation in worker processes)."""
    from unionhub.identity.service import jingka_bins
    from unionhub.security.crypto import load_key

    from .. import plans as plan_store

    with ctx.app.app_context():
        from unionhub import db

        s = db.session()
        year = int(ctx.params["plan_year"])
        found: dict[str, dict[str, Any]] = {}
        for code in PROGRAM_CODES:
            plan = plan_store.current(s, code, year)
            if plan is not None:
                rules = plan_store.rules_of(plan)
                found[code] = {"id": plan.id, "dues": plan_store.is_dues_funded(plan),
                               "tiers": sorted(rules.tiers, key=lambda t: (len(t), t))}
        ctx.state.update(
            plans=found, year=year, bins=jingka_bins(),
            enc_key=load_key(ctx.app.config["FIELD_ENCRYPTION_KEY"]),
            hash_key=load_key(ctx.app.config["FIELD_HASH_KEY"]))


def validate(state: dict[str, Any], row: dict[str, str]) -> tuple[Any, ...]:
    """One row → (id_hash, card_hash, name, program, shares, tier). Runs in worker processes."""
    from unionhub.security.crypto import FieldCipher

    cipher = FieldCipher(state["enc_key"], state["hash_key"])
    idn_raw = row.get("身份证号", "").strip()
    card_raw = row.get("京卡卡号", "").strip()
    if not idn_raw and not card_raw:
        raise RowError("身份证号", "身份证号和京卡卡号至少填写一项")
    id_hash = card_hash = None
    if idn_raw:
        try:
            id_hash = cipher.lookup_hash(validate_id_number(idn_raw), "id")
        except InvalidNumber as exc:
            raise RowError("身份证号", exc.reason) from None
    if card_raw:
        try:
            card_hash = cipher.lookup_hash(validate_card_number(card_raw, state["bins"]), "card")
        except InvalidNumber as exc:
            raise RowError("京卡卡号", exc.reason) from None
    name = row["姓名"].strip()
    if not name:
        raise RowError("姓名", "不能为空")
    if len(name) > 100:
        raise RowError("姓名", "超过 100 个字符")
    program = row["项目代码"].strip().upper()
    if program not in PROGRAM_CODES:
        raise RowError("项目代码", f"「{program}」不是互助项目代码（{'/'.join(PROGRAM_CODES)}）")
    plan = state["plans"].get(program)
    if plan is None:
        raise RowError("项目代码", f"{state['year']} 年度没有 {program} 项目")
    if plan["dues"]:
        raise RowError("项目代码", f"{program} 由工会会费保障，持卡会员自动享有，无需参保")
    m = _SHARES.match(row["份数"].strip())
    if not m or int(m[1]) < 1:
        raise RowError("份数", f"「{row['份数'].strip()}」不是有效份数（正整数）")
    tier = None
    if plan["tiers"]:
        raw = row.get("档次", "").strip()
        t = _TIER.match(raw)
        tier = t[1] if t else raw
        if tier not in plan["tiers"]:
            choices = "、".join(plan["tiers"])
            raise RowError("档次", f"{program} 须填写保障档次（{choices}）" if not raw
                           else f"「{raw}」不是 {program} 的保障档次（{choices}）")
    return (id_hash, card_hash, name, program, int(m[1]), tier)


def _unit(ctx: ImportContext) -> Org:
    s = ctx.session
    assert s is not None
    unit = s.get(Org, int(ctx.params["unit_org_id"]))
    if unit is None:
        raise ImportError_("参保单位不存在")
    return unit


def _in_scope(ctx: ImportContext, unit: Org) -> bool:
    from unionhub.access.service import scope_filter

    s = ctx.session
    assert s is not None
    owner = s.get(Account, ctx.owner_id) if ctx.owner_id else None
    if owner is None:
        return True
    with ctx.app.app_context():
        clause = scope_filter(owner, "mutualaid.enroll", Org.path)
    return s.scalar(select(Org.id).where(Org.id == unit.id, clause)) is not None


def review(ctx: ImportContext) -> tuple[dict[str, int], list[tuple[int, str, str]]]:
    from .. import plans as plan_store
    from . import service

    s = ctx.session
    assert s is not None
    st = ctx.stage
    mine = ctx.staged()
    unit = _unit(ctx)
    year = int(ctx.params["plan_year"])
    lines = list(s.scalars(select(st.c.line).where(mine)))
    if not _in_scope(ctx, unit):
        return {"new": 0, "unchanged": 0}, [
            (line, "身份证号", f"无权为「{unit.name}」办理参保") for line in lines]
    rejects: list[tuple[int, str, str]] = []
    s.execute(update(st).where(mine, st.c.id_hash.is_not(None),
                               st.c.id_hash == Member.id_number_hash)
              .values(member_id=Member.id))
    s.execute(update(st).where(mine, st.c.member_id.is_(None), st.c.card_hash.is_not(None),
                               st.c.card_hash == JingkaCard.number_hash)
              .values(member_id=JingkaCard.member_id))
    for line, has_id in s.execute(select(st.c.line, st.c.id_hash.is_not(None))
                                  .where(mine, st.c.member_id.is_(None))):
        rejects.append((line, "身份证号" if has_id else "京卡卡号", "查无此会员"))
    card_other = s.scalars(select(st.c.line).where(
        mine, st.c.member_id.is_not(None), st.c.id_hash.is_not(None), st.c.card_hash.is_not(None),
        exists().where(JingkaCard.number_hash == st.c.card_hash,
                       JingkaCard.member_id != st.c.member_id)))
    rejects += [(line, "京卡卡号", "与身份证号不是同一会员") for line in card_other]
    wrong_name = s.scalars(select(st.c.line).where(
        mine, st.c.member_id == Member.id, Member.name != st.c.name))
    rejects += [(line, "姓名", "与会员登记的姓名不符") for line in wrong_name]
    bad = {line for line, _c, _r in rejects}

    rows = s.execute(select(st.c.line, st.c.member_id, st.c.program, st.c.shares, st.c.tier)
                     .where(mine, st.c.member_id.is_not(None)).order_by(st.c.line)).all()
    by_program: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        if row.line not in bad:
            by_program[row.program].append(row)
    ids = sorted({row.member_id for rows_ in by_program.values() for row in rows_})
    members: dict[int, Member] = {}
    for part in range(0, len(ids), 900):
        members.update({m.id: m for m in s.scalars(
            select(Member).where(Member.id.in_(ids[part:part + 900])))})
    counts = {"new": 0, "unchanged": 0}
    updates: list[dict[str, Any]] = []
    for program, prow in by_program.items():
        plan = plan_store.current(s, program, year)
        assert plan is not None  # validated
        entries = [service.Entry(members[r.member_id], r.shares, r.tier) for r in prow]
        try:
            result = service.assess(s, unit, plan, entries)
        except service.EnrollmentError as exc:  # the plan's term has ended
            rejects += [(r.line, "项目代码", str(exc)) for r in prow]
            continue
        for rej in result.rejected:
            reason = rej.reason
            if reason.startswith("与第 ") and reason.endswith(" 条重复"):
                first = prow[int(reason[3:-4].strip()) - 1].line
                reason = f"同一项目与第 {first} 行重复"
            rejects.append((prow[rej.index].line, rej.column, reason))
        accepted = result.accepted
        rules = plan_store.rules_of(plan)
        heads = service.unit_headcount(s, unit, plan) + len(accepted)
        problem = service.ratio_problem(rules, heads, service.eligible_count(s, rules, unit))
        if accepted and problem:
            rejects += [(prow[a.index].line, "项目代码", problem) for a in accepted]
            accepted = []
        for a in accepted:
            updates.append({"b_line": prow[a.index].line, "b_outcome": "new",
                            "b_fee": int(a.fee * 100), "b_first": a.first_enrolled,
                            "b_wait": a.waiting_until})
        for index in result.unchanged:
            updates.append({"b_line": prow[index].line, "b_outcome": "unchanged", "b_fee": None,
                            "b_first": None, "b_wait": None})
        counts["new"] += len(accepted)
        counts["unchanged"] += len(result.unchanged)
    if updates:
        s.execute(update(st).where(mine, st.c.line == bindparam("b_line")).values(
            outcome=bindparam("b_outcome"), fee_fen=bindparam("b_fee"),
            first_enrolled=bindparam("b_first"), waiting_until=bindparam("b_wait"))
            .execution_options(synchronize_session=False), updates)
    return counts, rejects


def apply(ctx: ImportContext) -> dict[str, int]:
    from unionhub.audit import service as audit

    from .. import plans as plan_store
    from ..models import CoverageStatus, MutualaidCoverage
    from . import service

    s = ctx.session
    assert s is not None
    st = ctx.stage
    mine = ctx.staged()
    unit = _unit(ctx)
    if not _in_scope(ctx, unit):
        raise ImportError_(f"无权为「{unit.name}」办理参保")
    year = int(ctx.params["plan_year"])
    cov = MutualaidCoverage.__table__
    programs = list(s.scalars(select(st.c.program).where(mine, st.c.outcome == "new")
                              .group_by(st.c.program)))
    created: dict[str, int] = {}
    now = utcnow()
    owner = s.get(Account, ctx.owner_id) if ctx.owner_id else None
    for program in programs:
        plan = plan_store.current(s, program, year)
        if plan is None:
            raise ImportError_(f"{year} 年度没有 {program} 项目")
        rules = plan_store.rules_of(plan)
        try:
            start = service.cover_start(rules, service.today())  # the enrollment date: today
        except service.EnrollmentError as exc:
            raise ImportError_(f"{program}：{exc}") from None
        # Review judged continuity against the day it ran. Cover new there (first_enrolled
        # on or after the term start; continuous cover goes back to an earlier year) starts
        # today instead, and its waiting period with it.
        new_cover = st.c.first_enrolled >= literal(rules.term.start, Date)
        days = rules.waiting.days
        wait = (literal(start + timedelta(days=days - 1), Date) if days > 0
                else null())
        todo = and_(mine, st.c.program == program, st.c.outcome == "new",
                    not_(exists().where(cov.c.member_id == st.c.member_id,
                                        cov.c.program == program, cov.c.plan_year == year)))
        n = s.scalar(select(func.count()).select_from(st).where(todo)) or 0
        if not n:
            continue
        s.execute(insert(cov).from_select(
            ["member_id", "plan_id", "program", "plan_year", "unit_org_id", "shares", "tier",
             "start", "end", "first_enrolled", "waiting_until", "fee", "status", "source",
             "import_id", "enrolled_by", "created_at"],
            select(st.c.member_id, literal(plan.id), literal(program), literal(year),
                   literal(unit.id), st.c.shares, st.c.tier,
                   literal(start, Date), literal(rules.term.end, Date),
                   case((new_cover, literal(start, Date)), else_=st.c.first_enrolled),
                   case((new_cover, wait), else_=st.c.waiting_until), st.c.fee_fen,
                   literal(CoverageStatus.PENDING_PAYMENT.value), literal("import"),
                   literal(ctx.batch_id), literal(ctx.owner_id, Integer),
                   literal(now, cov.c.created_at.type)).where(todo)))
        problem = service.ratio_problem(rules, service.unit_headcount(s, unit, plan),
                                        service.eligible_count(s, rules, unit))
        if problem:
            raise ImportError_(f"{program}：{problem}")
        service.refresh_statement(s, unit, plan)
        audit.record("mutualaid.enroll", target_type="org", target_id=unit.id,
                     org_path=unit.path, actor=owner, session=s,
                     details={"program": program, "plan_year": year, "source": "import",
                              "import_id": ctx.batch_id, "accepted": n})
        created[program] = n
    return {"created": sum(created.values()), **{f"created_{k}": v for k, v in created.items()}}


HANDLER = ImportHandler(
    code="enrollment",
    label="参保名单",
    permission="mutualaid.enroll",
    required=REQUIRED,
    optional=OPTIONAL,
    prepare=prepare,
    validate=validate,
    stage=stage,
    review=review,
    apply=apply,
    description="代办处集体参保名单：身份证号或京卡卡号、姓名、项目代码、份数（意外伤害另填档次）",
    count_labels={"new": "新参保", "unchanged": "已参保无变化", "rejected": "错误行",
                  "created": "已参保"},
)
