"""A sample import handler: notes for members, keyed by ID number."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Integer, String, Table, func, insert, select, update

from unionhub.db import Base
from unionhub.identity.models import Member
from unionhub.identity.numbers import InvalidNumber, validate_id_number
from unionhub.imports import ImportHandler, RowError
from unionhub.imports.engine import ImportContext
from unionhub.security.crypto import FieldCipher, load_key

stage = Table(
    "sample_import_stage",
    Base.metadata,
    Column("import_id", Integer, primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("id_hash", String(64), nullable=False),
    Column("text", String(500), nullable=False),
    Column("member_id", Integer),
)


def prepare(ctx: ImportContext) -> None:
    ctx.state["hash_key"] = load_key(ctx.app.config["FIELD_HASH_KEY"])
    ctx.state["enc_key"] = load_key(ctx.app.config["FIELD_ENCRYPTION_KEY"])


def validate(state: dict[str, Any], row: dict[str, str]) -> tuple[Any, ...]:
    try:
        idn = validate_id_number(row["身份证号"])
    except InvalidNumber as exc:
        raise RowError("身份证号", exc.reason) from None
    text = row["内容"].strip()
    if not text:
        raise RowError("内容", "不能为空")
    cipher = FieldCipher(state["enc_key"], state["hash_key"])
    return (cipher.lookup_hash(idn, "id"), text[:500])


def review(ctx: ImportContext) -> tuple[dict[str, int], list[tuple[int, str, str]]]:
    s = ctx.session
    assert s is not None
    s.execute(update(stage).where(ctx.staged(), stage.c.id_hash == Member.id_number_hash)
              .values(member_id=Member.id))
    unknown = s.scalars(select(stage.c.line).where(ctx.staged(), stage.c.member_id.is_(None)))
    rejects = [(line, "身份证号", "不是会员") for line in unknown]
    total = s.scalar(select(func.count()).select_from(stage).where(ctx.staged())) or 0
    return {"new": total - len(rejects)}, rejects


def apply(ctx: ImportContext) -> dict[str, int]:
    from unionhub_sample.models import SampleNote

    s = ctx.session
    assert s is not None
    n = s.scalar(select(func.count()).select_from(stage).where(ctx.staged())) or 0
    s.execute(insert(SampleNote).from_select(
        ["member_id", "text"], select(stage.c.member_id, stage.c.text).where(ctx.staged())))
    return {"created": n}


HANDLER = ImportHandler(
    code="notes", label="示例笔记", permission="sample.notes.write",
    required=("身份证号", "内容"), validate=validate, stage=stage, review=review,
    apply=apply, prepare=prepare,
)
