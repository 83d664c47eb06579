"""Loans of ``lent`` titles and their waiting lists (借阅与预约排队).

**The copies rule.** ``LibraryBook.copies_out`` counts every copy that a walk-up reader cannot
take: the copies on loan *and the copies reserved for notified holds*. For every book, at
every commit::

    copies_out == active loans + notified holds  (<= copies)

and each step keeps it:

- borrowing without a hold claims a copy: ``UPDATE … SET copies_out = copies_out + 1 WHERE
  copies_out < copies`` (the row count says whether a copy was free; never read-then-write);
- borrowing on a notified hold turns the hold's reserved copy into the loan (no change);
- a return (by the reader, or automatic at ``due_at``) gives a copy back (−1) and serves the
  waiting list;
- a notified hold that is cancelled, or lapses at ``expires_at`` (``library.hold_keep_hours``
  after the notice), gives its reserved copy back (−1) and serves the waiting list;
- serving the waiting list claims a free copy (+1) for the first waiting reader (first come,
  first served), marks the hold notified and tells the reader.

So a notified reader's copy cannot be borrowed by anyone else, and a walk-up borrower gets a
copy only after everybody waiting has been served.

**Per-reader limit** (``library.loans_per_reader``) and **one active loan per reader and
book** (a partial unique index as the last guard): a borrow first locks the reader's
``account`` row (PostgreSQL ``SELECT … FOR UPDATE``), so one reader's borrows run one at a
time and the count of their loans is current; on SQLite the first write takes the database's
write lock before anything is counted.

Transactions belong to the caller: nothing here commits; after :class:`LoanError` the caller
rolls back. Open titles need no loan: they are refused here with a clear message.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from unionhub.access import service as access
from unionhub.db import utcnow
from unionhub.i18n import _
from unionhub.identity.models import Account, MemberStatus
from unionhub.web.formatting import local_time

from ..access import can_see
from ..models import (
    BookState,
    HoldState,
    LibraryBook,
    LibraryHold,
    LibraryLoan,
    Licence,
    LoanState,
)

READ = "library.read"
LIMIT_SETTING = "library.loans_per_reader"
KEEP_SETTING = "library.hold_keep_hours"
HOLD_READY_TYPE = "library.hold_ready"
#: A loan may be renewed in its last days only (and only while nobody waits).
RENEW_WINDOW = timedelta(days=3)
#: Rows one sweep statement changes at most (the job loops until nothing is left).
SWEEP_BATCH = 500

B, L, H = LibraryBook, LibraryLoan, LibraryHold


class LoanError(Exception):
    """A refusal with a reason the reader understands (``str(exc)``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- settings and small helpers ------------------------------------------------------------------


def _setting(key: str, default: int) -> int:
    from unionhub.settings import service as settings

    try:
        value = int(settings.get(key))
    except (KeyError, TypeError, ValueError):
        return default
    return value


def loans_limit() -> int:
    return max(_setting(LIMIT_SETTING, 5), 0)


def hold_keep() -> timedelta:
    return timedelta(hours=max(_setting(KEEP_SETTING, 48), 1))


def short(text: str, limit: int = 20) -> str:
    """WeChat template fields hold at most 20 characters."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _rows(result: Any) -> int:
    return int(result.rowcount or 0)


def _claim_copy(session: Session, book_id: int) -> bool:
    """Take one free copy of an active lent title; False when none is free."""
    result = session.execute(
        update(B).where(B.id == book_id, B.copies_out < B.copies, B.licence == Licence.LENT,
                        B.state == BookState.ACTIVE)
        .values(copies_out=B.copies_out + 1).execution_options(synchronize_session="fetch"))
    return _rows(result) == 1


def _release_copies(session: Session, book_id: int, n: int = 1) -> None:
    """Give ``n`` copies back (never below zero: a catalogue correction may have run)."""
    session.execute(
        update(B).where(B.id == book_id)
        .values(copies_out=case((B.copies_out >= n, B.copies_out - n), else_=0))
        .execution_options(synchronize_session="fetch"))


def _lock_reader(session: Session, account_id: int) -> None:
    """Serialise one reader's borrows (PostgreSQL row lock; SQLite ignores ``FOR UPDATE``
    and serialises at the first write instead)."""
    session.execute(select(Account.id).where(Account.id == account_id).with_for_update())


def active_count(session: Session, account_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(L).where(
        L.account_id == account_id, L.state == LoanState.ACTIVE)) or 0)


def _reader_org_id(account: Any) -> int | None:
    member = getattr(account, "member", None)
    if member is None or member.status != MemberStatus.ACTIVE:
        return None
    return int(member.org_id)


def _check_reader(account: Any) -> None:
    if account is None or getattr(account, "is_anonymous", True):
        raise LoanError(_("请先登录"))
    if not access.can(account, READ):
        raise LoanError(_("您没有借阅电子书的权限"))


def _check_lent(account: Any, book: LibraryBook) -> None:
    if not can_see(account, book):
        raise LoanError(_("没有这本书"))
    if book.licence != Licence.LENT:
        raise LoanError(_("《%(title)s》开放阅读，无需借阅", title=book.title))
    if book.state != BookState.ACTIVE:
        raise LoanError(_("《%(title)s》已下架，暂停借阅", title=book.title))


def hold_of(session: Session, account_id: int, book_id: int) -> LibraryHold | None:
    return session.scalar(select(H).where(
        H.account_id == account_id, H.book_id == book_id,
        H.state.in_((HoldState.WAITING, HoldState.NOTIFIED))))


def loan_of(session: Session, account_id: int, book_id: int) -> LibraryLoan | None:
    return session.scalar(select(L).where(L.account_id == account_id, L.book_id == book_id,
                                          L.state == LoanState.ACTIVE))


# --- the waiting list ----------------------------------------------------------------------------


def _notify_ready(session: Session, hold: LibraryHold, title: str) -> None:
    from unionhub.notify import send

    expires = local_time(hold.expires_at)
    audience = select(Account.member_id).where(Account.id == hold.account_id,
                                               Account.member_id.is_not(None))
    send(session, HOLD_READY_TYPE, audience,
         {"book_id": hold.book_id, "title": title, "title_short": short(title, 14),
          "expires": expires}, f"hold_ready:{hold.id}")


def serve_queue(session: Session, book_id: int, *, now: datetime | None = None,
                quiet_for: int | None = None) -> list[LibraryHold]:
    """Give free copies of ``book_id`` to the waiting readers, first come first served: each
    gets a reserved copy until ``now + library.hold_keep_hours`` and a notification (not
    ``quiet_for``, the reader who is borrowing it this very moment). Returns the holds
    notified. Safe to run concurrently: the copy is claimed first (the book row is locked
    from then on) and the hold changes only if it is still waiting."""
    now = now or utcnow()
    keep = hold_keep()
    served: list[LibraryHold] = []
    passed: set[int] = set()
    title: str | None = None
    while True:
        stmt = (select(H).where(H.book_id == book_id, H.state == HoldState.WAITING)
                .order_by(H.created_at, H.id).limit(1))
        if passed:
            stmt = stmt.where(H.id.not_in(passed))
        first = session.scalar(stmt)
        if first is None or not _claim_copy(session, book_id):
            return served
        changed = session.execute(
            update(H).where(H.id == first.id, H.state == HoldState.WAITING)
            .values(state=HoldState.NOTIFIED, notified_at=now, expires_at=now + keep)
            .execution_options(synchronize_session="fetch"))
        if _rows(changed) != 1:  # cancelled or served meanwhile: the copy goes back
            _release_copies(session, book_id)
            passed.add(first.id)
            continue
        session.refresh(first)
        served.append(first)
        if first.account_id != quiet_for:
            if title is None:
                title = session.scalar(select(B.title).where(B.id == book_id)) or ""
            _notify_ready(session, first, title)


def join_queue(session: Session, account: Any, book: LibraryBook, *,
               now: datetime | None = None) -> LibraryHold:
    """Put the reader on ``book``'s waiting list (排队预约)."""
    now = now or utcnow()
    _check_reader(account)
    _check_lent(account, book)
    if loan_of(session, account.id, book.id) is not None:
        raise LoanError(_("您已借阅《%(title)s》，无需预约", title=book.title))
    if hold_of(session, account.id, book.id) is not None:
        raise LoanError(_("您已在《%(title)s》的预约队列中", title=book.title))
    waiting = session.scalar(select(func.count()).select_from(H).where(
        H.book_id == book.id, H.state == HoldState.WAITING)) or 0
    if book.copies_out < book.copies and not waiting:
        raise LoanError(_("《%(title)s》现在有可借副本，请直接借阅", title=book.title))
    hold = H(account_id=account.id, book_id=book.id, state=HoldState.WAITING, created_at=now)
    session.add(hold)
    try:
        session.flush()
    except IntegrityError:
        raise LoanError(_("您已在《%(title)s》的预约队列中", title=book.title)) from None
    serve_queue(session, book.id, now=now)
    session.refresh(hold)
    return hold


