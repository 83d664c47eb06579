"""Working-day calendar: Chinese public holidays and make-up working days (调休上班).

Where a day's answer comes from, first match wins:

1. an admin **override** (``workday_override``: ``holiday`` or ``workday``) — corrects the
   package or fills in a year it does not know;
2. the ``chinese-calendar`` **package**, for the years it covers (2004–2026 in 1.11.0). It
   raises ``NotImplementedError`` for any other year; that never leaks from here;
3. the **weekday fallback**: Monday–Friday work, Saturday and Sunday off.

A year is *known* when the package covers it or an admin marked it complete
(``workday_year.complete``) after entering its holidays and make-up days. Day-level
overrides alone do not make a year known, because a year half entered looks just like a
year fully entered; an explicit "complete" flag is the only way to tell them apart. When a
look-up lands in a year that is not known, the answer uses overrides + the weekday fallback,
the year is logged once per process and :func:`warnings` lists it for the admin pages.

Counting rules (the usual Chinese rule for periods, "期间开始的日不计算在内"):

* :func:`add_working_days` never counts the start day. For ``n > 0`` it returns the n-th
  working day strictly after ``d``; for ``n < 0`` the |n|-th working day strictly before
  ``d``; for ``n == 0`` ``d`` itself when it is a working day, else the next working day.
* :func:`working_days_between` counts the working days in ``(a, b]`` (start excluded, end
  included), and is negative when ``b < a``: ``working_days_between(a, b) ==
  -working_days_between(b, a)``. So ``working_days_between(d, add_working_days(d, n)) == n``
  for every ``n >= 1``, and for ``n <= -1`` when ``d`` is a working day.

Caching: the overrides and year flags (a few rows per year) are read from the database
into a per-app snapshot, reloaded after ``WORKDAYS_CACHE_TTL`` seconds (default 60; other
processes pick up a change within that time) and at once in the process that commits a
change (the write helpers here invalidate on the session's commit). The database stays the
truth. Package answers are cached per date for the life of the process (they never change).
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from unionhub import db
from unionhub.workdays.models import (
    HOLIDAY,
    KIND_LABELS,
    WORKDAY,
    WorkdayOverride,
    WorkdayYear,
)

log = logging.getLogger(__name__)

EXTENSION = "workdays"
DEFAULT_TTL = 60.0
#: Bounds on the arguments of the counting helpers (about a century), so a wrong argument
#: fails fast instead of looping towards ``date.max``.
MAX_WORKING_DAYS = 25_000
MAX_SPAN_DAYS = 36_600
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_BULK_LINES = 1000
NAME_MAX = 50
NOTE_MAX = 200
#: From this month on, next year's missing data is warned about too (the State Council
#: usually publishes the next year's arrangement in October–December).
WARN_NEXT_YEAR_FROM_MONTH = 10

SOURCE_LABELS = {
    "package": "内置数据",
    "admin": "管理员录入（已完整）",
    "partial": "录入未完成",
    "missing": "缺失",
}
#: What an admin may type as the kind (bulk paste and form).
KIND_ALIASES = {
    "holiday": HOLIDAY, "放假": HOLIDAY, "休": HOLIDAY, "假": HOLIDAY, "节假日": HOLIDAY,
    "workday": WORKDAY, "上班": WORKDAY, "班": WORKDAY, "调休上班": WORKDAY, "补班": WORKDAY,
}
_DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_SPLIT_RE = re.compile(r"\s*[,，\t]\s*")


class WorkdayError(ValueError):
    """Bad input for an override or a year; the message names the field (in Chinese)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- the package ------------------------------------------------------------------------

def _package() -> Any:
    try:
        import chinese_calendar
    except ImportError:  # pragma: no cover - a hard dependency; degrade, never crash
        log.error("chinese-calendar is not installed: every year uses the weekday fallback")
        return None
    return chinese_calendar


@functools.cache
def package_years() -> frozenset[int]:
    """The years the installed ``chinese-calendar`` has data for (probed once: the package
    raises ``NotImplementedError`` for every other year)."""
    cc = _package()
    if cc is None:
        return frozenset()
    years = set()
    for year in range(1990, 2200):
        try:
            cc.is_workday(date(year, 6, 1))
        except Exception:  # NotImplementedError, or whatever a later version raises
            continue
        years.add(year)
    return frozenset(years)


