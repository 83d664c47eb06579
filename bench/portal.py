"""Portal pages under load: the home page, section lists and article pages served by gunicorn
from a database of 100,000 articles, 32 concurrent connections, against a bare Flask +
SQLAlchemy app rendering the same article row with a minimal template.

1. A scratch database (PostgreSQL by default, ``--sqlite`` for a file) migrated with the
   portal enabled; ``--articles`` articles (default 100,000) spread over the seeded news,
   notice and document sections, bodies of 3–6 KB written from the demo's phrase banks, dates
   over five years, view counts, a few percent targeted at one district or not live (drafts,
   scheduled, expired), a dozen headlines with covers — inserted in bulk, then ``ANALYZE``.
2. The real app (``unionhub:create_app()``) and the baseline (:func:`baseline_app`, in this
   file) each under gunicorn with the same settings (``--workers`` 2 × ``--threads`` 4,
   gthread — the settings of docs/deploy.md), one after the other.
3. A local load generator: ``--clients`` keep-alive connections (default 32) driven by one
   asyncio loop with a raw HTTP/1.1 client (cheap per request, so on a small machine the
   servers, not the generator, get the CPU) request the page back to back for ``--duration``
   seconds after a warm-up; article pages and the baseline pick random live, public ids.

Prints requests/s, p50/p99 latency, status counts and the spread of the connections' mean
latencies per page (how evenly gunicorn's workers share the keep-alive connections), the
ratio article/baseline (target ≥ 0.5) and whether the article page's p99 is under 250 ms.
After stopping the app it checks that the article views written to the database (views
wait in each worker's memory, see ``unionhub_portal.site.counter``) are exactly the
article pages served. ``--profile`` also profiles
the article page and the home page in one process (the test client) and prints where the time
goes.

Usage::

    .venv/bin/python bench/portal.py
    .venv/bin/python bench/portal.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/portal.py --duration 5 --articles 20000 --profile
    .venv/bin/python bench/portal.py --sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from flask import Flask, abort, render_template_string
from sqlalchemy import String, Text, create_engine, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

VENV_BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


# -- the baseline: a bare Flask + SQLAlchemy app -----------------------------------------------


class _Base(DeclarativeBase):
    pass


class BaselineArticle(_Base):
    """The article row, mapped without the portal's code."""

    __tablename__ = "portal_article"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(String(500))
    body_html: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(100))
    author: Mapped[str | None] = mapped_column(String(60))
    published_at: Mapped[datetime | None] = mapped_column()


BASELINE_TEMPLATE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ a.title }}</title></head>
<body><article>
<h1>{{ a.title }}</h1>
<p>{{ a.published_at.strftime('%Y-%m-%d %H:%M') if a.published_at else '' }}
 {{ a.source or '' }} {{ a.author or '' }}</p>
<p>{{ a.summary or '' }}</p>
<div>{{ a.body_html|safe }}</div>
</article></body></html>"""


def baseline_app() -> Flask:
    """``gunicorn 'portal:baseline_app()'`` (with ``--pythonpath bench``): one page that loads
    an article by id with an ORM session and renders it; the database from
    ``BENCH_DATABASE_URL``."""
    url = os.environ["BENCH_DATABASE_URL"]
    kwargs: dict[str, Any] = ({"connect_args": {"check_same_thread": False}}
                              if url.startswith("sqlite") else {"pool_pre_ping": True})
    engine = create_engine(url, **kwargs)
    app = Flask("baseline")

    @app.get("/a/<int:article_id>")
    def article(article_id: int) -> str:
        with Session(engine) as session:
            row = session.get(BaselineArticle, article_id)
            if row is None:
                abort(404)
            return render_template_string(BASELINE_TEMPLATE, a=row)

    @app.get("/ping")
    def ping() -> str:
        return "ok"

    return app


# -- the database ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def setup(url: str, tmp: Path) -> tuple[Any, dict[str, str]]:
    from unionhub import migrate
    from unionhub.app import create_app
    from unionhub.db import get_db
    from unionhub.plugins import discovery, state
    from unionhub.security.crypto import generate_key

    cfg = {"INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": url, "SECRET_KEY": "bench",
           "FIELD_ENCRYPTION_KEY": generate_key(), "FIELD_HASH_KEY": generate_key(),
           "LOG_LEVEL": "WARNING"}
    app = create_app(cfg)
    with app.app_context():
        migrate.upgrade(get_db().engine, discovery.discover(), echo=lambda _m: None)
        from unionhub import db

        state.set_enabled(db.session(), discovery.discover(), "portal", True)
        db.session().commit()
    get_db(app).engine.dispose()
    return create_app(cfg), cfg


def _bodies(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """``count`` (summary, body) pairs of 3–6 KB (UTF-8) from the demo's phrase banks."""
    from unionhub_portal.sections import demo_text as T

    paragraphs = [p for bank in T.BANKS.values() for p in bank.paragraphs]
    summaries = [s for bank in T.BANKS.values() for s in bank.summaries]
    out = []
    for _i in range(count):
        slots = _slots(rng)
        target = rng.randint(3000, 6000)
        parts: list[str] = []
        size = 0
        while size < target:
            if parts and rng.random() < 0.15:
                parts.append(f"<h3>{rng.choice(('服务暖心', '亮点纷呈', '务实管用'))}</h3>")
            parts.append(f"<p>{rng.choice(paragraphs).format(**slots)}</p>")
            size += len(parts[-1].encode())
        out.append((rng.choice(summaries).format(**slots), "\n".join(parts)))
    return out


