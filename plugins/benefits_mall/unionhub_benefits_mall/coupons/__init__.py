"""Welfare mall: the coupons feature — claiming (stock, channel quotas and per-member limits
decided by conditional statements), codes and QR, my coupons, redemption (核销) by merchant
staff with idempotency keys, undo within a window, cancellation, expiry and reminders (see
:mod:`.service`). Nothing heavy at import: views, services and the demo load lazily."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unionhub.contrib import NavItem, ProfilePanel
from unionhub_benefits_mall.features import Feature

EXPIRE_EVERY_SECONDS = 15 * 60
COUPON_URL = "/benefits_mall/my/coupons/{coupon_id}"


def _is_staff() -> bool:
    from ..staff import current_staff

    return current_staff() is not None


def _jobs() -> Sequence[Any]:
    from unionhub.jobs import JobSpec

    from .service import expire_job

    # Re-runnable: it only acts on coupons still due and on reminders not yet sent.
    return [JobSpec("coupons_expire", "福利券到期处理与到期提醒", expire_job, max_attempts=3)]


def _beat() -> Sequence[Any]:
    from unionhub.jobs import BeatEntry

    return [BeatEntry("coupons_expire", "coupons_expire", every=EXPIRE_EVERY_SECONDS)]


def _notification_types() -> Sequence[Any]:
    from unionhub.notify.types import NotificationType, Template

    return [
        NotificationType(
            "coupon_expiring", "福利券即将到期",
            Template(title="福利券即将到期",
                     body="您领取的“{offer}”（{merchant}）将于 {expires} 到期，请尽快到店使用。",
                     url=COUPON_URL,
                     wechat_template_setting="benefits_mall.wechat_template_coupon",
                     wechat_fields={"first": "福利券即将到期", "keyword1": "{offer_short}",
                                    "keyword2": "{expires}", "keyword3": "{merchant_short}",
                                    "remark": "请尽快到店使用"},
                     sms="【12351】您领取的{offer_short}将于{expires}到期，请尽快使用。"),
            description="券到期前提醒（提前天数见福利云商平台设置）"),
    ]


def _panels() -> Sequence[ProfilePanel]:
    from .views import coupons_panel

    return [ProfilePanel("coupons", "我的券", coupons_panel, priority=30)]


def _demo(session: Any, ctx: Any) -> None:
    from .demo import seed

    seed(session, ctx)


FEATURE = Feature(
    name="coupons",
    views=("unionhub_benefits_mall.coupons.views", "unionhub_benefits_mall.coupons.api"),
    nav=(
        NavItem("member", "coupons", "我的券", "benefits_mall.my_coupons",
                permission="benefits_mall.offers.claim", priority=31),
        NavItem("main", "redeem", "核销", "benefits_mall.redeem", icon="✔", priority=91,
                visible=_is_staff),
        NavItem("officer", "coupons", "福利券查询", "benefits_mall.admin_coupons",
                permission="benefits_mall.reports.view", priority=64),
    ),
    jobs=_jobs,
    beat=_beat,
    notification_types=_notification_types,
    profile_panels=_panels,
    demo=_demo,
)
