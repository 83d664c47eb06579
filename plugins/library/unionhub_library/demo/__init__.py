"""Library: demo data — a few hundred generated books across the 中图法 classes, with covers
and real chapter structure, catalogued through ingest; a year of reads, progress, shelves,
loans and a waiting list for the demo's members (see :mod:`.seed`). Runs after the museum's
own demo (features run in the set's order)."""

from __future__ import annotations

from typing import Any

from unionhub_library.features import Feature


def _seed(session: Any, ctx: Any) -> None:
    from .seed import seed

    seed(session, ctx)


FEATURE = Feature(name="demo", demo=_seed)
