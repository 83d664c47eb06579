"""The demo's reading life: a year of reads by members of many unions (so the statistics'
charts — reads per month, popular titles, active readers per union — have something to show),
reading progress, shelves, past and current loans and a waiting list.

Written straight into the tables, with dates in the past, and kept consistent the way the
services keep it: one read per (reader, book, day) carrying the reader's union; a book's
``read_count`` is its number of reads; a ``lent`` title is read only while the reader has it
on loan, never by more readers at once than it has copies; ``copies_out`` is the number of
active loans; the waiting list only forms behind a title whose copies are all out.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from unionhub.identity.models import Account, Member, MemberStatus

from ..models import (
    HoldState,
    LibraryBook,
    LibraryHold,
    LibraryLoan,
    LibraryProgress,
    LibraryRead,
    LibraryShelf,
    LibraryShelfItem,
    Licence,
    LoanState,
    ShelfKind,
)
from ..reader.files import percent
from ..reader.service import CHINA, STANDARD
from .books import DemoBook

DEVICES = ("iPhone", "Android 手机", "Windows 电脑", "iPad", "Mac 电脑", "Android 平板",
           "鸿蒙设备")
DEVICE_WEIGHTS = (30, 34, 18, 8, 4, 3, 3)
CUSTOM_SHELVES = ("工会工作参考", "周末读物", "技能提升", "给孩子的书", "法律常识", "通勤路上",
                  "读书会书单")
#: Active loans one demo reader holds at most (the default limit is 5).
LOANS_PER_READER = 2


@dataclass
class Reader:
    account_id: int
    org_id: int
    showcase: bool
    devices: list[str] = field(default_factory=list)
    #: book id → the days read, in order
    days: dict[int, list[date]] = field(default_factory=dict)
    active_loans: int = 0


@dataclass
class Counts:
    reads: int = 0
    readers: int = 0
    progress: int = 0
    shelves: int = 0
    loans_active: int = 0
    loans_past: int = 0
    holds: int = 0


def readers(session: Session, ctx: Any, rng: random.Random) -> list[Reader]:
    """The members who read: every showcase member (those with a demo password) and about
    a third of the other active members."""
    ids = list(getattr(ctx, "member_ids", []) or [])
    rows: list[tuple[int, int, bool]] = []
    for start in range(0, len(ids), 500):
        rows += session.execute(
            select(Account.id, Member.org_id, Account.password_hash.is_not(None))
            .join(Member, Member.id == Account.member_id)
            .where(Member.id.in_(ids[start:start + 500]),
                   Member.status == MemberStatus.ACTIVE)
            .order_by(Account.id)).all()
    showcase = [r for r in rows if r[2]]
    others = [r for r in rows if not r[2]]
    picked = showcase + rng.sample(others, min(len(others), max(20, len(others) // 3)))
    out = []
    for account_id, org_id, is_showcase in picked:
        reader = Reader(account_id, org_id, bool(is_showcase))
        reader.devices = list(dict.fromkeys(rng.choices(DEVICES, DEVICE_WEIGHTS,
                                                        k=rng.choice((1, 1, 2, 3)))))
        out.append(reader)
    return out


def _moment(day: date, rng: random.Random) -> datetime:
    """A believable reading time on ``day`` (Beijing): lunch, the commute, the evening."""
    hour = rng.choice((7, 8, 12, 12, 13, 18, 19, 20, 21, 21, 22, 22, 23))
    return datetime.combine(day, time(hour, rng.randint(0, 59)), tzinfo=CHINA)


def _early(day: date, rng: random.Random) -> datetime:
    """Early morning of ``day`` (Beijing): a loan taken then precedes that day's reading."""
    return datetime.combine(day, time(6, rng.randint(0, 59)), tzinfo=CHINA)


class Loans:
    """Loan periods per lent title, so no title is ever out more times than its copies."""

    def __init__(self) -> None:
        self.periods: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)

    def free(self, book: DemoBook, start: datetime, end: datetime) -> bool:
        overlapping = sum(1 for s, e in self.periods[book.id] if s < end and start < e)
        return overlapping < book.copies

    def take(self, book: DemoBook, start: datetime, end: datetime) -> None:
        self.periods[book.id].append((start, end))


