"""Identity look-up benchmark: sign-in by card number and by ID number at scale.

Builds N members (default 1,000,000), each with an active Jingka card and a sign-in account,
in a fresh, migrated database, then measures what sign-in does to resolve what the user
typed to an account:

* **ours** — ``unionhub.auth.service.find_account(session, typed)``: normalise and validate
  the input, HMAC-SHA256 it (``FieldCipher.lookup_hash``), find the row by the keyed-hash
  column (``jingka_card.number_hash`` / ``member.id_number_hash``, unique indexes) in one
  query that joins the account and its member — exactly what the app issues;
* **baseline** — the same look-up on a *plain* indexed column of a bare table
  ``bench_plain(id, card_number, id_number, member_id)`` filled with the same clear numbers in
  the same database, joined to the same account and member through the same ORM session, so
  both paths issue the same number of queries (checked at run time by counting executions).

Both paths use the same session on the same engine, run interleaved over the same random
sample of members after a warm-up, and every look-up is checked to return the expected
account. The identity map is cleared after every look-up, so each one issues all its queries.
Reported: median and p95 per look-up, the ratio of medians (ours / baseline, target ≤ 1.5×),
a breakdown of our path, the build time split into generating, encrypting, hashing and
inserting, rows/s, and peak RSS.

Usage::

    python bench/identity.py [--members 1000000] [--lookups 2000]
                             [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Without ``--database-url`` the database is a new SQLite file in a temporary directory. With a
PostgreSQL URL, a throwaway database ``uh_bench_<random>`` is created through that server
(the URL's own database is only used to run ``CREATE/DROP DATABASE``) and dropped at the end.
Benchmarks are run by hand, not in CI; record the figures in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import gc
import logging
import platform
import random
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import (
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, contains_eager

from unionhub import migrate
from unionhub.app import create_app
from unionhub.auth.service import _BY_ACTIVE_CARD, find_account
from unionhub.db import get_db
from unionhub.identity.models import Account, CardStatus, JingkaCard, Member, MemberStatus
from unionhub.identity.numbers import (
    DEFAULT_JINGKA_BINS,
    make_card_number,
    make_id_number,
    mask_card_number,
    mask_id_number,
    normalize_digits,
    validate_card_number,
    validate_id_number,
)
from unionhub.orgs.models import Org, OrgLevel
from unionhub.plugins import discovery
from unionhub.security.crypto import FieldCipher, generate_key

TARGET_RATIO = 1.5

# Beijing district codes; any 6 digits would do (the region is not validated).
REGIONS = ("110101", "110102", "110105", "110106", "110107", "110108", "110109", "110111",
           "110112", "110113", "110114", "110115", "110116", "110117", "110118", "110119")
BIRTH_START = date(1960, 1, 1)
BIRTH_DAYS = (date(2000, 1, 1) - BIRTH_START).days  # births 1960-1999
MAX_MEMBERS = BIRTH_DAYS * 1000  # (birth day, 3-digit sequence) pairs
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰",
         "娟", "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "志强", "海燕")
ORG_COUNT = 100  # grassroots unions under one city union; members are spread over them

plain_metadata = MetaData()
bench_plain = Table(
    "bench_plain",
    plain_metadata,
    Column("id", Integer, primary_key=True),
    Column("card_number", String(19), nullable=False),
    Column("id_number", String(18), nullable=False),
    Column("member_id", Integer, nullable=False),
    # Unique, like the keyed-hash columns they stand in for: only the key's encoding differs.
    Index("ix_bench_plain_card_number", "card_number", unique=True),
    Index("ix_bench_plain_id_number", "id_number", unique=True),
)


# --------------------------------------------------------------------------- synthetic people


def _birth_and_seq(i: int) -> tuple[date, int]:
    """Member ``i``'s birth date and 3-digit sequence: a distinct pair for every ``i``."""
    return BIRTH_START + timedelta(days=i % BIRTH_DAYS), i // BIRTH_DAYS


def member_id_number(i: int) -> str:
    """The resident ID of member ``i`` (0-based): unique, with a valid check character."""
    birth, seq = _birth_and_seq(i)
    return make_id_number(REGIONS[i % len(REGIONS)], birth, seq)


