"""Send 100,000 WeChat template messages through the outbox to a local fake WeChat server and
check at the server that none was lost or sent twice.

A throwaway PostgreSQL database is created (and dropped at the end), migrated and seeded with
members bound to WeChat; one ``core.notice`` batch is queued for all of them with
``notify.send`` (one ``INSERT … SELECT`` per channel), then delivered by one of:

* ``celery`` — real ``celery -A unionhub.jobs.worker worker`` processes on Redis: ``send``
  submits ``core.notify_dispatch`` after the commit and the jobs fan out and chain
  themselves. Needs the notification service wired into the core hooks (the worker only
  knows jobs the hooks return); ``auto`` falls back to ``processes`` when it is not, and
  says so.
* ``processes`` — N plain Python processes each running the dispatcher loop
  (:func:`unionhub.notify.dispatch.dispatch`) directly.
* ``inprocess`` — N threads of this process running the dispatcher loop (the fake server
  shares this process's interpreter lock, so this is the slowest).

Usage::

    .venv/bin/python bench/notify.py                      # 100,000 messages, mode auto
    .venv/bin/python bench/notify.py --messages 20000 --mode inprocess
    .venv/bin/python bench/notify.py --mode celery --workers 2
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support (the fake server, the test wiring)

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from tests.support.notify_wiring import wire  # noqa: E402

ACTIVE = ("pending", "sending", "deferred")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- a fast fake WeChat for the benchmark ---------------------------------------------------
#
# tests/support/fake_wechat.py (werkzeug, every failure mode) tops out near 500 requests/s on
# this machine; this one (asyncio, HTTP/1.1 keep-alive, its own process) is not the limit.


class FastFakeWeChat:
    appid = "wx-bench-appid"
    secret = "wx-bench-secret"
    token = "TOKEN-BENCH"

    def __init__(self) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self.port_queue = ctx.Queue()
        self.proc = ctx.Process(target=_serve_fast, args=(self.port_queue,), daemon=True)
        self.proc.start()
        self.port = int(self.port_queue.get(timeout=30))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stats(self) -> dict[str, int]:
        import httpx

        return httpx.get(self.url + "/_stats").json()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.join(10)


def _serve_fast(port_queue: Any) -> None:
    import asyncio
    import json
    from collections import Counter

    received: Counter[str] = Counter()
    state = {"calls": 0, "tokens": 0}

    def answer(path: str, body: bytes) -> bytes:
        if path.startswith("/cgi-bin/stable_token"):
            state["tokens"] += 1
            return json.dumps({"access_token": FastFakeWeChat.token, "expires_in": 7200}).encode()
        if path.startswith("/cgi-bin/message/template/send"):
            state["calls"] += 1
            if f"access_token={FastFakeWeChat.token}" not in path:
                return b'{"errcode": 40001, "errmsg": "invalid credential"}'
            msg = json.loads(body)
            if any(len(v["value"]) > 20 for v in msg.get("data", {}).values()):
                return b'{"errcode": 47003, "errmsg": "argument invalid"}'
            received[msg["touser"]] += 1
            return b'{"errcode": 0, "errmsg": "ok", "msgid": %d}' % state["calls"]
        if path.startswith("/_stats"):
            return json.dumps({"accepted": sum(received.values()), "distinct": len(received),
                               "duplicated": sum(1 for n in received.values() if n > 1),
                               "calls": state["calls"], "tokens": state["tokens"]}).encode()
        return b'{"errcode": 404}'

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                length = 0
                for line in lines[1:]:
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                out = answer(path, body)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(out), out))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=512)
        port_queue.put(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def env_for(db_url: str, instance: str, keys: dict[str, str], broker: str | None
            ) -> dict[str, str]:
    env = {**os.environ, "UNIONHUB_DATABASE_URL": db_url, "UNIONHUB_INSTANCE_PATH": instance,
           "UNIONHUB_LOG_LEVEL": "WARNING", **{f"UNIONHUB_{k}": v for k, v in keys.items()}}
    if broker:
        env["UNIONHUB_BROKER_URL"] = broker
    else:
        env.pop("UNIONHUB_BROKER_URL", None)
    return env


# --- the dispatcher as a plain loop (processes / inprocess modes) -----------------------------


def dispatch_until_done(app: Any) -> int:
    from unionhub.notify.dispatch import dispatch, due_work

    sent = 0
    idle = 0
    with app.app_context():
        while idle < 3:
            counts, _more = dispatch(app, seconds=30)
            sent += counts.get("sent", 0)
            if due_work(app) == 0:
                idle += 1
                time.sleep(0.5)
            else:
                idle = 0
    return sent


def dispatch_only() -> None:
    """Entry of a ``processes``-mode worker: the app from the UNIONHUB_* environment."""
    from unionhub.app import create_app

    app = wire(create_app())
    sent = dispatch_until_done(app)
    print(f"worker {os.getpid()} sent {sent}", flush=True)


# --- the run --------------------------------------------------------------------------------


def seed(app: Any, n: int) -> None:
    from unionhub import db
    from unionhub.orgs.models import OrgLevel
    from unionhub.orgs.service import create_org

    with app.app_context():
        s = db.session()
        org = create_org(s, code="BENCH", name="基准测试工会", level=OrgLevel.CITY, parent=None)
        s.flush()
        s.execute(text(
            "INSERT INTO member (name, sex, id_number_enc, id_number_hash, id_number_masked,"
            " birth_date, mobile, org_id, status, created_at, updated_at)"
            " SELECT '会员' || g, 'M', '-', md5(g::text) || md5('x' || g::text),"
            " '******************', DATE '1990-01-01', '137' || lpad(g::text, 8, '0'), :org,"
            " 'active', now(), now() FROM generate_series(1, :n) AS g"), {"org": org.id, "n": n})
        s.execute(text(
            "INSERT INTO notify_binding (member_id, channel, address, status, created_at,"
            " updated_at) SELECT id, 'wechat', 'oBENCH' || lpad(id::text, 12, '0'), 'active',"
            " now(), now() FROM member"))
        s.commit()


def configure(app: Any, fake: FastFakeWeChat, args: argparse.Namespace) -> None:
    from unionhub import db
    from unionhub.settings import service as settings

    values = {"wechat_base_url": fake.url, "wechat_appid": fake.appid,
              "wechat_secret": fake.secret, "wechat_template_notice": "TPL-BENCH",
              "public_url": "https://gh.example.cn", "wechat_parallel": args.parallel,
              "quota_wechat_per_minute": 0, "quota_wechat_per_day": 10 * args.messages,
              "dispatch_batch_size": args.batch, "dispatch_concurrency": args.workers,
              "dispatch_seconds": 20}
    with app.app_context():
        for key, value in values.items():
            settings.put(f"core.{key}", value)
        db.session().commit()


def counts(app: Any) -> dict[str, int]:
    from unionhub import db
    from unionhub.notify.models import NotifyOutbox

    with app.app_context():
        s = db.session()
        rows = s.execute(select(NotifyOutbox.status, func.count())
                         .group_by(NotifyOutbox.status)).all()
        s.close()
    return {status: n for status, n in rows}


def start_celery(env: dict[str, str], workers: int, logdir: Path) -> list[subprocess.Popen]:
    celery = str(Path(sys.executable).with_name("celery"))
    procs = []
    for i in range(workers):
        logfile = logdir / f"worker{i}.log"
        procs.append(subprocess.Popen(
            [celery, "-A", "unionhub.jobs.worker", "worker", "--pool", "threads",
             "--concurrency", "1", "--queues", "default", "--loglevel", "INFO",
             "-n", f"bench{i}@%h", "--without-heartbeat", "--without-gossip",
             "--without-mingle"],
            env=env, stdout=logfile.open("w"), stderr=subprocess.STDOUT))
    deadline = time.monotonic() + 90
    for i in range(workers):
        while "ready." not in (logdir / f"worker{i}.log").read_text():
            if time.monotonic() > deadline or procs[i].poll() is not None:
                raise SystemExit(f"celery worker {i} did not start: see {logdir}")
            time.sleep(0.5)
    return procs


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()


def run(args: argparse.Namespace) -> None:
    from unionhub import db, migrate
    from unionhub.app import create_app
    from unionhub.identity.models import Member
    from unionhub.notify import service as notify
    from unionhub.plugins import discovery
    from unionhub.security.crypto import generate_key

    admin_url = make_url(args.pg_url)
    name = f"uh_bench_notify_{uuid.uuid4().hex[:8]}"
    db_url = admin_url.set(database=name).render_as_string(False)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    tmp = Path(tempfile.mkdtemp(prefix="uh-bench-notify-"))
    keys = {"SECRET_KEY": uuid.uuid4().hex, "FIELD_ENCRYPTION_KEY": generate_key(),
            "FIELD_HASH_KEY": generate_key()}
    fake = FastFakeWeChat()
    procs: list[subprocess.Popen] = []
    redis_client = None
    try:
        base = {"DATABASE_URL": db_url, "INSTANCE_PATH": str(tmp / "instance"),
                "LOG_LEVEL": "WARNING", **keys}
        app = create_app(base)
        migrate.upgrade(app.extensions["db"].engine, discovery.discover(), echo=lambda m: None)
        app.extensions["db"].engine.dispose()
        app = create_app(base)
        wired = "core.notify_dispatch" in app.extensions["jobs"].specs
        mode = args.mode
        if mode == "auto":
            mode = "celery" if wired else "processes"
            if not wired:
                log("the notification jobs are not wired into the core hooks yet: a Celery "
                    "worker would not know core.notify_dispatch -> mode 'processes'")
        if mode == "celery" and not wired:
            raise SystemExit("mode celery needs the notification service wired into the core")
        if mode == "celery":
            import redis

            redis_client = redis.Redis.from_url(args.redis_url)
            redis_client.flushdb()
            app = create_app({**base, "BROKER_URL": args.redis_url})
        wire(app)
        log(f"database {name}; fake WeChat at {fake.url}; mode {mode}, {args.workers} "
            f"workers, {args.parallel} requests in flight each, batches of {args.batch}")

        t = time.perf_counter()
        seed(app, args.messages)
        configure(app, fake, args)
        log(f"seeded {args.messages:,} members bound to WeChat in {time.perf_counter() - t:.1f} s")

        env = env_for(db_url, str(tmp / "worker"), keys,
                      args.redis_url if mode == "celery" else None)
        if mode == "celery":
            procs = start_celery(env, args.workers, tmp)
            log(f"{len(procs)} celery workers ready")

        t0 = time.perf_counter()
        with app.app_context():
            s = db.session()
            batch = notify.send(s, "core.notice", select(Member.id),
                                {"title": "会员代表大会通知", "body": "定于12月5日召开",
                                 "url": "/notices/1", "org": "基准测试工会",
                                 "date": "2026-12-05"},
                                f"bench-{uuid.uuid4().hex[:6]}", dispatch=(mode == "celery"))
            s.commit()
            batch_id = batch.id
        t_enqueue = time.perf_counter() - t0
        log(f"queued {args.messages:,} messages (outbox + inbox rows) in {t_enqueue:.1f} s")

        t1 = time.perf_counter()
        threads: list[threading.Thread] = []
        if mode == "processes":
            procs = [subprocess.Popen([sys.executable, __file__, "--dispatch-only"], env=env)
                     for _ in range(args.workers)]
        elif mode == "inprocess":
            threads = [threading.Thread(target=dispatch_until_done, args=(app,), daemon=True)
                       for _ in range(args.workers)]
            for th in threads:
                th.start()
        deadline = time.monotonic() + args.timeout
        last = 0
        while True:
            c = counts(app)
            sent = c.get("sent", 0)
            if time.perf_counter() - t1 > 0 and sent != last:
                log(f"sent {sent:,}  ({sent / (time.perf_counter() - t1):,.0f} msg/s)  {c}")
                last = sent
            if not any(c.get(s, 0) for s in ACTIVE):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"timed out: {c}")
            time.sleep(2)
        t_send = time.perf_counter() - t1
        for th in threads:
            th.join(60)

        with app.app_context():
            progress = notify.progress(db.session(), batch_id)
        stats = fake.stats()
        lost = args.messages - stats["distinct"]
        print()
        print(f"mode                 {mode} ({args.workers} workers)")
        print(f"messages             {args.messages:,}")
        print(f"enqueue (send)       {t_enqueue:.1f} s")
        print(f"delivery             {t_send:.1f} s = {args.messages / t_send:,.0f} messages/s")
        print(f"outbox               {progress['by_status']}; inbox rows {progress['inbox']:,}")
        print(f"fake WeChat          {stats['accepted']:,} accepted, {stats['calls']:,} calls,"
              f" {stats['tokens']} token requests")
        print(f"lost / duplicated    {lost} / {stats['duplicated']}")
        if lost or stats["duplicated"] or progress["by_status"].get("sent") != args.messages:
            raise SystemExit("FAILED: messages lost or duplicated")
        print("OK: every member received exactly one message")
    finally:
        stop(procs)
        fake.stop()
        if redis_client is not None:
            redis_client.flushdb()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--messages", type=int, default=100_000)
    p.add_argument("--mode", choices=("auto", "celery", "processes", "inprocess"),
                   default="auto")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--parallel", type=int, default=8, help="WeChat requests in flight per worker")
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    p.add_argument("--timeout", type=float, default=3600)
    p.add_argument("--dispatch-only", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.dispatch_only:
        dispatch_only()
    else:
        run(args)


if __name__ == "__main__":
    main()
