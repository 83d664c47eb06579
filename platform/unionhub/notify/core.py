"""What the core contributes through its own hooks (returned by ``unionhub.core_hooks``)."""

from __future__ import annotations

from unionhub.contrib import NavItem
from unionhub.notify.channels import CORE_CHANNELS
from unionhub.notify.jobs import NOTIFY_BEAT, NOTIFY_JOBS
from unionhub.notify.settings import NOTIFY_SETTINGS
from unionhub.notify.types import NotificationType, Template

CORE_TYPES = [
    NotificationType(
        "notice", "工会通知",
        Template(title="{title}", body="{body}", url="{url}",
                 wechat_template_setting="core.wechat_template_notice",
                 wechat_fields={"thing1": "{title}", "thing2": "{org}", "time3": "{date}"}),
        default_channels=("wechat",), allowed_channels=("wechat", "sms", "email"),
        description="工会发给会员的通知公告"),
]

NOTIFY_NAV = [
    NavItem("member", "inbox", "消息", "notify.inbox", priority=10),
    NavItem("member", "notify_prefs", "通知设置", "notify.preferences", priority=20),
    NavItem("admin", "notify_batches", "通知发送", "notify.batches",
            permission="core.plugins.manage", priority=55),
]

__all__ = ["CORE_CHANNELS", "CORE_TYPES", "NOTIFY_BEAT", "NOTIFY_JOBS", "NOTIFY_NAV",
           "NOTIFY_SETTINGS"]
