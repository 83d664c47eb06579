"""Mutual aid: the enrollment feature (参保 + 缴费; see :mod:`unionhub_mutualaid.features`).

Nothing heavy at import: views, models, the import handler and the demo seeder load lazily.
"""

from __future__ import annotations

from typing import Any

from unionhub.contrib import NavItem
from unionhub_mutualaid.features import Feature


def _models() -> tuple[type, ...]:
    from .models import models

    return models()


def _import_handlers() -> list[Any]:
    from .importer import HANDLER

    return [HANDLER]


def _demo(session: Any, ctx: Any) -> None:
    from .demo import seed

    seed(session, ctx)


FEATURE = Feature(
    name="enrollment",
    views=("unionhub_mutualaid.enrollment.views",),
    models=_models,
    nav=(
        NavItem("officer", "enrollment", "参保管理", "mutualaid.enroll_unit",
                permission="mutualaid.enroll", priority=60),
        NavItem("officer", "fees", "缴费登记", "mutualaid.fees",
                permission="mutualaid.fees.manage", priority=65),
    ),
    import_handlers=_import_handlers,
    demo=_demo,
)
