"""Time for the notification service (tests replace :func:`now`).

Quota days follow Beijing time. China has kept UTC+8 without daylight saving since 1991, so
a fixed offset needs no time-zone database.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from unionhub.db import utcnow

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def now() -> datetime:
    return utcnow()


def minute_start(t: datetime) -> datetime:
    return t.replace(second=0, microsecond=0)


def day_start(t: datetime) -> datetime:
    """Midnight (Beijing time) of the day containing ``t``, as an aware datetime."""
    local = t.astimezone(CHINA)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def next_day_start(t: datetime) -> datetime:
    return day_start(t) + timedelta(days=1)
