"""Library: loans of ``lent`` titles (借阅) — borrow, return, renew, automatic return at the
due date, a waiting list whose first reader is notified and keeps the freed copy for
``library.hold_keep_hours``; file downloads for readers whose role allows them; 我的借阅, a
"我的" panel and the app API.

See :mod:`.service` for how reserved copies count against ``copies_out``. Nothing heavy at
import: services, views and jobs load lazily.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unionhub.contrib import NavItem, ProfilePanel
from unionhub_library.features import Feature

MY_LOANS_URL = "/library/my/loans"


def _jobs() -> Sequence[Any]:
    from unionhub.jobs import JobSpec

    from .jobs import expire_job

    return [JobSpec("loans_expire", "图书到期自动归还与预约顺延", expire_job, max_attempts=3)]


def _beat() -> Sequence[Any]:
    from unionhub.jobs import BeatEntry

    from .jobs import EXPIRE_EVERY_SECONDS

    return [BeatEntry("loans_expire", "loans_expire", every=EXPIRE_EVERY_SECONDS)]


def _notification_types() -> Sequence[Any]:
    from unionhub.notify.types import NotificationType, Template

    return [
        NotificationType(
            "hold_ready", "预约图书到书",
            Template(title="您预约的图书可以借阅了",
                     body="您排队预约的《{title}》现在有可借副本，已为您保留到 {expires}，"
                          "请及时借阅；逾期将顺延给下一位读者。",
                     url=MY_LOANS_URL,
                     sms="【12351】您预约的《{title_short}》已到书，请于{expires}前借阅。"),
            description="读者排队预约的图书空出副本时，按排队先后通知读者"),
    ]


def _panels() -> Sequence[ProfilePanel]:
    from .views import my_loans_panel

    return [ProfilePanel("loans", "我的借阅", my_loans_panel, priority=50)]


FEATURE = Feature(
    name="loans",
    views=("unionhub_library.loans.views", "unionhub_library.loans.api"),
    nav=(
        NavItem("member", "my_loans", "我的借阅", "library.my_loans",
                permission="library.read", priority=55),
    ),
    jobs=_jobs,
    beat=_beat,
    notification_types=_notification_types,
    profile_panels=_panels,
)
