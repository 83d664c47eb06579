"""Portal: the sections feature — the section tree (栏目) with kinds that decide how content is
listed and shown, its back-office management (add, rename, reorder, hide, audience) and the
demo content of the news, notice and document sections.

Nothing heavy at import: views and the demo seeder load lazily.
"""

from __future__ import annotations

from typing import Any

from unionhub.contrib import NavItem
from unionhub_portal.features import Feature


def _demo(session: Any, ctx: Any) -> None:
    from .demo import seed

    seed(session, ctx)


FEATURE = Feature(
    name="sections",
    views=("unionhub_portal.sections.views",),
    nav=(
        NavItem("admin", "sections", "门户栏目", "portal.admin_sections",
                permission="portal.sections.manage", priority=60),
    ),
    demo=_demo,
)
