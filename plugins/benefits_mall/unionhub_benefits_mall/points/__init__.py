"""Welfare mall: the points feature (福利积分) — a ledger of grants, spending, expiry and
refunds with the unions' caps (see :mod:`.service`), the officers' rules, grants and report,
and the member's points page, panel and API. Nothing heavy at import."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unionhub.contrib import NavItem, ProfilePanel
from unionhub_benefits_mall.features import Feature


def _jobs() -> Sequence[Any]:
    from unionhub.jobs import JobSpec

    from .jobs import expire_job, grant_job

    return [
        JobSpec("points_expire", "福利积分到期处理", expire_job, max_attempts=3),
        JobSpec("points_grant", "发放福利积分", grant_job,
                permission="benefits_mall.points.grant", max_attempts=3),
    ]


def _beat() -> Sequence[Any]:
    from unionhub.jobs import BeatEntry

    return [BeatEntry("points_expire", "points_expire", every=24 * 3600)]


def _notification_types() -> Sequence[Any]:
    from unionhub.notify.types import NotificationType, Template

    return [NotificationType("points_granted", "福利积分到账", Template(
        title="福利积分到账",
        body="{org}向您发放{occasion}福利积分 {points} 分，有效期至 {expires_on}。",
        url="/benefits_mall/my/points",
        wechat_fields={"first": "福利积分到账", "keyword1": "{occasion}",
                       "keyword2": "{points} 分", "keyword3": "{expires_on}",
                       "remark": "{org}"},
        sms="【12351】{org}向您发放{occasion}福利积分 {points} 分，有效期至 {expires_on}。"),
        # a grant reaches thousands at once: the inbox by default (no WeChat template is
        # configured for points, and an SMS fallback for every member would cost too much);
        # members may switch WeChat, SMS or e-mail on
        default_channels=())]


def _panels() -> Sequence[ProfilePanel]:
    from .views import points_panel

    return [ProfilePanel("points", "我的积分", points_panel, priority=55)]


def _demo(session: Any, ctx: Any) -> None:
    from .demo import seed

    seed(session, ctx)


FEATURE = Feature(
    name="points",
    views=("unionhub_benefits_mall.points.views", "unionhub_benefits_mall.points.api"),
    nav=(
        NavItem("member", "points", "我的积分", "benefits_mall.my_points",
                permission="benefits_mall.offers.claim", priority=62),
        NavItem("officer", "points", "福利积分", "benefits_mall.points_admin",
                permission="benefits_mall.points.grant", priority=92),
        NavItem("officer", "points_report", "积分发放与使用", "benefits_mall.points_report",
                permission="benefits_mall.reports.view", priority=93),
    ),
    jobs=_jobs,
    beat=_beat,
    notification_types=_notification_types,
    profile_panels=_panels,
    demo=_demo,
)
