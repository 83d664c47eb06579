"""Welfare mall under load: claiming and redeeming coupons through the app API served by gunicorn
on PostgreSQL, 64 concurrent clients, against the bare conditional UPDATE that decrements stock.

1. Claim: ``--members`` members (default 6,000) each claim one coupon of an offer with
   ``--stock`` coupons (default 4,000) — more claims than coupons, so the limit is exercised —
   through ``POST /api/v1/benefits_mall/offers/<id>/claim`` with their own API tokens, from
   ``--clients`` threads (default 64), each with its own keep-alive HTTP connection.
2. Redeem: every issued coupon redeemed by merchant staff through
   ``POST /api/v1/benefits_mall/merchant/redeem`` (one idempotency key per attempt), then 10% of
   the codes again (each must be refused).
3. Baseline in the same run: the same number of claim attempts as one conditional
   ``UPDATE … SET issued = issued + 1 WHERE id = 1 AND issued < stock RETURNING issued``, from the
   same number of client threads, each on its own autocommit connection.

Prints operations/s, latency p50/p99, the ratio to the baseline, and the counts that prove no
over-issue (stock counter, coupons, claim events, 201 responses; redemptions, redemption events).

Usage::

    .venv/bin/python bench/mall.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/mall.py --database-url … --members 1000 --stock 600 --clients 16
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from unionhub import migrate
from unionhub.app import create_app
from unionhub.db import get_db
from unionhub.identity.numbers import make_card_number, make_id_number
from unionhub.orgs.models import OrgLevel
from unionhub.orgs.service import create_org
from unionhub.plugins import discovery, state
from unionhub.security.crypto import generate_key

VENV_BIN = Path(sys.executable).parent
PASSWORD = "Bench-12351-pass"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def setup(url: str, tmp: Path) -> tuple[Any, dict[str, str]]:
    cfg = {"INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": url, "SECRET_KEY": "bench",
           "FIELD_ENCRYPTION_KEY": generate_key(), "FIELD_HASH_KEY": generate_key(),
           "LOG_LEVEL": "WARNING", "FAST_PASSWORD_HASH": True}
    app = create_app(cfg)
    with app.app_context():
        migrate.upgrade(get_db().engine, discovery.discover(), echo=lambda _m: None)
        from unionhub import db

        state.set_enabled(db.session(), discovery.discover(), "benefits_mall", True)
        db.session().commit()
    get_db(app).engine.dispose()
    return create_app(cfg), cfg


def seed(app: Any, members: int, stock: int, clients: int) -> dict[str, Any]:
    """Orgs, members with API tokens, a merchant with one clerk token per client, an offer."""
    from unionhub import db
    from unionhub.api import tokens
    from unionhub.identity import service as identity
    from unionhub.identity.admin import create_account
    from unionhub.identity.models import Account
    from unionhub_benefits_mall.models import (
        BenefitsMallMerchant,
        BenefitsMallOffer,
        BenefitsMallStaff,
        BenefitsMallStore,
        OfferKind,
        OfferStatus,
        StaffRole,
    )

    t0 = time.perf_counter()
    with app.app_context():
        s = db.session()
        city = create_org(s, code="C", name="北京市总工会", level=OrgLevel.CITY, parent=None)
        district = create_org(s, code="D1", name="朝阳区总工会", level=OrgLevel.DISTRICT,
                              parent=city)
        unit = create_org(s, code="G1", name="北京电控工会", level=OrgLevel.GRASSROOTS,
                          parent=district)
        created = []
        for i in range(members):
            m = identity.create_member(
                s, name=f"职工{i:05d}", org=unit, mobile=f"139{i:08d}",
                id_number=make_id_number("110105", date(1970, 1, 1) + timedelta(days=i % 9000),
                                         i % 1000),
                card_number=make_card_number("621468", 7_000_000 + i))
            if i % 500 == 499:
                s.flush()
            created.append(m)
        s.flush()
        accounts = dict(s.execute(select(Account.member_id, Account.id)
                                  .where(Account.member_id.is_not(None))).all())
        by_id = {a.id: a for a in s.scalars(select(Account))}
        member_tokens = [tokens.issue(s, by_id[accounts[m.id]], "bench")[0] for m in created]
        merchant = BenefitsMallMerchant(name="压测商户", category_code="shopping")
        s.add(merchant)
        s.flush()
        store = BenefitsMallStore(merchant_id=merchant.id, name="压测门店")
        s.add(store)
        s.flush()
        staff_tokens = []
        for i in range(clients):
            acc = create_account(s, f"bench_clerk_{i}", f"店员{i}", PASSWORD)
            s.add(BenefitsMallStaff(merchant_id=merchant.id, account_id=acc.id,
                                    role=StaffRole.CLERK, store_id=store.id))
            staff_tokens.append(tokens.issue(s, acc, "bench")[0])
        today = date.today()
        offer = BenefitsMallOffer(
            merchant_id=merchant.id, category_code="shopping", kind=OfferKind.COUPON,
            title="压测满减券", price=Decimal("100.00"), member_price=Decimal("80.00"),
            subsidy=Decimal("5.00"), stock=stock, per_member_limit=1, per_member_period="all",
            valid_from=today - timedelta(days=1), valid_until=today + timedelta(days=30),
            status=OfferStatus.APPROVED)
        s.add(offer)
        s.commit()
        out = {"offer_id": offer.id, "store_id": store.id, "member_tokens": member_tokens,
               "staff_tokens": staff_tokens}
    print(f"  seeded {members:,} members, {clients} clerks, stock {stock:,} "
          f"in {time.perf_counter() - t0:.1f} s")
    return out


def start_gunicorn(cfg: dict[str, str], tmp: Path, workers: int, threads: int
                   ) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = os.environ.copy()
    env.update({"UNIONHUB_INSTANCE_PATH": cfg["INSTANCE_PATH"],
                "UNIONHUB_DATABASE_URL": cfg["DATABASE_URL"],
                "UNIONHUB_SECRET_KEY": cfg["SECRET_KEY"],
                "UNIONHUB_FIELD_ENCRYPTION_KEY": cfg["FIELD_ENCRYPTION_KEY"],
                "UNIONHUB_FIELD_HASH_KEY": cfg["FIELD_HASH_KEY"],
                "UNIONHUB_LOG_LEVEL": "WARNING"})
    log = (tmp / "gunicorn.log").open("wb")
    proc = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--workers", str(workers), "--threads", str(threads),
         "--worker-class", "gthread", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "unionhub:create_app()"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/api/v1/openapi.json", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"gunicorn did not start:\n{(tmp / 'gunicorn.log').read_text()}")


def run_clients(n_clients: int, jobs: Sequence[Any], work: Callable[[Any, Any], int],
                make_state: Callable[[int], Any]) -> tuple[float, list[float], Counter[int]]:
    """Spread ``jobs`` over ``n_clients`` threads; ``work(state, job)`` returns a status code.
    Returns (wall seconds, per-request latencies, status counts)."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(n_clients + 1)

    def client(i: int) -> None:
        st = make_state(i)
        mine_lat: list[float] = []
        mine_status: Counter[int] = Counter()
        start.wait()
        for job in jobs[i::n_clients]:
            t = time.perf_counter()
            mine_status[work(st, job)] += 1
            mine_lat.append(time.perf_counter() - t)
        with lock:
            latencies.extend(mine_lat)
            statuses.update(mine_status)
        for resource in (st if isinstance(st, tuple) else (st,)):
            close = getattr(resource, "close", None)
            if close:
                close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n_clients)]
    for th in threads:
        th.start()
    start.wait()
    t0 = time.perf_counter()
    for th in threads:
        th.join()
    return time.perf_counter() - t0, latencies, statuses


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else 0.0


