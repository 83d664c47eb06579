"""Member/Jingka file import at scale: the whole import (validate, stage, review, apply)
against a baseline of ``csv.reader`` + ``executemany`` of the same rows into a bare table.

Generates a 1,000,000-row GBK CSV like the city federation's (about 1% bad rows: wrong ID
check characters, impossible dates, unknown org codes, bad Luhn digits), imports it into a
fresh, migrated database (SQLite file, or a throwaway PostgreSQL database), and prints the
time of each step, rows/s, the ratio to the baseline and peak RSS (this process and the
largest validation worker).

Usage::

    .venv/bin/python bench/import_members.py                       # SQLite, 1,000,000 rows
    .venv/bin/python bench/import_members.py --rows 100000
    .venv/bin/python bench/import_members.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, select, text
from sqlalchemy.engine import make_url

from unionhub import migrate
from unionhub.app import create_app
from unionhub.db import get_db
from unionhub.identity.models import Member
from unionhub.identity.numbers import make_card_number, make_id_number
from unionhub.imports import engine
from unionhub.imports.models import BatchStatus, ImportBatch
from unionhub.orgs.models import OrgLevel
from unionhub.orgs.service import create_org
from unionhub.plugins import discovery
from unionhub.security.crypto import generate_key

HEADER = ["姓名", "身份证号", "京卡卡号", "工会组织代码", "手机号", "入会日期", "会籍状态",
          "卡状态"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志海燕玉红梅德春"
REGIONS = ["110101", "110102", "110105", "110106", "110108", "110115", "110112"]
N_ORGS = 50


def make_file(path: Path, rows: int, seed: int = 7) -> int:
    """Write the test file; returns how many rows were made bad on purpose."""
    rng = random.Random(seed)
    bad = 0
    with path.open("w", encoding="gbk", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(rows):
            # unique IDs: the sequence digits and the birth date vary with i
            idn = make_id_number(REGIONS[i % 7], date(1960, 1, 1) + timedelta(days=i // 1000),
                                 i % 1000)
            card = make_card_number("621468", 10_000_000 + i)
            org = f"B{i % N_ORGS:03d}"
            joined = f"{2000 + i % 25}/{1 + i % 12}/{1 + i % 28}"
            row = [rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN), idn, card, org,
                   f"13{i:09d}", joined, "在会", "正常"]
            if i % 100 == 37:  # ~1% bad rows, four kinds
                bad += 1
                kind = (i // 100) % 4
                if kind == 0:
                    row[1] = idn[:-1] + ("0" if idn[-1] != "0" else "1")
                elif kind == 1:
                    row[5] = "2020/13/45"
                elif kind == 2:
                    row[3] = "NOPE"
                else:
                    row[2] = card[:-1] + str((int(card[-1]) + 1) % 10)
            w.writerow(row)
    return bad


def rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--database-url", default=None,
                   help="PostgreSQL server URL (a throwaway database is created) or omit "
                        "for a new SQLite file")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="uh-import-bench-"))
    dropper = None
    if args.database_url and args.database_url.startswith("postgresql"):
        name = f"uh_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(args.database_url).set(database=name).render_as_string(False)

        def dropper() -> None:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    try:
        run(url, tmp, args.rows)
    finally:
        if dropper:
            get_db_engine_dispose()
            dropper()


_apps: list[Any] = []


def get_db_engine_dispose() -> None:
    for app in _apps:
        get_db(app).engine.dispose()


def run(url: str, tmp: Path, rows: int) -> None:
    app = create_app({
        "INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": url, "SECRET_KEY": "bench",
        "FIELD_ENCRYPTION_KEY": generate_key(), "FIELD_HASH_KEY": generate_key(),
        "LOG_LEVEL": "WARNING",
    })
    _apps.append(app)
    dialect = get_db(app).engine.dialect.name
    with app.app_context():
        migrate.upgrade(get_db().engine, discovery.discover(), echo=lambda _m: None)
        from unionhub import db

        s = db.session()
        city = create_org(s, code="C", name="市总工会", level=OrgLevel.CITY, parent=None)
        district = create_org(s, code="D", name="区工会", level=OrgLevel.DISTRICT, parent=city)
        for i in range(N_ORGS):
            create_org(s, code=f"B{i:03d}", name=f"基层工会{i}", level=OrgLevel.GRASSROOTS,
                       parent=district)
        s.commit()

    path = tmp / "members.csv"
    t0 = time.perf_counter()
    bad = make_file(path, rows)
    print(f"UnionHub member import benchmark — {rows:,} rows ({bad:,} bad), {dialect}")
    print(f"  file: {path.stat().st_size / 2**20:.0f} MiB GBK CSV, made in "
          f"{time.perf_counter() - t0:.1f} s")

    # Baseline: the bare minimum — read, no validation, executemany into a bare table.
    bare = Table("bench_bare", MetaData(), *[Column(f"c{i}", String(40)) for i in range(8)],
                 Column("line", Integer))
    eng = get_db(app).engine
    bare.create(eng)
    t0 = time.perf_counter()
    with path.open(encoding="gbk", newline="") as fh, eng.begin() as conn:
        reader = csv.reader(fh)
        next(reader)
        batch: list[dict[str, Any]] = []
        for line, row in enumerate(reader, start=2):
            batch.append({**{f"c{i}": v for i, v in enumerate(row)}, "line": line})
            if len(batch) == 10_000:
                conn.execute(bare.insert(), batch)
                batch = []
        if batch:
            conn.execute(bare.insert(), batch)
    baseline = time.perf_counter() - t0

    steps: dict[str, float] = {}
    with app.app_context():
        from unionhub import db

        s = db.session()
        t0 = time.perf_counter()
        b = engine.create_batch(s, app, "core.members", path, path.name, None)
        s.commit()
        steps["register file"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        engine.stage(app, b.id, lambda *a, **k: None)
        steps["validate + stage + review"] = time.perf_counter() - t0
        s.expire_all()
        batch_row = s.get(ImportBatch, b.id)
        assert batch_row is not None and batch_row.status == BatchStatus.READY, batch_row.error
        preview = dict(batch_row.preview)
        t0 = time.perf_counter()
        counts = engine.apply(app, b.id, lambda *a, **k: None)
        steps["apply"] = time.perf_counter() - t0
        members = s.scalar(select(func.count()).select_from(Member))
    total = sum(steps.values())
    for name, sec in steps.items():
        print(f"  {name:28} {sec:7.1f} s")
    print(f"  {'whole import':28} {total:7.1f} s  ({rows / total:,.0f} rows/s)"
          f"  target ≤ 60 s: {'OK' if total <= 60 else 'OVER'}")
    print(f"  {'baseline (csv + executemany)':28} {baseline:7.1f} s  "
          f"({rows / baseline:,.0f} rows/s)")
    print(f"  ratio (ours / baseline)      {total / baseline:7.2f}x")
    print(f"  preview: {preview}")
    print(f"  applied: {counts}; members in database: {members:,}")
    assert preview["rejected"] == bad and members == rows - bad, (preview, members)
    peak = max(rss_mb(resource.RUSAGE_SELF), rss_mb(resource.RUSAGE_CHILDREN))
    print(f"  peak RSS: this process {rss_mb(resource.RUSAGE_SELF):.0f} MiB, largest worker "
          f"{rss_mb(resource.RUSAGE_CHILDREN):.0f} MiB  target < 500 MiB: "
          f"{'OK' if peak < 500 else 'OVER'}")


if __name__ == "__main__":
    main()
