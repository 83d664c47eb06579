"""The 医保结算数据 import handler (``mutualaid.settlement``).

One row per settlement (结算流水号 is the key). The ID number is validated and replaced by its
keyed hash during validation (in worker processes): nothing clear reaches the database or the
error report. Everything after validation is set-based SQL over the staged rows, so a file of
a million records costs a few scans and joins, never a Python object per row:

* review: duplicate serials inside the file (the later 结算日期 wins, the other line is
  rejected), member matching by ``id_number_hash`` (one UPDATE … FROM), the stored record
  with the same serial (one UPDATE … FROM), then rejections of stale corrections (earlier
  结算日期 than stored) and of same-date rows whose amounts differ;
* apply: ``INSERT … SELECT`` of new serials, one ``UPDATE … FROM`` for corrections
  (``revision + 1``, guarded by ``settled_on <`` the staged date, so a correction that became
  stale since the review is skipped, never applied backwards). A file imported twice finds
  every row unchanged and writes nothing.

A record keeps the ``quarter`` it was first stored in, even when a correction carries a
结算日期 of a later quarter (or year): the 二次报销 of the first quarter may already have paid
it, so the corrected amount changes that quarter's basis (a re-run owes only the difference)
and never counts a second time in the later quarter.

Amounts are bounded (:data:`MAX_AMOUNT` per cell, finite): a value beyond it is a typing or
export error, and it would overflow the BIGINT fen columns and fail the whole file.

Records of people who are not members are stored with ``member_id`` NULL (counted and set
aside: when the same record arrives again after the person became a member, it is matched
then). The apply then submits the
``mutualaid.settlement_followup`` job: critical-illness screening of the members' new and
corrected records, and fast claims for enrolled members' inpatient records (a claim is an
evaluated ORM object with history: too slow to make inline for a large file).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, case, func, insert, literal, or_, select, update

from unionhub.db import utcnow
from unionhub.identity.models import Member
from unionhub.identity.numbers import InvalidNumber, validate_id_number
from unionhub.imports.engine import ImportContext, drop_lines
from unionhub.imports.parsing import parse_amount, parse_choice, parse_date
from unionhub.imports.types import ImportHandler, RowError
from unionhub.security.crypto import FieldCipher

from ..models import MutualaidSettlement
from .models import stage

REQUIRED = ("结算流水号", "身份证号", "姓名", "就诊类型", "医院名称", "结算日期", "医疗费总额",
            "统筹支付", "个人自付一")
OPTIONAL = ("入院日期", "出院日期", "大额支付", "个人自付二", "个人自费", "诊断编码", "诊断名称")
VISIT_TYPES = {"门诊": "outpatient", "住院": "inpatient"}
VISIT_LABELS = {"outpatient": "门诊", "inpatient": "住院"}
#: Fast claims are keyed ``<program>:<serial>`` (``mutualaid_claim.settlement_serial`` is 64).
MAX_SERIAL = 58
INPATIENT = "inpatient"
FOLLOWUP_JOB = "mutualaid.settlement_followup"
#: The largest amount of one cell, 元: far above any real bill, far below BIGINT fen.
MAX_AMOUNT = Decimal("100000000.00")

_ciphers: dict[bytes, FieldCipher] = {}


def prepare(ctx: ImportContext) -> None:
    """The keys for hashing ID numbers (validation runs in worker processes)."""
    from unionhub.security.crypto import load_key

    ctx.state["hash_key"] = load_key(ctx.app.config["FIELD_HASH_KEY"])
    ctx.state["enc_key"] = load_key(ctx.app.config["FIELD_ENCRYPTION_KEY"])
    ctx.state["today"] = date.today()


def _cipher(state: dict[str, Any]) -> FieldCipher:
    key = state["hash_key"]
    if key not in _ciphers:  # once per worker process
        _ciphers[key] = FieldCipher(state["enc_key"], key)
    return _ciphers[key]


def _fen(column: str, text: str, *, required: bool) -> int:
    """An amount cell in whole fen: finite, at most :data:`MAX_AMOUNT` 元."""
    try:  # NaN and Infinity parse as Decimals: refuse them before rounding
        finite = Decimal(text.strip().replace(",", "").replace("，", "").lstrip("¥￥")
                         or "0").is_finite()
    except InvalidOperation:
        finite = True  # not a number at all: parse_amount says so
    if not finite:
        raise RowError(column, f"「{text.strip()}」不是有效金额")
    value = parse_amount(column, text)
    if value is None:
        if required:
            raise RowError(column, "不能为空")
        return 0
    if value > MAX_AMOUNT:
        raise RowError(column, f"金额 {value} 元超过上限 {MAX_AMOUNT:,.0f} 元")
    return int(value.scaleb(2))


def _text(row: dict[str, str], column: str, limit: int) -> str:
    value = row[column].strip()
    if not value:
        raise RowError(column, "不能为空")
    if len(value) > limit:
        raise RowError(column, f"超过 {limit} 个字符")
    return value


def _codes(text: str) -> str | None:
    parts = [p.strip().upper() for p in text.replace("；", ";").replace("，", ";")
             .replace(",", ";").replace("、", ";").split(";")]
    joined = ";".join(p for p in parts if p)
    if len(joined) > 200:
        raise RowError("诊断编码", "超过 200 个字符")
    return joined or None


def validate(state: dict[str, Any], row: dict[str, str]) -> tuple[Any, ...]:
    """One row → the staged tuple (after import_id, line). Runs in worker processes."""
    serial = _text(row, "结算流水号", MAX_SERIAL)
    try:
        idn = validate_id_number(row["身份证号"], today=state["today"])
    except InvalidNumber as exc:
        raise RowError("身份证号", exc.reason) from None
    name = _text(row, "姓名", 100)
    visit = parse_choice("就诊类型", row["就诊类型"], VISIT_TYPES)
    if visit is None:
        raise RowError("就诊类型", "不能为空（门诊/住院）")
    hospital = _text(row, "医院名称", 200)
    settled = parse_date("结算日期", row["结算日期"])
    if settled is None:
        raise RowError("结算日期", "不能为空")
    if settled > state["today"] + timedelta(days=1):  # a day's slack for time zones
        raise RowError("结算日期", f"结算日期 {settled} 晚于今天")
    total = _fen("医疗费总额", row["医疗费总额"], required=True)
    pooled = _fen("统筹支付", row["统筹支付"], required=True)
    self_pay_1 = _fen("个人自付一", row["个人自付一"], required=True)
    if self_pay_1 > total:
        raise RowError("个人自付一", "不能大于医疗费总额")
    large = _fen("大额支付", row.get("大额支付", ""), required=False)
    self_pay_2 = _fen("个人自付二", row.get("个人自付二", ""), required=False)
    self_funded = _fen("个人自费", row.get("个人自费", ""), required=False)
    admitted = parse_date("入院日期", row.get("入院日期", ""))
    discharged = parse_date("出院日期", row.get("出院日期", ""))
    if visit == INPATIENT:
        if admitted is None:
            raise RowError("入院日期", "住院记录必须填写入院日期")
        if discharged is None:
            raise RowError("出院日期", "住院记录必须填写出院日期")
    if admitted is not None and discharged is not None and discharged < admitted:
        raise RowError("出院日期", f"出院日期 {discharged} 早于入院日期 {admitted}")
    if admitted is not None and admitted > settled:
        raise RowError("入院日期", f"入院日期 {admitted} 晚于结算日期 {settled}")
    codes = _codes(row.get("诊断编码", ""))
    names = row.get("诊断名称", "").strip() or None
    if names is not None and len(names) > 300:
        raise RowError("诊断名称", "超过 300 个字符")
    return (
        serial, _cipher(state).lookup_hash(idn, "id"), name, visit, hospital,
        settled.isoformat(), f"{settled.year}Q{(settled.month - 1) // 3 + 1}",
        admitted.isoformat() if admitted else None,
        discharged.isoformat() if discharged else None,
        total, pooled, large, self_pay_1, self_pay_2, self_funded, codes, names,
    )


# -- review --------------------------------------------------------------------------------


def _duplicates(ctx: ImportContext) -> list[tuple[int, str, str]]:
    """Lines repeating a serial of the file: the latest 结算日期 (then the last line) wins."""
    s = ctx.session
    assert s is not None
    st = ctx.stage
    dup = (select(st.c.serial).where(ctx.staged()).group_by(st.c.serial)
           .having(func.count() > 1).subquery())
    order = (st.c.settled_on.desc(), st.c.line.desc())
    ranked = (
        select(st.c.line,
               func.row_number().over(partition_by=st.c.serial, order_by=order).label("rn"),
               func.first_value(st.c.line).over(partition_by=st.c.serial, order_by=order)
               .label("winner"))
        .join(dup, dup.c.serial == st.c.serial).where(ctx.staged()).subquery())
    rows = s.execute(select(ranked.c.line, ranked.c.winner).where(ranked.c.rn > 1)).all()
    return [(line, "结算流水号", f"与第 {winner} 行重复，以结算日期较晚的第 {winner} 行为准")
            for line, winner in rows]


def _match(ctx: ImportContext, *, only_unmatched: bool) -> None:
    """Members by ID hash, and the stored record of each serial (two UPDATE … FROM)."""
    s = ctx.session
    assert s is not None
    st = ctx.stage
    where = [ctx.staged(), st.c.id_hash == Member.id_number_hash]
    if only_unmatched:
        where.append(st.c.member_id.is_(None))
    s.execute(update(st).where(*where).values(member_id=Member.id))
    S = MutualaidSettlement
    where = [ctx.staged(), st.c.serial == S.serial]
    if only_unmatched:
        where.append(st.c.existing_id.is_(None))
    s.execute(update(st).where(*where).values(existing_id=S.id, existing_on=S.settled_on))


def _same_record(st: Any, S: Any) -> Any:
    return and_(S.total == st.c.total, S.pooled == st.c.pooled,
                S.self_pay_1 == st.c.self_pay_1, S.visit_type == st.c.visit_type,
                S.id_hash == st.c.id_hash)


def review(ctx: ImportContext) -> tuple[dict[str, int], list[tuple[int, str, str]]]:
    s = ctx.session
    assert s is not None
    st = ctx.stage
    rejects = _duplicates(ctx)
    drop_lines(ctx, [line for line, _c, _r in rejects])
    _match(ctx, only_unmatched=False)
    known = st.c.existing_id.is_not(None)
    stale = s.execute(select(st.c.line, st.c.existing_on).where(
        ctx.staged(), known, st.c.settled_on < st.c.existing_on)).all()
    late = [(line, "结算日期", f"早于已导入的同一结算流水号记录的结算日期 {on}，"
             "更正数据须使用更晚的结算日期") for line, on in stale]
    S = MutualaidSettlement
    conflicts = s.scalars(select(st.c.line).join(S, S.id == st.c.existing_id).where(
        ctx.staged(), st.c.settled_on == st.c.existing_on, ~_same_record(st, S))).all()
    late += [(line, "结算日期", "与已导入的同一结算流水号记录结算日期相同但金额不同；"
              "更正数据须使用更晚的结算日期") for line in conflicts]
    drop_lines(ctx, [line for line, _c, _r in late])
    rejects += late
    return _counts(ctx), rejects


def _counts(ctx: ImportContext) -> dict[str, int]:
    """Preview counts in one scan of the batch's staged rows (rejected rows already gone)."""
    s = ctx.session
    assert s is not None
    st = ctx.stage
    new = st.c.existing_id.is_(None)
    corr = and_(st.c.existing_id.is_not(None), st.c.settled_on > st.c.existing_on)
    changes = or_(new, corr)

    def n(cond: Any) -> Any:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    row = s.execute(select(
        n(new), n(corr), n(st.c.existing_id.is_not(None) & (st.c.settled_on == st.c.existing_on)),
        n(st.c.member_id.is_not(None)), n(st.c.member_id.is_(None)),
        n(and_(changes, st.c.member_id.is_not(None))),
        n(and_(changes, st.c.member_id.is_not(None), st.c.visit_type == INPATIENT)),
    ).where(ctx.staged())).one()
    keys = ("new", "corrections", "unchanged", "members", "set_aside", "member_changes",
            "inpatient_members")
    return {k: int(v or 0) for k, v in zip(keys, row, strict=True)}


