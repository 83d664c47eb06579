"""What plugins return from ``unionhub_offer_providers()``."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class OfferCard:
    """One offer as a listing shows it: plain data, already filtered for the viewer."""

    title: str
    url: str
    merchant: str
    category: str
    summary: str = ""
    #: Display prices (text, e.g. "¥199.00"); the member price is the one that matters.
    price: str | None = None
    member_price: str | None = None
    image_url: str | None = None
    valid_until: date | None = None
    #: Short badges such as "京卡专享" or "限量".
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class OfferProvider:
    """A source of offers. ``list(viewer, limit, category)`` returns at most ``limit``
    :class:`OfferCard` s that ``viewer`` (an account, or ``None`` for an anonymous visitor) may
    see, best first; ``category`` narrows to one of ``categories()`` (code, name) when given."""

    key: str
    label: str
    list: Callable[[Any, int, str | None], Sequence[OfferCard]]
    categories: Callable[[], Sequence[tuple[str, str]]] = lambda: ()
    priority: int = 100

    def __post_init__(self) -> None:
        if not KEY_RE.match(self.key):
            raise ValueError(f"offer provider key {self.key!r} must be lower_snake_case")