def _slots(rng: random.Random) -> dict[str, Any]:
    from unionhub_portal.sections import demo_text as T

    return {"org": "北京市总工会", "issuer": "北京市总工会", "district": rng.choice(T.DISTRICTS),
            "company": rng.choice(T.COMPANIES), "job": rng.choice(T.JOBS),
            "person": rng.choice(T.SURNAMES) + rng.choice(T.GIVEN_TWO),
            "sport": rng.choice(T.SPORTS), "place": rng.choice(T.PLACES),
            "year": rng.randint(2022, 2026), "month": rng.randint(1, 12),
            "day": rng.randint(1, 28), "year2": 2026, "month2": rng.randint(1, 12),
            "day2": rng.randint(1, 28), "n": rng.randint(2, 9), "m": rng.randint(3, 12),
            "k": rng.randint(1, 4), "amount": 3000, "wan": 150, "gift": 800}


def seed(app: Any, n_articles: int, seed_value: int = 12351) -> list[int]:
    """Orgs and ``n_articles`` articles; returns the ids of the live, public ones."""
    from unionhub import db
    from unionhub.db import utcnow
    from unionhub.demo import ORGS
    from unionhub.orgs.service import create_org
    from unionhub_portal.audience import Viewer, visible_articles
    from unionhub_portal.models import PortalArticle, PortalAttachment, PortalSection
    from unionhub_portal.sections import demo_files
    from unionhub_portal.sections import demo_text as T

    rng = random.Random(seed_value)
    t0 = time.perf_counter()
    with app.app_context():
        s = db.session()
        orgs: dict[str, Any] = {}
        for code, name, level, parent, agent in ORGS[:9]:
            orgs[code] = create_org(s, code=code, name=name, level=level,
                                    parent=orgs.get(parent or ""), agent_office=agent)
        s.commit()
        org_ids = [o.id for o in orgs.values()]
        districts = [o.id for o in orgs.values() if o.depth == 1]
        sections = list(s.execute(select(PortalSection.id, PortalSection.code, PortalSection.kind)
                                  .where(PortalSection.kind.in_(("news", "notice", "documents"))))
                        .all())
        weights = [8 if code in ("news", "notices") else 3 if kind == "news" else 2
                   for _id, code, kind in sections]
        templates = [t for bank in T.BANKS.values() for t in bank.titles] + list(T.NOTICE_TITLES)
        bodies = _bodies(rng, 400)
        now = utcnow()
        table = PortalArticle.__table__
        batch: list[dict[str, Any]] = []
        conn = s.connection()
        for i in range(n_articles):
            section_id = rng.choices(sections, weights)[0][0]
            published = now - timedelta(minutes=rng.randint(60, 5 * 365 * 24 * 60))
            summary, body = rng.choice(bodies)
            roll = rng.random()
            state, expires, audience = "published", None, None
            if roll < 0.01:
                state, published = "draft", None
            elif roll < 0.015:
                expires = published + timedelta(days=30)  # long expired
            elif roll < 0.018:
                published = now + timedelta(days=rng.randint(1, 20))
            elif roll < 0.05:
                audience = rng.choice(districts)
            batch.append({
                "section_id": section_id, "slug": None,
                "title": rng.choice(templates).format(**_slots(rng))[:200],
                "summary": summary, "body_html": body, "cover_id": None,
                "tags": ",".join(rng.sample(("工会动态", "服务职工", "劳模", "技能竞赛", "维权",
                                             "送温暖", "女职工", "互助保障"), 2)),
                "source": rng.choice(T.NEWS_SOURCES), "author": "记者 " + _slots(rng)["person"],
                "state": state, "published_at": published, "expires_at": expires,
                "headline": False, "pinned": i % 20000 == 0,
                "owner_org_id": rng.choice(org_ids), "view_count": int(rng.paretovariate(1.2) * 20),
                "seo_title": None, "seo_description": None, "seo_keywords": None,
                "revision": 1, "needs_signoff": False, "approval_ref": None,
                "review_note": None, "audience_org_id": audience, "has_groups": False,
                "on_pc": True, "on_mobile": True, "on_app": True, "created_by": None,
                "updated_by": None, "created_at": published or now,
                "updated_at": published or now})
            if len(batch) == 5000:
                conn.execute(insert(table), batch)
                batch = []
        if batch:
            conn.execute(insert(table), batch)
        s.commit()
        # a dozen recent headlines with drawn covers
        folder = Path(app.instance_path) / "portal" / "attachments"
        folder.mkdir(parents=True, exist_ok=True)
        recent = list(s.scalars(visible_articles(Viewer()).with_only_columns(PortalArticle.id)
                                .order_by(PortalArticle.published_at.desc()).limit(12)))
        for article_id in recent:
            data = demo_files.cover_png(rng)
            name = f"bench-{uuid.uuid4().hex}.png"
            (folder / name).write_bytes(data)
            cover = PortalAttachment(article_id=article_id, kind="image", filename="封面.png",
                                     stored_name=name, content_type="image/png",
                                     size=len(data), sha256="0" * 64)
            s.add(cover)
            s.flush()
            article = s.get(PortalArticle, article_id)
            assert article is not None
            article.cover_id, article.headline = cover.id, True
        s.commit()
        s.execute(text("ANALYZE"))
        s.commit()
        live = list(s.scalars(visible_articles(Viewer()).with_only_columns(PortalArticle.id)))
        total = s.scalar(select(PortalArticle.id).order_by(PortalArticle.id.desc()).limit(1))
    print(f"  seeded {n_articles:,} articles ({len(live):,} live and public; last id {total}) "
          f"in {time.perf_counter() - t0:.1f} s")
    return live