@functools.cache
def _holiday_names() -> dict[str, str]:
    """The package's English holiday names → Chinese (``Holiday.national_day`` → 国庆节)."""
    try:
        from chinese_calendar.constants import Holiday

        return {h.value: h.chinese for h in Holiday}
    except Exception:
        return {}


@functools.lru_cache(maxsize=16_384)
def package_day(d: date) -> tuple[bool, str | None] | None:
    """``(is_working_day, holiday name in Chinese or None)`` from the package, or None when
    the package has no data for ``d``'s year. Never raises."""
    if d.year not in package_years():
        return None
    cc = _package()
    try:
        on_holiday, name = cc.get_holiday_detail(d)
    except Exception:  # the package must never break a caller
        log.exception("chinese-calendar failed for %s; using the weekday fallback", d)
        return None
    if name is not None:
        name = _holiday_names().get(name, name)
    return (not on_holiday, name)


# --- the per-app snapshot of the database -----------------------------------------------

@dataclass(frozen=True)
class Override:
    day: date
    kind: str
    name: str


@dataclass(frozen=True)
class Snapshot:
    overrides: dict[date, Override]
    complete: dict[int, bool]
    notes: dict[int, str | None]
    per_year: Counter[int]
    loaded_at: float


@dataclass(frozen=True)
class DayInfo:
    day: date
    working: bool
    #: "override", "package", "admin" (a complete admin year, plain weekday) or "fallback".
    source: str
    name: str | None = None


@dataclass(frozen=True)
class YearStatus:
    year: int
    #: "package" | "admin" | "partial" | "missing" (see :data:`SOURCE_LABELS`).
    source: str
    known: bool
    complete: bool
    overrides: int
    note: str | None
    warning: str | None

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS[self.source]


class Calendar:
    """The per-app cache and warning state (``app.extensions["workdays"]``)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.ttl = float(app.config.get("WORKDAYS_CACHE_TTL", DEFAULT_TTL))
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self.loads = 0  # how many times the database was read (tests, diagnostics)
        self.warned: set[int] = set()
        self.unknown_seen: set[int] = set()

    def invalidate(self) -> None:
        with self._lock:
            self._snapshot = None

    def snapshot(self) -> Snapshot:
        snap = self._snapshot
        if snap is not None and time.monotonic() - snap.loaded_at < self.ttl:
            return snap
        with self._lock:
            snap = self._snapshot
            if snap is None or time.monotonic() - snap.loaded_at >= self.ttl:
                snap = self._load()
                self._snapshot = snap
            return snap

    def _load(self) -> Snapshot:
        self.loads += 1
        overrides: dict[date, Override] = {}
        complete: dict[int, bool] = {}
        notes: dict[int, str | None] = {}
        try:
            with db.get_db(self.app).factory() as s:
                for day, kind, name in s.execute(
                        select(WorkdayOverride.day, WorkdayOverride.kind, WorkdayOverride.name)):
                    overrides[day] = Override(day, kind, name)
                for year, done, note in s.execute(
                        select(WorkdayYear.year, WorkdayYear.complete, WorkdayYear.note)):
                    complete[year], notes[year] = bool(done), note
        except SQLAlchemyError:
            # e.g. the migration has not run yet: answer from the package and weekdays, and
            # try the database again on the next call.
            log.exception("cannot read the working-day overrides; using package/weekdays only")
            return Snapshot({}, {}, {}, Counter(), float("-inf"))
        per_year = Counter(d.year for d in overrides)
        return Snapshot(overrides, complete, notes, per_year, time.monotonic())

    # -- answers --------------------------------------------------------------------------

    def known(self, year: int, snap: Snapshot | None = None) -> bool:
        snap = snap or self.snapshot()
        return year in package_years() or snap.complete.get(year, False)

    def day(self, d: date, snap: Snapshot) -> DayInfo:
        ov = snap.overrides.get(d)
        if ov is not None:
            if not self.known(d.year, snap):
                self._note_unknown(d.year, snap)
            return DayInfo(d, ov.kind == WORKDAY, "override", ov.name)
        pk = package_day(d)
        if pk is not None:
            return DayInfo(d, pk[0], "package", pk[1])
        if snap.complete.get(d.year, False):
            return DayInfo(d, d.weekday() < 5, "admin")
        self._note_unknown(d.year, snap)
        return DayInfo(d, d.weekday() < 5, "fallback")

    def _note_unknown(self, year: int, snap: Snapshot) -> None:
        self.unknown_seen.add(year)
        if year not in self.warned:
            self.warned.add(year)
            log.warning("%s", year_message(year, snap.per_year.get(year, 0)))

    def status(self, year: int) -> YearStatus:
        snap = self.snapshot()
        n = snap.per_year.get(year, 0)
        done = snap.complete.get(year, False)
        if year in package_years():
            source = "package"
        elif done:
            source = "admin"
        else:
            source = "partial" if n else "missing"
        known = source in ("package", "admin")
        return YearStatus(year, source, known, done, n, snap.notes.get(year),
                          None if known else year_message(year, n))

    def warnings(self, today: date | None = None) -> list[str]:
        today = today or _today()
        years = {today.year, *self.unknown_seen}
        if today.month >= WARN_NEXT_YEAR_FROM_MONTH:
            years.add(today.year + 1)
        out = []
        for year in sorted(years):
            st = self.status(year)
            if st.warning:
                out.append(st.warning)
        return out


def year_message(year: int, entered: int) -> str:
    if entered:
        return (f"{year} 年节假日数据未录入完整（已录入 {entered} 条）：其余日期按周一至周五计算，"
                "请在管理页补全后标记为完整")
    return f"{year} 年节假日数据缺失：按周一至周五计算，请在管理页录入"


def calendar(app: Flask | None = None) -> Calendar:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cal = app.extensions.get(EXTENSION)
    if cal is None:
        cal = app.extensions.setdefault(EXTENSION, Calendar(app))
    return cal


def invalidate(app: Flask | None = None) -> None:
    """Drop this process's snapshot (the next look-up reads the database)."""
    calendar(app).invalidate()