def cancel_hold(session: Session, account: Any, hold: LibraryHold, *,
                now: datetime | None = None) -> None:
    """The reader leaves the waiting list; a copy reserved for them passes to the next."""
    now = now or utcnow()
    if hold.account_id != account.id:
        raise LoanError(_("没有这条预约"))
    released = session.execute(
        update(H).where(H.id == hold.id, H.state == HoldState.NOTIFIED)
        .values(state=HoldState.CANCELLED).execution_options(synchronize_session="fetch"))
    if _rows(released) == 1:
        _release_copies(session, hold.book_id)
        serve_queue(session, hold.book_id, now=now)
        return
    left = session.execute(
        update(H).where(H.id == hold.id, H.state == HoldState.WAITING)
        .values(state=HoldState.CANCELLED).execution_options(synchronize_session="fetch"))
    if _rows(left) != 1:
        raise LoanError(_("这条预约已结束，无需取消"))


def queue_place(session: Session, hold: LibraryHold) -> int:
    """1 for the first waiting reader; 0 for a notified hold (the copy is waiting)."""
    if hold.state != HoldState.WAITING:
        return 0
    ahead = session.scalar(select(func.count()).select_from(H).where(
        H.book_id == hold.book_id, H.state == HoldState.WAITING,
        or_(H.created_at < hold.created_at,
            and_(H.created_at == hold.created_at, H.id < hold.id)))) or 0
    return int(ahead) + 1


