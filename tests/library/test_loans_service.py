"""Loans of lent titles: borrow and return, the per-reader limit, no double borrow, copies
never exceeded (also by threads on SQLite), the waiting list served in order with the freed
copy reserved, hold expiry passing to the next reader, renewals, and the automatic return job.

After every step the copies rule of :mod:`unionhub_library.loans.service` is checked against
an independent count: ``copies_out == active loans + notified holds``.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.helpers import add_member
from tests.library.conftest import Library, add_book
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

READY = "library.hold_ready"


# --- helpers (imported by the other loan tests) --------------------------------------------------


def lent_book(lib: Library, copies: int = 1, title: str = "借阅测试书", **kw: Any) -> int:
    return add_book(lib.categories["I"], title, owner_org_id=lib.world.org_id("city"),
                    licence="lent", copies=copies, **kw)


def account(key: str, lib: Library) -> Account:
    w = lib.world
    acc_id = w.people[key].account_id if key in w.people else w.officers[key]
    acc = db.session().get(Account, acc_id)
    assert acc is not None
    return acc


def book(book_id: int) -> LibraryBook:
    b = db.session().get(LibraryBook, book_id)
    assert b is not None
    db.session().refresh(b)
    return b


def check_copies(book_id: int) -> int:
    """The copies rule, counted independently; returns copies_out."""
    s = db.session()
    out = s.scalar(select(LibraryBook.copies_out).where(LibraryBook.id == book_id))
    copies = s.scalar(select(LibraryBook.copies).where(LibraryBook.id == book_id))
    loans = s.scalar(select(func.count()).select_from(LibraryLoan).where(
        LibraryLoan.book_id == book_id, LibraryLoan.state == LoanState.ACTIVE))
    notified = s.scalar(select(func.count()).select_from(LibraryHold).where(
        LibraryHold.book_id == book_id, LibraryHold.state == HoldState.NOTIFIED))
    assert out == loans + notified, (out, loans, notified)
    assert out <= copies
    return int(out)


def ready_notices(member_id: int) -> int:
    return int(db.session().scalar(select(func.count()).select_from(Notification).where(
        Notification.type_key == READY, Notification.member_id == member_id)) or 0)


def set_limit(n: int) -> None:
    from unionhub.settings import service as settings

    settings.put("library.loans_per_reader", n)
    db.session().commit()


def borrow(key: str, lib: Library, book_id: int, **kw: Any) -> LibraryLoan:
    s = db.session()
    loan = service.borrow(s, account(key, lib), book(book_id), **kw)
    s.commit()
    return loan


def refused(fn: Any, *args: Any, **kw: Any) -> str:
    s = db.session()
    with pytest.raises(service.LoanError) as exc:
        fn(s, *args, **kw)
    s.rollback()
    return exc.value.reason


# --- borrow and return ---------------------------------------------------------------------------


def test_borrow_and_return(library: Library) -> None:
    with library.app.app_context():
        bid = lent_book(library, copies=2, loan_days=21)
        before = utcnow()
        loan = borrow("m1", library, bid)
        assert loan.state == LoanState.ACTIVE
        assert loan.org_id == library.world.org_id("g1")
        assert timedelta(days=21) <= loan.due_at - before < timedelta(days=21, minutes=1)
        assert check_copies(bid) == 1 and book(bid).copies_free == 1
        s = db.session()
        service.return_loan(s, account("m1", library), loan)
        s.commit()
        s.refresh(loan)
        assert loan.state == LoanState.RETURNED and loan.returned_at is not None
        assert check_copies(bid) == 0
        assert "已经归还" in refused(service.return_loan, account("m1", library), loan)
        # Another reader cannot return someone else's loan.
        loan2 = borrow("m2", library, bid)
        assert "没有这条借阅" in refused(service.return_loan, account("m1", library), loan2)
        assert check_copies(bid) == 1


def test_open_titles_hidden_titles_and_readers_without_permission(library: Library) -> None:
    with library.app.app_context():
        open_id = add_book(library.categories["I"], "开放书", owner_org_id=library.world.org_id(
            "city"))
        assert "无需借阅" in refused(service.borrow, account("m1", library), book(open_id))
        assert "无需借阅" in refused(service.join_queue, account("m1", library), book(open_id))
        hidden = lent_book(library, title="下架书", state="hidden")
        assert "没有这本书" in refused(service.borrow, account("m1", library), book(hidden))
        # The agent-office clerk holds no library.read.
        assert "权限" in refused(service.borrow, account("clerk", library), book(lent_book(
            library)))
        assert db.session().scalar(select(func.count()).select_from(LibraryLoan)) == 0


def test_no_double_borrow_and_the_per_reader_limit(library: Library) -> None:
    with library.app.app_context():
        set_limit(2)
        ids = [lent_book(library, copies=3, title=f"书{i}") for i in range(3)]
        borrow("m1", library, ids[0])
        assert "已借阅" in refused(service.borrow, account("m1", library), book(ids[0]))
        borrow("m1", library, ids[1])
        reason = refused(service.borrow, account("m1", library), book(ids[2]))
        assert "最多同时借阅 2 册" in reason
        assert [check_copies(i) for i in ids] == [1, 1, 0]
        assert service.active_count(db.session(), account("m1", library).id) == 2
        # After a return the reader may borrow again.
        s = db.session()
        service.return_loan(s, account("m1", library),
                            service.loan_of(s, account("m1", library).id, ids[0]))
        s.commit()
        borrow("m1", library, ids[2])
        assert [check_copies(i) for i in ids] == [0, 1, 1]


def test_overdue_loans_end_when_the_reader_borrows_before_the_sweep(library: Library) -> None:
    """A loan past its due time no longer counts as held or towards the limit, even before
    the job has run: the reader may borrow the same title again, and another one."""
    with library.app.app_context():
        set_limit(1)
        ids = [lent_book(library, copies=1, title=f"逾期{i}", loan_days=14) for i in range(2)]
        t0 = utcnow()
        borrow("m1", library, ids[0], now=t0)
        later = t0 + timedelta(days=15)
        borrow("m1", library, ids[1], now=later)  # the limit of 1 is free again
        assert [check_copies(i) for i in ids] == [0, 1]
        s = db.session()
        states = s.scalars(select(LibraryLoan.state).where(LibraryLoan.book_id == ids[0]))
        assert list(states) == [LoanState.EXPIRED]
        service.return_loan(s, account("m1", library),
                            service.loan_of(s, account("m1", library).id, ids[1]), now=later)
        s.commit()
        borrow("m1", library, ids[0], now=later)  # the overdue title may be borrowed again
        assert [check_copies(i) for i in ids] == [1, 0]


def test_copies_are_never_exceeded(library: Library) -> None:
    with library.app.app_context():
        bid = lent_book(library, copies=1)
        borrow("m1", library, bid)
        reason = refused(service.borrow, account("m2", library), book(bid))
        assert "暂无可借副本" in reason
        assert check_copies(bid) == 1


def test_threads_borrowing_the_last_copies_on_sqlite(library: Library) -> None:
    """Eight readers at once for two copies: exactly two loans (SQLite serialises writers,
    so this checks the logic and the refusals, not PostgreSQL row locks)."""
    with library.app.app_context():
        bid = lent_book(library, copies=2)
        readers = [add_member(library.world.orgs["g1"], f"读者{i}").account_id for i in range(8)]
    barrier = threading.Barrier(len(readers))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(account_id: int) -> None:
        with library.app.app_context():
            s = db.session()
            acc = s.get(Account, account_id)
            b = s.get(LibraryBook, bid)
            barrier.wait()
            try:
                service.borrow(s, acc, b)
                s.commit()
                result = "ok"
            except service.LoanError:
                s.rollback()
                result = "refused"
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=run, args=(a,)) for a in readers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["ok"] * 2 + ["refused"] * 6
    with library.app.app_context():
        assert check_copies(bid) == 2


# --- the waiting list ----------------------------------------------------------------------------


def test_waiting_list_is_served_in_order_and_the_copy_is_reserved(library: Library) -> None:
    w = library.world
    with library.app.app_context():
        bid = lent_book(library, copies=1, title="排队书")
        loan = borrow("m1", library, bid)
        assert "直接借阅" not in refused(service.join_queue, account("m1", library), book(bid))
        s = db.session()
        h2 = service.join_queue(s, account("m2", library), book(bid))
        s.commit()
        h3 = service.join_queue(s, account("m3", library), book(bid))
        s.commit()
        assert (service.queue_place(s, h2), service.queue_place(s, h3)) == (1, 2)
        assert "已在" in refused(service.join_queue, account("m2", library), book(bid))

        service.return_loan(s, account("m1", library), loan)
        s.commit()
        s.refresh(h2)
        s.refresh(h3)
        assert h2.state == HoldState.NOTIFIED and h3.state == HoldState.WAITING
        assert h2.expires_at - h2.notified_at == timedelta(hours=48)
        assert service.queue_place(s, h3) == 1
        assert ready_notices(w.people["m2"].member_id) == 1
        assert ready_notices(w.people["m3"].member_id) == 0
        assert check_copies(bid) == 1  # the reserved copy counts as out

        # The reserved copy is m2's: m1 (no hold) and m3 (still waiting) cannot take it.
        assert "暂无可借副本" in refused(service.borrow, account("m1", library), book(bid))
        assert "第 1 位" in refused(service.borrow, account("m3", library), book(bid))
        loan2 = borrow("m2", library, bid)
        s.refresh(h2)
        assert h2.state == HoldState.FULFILLED and loan2.state == LoanState.ACTIVE
        assert check_copies(bid) == 1

        # m2 returns: m3 is next.
        service.return_loan(s, account("m2", library), loan2)
        s.commit()
        s.refresh(h3)
        assert h3.state == HoldState.NOTIFIED
        assert ready_notices(w.people["m3"].member_id) == 1
        assert check_copies(bid) == 1


def test_joining_is_refused_while_a_copy_is_free(library: Library) -> None:
    with library.app.app_context():
        bid = lent_book(library, copies=1)
        assert "直接借阅" in refused(service.join_queue, account("m1", library), book(bid))
        assert db.session().scalar(select(func.count()).select_from(LibraryHold)) == 0


def test_hold_expiry_passes_the_copy_to_the_next_reader(library: Library) -> None:
    w = library.world
    with library.app.app_context():
        bid = lent_book(library, copies=1)
        loan = borrow("m1", library, bid)
        s = db.session()
        h2 = service.join_queue(s, account("m2", library), book(bid))
        h3 = service.join_queue(s, account("m3", library), book(bid))
        s.commit()
        t0 = utcnow()
        service.return_loan(s, account("m1", library), loan, now=t0)
        s.commit()
        s.refresh(h2)
        assert h2.state == HoldState.NOTIFIED

        # Before the reservation lapses nothing changes.
        assert service.sweep(s, now=t0 + timedelta(hours=47)).as_dict() == {
            "expired": 0, "lapsed": 0, "notified": 0}
        s.commit()
        # After it, m3 gets the copy; a second run changes nothing.
        later = t0 + timedelta(hours=49)
        assert service.sweep(s, now=later).as_dict() == {"expired": 0, "lapsed": 1,
                                                          "notified": 1}
        s.commit()
        assert service.sweep(s, now=later).as_dict() == {"expired": 0, "lapsed": 0,
                                                          "notified": 0}
        s.commit()
        s.refresh(h2)
        s.refresh(h3)
        assert h2.state == HoldState.CANCELLED and h3.state == HoldState.NOTIFIED
        assert ready_notices(w.people["m3"].member_id) == 1
        assert check_copies(bid) == 1
        # m2 comes back too late: the copy is m3's now.
        assert "暂无可借副本" in refused(service.borrow, account("m2", library), book(bid),
                                         now=later)
        # m3 cancels: nobody waits, the copy is free again.
        service.cancel_hold(s, account("m3", library), h3, now=later)
        s.commit()
        assert check_copies(bid) == 0
        borrow("m2", library, bid, now=later)
        assert check_copies(bid) == 1


def test_borrowing_after_the_reservation_lapsed_but_before_the_job(library: Library) -> None:
    """A late borrower finds the lapsed reservation released on the spot (no stale copy)."""
    with library.app.app_context():
        bid = lent_book(library, copies=1)
        loan = borrow("m1", library, bid)
        s = db.session()
        h2 = service.join_queue(s, account("m2", library), book(bid))
        s.commit()
        t0 = utcnow()
        service.return_loan(s, account("m1", library), loan, now=t0)
        s.commit()
        late = t0 + timedelta(hours=50)
        borrow("m3", library, bid, now=late)
        s.refresh(h2)
        assert h2.state == HoldState.CANCELLED
        assert check_copies(bid) == 1


def test_cancelling_a_notified_hold_passes_it_on(library: Library) -> None:
    w = library.world
    with library.app.app_context():
        bid = lent_book(library, copies=1)
        loan = borrow("m1", library, bid)
        s = db.session()
        h2 = service.join_queue(s, account("m2", library), book(bid))
        h3 = service.join_queue(s, account("m3", library), book(bid))
        s.commit()
        service.return_loan(s, account("m1", library), loan)
        s.commit()
        assert "没有这条预约" in refused(service.cancel_hold, account("m3", library), h2)
        service.cancel_hold(s, account("m2", library), h2)
        s.commit()
        s.refresh(h3)
        assert h3.state == HoldState.NOTIFIED
        assert ready_notices(w.people["m3"].member_id) == 1
        assert "无需取消" in refused(service.cancel_hold, account("m2", library), h2)
        assert check_copies(bid) == 1


def test_added_copies_go_to_the_waiting_readers(library: Library) -> None:
    with library.app.app_context():
        bid = lent_book(library, copies=1)
        borrow("m1", library, bid)
        s = db.session()
        h2 = service.join_queue(s, account("m2", library), book(bid))
        s.commit()
        b = book(bid)
        b.copies = 2
        s.commit()
        assert service.sweep(s).notified == 1
        s.commit()
        s.refresh(h2)
        assert h2.state == HoldState.NOTIFIED
        assert check_copies(bid) == 2


# --- renewals and the automatic return -----------------------------------------------------------


def test_renew_only_near_the_due_date_and_while_nobody_waits(library: Library) -> None:
    with library.app.app_context():
        bid = lent_book(library, copies=1, loan_days=14)
        t0 = utcnow()
        loan = borrow("m1", library, bid, now=t0)
        s = db.session()
        assert "3 天内" in refused(service.renew, account("m1", library), loan, now=t0)
        near = t0 + timedelta(days=12)
        service.renew(s, account("m1", library), loan, now=near)
        s.commit()
        assert loan.due_at - t0 == timedelta(days=28)
        h = service.join_queue(s, account("m2", library), book(bid))
        s.commit()
        reason = refused(service.renew, account("m1", library), loan,
                         now=t0 + timedelta(days=26))
        assert "排队" in reason
        assert h.state == HoldState.WAITING
        s.refresh(loan)
        assert loan.due_at - t0 == timedelta(days=28)


def test_the_job_returns_loans_at_due_date_and_serves_the_queue(library: Library) -> None:
    from unionhub.jobs import submit
    from unionhub.jobs.models import Job
    from unionhub.jobs.service import run_job

    w = library.world
    with library.app.app_context():
        bid = lent_book(library, copies=2, loan_days=7)
        other = lent_book(library, copies=1, title="另一本", loan_days=7)
        past = utcnow() - timedelta(days=8)
        old1 = borrow("m1", library, bid, now=past)
        old2 = borrow("m2", library, other, now=past)
        fresh = borrow("m3", library, bid)
        s = db.session()
        h = service.join_queue(s, account("m1", library), book(other))
        s.commit()
        job = submit("library.loans_expire", session=s)
        s.commit()
        job_id = job.id
    assert run_job(library.app, job_id) == "succeeded"
    with library.app.app_context():
        s = db.session()
        job = s.get(Job, job_id)
        assert job.status == "succeeded", job.error
        assert job.result == {"expired": 2, "lapsed": 0, "notified": 1}
        assert s.get(LibraryLoan, old1.id).state == LoanState.EXPIRED
        assert s.get(LibraryLoan, old2.id).state == LoanState.EXPIRED
        assert s.get(LibraryLoan, fresh.id).state == LoanState.ACTIVE
        assert s.get(LibraryHold, h.id).state == HoldState.NOTIFIED
        assert ready_notices(w.people["m1"].member_id) == 1
        assert check_copies(bid) == 1 and check_copies(other) == 1
        # Running again changes nothing.
        assert service.sweep(s).as_dict() == {"expired": 0, "lapsed": 0, "notified": 0}
        s.commit()
        assert check_copies(bid) == 1 and check_copies(other) == 1


def test_the_job_is_registered_with_its_beat(library: Library) -> None:
    from unionhub.jobs.service import registry

    with library.app.app_context():
        reg = registry()
        assert "library.loans_expire" in reg.specs
        _plugin, entry = reg.beat["library.loans_expire"]
        assert entry.job == "library.loans_expire" and entry.every == 300
