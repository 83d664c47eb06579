"""Entry point: the manifest and hook implementations (nothing heavy at import)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unionhub import hookimpl
from unionhub.contrib import (
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
    name="library",
    title="数字图书馆",
    requires_core=">=0.1,<1",
    migrations="unionhub_library:migrations",
    description="数字图书馆与数字博物馆：电子书目录、多终端在线阅读、借阅、OPDS、数字展览",
)

PERMISSIONS = [
    Permission("read", "在线阅读电子书、借阅、书架与阅读进度"),
    Permission("download", "下载电子书文件（默认不开放）"),
    Permission("catalogue.manage", "上传、导入与编辑图书"),
    Permission("stats.view", "查看本级及下级工会的阅读统计"),
    Permission("museum.manage", "管理数字博物馆的展览与展品"),
]

ROLES = [
    RoleGrantDefault("member", ("read",)),
    RoleGrantDefault("grassroots_officer", ("read", "stats.view")),
    RoleGrantDefault("district_officer", ("read", "stats.view")),
    RoleGrantDefault("city_officer", ("read", "stats.view", "catalogue.manage",
                                      "museum.manage")),
    RoleGrantDefault("librarian", ("read", "download", "catalogue.manage", "stats.view",
                                   "museum.manage"), label="图书管理员"),
    RoleGrantDefault("admin", ("read", "download", "catalogue.manage", "stats.view",
                               "museum.manage")),
]

SLOTS = [
    SlotDecl("library.book.after", "Below a book's details; ctx: book"),
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
        SettingSpec("upload_max_mb", "上传文件大小上限（MB，电子书与博物馆媒体）", type="int",
                    default=100),
        SettingSpec("loans_per_reader", "每位读者同时借阅上限（册）", type="int", default=5),
        SettingSpec("hold_keep_hours", "预约到书后保留时间（小时）", type="int", default=48),
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
def unionhub_demo_seeders() -> Sequence[DemoSeeder]:
    return [DemoSeeder("library", FEATURES.seed)]
