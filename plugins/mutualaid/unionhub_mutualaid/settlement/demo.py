"""Demo data: a small settlement file's worth of records, fast claims, one ECBX quarter."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub.identity.models import Member
from unionhub.identity.numbers import make_id_number
from unionhub.security.crypto import FieldCipher, load_key

from ..models import MutualaidCoverage, MutualaidSettlement
from . import ecbx, fastclaims
from .models import settled_quarter

HOSPITALS = ("北京协和医院", "北京大学第一医院", "北京朝阳医院", "北京积水潭医院", "北京天坛医院",
             "首都医科大学附属北京友谊医院")
DIAGNOSES = (("J18.9", "肺炎"), ("I10", "原发性高血压"), ("K35.8", "急性阑尾炎"),
             ("E11.9", "2型糖尿病"), ("S82.2", "胫骨骨折"), ("C34.9", "肺恶性肿瘤"))


def _money(rng: Any, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def _record(rng: Any, serial: str, id_hash: str, name: str, member_id: int | None,
            settled: date, inpatient: bool) -> MutualaidSettlement:
    total = _money(rng, 200, 3000) if not inpatient else _money(rng, 3000, 60000)
    self_pay_1 = (total * Decimal(rng.choice(("0.1", "0.15", "0.2", "0.3")))).quantize(
        Decimal("0.01"))
    pooled = total - self_pay_1
    code, diag = rng.choice(DIAGNOSES)
    admitted = settled - timedelta(days=rng.randint(2, 20)) if inpatient else None
    discharged = settled - timedelta(days=rng.randint(0, 1)) if inpatient else None
    if admitted and discharged and discharged < admitted:
        discharged = admitted
    return MutualaidSettlement(
        serial=serial, member_id=member_id, id_hash=id_hash, name=name,
        visit_type="inpatient" if inpatient else "outpatient", hospital=rng.choice(HOSPITALS),
        settled_on=settled, quarter=settled_quarter(settled), admitted_on=admitted,
        discharged_on=discharged, total=total, pooled=pooled, large=Decimal("0.00"),
        self_pay_1=self_pay_1, self_pay_2=Decimal("0.00"), self_funded=Decimal("0.00"),
        diagnosis_codes=code, diagnosis_names=diag, revision=1)


def seed(session: Session, ctx: Any) -> None:
    rng = ctx.rng
    year = date.today().year
    first = date(year, 1, 1)
    ids = ctx.member_ids[:240]
    members = session.execute(select(Member.id, Member.id_number_hash, Member.name)
                              .where(Member.id.in_(ids))).all()
    enrolled = set(session.scalars(select(MutualaidCoverage.member_id).where(
        MutualaidCoverage.program.in_(("ZYYL", "ZYJT")), MutualaidCoverage.plan_year == year,
        MutualaidCoverage.member_id.in_(ids))))
    records: list[MutualaidSettlement] = []
    n = 0
    for mid, id_hash, name in members:
        for _ in range(rng.choice((1, 1, 2))):
            n += 1
            inpatient = (mid in enrolled and rng.random() < 0.5) or rng.random() < 0.1
            settled = first + timedelta(days=rng.randint(20, 88))
            records.append(_record(rng, f"YB{year}{n:08d}", id_hash, name, mid, settled,
                                   inpatient))
    cipher = FieldCipher(load_key(current_app.config["FIELD_ENCRYPTION_KEY"]),
                         load_key(current_app.config["FIELD_HASH_KEY"]))
    for i in range(6):  # people who are not members: stored, set aside
        n += 1
        idn = make_id_number("110108", date(1970 + i, 3, 1 + i), 900 + i)
        records.append(_record(rng, f"YB{year}{n:08d}", cipher.lookup_hash(idn, "id"),
                               "非会员", None, first + timedelta(days=30 + i), False))
    session.add_all(records)
    session.flush()
    # a correction: same serial, later settlement date, one more revision
    corrected = next(r for r in records if r.member_id is not None)
    corrected.settled_on += timedelta(days=2)
    corrected.self_pay_1 += Decimal("120.00")
    corrected.total += Decimal("120.00")
    # (the record keeps its first quarter: see importer's docstring)
    corrected.revision += 1
    session.flush()
    fastclaims.create_for(session, MutualaidSettlement.id.in_([r.id for r in records]))
    ecbx.run_quarter(session, f"{year}Q1")
    ctx.lines.append(f"医保结算数据: {len(records)} 条；二次报销 {year}Q1 已计算")
