"""Library loans racing on a real PostgreSQL: many readers for a few copies (never more loans
than copies), one reader borrowing many titles at once (never over the per-reader limit),
the same reader borrowing one title twice at once (one loan), and two expiry runs at once
(each loan returned once, each freed copy given to one waiting reader)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers import add_member
from tests.integration.test_pg_identity import race
from tests.library.conftest import Library
from tests.library.test_loans_service import check_copies, lent_book, set_limit
from unionhub import db
from unionhub.db import utcnow
from unionhub.identity.models import Account
from unionhub.notify.models import Notification
from unionhub_library.loans import service
from unionhub_library.models import (
    HoldState,
    LibraryBook,
    LibraryHold,
    LibraryLoan,
    LoanState,
)

pytestmark = pytest.mark.integration


def _active(book_id: int | None = None, account_id: int | None = None) -> int:
    stmt = select(func.count()).select_from(LibraryLoan).where(
        LibraryLoan.state == LoanState.ACTIVE)
    if book_id is not None:
        stmt = stmt.where(LibraryLoan.book_id == book_id)
    if account_id is not None:
        stmt = stmt.where(LibraryLoan.account_id == account_id)
    return int(db.session().scalar(stmt) or 0)


def test_many_readers_for_three_copies(pg_database_url: str, library: Library) -> None:
    n = 24
    with library.app.app_context():
        bid = lent_book(library, copies=3)
        readers = [add_member(library.world.orgs["g1"], f"并发读者{i}").account_id
                   for i in range(n)]
    queue = iter(readers)
    lock = threading.Lock()

    def work() -> None:
        with lock:
            account_id = next(queue)
        s = db.session()
        service.borrow(s, s.get(Account, account_id), s.get(LibraryBook, bid))

    results = race(library.app, work, n=n)
    assert sum(r is None for r in results) == 3, results
    assert all(isinstance(r, service.LoanError) for r in results if r is not None), results
    with library.app.app_context():
        assert _active(bid) == 3
        assert check_copies(bid) == 3


def test_one_reader_borrowing_many_titles_at_once(pg_database_url: str,
                                                  library: Library) -> None:
    with library.app.app_context():
        set_limit(3)
        books = iter([lent_book(library, copies=5, title=f"书{i}") for i in range(10)])
        reader = library.world.people["m1"].account_id
    lock = threading.Lock()

    def work() -> None:
        with lock:
            book_id = next(books)
        s = db.session()
        service.borrow(s, s.get(Account, reader), s.get(LibraryBook, book_id))

    results = race(library.app, work, n=10)
    assert sum(r is None for r in results) == 3, results
    with library.app.app_context():
        assert _active(account_id=reader) == 3
        assert sum(check_copies(b) for b in db.session().scalars(select(LibraryBook.id))) == 3


def test_one_reader_borrowing_one_title_twice_at_once(pg_database_url: str,
                                                      library: Library) -> None:
    with library.app.app_context():
        bid = lent_book(library, copies=5)
        reader = library.world.people["m1"].account_id

    def work() -> None:
        s = db.session()
        service.borrow(s, s.get(Account, reader), s.get(LibraryBook, bid))

    results = race(library.app, work, n=6)
    assert sum(r is None for r in results) == 1, results
    with library.app.app_context():
        assert _active(bid) == 1 and check_copies(bid) == 1


def test_two_expiry_runs_at_once(pg_database_url: str, library: Library,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "SWEEP_BATCH", 3)  # many small batches: the runs interleave
    past = utcnow() - timedelta(days=30)
    with library.app.app_context():
        set_limit(10)
        books = [lent_book(library, copies=2, title=f"到期书{i}") for i in range(6)]
        people = [add_member(library.world.orgs["g2"], f"到期读者{i}") for i in range(4)]
        s = db.session()
        for b in books:
            for p in people[:2]:
                service.borrow(s, s.get(Account, p.account_id), s.get(LibraryBook, b), now=past)
                s.commit()
            for p in people[2:]:
                service.join_queue(s, s.get(Account, p.account_id), s.get(LibraryBook, b))
                s.commit()
    totals: Counter[str] = Counter()
    lock = threading.Lock()

    def work() -> None:
        s = db.session()
        result = service.sweep(s, step=s.commit)  # as the job runs it
        with lock:
            totals.update(result.as_dict())

    results = race(library.app, work, n=4)
    assert results == [None] * 4
    assert totals["expired"] == 12 and totals["notified"] == 12
    with library.app.app_context():
        s = db.session()
        assert _active() == 0
        assert s.scalar(select(func.count()).select_from(LibraryHold).where(
            LibraryHold.state == HoldState.NOTIFIED)) == 12
        for b in books:
            assert check_copies(b) == 2
        per_member = Counter(s.scalars(select(Notification.member_id).where(
            Notification.type_key == service.HOLD_READY_TYPE)))
        assert per_member == {people[2].member_id: 6, people[3].member_id: 6}
        assert service.sweep(s).as_dict() == {"expired": 0, "lapsed": 0, "notified": 0}


def test_lapsing_reservations_in_parallel_runs(pg_database_url: str, library: Library) -> None:
    t0 = utcnow()
    with library.app.app_context():
        set_limit(10)
        books = [lent_book(library, copies=1, title=f"保留书{i}") for i in range(6)]
        lender, first, second = (add_member(library.world.orgs["g1"], f"保留读者{i}")
                                 for i in range(3))
        s = db.session()

        def acc(p: object) -> Account:
            return s.get(Account, p.account_id)  # type: ignore[attr-defined]

        for b in books:
            loan = service.borrow(s, acc(lender), s.get(LibraryBook, b), now=t0)
            service.join_queue(s, acc(first), s.get(LibraryBook, b), now=t0)
            service.join_queue(s, acc(second), s.get(LibraryBook, b), now=t0)
            service.return_loan(s, acc(lender), loan, now=t0)
            s.commit()
    later = t0 + timedelta(hours=49)
    totals: Counter[str] = Counter()
    lock = threading.Lock()

    def work() -> None:
        s = db.session()
        result = service.sweep(s, now=later, step=s.commit)
        with lock:
            totals.update(result.as_dict())

    assert race(library.app, work, n=4) == [None] * 4
    assert totals == {"expired": 0, "lapsed": 6, "notified": 6}
    with library.app.app_context():
        s = db.session()
        states = Counter((h.account_id, h.state) for h in s.scalars(select(LibraryHold)))
        assert states == {(first.account_id, HoldState.CANCELLED): 6,
                          (second.account_id, HoldState.NOTIFIED): 6}
        for b in books:
            assert check_copies(b) == 1
        notices = Counter(s.scalars(select(Notification.member_id).where(
            Notification.type_key == service.HOLD_READY_TYPE)))
        assert notices == {first.member_id: 6, second.member_id: 6}
