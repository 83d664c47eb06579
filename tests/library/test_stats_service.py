"""Reading statistics checked against independent sums over the rows the test wrote: reads,
readers, titles and loans per month (Beijing months for loans), popular titles, active
readers rolled up per union — and the scope: an officer of d1 sees nothing of d2."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.helpers import add_member
from tests.library.conftest import Library, add_book
from unionhub import db
from unionhub.identity.models import Account
from unionhub_library.models import LibraryLoan, LibraryRead
from unionhub_library.stats import service

START, END = date(2025, 1, 1), date(2025, 12, 31)


@dataclass
class Data:
    reads: list[tuple[int, int, int | None, date]]  # account, book, org, day
    loans: list[tuple[int, int, int | None, datetime]]  # account, book, org, borrowed
    books: dict[str, int]
    readers: dict[str, tuple[int, int]]  # key -> (account, org)


def seed(lib: Library) -> Data:
    """Reads and loans from members of g1, b1 (under d1), d1 itself, g2 (under d2) and an
    officer with no union, on days spread over 2024-12 … 2026-01."""
    w = lib.world
    books = {t: add_book(lib.categories["I"], t, owner_org_id=w.org_id("city"),
                         authors="作者" + t) for t in ("甲书", "乙书", "丙书", "丁书", "戊书")}
    d1m = add_member(w.orgs["d1"], "区直读者")
    g1b = add_member(w.orgs["g1"], "电控读者二")
    readers = {
        "m1": (w.people["m1"].account_id, w.org_id("g1")),
        "g1b": (g1b.account_id, w.org_id("g1")),
        "m3": (w.people["m3"].account_id, w.org_id("b1")),
        "d1m": (d1m.account_id, w.org_id("d1")),
        "m2": (w.people["m2"].account_id, w.org_id("g2")),
    }
    plan: list[tuple[str, str, date]] = []
    day = date(2024, 12, 20)
    i = 0
    while day <= date(2026, 1, 10):
        key = ("m1", "g1b", "m3", "d1m", "m2", "m1", "m2")[i % 7]
        title = ("甲书", "乙书", "甲书", "丙书", "丁书", "丙书", "丁书", "甲书")[i % 8]
        plan.append((key, title, day))
        day += timedelta(days=3 + i % 4)
        i += 1
    s = db.session()
    reads = []
    for key, title, d in plan:
        acc, org = readers[key]
        s.add(LibraryRead(account_id=acc, book_id=books[title], org_id=org, read_on=d,
                          last_at=datetime.combine(d, datetime.min.time(), UTC)))
        reads.append((acc, books[title], org, d))
    acc, org = readers["m2"]  # a title read in d2 only
    s.add(LibraryRead(account_id=acc, book_id=books["戊书"], org_id=org,
                      read_on=date(2025, 5, 5), last_at=datetime(2025, 5, 5, tzinfo=UTC)))
    reads.append((acc, books["戊书"], org, date(2025, 5, 5)))
    officer = w.officers["chaoyang"]
    s.add(LibraryRead(account_id=officer, book_id=books["甲书"], org_id=None,
                      read_on=date(2025, 6, 1), last_at=datetime(2025, 6, 1, tzinfo=UTC)))
    reads.append((officer, books["甲书"], None, date(2025, 6, 1)))
    loans = []
    moments = [datetime(2025, 3, 31, 17, 0, tzinfo=UTC),   # Beijing: 1 April 01:00
               datetime(2025, 3, 31, 15, 0, tzinfo=UTC),   # Beijing: 31 March 23:00
               datetime(2024, 12, 31, 16, 30, tzinfo=UTC),  # Beijing: 1 January 2025
               datetime(2025, 12, 31, 16, 30, tzinfo=UTC),  # Beijing: 1 January 2026
               datetime(2025, 7, 9, 4, 0, tzinfo=UTC)]
    for k, at in enumerate(moments):
        for key in ("m1", "m2", "d1m"):
            acc, org = readers[key]
            loans.append((acc, books[("甲书", "乙书", "丙书")[k % 3]], org, at))
            s.add(LibraryLoan(account_id=acc, book_id=loans[-1][1], org_id=org,
                              state="returned", borrowed_at=at, due_at=at + timedelta(days=14),
                              returned_at=at + timedelta(days=3)))
    s.commit()
    return Data(reads, loans, books, readers)


def beijing_month(at: datetime) -> str:
    return (at + timedelta(hours=8)).strftime("%Y-%m")


def scoped(data: Data, orgs: set[int]) -> tuple[list[Any], list[Any]]:
    reads = [r for r in data.reads if r[2] in orgs and START <= r[3] <= END]
    lo = datetime(2024, 12, 31, 16, 0, tzinfo=UTC)
    hi = datetime(2025, 12, 31, 16, 0, tzinfo=UTC)
    loans = [x for x in data.loans if x[2] in orgs and lo <= x[3] < hi]
    return reads, loans


def officer(lib: Library, key: str) -> Account:
    acc = db.session().get(Account, lib.world.officers[key])
    assert acc is not None
    return acc


def test_d1_officer_figures_match_independent_sums(library: Library) -> None:
    w = library.world
    with library.app.app_context():
        data = seed(library)
        d1_orgs = {w.org_id(k) for k in ("d1", "g1", "b1")}
        reads, loans = scoped(data, d1_orgs)
        assert reads and loans
        s = db.session()
        scope = service.Scope(officer(library, "chaoyang"))
        d = service.dashboard(s, scope, START, END)

        h = d.headline
        assert h.reads == len(reads)
        assert h.readers == len({r[0] for r in reads})
        assert h.titles == len({r[1] for r in reads})
        assert h.loans == len(loans)

        assert [m.key for m in d.months] == [f"2025-{n:02d}" for n in range(1, 13)]
        per_month = Counter(r[3].strftime("%Y-%m") for r in reads)
        readers_month: dict[str, set[int]] = {}
        for r in reads:
            readers_month.setdefault(r[3].strftime("%Y-%m"), set()).add(r[0])
        loans_month = Counter(beijing_month(x[3]) for x in loans)
        for m in d.months:
            assert m.reads == per_month.get(m.key, 0), m
            assert m.readers == len(readers_month.get(m.key, ())), m
            assert m.loans == loans_month.get(m.key, 0), m
        assert sum(m.reads for m in d.months) == h.reads
        # The Beijing day decides the month: 31 March 17:00 UTC is April in Beijing.
        assert {m.key: m.loans for m in d.months}["2025-04"] == 2  # m1 and d1m
        assert {m.key: m.loans for m in d.months}["2025-03"] == 2

        by_book = Counter(r[1] for r in reads)
        expected = sorted(by_book.items(), key=lambda kv: (-kv[1], kv[0]))
        assert [(t.book_id, t.reads) for t in d.titles] == expected
        assert data.books["戊书"] not in {t.book_id for t in d.titles}  # read in d2 only
        for t in d.titles:
            assert t.readers == len({r[0] for r in reads if r[1] == t.book_id})

        rows = {u.name: u for u in d.unions.rows}
        assert d.unions.base is not None and d.unions.base.id == w.org_id("d1")
        g1_reads = [r for r in reads if r[2] in {w.org_id("g1"), w.org_id("b1")}]
        assert set(rows) == {"电控工会", "朝阳区总工会（本级）"}
        assert rows["电控工会"].readers == len({r[0] for r in g1_reads}) == 3
        assert rows["电控工会"].reads == len(g1_reads)
        own = [r for r in reads if r[2] == w.org_id("d1")]
        assert rows["朝阳区总工会（本级）"].readers == 1
        assert rows["朝阳区总工会（本级）"].reads == len(own)
        assert rows["电控工会"].reads + len(own) == h.reads


def test_an_officer_of_d1_sees_no_d2_reads_and_the_city_sees_both(library: Library) -> None:
    w = library.world
    with library.app.app_context():
        data = seed(library)
        s = db.session()
        d2_reads, d2_loans = scoped(data, {w.org_id("d2"), w.org_id("g2")})
        haidian = service.dashboard(s, service.Scope(officer(library, "haidian")), START, END)
        assert haidian.headline.reads == len(d2_reads)
        assert haidian.headline.readers == 1 and haidian.headline.loans == len(d2_loans)
        assert [(u.name, u.readers) for u in haidian.unions.rows] == [("软件园工会", 1)]
        assert {t.book_id for t in haidian.titles} == {r[1] for r in d2_reads}
        assert data.books["戊书"] in {t.book_id for t in haidian.titles}

        everyone = {o.id for o in w.orgs.values()}
        all_reads, all_loans = scoped(data, everyone)
        city = service.dashboard(s, service.Scope(officer(library, "city")), START, END)
        chaoyang = service.headline(s, service.Scope(officer(library, "chaoyang")), START, END)
        assert city.headline.reads == len(all_reads) == chaoyang.reads + haidian.headline.reads
        assert city.headline.loans == len(all_loans)
        # The officer's own read (no union) is in nobody's figures.
        assert len(all_reads) == len([r for r in data.reads if START <= r[3] <= END]) - 1
        rows = {u.name: (u.readers, u.reads) for u in city.unions.rows}
        assert rows == {"朝阳区总工会": (4, chaoyang.reads),
                        "海淀区总工会": (1, haidian.headline.reads)}

        g1 = service.dashboard(s, service.Scope(officer(library, "g1officer")), START, END)
        g1_reads, _ = scoped(data, {w.org_id("g1"), w.org_id("b1")})
        assert g1.headline.reads == len(g1_reads)
        assert {u.name for u in g1.unions.rows} == {"京东方分会", "电控工会（本级）"}


def test_one_org_chosen_inside_the_scope(library: Library) -> None:
    w = library.world
    with library.app.app_context():
        data = seed(library)
        s = db.session()
        chaoyang = officer(library, "chaoyang")
        g1 = service.in_scope(s, chaoyang, w.org_id("g1"))
        assert g1 is not None
        assert service.in_scope(s, chaoyang, w.org_id("g2")) is None
        assert service.in_scope(s, chaoyang, 2**40) is None
        d = service.dashboard(s, service.Scope(chaoyang, g1), START, END)
        g1_reads, _ = scoped(data, {w.org_id("g1"), w.org_id("b1")})
        assert d.headline.reads == len(g1_reads)
        rows = {u.name: u.reads for u in d.unions.rows}
        assert rows == {"京东方分会": len([r for r in g1_reads if r[2] == w.org_id("b1")]),
                        "电控工会（本级）": len([r for r in g1_reads
                                              if r[2] == w.org_id("g1")])}
        assert [o.name for o in service.org_choices(s, chaoyang)] == [
            "朝阳区总工会", "电控工会", "京东方分会"]


def test_ranges(library: Library) -> None:
    assert service.months(date(2025, 11, 15), date(2026, 2, 1)) == [
        "2025-11", "2025-12", "2026-01", "2026-02"]
    assert service.default_range(date(2026, 3, 9)) == (date(2025, 4, 1), date(2026, 3, 9))
    assert service.months_back(date(2026, 1, 31), 1) == date(2025, 12, 1)
    with pytest.raises(service.StatsError, match="不能早于"):
        service.check_range(date(2025, 5, 1), date(2025, 4, 1))
    with pytest.raises(service.StatsError, match="最长 36 个月"):
        service.check_range(date(2020, 1, 1), date(2023, 1, 1))
    service.check_range(date(2020, 1, 1), date(2022, 12, 31))
    with library.app.test_request_context():
        with pytest.raises(service.StatsError, match="开始日期"):
            service.parse_day("2025-13-01", "开始日期")
        assert service.parse_day(" ", "开始日期") is None