def seed_history(session: Session, ctx: Any, rng: random.Random, books: list[DemoBook],
                 now: datetime) -> Counts:
    counts = Counts()
    people = readers(session, ctx, rng)
    if not people or not books:
        return counts
    today = now.astimezone(CHINA).date()
    by_id = {b.id: b for b in books}
    # Popularity: a long tail over a shuffled order (a few titles everyone reads).
    order = books[:]
    rng.shuffle(order)
    weights = [1 / (rank + 3) ** 0.9 for rank in range(len(order))]
    loans = Loans()
    loan_rows: list[dict[str, Any]] = []

    # Current loans first: they hold copies now, the past ones must fit around them. The
    # first showcase member has one of them (the profile panel and the loans page show it).
    lent = [b for b in books if b.licence == Licence.LENT and b.copies > 0]
    showcase = [p for p in people if p.showcase]
    forced = {lent[0].id: showcase[0]} if lent and showcase else {}
    for book in lent:
        wanted = book.copies if rng.random() < 0.5 else rng.randint(0, book.copies)
        first_borrower = forced.get(book.id)
        candidates = [p for p in people
                      if p.active_loans < LOANS_PER_READER and p is not first_borrower]
        borrowers = rng.sample(candidates, min(wanted, len(candidates)))
        if first_borrower is not None:
            borrowers = [first_borrower, *borrowers][:book.copies]
        for person in borrowers:
            first = max(now - timedelta(days=rng.randint(0, book.loan_days - 1)),
                        book.created_at).astimezone(CHINA).date()
            # early that morning — or a little while ago, when that morning is still to come
            start = max(min(_early(first, rng), now - timedelta(minutes=rng.randint(5, 90))),
                        book.created_at)
            due = start + timedelta(days=book.loan_days)
            loans.take(book, start, due)
            person.active_loans += 1
            span = max((today - first).days, 0)
            person.days[book.id] = sorted({first + timedelta(days=rng.randint(0, span))
                                           for _ in range(rng.randint(1, 4))} | {first})
            loan_rows.append({"account_id": person.account_id, "book_id": book.id,
                              "org_id": person.org_id, "state": LoanState.ACTIVE,
                              "borrowed_at": start, "due_at": due, "returned_at": None})
            counts.loans_active += 1

    # A year of reading.
    for person in people:
        wanted = min(1 + int(rng.paretovariate(1.2)), 14) + (3 if person.showcase else 0)
        for book in rng.choices(order, weights, k=wanted):
            if book.id in person.days:
                continue
            oldest = max(today - timedelta(days=364), book.created_at.astimezone(CHINA).date())
            room = (today - oldest).days
            if room < 0:
                continue
            first = oldest + timedelta(days=int((1 - rng.random() ** 1.5) * room))
            span = rng.randint(0, 25)
            if book.licence == Licence.LENT:
                span = min(span, book.loan_days - 1)
            last = min(first + timedelta(days=span), today)
            reading = sorted({first + timedelta(days=rng.randint(0, (last - first).days))
                              for _ in range(rng.choice((1, 1, 2, 3, 4, 6, 9)))} | {first})
            if book.licence == Licence.LENT:
                start = _early(first, rng)
                due = start + timedelta(days=book.loan_days)
                end = min(_moment(reading[-1], rng) + timedelta(days=rng.randint(1, 3)), due)
                if end >= now or not loans.free(book, start, due):
                    continue
                loans.take(book, start, end)
                expired = end == due
                loan_rows.append({"account_id": person.account_id, "book_id": book.id,
                                  "org_id": person.org_id,
                                  "state": LoanState.EXPIRED if expired else LoanState.RETURNED,
                                  "borrowed_at": start, "due_at": due, "returned_at": end})
                counts.loans_past += 1
            person.days[book.id] = reading

    read_rows = []
    read_count: dict[int, int] = defaultdict(int)
    for person in people:
        for book_id, days in person.days.items():
            for day in days:
                read_rows.append({"account_id": person.account_id, "book_id": book_id,
                                  "org_id": person.org_id, "read_on": day,
                                  "device": rng.choice(person.devices),
                                  "last_at": min(_moment(day, rng), now)})
                read_count[book_id] += 1
    if read_rows:
        session.execute(insert(LibraryRead), read_rows)
        session.execute(update(LibraryBook), [{"id": b, "read_count": n}
                                              for b, n in read_count.items()])
    if loan_rows:
        session.execute(insert(LibraryLoan), loan_rows)
        out: dict[int, int] = defaultdict(int)
        for row in loan_rows:
            if row["state"] == LoanState.ACTIVE:
                out[row["book_id"]] += 1
        if out:
            session.execute(update(LibraryBook), [{"id": b, "copies_out": n}
                                                  for b, n in out.items()])
        counts.holds = _holds(session, rng, people, lent, out, now)
    counts.reads = len(read_rows)
    counts.readers = sum(1 for p in people if p.days)
    counts.progress = _progress(session, rng, people, by_id, now)
    counts.shelves = _shelves(session, rng, people, order, weights, now)
    return counts


