"""The catalogue's lists (browse/queries.py): the order each page promises (compared with one
``ORDER BY`` over all rows), hidden books left out, totals from the kept counts, bounded
pages — and the statements really sent walk the indexes (SQLite ``EXPLAIN QUERY PLAN``), never
sort or scan the book table."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from tests.library.conftest import Library, add_book


def _subclass(code: str, name: str, parent_id: int) -> int:
    from unionhub import db
    from unionhub_library.models import LibraryCategory

    s = db.session()
    row = LibraryCategory(code=code, name=name, parent_id=parent_id, book_count=0)
    s.add(row)
    s.commit()
    return row.id


def _credit(book_id: int, name: str, role: str | None = "著") -> int:
    """Link ``name`` (made when new) as an author of the book."""
    from unionhub import db
    from unionhub_library.models import LibraryAuthor, LibraryBookAuthor

    s = db.session()
    author = s.scalar(select(LibraryAuthor).where(LibraryAuthor.name == name))
    if author is None:
        author = LibraryAuthor(name=name, book_count=0)
        s.add(author)
        s.flush()
    s.add(LibraryBookAuthor(book_id=book_id, author_id=author.id, role=role))
    s.commit()
    return author.id


def _recount() -> None:
    from unionhub import db
    from unionhub_library.catalogue.service import recount

    s = db.session()
    recount(s)
    s.commit()


def _seed(library: Library, rng: random.Random, count: int) -> dict[str, int]:
    """Books spread over T, its sub-classes TP and TP3 and class I; some hidden; created
    at random moments with ties; read counts with ties."""
    from unionhub.db import utcnow

    city = library.world.org_id("city")
    tp = _subclass("TP", "自动化技术、计算机技术", library.categories["T"])
    tp3 = _subclass("TP3", "计算技术、计算机技术", tp)
    classes = [library.categories["T"], tp, tp3, library.categories["I"]]
    now = utcnow()
    ties = [now - timedelta(days=d) for d in (2, 5)]
    for i in range(count):
        when = rng.choice(ties) if rng.random() < 0.3 else now - timedelta(
            minutes=rng.randint(1, 60 * 24 * 90))
        book_id = add_book(rng.choice(classes), f"书{i}", owner_org_id=city,
                           state="hidden" if rng.random() < 0.15 else "active",
                           created_at=when, read_count=rng.choice([0, 0, 1, 3, 3, 8]))
        if rng.random() < 0.4:
            _credit(book_id, "鲁迅")
    _recount()
    return {"T": library.categories["T"], "TP": tp, "TP3": tp3}


def _reference(order: Any, *where: Any) -> list[int]:
    from unionhub import db
    from unionhub_library.models import LibraryBook

    return list(db.session().scalars(select(LibraryBook.id).where(
        LibraryBook.state == "active", *where).order_by(*order)))


def _walk(fetch: Any, reference: list[int], per_page: int) -> None:
    """Every page of a list equals the reference sliced, and the last one says so."""
    from unionhub_library.browse import queries

    pages = -(-len(reference) // per_page)
    for page in range(1, pages + 2):
        got = fetch(page, per_page)
        start = (page - 1) * per_page
        assert [b.id for b in got.items] == reference[start:start + per_page], (page, per_page)
        assert got.has_next == (start + per_page < len(reference))
        assert got.page == page and page <= queries.MAX_PAGE


def test_category_page_merges_the_subclasses_newest_first(library: Library) -> None:
    from unionhub import db
    from unionhub_library.browse import queries
    from unionhub_library.models import LibraryBook

    with library.app.app_context():
        ids = _seed(library, random.Random(3), 70)
        s = db.session()
        tree = queries.subtree_ids(s, ids["T"])
        assert tree == sorted([ids["T"], ids["TP"], ids["TP3"]])
        assert queries.subtree_ids(s, ids["TP3"]) == [ids["TP3"]]
        newest = (LibraryBook.created_at.desc(), LibraryBook.id.desc())
        whole = _reference(newest, LibraryBook.category_id.in_(tree))
        only_tp3 = _reference(newest, LibraryBook.category_id == ids["TP3"])
        assert whole and only_tp3
        for per_page in (1, 4, 7):
            _walk(lambda p, n: queries.category_books(s, tree, p, n), whole, per_page)
            _walk(lambda p, n: queries.category_books(s, [ids["TP3"]], p, n), only_tp3,
                  per_page)
        # the total comes from the kept counts of the subtree
        assert queries.category_books(s, tree, 1).total == len(whole)


def test_new_popular_and_author_lists(library: Library) -> None:
    from unionhub import db
    from unionhub_library.browse import queries
    from unionhub_library.models import LibraryAuthor, LibraryBook, LibraryBookAuthor

    with library.app.app_context():
        _seed(library, random.Random(5), 60)
        s = db.session()
        new = _reference((LibraryBook.created_at.desc(), LibraryBook.id.desc()))
        popular = _reference((LibraryBook.read_count.desc(), LibraryBook.id.desc()))
        for per_page in (3, 10):
            _walk(lambda p, n: queries.new_books(s, p, n), new, per_page)
            _walk(lambda p, n: queries.popular_books(s, p, n), popular, per_page)
        assert queries.new_books(s).total == len(new)
        assert [b.id for b in queries.latest(s, 5)] == new[:5]
        assert all(b.read_count > 0 for b in queries.most_read(s))

        luxun = s.scalar(select(LibraryAuthor).where(LibraryAuthor.name == "鲁迅"))
        assert luxun is not None
        theirs = _reference((LibraryBook.id.desc(),), LibraryBook.id.in_(
            select(LibraryBookAuthor.book_id).where(LibraryBookAuthor.author_id == luxun.id)))
        assert luxun.book_count == len(theirs) > 3
        _walk(lambda p, n: queries.author_books(s, luxun, p, n), theirs, 3)


def test_pages_are_bounded_and_junk_is_page_one(library: Library) -> None:
    from unionhub import db
    from unionhub_library.browse import queries

    assert queries.clamp_page("x") == 1
    assert queries.clamp_page(None) == 1
    assert queries.clamp_page("-3") == 1
    assert queries.clamp_page(str(10**9)) == queries.MAX_PAGE
    with library.app.app_context():
        city = library.world.org_id("city")
        for i in range(3):
            add_book(library.categories["A"], f"书{i}", owner_org_id=city)
        _recount()
        s = db.session()
        deep = queries.new_books(s, queries.MAX_PAGE + 5, 1)
        assert deep.page == queries.MAX_PAGE and deep.items == []
        last = queries.new_books(s, 3, 1)
        assert len(last.items) == 1 and not last.has_next and last.pages == 3


def test_category_tree_totals_add_up_the_subclasses(library: Library) -> None:
    from unionhub import db
    from unionhub_library.browse import queries

    with library.app.app_context():
        city = library.world.org_id("city")
        tp = _subclass("TP", "计算机技术", library.categories["T"])
        add_book(library.categories["T"], "机械", owner_org_id=city)
        add_book(tp, "编程", owner_org_id=city)
        add_book(tp, "藏起来的", owner_org_id=city, state="hidden")
        _recount()
        roots = {n.category.code: n for n in queries.category_tree(db.session())}
        assert len(roots) == 22
        assert roots["T"].total == 2
        assert [(c.category.code, c.total) for c in roots["T"].children] == [("TP", 1)]
        assert roots["A"].total == 0


# --- query plans ----------------------------------------------------------------------------


@contextmanager
def _statements(engine: Any) -> Iterator[list[tuple[str, Any]]]:
    """Every SELECT reading ``library_book`` sent while inside, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any,
               _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "library_book" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _plan(session: Any, statement: str, parameters: Any) -> str:
    rows = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
    return "\n".join(str(r[-1]) for r in rows)


