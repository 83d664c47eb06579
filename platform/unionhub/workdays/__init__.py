"""Working-day calendar: Chinese public holidays and make-up working days.

``chinese-calendar`` supplies the years it knows (through 2026); admins enter later years
at ``/admin/workdays``. See :mod:`unionhub.workdays.service` for the rules::

    from unionhub.workdays import add_working_days, is_working_day

    due = add_working_days(received_on, 10)
"""

from __future__ import annotations

from unionhub.workdays.service import (
    WorkdayError,
    add_working_days,
    day_info,
    is_working_day,
    warnings,
    working_days_between,
    year_status,
)

__all__ = [
    "WorkdayError",
    "add_working_days",
    "day_info",
    "is_working_day",
    "warnings",
    "working_days_between",
    "year_status",
]