# -- servers and load --------------------------------------------------------------------------


def start_gunicorn(app_spec: str, env_extra: dict[str, str], tmp: Path, workers: int,
                   threads: int, ready_path: str, extra: tuple[str, ...] = ()
                   ) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = os.environ.copy()
    env.update(env_extra)
    log_path = tmp / f"gunicorn-{port}.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--workers", str(workers), "--threads", str(threads),
         "--worker-class", "gthread", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         *extra, app_spec], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + ready_path, timeout=5).status_code < 500:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"gunicorn did not start:\n{log_path.read_text()}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class Result:
    label: str
    requests: int
    wall: float
    latencies: list[float]
    statuses: Counter[int]
    #: Every answer, the warm-up's included.
    served: Counter[int]
    #: Each connection's mean latency (s): how evenly the server's workers share them.
    per_connection: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.wall if self.wall else 0.0

    def pct(self, q: int) -> float:
        if len(self.latencies) < 2:
            return 0.0
        return statistics.quantiles(self.latencies, n=100)[q - 1] * 1000


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 response; (status, server closes the connection)."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    length, chunked, close = 0, False, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        key, _sep, value = line.partition(b":")
        key = key.strip().lower()
        if key == b"content-length":
            length = int(value)
        elif key == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif key == b"connection" and b"close" in value.lower():
            close = True
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status, close