def member_card_number(i: int) -> str:
    """The Jingka card number of member ``i``: a 19-digit Luhn-valid number on a Jingka BIN."""
    return make_card_number(DEFAULT_JINGKA_BINS[i % len(DEFAULT_JINGKA_BINS)], i)


def member_name(i: int) -> str:
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)]


# --------------------------------------------------------------------------- timing helpers


@dataclass
class Phases:
    """Accumulated wall-clock seconds per build phase."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0


@dataclass(frozen=True)
class Stats:
    p50_us: float
    p95_us: float
    n: int

    @classmethod
    def of(cls, samples_ns: Sequence[int]) -> Stats:
        s = sorted(samples_ns)
        n = len(s)
        mid = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
        p95 = s[min(n - 1, max(0, -(-95 * n // 100) - 1))]  # nearest rank
        return cls(mid / 1000, p95 / 1000, n)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- database set-up


@dataclass
class Target:
    url: str
    cleanup: Callable[[], None]
    label: str


def open_target(url: str | None, workdir: Path) -> Target:
    """A fresh database: a new SQLite file, or a throwaway PostgreSQL database."""
    if not url:
        path = workdir / "bench.db"
        return Target(f"sqlite:///{path}", lambda: None, "SQLite (temp file)")
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and Path(u.database).exists():
            raise SystemExit(f"refusing to use an existing SQLite file: {u.database}")
        return Target(url, lambda: None, f"SQLite ({u.database})")
    if u.get_backend_name() != "postgresql":
        raise SystemExit(f"unsupported database: {u.get_backend_name()}")
    name = f"uh_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
        version = c.scalar(text("SHOW server_version"))

    def drop() -> None:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return Target(u.set(database=name).render_as_string(hide_password=False), drop,
                  f"PostgreSQL {version} (throwaway database {name})")


def make_bench_app(url: str, instance: Path) -> Flask:
    """Migrate the database (core and installed plugins), then start the app on it."""
    config: dict[str, Any] = {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": url,
        "SECRET_KEY": "bench",
        "FIELD_ENCRYPTION_KEY": generate_key(),
        "FIELD_HASH_KEY": generate_key(),
        "LOG_LEVEL": "ERROR",
    }
    first = create_app(config)
    with first.app_context():
        migrate.upgrade(get_db().engine, discovery.discover(), echo=lambda _m: None)
    get_db(first).engine.dispose()
    return create_app(config)  # a restart: now the app sees a ready database


# --------------------------------------------------------------------------- build


@dataclass
class BuildResult:
    members: int
    rows: int
    phases: dict[str, float]

    @property
    def ours_seconds(self) -> float:
        p = self.phases
        return p["generate"] + p["encrypt"] + p["hash"] + p["insert"]


def build(engine: Engine, cipher: FieldCipher, n: int, chunk: int) -> BuildResult:
    """Insert ``n`` members with an active card and an account, plus the baseline table.

    Set-based: rows are generated a chunk at a time and written with one Core executemany
    per table per chunk, one transaction per chunk. Ids are assigned here (member ``i`` has
    member, card and account id ``i + 1``), so nothing has to be read back.
    """
    phases = Phases()
    now = datetime.now(UTC)
    with phases("orgs"), engine.begin() as conn:
        orgs = [{"id": 1, "code": "BJ", "name": "北京市总工会", "level": OrgLevel.CITY,
                 "parent_id": None, "path": "/1/", "depth": 0}]
        orgs += [{"id": k, "code": f"BENCH{k:04d}", "name": f"基层工会{k}",
                  "level": OrgLevel.GRASSROOTS, "parent_id": 1, "path": f"/1/{k}/", "depth": 1}
                 for k in range(2, ORG_COUNT + 2)]
        for o in orgs:
            o.update(agent_office=False, created_at=now)
        conn.execute(insert(Org.__table__), orgs)
        plain_metadata.create_all(conn)

    member_t, card_t, account_t = Member.__table__, JingkaCard.__table__, Account.__table__
    encrypt, lookup_hash = cipher.encrypt, cipher.lookup_hash
    done, next_report = 0, 100_000
    for start in range(0, n, chunk):
        idx = range(start, min(n, start + chunk))
        with phases("generate"):
            ids = [member_id_number(i) for i in idx]
            cards = [member_card_number(i) for i in idx]
            names = [member_name(i) for i in idx]
            births = [_birth_and_seq(i)[0] for i in idx]
            id_masked = [mask_id_number(x) for x in ids]
            card_masked = [mask_card_number(x) for x in cards]
        with phases("encrypt"):
            id_enc = [encrypt(x) for x in ids]
            card_enc = [encrypt(x) for x in cards]
        with phases("hash"):
            id_hash = [lookup_hash(x, "id") for x in ids]
            card_hash = [lookup_hash(x, "card") for x in cards]
        with phases("generate"):
            members = [
                {"id": i + 1, "name": names[k], "sex": "M" if int(ids[k][16]) % 2 else "F",
                 "id_number_enc": id_enc[k], "id_number_hash": id_hash[k],
                 "id_number_masked": id_masked[k], "birth_date": births[k], "mobile": None,
                 "org_id": 2 + i % ORG_COUNT, "status": MemberStatus.ACTIVE.value,
                 "joined_on": None, "left_on": None, "created_at": now, "updated_at": now}
                for k, i in enumerate(idx)
            ]
            card_rows = [
                {"id": i + 1, "member_id": i + 1, "number_enc": card_enc[k],
                 "number_hash": card_hash[k], "number_masked": card_masked[k],
                 "status": CardStatus.ACTIVE.value, "issued_on": None, "valid_until": None,
                 "replaced_by_id": None, "status_changed_at": None, "created_at": now}
                for k, i in enumerate(idx)
            ]
            accounts = [
                {"id": i + 1, "member_id": i + 1, "username": None, "display_name": names[k],
                 "password_hash": None, "must_change_password": False, "is_active": True,
                 "session_version": 1, "last_login_at": None, "locale": None,
                 "created_at": now}
                for k, i in enumerate(idx)
            ]
            plain = [{"id": i + 1, "card_number": cards[k], "id_number": ids[k],
                      "member_id": i + 1} for k, i in enumerate(idx)]
        with phases("insert"), engine.begin() as conn:
            conn.execute(insert(member_t), members)
            conn.execute(insert(card_t), card_rows)
            conn.execute(insert(account_t), accounts)
        with phases("baseline insert"), engine.begin() as conn:
            conn.execute(insert(bench_plain), plain)
        done += len(idx)
        if done >= next_report or done == n:
            elapsed = sum(phases.seconds.values())
            log(f"  built {done:>9,} / {n:,} members  ({elapsed:6.1f} s)")
            next_report += 100_000
    with phases("analyze"):
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
    return BuildResult(n, 3 * n, phases.seconds)


# --------------------------------------------------------------------------- look-ups


# Built once, as the app builds its sign-in statements once.
PLAIN_QUERY = (
    select(Account).join(Account.member).options(contains_eager(Account.member))
    .join(bench_plain, bench_plain.c.member_id == Member.id)
    .where(Member.status == MemberStatus.ACTIVE)
)


def _plain(s: Session, column: Any, value: str) -> Account | None:
    """The baseline query: the same account-with-member join as ours, keyed on a clear
    number in the plain table instead of a keyed hash."""
    return s.scalar(PLAIN_QUERY.where(column == value))


def plain_by_card(s: Session, card_number: str) -> Account | None:
    """Baseline for the card path."""
    return _plain(s, bench_plain.c.card_number, card_number)


def plain_by_id(s: Session, id_number: str) -> Account | None:
    """Baseline for the ID path."""
    return _plain(s, bench_plain.c.id_number, id_number)


Lookup = Callable[[Session, str], Account | None]


@contextmanager
def count_queries(engine: Engine) -> Iterator[list[int]]:
    counter = [0]

    def before(*_args: Any) -> None:
        counter[0] += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", before)


def queries_issued(engine: Engine, s: Session, fn: Lookup, typed: str) -> int:
    s.expunge_all()
    with count_queries(engine) as counter:
        fn(s, typed)
    s.expunge_all()
    return counter[0]


def run_lookups(s: Session, sample: Sequence[int], warmup: Sequence[int]
                ) -> dict[str, list[int]]:
    """Time the four look-ups, interleaved, over ``sample``; returns ns per look-up."""
    paths: list[tuple[str, Lookup, Callable[[int], str]]] = [
        ("card ours", find_account, member_card_number),
        ("card baseline", plain_by_card, member_card_number),
        ("id ours", find_account, member_id_number),
        ("id baseline", plain_by_id, member_id_number),
    ]
    times: dict[str, list[int]] = {name: [] for name, _, _ in paths}
    clock = time.perf_counter_ns
    for phase, members in (("warm-up", warmup), ("measure", sample)):
        for n, i in enumerate(members):
            expected = i + 1
            order = paths if n % 2 == 0 else paths[::-1]  # no path always runs first
            for name, fn, typed_for in order:
                typed = typed_for(i)
                t0 = clock()
                account = fn(s, typed)
                t1 = clock()
                s.expunge_all()
                if account is None or account.id != expected:
                    raise AssertionError(f"{name}: member {i} resolved to "
                                         f"{account and account.id}, expected {expected}")
                if phase == "measure":
                    times[name].append(t1 - t0)
    return times


ACCOUNT_QUERY = (select(Account).join(Account.member).options(contains_eager(Account.member))
                 .where(Member.status == MemberStatus.ACTIVE))
CARD_QUERY = _BY_ACTIVE_CARD  # the app's own statement


def breakdown(s: Session, cipher: FieldCipher, sample: Sequence[int]) -> dict[str, Stats]:
    """Where our path spends its time: the pure-Python steps and the query on its own."""
    clock = time.perf_counter_ns
    out: dict[str, list[int]] = {}

    def timed(name: str, fn: Callable[[], object]) -> None:
        t0 = clock()
        fn()
        out.setdefault(name, []).append(clock() - t0)
        s.expunge_all()

    for i in sample:
        card, idn = member_card_number(i), member_id_number(i)
        ch, ih = cipher.lookup_hash(card, "card"), cipher.lookup_hash(idn, "id")
        timed("card: normalise + validate (Luhn)",
              lambda card=card: validate_card_number(normalize_digits(card), bins=None))
        timed("card: HMAC-SHA256", lambda card=card: cipher.lookup_hash(card, "card"))
        timed("card: the query (account+member joined by number_hash)",
              lambda ch=ch: s.scalar(CARD_QUERY.where(JingkaCard.number_hash == ch)))
        timed("id: normalise + validate (check char, date)",
              lambda idn=idn: validate_id_number(normalize_digits(idn).upper()))
        timed("id: HMAC-SHA256", lambda idn=idn: cipher.lookup_hash(idn, "id"))
        timed("id: the query (account+member by id_number_hash)",
              lambda ih=ih: s.scalar(ACCOUNT_QUERY.where(Member.id_number_hash == ih)))
    return {name: Stats.of(v) for name, v in out.items()}


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--members", type=int, default=1_000_000, help="members to build")
    p.add_argument("--lookups", type=int, default=2000, help="members sampled for look-ups")
    p.add_argument("--warmup", type=int, default=200, help="warm-up look-ups (other members)")
    p.add_argument("--database-url", default=None,
                   help="PostgreSQL server URL (a throwaway database is created on it) or a "
                        "new SQLite file; default: SQLite in a temporary directory")
    p.add_argument("--chunk", type=int, default=10_000, help="rows per insert transaction")
    p.add_argument("--seed", type=int, default=20261128, help="sampling seed")
    args = p.parse_args(argv)
    if not 1 <= args.members <= MAX_MEMBERS:
        p.error(f"--members must be in 1..{MAX_MEMBERS:,}")
    if args.lookups < 1 or args.warmup < 0 or args.lookups + args.warmup > args.members:
        p.error("need --lookups >= 1, --warmup >= 0 and --lookups + --warmup <= --members")
    return args


def fmt_us(x: float) -> str:
    return f"{x:,.1f} µs"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="uh_bench_") as tmp:
        workdir = Path(tmp)
        target = open_target(args.database_url, workdir)
        app: Flask | None = None
        try:
            log(f"database: {target.label}")
            t0 = time.perf_counter()
            app = make_bench_app(target.url, workdir / "instance")
            migrate_s = time.perf_counter() - t0
            engine = get_db(app).engine
            cipher: FieldCipher = app.extensions["unionhub"].cipher
            log(f"migrated in {migrate_s:.1f} s; building {args.members:,} members ...")
            result = build(engine, cipher, args.members, args.chunk)

            rng = random.Random(args.seed)
            chosen = rng.sample(range(args.members), args.lookups + args.warmup)
            warmup, sample = chosen[: args.warmup], chosen[args.warmup :]
            log(f"look-ups: {args.warmup} warm-up, {args.lookups} measured per path ...")
            with app.app_context():
                s = get_db().factory()
                try:
                    probe = sample[0]
                    counts = {
                        "card ours": queries_issued(engine, s, find_account,
                                                    member_card_number(probe)),
                        "card baseline": queries_issued(engine, s, plain_by_card,
                                                        member_card_number(probe)),
                        "id ours": queries_issued(engine, s, find_account,
                                                  member_id_number(probe)),
                        "id baseline": queries_issued(engine, s, plain_by_id,
                                                      member_id_number(probe)),
                    }
                    for kind in ("card", "id"):
                        if counts[f"{kind} ours"] != counts[f"{kind} baseline"]:
                            raise AssertionError(f"{kind}: query counts differ: {counts}")
                    gc.collect()
                    times = run_lookups(s, sample, warmup)
                    parts = breakdown(s, cipher, sample)
                finally:
                    s.close()
            report(args, target, engine, result, migrate_s, counts,
                   {k: Stats.of(v) for k, v in times.items()}, parts)
        finally:
            if app is not None:
                get_db(app).engine.dispose()
            target.cleanup()
    return 0


def report(args: argparse.Namespace, target: Target, engine: Engine, result: BuildResult,
           migrate_s: float, counts: dict[str, int], stats: dict[str, Stats],
           parts: dict[str, Stats]) -> None:
    p = result.phases
    rows = result.rows
    print()
    print(f"Identity look-up benchmark — {date.today().isoformat()}")
    print(f"  database  {target.label}")
    print(f"  python    {platform.python_version()}, {platform.machine()}, "
          f"SQLAlchemy {sys.modules['sqlalchemy'].__version__}")
    print(f"  members   {result.members:,} (each with an active card and an account: "
          f"{rows:,} rows)")
    print()
    print("Build")
    print(f"  migrate                    {migrate_s:8.1f} s")
    print(f"  generate numbers and rows  {p['generate']:8.1f} s")
    print(f"  encrypt  (AES-GCM, {2 * result.members:,} values) {p['encrypt']:8.1f} s  "
          f"({p['encrypt'] / (2 * result.members) * 1e6:.1f} µs each)")
    print(f"  hash     (HMAC, {2 * result.members:,} values)    {p['hash']:8.1f} s  "
          f"({p['hash'] / (2 * result.members) * 1e6:.1f} µs each)")
    print(f"  insert   (member, jingka_card, account) {p['insert']:8.1f} s  "
          f"({rows / p['insert']:,.0f} rows/s)")
    print(f"  build total (generate+encrypt+hash+insert) {result.ours_seconds:8.1f} s  "
          f"({rows / result.ours_seconds:,.0f} rows/s, "
          f"{result.members / result.ours_seconds:,.0f} members/s)")
    print(f"  baseline table insert      {p['baseline insert']:8.1f} s  "
          f"({result.members / p['baseline insert']:,.0f} rows/s)")
    print(f"  analyze                    {p['analyze']:8.1f} s")
    print()
    print(f"Sign-in look-up ({args.lookups:,} sampled members, {args.warmup} warm-up; "
          "same session, interleaved)")
    for kind, label in (("card", "card number"), ("id", "ID number")):
        ours, base = stats[f"{kind} ours"], stats[f"{kind} baseline"]
        ratio = ours.p50_us / base.p50_us
        verdict = "OK" if ratio <= TARGET_RATIO else "OVER TARGET"
        print(f"  {label:<11}  ours p50 {fmt_us(ours.p50_us):>10}  p95 {fmt_us(ours.p95_us):>10}"
              f"  | baseline p50 {fmt_us(base.p50_us):>10}  p95 {fmt_us(base.p95_us):>10}"
              f"  | ratio {ratio:.2f}x (target ≤ {TARGET_RATIO}x) {verdict}"
              f"  [{counts[f'{kind} ours']} queries each]")
    print()
    print("Breakdown of our path (same sample, each step timed on its own)")
    for name, st in parts.items():
        print(f"  {name:<52} p50 {fmt_us(st.p50_us):>10}  p95 {fmt_us(st.p95_us):>10}")
    print()
    print(f"Peak RSS {peak_rss_mib():,.0f} MiB; every look-up returned the expected account.")


if __name__ == "__main__":
    sys.exit(main())
