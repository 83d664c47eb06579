"""OA: the data-exchange run (数据交换) — one period's member/Jingka file from the city
federation as one tracked job: receive → preview (new, changed, cards replaced, left,
rejected rows) → optional approval → apply (plugins react through
``unionhub_members_changed``) → accounting → notify every affected worker.

Public entry points: :mod:`.run` (``create_run``, ``confirm``, ``discard``, ``retry``,
``run_inline``, ``on_decided`` — the approval engine's handler for kind ``oa.exchange_run``),
:mod:`.hooks` (``members_changed``), :mod:`.models` (``OaRun``, ``OaRunMember``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unionhub.contrib import NavItem
from unionhub_oa.features import Feature


def _models() -> Sequence[type]:
    from .models import MODELS

    return MODELS


def _jobs() -> Sequence[Any]:
    from unionhub.jobs import JobSpec

    from .run import JOB_KEY, exchange_job

    # One attempt: a crash mid-way leaves the run failed with its batch where the core left
    # it; the officer's 重试 goes on from there.
    return [JobSpec(JOB_KEY, "数据交换", exchange_job, permission="oa.exchange.run",
                    max_attempts=1)]


def _notification_types() -> Sequence[Any]:
    from .notices import TYPES

    return TYPES


FEATURE = Feature(
    name="exchange",
    views=("unionhub_oa.exchange.views",),
    models=_models,
    nav=(
        NavItem("officer", "oa_runs", "数据交换", "oa.runs", permission="oa.exchange.run",
                priority=20),
    ),
    jobs=_jobs,
    notification_types=_notification_types,
)