def _today() -> date:
    from unionhub.web.formatting import SHANGHAI

    return datetime.now(SHANGHAI).date()


def _as_date(d: date) -> date:
    if isinstance(d, datetime):
        return d.date()
    if not isinstance(d, date):
        raise TypeError(f"expected a date, got {type(d).__name__}")
    return d


# --- the public API ---------------------------------------------------------------------

def day_info(d: date) -> DayInfo:
    """Whether ``d`` is a working day, where that answer came from and the holiday name."""
    cal = calendar()
    return cal.day(_as_date(d), cal.snapshot())


def is_working_day(d: date) -> bool:
    cal = calendar()
    return cal.day(_as_date(d), cal.snapshot()).working


def add_working_days(d: date, n: int) -> date:
    """The n-th working day after ``d`` (before it for ``n < 0``); the start day never
    counts; ``n == 0`` gives ``d`` or, when ``d`` is a day off, the next working day."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("n must be an int")
    if abs(n) > MAX_WORKING_DAYS:
        raise ValueError(f"|n| must be at most {MAX_WORKING_DAYS}")
    d = _as_date(d)
    cal = calendar()
    snap = cal.snapshot()
    one = timedelta(days=1)
    if n == 0:
        while not cal.day(d, snap).working:
            d += one
        return d
    step = one if n > 0 else -one
    left = abs(n)
    while left:
        d += step
        if cal.day(d, snap).working:
            left -= 1
    return d


def working_days_between(a: date, b: date) -> int:
    """Working days in ``(a, b]``; negative when ``b < a`` (antisymmetric)."""
    a, b = _as_date(a), _as_date(b)
    if b < a:
        return -working_days_between(b, a)
    span = (b - a).days
    if span > MAX_SPAN_DAYS:
        raise ValueError(f"span must be at most {MAX_SPAN_DAYS} days")
    cal = calendar()
    snap = cal.snapshot()
    return sum(1 for i in range(1, span + 1) if cal.day(a + timedelta(days=i), snap).working)


def year_status(year: int) -> YearStatus:
    return calendar().status(year)


def warnings(today: date | None = None) -> list[str]:
    """Messages for the admin pages: this year (and, from October, next year) when not
    known, plus every unknown year a look-up has hit in this process."""
    return calendar().warnings(today)


def special_days(year: int) -> list[DayInfo]:
    """The package's holidays (with names) and weekend make-up working days of ``year``
    (empty for a year the package does not cover)."""
    if year not in package_years():
        return []
    out = []
    d, end = date(year, 1, 1), date(year, 12, 31)
    while d <= end:
        pk = package_day(d)
        if pk is not None:
            working, name = pk
            if (not working and name) or (working and d.weekday() >= 5):
                out.append(DayInfo(d, working, "package", name))
        d += timedelta(days=1)
    return out


# --- admin writes -----------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    day: date
    kind: str
    name: str


def parse_day(raw: object, label: str = "日期") -> date:
    if isinstance(raw, date) and not isinstance(raw, datetime):
        d = raw
    else:
        text = str(raw or "").strip()
        if not text:
            raise WorkdayError(f"{label}：不能为空", "day")
        m = _DATE_RE.match(text)
        try:
            if not m:
                raise ValueError(text)
            d = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise WorkdayError(f"{label}：「{text}」不是有效日期（格式 YYYY-MM-DD）",
                               "day") from None
    if not MIN_YEAR <= d.year <= MAX_YEAR:
        raise WorkdayError(f"{label}：年份须在 {MIN_YEAR}–{MAX_YEAR} 之间", "day")
    return d


def parse_kind(raw: object) -> str:
    text = str(raw or "").strip()
    kind = KIND_ALIASES.get(text.lower())
    if kind is None:
        choices = "、".join(f"{k}（{v}）" for k, v in KIND_LABELS.items())
        raise WorkdayError(f"类型：「{text}」无效，只能是 {choices}" if text
                           else f"类型：不能为空，只能是 {choices}", "kind")
    return kind


def parse_name(raw: object) -> str:
    name = str(raw or "").strip()
    if not name:
        raise WorkdayError("名称：不能为空（如 春节、春节调休）", "name")
    if len(name) > NAME_MAX:
        raise WorkdayError(f"名称：最多 {NAME_MAX} 个字", "name")
    return name


def validate_entry(day: object, kind: object, name: object
                   ) -> tuple[Entry | None, list[WorkdayError]]:
    """Check all three fields; every problem is reported, each naming its field."""
    errors: list[WorkdayError] = []
    values: dict[str, Any] = {}
    for key, parse, raw in (("day", parse_day, day), ("kind", parse_kind, kind),
                            ("name", parse_name, name)):
        try:
            values[key] = parse(raw)
        except WorkdayError as exc:
            errors.append(exc)
    return (None if errors else Entry(**values)), errors


def _invalidate_on_commit(s: Session) -> None:
    """Invalidate this process's snapshot once ``s`` commits (not before: until then other
    connections would still read the old rows)."""
    if s.info.get("_workdays_listening"):
        return
    s.info["_workdays_listening"] = True
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def _after_commit(sess: Session) -> None:
        sess.info.pop("_workdays_listening", None)
        invalidate(app)

    # After a rollback the listener stays armed: the next commit then invalidates once more,
    # which is harmless.
    event.listen(s, "after_commit", _after_commit, once=True)


def existing(s: Session, d: date) -> WorkdayOverride | None:
    return s.scalar(select(WorkdayOverride).where(WorkdayOverride.day == d))


def add_override(s: Session, day: object, kind: object, name: object) -> WorkdayOverride:
    """Add one override (not committed). Raises :class:`WorkdayError` (first problem) for
    bad input or a date that already has an override."""
    entry, errors = validate_entry(day, kind, name)
    if errors:
        raise errors[0]
    assert entry is not None
    old = existing(s, entry.day)
    if old is not None:
        raise WorkdayError(f"日期：{entry.day.isoformat()} 已有记录"
                           f"（{old.kind_label} {old.name}），请先删除再录入", "day")
    row = WorkdayOverride(day=entry.day, kind=entry.kind, name=entry.name)
    s.add(row)
    s.flush()
    _invalidate_on_commit(s)
    return row


def remove_override(s: Session, override_id: int) -> WorkdayOverride | None:
    row = s.get(WorkdayOverride, override_id)
    if row is not None:
        s.delete(row)
        s.flush()
        _invalidate_on_commit(s)
    return row


@dataclass
class BulkResult:
    errors: list[str] = field(default_factory=list)
    created: list[Entry] = field(default_factory=list)
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_bulk(text: str) -> tuple[list[tuple[int, Entry]], list[str]]:
    """Lines like ``2027-01-01,holiday,元旦`` (comma, Chinese comma or tab between fields;
    blank lines and ``#`` comments skipped). Returns the entries with their line numbers and
    one message per bad line."""
    entries: list[tuple[int, Entry]] = []
    errors: list[str] = []
    first_line: dict[date, int] = {}
    lines = (text or "").splitlines()
    if sum(1 for raw in lines if raw.strip()) > MAX_BULK_LINES:
        return [], [f"一次最多录入 {MAX_BULK_LINES} 行"]
    for no, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = _SPLIT_RE.split(line)
        if len(parts) == 1:
            parts = line.split()
        if len(parts) != 3:
            errors.append(f"第 {no} 行：应为「日期,类型,名称」三项，实际 {len(parts)} 项：{line}")
            continue
        entry, problems = validate_entry(*parts)
        if problems:
            errors.append(f"第 {no} 行：" + "；".join(str(p) for p in problems))
            continue
        assert entry is not None
        if entry.day in first_line:
            errors.append(f"第 {no} 行：日期 {entry.day.isoformat()} 与第 "
                          f"{first_line[entry.day]} 行重复")
            continue
        first_line[entry.day] = no
        entries.append((no, entry))
    if not entries and not errors:
        errors.append("没有可录入的行：每行一条，如 2027-01-01,holiday,元旦")
    return entries, errors


def import_bulk(s: Session, text: str) -> BulkResult:
    """Validate every line, then add them all — or nothing when any line is bad. A line
    identical to a stored override is counted as unchanged; a conflicting one is an error."""
    entries, errors = parse_bulk(text)
    result = BulkResult(errors=errors)
    days = [e.day for _no, e in entries]
    stored = {r.day: r for r in s.scalars(
        select(WorkdayOverride).where(WorkdayOverride.day.in_(days)))} if days else {}
    todo: list[Entry] = []
    for no, e in entries:
        old = stored.get(e.day)
        if old is None:
            todo.append(e)
        elif (old.kind, old.name) == (e.kind, e.name):
            result.unchanged += 1
        else:
            result.errors.append(f"第 {no} 行：日期 {e.day.isoformat()} 已有不同的记录"
                                 f"（{old.kind_label} {old.name}），请先删除")
    result.errors.sort(key=_line_no)
    if result.errors:
        return result
    for e in todo:
        s.add(WorkdayOverride(day=e.day, kind=e.kind, name=e.name))
    if todo:
        s.flush()
        _invalidate_on_commit(s)
    result.created = todo
    return result


def _line_no(message: str) -> int:
    m = re.match(r"第 (\d+) 行", message)
    return int(m[1]) if m else 0


def parse_year(raw: object) -> int:
    text = str(raw or "").strip()
    if not text.isdigit() or not MIN_YEAR <= int(text) <= MAX_YEAR:
        raise WorkdayError(f"年份：「{text}」无效，须在 {MIN_YEAR}–{MAX_YEAR} 之间", "year")
    return int(text)


def set_year(s: Session, year: int, complete: bool, note: str | None = None) -> WorkdayYear:
    """Mark ``year`` complete (or not). Refused for a year without any entered holiday
    that the package does not cover (nothing would back the "complete" claim)."""
    note = (note or "").strip() or None
    if note and len(note) > NOTE_MAX:
        raise WorkdayError(f"备注：最多 {NOTE_MAX} 个字", "note")
    if complete and year not in package_years():
        has_holiday = s.scalar(select(WorkdayOverride.id).where(
            WorkdayOverride.day >= date(year, 1, 1), WorkdayOverride.day <= date(year, 12, 31),
            WorkdayOverride.kind == HOLIDAY).limit(1))
        if has_holiday is None:
            raise WorkdayError(f"{year} 年还没有录入任何放假日期，不能标记为已完整", "complete")
    row = s.get(WorkdayYear, year)
    if row is None:
        row = WorkdayYear(year=year, complete=complete, note=note)
        s.add(row)
    else:
        row.complete, row.note = complete, note
    s.flush()
    _invalidate_on_commit(s)
    return row


def overrides_of(s: Session, year: int) -> list[WorkdayOverride]:
    return list(s.scalars(select(WorkdayOverride).where(
        WorkdayOverride.day >= date(year, 1, 1), WorkdayOverride.day <= date(year, 12, 31))
        .order_by(WorkdayOverride.day)))


def listed_years(s: Session, today: date | None = None, extra: Iterable[int] = ()) -> list[int]:
    """Years the admin page lists: last, this and next year, plus every year with data."""
    today = today or _today()
    years = {today.year - 1, today.year, today.year + 1, *extra}
    years.update(d.year for d in s.scalars(select(WorkdayOverride.day)))
    years.update(s.scalars(select(WorkdayYear.year)))
    return sorted(years, reverse=True)
