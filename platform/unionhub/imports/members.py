"""The core import handler: the city federation's member/Jingka file (市总京卡会员数据).

New members, changed details, card replacements (原卡号, or a new number for a known
person), lost/closed cards and members who left — all set-based SQL over the staged rows,
in one transaction. Numbers are hashed and encrypted during validation (in worker
processes); nothing clear reaches the database or the error report.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Integer,
    String,
    Table,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.orm import aliased

from unionhub import exchange
from unionhub.audit.models import AuditLog
from unionhub.contrib import MemberChanges
from unionhub.db import Base, utcnow
from unionhub.identity.models import Account, CardStatus, JingkaCard, Member, MemberStatus
from unionhub.identity.numbers import (
    InvalidNumber,
    mask_card_number,
    mask_id_number,
    validate_card_number,
    validate_id_number,
    validate_mobile,
)
from unionhub.imports.engine import ImportContext, drop_lines
from unionhub.imports.parsing import parse_choice, parse_date
from unionhub.imports.types import ImportHandler, RowError
from unionhub.orgs.models import Org
from unionhub.security.crypto import FieldCipher

REQUIRED = ("姓名", "身份证号", "京卡卡号", "工会组织代码")
OPTIONAL = ("性别", "手机号", "工会组织名称", "入会日期", "会籍状态", "卡状态", "原卡号")
MEMBER_STATUS = {"在会": MemberStatus.ACTIVE.value, "转出": MemberStatus.TRANSFERRED.value,
                 "退会": MemberStatus.LEFT.value}
CARD_STATUS = {"正常": CardStatus.ACTIVE.value, "挂失": CardStatus.LOST.value,
               "注销": CardStatus.CLOSED.value}
SEX = {"男": "M", "女": "F"}

# No primary key or secondary index: loading a million rows stays fast, and every query
# over it is a scan of this batch's rows joined to indexed core tables.
stage = Table(
    "import_member_stage",
    Base.metadata,
    Column("import_id", Integer, nullable=False),
    Column("line", Integer, nullable=False),
    Column("id_hash", String(64), nullable=False),
    Column("id_enc", String(120), nullable=False),
    Column("id_masked", String(18), nullable=False),
    Column("name", String(100), nullable=False),
    Column("sex", String(1), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("card_hash", String(64), nullable=False),
    Column("card_enc", String(120), nullable=False),
    Column("card_masked", String(19), nullable=False),
    Column("card_status", String(16), nullable=False),
    Column("old_card_hash", String(64)),
    Column("org_id", Integer, nullable=False),
    Column("mobile", String(11)),
    Column("joined_on", Date),
    Column("status", String(16), nullable=False),
    # Filled by review/apply:
    Column("member_id", Integer),
    Column("is_new", Boolean),
    Column("new_card", Boolean),
    #: An active member whom this file marks left or transferred (set with the flags above).
    Column("was_active", Boolean),
)

_ciphers: dict[tuple[bytes, bytes], FieldCipher] = {}


def _cipher(state: dict[str, Any]) -> FieldCipher:
    key = (state["enc_key"], state["hash_key"])
    if key not in _ciphers:  # once per worker process
        _ciphers[key] = FieldCipher(*key)
    return _ciphers[key]


def prepare(ctx: ImportContext) -> None:
    """Look-ups for validation: org codes (within the importer's scope) and the keys."""
    from unionhub.access.service import scope_filter
    from unionhub.identity.service import jingka_bins
    from unionhub.security.crypto import load_key

    app = ctx.app
    with app.app_context():
        from unionhub import db

        s = db.session()
        orgs = dict(s.execute(select(Org.code, Org.id)).all())
        scope: list[int] | None = None
        owner = s.get(Account, ctx.owner_id) if ctx.owner_id else None
        if owner is not None:
            scope = list(s.scalars(select(Org.id).where(
                scope_filter(owner, "core.members.import", Org.path))))
        ctx.state.update(
            orgs=orgs,
            scope=set(scope) if scope is not None else None,
            bins=jingka_bins(),
            enc_key=load_key(app.config["FIELD_ENCRYPTION_KEY"]),
            hash_key=load_key(app.config["FIELD_HASH_KEY"]),
        )


def _number(column: str, fn: Any, value: str, *args: Any) -> str:
    try:
        return fn(value, *args)
    except InvalidNumber as exc:
        raise RowError(column, exc.reason) from None


def validate(state: dict[str, Any], row: dict[str, str]) -> tuple[Any, ...]:
    """One row → the staged tuple (after import_id, line). Runs in worker processes."""
    name = row["姓名"].strip()
    if not name:
        raise RowError("姓名", "不能为空")
    if len(name) > 100:
        raise RowError("姓名", "超过 100 个字符")
    idn = _number("身份证号", validate_id_number, row["身份证号"])
    card = _number("京卡卡号", validate_card_number, row["京卡卡号"], state["bins"])
    code = row["工会组织代码"].strip()
    org_id = state["orgs"].get(code)
    if org_id is None:
        raise RowError("工会组织代码", f"「{code}」不在组织体系中")
    if state["scope"] is not None and org_id not in state["scope"]:
        raise RowError("工会组织代码", f"「{code}」不在您的管辖范围内")
    sex = "M" if int(idn[16]) % 2 else "F"  # idn is validated: no need to re-check
    given_sex = parse_choice("性别", row.get("性别", ""), SEX)
    if given_sex is not None and given_sex != sex:
        raise RowError("性别", "与身份证号不符")
    mobile_raw = row.get("手机号", "").strip()
    mobile = _number("手机号", validate_mobile, mobile_raw) if mobile_raw else None
    joined = parse_date("入会日期", row.get("入会日期", ""))
    status = parse_choice("会籍状态", row.get("会籍状态", ""), MEMBER_STATUS,
                          MemberStatus.ACTIVE.value)
    card_status = parse_choice("卡状态", row.get("卡状态", ""), CARD_STATUS,
                               CardStatus.ACTIVE.value)
    old_raw = row.get("原卡号", "").strip()
    c = _cipher(state)
    old_hash = None
    if old_raw:
        old = _number("原卡号", validate_card_number, old_raw, None)
        if old == card:
            raise RowError("原卡号", "与京卡卡号相同")
        old_hash = c.lookup_hash(old, "card")
    return (
        c.lookup_hash(idn, "id"), c.encrypt(idn), mask_id_number(idn), name, sex,
        f"{idn[6:10]}-{idn[10:12]}-{idn[12:14]}", c.lookup_hash(card, "card"), c.encrypt(card),
        mask_card_number(card), card_status, old_hash, org_id, mobile,
        joined.isoformat() if joined else None, status,
    )


def _dups(ctx: ImportContext, column: Any, reason: str) -> list[tuple[int, str, str]]:
    """Later lines repeating a value that an earlier line of the file already used."""
    s = ctx.session
    assert s is not None
    st = ctx.stage
    first = (select(column.label("v"), func.min(st.c.line).label("first"))
             .where(ctx.staged()).group_by(column).having(func.count() > 1).subquery())
    rows = s.execute(select(st.c.line, first.c.first).join(first, first.c.v == column)
                     .where(ctx.staged(), st.c.line > first.c.first)).all()
    return [(line, reason[0], reason[1].format(first=f)) for line, f in rows]


def review(ctx: ImportContext) -> tuple[dict[str, int], list[tuple[int, str, str]]]:
    s = ctx.session
    assert s is not None
    st = ctx.stage
    rejects = _dups(ctx, st.c.id_hash, ("身份证号", "与第 {first} 行重复"))
    rejects += _dups(ctx, st.c.card_hash, ("京卡卡号", "与第 {first} 行重复"))
    # Who is already a member: one join (a hash join on PostgreSQL).
    s.execute(update(st).where(ctx.staged(), st.c.id_hash == Member.id_number_hash)
              .values(member_id=Member.id))
    card = aliased(JingkaCard)
    rows = s.execute(
        select(st.c.line, card.member_id, st.c.member_id)
        .join(card, card.number_hash == st.c.card_hash)
        .where(ctx.staged(), or_(st.c.member_id.is_(None), card.member_id != st.c.member_id,
                                 card.status == CardStatus.REPLACED))
    ).all()
    for line, owner, member_id in rows:
        if owner != member_id:
            rejects.append((line, "京卡卡号", "该卡号已登记给其他会员"))
        else:
            rejects.append((line, "京卡卡号", "该卡号已补卡作废，不能再次使用"))
    bad_old = s.execute(
        select(st.c.line).where(
            ctx.staged(), st.c.old_card_hash.is_not(None),
            not_(exists().where(JingkaCard.number_hash == st.c.old_card_hash,
                                JingkaCard.member_id == st.c.member_id)))
    ).scalars().all()
    rejects += [(line, "原卡号", "与该会员已登记的京卡不符") for line in bad_old]
    drop_lines(ctx, [line for line, _c, _r in rejects])
    return _classify(ctx), rejects


def _detail_changed(st: Table) -> Any:
    return or_(Member.name != st.c.name, Member.mobile.is_distinct_from(st.c.mobile),
               Member.org_id != st.c.org_id, Member.status != st.c.status,
               and_(st.c.joined_on.is_not(None),
                    Member.joined_on.is_distinct_from(st.c.joined_on)))


def _new_card(st: Table) -> Any:
    return not_(exists().where(JingkaCard.number_hash == st.c.card_hash))


def _classify(ctx: ImportContext) -> dict[str, int]:
    """Preview counts over the staged rows (rejected rows already dropped)."""
    s = ctx.session
    assert s is not None
    st = ctx.stage
    known = st.c.member_id.is_not(None)
    new = st.c.member_id.is_(None)
    changed = and_(known, exists().where(Member.id == st.c.member_id, _detail_changed(st)))
    replaced = and_(known, _new_card(st))
    card_status = and_(known, exists().where(JingkaCard.number_hash == st.c.card_hash,
                                             JingkaCard.status != st.c.card_status))
    left = and_(known, st.c.status != MemberStatus.ACTIVE,
                exists().where(Member.id == st.c.member_id,
                               Member.status == MemberStatus.ACTIVE))

    def count(*where: Any) -> int:
        return s.scalar(select(func.count()).select_from(st).where(ctx.staged(), *where)) or 0

    return {
        "new": count(new), "changed": count(changed), "cards_replaced": count(replaced),
        "card_status": count(card_status), "left": count(left),
        "unchanged": count(not_(or_(new, changed, replaced, card_status))),
    }


def apply(ctx: ImportContext) -> dict[str, Any]:
    s = ctx.session
    assert s is not None
    st = ctx.stage
    now, today = utcnow(), date.today()
    mine = ctx.staged()
    s.execute(update(st).where(mine, st.c.member_id.is_(None))
              .values(member_id=Member.id).where(st.c.id_hash == Member.id_number_hash))
    _flag_and_assign_ids(ctx)

    def count(*where: Any) -> int:
        # Counted up front: rowcount of INSERT … SELECT is not reliable on every driver.
        return s.scalar(select(func.count()).select_from(st).where(mine, *where)) or 0

    created = count(st.c.is_new)
    updated = count(not_(st.c.is_new),
                    exists().where(Member.id == st.c.member_id, _detail_changed(st)))
    retired = count(st.c.new_card, not_(st.c.is_new), exists().where(
        JingkaCard.member_id == st.c.member_id,
        JingkaCard.status.in_((CardStatus.ACTIVE, CardStatus.LOST))))
    card_status = count(not_(st.c.new_card), exists().where(
        JingkaCard.number_hash == st.c.card_hash, JingkaCard.status != st.c.card_status,
        JingkaCard.status.in_((CardStatus.ACTIVE, CardStatus.LOST, CardStatus.CLOSED))))

    _reindex(ctx, created + updated)  # before the update makes changed rows look unchanged

    ctx.progress(1, 6, "新增会员", force=True)
    s.execute(insert(Member).from_select(
        ["id", "name", "sex", "id_number_enc", "id_number_hash", "id_number_masked",
         "birth_date", "mobile", "org_id", "status", "joined_on", "left_on", "created_at",
         "updated_at"],
        select(st.c.member_id, st.c.name, st.c.sex, st.c.id_enc, st.c.id_hash, st.c.id_masked,
               st.c.birth_date,
               st.c.mobile, st.c.org_id, st.c.status, st.c.joined_on,
               _case_left(st, literal(today)), literal(now, Member.created_at.type),
               literal(now, Member.updated_at.type))
        .where(mine, st.c.is_new)
    ))
    s.execute(insert(Account).from_select(
        ["member_id", "display_name", "must_change_password", "is_active", "session_version",
         "created_at"],
        select(st.c.member_id, st.c.name, literal(False), literal(True), literal(1),
               literal(now, Account.created_at.type)).where(mine, st.c.is_new)))

    ctx.progress(2, 6, "更新会员信息", force=True)
    left_on = func.coalesce(Member.left_on, literal(today))
    s.execute(
        update(Member).where(mine, st.c.member_id == Member.id, not_(st.c.is_new),
                             _detail_changed(st))
        .values(name=st.c.name, mobile=st.c.mobile, org_id=st.c.org_id, status=st.c.status,
                joined_on=func.coalesce(st.c.joined_on, Member.joined_on),
                left_on=_case_left(st, left_on), updated_at=now)
    )

    ctx.progress(3, 6, "补卡换号", force=True)
    s.execute(
        update(JingkaCard).where(
            JingkaCard.member_id.in_(select(st.c.member_id).where(
                mine, st.c.new_card, not_(st.c.is_new))),
            JingkaCard.status.in_((CardStatus.ACTIVE, CardStatus.LOST)))
        .values(status=CardStatus.REPLACED, status_changed_at=now)
        .execution_options(synchronize_session=False)
    )
    s.execute(insert(JingkaCard).from_select(
        ["member_id", "number_enc", "number_hash", "number_masked", "status", "issued_on",
         "created_at"],
        select(st.c.member_id, st.c.card_enc, st.c.card_hash, st.c.card_masked,
               st.c.card_status, literal(today), literal(now, JingkaCard.created_at.type))
        .where(mine, st.c.new_card)))
    new_card = aliased(JingkaCard)
    s.execute(
        update(JingkaCard).where(
            JingkaCard.status == CardStatus.REPLACED, JingkaCard.replaced_by_id.is_(None),
            JingkaCard.member_id == st.c.member_id, mine, st.c.new_card, not_(st.c.is_new))
        .values(replaced_by_id=select(new_card.id).where(
            new_card.number_hash == st.c.card_hash).scalar_subquery())
        .execution_options(synchronize_session=False))

    ctx.progress(4, 6, "京卡状态", force=True)
    s.execute(
        update(JingkaCard).where(
            mine, JingkaCard.number_hash == st.c.card_hash, not_(st.c.new_card),
            JingkaCard.status != st.c.card_status,
            JingkaCard.status.in_((CardStatus.ACTIVE, CardStatus.LOST, CardStatus.CLOSED)))
        .values(status=st.c.card_status, status_changed_at=now)
        .execution_options(synchronize_session=False)
    )

    ctx.progress(5, 6, "审计记录", force=True)
    _audit(ctx, "card.replace", and_(mine, st.c.new_card, not_(st.c.is_new)))
    _audit(ctx, "member.update", and_(mine, not_(st.c.is_new), st.c.status != "active"))
    counts = {"created": created, "updated": updated, "cards_replaced": retired,
              "card_status": card_status}
    ctx.progress(6, 6, "通知各业务模块", force=True)
    reactions = exchange.members_changed(ctx.app, MemberChanges(
        s, ctx.batch_id, ctx.owner_id,
        new=select(st.c.member_id).where(mine, st.c.is_new),
        left=select(st.c.member_id).where(mine, st.c.was_active),
        cards_replaced=select(st.c.member_id).where(mine, st.c.new_card, not_(st.c.is_new)),
        counts=counts, params=ctx.params))
    return {**counts, "reactions": reactions} if reactions else counts


#: Above this many new or changed members, rebuild their search documents in one job
#: instead of queueing each (a rebuild writes the index in bulk, with several processes).
REINDEX_QUEUE_LIMIT = 10_000


def _reindex(ctx: ImportContext, touched: int) -> None:
    from unionhub.jobs import submit
    from unionhub.search import queue as search_queue

    s = ctx.session
    assert s is not None
    st = ctx.stage
    if touched > REINDEX_QUEUE_LIMIT:
        submit("core.search_rebuild", {"doc_types": ["core.member"]}, session=s,
               owner_id=ctx.owner_id)
    elif touched:
        search_queue.enqueue_select(s, "core.member", select(st.c.member_id).where(
            ctx.staged(), or_(st.c.is_new, exists().where(
                Member.id == st.c.member_id, _detail_changed(st)))))


def _flag_and_assign_ids(ctx: ImportContext) -> None:
    """Flag new members and new cards, and give new members their ids in the staging table
    — one pass over the staged rows (each UPDATE rewrites every row on PostgreSQL) — so no
    join back from ``member`` by hash is needed after inserting them.

    PostgreSQL draws ids from the ``member`` sequence, row by row and safe under
    concurrency. SQLite has one writer, and this transaction already holds the write lock
    (it updated the staging table): ids are ``max(id) + line``, leaving harmless gaps."""
    s = ctx.session
    assert s is not None
    st = ctx.stage
    new = st.c.member_id.is_(None)
    if ctx.dialect == "postgresql":
        next_id: Any = func.nextval(func.pg_get_serial_sequence("member", "id"))
    else:
        base = s.scalar(select(func.coalesce(func.max(Member.id), 0))) or 0
        next_id = st.c.line + base
    leaving = exists().where(Member.id == st.c.member_id, Member.status == MemberStatus.ACTIVE)
    s.execute(update(st).where(ctx.staged()).values(
        is_new=new, new_card=_new_card(st),
        was_active=case((st.c.status != MemberStatus.ACTIVE, leaving), else_=False),
        member_id=case((new, next_id), else_=st.c.member_id)))


def _case_left(st: Table, left_on: Any) -> Any:
    return case((st.c.status == MemberStatus.ACTIVE, None), else_=left_on)


def _audit(ctx: ImportContext, action: str, where: Any) -> None:
    """One audit entry per member touched, written set-based."""
    s = ctx.session
    assert s is not None
    st = ctx.stage
    s.execute(insert(AuditLog).from_select(
        ["at", "actor_id", "actor_name", "action", "target_type", "target_id", "org_path",
         "details"],
        select(literal(utcnow(), AuditLog.at.type), literal(ctx.owner_id, Integer),
               literal("import"), literal(action), literal("member"),
               func.cast(st.c.member_id, String), Org.path,
               literal({"import": ctx.batch_id}, JSON))
        .join(Org, Org.id == st.c.org_id).where(where)))


HANDLER = ImportHandler(
    code="members",
    label="市总京卡会员数据",
    permission="core.members.import",
    required=REQUIRED,
    optional=OPTIONAL,
    prepare=prepare,
    validate=validate,
    stage=stage,
    review=review,
    apply=apply,
    description="新会员、信息变更、补卡换号（原卡号）、挂失与注销、退会与转出",
    count_labels={"new": "新会员", "changed": "信息变更", "cards_replaced": "补卡换号",
                  "card_status": "卡状态变更", "left": "退会/转出", "unchanged": "无变化",
                  "rejected": "错误行", "created": "已新增", "updated": "已更新"},
)


def current_handler() -> ImportHandler:
    return current_app.extensions["imports"]["core.members"]
