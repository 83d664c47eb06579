"""Entry point: the manifest and hook implementations (nothing heavy at import).

The OA plugin uses mutual aid only through the core's hooks (``unionhub_members_changed``,
``unionhub_accounting_lines``, ``unionhub_audiences``): without it, the data-exchange run still
imports members and notifies them, with no accounting lines to show.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unionhub import hookimpl
from unionhub.contrib import (
    ApprovalDecision,
    ApprovalRequest,
    AudienceSource,
    BlueprintSpec,
    ChangeReaction,
    DashboardWidget,
    DatabaseSpec,
    DemoSeeder,
    Manifest,
    MemberChanges,
    NavItem,
    Permission,
    RoleGrantDefault,
    SettingSpec,
)

from .features import FEATURES

MANIFEST = Manifest(
    name="oa",
    title="办公自动化",
    requires_core=">=0.1,<1",
    uses=("mutualaid", "portal"),
    migrations="unionhub_oa:migrations",
    description="工会干部办公：沿组织层级的审批、公文、数据交换、互助核算、通知群发",
)

PERMISSIONS = [
    Permission("use", "使用办公系统：待办审批、发起申请、阅读公文"),
    Permission("workflow.manage", "管理审批流程定义"),
    Permission("docs.draft", "起草公文"),
    Permission("docs.issue", "编号并下发公文"),
    Permission("exchange.run", "运行数据交换（导入市总京卡会员数据）"),
    Permission("accounting.view", "查看互助保障核算"),
    Permission("campaigns.manage", "发起通知群发"),
]

_OFFICER = ("use", "docs.draft", "accounting.view", "campaigns.manage")
ROLES = [
    RoleGrantDefault("grassroots_officer", _OFFICER),
    RoleGrantDefault("district_officer", _OFFICER),
    RoleGrantDefault("city_officer", (*_OFFICER, "docs.issue", "exchange.run",
                                      "workflow.manage")),
    RoleGrantDefault("finance_officer", ("core.office", "use", "accounting.view"),
                     label="财务人员"),
    RoleGrantDefault("admin", (*_OFFICER, "docs.issue", "exchange.run", "workflow.manage")),
]


@hookimpl
def unionhub_database() -> DatabaseSpec:
    return DatabaseSpec(models=tuple(FEATURES.models()))


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
def unionhub_settings() -> Sequence[SettingSpec]:
    return [
        SettingSpec("attachment_max_mb", "审批与公文附件大小上限（MB）", type="int", default=20),
        SettingSpec("remind_before_hours", "审批到期前提醒（小时）", type="int", default=4),
        SettingSpec("doc_prefix", "公文文号机关代字（如“京工”）", default="京工", per_org=True),
        SettingSpec("wechat_template_todo", "待办提醒微信模板ID", env="UNIONHUB_WX_TPL_OA_TODO"),
        SettingSpec("wechat_template_notice", "群发通知微信模板ID",
                    env="UNIONHUB_WX_TPL_OA_NOTICE"),
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
def unionhub_dashboard_widgets() -> Sequence[DashboardWidget]:
    return FEATURES.gather("dashboard_widgets")


@hookimpl
def unionhub_demo_seeders() -> Sequence[DemoSeeder]:
    return [DemoSeeder("oa", FEATURES.seed, priority=200)]


@hookimpl
def unionhub_approval_start(request: ApprovalRequest) -> str | None:
    from .workflow.hooks import approval_start

    return approval_start(request)


@hookimpl
def unionhub_approval_decided(decision: ApprovalDecision) -> None:
    from .workflow.hooks import approval_decided

    approval_decided(decision)


@hookimpl
def unionhub_members_changed(changes: MemberChanges) -> ChangeReaction | None:
    from .exchange.hooks import members_changed

    return members_changed(changes)


@hookimpl
def unionhub_audiences() -> Sequence[AudienceSource]:
    from .campaigns.audiences import own_sources

    return own_sources()
