"""Welfare mall: the bookings feature (专属服务预约) — members book exclusive services, the
merchant's staff confirm, complete or cancel them, and unconfirmed bookings give their stock
and quota back after the offer's hold time (see :mod:`.service`). Nothing heavy at import."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unionhub.contrib import NavItem
from unionhub_benefits_mall.features import Feature


def _jobs() -> Sequence[Any]:
    from unionhub.jobs import JobSpec

    from .jobs import expire_job

    return [JobSpec("bookings_expire", "预约超时释放名额", expire_job, max_attempts=3)]


def _beat() -> Sequence[Any]:
    from unionhub.jobs import BeatEntry

    return [BeatEntry("bookings_expire", "bookings_expire", every=300)]


def _template(title: str, body: str) -> Any:
    from unionhub.notify.types import Template

    return Template(
        title=title, body=body, url="/benefits_mall/my/bookings",
        wechat_template_setting="benefits_mall.wechat_template_booking",
        wechat_fields={"first": title, "keyword1": "{offer}", "keyword2": "{date}",
                       "keyword3": "{store}", "keyword4": "{number}", "remark": "{reason}"},
        sms=f"【12351】{body}")


def _notification_types() -> Sequence[Any]:
    from unionhub.notify.types import NotificationType

    return [
        NotificationType("booking_confirmed", "预约已确认", _template(
            "预约已确认", "您预约的{offer}（{number}）已确认，服务日期 {date}，门店 {store}。")),
        NotificationType("booking_cancelled", "预约被商户取消", _template(
            "预约已取消", "您预约的{offer}（{number}）已被商户取消：{reason}")),
        NotificationType("booking_expired", "预约超时未确认", _template(
            "预约已失效", "您预约的{offer}（{number}）商户未在时限内确认，预约已自动取消，"
                         "可重新预约。")),
    ]


def _demo(session: Any, ctx: Any) -> None:
    from .demo import seed

    seed(session, ctx)


FEATURE = Feature(
    name="bookings",
    views=("unionhub_benefits_mall.bookings.views", "unionhub_benefits_mall.bookings.api"),
    nav=(NavItem("member", "bookings", "我的预约", "benefits_mall.my_bookings",
                 permission="benefits_mall.offers.claim", priority=61),),
    jobs=_jobs,
    beat=_beat,
    notification_types=_notification_types,
    demo=_demo,
)
