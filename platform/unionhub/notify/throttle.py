"""Per-channel quotas (per minute, per Beijing day) shared by every worker, and channel stops.

A reservation takes up to ``n`` messages from both windows in one short transaction: the
first statement writes the window row (on PostgreSQL that locks it, on SQLite it takes the
write lock), so two workers never over-spend a window. Unused reservations are given back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from unionhub.notify import clock
from unionhub.notify.models import NotifyQuota, NotifyState

STOP_KEY = "stop:{channel}"


@dataclass(frozen=True)
class Limits:
    per_minute: int = 0  # 0: no limit
    per_day: int = 0


@dataclass(frozen=True)
class Grant:
    n: int
    minute: datetime
    day: datetime
    #: Why fewer than asked were granted: "minute" (wait for the next minute) or "day"
    #: (the day is used up), or None.
    limited_by: str | None = None


def _windows(now: datetime) -> tuple[datetime, datetime]:
    return clock.minute_start(now), clock.day_start(now)


def _ensure(session: Session, channel: str, period: str, start: datetime) -> None:
    from unionhub.notify.service import dialect_insert

    session.execute(dialect_insert(session, NotifyQuota).values(
        channel=channel, period=period, window_start=start, used=0,
    ).on_conflict_do_nothing(index_elements=["channel", "period", "window_start"]))


def reserve(engine: Engine, channel: str, n: int, limits: Limits,
            now: datetime | None = None) -> Grant:
    now = now or clock.now()
    minute, day = _windows(now)
    if not limits.per_minute and not limits.per_day:
        return Grant(n, minute, day)
    windows = [(p, s, lim) for p, s, lim in (("minute", minute, limits.per_minute),
                                             ("day", day, limits.per_day)) if lim]
    with Session(engine) as s, s.begin():
        for period, start, _lim in windows:
            _ensure(s, channel, period, start)
        granted, limited_by = n, None
        for period, start, lim in windows:
            used = s.scalar(select(NotifyQuota.used).where(
                NotifyQuota.channel == channel, NotifyQuota.period == period,
                NotifyQuota.window_start == start).with_for_update()) or 0
            room = max(0, lim - used)
            if room < granted:
                granted, limited_by = room, period
        if granted:
            for period, start, _lim in windows:
                s.execute(update(NotifyQuota).where(
                    NotifyQuota.channel == channel, NotifyQuota.period == period,
                    NotifyQuota.window_start == start).values(used=NotifyQuota.used + granted))
    return Grant(granted, minute, day, limited_by)


def release(engine: Engine, channel: str, grant: Grant, unused: int, limits: Limits) -> None:
    """Give back ``unused`` messages of ``grant`` (claimed fewer rows, or not attempted)."""
    if unused <= 0:
        return
    with Session(engine) as s, s.begin():
        for period, start, lim in (("minute", grant.minute, limits.per_minute),
                                   ("day", grant.day, limits.per_day)):
            if lim:
                s.execute(update(NotifyQuota).where(
                    NotifyQuota.channel == channel, NotifyQuota.period == period,
                    NotifyQuota.window_start == start,
                ).values(used=NotifyQuota.used - unused))


def stopped_until(session: Session, channel: str, now: datetime | None = None
                  ) -> datetime | None:
    """When a stopped channel may send again (None: it is not stopped)."""
    now = now or clock.now()
    until = session.scalar(select(NotifyState.expires_at).where(
        NotifyState.key == STOP_KEY.format(channel=channel)))
    return until if until is not None and until > now else None


def stop(session: Session | Connection, channel: str, until: datetime, reason: str) -> None:
    from unionhub.notify.service import dialect_insert

    key = STOP_KEY.format(channel=channel)
    stmt = dialect_insert(session, NotifyState).values(
        key=key, value=reason[:200], expires_at=until, updated_at=clock.now())
    session.execute(stmt.on_conflict_do_update(
        index_elements=["key"], set_={"value": reason[:200], "expires_at": until,
                                      "updated_at": clock.now()}))


def purge_old(session: Session, now: datetime | None = None) -> None:
    """Forget windows older than two days."""
    now = now or clock.now()
    session.execute(delete(NotifyQuota).where(
        NotifyQuota.window_start < clock.day_start(now) - timedelta(days=2)))