# -- apply ---------------------------------------------------------------------------------

_COPIED = ("serial", "member_id", "id_hash", "name", "visit_type", "hospital", "settled_on",
           "quarter", "admitted_on", "discharged_on", "total", "pooled", "large", "self_pay_1",
           "self_pay_2", "self_funded", "diagnosis_codes", "diagnosis_names")

#: Not overwritten by a correction: the key, and the quarter the record was first stored in
#: (its 二次报销 may have been paid there; see the module docstring).
_KEPT = frozenset({"serial", "quarter"})


def apply(ctx: ImportContext) -> dict[str, int]:
    s = ctx.session
    assert s is not None
    st = ctx.stage
    S = MutualaidSettlement
    now = utcnow()
    # Since the review: members may have been imported, and another settlement file may
    # have stored some of these serials (new rows then become corrections or stale).
    _match(ctx, only_unmatched=True)
    counts = _counts(ctx)
    ctx.progress(1, 3, "新增结算记录", force=True)
    s.execute(insert(S).from_select(
        [*_COPIED, "revision", "import_id", "updated_at"],
        select(*(st.c[c] for c in _COPIED), literal(1), literal(ctx.batch_id),
               literal(now, S.updated_at.type))
        .where(ctx.staged(), st.c.existing_id.is_(None))))
    ctx.progress(2, 3, "更正结算记录", force=True)
    corrected = s.execute(
        update(S).where(S.id == st.c.existing_id, ctx.staged(), st.c.settled_on > S.settled_on)
        .values(**{c: st.c[c] for c in _COPIED if c not in _KEPT}, revision=S.revision + 1,
                import_id=ctx.batch_id, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    # A record set aside earlier whose person has become a member since: the same row
    # again now carries the member (and is followed up like a new one).
    matched = s.execute(
        update(S).where(S.id == st.c.existing_id, ctx.staged(), S.member_id.is_(None),
                        st.c.member_id.is_not(None), st.c.settled_on == S.settled_on)
        .values(member_id=st.c.member_id, import_id=ctx.batch_id, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    ctx.progress(3, 3, "完成", force=True)
    result = {"created": counts["new"], "corrected": int(corrected or 0),
              "unchanged": counts["unchanged"], "members": counts["members"],
              "set_aside": counts["set_aside"], "matched_later": int(matched or 0),
              "fast_claim_records": counts["inpatient_members"]}
    if counts["member_changes"] or matched:
        _submit_followup(ctx)
    return result


def _submit_followup(ctx: ImportContext) -> None:
    """Queue the follow-up job (critical-illness screening, fast claims); it runs once this
    apply has committed."""
    from unionhub.jobs import service as jobs

    s = ctx.session
    assert s is not None
    with ctx.app.app_context():
        jobs.submit(FOLLOWUP_JOB, {"import_id": ctx.batch_id}, session=s,
                    owner_id=ctx.owner_id, dedup_key=f"mutualaid-settlement:{ctx.batch_id}")


HANDLER = ImportHandler(
    code="settlement",
    label="医保结算数据",
    permission="mutualaid.settlement.import",
    required=REQUIRED,
    optional=OPTIONAL,
    prepare=prepare,
    validate=validate,
    stage=stage,
    review=review,
    apply=apply,
    description="按结算流水号导入；更正记录（结算日期更晚）覆盖原记录；非会员记录留存不参与报销；"
                "参保会员的住院记录自动生成快速理赔",
    count_labels={"new": "新记录", "corrections": "更正记录", "unchanged": "无变化",
                  "members": "会员记录", "set_aside": "非会员记录（留存）",
                  "member_changes": "会员新增/更正记录", "inpatient_members": "会员住院记录",
                  "rejected": "错误行",
                  "created": "已新增", "corrected": "已更正",
                  "matched_later": "原非会员记录匹配到会员",
                  "fast_claim_records": "待生成快速理赔的住院记录"},
)
