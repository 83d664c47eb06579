"""Library at 200,000 books: the category page, the search and an EPUB chapter, p50/p95
latency through the real app, against one indexed SQL query fetching the category page's rows.

1. A scratch database (SQLite file by default; ``--pg`` for a scratch PostgreSQL database,
   created and dropped) migrated with the library enabled; ``--books`` books (default
   200,000) over the 22 seeded 中图法 classes (weighted as a union library is: more law and
   literature than astronomy), 20,000 authors, titles and summaries written from the demo's
   phrase banks, dates over five years, read counts with a long tail, 12% lent titles, 1%
   hidden — inserted set-based (``INSERT`` of 5,000-row batches, counts by the catalogue's
   own set-based ``recount``), then ``ANALYZE``. A few real EPUBs made by
   :func:`unionhub_library.epubgen.make_epub` are the files of ``--files`` sampled books
   (hard links: one file on disk, one ``library_file`` row per book).
2. The search index: the core search service's full rebuild of the ``library.book`` type
   (the books' title, credits, summary, tags), timed: documents per second.
3. Latency, one request after another through the real app in this process (Flask's test
   client: no network, no server threads — the app's own time), ``--requests`` each after a
   warm-up: the category page ``/library/c/<code>?page=<n>`` (random classes; page 1 mostly,
   deeper pages too) as an anonymous visitor — with the plugin's anonymous page cache on
   (its default lifetime, 10 s: repeated addresses are served from memory after a check
   that the catalogue is unchanged) and off (every request queried and rendered) — the search
   ``/library/search?q=…``, and a chapter in the reader
   ``/library/read/<id>/<pos>`` signed in — first opening of that chapter (rendered and
   sanitised from the EPUB) and again (the reader's render cache).
4. Baseline in the same run, for the same (class, page) sequence: the page's rows fetched
   by one SQL query along ``ix_library_book_category`` (no ORM, no rendering), its plan
   printed. For reference also a bare Flask app running that query and rendering the titles
   with a minimal template.

Prints p50/p95 per measurement, the ratio category page / baseline (target ≤ 3×) and the
index build rate. Run by hand (not in CI)::

    .venv/bin/python bench/library.py --books 20000 --no-search   # a quick check
    .venv/bin/python bench/library.py                        # 200,000 books on SQLite
    .venv/bin/python bench/library.py --pg                   # on PostgreSQL
    .venv/bin/python bench/library.py --pg --database-url postgresql+psycopg://…/postgres
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Flask
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import Engine, make_url

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "Bench-12351-library"
BATCH = 5000
PER_PAGE = 24
#: The anonymous list-page cache's lifetime in the main measurement (the plugin's default).
CACHE_SECONDS = 10.0
SEARCH_WORDS = ("劳动合同", "工会", "安全生产", "焊接", "高血压", "京汉铁路", "数控加工",
                "公交驾驶", "心理健康", "书法", "工伤认定", "职工代表大会", "劳动合同法",
                "人工智能", "北京胡同", "急救常识", "车间", "师傅")

BASELINE_SQL = (
    "SELECT id, title, subtitle, authors_display, cover_name, thumb_name, licence, copies, "
    "copies_out, read_count, created_at FROM library_book "
    "WHERE category_id = :category AND state = 'active' "
    "ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset")
BASELINE_TEMPLATE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>{{ code }}</title></head><body><ul>
{% for b in rows %}<li><a href="/library/book/{{ b.id }}">{{ b.title }}</a>
 {{ b.authors_display }} {{ b.read_count }}</li>{% endfor %}
</ul></body></html>"""


def say(message: str) -> None:
    print(message, flush=True)


# -- the database --------------------------------------------------------------------------


def scratch_database(args: argparse.Namespace, tmp: Path) -> tuple[str, Callable[[], None]]:
    """(URL of an empty database, cleanup)."""
    if not args.pg:
        return f"sqlite:///{tmp / 'library.db'}", lambda: None
    name = f"uh_bench_library_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        if args.keep:
            say(f"  kept database {name}")
        else:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(args.database_url).set(database=name).render_as_string(False), drop


def make_app(url: str, tmp: Path) -> tuple[Flask, dict[str, str]]:
    """Migrate ``url`` with the library enabled; returns a fresh app on it (not TESTING)."""
    from unionhub import db, migrate
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
        state.set_enabled(db.session(), discovery.discover(), "library", True)
        db.session().commit()
    get_db(app).engine.dispose()
    return create_app(cfg), cfg


