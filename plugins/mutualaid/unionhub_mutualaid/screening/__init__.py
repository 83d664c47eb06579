"""Mutual aid: the screening feature (重疾筛查) — settlement diagnoses matched against the
programs' disease catalogues flag members for condolence visits and secondary aid (see
:mod:`unionhub_mutualaid.features` and :mod:`.service`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from unionhub.contrib import DashboardWidget, NavItem
from unionhub_mutualaid.features import Feature

PERMISSION = "mutualaid.screening.view"


def _models() -> tuple[type, ...]:
    from .models import MODELS

    return MODELS


def _jobs() -> Sequence[Any]:
    from unionhub.jobs import JobSpec

    from .service import scan_job

    return [JobSpec("screening_scan", "重疾筛查重新扫描", scan_job,
                    permission="mutualaid.settlement.import")]


def _widget(**kw: Any) -> Markup:
    from .views import new_flags_widget  # imported when rendered, after routes are registered

    return new_flags_widget(**kw)


def _widgets() -> Sequence[DashboardWidget]:
    return [DashboardWidget("officer", "screening", "重疾筛查", _widget, permission=PERMISSION,
                            priority=40)]


def _demo(session: Any, ctx: Any) -> None:
    """Flag whatever settlement records the settlement demo wrote."""
    from .service import flag

    flag(session)


FEATURE = Feature(
    name="screening",
    views=("unionhub_mutualaid.screening.views",),
    models=_models,
    nav=(NavItem("officer", "screening", "重疾筛查", "mutualaid.screening",
                 permission=PERMISSION, priority=85),),
    jobs=_jobs,
    dashboard_widgets=_widgets,
    demo=_demo,
)
