"""Reading statistics for officers (阅读统计): reads and loans per month, popular titles,
active readers per union — always limited, in SQL, to the officer's org subtree.

A read (:class:`~unionhub_library.models.LibraryRead`: one per reader, book and day) and a
loan keep the reader's union as it was at that moment (``org_id``); a row is in the scope when
that union's path lies in a subtree where the officer holds ``library.stats.view``
(:func:`unionhub.access.service.scope_filter` joined through ``org.path``). Reads of accounts
with no union (officers reading as themselves) belong to no scope and are not counted.

"Active readers" are distinct accounts with at least one read in the period. Per union they
are rolled up to the level below the officer's highest org (or below the org chosen on the
page): a district officer sees one row per grassroots union, with readers of every branch
under it, plus a row for the district itself (本级) when its own members read. A reader is
counted once per row and once in the total, so rows may add up to more than the total when a
reader moved between unions during the period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, and_, distinct, func, select
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.functions import FunctionElement

from unionhub.access.service import scope_filter
from unionhub.i18n import _
from unionhub.orgs.models import Org

from ..models import LibraryBook, LibraryLoan, LibraryRead
from ..reader.service import CHINA

PERMISSION = "library.stats.view"
#: The longest period one page may cover.
MAX_MONTHS = 36
TOP_TITLES = 10

R, L = LibraryRead, LibraryLoan


# --- months in SQL -------------------------------------------------------------------------------


class month_of_day(FunctionElement[str]):
    """``'YYYY-MM'`` of a DATE column."""

    type = String()
    inherit_cache = True
    name = "month_of_day"


class local_month(FunctionElement[str]):
    """``'YYYY-MM'`` of a UTC timestamp column, in Beijing time."""

    type = String()
    inherit_cache = True
    name = "local_month"


@compiles(month_of_day)
@compiles(local_month)
def _month_default(element: Any, compiler: Any, **kw: Any) -> str:
    raise CompileError(f"{element.name} is not implemented for {compiler.dialect.name}")


@compiles(month_of_day, "sqlite")
def _month_of_day_sqlite(element: month_of_day, compiler: Any, **kw: Any) -> str:
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(month_of_day, "postgresql")
def _month_of_day_pg(element: month_of_day, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


@compiles(local_month, "sqlite")
def _local_month_sqlite(element: local_month, compiler: Any, **kw: Any) -> str:
    # UTCDateTime is stored as "YYYY-MM-DD HH:MM:SS.ffffff" in UTC on SQLite.
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)}, '+8 hours')"


@compiles(local_month, "postgresql")
def _local_month_pg(element: local_month, compiler: Any, **kw: Any) -> str:
    return (f"to_char(({compiler.process(element.clauses, **kw)}) "
            f"AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')")


# --- periods -------------------------------------------------------------------------------------


class StatsError(ValueError):
    """A bad filter, with a message naming the field."""


def beijing_today() -> date:
    return datetime.now(CHINA).date()


def day_start(day: date) -> datetime:
    """Midnight of ``day`` in Beijing, as a UTC timestamp."""
    return datetime.combine(day, time.min, CHINA).astimezone(UTC)


def months_back(day: date, n: int) -> date:
    """The first day of the month ``n`` months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def default_range(today: date) -> tuple[date, date]:
    """The last 12 months: the first day of the month 11 months ago, to today."""
    return months_back(today, 11), today


def months(start: date, end: date) -> list[str]:
    """``'YYYY-MM'`` of every month from ``start`` to ``end``."""
    out, index = [], start.year * 12 + start.month - 1
    while index <= end.year * 12 + end.month - 1:
        out.append(f"{index // 12:04d}-{index % 12 + 1:02d}")
        index += 1
    return out


def check_range(start: date, end: date) -> None:
    if end < start:
        raise StatsError(_("结束日期不能早于开始日期"))
    if len(months(start, end)) > MAX_MONTHS:
        raise StatsError(_("统计期间最长 %(n)s 个月，请缩短日期范围", n=MAX_MONTHS))


def parse_day(raw: str | None, label: str) -> date | None:
    """``YYYY-MM-DD`` (empty: None); bad text raises :class:`StatsError` naming the field."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise StatsError(_("%(field)s：请按 YYYY-MM-DD 填写日期", field=label)) from None


# --- scope ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Whose reading: the viewer's subtree for :data:`PERMISSION`, optionally one org in it."""

    account: Any
    org: Org | None = None

    def where(self, path_col: Any) -> ColumnElement[bool]:
        clause = scope_filter(self.account, PERMISSION, path_col)
        if self.org is not None:
            # Materialized paths ("/1/5/23/") hold digits and slashes only: no LIKE wildcards.
            clause = and_(clause, path_col.like(self.org.path + "%"))
        return clause


def in_scope(session: Session, account: Any, org_id: int) -> Org | None:
    """The org, if it lies in the viewer's scope."""
    if not 0 < org_id < 2**31:
        return None
    return session.scalar(select(Org).where(Org.id == org_id,
                                            scope_filter(account, PERMISSION, Org.path)))


def _top_depth(account: Any) -> Any:
    inner = aliased(Org)
    return (select(func.min(inner.depth))
            .where(scope_filter(account, PERMISSION, inner.path)).scalar_subquery())