def lapse_holds(session: Session, *, now: datetime | None = None,
                book_id: int | None = None) -> Counter[int]:
    """Notified holds past ``expires_at`` are cancelled and their copies given back; returns
    {book id: holds lapsed}. Set-based; two runs at once never lapse one hold twice (rows
    locked by the other run are skipped, and the state is checked again)."""
    now = now or utcnow()
    lapsed: Counter[int] = Counter()
    while True:
        pick = select(H.id).where(H.state == HoldState.NOTIFIED, H.expires_at <= now)
        if book_id is not None:
            pick = pick.where(H.book_id == book_id)
        pick = pick.order_by(H.id).limit(SWEEP_BATCH).with_for_update(skip_locked=True)
        books = list(session.execute(
            update(H).where(H.id.in_(pick.scalar_subquery()), H.state == HoldState.NOTIFIED)
            .values(state=HoldState.CANCELLED).returning(H.book_id)
            .execution_options(synchronize_session="fetch")).scalars())
        lapsed.update(books)
        if len(books) < SWEEP_BATCH:
            break
    for bid in sorted(lapsed):
        _release_copies(session, bid, lapsed[bid])
    return lapsed


# --- loans ---------------------------------------------------------------------------------------


def borrow(session: Session, account: Any, book: LibraryBook, *,
           now: datetime | None = None) -> LibraryLoan:
    """Lend ``book`` to ``account`` for ``book.loan_days`` days. A reader whose hold was
    notified takes the copy reserved for them; otherwise a free copy is claimed after the
    waiting list has been served."""
    now = now or utcnow()
    _check_reader(account)
    _check_lent(account, book)
    # The reader's loans past their due time are over (access already treats them so): end
    # them now rather than at the next sweep, so they count neither as held nor to the limit.
    for book_id in sorted(expire_loans(session, now=now, account_id=account.id)):
        serve_queue(session, book_id, now=now)
    if loan_of(session, account.id, book.id) is not None:
        raise LoanError(_("您已借阅《%(title)s》", title=book.title))
    limit = loans_limit()
    if active_count(session, account.id) >= limit:
        raise LoanError(_("每位读者最多同时借阅 %(n)s 册，请先归还后再借", n=limit))
    _lock_reader(session, account.id)
    # The copies a lapsed reservation held are free again, and waiting readers come first.
    lapse_holds(session, now=now, book_id=book.id)
    serve_queue(session, book.id, now=now, quiet_for=account.id)
    # From here the reader's row (PostgreSQL) or the database (SQLite) is locked: re-count.
    if loan_of(session, account.id, book.id) is not None:
        raise LoanError(_("您已借阅《%(title)s》", title=book.title))
    if active_count(session, account.id) >= limit:
        raise LoanError(_("每位读者最多同时借阅 %(n)s 册，请先归还后再借", n=limit))
    fulfilled = session.execute(
        update(H).where(H.account_id == account.id, H.book_id == book.id,
                        H.state == HoldState.NOTIFIED, H.expires_at > now)
        .values(state=HoldState.FULFILLED).execution_options(synchronize_session="fetch"))
    if _rows(fulfilled) != 1 and not _claim_copy(session, book.id):
        hold = hold_of(session, account.id, book.id)
        if hold is not None:
            raise LoanError(_("《%(title)s》暂无可借副本，您在预约队列第 %(n)s 位",
                              title=book.title, n=queue_place(session, hold)))
        raise LoanError(_("《%(title)s》暂无可借副本，可以排队预约", title=book.title))
    # A reader who was still waiting (and got the copy another way) leaves the queue.
    session.execute(update(H).where(H.account_id == account.id, H.book_id == book.id,
                                    H.state == HoldState.WAITING)
                    .values(state=HoldState.FULFILLED)
                    .execution_options(synchronize_session="fetch"))
    loan = L(account_id=account.id, book_id=book.id, org_id=_reader_org_id(account),
             state=LoanState.ACTIVE, borrowed_at=now,
             due_at=now + timedelta(days=max(book.loan_days or 14, 1)))
    session.add(loan)
    try:
        session.flush()
    except IntegrityError:  # the partial unique index: a second loan of the same book
        raise LoanError(_("您已借阅《%(title)s》", title=book.title)) from None
    session.refresh(book)
    return loan


