"""``unionhub demo`` with the library enabled, on a fresh database: a few hundred books in
every 中图法 class, each with a file that opens, a cover and its thumbnail; lent titles with
copies; a year of reads, progress, shelves, loans and a waiting list kept consistent with
the rules the services keep (``read_count``, ``copies_out``, loans within copies); a second
run adds nothing. Also the writer alone: deterministic, every class, unique titles."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from tests.conftest import AppFactory
from tests.helpers import cli, login

CLASSES = set("ABCDEFGHIJKNOPQRSTUVXZ")


def _demo_app(make_app: AppFactory) -> tuple[Flask, str]:
    make_app.set_plugin("library", True)
    app = make_app()
    result = cli(app, "demo", "--members", "150")
    assert result.exit_code == 0, result.output
    return app, result.output


def _counts(s: Any) -> tuple[int, ...]:
    from unionhub_library.models import (
        LibraryAuthor,
        LibraryBook,
        LibraryFile,
        LibraryLoan,
        LibraryProgress,
        LibraryRead,
        LibraryShelf,
    )

    return tuple(s.scalar(select(func.count()).select_from(m)) for m in (
        LibraryBook, LibraryFile, LibraryAuthor, LibraryRead, LibraryLoan, LibraryProgress,
        LibraryShelf))


def test_demo_catalogue_and_reading(make_app: AppFactory) -> None:
    from unionhub import db
    from unionhub.db import utcnow
    from unionhub.demo import DEMO_PASSWORD
    from unionhub.jobs.models import Job
    from unionhub_library import storage
    from unionhub_library.catalogue.covers import THUMB_JOB
    from unionhub_library.catalogue.formats import decode_txt, txt_pages
    from unionhub_library.epub import EpubBook, isbn13
    from unionhub_library.models import (
        LibraryAuthor,
        LibraryBook,
        LibraryBookAuthor,
        LibraryCategory,
        LibraryFile,
        LibraryHold,
        LibraryLoan,
        LibraryProgress,
        LibraryRead,
        LibraryShelf,
        LibraryShelfItem,
    )
    from unionhub_library.reader.files import total

    app, output = _demo_app(make_app)
    assert "数字图书馆：300 种图书" in output
    with app.app_context():
        s = db.session()
        books = list(s.scalars(select(LibraryBook).order_by(LibraryBook.id)))
        assert len(books) == 300
        assert all(b.state == "active" for b in books)
        # every class holds books, and its kept count is right
        by_class = dict(s.execute(select(LibraryCategory.code, func.count(LibraryBook.id))
                                  .join(LibraryBook).group_by(LibraryCategory.code)).all())
        assert set(by_class) == CLASSES and min(by_class.values()) >= 4
        assert by_class["D"] > by_class["P"] and by_class["I"] > by_class["V"]
        kept = dict(s.execute(select(LibraryCategory.code, LibraryCategory.book_count)).all())
        assert all(kept[code] == n for code, n in by_class.items())
        assert len({b.title for b in books}) == 300
        isbns = [b.isbn for b in books]
        assert all(i and isbn13(i) == i for i in isbns) and len(set(isbns)) == 300
        assert all(b.summary and b.authors_display and b.publisher and b.year for b in books)
        assert sum(1 for b in books if b.tags) >= 280
        # dates spread over two years, so "new books" has an order
        ages = [(utcnow() - b.created_at).days for b in books]
        assert min(ages) <= 30 and max(ages) >= 365

        # authors linked, counts kept, some with several books
        linked = Counter(s.scalars(select(LibraryBookAuthor.author_id)))
        assert len(set(s.scalars(select(LibraryBookAuthor.book_id)))) == 300
        authors = {a.id: a.book_count for a in s.scalars(select(LibraryAuthor))}
        assert authors == {a: linked.get(a, 0) for a in authors}
        assert max(linked.values()) >= 3

        # every book has one file that opens, with 5-12 chapters (or TXT pages), a cover and
        # its thumbnail (made by the jobs the demo ran)
        files = {f.book_id: f for f in s.scalars(select(LibraryFile))}
        assert set(files) == {b.id for b in books}
        versions: Counter[str] = Counter()
        for book in books:
            f = files[book.id]
            path = storage.path_of("files", f.stored_name)
            assert path is not None and path.stat().st_size == f.size
            if f.format == "epub":
                with EpubBook.open(path) as epub:
                    assert epub.meta.title == book.title and epub.meta.isbn == book.isbn
                    assert 5 <= len(epub.spine) <= 12 and epub.toc
                    assert epub.cover_href is not None
                    versions["3" if epub.media_type("OEBPS/nav.xhtml") else "2"] += 1
                    chapter = epub.read(epub.spine[-1].href).decode()
                    assert chapter.count("<p>") >= 3 and "。" in chapter
                assert total(f) == len(f.meta["spine"])
            else:
                assert f.format == "txt"
                text, _enc = decode_txt(path.read_bytes())
                assert book.title in text and len(txt_pages(text)) == f.meta["pages"]
            cover = storage.path_of("covers", book.cover_name)
            thumb = storage.path_of("thumbs", book.thumb_name)
            assert cover is not None and cover.is_file()
            assert thumb is not None and thumb.read_bytes().startswith(b"\xff\xd8")
        assert versions["2"] >= 30 and versions["3"] >= 150
        assert sum(1 for f in files.values() if f.format == "txt") >= 3
        jobs = Counter(s.scalars(select(Job.status).where(Job.kind == THUMB_JOB)))
        assert jobs == {"succeeded": 300}

        # lent titles: 1-3 copies; copies_out is the number of active loans
        lent = [b for b in books if b.licence == "lent"]
        assert 20 <= len(lent) <= 60
        assert all(1 <= b.copies <= 3 for b in lent)
        assert all(b.copies == 0 and b.copies_out == 0 for b in books if b.licence == "open")
        loans = list(s.scalars(select(LibraryLoan)))
        active = Counter(x.book_id for x in loans if x.state == "active")
        assert all(b.copies_out == active.get(b.id, 0) <= b.copies for b in books)
        assert sum(active.values()) >= 10
        assert {x.book.licence for x in loans} == {"lent"}
        assert {x.state for x in loans} >= {"active", "returned"}
        now = utcnow()
        loan_days = {b.id: b.loan_days for b in books}
        for x in loans:
            assert x.borrowed_at <= now
            assert x.due_at == x.borrowed_at + timedelta(days=loan_days[x.book_id])
            assert (x.returned_at is None) == (x.state == "active")
        # never more readers at once than copies
        for book in lent:
            periods = [(x.borrowed_at, x.returned_at or x.due_at) for x in loans
                       if x.book_id == book.id]
            for start, _end in periods:
                assert sum(1 for a, b in periods if a <= start < b) <= book.copies
        holds = list(s.scalars(select(LibraryHold)))
        assert holds and all(h.book.copies_out == h.book.copies for h in holds)

        # a year of reads: one per reader, book and day, with the reader's union
        reads = list(s.scalars(select(LibraryRead)))
        assert len(reads) >= 300
        assert len({(r.account_id, r.book_id, r.read_on) for r in reads}) == len(reads)
        assert all(r.org_id is not None and r.device for r in reads)
        months = {(r.read_on.year, r.read_on.month) for r in reads}
        assert len(months) >= 8
        assert len({r.org_id for r in reads}) >= 5
        per_book = Counter(r.book_id for r in reads)
        assert all(b.read_count == per_book.get(b.id, 0) for b in books)
        assert max(per_book.values()) >= 3 * (sum(per_book.values()) / len(per_book))
        # a lent title is read only while the reader has it on loan
        by_reader: dict[tuple[int, int], list[Any]] = defaultdict(list)
        for x in loans:
            by_reader[(x.account_id, x.book_id)].append(x)
        licence = {b.id: b.licence for b in books}
        for r in reads:
            if licence[r.book_id] == "lent":
                assert any(x.borrowed_at.date() - timedelta(days=1) <= r.read_on
                           <= (x.returned_at or now).date() + timedelta(days=1)
                           for x in by_reader[(r.account_id, r.book_id)]), r.id

        # progress within the book, shelves with the standard names
        progress = list(s.scalars(select(LibraryProgress)))
        assert len(progress) >= 10
        for p in progress:
            assert 0 <= p.position < total(files[p.book_id]) and 0 <= p.percent <= 1
            assert p.format == files[p.book_id].format
        shelves = list(s.scalars(select(LibraryShelf)))
        names = Counter(x.name for x in shelves)
        assert names["想读"] == names["在读"] == names["读过"] >= 3
        assert s.scalar(select(func.count()).select_from(LibraryShelfItem)) >= 20

        # the showcase members (who have a password) have something to resume
        from unionhub.identity.models import Account, Member

        showcase = list(s.scalars(select(Account.id).where(
            Account.member_id.is_not(None), Account.password_hash.is_not(None))))
        assert showcase
        assert all(any(p.account_id == a for p in progress) for a in showcase)
        assert any(x.account_id == showcase[0] and x.state == "active" for x in loans)

        # …and the pages show it: a class page lists its books; a showcase member signs in,
        # is taken back to where the demo left them in a book, and finds it on their list
        member_id = s.scalar(select(Account.member_id).where(Account.id == showcase[0]))
        mobile = s.scalar(select(Member.mobile).where(Member.id == member_id))
        saved = next(p for p in progress if p.account_id == showcase[0])
        saved_title = next(b.title for b in books if b.id == saved.book_id)
        law = next(b for b in books if b.category_id == s.scalar(
            select(LibraryCategory.id).where(LibraryCategory.code == "D")))
        before = _counts(s)

    client = app.test_client()
    page = client.get("/library/c/D?page=1").get_data(as_text=True)
    assert f"/library/book/{law.id}" in page or "/library/c/D?page=2" in page
    assert login(client, mobile, DEMO_PASSWORD).status_code in (302, 303)
    resumed = client.get(f"/library/read/{saved.book_id}")
    assert resumed.status_code == 302
    assert resumed.headers["Location"].endswith(f"/library/read/{saved.book_id}/{saved.position}")
    chapter = client.get(resumed.headers["Location"])
    assert chapter.status_code == 200 and "。" in chapter.get_data(as_text=True)
    reading = client.get("/library/shelves").get_data(as_text=True)
    assert saved_title in reading and "读到" in reading
    with app.app_context():
        s = db.session()
        before = _counts(s)

    # a second run: the core refuses a database with data (or skips it with --if-empty)
    again = cli(app, "demo", "--members", "150", "--if-empty")
    assert again.exit_code == 0, again.output
    with app.app_context():
        s = db.session()
        assert _counts(s) == before
        # and the library's seeder on its own adds nothing to a catalogue that has books
        from unionhub.demo import DemoContext
        from unionhub_library.demo.seed import seed

        ctx = DemoContext(rng=random.Random(1), orgs={}, member_ids=[], officers={})
        seed(s, ctx)
        s.commit()
        assert _counts(s) == before
        assert ctx.lines == ["数字图书馆：已有图书，未导入演示图书"]
