"""Mutual aid at scale: a year's quarter of medical-insurance settlement records and a queue of
claims, against a set-based SQL baseline.

1. 1,000,000 settlement records for 200,000 members (about 5% of the records belong to people
   who are not members): import through the import framework (validate, stage, review with
   member matching, apply), then the 二次报销 quarter (``settlement.ecbx.run_quarter``: bases,
   the engine per member, payee verification, payouts queued). Baseline in the same run: one
   set-based SQL statement computing the same 二次报销 totals (deductible, ratio, lifetime cap,
   fen rounding half up), whose result must equal ours to the fen.
2. Automatic adjudication of 100,000 claims (``decide.evaluate_many``: rows in, explained
   decisions written back).

Targets on a 2-core machine: the settlement run ≤ 120 s, ≥ 2,000 claims/s.

Usage::

    .venv/bin/python bench/mutualaid.py                       # SQLite
    .venv/bin/python bench/mutualaid.py --records 100000 --members 20000 --claims 10000
    .venv/bin/python bench/mutualaid.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))
from import_members import N_ORGS, REGIONS
from import_members import make_file as make_member_file

from unionhub import migrate
from unionhub.app import create_app
from unionhub.db import get_db, utcnow
from unionhub.identity.models import Member
from unionhub.identity.numbers import make_id_number
from unionhub.imports import engine
from unionhub.imports.models import BatchStatus, ImportBatch
from unionhub.orgs.models import OrgLevel
from unionhub.orgs.service import create_org
from unionhub.plugins import discovery, state
from unionhub.security.crypto import generate_key

QUARTER = "2026Q1"
SETTLEMENT_HEADER = ["结算流水号", "身份证号", "姓名", "就诊类型", "医院名称", "结算日期",
                     "医疗费总额", "统筹支付", "个人自付一", "入院日期", "出院日期", "诊断编码"]
HOSPITALS = ["北京朝阳医院", "北京协和医院", "北京大学第一医院", "首都儿科研究所附属儿童医院",
             "北京天坛医院", "北京积水潭医院"]
DIAGNOSES = ["J18.9", "K35.8", "I10", "E11.9", "C50.9", "M54.5", "N18.5", ""]


def id_number(i: int) -> str:
    """The i-th person of bench/import_members.py's member file (same formula)."""
    return make_id_number(REGIONS[i % 7], date(1960, 1, 1) + timedelta(days=i // 1000), i % 1000)


def make_settlement_file(path: Path, records: int, people: int, seed: int = 11) -> None:
    """``records`` rows for ``people`` people of whom the first ``members`` are members; dates
    in the first quarter of 2026; 10% inpatient."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(SETTLEMENT_HEADER)
        for i in range(records):
            person = rng.randrange(people)
            settled = date(2026, 1, 1) + timedelta(days=rng.randrange(90))
            total = rng.randint(5_000, 2_000_000)  # fen
            self_pay = total * rng.randint(5, 40) // 100
            inpatient = rng.random() < 0.1
            admitted = settled - timedelta(days=rng.randint(1, 20)) if inpatient else None
            w.writerow([
                f"S{i:09d}", id_number(person), "职工", "住院" if inpatient else "门诊",
                rng.choice(HOSPITALS), settled.isoformat(), f"{total / 100:.2f}",
                f"{(total - self_pay) / 100:.2f}", f"{self_pay / 100:.2f}",
                admitted.isoformat() if admitted else "",
                (admitted + timedelta(days=rng.randint(0, 10))).isoformat()
                if admitted and admitted + timedelta(days=10) <= settled else
                (settled.isoformat() if admitted else ""),
                rng.choice(DIAGNOSES),
            ])


BASELINE_SQL = """
SELECT COALESCE(SUM(amount), 0), COUNT(*) FROM (
  SELECT CASE WHEN paid > :lifetime THEN :lifetime ELSE paid END AS amount FROM (
    SELECT (CASE WHEN basis > :deductible THEN basis - :deductible ELSE 0 END * :ratio_num
            + :half) / :ratio_den AS paid  -- integer division: half up to the fen
    FROM (
      SELECT CAST(SUM(s.self_pay_1) AS BIGINT) AS basis  -- SUM(bigint) is NUMERIC on PostgreSQL
      FROM mutualaid_settlement s JOIN member m ON m.id = s.member_id
      WHERE s.quarter = :quarter AND m.status = 'active'
        AND EXISTS (SELECT 1 FROM jingka_card c WHERE c.member_id = m.id AND c.status = 'active')
      GROUP BY s.member_id
    ) bases
  ) per_member
) capped WHERE amount > 0
"""


def baseline(conn: Any, rules: Any) -> tuple[Decimal, int]:
    """One set-based statement: the same 二次报销 totals in fen (first run of the quarter)."""
    item = rules.benefit("secondary")
    ratio = item.ratio
    den = 10 ** max(0, -ratio.as_tuple().exponent)
    fen, n = conn.execute(text(BASELINE_SQL), {
        "quarter": QUARTER, "deductible": int(item.deductible * 100),
        "ratio_num": int(ratio * den), "ratio_den": den, "half": den // 2,
        "lifetime": int(rules.lifetime_cap.base * 100)}).one()
    return Decimal(int(fen)) / 100, int(n)


def setup(url: str, tmp: Path) -> Any:
    cfg = {"INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": url, "SECRET_KEY": "bench",
           "FIELD_ENCRYPTION_KEY": generate_key(), "FIELD_HASH_KEY": generate_key(),
           "LOG_LEVEL": "WARNING"}
    app = create_app(cfg)
    with app.app_context():
        migrate.upgrade(get_db().engine, discovery.discover(), echo=lambda _m: None)
        from unionhub import db

        state.set_enabled(db.session(), discovery.discover(), "mutualaid", True)
        db.session().commit()
    get_db(app).engine.dispose()
    return create_app(cfg)  # a restart: the plugin is on


def import_file(app: Any, handler: str, path: Path) -> tuple[float, float, dict[str, Any]]:
    from unionhub import db

    s = db.session()
    b = engine.create_batch(s, app, handler, path, path.name, None)
    s.commit()
    t0 = time.perf_counter()
    engine.stage(app, b.id, lambda *a, **k: None)
    staged = time.perf_counter() - t0
    s.expire_all()
    row = s.get(ImportBatch, b.id)
    assert row is not None and row.status == BatchStatus.READY, row.error
    preview = dict(row.preview)
    t0 = time.perf_counter()
    engine.apply(app, b.id, lambda *a, **k: None)
    return staged, time.perf_counter() - t0, preview


def bench_settlement(app: Any, tmp: Path, records: int, members: int) -> None:
    from unionhub import db
    from unionhub_mutualaid import plans
    from unionhub_mutualaid.settlement import ecbx

    with app.app_context():
        s = db.session()
        city = create_org(s, code="C", name="市总工会", level=OrgLevel.CITY, parent=None)
        district = create_org(s, code="D", name="区工会", level=OrgLevel.DISTRICT, parent=city)
        for i in range(N_ORGS):
            create_org(s, code=f"B{i:03d}", name=f"基层工会{i}", level=OrgLevel.GRASSROOTS,
                       parent=district)
        plans.seed(s, (2026,))
        s.commit()
        member_file = tmp / "members.csv"
        make_member_file(member_file, members)
        t0 = time.perf_counter()
        import_file(app, "core.members", member_file)
        n_members = s.scalar(select(func.count()).select_from(Member))
        print(f"  setup: {n_members:,} members imported in {time.perf_counter() - t0:.1f} s")

        path = tmp / "settlements.csv"
        t0 = time.perf_counter()
        make_settlement_file(path, records, int(members / 0.95))
        print(f"  settlement file: {records:,} rows, {path.stat().st_size / 2**20:.0f} MiB, "
              f"made in {time.perf_counter() - t0:.1f} s")
        staged, applied, preview = import_file(app, "mutualaid.settlement", path)
        t0 = time.perf_counter()
        batch = ecbx.run_quarter(s, QUARTER)
        s.commit()
        ours_time = time.perf_counter() - t0
        assert batch is not None
        ours_total, ours_lines = batch.total, batch.paid_lines
        rules = plans.rules_of(plans.current(s, "ECBX", 2026))  # type: ignore[arg-type]
        t0 = time.perf_counter()
        base_total, base_lines = baseline(s.connection(), rules)
        base_time = time.perf_counter() - t0
    total = staged + applied + ours_time
    print(f"  preview: {preview}")
    print(f"  validate + stage + review (matching) {staged:7.1f} s")
    print(f"  apply                                {applied:7.1f} s")
    print(f"  二次报销 quarter (engine, payouts)    {ours_time:7.1f} s  "
          f"{ours_lines:,} members owed {ours_total:,} 元")
    print(f"  settlement run                       {total:7.1f} s  ({records / total:,.0f} "
          f"rows/s)  target ≤ 120 s: {'OK' if total <= 120 else 'OVER'}")
    print(f"  baseline: one SQL statement          {base_time:7.1f} s  {base_lines:,} members "
          f"owed {base_total:,} 元")
    print(f"  ratio (二次报销 step / baseline)     {ours_time / base_time:7.1f}x; totals "
          f"{'equal' if (ours_total, ours_lines) == (base_total, base_lines) else 'DIFFER'}")


def bench_claims(app: Any, n_claims: int) -> None:
    from unionhub import db
    from unionhub_mutualaid import decide, plans
    from unionhub_mutualaid.models import MutualaidClaim, MutualaidCoverage

    rng = random.Random(5)
    with app.app_context():
        s = db.session()
        plan = plans.current(s, "ZYYL", 2026)
        assert plan is not None
        rows = s.execute(select(Member.id, Member.org_id).order_by(Member.id)
                         .limit(n_claims // 2)).all()
        now = utcnow()
        s.execute(insert(MutualaidCoverage), [
            {"member_id": mid, "plan_id": plan.id, "program": "ZYYL", "plan_year": 2026,
             "unit_org_id": org, "shares": 1, "start": date(2026, 1, 1),
             "end": date(2026, 12, 31), "first_enrolled": date(2025, 1, 1),
             "fee": Decimal("60.00"), "status": "active", "source": "import",
             "created_at": now} for mid, org in rows])
        covs = dict(s.execute(select(MutualaidCoverage.member_id, MutualaidCoverage.id)).all())
        claims = []
        for i in range(n_claims):
            mid = rows[i % len(rows)][0]
            admitted = date(2026, 2, 1) + timedelta(days=rng.randrange(200))
            total = Decimal(rng.randint(50_000, 3_000_000)) / 100
            claims.append({
                "number": f"B{i:09d}", "member_id": mid, "org_path": "/", "plan_id": plan.id,
                "program": "ZYYL", "plan_year": 2026, "coverage_id": covs[mid],
                "benefit": "medical", "cause": "illness", "event_date": admitted,
                "stays": [[admitted.isoformat(),
                           (admitted + timedelta(days=rng.randint(0, 15))).isoformat()]],
                "total_amount": total, "out_of_pocket": (total * rng.randint(10, 60) / 100)
                .quantize(Decimal("0.01")), "already_reimbursed": Decimal("0.00"),
                "diagnoses": [], "source": "settlement", "status": "submitted",
                "submitted_on": date(2026, 11, 1), "decision": {}, "created_at": now,
                "updated_at": now})
        s.execute(insert(MutualaidClaim), claims)
        s.commit()
        t0 = time.perf_counter()
        decided = 0
        for start in range(0, n_claims, 5_000):
            chunk = list(s.scalars(select(MutualaidClaim).where(
                MutualaidClaim.number >= f"B{start:09d}",
                MutualaidClaim.number < f"B{start + 5_000:09d}")))
            decided += len(decide.evaluate_many(s, chunk))
            s.commit()
            s.expunge_all()
        took = time.perf_counter() - t0
    print(f"  automatic adjudication: {decided:,} claims in {took:.1f} s = "
          f"{decided / took:,.0f} claims/s  target ≥ 2,000: "
          f"{'OK' if decided / took >= 2000 else 'UNDER'}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--records", type=int, default=1_000_000)
    p.add_argument("--members", type=int, default=200_000)
    p.add_argument("--claims", type=int, default=100_000)
    p.add_argument("--database-url", default=None,
                   help="PostgreSQL server URL (a throwaway database is created) or omit "
                        "for a new SQLite file")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="uh-mutualaid-bench-"))
    admin, name = None, ""
    if args.database_url and args.database_url.startswith("postgresql"):
        name = f"uh_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(args.database_url).set(database=name).render_as_string(False)
    else:
        url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    app = setup(url, tmp)
    print(f"UnionHub mutual-aid benchmark — {get_db(app).engine.dialect.name}")
    try:
        bench_settlement(app, tmp, args.records, args.members)
        bench_claims(app, args.claims)
    finally:
        get_db(app).engine.dispose()
        if admin is not None:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
