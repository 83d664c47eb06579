"""Counts under concurrency (PostgreSQL): two officers hiding the same book at once move the
counts once; two uploads crediting the same new author create one author counted twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.integration


def _in_threads(app: Any, work: Callable[[Any], Any], n: int = 2) -> list[Any]:
    """Run ``work(session)`` in ``n`` threads that start together; each commits its own."""
    from unionhub import db

    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        with app.app_context():
            s = db.session()
            try:
                barrier.wait(timeout=10)
                results[i] = work(s)
                s.commit()
            except Exception as exc:  # reported to the test below
                s.rollback()
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.fixture
def pg_library(library: Any) -> Any:
    if library.app.extensions["db"].engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (row locks)")
    return library


def test_concurrent_hides_move_the_counts_once(pg_library: Any) -> None:
    from unionhub import db
    from unionhub_library.catalogue.service import create_book, set_state
    from unionhub_library.models import LibraryAuthor, LibraryBook, LibraryCategory

    lib = pg_library
    with lib.app.app_context():
        s = db.session()
        book = create_book(s, {"title": "甲", "category_id": lib.categories["I"],
                               "authors": "张三"},
                           owner_org_id=lib.world.org_id("city"), account_id=None)
        s.commit()
        book_id = book.id

    results = _in_threads(lib.app, lambda s: set_state(s, s.get(LibraryBook, book_id),
                                                       "hidden"))
    assert sorted(results) == [False, True]
    with lib.app.app_context():
        s = db.session()
        assert s.get(LibraryCategory, lib.categories["I"]).book_count == 0
        assert s.scalar(select(LibraryAuthor.book_count)) == 0


def test_concurrent_books_share_one_new_author(pg_library: Any) -> None:
    from unionhub import db
    from unionhub_library.catalogue.service import create_book
    from unionhub_library.models import LibraryAuthor

    lib = pg_library
    titles = iter(["甲", "乙"])
    lock = threading.Lock()

    def work(s: Any) -> int:
        with lock:
            title = next(titles)
        return create_book(s, {"title": title, "category_id": lib.categories["I"],
                               "authors": "新作者 著"},
                           owner_org_id=lib.world.org_id("city"), account_id=None).id

    results = _in_threads(lib.app, work)
    assert all(isinstance(r, int) for r in results), results
    with lib.app.app_context():
        rows = db.session().execute(select(LibraryAuthor.name, LibraryAuthor.book_count)).all()
        assert [tuple(r) for r in rows] == [("新作者", 2)]
