"""The hotline's service-level clock: working hours in Beijing time.

Working time is 09:00–17:00 (Asia/Shanghai) on working days of the core calendar
(:mod:`unionhub.workdays`: public holidays off, make-up Saturdays on). A question asked
outside working time starts its clock at the next working moment, so one asked on Friday
evening with 16 hours to answer is due on Tuesday 17:00 — later when a holiday intervenes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from unionhub.workdays import add_working_days, is_working_day

CHINA = ZoneInfo("Asia/Shanghai")
DAY_START = time(9, 0)
DAY_END = time(17, 0)
DAY_MINUTES = 8 * 60
DEFAULT_HOURS = 16


def answer_hours() -> int:
    """``portal.hotline_answer_hours`` (at least 1)."""
    from unionhub.settings import service as settings

    try:
        hours = int(settings.get("portal.hotline_answer_hours"))
    except (KeyError, TypeError, ValueError):
        hours = DEFAULT_HOURS
    return max(1, hours)


def _at(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=CHINA)


def next_working_moment(moment: datetime) -> datetime:
    """``moment`` itself when it lies in working time, else the start of the next working
    period (Beijing time, aware)."""
    local = moment.astimezone(CHINA)
    day, clock = local.date(), local.time()
    if is_working_day(day):
        if clock < DAY_START:
            return _at(day, DAY_START)
        if clock < DAY_END:
            return local
    return _at(add_working_days(day, 1), DAY_START)


def add_working_hours(start: datetime, hours: int) -> datetime:
    """The moment ``hours`` working hours after ``start`` (aware; returned in UTC)."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    current = next_working_moment(start)
    left = timedelta(hours=hours)
    while True:
        end_of_day = _at(current.date(), DAY_END)
        available = end_of_day - current
        if left <= available:
            return (current + left).astimezone(UTC)
        left -= available
        current = _at(add_working_days(current.date(), 1), DAY_START)


def due_at(asked_at: datetime, hours: int | None = None) -> datetime:
    """The deadline of a question asked at ``asked_at``."""
    return add_working_hours(asked_at, answer_hours() if hours is None else max(1, hours))


def working_minutes_between(start: datetime, end: datetime) -> int:
    """Working minutes in ``[start, end)`` (0 when ``end`` is not after ``start``)."""
    if end <= start:
        return 0
    current = next_working_moment(start)
    end_local = end.astimezone(CHINA)
    total = timedelta()
    while current < end_local:
        day_end = _at(current.date(), DAY_END)
        stop = min(day_end, end_local)
        if stop > current:
            total += stop - current
        current = _at(add_working_days(current.date(), 1), DAY_START)
    return int(total.total_seconds() // 60)


def lateness(due: datetime, now: datetime) -> tuple[int, int, int]:
    """How late an answer is: (working days, hours, minutes) of working time past ``due``
    (a working day is 8 hours)."""
    minutes = working_minutes_between(due, now)
    days, rest = divmod(minutes, DAY_MINUTES)
    hours, mins = divmod(rest, 60)
    return days, hours, mins


__all__ = ["CHINA", "DAY_END", "DAY_START", "add_working_hours", "answer_hours", "due_at",
           "lateness", "next_working_moment", "working_minutes_between"]