async def _connection(host: str, port: int, path: Callable[[random.Random], str],
                      rng: random.Random, warm_until: float, end: float,
                      latencies: list[float], statuses: Counter[int], served: Counter[int],
                      means: list[float]) -> None:
    """One keep-alive connection sending requests back to back until ``end``; only those
    sent after ``warm_until`` are measured (``served`` counts them all)."""
    reader, writer = await asyncio.open_connection(host, port)
    head = f"Host: {host}:{port}\r\nUser-Agent: uh-bench\r\nAccept: text/html\r\n\r\n"
    mine: list[float] = []
    try:
        while True:
            t = time.perf_counter()
            if t >= end:
                break
            writer.write(f"GET {path(rng)} HTTP/1.1\r\n{head}".encode())
            status, close = await _read_response(reader)
            served[status] += 1
            if t >= warm_until:
                mine.append(time.perf_counter() - t)
                statuses[status] += 1
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    finally:
        writer.close()
        latencies.extend(mine)
        if mine:
            means.append(statistics.fmean(mine))


def drive(label: str, base: str, path: Callable[[random.Random], str], clients: int,
          duration: float, warmup: float) -> Result:
    """``clients`` keep-alive connections driven from one asyncio loop (a raw HTTP/1.1 client:
    little CPU per request, so the servers get the machine), each requesting ``path(rng)``
    back to back: ``warmup`` seconds unmeasured, then ``duration`` seconds measured."""
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    served: Counter[int] = Counter()
    means: list[float] = []

    async def run() -> float:
        start = time.perf_counter()
        warm_until = start + warmup
        end = warm_until + duration
        await asyncio.gather(*(
            _connection(host, int(port), path, random.Random(i), warm_until, end, latencies,
                        statuses, served, means) for i in range(clients)))
        return time.perf_counter() - warm_until

    wall = asyncio.run(run())
    result = Result(label, len(latencies), wall, latencies, statuses, served, means)
    codes = ", ".join(f"{k}×{v:,}" for k, v in sorted(statuses.items()))
    spread = (f"   per connection {min(means) * 1000:.0f}–{max(means) * 1000:.0f} ms"
              if means else "")
    print(f"  {label:<30} {result.requests:>7,} req in {wall:5.1f} s = {result.rate:7.1f} req/s"
          f"   p50 {result.pct(50):6.1f} ms  p99 {result.pct(99):7.1f} ms   [{codes}]{spread}",
          flush=True)
    return result


def profile(app: Any, live: list[int], requests: int) -> None:
    """Where one process spends a request's time (test client, no server, no client)."""
    rng = random.Random(5)
    client = app.test_client()
    for label, make in (("article page", lambda: f"/portal/a/{rng.choice(live)}"),
                        ("home page", lambda: "/portal/")):
        for _i in range(5):
            client.get(make())
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        for _i in range(requests):
            client.get(make())
        prof.disable()
        per = (time.perf_counter() - t0) / requests * 1000
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out).sort_stats("cumulative")
        stats.print_stats(r"unionhub|psycopg/connection.py|jinja2/environment.py", 40)
        print(f"\n--- profile: {label}, {requests} requests, {per:.1f} ms each "
              "(under the profiler; the project's functions, database waits, rendering) ---")
        print("\n".join(line for line in out.getvalue().splitlines()[8:] if line.strip()))
    from unionhub_portal.site.counter import flush_views

    flush_views(app)  # the profiled views, written before the servers' views are counted