def return_loan(session: Session, account: Any, loan: LibraryLoan, *,
                now: datetime | None = None) -> LibraryLoan:
    """The reader gives the copy back; the first waiting reader is notified."""
    now = now or utcnow()
    if loan.account_id != account.id:
        raise LoanError(_("没有这条借阅记录"))
    done = session.execute(
        update(L).where(L.id == loan.id, L.state == LoanState.ACTIVE)
        .values(state=LoanState.RETURNED, returned_at=now)
        .execution_options(synchronize_session="fetch"))
    if _rows(done) != 1:
        raise LoanError(_("这本书已经归还"))
    _release_copies(session, loan.book_id)
    serve_queue(session, loan.book_id, now=now)
    session.refresh(loan)
    return loan


def renew(session: Session, account: Any, loan: LibraryLoan, *,
          now: datetime | None = None) -> LibraryLoan:
    """Extend an active loan by the title's loan period, in its last
    :data:`RENEW_WINDOW` and only while nobody is waiting for the title."""
    now = now or utcnow()
    if loan.account_id != account.id:
        raise LoanError(_("没有这条借阅记录"))
    if loan.state != LoanState.ACTIVE or loan.due_at <= now:
        raise LoanError(_("这条借阅已结束，不能续借"))
    if loan.due_at - now > RENEW_WINDOW:
        raise LoanError(_("到期前 %(n)s 天内才可以续借", n=RENEW_WINDOW.days))
    days = max(loan.book.loan_days or 14, 1)
    waiting = select(H.id).where(H.book_id == loan.book_id, H.state == HoldState.WAITING)
    done = session.execute(
        update(L).where(L.id == loan.id, L.state == LoanState.ACTIVE, L.due_at == loan.due_at,
                        ~waiting.exists())
        .values(due_at=loan.due_at + timedelta(days=days))
        .execution_options(synchronize_session="fetch"))
    if _rows(done) != 1:
        if session.scalar(select(waiting.exists())):
            raise LoanError(_("有读者正在排队预约这本书，不能续借"))
        raise LoanError(_("这条借阅刚刚发生了变化，请刷新后再试"))
    session.refresh(loan)
    return loan


def expire_loans(session: Session, *, now: datetime | None = None,
                 account_id: int | None = None) -> Counter[int]:
    """Automatic return at ``due_at``: active loans past due become ``expired`` and their
    copies are given back; returns {book id: loans expired}. Set-based and safe with two
    runs at once (see :func:`lapse_holds`). ``account_id``: only that reader's loans."""
    now = now or utcnow()
    expired: Counter[int] = Counter()
    mine = (L.account_id == account_id,) if account_id is not None else ()
    while True:
        pick = (select(L.id).where(L.state == LoanState.ACTIVE, L.due_at <= now, *mine)
                .order_by(L.id).limit(SWEEP_BATCH).with_for_update(skip_locked=True))
        books = list(session.execute(
            update(L).where(L.id.in_(pick.scalar_subquery()), L.state == LoanState.ACTIVE)
            .values(state=LoanState.EXPIRED, returned_at=now).returning(L.book_id)
            .execution_options(synchronize_session="fetch")).scalars())
        expired.update(books)
        if len(books) < SWEEP_BATCH:
            break
    for bid in sorted(expired):
        _release_copies(session, bid, expired[bid])
    return expired


