"""Entry point: the manifest and hook implementations (nothing heavy at import)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from unionhub import hookimpl
from unionhub.contrib import (
    AccountingLine,
    ApprovalDecision,
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
    ProfilePanel,
    RoleGrantDefault,
    SettingSpec,
)
from unionhub.notify.types import NotificationType, Template

from .features import FEATURES

MANIFEST = Manifest(
    name="mutualaid",
    title="互助保障",
    requires_core=">=0.1,<1",
    migrations="unionhub_mutualaid:migrations",
    description="职工互助保障：项目规则、集体参保、在线理赔、二次报销、京卡直赔",
)

PERMISSIONS = [
    Permission("claims.own", "申请本人理赔"),
    Permission("enroll", "办理本单位参保"),
    Permission("claims.submit", "代会员申请理赔"),
    Permission("claims.view", "查看理赔"),
    Permission("claims.review", "审核理赔"),
    Permission("fees.manage", "登记参保缴费"),
    Permission("plans.manage", "管理互助项目规则"),
    Permission("settlement.import", "导入医保结算数据"),
    Permission("ecbx.manage", "管理二次报销批次与收款人核验"),
    Permission("screening.view", "查看重疾筛查名单（含诊断）"),
    Permission("payouts.manage", "管理代发批次与回盘"),
    Permission("stats.view", "查看互助保障统计"),
]

_CENTRE = ("claims.view", "claims.review", "fees.manage", "settlement.import", "ecbx.manage",
           "payouts.manage", "stats.view")
ROLES = [
    RoleGrantDefault("member", ("claims.own",)),
    RoleGrantDefault("agent_clerk", ("enroll", "claims.submit", "claims.view", "stats.view")),
    RoleGrantDefault("grassroots_officer",
                     ("enroll", "claims.submit", "claims.view", "stats.view", "screening.view")),
    RoleGrantDefault("district_officer", ("claims.view", "stats.view")),
    RoleGrantDefault("city_officer", ("claims.view", "stats.view", "plans.manage")),
    RoleGrantDefault("mutualaid_reviewer", _CENTRE, label="互助中心审核员"),
    RoleGrantDefault("admin", ("plans.manage", *_CENTRE)),
]


@hookimpl
def unionhub_database() -> DatabaseSpec:
    from .models import MODELS

    return DatabaseSpec(models=(*MODELS, *FEATURES.models()))


@hookimpl
def unionhub_blueprints() -> Sequence[BlueprintSpec]:
    from . import views  # noqa: F401  (the member's own pages and the plans pages)
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
    own = [
        NavItem("main", "mutualaid", "互助保障", "mutualaid.my", icon="🛡", priority=20),
        NavItem("member", "mutualaid", "我的互助", "mutualaid.my", priority=20),
        NavItem("officer", "plans", "互助项目", "mutualaid.plans",
                permission="mutualaid.stats.view", priority=80),
    ]
    return own + FEATURES.gather("nav")


@hookimpl
def unionhub_settings() -> Sequence[SettingSpec]:
    return [
        SettingSpec("sla_working_days", "理赔时限（工作日，材料齐全至到账）", type="int",
                    default=10),
        SettingSpec("claim_file_max_mb", "理赔材料单个文件上限（MB）", type="int", default=10),
        SettingSpec("wechat_template_claim", "理赔进度微信模板ID", env="UNIONHUB_WX_TPL_CLAIM"),
        SettingSpec("wechat_template_paid", "到账通知微信模板ID", env="UNIONHUB_WX_TPL_PAID"),
        SettingSpec("signoff_threshold", "代发批次需审批的金额下限（元，0 为不需审批）",
                    type="decimal", default="500000.00"),
    ]


def _claim_template(title: str, body: str) -> Template:
    return Template(
        title=title, body=body, url="/mutualaid/claims/{claim_id}",
        wechat_template_setting="mutualaid.wechat_template_claim",
        wechat_fields={"first": title, "keyword1": "{number}", "keyword2": "{program}",
                       "keyword3": "{status}", "remark": "{reason}"},
        sms=f"【12351】{body}")


@hookimpl
def unionhub_notification_types() -> Sequence[NotificationType]:
    return [
        NotificationType("claim_approved", "理赔审核通过", _claim_template(
            "理赔已审核通过", "您的{program}理赔（{number}）已审核通过，核定金额 {amount} 元，"
                             "将直接发放到您的京卡。")),
        NotificationType("claim_returned", "理赔退回补充材料", _claim_template(
            "理赔需要补充材料", "您的{program}理赔（{number}）需要补充材料：{reason}")),
        NotificationType("claim_rejected", "理赔不予赔付", _claim_template(
            "理赔审核结果", "您的{program}理赔（{number}）不予赔付：{reason}")),
        NotificationType("paid", "互助金到账", Template(
            title="互助金已到账", body="{summary} {amount} 元已发放到您尾号 {card_tail} 的京卡。",
            url="/mutualaid/", wechat_template_setting="mutualaid.wechat_template_paid",
            wechat_fields={"first": "互助金已到账", "keyword1": "{summary}",
                           "keyword2": "{amount} 元", "keyword3": "{card_tail}"},
            sms="【12351】{summary} {amount} 元已发放到您尾号 {card_tail} 的京卡。")),
    ]


@hookimpl
def unionhub_jobs() -> Sequence[Any]:
    return FEATURES.gather("jobs")


@hookimpl
def unionhub_beat() -> Sequence[Any]:
    return FEATURES.gather("beat")


@hookimpl
def unionhub_import_handlers() -> Sequence[Any]:
    return FEATURES.gather("import_handlers")


@hookimpl
def unionhub_profile_panels() -> Sequence[ProfilePanel]:
    from .views import coverage_panel

    return [ProfilePanel("coverage", "我的互助保障", coverage_panel, priority=20),
            *FEATURES.gather("profile_panels")]


@hookimpl
def unionhub_dashboard_widgets() -> Sequence[DashboardWidget]:
    return FEATURES.gather("dashboard_widgets")


def _seed(session: Any, ctx: Any) -> None:
    from unionhub.demo import DEMO_PASSWORD
    from unionhub.identity.admin import create_officer

    from . import plans

    year = date.today().year
    plans.seed(session, (year - 1, year))
    city = next(o for o in ctx.orgs.values() if o.parent_id is None)
    ctx.officers["centre"] = create_officer(session, "centre", "市职工互助保障中心审核员 郑洁",
                                            DEMO_PASSWORD, "mutualaid_reviewer", city)
    ctx.lines.append(f"  {'centre':10} 市职工互助保障中心审核员 郑洁（互助保障：理赔审核、代发）")
    session.flush()
    FEATURES.seed(session, ctx)


@hookimpl
def unionhub_demo_seeders() -> Sequence[DemoSeeder]:
    return [DemoSeeder("programs", _seed)]


@hookimpl
def unionhub_members_changed(changes: MemberChanges) -> ChangeReaction | None:
    from .exchange import members_changed

    return members_changed(changes)


@hookimpl
def unionhub_accounting_lines(plan_year: int) -> Sequence[AccountingLine]:
    from .exchange import accounting_lines

    return accounting_lines(plan_year)


@hookimpl
def unionhub_audiences() -> Sequence[AudienceSource]:
    from .exchange import audiences

    return audiences()


@hookimpl
def unionhub_approval_decided(decision: ApprovalDecision) -> None:
    from .payouts.signoff import approval_decided

    approval_decided(decision)
