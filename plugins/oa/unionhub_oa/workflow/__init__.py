"""OA: the approval engine (审批) — versioned workflows of steps whose approvers are resolved
by role and org relative to the initiator (or by name) when a step becomes active; modes
single, any-of (或签), all-of (会签), ratio and sequential; conditions on the request's fields
(:mod:`.expr`, never ``eval``); approve, reject, return, withdraw, transfer, delegate, add a
signer, CC, comment, attachments; deadlines with reminders and escalation on beat; the inbox.

Public entry points: :mod:`.engine` (``start``, the actions, ``available``, ``visible``),
:mod:`.definition` (``parse``), :mod:`.expr` (``compile_expr``), :mod:`.resolve`
(``approvers``), :mod:`.inbox` (``counts``). Other plugins reach the engine only through
``unionhub_approval_start`` (:mod:`.hooks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unionhub.contrib import DashboardWidget, NavItem
from unionhub_oa.features import Feature


def _models() -> Sequence[type]:
    from .models import MODELS

    return MODELS


def _jobs() -> Sequence[Any]:
    from unionhub.jobs import JobSpec

    from .timers import timers_job

    return [JobSpec("approval_timers", "审批超时提醒与上报", timers_job, max_attempts=1)]


def _beat() -> Sequence[Any]:
    from unionhub.jobs import BeatEntry

    return [BeatEntry("approval_timers", "oa.approval_timers", every=300)]


def _notification_types() -> Sequence[Any]:
    from .notices import TYPES

    return TYPES


def _todo_badge() -> int | None:
    from .inbox import todo_badge

    return todo_badge()


def _widgets() -> Sequence[DashboardWidget]:
    from .inbox import officer_widget

    return [DashboardWidget("officer", "oa_inbox", "审批待办", officer_widget,
                            permission="oa.use", priority=5)]


FEATURE = Feature(
    name="workflow",
    views=("unionhub_oa.workflow.views", "unionhub_oa.workflow.api"),
    models=_models,
    nav=(
        NavItem("officer", "oa_inbox", "审批待办", "oa.inbox", permission="oa.use",
                priority=5, badge=_todo_badge),
        NavItem("officer", "oa_workflows", "审批流程", "oa.workflows",
                permission="oa.workflow.manage", priority=95),
    ),
    jobs=_jobs,
    beat=_beat,
    notification_types=_notification_types,
    dashboard_widgets=_widgets,
)