def org_choices(session: Session, account: Any, depth: int = 2, limit: int = 300) -> list[Org]:
    """Orgs in the viewer's scope down to ``depth`` levels below its highest org."""
    return list(session.scalars(
        select(Org).where(scope_filter(account, PERMISSION, Org.path),
                          Org.depth <= _top_depth(account) + depth)
        .order_by(Org.path).limit(limit)))


def _reads(scope: Scope, start: date, end: date) -> Any:
    """``FROM library_read JOIN org`` in the scope and the period (add columns)."""
    return (select().select_from(R).join(Org, Org.id == R.org_id)
            .where(scope.where(Org.path), R.read_on >= start, R.read_on <= end))


def _loans(scope: Scope, start: date, end: date) -> Any:
    return (select().select_from(L).join(Org, Org.id == L.org_id)
            .where(scope.where(Org.path), L.borrowed_at >= day_start(start),
                   L.borrowed_at < day_start(end + timedelta(days=1))))


# --- figures -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    start: date
    end: date
    reads: int
    readers: int
    titles: int
    loans: int


def headline(session: Session, scope: Scope, start: date, end: date) -> Headline:
    reads, readers, titles = session.execute(_reads(scope, start, end).add_columns(
        func.count(), func.count(distinct(R.account_id)), func.count(distinct(R.book_id)))
    ).one()
    loans = session.scalar(_loans(scope, start, end).add_columns(func.count())) or 0
    return Headline(start, end, int(reads), int(readers), int(titles), int(loans))


@dataclass(frozen=True)
class Month:
    key: str  # "YYYY-MM"
    reads: int
    readers: int
    loans: int

    @property
    def label(self) -> str:
        """Short, for a chart's axis: ``25/03``."""
        return f"{self.key[2:4]}/{self.key[5:]}"


def per_month(session: Session, scope: Scope, start: date, end: date) -> list[Month]:
    """Reads, distinct readers and loans per month of the period (zeros included)."""
    m = month_of_day(R.read_on)
    reads = {k: (int(n), int(u)) for k, n, u in session.execute(
        _reads(scope, start, end).add_columns(m, func.count(), func.count(distinct(R.account_id)))
        .group_by(m))}
    lm = local_month(L.borrowed_at)
    loans = {k: int(n) for k, n in session.execute(
        _loans(scope, start, end).add_columns(lm, func.count()).group_by(lm))}
    return [Month(k, *reads.get(k, (0, 0)), loans.get(k, 0)) for k in months(start, end)]


@dataclass(frozen=True)
class Title:
    book_id: int
    title: str
    authors: str
    reads: int
    readers: int


def popular(session: Session, scope: Scope, start: date, end: date,
            limit: int = TOP_TITLES) -> list[Title]:
    """The most read titles by the scope's readers in the period."""
    n = func.count().label("n")
    stmt = (_reads(scope, start, end)
            .add_columns(R.book_id, n, func.count(distinct(R.account_id)).label("u"))
            .group_by(R.book_id).order_by(n.desc(), R.book_id).limit(limit)).subquery()
    rows = session.execute(
        select(LibraryBook.id, LibraryBook.title, LibraryBook.authors_display,
               stmt.c.n, stmt.c.u).join(stmt, stmt.c.book_id == LibraryBook.id)
        .order_by(stmt.c.n.desc(), LibraryBook.id))
    return [Title(i, t, a or "", int(r), int(u)) for i, t, a, r, u in rows]


@dataclass(frozen=True)
class Union:
    org_id: int
    name: str
    readers: int
    reads: int
    own: bool = False


@dataclass
class Breakdown:
    """Active readers per union, one level below ``base`` (or below the scope's top orgs)."""

    base: Org | None
    rows: list[Union] = field(default_factory=list)


def readers_by_union(session: Session, scope: Scope, start: date, end: date) -> Breakdown:
    child = aliased(Org)
    if scope.org is not None:
        below = child.parent_id == scope.org.id
        own = Org.id == scope.org.id
        tops = [scope.org]
    else:
        top = _top_depth(scope.account)
        below = and_(child.depth == top + 1,
                     scope_filter(scope.account, PERMISSION, child.path))
        own = Org.depth <= top
        tops = list(session.scalars(select(Org).where(
            scope_filter(scope.account, PERMISSION, Org.path), Org.depth == top)
            .order_by(Org.path).limit(2)))
    readers = func.count(distinct(R.account_id))
    rows = [Union(i, name, int(u), int(n)) for i, name, u, n in session.execute(
        _reads(scope, start, end).add_columns(child.id, child.name, readers, func.count())
        .join(child, Org.path.like(child.path.concat("%"))).where(below)
        .group_by(child.id, child.name).order_by(readers.desc(), child.name))]
    own_readers, own_reads = session.execute(
        _reads(scope, start, end).add_columns(readers, func.count()).where(own)).one()
    base = tops[0] if len(tops) == 1 else None
    if own_readers:
        name = _("%(name)s（本级）", name=base.name) if base is not None else _("本级")
        rows.append(Union(base.id if base is not None else 0, name, int(own_readers),
                          int(own_reads), own=True))
    return Breakdown(base, rows)


@dataclass
class Dashboard:
    headline: Headline
    months: list[Month]
    titles: list[Title]
    unions: Breakdown


def dashboard(session: Session, scope: Scope, start: date, end: date) -> Dashboard:
    check_range(start, end)
    return Dashboard(headline(session, scope, start, end), per_month(session, scope, start, end),
                     popular(session, scope, start, end),
                     readers_by_union(session, scope, start, end))