@dataclass
class Seeded:
    books: int
    reader: str
    #: (code, category id, active books) of every class
    classes: list[tuple[str, int, int]]
    #: (book id, chapters) of the books with a real EPUB
    readable: list[tuple[int, int]]


def _author_names(rng: random.Random, count: int) -> list[str]:
    from unionhub_library.demo.writer import Writer

    writer = Writer(rng)
    names: dict[str, None] = {}
    while len(names) < count:
        names[writer.name()] = None
    return list(names)


def _book_text(rng: random.Random, subject: Any, writer: Any) -> tuple[str, str, list[str]]:
    """(title, summary, tags) from the demo's phrase banks, cheaply (no chapters)."""
    from unionhub_library.demo.subjects import EXPOSITION
    from unionhub_library.demo.writer import SUMMARY_STYLES, SUMMARY_VERBS

    tags = rng.sample(subject.tags, min(2, len(subject.tags)))
    if subject.fiction:
        title = rng.choice(subject.titles).format(t=writer.story_title())
        return title, f"小说讲述了一位年轻{rng.choice(('焊工', '护士', '司机', '教师'))}" \
                      "在城市里成长的故事，写出了普通劳动者的平凡与伟大。", tags
    topic = rng.choice(subject.topics)
    aspects = rng.sample(subject.aspects, 3)
    title = rng.choice(subject.titles).format(t=topic, t2=rng.choice(subject.topics),
                                              y=rng.randint(2015, 2025))
    if rng.random() < 0.3:
        title += f"（第{rng.choice('二三四五')}版）"
    extra = rng.choice(EXPOSITION).format(t=topic, a=aspects[0], a2=aspects[1])
    summary = (f"本书{rng.choice(SUMMARY_VERBS)}{topic}的{'、'.join(aspects)}等内容，"
               f"{rng.choice(SUMMARY_STYLES)}。{extra}")
    return title, summary, [*tags, topic[:30]]


def _epubs(rng: random.Random, folder: Path) -> list[tuple[Path, dict[str, Any], int]]:
    """A few real EPUBs (path, LibraryFile.meta, size) from the demo's writer."""
    from unionhub_library.demo.writer import plan_books
    from unionhub_library.epub import EpubBook
    from unionhub_library.epubgen import isbn13, make_cover_png, make_epub

    plans = [p for p in plan_books(rng, 40) if p.format == "epub"][:4]
    out = []
    for i, plan in enumerate(plans):
        cover = make_cover_png(plan.title, "、".join(plan.authors), width=300, height=400)
        data = make_epub(plan.title, plan.authors, plan.chapters, cover_png=cover,
                         epub_version=plan.epub_version, isbn=isbn13(plan.isbn_number),
                         description=plan.summary)
        path = folder / f"bench-{i}.epub"
        path.write_bytes(data)
        with EpubBook.open(path) as book:
            out.append((path, book.file_meta(), len(data)))
    return out