def report(label: str, n: int, wall: float, lat: list[float], statuses: Counter[int]) -> float:
    rate = n / wall
    codes = ", ".join(f"{k}×{v:,}" for k, v in sorted(statuses.items()))
    print(f"  {label:<28} {n:>7,} ops in {wall:6.2f} s = {rate:8.1f} ops/s   "
          f"p50 {pct(lat, 50):6.1f} ms  p99 {pct(lat, 99):7.1f} ms   [{codes}]")
    return rate


def bench_claims(base: str, data: dict[str, Any], clients: int) -> tuple[float, int]:
    url = f"/api/v1/benefits_mall/offers/{data['offer_id']}/claim"

    def work(c: httpx.Client, token: str) -> int:
        return c.post(url, json={}, headers={"Authorization": f"Bearer {token}"}).status_code

    wall, lat, st = run_clients(clients, data["member_tokens"], work,
                                lambda _i: httpx.Client(base_url=base, timeout=60))
    rate = report("claim (API, gunicorn)", len(data["member_tokens"]), wall, lat, st)
    return rate, st[201]


def bench_redeem(base: str, data: dict[str, Any], codes: list[str], clients: int
                 ) -> tuple[float, int, int]:
    staff = data["staff_tokens"]

    def work(state: tuple[httpx.Client, str], code: str) -> int:
        c, token = state
        return c.post("/api/v1/benefits_mall/merchant/redeem",
                      json={"code": code, "store_id": data["store_id"],
                            "idempotency_key": uuid.uuid4().hex},
                      headers={"Authorization": f"Bearer {token}"}).status_code

    def make(i: int) -> tuple[httpx.Client, str]:
        return httpx.Client(base_url=base, timeout=60), staff[i % len(staff)]

    wall, lat, st = run_clients(clients, codes, work, make)
    rate = report("redeem (API, gunicorn)", len(codes), wall, lat, st)
    again = codes[: max(1, len(codes) // 10)]
    wall2, lat2, st2 = run_clients(clients, again, work, make)
    report("redeem again (must refuse)", len(again), wall2, lat2, st2)
    return rate, st[200], st2[200]


def bench_baseline(url: str, attempts: int, stock: int, clients: int) -> tuple[float, int]:
    import psycopg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("DROP TABLE IF EXISTS bench_stock")
        c.execute("CREATE TABLE bench_stock (id int primary key, stock int, issued int)")
        c.execute("INSERT INTO bench_stock VALUES (1, %s, 0)", (stock,))

    def work(conn: Any, _job: int) -> int:
        row = conn.execute("UPDATE bench_stock SET issued = issued + 1 "
                           "WHERE id = 1 AND issued < stock RETURNING issued").fetchone()
        return 200 if row else 409

    wall, lat, st = run_clients(clients, list(range(attempts)), work,
                                lambda _i: psycopg.connect(dsn, autocommit=True))
    rate = report("baseline: conditional UPDATE", attempts, wall, lat, st)
    with psycopg.connect(dsn, autocommit=True) as c:
        issued = c.execute("SELECT issued FROM bench_stock").fetchone()[0]
        c.execute("DROP TABLE bench_stock")
    return rate, int(issued)


def counts(app: Any, offer_id: int) -> dict[str, int]:
    from unionhub import db
    from unionhub_benefits_mall.models import (
        BenefitsMallCoupon,
        BenefitsMallCouponEvent,
        BenefitsMallOffer,
    )

    with app.app_context():
        s = db.session()

        def events(kind: str) -> int:
            return int(s.scalar(select(func.count()).select_from(BenefitsMallCouponEvent)
                                .where(BenefitsMallCouponEvent.kind == kind)) or 0)

        return {
            "offer.issued": int(s.scalar(select(BenefitsMallOffer.issued)
                                         .where(BenefitsMallOffer.id == offer_id)) or 0),
            "coupons": int(s.scalar(select(func.count()).select_from(BenefitsMallCoupon)) or 0),
            "redeemed coupons": int(s.scalar(
                select(func.count()).select_from(BenefitsMallCoupon)
                .where(BenefitsMallCoupon.state == "redeemed")) or 0),
            "claimed events": events("claimed"),
            "redeemed events": events("redeemed"),
        }


def issued_codes(app: Any) -> list[str]:
    from unionhub import db
    from unionhub_benefits_mall.models import BenefitsMallCoupon

    with app.app_context():
        return list(db.session().scalars(select(BenefitsMallCoupon.code)
                                         .order_by(BenefitsMallCoupon.id)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", required=True,
                   help="PostgreSQL server URL; a throwaway database is created")
    p.add_argument("--members", type=int, default=6000)
    p.add_argument("--stock", type=int, default=4000)
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=16)
    args = p.parse_args()
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("this benchmark needs PostgreSQL (--database-url postgresql+psycopg://…)")
    tmp = Path(tempfile.mkdtemp(prefix="uh-mall-bench-"))
    name = f"uh_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.database_url).set(database=name).render_as_string(False)
    proc = None
    try:
        app, cfg = setup(url, tmp)
        print(f"UnionHub welfare-mall benchmark — PostgreSQL, gunicorn {args.workers} workers × "
              f"{args.threads} threads, {args.clients} concurrent clients")
        data = seed(app, args.members, args.stock, args.clients)
        proc, base = start_gunicorn(cfg, tmp, args.workers, args.threads)
        claim_rate, claimed_201 = bench_claims(base, data, args.clients)
        codes = issued_codes(app)
        redeem_rate, redeemed_200, again_200 = bench_redeem(base, data, codes, args.clients)
        base_rate, base_issued = bench_baseline(url, args.members, args.stock, args.clients)
        print(f"  ratio claim / baseline   {claim_rate / base_rate:.3f}")
        print(f"  ratio redeem / baseline  {redeem_rate / base_rate:.3f}")
        c = counts(app, data["offer_id"])
        print("  counts: " + ", ".join(f"{k} {v:,}" for k, v in c.items()))
        print(f"          201 claims {claimed_201:,}, 200 redemptions {redeemed_200:,}, "
              f"second redemptions accepted {again_200}, baseline issued {base_issued:,}")
        ok = (c["offer.issued"] == c["coupons"] == c["claimed events"] == claimed_201
              == min(args.stock, args.members)
              and c["redeemed coupons"] == c["redeemed events"] == redeemed_200 == len(codes)
              and again_200 == 0 and base_issued == min(args.stock, args.members))
        print("  no over-issue, every coupon redeemed once: " + ("yes" if ok else "NO"))
        get_db(app).engine.dispose()
        if not ok:
            raise SystemExit(1)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