def _holds(session: Session, rng: random.Random, people: list[Reader], lent: list[DemoBook],
           out: dict[int, int], now: datetime) -> int:
    """A short waiting list behind some titles whose copies are all out."""
    rows = []
    for book in lent:
        if out.get(book.id, 0) < book.copies or rng.random() < 0.4:
            continue
        holding = {p.account_id for p in people if book.id in p.days}
        waiting = [p for p in people if p.account_id not in holding]
        for i, person in enumerate(rng.sample(waiting, min(len(waiting), rng.randint(1, 3)))):
            rows.append({"account_id": person.account_id, "book_id": book.id,
                         "state": HoldState.WAITING,
                         "created_at": now - timedelta(hours=rng.randint(2, 96) + 10 * (3 - i))})
    if rows:
        session.execute(insert(LibraryHold), rows)
    return len(rows)


def _progress(session: Session, rng: random.Random, people: list[Reader],
              books: dict[int, DemoBook], now: datetime) -> int:
    """Where some readers are: the book they read last (two or three for a showcase
    member), saved from one of their devices."""
    rows = []
    for person in people:
        if not person.days or not (person.showcase or rng.random() < 0.4):
            continue
        recent = sorted(person.days, key=lambda b: person.days[b][-1], reverse=True)
        for book_id in recent[:3 if person.showcase else 1]:
            book = books[book_id]
            position = rng.randrange(book.positions)
            offset = round(rng.random(), 4)
            rows.append({"account_id": person.account_id, "book_id": book_id,
                         "format": book.format, "position": position, "offset": offset,
                         "percent": percent(position, offset, book.positions),
                         "device": rng.choice(person.devices),
                         "updated_at": min(_moment(person.days[book_id][-1], rng), now)})
    if rows:
        session.execute(insert(LibraryProgress), rows)
    return len(rows)


def _shelves(session: Session, rng: random.Random, people: list[Reader],
             order: list[DemoBook], weights: list[float], now: datetime) -> int:
    """The three standard shelves (and now and then one of their own) for some readers:
    finished books on 读过, the latest on 在读, a few others on 想读."""
    made = 0
    for person in people:
        if not person.days or not (person.showcase or rng.random() < 0.2):
            continue
        shelves: dict[str, LibraryShelf] = {}
        for kind, name in STANDARD.items():
            shelves[kind] = LibraryShelf(account_id=person.account_id, kind=kind, name=name,
                                         created_at=now - timedelta(days=200))
        if person.showcase or rng.random() < 0.3:
            name = rng.choice(CUSTOM_SHELVES)
            shelves[name] = LibraryShelf(account_id=person.account_id, kind=ShelfKind.CUSTOM,
                                         name=name, created_at=now - timedelta(days=90))
        session.add_all(shelves.values())
        session.flush()
        made += len(shelves)
        read = sorted(person.days, key=lambda b: person.days[b][-1])
        items: dict[tuple[int, int], datetime] = {}
        for i, book_id in enumerate(read):
            kind = ShelfKind.READING if i == len(read) - 1 else ShelfKind.FINISHED
            items[(shelves[kind].id, book_id)] = _moment(person.days[book_id][0], rng)
        unread = {b.id for b in rng.choices(order, weights, k=4)} - set(person.days)
        for book_id in unread:
            items[(shelves[ShelfKind.WANT].id, book_id)] = now - timedelta(
                days=rng.randint(1, 60))
        custom = [s for k, s in shelves.items() if k not in STANDARD]
        for shelf in custom:
            for book in rng.sample(order, 3):
                items[(shelf.id, book.id)] = now - timedelta(days=rng.randint(1, 80))
        session.execute(insert(LibraryShelfItem), [
            {"shelf_id": shelf_id, "book_id": book_id, "added_at": min(when, now)}
            for (shelf_id, book_id), when in items.items()])
    return made
