"""Demo data for sections (being built)."""

from typing import Any


def seed(session: Any, ctx: Any) -> None:
    return None
