"""The campaign's notification type ``oa.campaign`` (工会群发通知).

The message is rendered from the batch context ``{title, body, sms, url, org, date}`` the
campaign stores. The WeChat template (setting ``oa.wechat_template_notice``: 通知标题 thing1,
发文单位 thing2, 发送时间 time3) takes at most 20 characters per field on one line, so the
fields are cut here, where the officer's preview and the sent message agree.

``member_choice`` is True: a campaign picks its channels, but a member who switched a channel
off for union notices on 通知设置 is not messaged there (the core's ``send`` honours that
over the campaign's choice); the in-site inbox always gets it, so nobody misses the notice.
SMS and e-mail to people who asked not to get them would cost quota and goodwill.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from unionhub.notify.types import Message, NotificationType, Template

KEY = "campaign"
TYPE_KEY = f"oa.{KEY}"
WECHAT_SETTING = "oa.wechat_template_notice"
#: The campaign's channels, in the order the form shows them.
CHANNELS = ("wechat", "sms", "email")

_TEMPLATE = Template(
    title="{title}", body="{body}", url="{url}", sms="{sms}",
    wechat_template_setting=WECHAT_SETTING,
    wechat_fields={"thing1": "{title}", "thing2": "{org}", "time3": "{date}"},
)


def render(context: Mapping[str, Any]) -> Message:
    """The campaign's message; WeChat fields cut to one line of at most 20 characters."""
    from unionhub.notify.wechat import clean_field

    message = _TEMPLATE(context)
    return replace(message, wechat_fields={k: clean_field(v)
                                           for k, v in message.wechat_fields.items()})


TYPES = [
    NotificationType(
        KEY, "工会群发通知", render,
        default_channels=("wechat",), allowed_channels=CHANNELS, member_choice=True,
        description="工会干部向会员群发的通知（站内消息总会送达）"),
]
