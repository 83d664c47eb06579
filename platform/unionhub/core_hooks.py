"""The core's own contributions, made through the same hooks plugins use."""

from __future__ import annotations

from collections.abc import Sequence

from unionhub import hookimpl
from unionhub.access.roles import CORE_PERMISSIONS, CORE_ROLE_DEFAULTS
from unionhub.contrib import (
    DashboardWidget,
    NavItem,
    Permission,
    RoleGrantDefault,
    SettingSpec,
    SlotDecl,
)
from unionhub.identity.numbers import DEFAULT_JINGKA_BINS
from unionhub.imports.types import ImportHandler
from unionhub.jobs.types import BeatEntry, JobSpec
from unionhub.notify.types import ChannelSpec, NotificationType
from unionhub.search.types import SearchIndexer

CORE_SLOTS = [
    SlotDecl("layout.head", "Extra tags in <head> of every page"),
    SlotDecl("home.main", "Blocks on the public home page, below the greeting"),
    SlotDecl("member.profile.panels", "Panels on the member's 我的 page (ProfilePanel hook)"),
    SlotDecl("office.member.detail", "Panels on an officer's member detail page; ctx: member"),
    SlotDecl("dashboard.member", "Member home widgets (DashboardWidget hook)"),
    SlotDecl("dashboard.officer", "Officer back-office widgets (DashboardWidget hook)"),
    SlotDecl("dashboard.admin", "Admin home widgets (DashboardWidget hook)"),
]


@hookimpl
def unionhub_permissions() -> Sequence[Permission]:
    return CORE_PERMISSIONS


@hookimpl
def unionhub_roles() -> Sequence[RoleGrantDefault]:
    return CORE_ROLE_DEFAULTS


@hookimpl
def unionhub_slots() -> Sequence[SlotDecl]:
    return CORE_SLOTS


@hookimpl
def unionhub_nav_items() -> Sequence[NavItem]:
    from unionhub.notify.core import NOTIFY_NAV

    return [
        NavItem("main", "home", "首页", "web.home", icon="🏠", priority=0),
        NavItem("main", "search", "搜索", "search.page", priority=800),
        NavItem("main", "me", "我的", "web.me", icon="👤", priority=900),
        NavItem("member", "profile", "个人信息", "web.me", priority=0),
        NavItem("member", "password", "修改密码", "auth.change_password", priority=900),
        NavItem("officer", "office", "后台首页", "office.home", permission="core.office",
                priority=0),
        NavItem("officer", "members", "会员管理", "office.members",
                permission="core.members.view", priority=10),
        NavItem("officer", "orgs", "工会组织", "admin.orgs", permission="core.orgs.view",
                priority=20),
        NavItem("officer", "groups", "会员群体", "groups.index", permission="core.groups.members",
                priority=25),
        NavItem("officer", "imports", "数据导入", "imports.index",
                permission="core.members.import", priority=30),
        NavItem("officer", "jobs", "后台任务", "jobs.index", permission="core.office",
                priority=90),
        NavItem("admin", "admin", "管理首页", "admin.home", permission="core.plugins.manage",
                priority=0),
        NavItem("admin", "plugins", "插件", "admin.plugins", permission="core.plugins.manage",
                priority=10),
        NavItem("admin", "orgs", "工会组织", "admin.orgs", permission="core.plugins.manage",
                priority=20),
        NavItem("admin", "members", "会员", "office.members", permission="core.plugins.manage",
                priority=30),
        NavItem("admin", "roles", "角色与授权", "admin.roles", permission="core.roles.manage",
                priority=40),
        NavItem("admin", "audit", "审计日志", "admin.audit", permission="core.audit.view",
                priority=50),
        NavItem("admin", "settings", "设置", "admin.settings", permission="core.settings.manage",
                priority=60),
        NavItem("admin", "workdays", "工作日历", "workdays.index",
                permission="core.settings.manage", priority=70),
        *NOTIFY_NAV,
    ]


@hookimpl
def unionhub_jobs() -> Sequence[JobSpec]:
    from unionhub.imports.jobs import JOBS
    from unionhub.jobs.service import CORE_JOBS
    from unionhub.notify.core import NOTIFY_JOBS
    from unionhub.search.jobs import SEARCH_JOBS

    return [*CORE_JOBS, *JOBS, *NOTIFY_JOBS, *SEARCH_JOBS]


@hookimpl
def unionhub_beat() -> Sequence[BeatEntry]:
    from unionhub.jobs.service import CORE_BEAT
    from unionhub.notify.core import NOTIFY_BEAT
    from unionhub.search.jobs import SEARCH_BEAT

    return [*CORE_BEAT, *NOTIFY_BEAT, *SEARCH_BEAT]


@hookimpl
def unionhub_search_indexers() -> Sequence[SearchIndexer]:
    from unionhub.search.core_indexers import CORE_INDEXERS

    return CORE_INDEXERS


@hookimpl
def unionhub_notification_types() -> Sequence[NotificationType]:
    from unionhub.notify.core import CORE_TYPES

    return CORE_TYPES


@hookimpl
def unionhub_notification_channels() -> Sequence[ChannelSpec]:
    from unionhub.notify.core import CORE_CHANNELS

    return CORE_CHANNELS


@hookimpl
def unionhub_import_handlers() -> Sequence[ImportHandler]:
    from unionhub.imports.members import HANDLER

    return [HANDLER]


@hookimpl
def unionhub_settings() -> Sequence[SettingSpec]:
    from unionhub.notify.core import NOTIFY_SETTINGS

    return [
        SettingSpec("site_name", "平台名称", default="数字工会服务平台"),
        SettingSpec("hotline", "职工服务热线", default="12351"),
        SettingSpec(
            "jingka_bins", "京卡发卡行BIN（逗号分隔）", default=",".join(DEFAULT_JINGKA_BINS),
            help="只接受以这些数字开头的京卡卡号；留空表示不检查 BIN",
        ),
        *NOTIFY_SETTINGS,
    ]


@hookimpl
def unionhub_dashboard_widgets() -> Sequence[DashboardWidget]:
    from unionhub.web import widgets

    return widgets.CORE_WIDGETS
