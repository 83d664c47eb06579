"""The OA data-exchange run at scale: one period's 100,000-row member/Jingka file through
preview (validate, stage, review), apply (with the plugins' reactions), the automatic
mutual-aid accounting and the queuing of every affected worker's notification — against a
baseline, in the same run, of the accounting done as one SQL ``GROUP BY`` over mutual-aid
coverage.

Setup (not timed): a fresh migrated database with the OA and mutual-aid plugins on, 50 units
under one district, the plan year's programs, a base of members imported through the core
import (bench/import_members.py's file), every base member enrolled in 住院医疗 (ZYYL) and
every other one in 重大疾病 (ZDJB, one or two shares) with set-based inserts.

The run's file repeats the base with, relative to it, 2% cards replaced (a new number for a
known person), 1% left (会籍状态 退会) and 3% new members; about 1% of all rows are bad (bad ID
check characters, impossible dates, unknown org codes, bad Luhn digits). The run goes through
``unionhub_oa.exchange.run`` exactly as the job does (``run_inline``); each step's time comes
from the run's own step log.

Usage::

    .venv/bin/python bench/oa_run.py                        # SQLite, 100,000 rows
    .venv/bin/python bench/oa_run.py --sizes 10000 100000 --repeats 5
    .venv/bin/python bench/oa_run.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, literal, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))
from import_members import N_ORGS
from import_members import make_file as make_member_file

from unionhub import migrate
from unionhub.app import create_app
from unionhub.db import get_db, utcnow
from unionhub.identity.models import Member
from unionhub.identity.numbers import make_card_number
from unionhub.imports import engine
from unionhub.imports.models import BatchStatus, ImportBatch
from unionhub.orgs.models import OrgLevel
from unionhub.orgs.service import create_org
from unionhub.plugins import discovery, state
from unionhub.security.crypto import generate_key

PERIOD = "2026-11"
ENCODING = "gbk"
CARD_COL, STATUS_COL = 2, 6


def is_bad(i: int) -> bool:
    """The rows bench/import_members.py makes bad on purpose."""
    return i % 100 == 37


def make_files(tmp: Path, rows: int) -> tuple[Path, Path, dict[str, int]]:
    """The base file (setup) and the run's file, and the preview the run must show."""
    full = tmp / "full.csv"
    bad = make_member_file(full, rows)
    base_rows = round(rows / 1.03)
    with full.open(encoding=ENCODING, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        body = list(reader)
    base = tmp / "base.csv"
    with base.open("w", encoding=ENCODING, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(body[:base_rows])
    expected = {"new": 0, "cards_replaced": 0, "left": 0, "rejected": bad}
    run_file = tmp / f"jingka-{PERIOD}.csv"
    with run_file.open("w", encoding=ENCODING, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i, row in enumerate(body):
            if i >= base_rows:
                expected["new"] += not is_bad(i)
            elif not is_bad(i) and i % 50 == 11:  # 2%: a new card for a known person
                row[CARD_COL] = make_card_number("621468", 30_000_000 + i)
                expected["cards_replaced"] += 1
            elif not is_bad(i) and i % 100 == 53:  # 1%: left the union
                row[STATUS_COL] = "退会"
                expected["left"] += 1
            w.writerow(row)
    return base, run_file, expected


def setup(url: str, tmp: Path) -> Any:
    cfg = {"INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": url, "SECRET_KEY": "bench",
           "FIELD_ENCRYPTION_KEY": generate_key(), "FIELD_HASH_KEY": generate_key(),
           "LOG_LEVEL": "WARNING", "FAST_PASSWORD_HASH": True}
    app = create_app(cfg)
    with app.app_context():
        migrate.upgrade(get_db().engine, discovery.discover(), echo=lambda _m: None)
        from unionhub import db

        found = discovery.discover()
        state.set_enabled(db.session(), found, "mutualaid", True)
        state.set_enabled(db.session(), found, "oa", True)
        db.session().commit()
    get_db(app).engine.dispose()
    return create_app(cfg)  # a restart: the plugins are on


def seed(app: Any, plan_year: int) -> int:
    """Orgs, the plan year's programs and an officer who runs the exchange; its account id."""
    from unionhub import db
    from unionhub.identity.admin import create_officer
    from unionhub_mutualaid import plans

    with app.app_context():
        s = db.session()
        city = create_org(s, code="C", name="市总工会", level=OrgLevel.CITY, parent=None)
        district = create_org(s, code="D", name="区工会", level=OrgLevel.DISTRICT, parent=city)
        for i in range(N_ORGS):
            create_org(s, code=f"B{i:03d}", name=f"基层工会{i}", level=OrgLevel.GRASSROOTS,
                       parent=district)
        plans.seed(s, (plan_year,))
        officer = create_officer(s, "bench", "数据交换基准", "Bench-passw0rd", "city_officer",
                                 city)
        s.commit()
        return officer.id


def import_base(app: Any, path: Path) -> None:
    from unionhub import db

    with app.app_context():
        s = db.session()
        b = engine.create_batch(s, app, "core.members", path, path.name, None)
        s.commit()
        engine.stage(app, b.id, lambda *a, **k: None)
        s.expire_all()
        row = s.get(ImportBatch, b.id)
        assert row is not None and row.status == BatchStatus.READY, row.error
        engine.apply(app, b.id, lambda *a, **k: None)


def enroll(app: Any, plan_year: int) -> int:
    """Every member in ZYYL (1 share, 60 元), every other one in ZDJB (1–2 shares, 90 元 a
    share): two INSERT … SELECT. Returns the coverage rows."""
    from unionhub import db
    from unionhub_mutualaid import plans
    from unionhub_mutualaid.models import MutualaidCoverage

    with app.app_context():
        s = db.session()
        now = utcnow()
        start, end = date(plan_year, 1, 1), date(plan_year, 12, 31)
        cols = ["member_id", "plan_id", "program", "plan_year", "unit_org_id", "shares",
                "start", "end", "first_enrolled", "fee", "status", "source", "created_at"]
        for program, fen_per_share, where, shares in (
                ("ZYYL", 6000, Member.id.is_not(None), literal(1)),
                ("ZDJB", 9000, Member.id % 2 == 0, 1 + Member.id % 4 // 2)):
            plan = plans.current(s, program, plan_year)
            assert plan is not None, program
            s.execute(insert(MutualaidCoverage).from_select(cols, select(
                Member.id, literal(plan.id), literal(program), literal(plan_year),
                Member.org_id, shares, literal(start), literal(end), literal(start),
                shares * fen_per_share,  # Fen columns hold whole fen
                literal("active"), literal("import"),
                literal(now, MutualaidCoverage.created_at.type)).where(where)))
        s.commit()
        return s.scalar(select(func.count()).select_from(MutualaidCoverage)) or 0


BASELINE_SQL = """
SELECT unit_org_id, program, COUNT(DISTINCT member_id), SUM(shares), SUM(fee)
FROM mutualaid_coverage WHERE plan_year = :year
GROUP BY unit_org_id, program
"""


def baseline(conn: Any, plan_year: int) -> tuple[int, int, Decimal]:
    """The accounting as one GROUP BY over coverage: heads, shares and fees due (元)."""
    rows = conn.execute(text(BASELINE_SQL), {"year": plan_year}).all()
    return (sum(int(r[2]) for r in rows), sum(int(r[3]) for r in rows),
            Decimal(sum(int(r[4]) for r in rows)) / 100)


def median_time(fn: Any, repeats: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def bench(url: str, tmp: Path, rows: int, repeats: int) -> None:
    from unionhub import db
    from unionhub.notify.models import Notification, NotifyOutbox
    from unionhub_oa.accounting.compute import compute
    from unionhub_oa.exchange import run as exchange
    from unionhub_oa.exchange.models import OaRun

    plan_year = date.today().year
    app = setup(url, tmp)
    dialect = get_db(app).engine.dialect.name
    try:
        officer_id = seed(app, plan_year)
        t0 = time.perf_counter()
        base_file, run_file, expected = make_files(tmp, rows)
        made = time.perf_counter() - t0
        t0 = time.perf_counter()
        import_base(app, base_file)
        coverage = enroll(app, plan_year)
        with app.app_context():
            members = db.session().scalar(select(func.count()).select_from(Member))
        print(f"UnionHub OA data-exchange run — {rows:,} rows, {dialect}")
        print(f"  setup: files made in {made:.1f} s; {members:,} base members imported and "
              f"{coverage:,} coverage rows written in {time.perf_counter() - t0:.1f} s")

        started = time.perf_counter()
        with app.app_context():
            from unionhub.identity.models import Account

            s = db.session()
            officer = s.get(Account, officer_id)
            assert officer is not None
            run = exchange.create_run(s, app, officer, period=PERIOD, plan_year=plan_year,
                                      path=run_file, filename=run_file.name, auto_apply=True)
            s.commit()
            run_id = run.id
        registered = time.perf_counter() - started
        done = exchange.run_inline(app, run_id)
        whole = time.perf_counter() - started
        assert done.state == "done", (done.state, done.error)
        seconds = exchange.step_seconds(done)
        preview = (done.step("stage") or {}).get("counts") or {}
        result = done.result

        with app.app_context():
            s = db.session()
            conn = s.connection()
            base_time, (b_heads, b_shares, b_due) = median_time(
                lambda: baseline(conn, plan_year), repeats)

            def ours() -> dict[str, Any]:
                snapshot = compute(s, plan_year)
                totals = dict(snapshot.totals)
                s.rollback()
                return totals

            ours_time, totals = median_time(ours, repeats)
            batches = [info["batch_id"] for info in result["notify"].values()]
            outbox = s.scalar(select(func.count()).select_from(NotifyOutbox)
                              .where(NotifyOutbox.batch_id.in_(batches))) or 0
            inbox = s.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.batch_id.in_(batches))) or 0
            runs = s.scalar(select(func.count()).select_from(OaRun))
        steps = [("register file (create_run)", registered),
                 ("preview: validate + stage + review", seconds.get("stage", 0.0)),
                 ("apply (+ plugins' reactions)", seconds.get("apply", 0.0)),
                 ("accounting", seconds.get("accounting", 0.0)),
                 ("queue notifications", seconds.get("notify", 0.0))]
        for name, sec in steps:
            print(f"  {name:36} {sec:7.2f} s")
        print(f"  {'whole run':36} {whole:7.2f} s  ({rows / whole:,.0f} rows/s)  "
              f"target ≤ 60 s: {'OK' if whole <= 60 else 'OVER'}")
        print(f"  accounting, median of {repeats}: ours {ours_time:.3f} s vs baseline "
              f"(one GROUP BY over coverage) {base_time:.3f} s = {ours_time / base_time:.1f}x")
        print(f"    ours: {totals}")
        print(f"    baseline: heads {b_heads:,} shares {b_shares:,} due {b_due:,} 元 — due "
              f"{'equal' if Decimal(totals['due']) == b_due else 'DIFFERS'} to the fen")
        print(f"  preview: {preview}")
        print(f"  applied: {result['applied']}; members touched: {result['members']}")
        for r in result.get("reactions", []):
            print(f"  reaction {r['plugin']}: {r['counts']}")
        print(f"  notifications: {inbox:,} inbox rows, {outbox:,} outbox rows queued "
              f"({len(batches)} batches); runs in database: {runs}")
        for key, want in expected.items():
            assert preview.get(key) == want, (key, preview.get(key), want)
        assert result["members"] == {"new": expected["new"], "left": expected["left"],
                                     "card_replaced": expected["cards_replaced"]}, result
        assert Decimal(totals["due"]) == b_due
    finally:
        get_db(app).engine.dispose()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000],
                   help="rows in the run's file (one run per size)")
    p.add_argument("--repeats", type=int, default=5,
                   help="repeats of the accounting and its baseline (medians)")
    p.add_argument("--database-url", default=None,
                   help="PostgreSQL server URL (a throwaway database is created per size) or "
                        "omit for a new SQLite file")
    args = p.parse_args()
    for rows in args.sizes:
        tmp = Path(tempfile.mkdtemp(prefix="uh-oa-run-bench-"))
        admin, name = None, ""
        if args.database_url and args.database_url.startswith("postgresql"):
            name = f"uh_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(args.database_url).set(database=name).render_as_string(False)
        else:
            url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
        try:
            bench(url, tmp, rows, args.repeats)
        finally:
            if admin is not None:
                with admin.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