def _total_views(url: str) -> int:
    """The sum of every article's view count."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT COALESCE(SUM(view_count), 0) "
                                         "FROM portal_article")).scalar_one())
    finally:
        engine.dispose()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", default=DEFAULT_URL,
                   help="PostgreSQL server URL (a scratch database is created and dropped)")
    p.add_argument("--sqlite", action="store_true", help="use a SQLite file instead")
    p.add_argument("--articles", type=int, default=100_000)
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=4,
                   help="threads per worker (docs/deploy.md uses 4; more than the database "
                        "pool's 15 connections / 2 per request can stall, see the report)")
    p.add_argument("--reuse-port", action="store_true",
                   help="run both servers with gunicorn's --reuse-port (each worker listens "
                        "on its own socket and the kernel spreads the connections evenly; "
                        "not in docs/deploy.md's settings)")
    p.add_argument("--duration", type=float, default=30.0, help="measured seconds per page")
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument("--profile", action="store_true",
                   help="also profile the article and home pages in one process")
    p.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="uh-portal-bench-"))
    admin = None
    name = f"uh_bench_portal_{uuid.uuid4().hex[:8]}"
    if args.sqlite:
        url = f"sqlite:///{tmp / 'portal.db'}"
    else:
        if not args.database_url.startswith("postgresql"):
            raise SystemExit("--database-url must be PostgreSQL (or pass --sqlite)")
        admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(args.database_url).set(database=name).render_as_string(False)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        from unionhub.db import get_db

        app, cfg = setup(url, tmp)
        kind = "SQLite" if args.sqlite else "PostgreSQL"
        print(f"UnionHub portal benchmark — {kind}, gunicorn {args.workers} workers × "
              f"{args.threads} threads (gthread{', reuse-port' if args.reuse_port else ''}), "
              f"{args.clients} concurrent connections, "
              f"{args.duration:g} s per page, {os.cpu_count()} CPUs")
        live = seed(app, args.articles)
        if args.profile:
            profile(app, live, 100)
        views_before = _total_views(url)
        get_db(app).engine.dispose()
        env = {"UNIONHUB_INSTANCE_PATH": cfg["INSTANCE_PATH"],
               "UNIONHUB_DATABASE_URL": cfg["DATABASE_URL"],
               "UNIONHUB_SECRET_KEY": cfg["SECRET_KEY"],
               "UNIONHUB_FIELD_ENCRYPTION_KEY": cfg["FIELD_ENCRYPTION_KEY"],
               "UNIONHUB_FIELD_HASH_KEY": cfg["FIELD_HASH_KEY"], "UNIONHUB_LOG_LEVEL": "WARNING"}
        port_opts: tuple[str, ...] = ("--reuse-port",) if args.reuse_port else ()
        proc, base = start_gunicorn("unionhub:create_app()", env, tmp, args.workers,
                                    args.threads, "/portal/", port_opts)
        procs.append(proc)
        first = httpx.get(f"{base}/portal/a/{live[0]}", timeout=30)
        if first.status_code != 200:
            print(f"  warning: /portal/a/{live[0]} answered {first.status_code}")

        def article(rng: random.Random) -> str:
            return f"/portal/a/{rng.choice(live)}"

        results = {
            "home": drive("portal home /portal/", base, lambda _r: "/portal/", args.clients,
                          args.duration, args.warmup),
            "article": drive("portal article /portal/a/<id>", base, article, args.clients,
                             args.duration, args.warmup),
            "section": drive("portal section /portal/s/news", base,
                             lambda _r: "/portal/s/news", args.clients, args.duration,
                             args.warmup),
        }
        stop(proc)  # a graceful stop: each worker writes the views it still holds
        procs.remove(proc)
        shown = (first.status_code == 200) + results["article"].served[200]
        counted = _total_views(url) - views_before
        print(f"  article views written {counted:,} of {shown:,} pages served "
              f"({'exact' if counted == shown else f'{shown - counted:+,} MISSING'})",
              flush=True)
        proc, base = start_gunicorn("portal:baseline_app()", {"BENCH_DATABASE_URL": url}, tmp,
                                    args.workers, args.threads, "/ping",
                                    ("--pythonpath", str(HERE), *port_opts))
        procs.append(proc)
        results["baseline"] = drive("baseline /a/<id>", base,
                                    lambda rng: f"/a/{rng.choice(live)}", args.clients,
                                    args.duration, args.warmup)
        ratio = results["article"].rate / results["baseline"].rate
        p99 = results["article"].pct(99)
        print(f"  ratio article / baseline   {ratio:.3f}   (target ≥ 0.5: "
              f"{'met' if ratio >= 0.5 else 'NOT met'})")
        print(f"  ratio home / baseline      {results['home'].rate / results['baseline'].rate:.3f}")
        print(f"  article p99 {p99:.1f} ms   (target < 250 ms: "
              f"{'met' if p99 < 250 else 'NOT met'})")
    finally:
        for proc in procs:
            stop(proc)
        if admin is not None:
            if not args.keep:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            else:
                print(f"  kept database {name}")
            admin.dispose()


if __name__ == "__main__":
    main()