def _book_table_scans(plan: str) -> list[str]:
    return [line for line in plan.splitlines()
            if re.match(r"\s*SCAN library_book\b(?!_)", line) and "INDEX" not in line]


def test_lists_walk_their_indexes(library: Library) -> None:
    """The statements each list sends (keys, then rows by primary key): the keys read the
    promised index in order (no temporary B-tree for the ORDER BY), nothing scans the book
    table; the class walks read the index alone (covering)."""
    from unionhub import db
    from unionhub.db import get_db
    from unionhub_library.browse import queries
    from unionhub_library.models import LibraryAuthor

    with library.app.app_context():
        if get_db().engine.dialect.name != "sqlite":
            pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
        ids = _seed(library, random.Random(9), 40)
        s = db.session()
        luxun = s.scalar(select(LibraryAuthor).where(LibraryAuthor.name == "鲁迅"))
        assert luxun is not None
        tree = queries.subtree_ids(s, ids["T"])
        cases = {
            "ix_library_book_new": lambda: queries.new_books(s, 2, 5),
            "ix_library_book_popular": lambda: queries.popular_books(s, 2, 5),
            "ix_library_book_category": lambda: queries.category_books(s, tree, 2, 5),
            "ix_library_book_author_author": lambda: queries.author_books(s, luxun, 2, 3),
        }
        engine = get_db().engine
        for index, run in cases.items():
            with _statements(engine) as seen:
                page = run()
            assert page.items, index
            plans = [_plan(s, stmt, params) for stmt, params in seen]
            keyed = [p for p in plans if index in p]
            assert keyed, (index, plans)
            for plan in plans:
                assert "TEMP B-TREE" not in plan, (index, plan)
                assert not _book_table_scans(plan), (index, plan)
            if index == "ix_library_book_category":
                assert len(keyed) == len(tree)
                assert all("COVERING INDEX ix_library_book_category" in p for p in keyed)
        # one class alone: one walk, with the offset
        with _statements(engine) as seen:
            queries.category_books(s, [ids["TP3"]], 2, 3)
        plans = [_plan(s, stmt, params) for stmt, params in seen]
        assert sum("ix_library_book_category" in p for p in plans) == 1
        assert not any("TEMP B-TREE" in p for p in plans)
