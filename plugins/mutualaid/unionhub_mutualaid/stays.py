"""Hospital stays: merging transfers into one stay and counting days.

Day counting follows the hospitals' own convention (住院天数 = 出院日期 − 入院日期, "count the
admission day, not the discharge day"), so a stay from 3 March to 10 March is 7 days. A same-day
admission and discharge would be 0 days under that formula; the plan rules say what it counts as
(``same_day_days``, 1 by default: the member was in hospital, the allowance pays one day).

Stays that overlap, or where the next admission is on the discharge day of the previous one
(a transfer between hospitals), form one *episode*: its days run from the first admission to the
last discharge, and deductible days and per-stay limits apply once per episode. ``gap_days``
widens that: with 1, an admission the day after a discharge also continues the episode.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True, order=True)
class Stay:
    """One hospital stay as billed: admission and discharge dates (Asia/Shanghai dates)."""

    admitted: date
    discharged: date

    def __post_init__(self) -> None:
        if self.discharged < self.admitted:
            raise ValueError(
                f"stays: discharge {self.discharged} is before admission {self.admitted}"
            )


@dataclass(frozen=True, slots=True)
class Episode:
    """Merged stays: one hospitalisation for day counts."""

    admitted: date
    discharged: date
    segments: tuple[Stay, ...]

    def days(self, same_day_days: int = 1) -> int:
        """Days in hospital: discharge − admission; a same-day episode counts ``same_day_days``."""
        span = (self.discharged - self.admitted).days
        return span if span else same_day_days


def merge_stays(stays: Iterable[Stay], gap_days: int = 0) -> tuple[Episode, ...]:
    """Merge overlapping and back-to-back stays into episodes, sorted by admission."""
    ordered = sorted(stays)
    episodes: list[Episode] = []
    if not ordered:
        return ()
    start, end = ordered[0].admitted, ordered[0].discharged
    segments = [ordered[0]]
    for stay in ordered[1:]:
        if (stay.admitted - end).days <= gap_days:
            if stay.discharged > end:
                end = stay.discharged
            segments.append(stay)
        else:
            episodes.append(Episode(start, end, tuple(segments)))
            start, end, segments = stay.admitted, stay.discharged, [stay]
    episodes.append(Episode(start, end, tuple(segments)))
    return tuple(episodes)


def payable_days(
    episodes: Iterable[Episode],
    *,
    same_day_days: int = 1,
    deductible_days: int = 0,
    max_days_per_stay: int | None = None,
) -> int:
    """Sum over episodes of (days − deductible days), each at least 0 and at most the stay limit."""
    result = 0
    for episode in episodes:
        days = episode.days(same_day_days) - deductible_days
        if days <= 0:
            continue
        if max_days_per_stay is not None and days > max_days_per_stay:
            days = max_days_per_stay
        result += days
    return result
