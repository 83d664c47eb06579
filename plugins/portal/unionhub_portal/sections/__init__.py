"""Portal: the sections feature — the section tree (栏目) with kinds that decide how content is
listed and shown, and its back-office management (add, rename, reorder, hide, audience)."""

from __future__ import annotations

from typing import Any

from unionhub_portal.features import Feature


def _demo(session: Any, ctx: Any) -> None:
    from .demo import seed

    seed(session, ctx)


FEATURE = Feature(
    name="sections",
    views=("unionhub_portal.sections.views",),
    demo=_demo,
)