def books_to_serve(session: Session) -> list[int]:
    """Active lent titles with a free copy and somebody waiting (copies added by the
    catalogue, or a run that stopped half-way)."""
    return list(session.scalars(
        select(B.id).where(B.licence == Licence.LENT, B.state == BookState.ACTIVE,
                           B.copies_out < B.copies,
                           select(H.id).where(H.book_id == B.id,
                                              H.state == HoldState.WAITING).exists())
        .order_by(B.id)))


@dataclass(frozen=True)
class SweepResult:
    expired: int
    lapsed: int
    notified: int

    def as_dict(self) -> dict[str, int]:
        return {"expired": self.expired, "lapsed": self.lapsed, "notified": self.notified}


def sweep(session: Session, *, now: datetime | None = None,
          step: Callable[[], None] | None = None) -> SweepResult:
    """What the beat job does: automatic returns, lapsed reservations, then the waiting
    lists of every title with a free copy. Idempotent: a second run changes nothing.

    ``step`` is called after each consistent step (the copies rule holds there); the job
    commits in it, so that two runs at once never hold many books' rows across steps (which
    could deadlock on PostgreSQL)."""
    now = now or utcnow()
    done = step or (lambda: None)
    expired = expire_loans(session, now=now)
    done()
    lapsed = lapse_holds(session, now=now)
    done()
    notified = 0
    for book_id in sorted(set(expired) | set(lapsed) | set(books_to_serve(session))):
        notified += len(serve_queue(session, book_id, now=now))
        done()
    return SweepResult(sum(expired.values()), sum(lapsed.values()), notified)


# --- what pages show -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BookStatus:
    """A lent title as one reader sees it (the book page's actions)."""

    copies: int
    free: int
    waiting: int
    loan: LibraryLoan | None
    hold: LibraryHold | None
    place: int

    @property
    def can_borrow(self) -> bool:
        ready = self.hold is not None and self.hold.state == HoldState.NOTIFIED
        return self.loan is None and (ready or (self.free > 0 and self.hold is None
                                                and self.waiting == 0))


def book_status(session: Session, account: Any, book: LibraryBook) -> BookStatus:
    waiting = int(session.scalar(select(func.count()).select_from(H).where(
        H.book_id == book.id, H.state == HoldState.WAITING)) or 0)
    loan = hold = None
    place = 0
    if account is not None and not getattr(account, "is_anonymous", True):
        loan = loan_of(session, account.id, book.id)
        hold = hold_of(session, account.id, book.id)
        if hold is not None:
            place = queue_place(session, hold)
    return BookStatus(book.copies, book.copies_free, waiting, loan, hold, place)


def active_loans(session: Session, account_id: int) -> Sequence[LibraryLoan]:
    return session.scalars(select(L).where(L.account_id == account_id,
                                           L.state == LoanState.ACTIVE)
                           .order_by(L.due_at, L.id)).all()


def open_holds(session: Session, account_id: int) -> list[tuple[LibraryHold, int]]:
    """The reader's holds with their place in the queue (0: the copy is waiting for them)."""
    holds = session.scalars(select(H).where(
        H.account_id == account_id, H.state.in_((HoldState.WAITING, HoldState.NOTIFIED)))
        .order_by(H.created_at, H.id)).all()
    return [(h, queue_place(session, h)) for h in holds]


def history(account_id: int) -> Select[tuple[LibraryLoan]]:
    """Ended loans, latest first (paginate it)."""
    return (select(L).where(L.account_id == account_id, L.state != LoanState.ACTIVE)
            .order_by(L.returned_at.desc(), L.id.desc()))


LOAN_STATE_LABELS = {LoanState.ACTIVE: "借阅中", LoanState.RETURNED: "已归还",
                     LoanState.EXPIRED: "到期自动归还"}
HOLD_STATE_LABELS = {HoldState.WAITING: "排队中", HoldState.NOTIFIED: "已到书，待借阅",
                     HoldState.FULFILLED: "已借阅", HoldState.CANCELLED: "已取消"}
