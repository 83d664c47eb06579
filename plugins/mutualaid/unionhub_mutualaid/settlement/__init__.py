"""Mutual aid: the settlement feature — the 医保结算数据 import (corrections, members set
aside), fast claims from inpatient records, and the quarterly 二次报销 (ECBX) batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unionhub.contrib import NavItem
from unionhub_mutualaid.features import Feature


def _models() -> tuple[type, ...]:
    from .models import MODELS

    return MODELS


def _jobs() -> Sequence[Any]:
    from unionhub.jobs.types import JobSpec

    from .ecbx import ecbx_job
    from .fastclaims import followup_job

    return [
        # one transaction: a crash leaves nothing behind, a retry recomputes from the lines
        JobSpec("ecbx_quarter", "计算季度二次报销", ecbx_job,
                permission="mutualaid.ecbx.manage", max_attempts=2),
        # screening and fast claims are idempotent, fast claims commit per chunk: a retry
        # resumes where the crash stopped
        JobSpec("settlement_followup", "医保结算数据导入后处理（重疾筛查、快速理赔）",
                followup_job, max_attempts=3),
    ]


def _import_handlers() -> Sequence[Any]:
    from .importer import HANDLER

    return [HANDLER]


def _demo(session: Any, ctx: Any) -> None:
    from .demo import seed

    seed(session, ctx)


FEATURE = Feature(
    name="settlement",
    views=("unionhub_mutualaid.settlement.views",),
    models=_models,
    nav=(
        NavItem("officer", "settlement", "医保结算数据", "mutualaid.settlement_index",
                permission="mutualaid.settlement.import", priority=82),
        NavItem("officer", "ecbx", "二次报销", "mutualaid.ecbx_index",
                permission="mutualaid.ecbx.manage", priority=83),
    ),
    jobs=_jobs,
    import_handlers=_import_handlers,
    demo=_demo,
)