def seed(app: Flask, n_books: int, n_files: int, seed_value: int = 12351) -> Seeded:
    from unionhub import db
    from unionhub.db import utcnow
    from unionhub.identity.admin import create_officer
    from unionhub.orgs.models import OrgLevel
    from unionhub.orgs.service import create_org
    from unionhub_library import storage
    from unionhub_library.catalogue.service import recount
    from unionhub_library.demo.subjects import SUBJECTS
    from unionhub_library.demo.writer import Writer
    from unionhub_library.epubgen import isbn13
    from unionhub_library.models import (
        LibraryAuthor,
        LibraryBook,
        LibraryBookAuthor,
        LibraryCategory,
        LibraryFile,
    )

    rng = random.Random(seed_value)
    t0 = time.perf_counter()
    with app.app_context():
        s = db.session()
        root = create_org(s, code="110000", name="北京市总工会", level=OrgLevel.CITY, parent=None)
        s.flush()
        create_officer(s, "bench_reader", "读者", PASSWORD, "librarian", root)
        s.commit()
        categories = dict(s.execute(select(LibraryCategory.code, LibraryCategory.id)).all())
        subjects = [x for x in SUBJECTS if x.code in categories]
        weights = [x.weight for x in subjects]
        conn = s.connection()

        names = _author_names(rng, min(20_000, max(200, n_books // 10)))
        for start in range(0, len(names), BATCH):
            conn.execute(insert(LibraryAuthor.__table__), [
                {"id": start + i + 1, "name": name, "book_count": 0}
                for i, name in enumerate(names[start:start + BATCH])])

        writer = Writer(rng)
        now = utcnow()
        # Ids in the order the books were added (as in real use): every index on
        # created_at is then appended to, not written at random places.
        ages = sorted((rng.randint(10, 5 * 365 * 24 * 60) for _ in range(n_books)),
                      reverse=True)
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA cache_size = -262144")  # 256 MB for the bulk load
        books: list[dict[str, Any]] = []
        links: list[dict[str, Any]] = []
        for i in range(1, n_books + 1):
            subject = rng.choices(subjects, weights)[0]
            title, summary, tags = _book_text(rng, subject, writer)
            # a hundredth of the authors are prolific: three books in ten are theirs
            credited = sorted({rng.randint(1, max(1, len(names) // 100)) if rng.random() < 0.3
                               else rng.randint(1, len(names))
                               for _ in range(1 if rng.random() < 0.8 else 2)})
            when = now - timedelta(minutes=ages[i - 1])
            lent = rng.random() < 0.12
            books.append({
                "id": i, "title": title[:300], "subtitle": None,
                "authors_display": "、".join(names[a - 1] for a in credited),
                "publisher": rng.choice(subject.publishers), "year": rng.randint(1995, 2025),
                "isbn": isbn13(i), "language": "zh", "category_id": categories[subject.code],
                "tags": ",".join(tags), "summary": summary, "cover_name": None,
                "thumb_name": None, "licence": "lent" if lent else "open",
                "copies": rng.randint(1, 3) if lent else 0, "copies_out": 0, "loan_days": 14,
                "state": "hidden" if rng.random() < 0.01 else "active",
                "read_count": int(rng.paretovariate(1.3)) - 1, "owner_org_id": root.id,
                "created_by": None, "created_at": when, "updated_at": when})
            links += [{"book_id": i, "author_id": a, "role": "著", "sort": k}
                      for k, a in enumerate(credited)]
            if len(books) == BATCH:  # the books first: the links refer to them
                conn.execute(insert(LibraryBook.__table__), books)
                conn.execute(insert(LibraryBookAuthor.__table__), links)
                books, links = [], []
        if books:
            conn.execute(insert(LibraryBook.__table__), books)
        if links:
            conn.execute(insert(LibraryBookAuthor.__table__), links)
        if conn.dialect.name == "postgresql":
            for table in ("library_book", "library_author"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
        recount(s)
        s.commit()
        say(f"  {n_books:,} books, {len(names):,} authors inserted in "
            f"{time.perf_counter() - t0:.1f} s")

        # Real EPUBs for a sample of open, active books (one file, many hard links).
        files_dir = storage.area("files")
        epubs = _epubs(rng, Path(app.instance_path))
        candidates = list(s.scalars(select(LibraryBook.id).where(
            LibraryBook.state == "active", LibraryBook.licence == "open")))
        readable: list[tuple[int, int]] = []
        rows = []
        for book_id in rng.sample(candidates, min(n_files, len(candidates))):
            path, meta, size = rng.choice(epubs)
            stored = storage.new_name("epub")
            try:
                os.link(path, files_dir / stored)
            except OSError:
                shutil.copyfile(path, files_dir / stored)
            rows.append({"book_id": book_id, "format": "epub", "stored_name": stored,
                         "original_name": f"{book_id}.epub", "size": size,
                         "sha256": hashlib.sha256(f"{book_id}:{stored}".encode()).hexdigest(),
                         "meta": meta, "created_at": now})
            readable.append((book_id, len(meta["spine"])))
        if rows:
            s.execute(insert(LibraryFile), rows)
        s.commit()
        s.execute(text("ANALYZE"))
        s.commit()
        classes = [(code, cid, count) for code, cid, count in s.execute(
            select(LibraryCategory.code, LibraryCategory.id, LibraryCategory.book_count)
            .where(LibraryCategory.parent_id.is_(None)).order_by(LibraryCategory.code))]
    say(f"  seeded in {time.perf_counter() - t0:.1f} s ({len(readable)} books with an EPUB "
        f"of {len(epubs)} real files)")
    return Seeded(n_books, "bench_reader", classes, readable)


# -- measuring -----------------------------------------------------------------------------


@dataclass
class Timing:
    label: str
    seconds: list[float]
    statuses: Counter[int]

    def pct(self, q: int) -> float:
        if len(self.seconds) < 2:
            return self.seconds[0] * 1000 if self.seconds else 0.0
        return statistics.quantiles(self.seconds, n=100, method="inclusive")[q - 1] * 1000

    def line(self) -> str:
        codes = ", ".join(f"{k}×{v}" for k, v in sorted(self.statuses.items()))
        return (f"  {self.label:<46} p50 {self.pct(50):8.2f} ms   p95 {self.pct(95):8.2f} ms"
                f"   n={len(self.seconds)}{'   [' + codes + ']' if codes else ''}")


Call = Callable[[], "int | None"]


def measure(plans: dict[str, list[Call]], warmup: int, rounds: int) -> dict[str, Timing]:
    """Run every measurement's calls one after another, in ``rounds`` interleaved slices
    (so a busy moment of the machine hits all of them alike); the first ``warmup`` calls of
    each are not measured."""
    out = {label: Timing(label, [], Counter()) for label in plans}
    for r in range(rounds):
        for label, calls in plans.items():
            size = -(-len(calls) // rounds)
            for i, call in enumerate(calls[r * size:(r + 1) * size], start=r * size):
                t = time.perf_counter()
                status = call()
                elapsed = time.perf_counter() - t
                if i >= warmup:
                    out[label].seconds.append(elapsed)
                    if status is not None:
                        out[label].statuses[status] += 1
    for timing in out.values():
        say(timing.line())
    return out


def category_plan(rng: random.Random, seeded: Seeded, n: int) -> list[tuple[str, int, int]]:
    """(code, category id, page) requests: random classes, page 1 mostly, deeper too."""
    from unionhub_library.browse.queries import MAX_PAGE

    out = []
    classes = [c for c in seeded.classes if c[2] > 0]
    for _i in range(n):
        code, cid, count = rng.choice(classes)
        last = max(1, min(MAX_PAGE, -(-count // PER_PAGE)))
        roll = rng.random()
        page = 1 if roll < 0.6 else rng.randint(1, min(10, last)) if roll < 0.85 \
            else rng.randint(1, last)
        out.append((code, cid, page))
    return out


def explain(engine: Engine) -> str:
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.execute(text("EXPLAIN QUERY PLAN " + BASELINE_SQL),
                                {"category": 1, "limit": PER_PAGE, "offset": 0}).all()
            return " / ".join(str(r[-1]) for r in rows)
        rows = conn.execute(text("EXPLAIN " + BASELINE_SQL),
                            {"category": 1, "limit": PER_PAGE, "offset": 0}).all()
        return " / ".join(str(r[0]).strip() for r in rows[:3])


def baseline_app(engine: Engine) -> Flask:
    """A bare Flask app: the baseline query and a minimal template (for reference)."""
    app = Flask("baseline")
    template = app.jinja_env.from_string(BASELINE_TEMPLATE)  # compiled once, as files are

    @app.get("/c/<code>/<int:category>/<int:page>")
    def category(code: str, category: int, page: int) -> str:
        with engine.connect() as conn:
            rows = conn.execute(text(BASELINE_SQL), {
                "category": category, "limit": PER_PAGE + 1,
                "offset": (page - 1) * PER_PAGE}).all()
        return template.render(code=code, rows=rows[:PER_PAGE])

    return app


def sign_in(client: Any, username: str) -> None:
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    response = client.post("/auth/login", data={
        "csrf_token": token.group(1) if token else "", "identifier": username,
        "password": PASSWORD})
    if response.status_code not in (302, 303):
        raise SystemExit(f"could not sign in as {username}: {response.status_code}")


def run(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="uh-library-bench-"))
    url, cleanup = scratch_database(args, tmp)
    try:
        from unionhub.db import get_db
        from unionhub.search.service import rebuild

        app, _cfg = make_app(url, tmp)
        kind = "PostgreSQL" if args.pg else "SQLite"
        say(f"UnionHub library benchmark — {kind}, {args.books:,} books, {os.cpu_count()} CPUs, "
            f"{args.requests} requests per measurement after {args.warmup} unmeasured, "
            f"in {args.rounds} interleaved rounds")
        seeded = seed(app, args.books, args.files)

        written, build = 0, 0.0
        if not args.no_search:
            t = time.perf_counter()
            written = rebuild(app, ["library.book"])
            build = time.perf_counter() - t
            procs = app.config.get("SEARCH_REBUILD_PROCS")
            say(f"  search index rebuild (core service, {procs} procs): {written:,} books in "
                f"{build:.1f} s = {written / build:,.0f} docs/s")

        rng = random.Random(7)
        total = args.requests + args.warmup
        plan = category_plan(rng, seeded, total)
        engine = get_db(app).engine
        client = app.test_client()
        conn = engine.connect()
        bare = baseline_app(engine).test_client()
        reader = app.test_client()
        sign_in(reader, seeded.reader)
        words = [rng.choice(SEARCH_WORDS) for _ in range(total)]
        if not args.no_search:
            hits = client.get(f"/library/search?q={quote(words[0])}").get_data(as_text=True)
            say(f"  search for {words[0]!r}: {hits.count('/library/book/')} book links on "
                "the first page")
        keys = [(b, p) for b, chapters in seeded.readable for p in range(chapters)]
        rng.shuffle(keys)
        first = keys[:total]
        again = [rng.choice(first[max(0, i - 30):i + 1]) for i in range(len(first))]

        def get(c: Any, path: str, cache: float | None = None) -> Call:
            """A GET; ``cache`` sets the anonymous list-page cache's lifetime first (0: off,
            every request rendered)."""
            if cache is None:
                return lambda: c.get(path).status_code

            def call() -> int:
                app.config["LIBRARY_LIST_CACHE_SECONDS"] = cache
                return int(c.get(path).status_code)

            return call

        def query(cid: int, page: int) -> Call:
            params = {"category": cid, "limit": PER_PAGE + 1, "offset": (page - 1) * PER_PAGE}
            return lambda: (conn.execute(text(BASELINE_SQL), params).all() and None)

        labels = {
            "ours": "category page /library/c/<code>?page=<n>",
            "bare": "category page, page cache off (rendered)",
            "base": "baseline: one indexed SQL query (same rows)",
            "ref": "reference: bare Flask + that query + template",
            "search": "search /library/search?q=…",
            "cold": "EPUB chapter /library/read/<id>/<pos> (first)",
            "warm": "EPUB chapter, again (render cache)",
        }
        timings = measure({
            labels["ours"]: [get(client, f"/library/c/{code}?page={page}", CACHE_SECONDS)
                             for code, _cid, page in plan],
            labels["bare"]: [get(client, f"/library/c/{code}?page={page}", 0)
                             for code, _cid, page in plan],
            labels["base"]: [query(cid, page) for _code, cid, page in plan],
            labels["ref"]: [get(bare, f"/c/{code}/{cid}/{page}") for code, cid, page in plan],
            **({} if args.no_search else {
                labels["search"]: [get(client, f"/library/search?q={quote(w)}")
                                   for w in words]}),
            labels["cold"]: [get(reader, f"/library/read/{b}/{p}") for b, p in first],
            labels["warm"]: [get(reader, f"/library/read/{b}/{p}") for b, p in again],
        }, args.warmup, args.rounds)
        conn.close()
        say(f"    baseline plan: {explain(engine)}")
        ours, rendered, base, ref = (timings[labels[k]] for k in ("ours", "bare", "base", "ref"))
        ratio = ours.pct(50) / base.pct(50)
        say(f"  ratio category page / baseline (p50)          {ratio:8.1f}×   "
            f"(target ≤ 3×: {'met' if ratio <= 3 else 'NOT met'})")
        say(f"  ratio category page, cache off / baseline (p50) "
            f"{rendered.pct(50) / base.pct(50):6.1f}×")
        say(f"  ratio category page / bare Flask reference (p50) "
            f"{ours.pct(50) / ref.pct(50):6.1f}×")
        if build:
            say(f"  index build rate                           {written / build:8,.0f} docs/s")
        bad = {t.label: dict(t.statuses) for t in timings.values()
               if set(t.statuses) - {200}}
        if bad:
            say(f"  WARNING: non-200 answers: {bad}")
        get_db(app).engine.dispose()
    finally:
        cleanup()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            say(f"  kept {tmp}")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--books", type=int, default=200_000)
    p.add_argument("--files", type=int, default=300,
                   help="books given a real EPUB (for the chapter measurement)")
    p.add_argument("--requests", type=int, default=300, help="measured requests per page")
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--rounds", type=int, default=3,
                   help="interleaved slices the requests of every measurement are run in")
    p.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    p.add_argument("--database-url", default=DEFAULT_PG,
                   help=f"PostgreSQL server for --pg (a scratch database is created and "
                        f"dropped; default {DEFAULT_PG})")
    p.add_argument("--keep", action="store_true", help="keep the scratch database and files")
    p.add_argument("--no-search", action="store_true",
                   help="skip the search index build and the search measurement (quick runs)")
    args = p.parse_args(argv)
    if args.books < 1000:
        p.error("--books: at least 1000")
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
