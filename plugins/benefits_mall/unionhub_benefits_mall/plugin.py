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
)

from .features import FEATURES

MANIFEST = Manifest(
    name="benefits_mall",
    title="福利云商平台",
    requires_core=">=0.1,<1",
    migrations="unionhub_benefits_mall:migrations",
    description="合作商户、会员专属服务、优惠通道、福利券领取与核销、福利积分",
)

PERMISSIONS = [
    Permission("offers.claim", "领取福利券、预约专属服务"),
    Permission("catalogue.manage", "管理合作商户、门店、商户账号与优惠（含审核商户提交）"),
    Permission("channels.manage", "管理本级及下级工会的优惠通道"),
    Permission("points.grant", "发放福利积分"),
    Permission("points.rules", "设置福利积分规则"),
    Permission("reports.view", "查看福利统计"),
    Permission("settlement.manage", "生成与确认商户结算单"),
]

_OFFICER = ("channels.manage", "points.grant", "points.rules", "reports.view")
_OPERATOR = ("catalogue.manage", "channels.manage", "reports.view", "settlement.manage")
ROLES = [
    RoleGrantDefault("member", ("offers.claim",)),
    RoleGrantDefault("grassroots_officer", _OFFICER),
    RoleGrantDefault("district_officer", _OFFICER),
    RoleGrantDefault("city_officer", (*_OFFICER, "catalogue.manage")),
    RoleGrantDefault("mall_operator", _OPERATOR, label="福利平台运营"),
    RoleGrantDefault("admin", tuple(sorted({*_OFFICER, *_OPERATOR}))),
]


@hookimpl
def unionhub_database() -> DatabaseSpec:
    from .models import MODELS

    return DatabaseSpec(models=MODELS)


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
        SettingSpec("redeem_undo_minutes", "核销后允许撤销的时间（分钟）", type="int", default=30),
        SettingSpec("coupon_expiry_notice_days", "福利券到期前提醒（天）", type="int", default=3),
        SettingSpec("wechat_template_coupon", "福利券通知微信模板ID",
                    env="UNIONHUB_WX_TPL_COUPON"),
        SettingSpec("wechat_template_booking", "预约通知微信模板ID",
                    env="UNIONHUB_WX_TPL_BOOKING"),
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
def unionhub_offer_providers() -> Sequence[Any]:
    return FEATURES.gather("offer_providers")


@hookimpl
def unionhub_profile_panels() -> Sequence[ProfilePanel]:
    return FEATURES.gather("profile_panels")


@hookimpl
def unionhub_dashboard_widgets() -> Sequence[DashboardWidget]:
    return FEATURES.gather("dashboard_widgets")


@hookimpl
def unionhub_demo_seeders() -> Sequence[DemoSeeder]:
    return [DemoSeeder("mall", FEATURES.seed)]
