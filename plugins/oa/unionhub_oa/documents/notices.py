"""The documents' notification type (``oa.document``): a document was issued to the
recipient's org. Officers are notified through their member record, when they have one."""

from __future__ import annotations

from unionhub.notify.types import NotificationType, Template

TYPES = (
    NotificationType(
        "document", "收到公文",
        Template(title="收到公文：{title}",
                 body="{org}下发公文《{title}》（{number}），请及时阅读。",
                 url="{url}",
                 sms="【12351】{org}下发公文《{title}》（{number}），请登录办公系统阅读。"),
        description="公文下发时，通知主送单位的工会干部"),
)
