"""Entry point: the manifest and hook implementations (nothing heavy at import)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unionhub import hookimpl
from unionhub.contrib import (
    ApprovalDecision,
    BlueprintSpec,
    DashboardWidget,
    DatabaseSpec,
    DemoSeeder,
    Manifest,
    NavItem,
    Permission,
    ProfilePanel,
    RoleGrantDefault,
    SettingSpec,
    SlotContribution,
    SlotDecl,
)

from .features import FEATURES

MANIFEST = Manifest(
    name="portal",
    title="门户网站",
    requires_core=">=0.1,<1",
    migrations="unionhub_portal:migrations",
    description="工会门户与微网站：栏目与文章、定向发布、职工热线、工会论坛、京卡优惠",
)

PERMISSIONS = [
    Permission("content.edit", "撰写与编辑本级及下级工会的文章"),
    Permission("content.publish", "审核、发布与下线本级及下级工会的文章"),
    Permission("sections.manage", "管理门户栏目"),
    Permission("hotline.ask", "向职工热线提问"),
    Permission("hotline.answer", "受理与答复本级及下级工会的热线问题"),
    Permission("hotline.manage", "分派热线问题、查看超时清单"),
    Permission("forum.post", "在工会论坛发帖、回帖、举报"),
    Permission("forum.moderate", "论坛管理（审核、锁定、置顶、移动、隐藏、删除、处理举报）"),
]

_GRASSROOTS = ("content.edit", "hotline.answer")
_DISTRICT = (*_GRASSROOTS, "content.publish", "hotline.manage", "forum.moderate")
ROLES = [
    RoleGrantDefault("member", ("hotline.ask", "forum.post")),
    RoleGrantDefault("grassroots_officer", _GRASSROOTS),
    RoleGrantDefault("district_officer", _DISTRICT),
    RoleGrantDefault("city_officer", (*_DISTRICT, "sections.manage")),
    RoleGrantDefault("portal_editor", ("content.edit", "content.publish", "sections.manage"),
                     label="门户编辑"),
    RoleGrantDefault("forum_moderator", ("forum.moderate",), label="论坛版主"),
    RoleGrantDefault("admin", tuple(sorted({*_DISTRICT, "sections.manage"}))),
]

SLOTS = [
    SlotDecl("portal.home.widgets", "Blocks on the portal's home page (PC and mobile); "
                                    "ctx: viewer (unionhub_portal.audience.Viewer)"),
    SlotDecl("portal.article.after", "Below an article's body; ctx: article, viewer"),
]


@hookimpl
def unionhub_database() -> DatabaseSpec:
    from .models import MODELS

    return DatabaseSpec(models=(*MODELS, *FEATURES.models()))


@hookimpl
def unionhub_blueprints() -> Sequence[BlueprintSpec]:
    from .web import api, bp

    FEATURES.import_views()
    return [BlueprintSpec("web", bp), BlueprintSpec("api", api)]


@hookimpl
def unionhub_permissions() -> Sequence[Permission]:
    return PERMISSIONS


@hookimpl
def unionhub_roles() -> Sequence[RoleGrantDefault]:
    return ROLES


@hookimpl
def unionhub_nav_items() -> Sequence[NavItem]:
    return FEATURES.gather("nav")


@hookimpl
def unionhub_slots() -> Sequence[SlotDecl]:
    return SLOTS


@hookimpl
def unionhub_slot_contributions() -> Sequence[SlotContribution]:
    return FEATURES.gather("slot_contributions")


@hookimpl
def unionhub_settings() -> Sequence[SettingSpec]:
    return [
        SettingSpec("hotline_answer_hours", "职工热线答复时限（工作小时）", type="int", default=16),
        SettingSpec("forum_posts_per_10min", "每位会员10分钟内最多发帖/回帖数", type="int",
                    default=5),
        SettingSpec("attachment_max_mb", "文章附件大小上限（MB）", type="int", default=20),
        SettingSpec("wechat_template_hotline", "热线答复通知微信模板ID",
                    env="UNIONHUB_WX_TPL_HOTLINE"),
    ]


@hookimpl
def unionhub_notification_types() -> Sequence[Any]:
    return FEATURES.gather("notification_types")


@hookimpl
def unionhub_jobs() -> Sequence[Any]:
    return FEATURES.gather("jobs")


@hookimpl
def unionhub_beat() -> Sequence[Any]:
    return FEATURES.gather("beat")


@hookimpl
def unionhub_search_indexers() -> Sequence[Any]:
    return FEATURES.gather("search_indexers")


@hookimpl
def unionhub_profile_panels() -> Sequence[ProfilePanel]:
    return FEATURES.gather("profile_panels")


@hookimpl
def unionhub_dashboard_widgets() -> Sequence[DashboardWidget]:
    return FEATURES.gather("dashboard_widgets")


@hookimpl
def unionhub_approval_decided(decision: ApprovalDecision) -> None:
    """An approval engine finished a sign-off: articles waiting for it are published or sent
    back (other kinds are not ours and are ignored)."""
    from .articles.workflow import on_approval_decided

    on_approval_decided(decision)


@hookimpl
def unionhub_demo_seeders() -> Sequence[DemoSeeder]:
    return [DemoSeeder("portal", FEATURES.seed)]
