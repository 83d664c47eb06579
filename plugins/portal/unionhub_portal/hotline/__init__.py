"""Portal: the worker hotline (职工热线) — members ask (optionally anonymous to the public), the
question is routed to their union, an officer of the right org is assigned and answers, the
member is notified, and the officer may publish the Q&A after removing personal data. A
service-level clock (working hours) with an overdue list and an escalation job.

See :mod:`.service` for the rules. Nothing heavy at import: models, views and services load
lazily.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unionhub.contrib import DashboardWidget, NavItem, ProfilePanel
from unionhub_portal.features import Feature

QUESTION_URL = "/portal/hotline/my/{question_id}"
ADMIN_URL = "/portal/admin/hotline/{question_id}"
WECHAT_SETTING = "portal.wechat_template_hotline"


def _models() -> Sequence[type]:
    from .models import MODELS

    return MODELS


def _jobs() -> Sequence[Any]:
    from unionhub.jobs import JobSpec

    from .jobs import escalate_job

    return [JobSpec("hotline_escalate", "职工热线超时督办", escalate_job, max_attempts=3)]


def _beat() -> Sequence[Any]:
    from unionhub.jobs import BeatEntry

    from .jobs import ESCALATE_EVERY_SECONDS

    return [BeatEntry("hotline_escalate", "hotline_escalate", every=ESCALATE_EVERY_SECONDS)]


def _notification_types() -> Sequence[Any]:
    from unionhub.notify.types import NotificationType, Template

    return [
        NotificationType(
            "hotline_answered", "职工热线答复",
            Template(title="您的热线提问已答复",
                     body="您提出的“{subject}”已由{org}答复，请点击查看答复内容。",
                     url=QUESTION_URL,
                     wechat_template_setting=WECHAT_SETTING,
                     wechat_fields={"first": "您的热线提问已答复", "keyword1": "{subject_short}",
                                    "keyword2": "{org_short}", "keyword3": "{answered}",
                                    "remark": "点击查看答复内容"},
                     sms="【12351】您提出的热线问题“{subject_short}”已答复，请登录工会微网站查看。"),
            description="会员的热线提问得到答复时通知提问人"),
        NotificationType(
            "hotline_assigned", "热线问题分派",
            Template(title="有热线问题分派给您",
                     body="{org}的热线问题“{subject}”（{category}）已分派给您，请在 {due} 前答复。",
                     url=ADMIN_URL),
            default_channels=(), description="热线问题分派或改派给干部时通知承办人"),
        NotificationType(
            "hotline_escalated", "热线问题超时督办",
            Template(title="热线问题已超时",
                     body="{org}的热线问题“{subject}”应于 {due} 前答复，"
                          "已超时 {late}，请尽快处理。",
                     url=ADMIN_URL,
                     sms="【12351】{org_short}的热线问题“{subject_short}”已超时，请尽快答复。"),
            description="热线问题超过答复时限时通知本级与上级工会的负责干部"),
    ]


def _search_indexers() -> Sequence[Any]:
    from .search import indexers

    return indexers()


def _panels() -> Sequence[ProfilePanel]:
    from .views import my_questions_panel

    return [ProfilePanel("hotline", "我的提问", my_questions_panel, priority=40)]


def _widgets() -> Sequence[DashboardWidget]:
    from .views import officer_widget

    return [DashboardWidget("officer", "hotline", "职工热线", officer_widget,
                            permission="portal.hotline.answer", priority=35)]


def _demo(session: Any, ctx: Any) -> None:
    from .demo import seed

    seed(session, ctx)


FEATURE = Feature(
    name="hotline",
    views=("unionhub_portal.hotline.views", "unionhub_portal.hotline.mobile",
           "unionhub_portal.hotline.api"),
    models=_models,
    nav=(
        NavItem("member", "hotline_my", "我的提问", "portal.hotline_my",
                permission="portal.hotline.ask", priority=40),
        NavItem("officer", "hotline", "职工热线", "portal.hotline_admin",
                permission="portal.hotline.answer", priority=45),
        NavItem("officer", "hotline_overdue", "热线超时", "portal.hotline_overdue",
                permission="portal.hotline.manage", priority=46),
    ),
    jobs=_jobs,
    beat=_beat,
    search_indexers=_search_indexers,
    notification_types=_notification_types,
    profile_panels=_panels,
    dashboard_widgets=_widgets,
    demo=_demo,
)
