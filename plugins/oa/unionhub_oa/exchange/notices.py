"""The run's notification type ``oa.member_change`` (会员信息变更): what the federation's file
changed for the worker — a new membership registered, the Jingka replaced by a new card, or
the membership ended.

One batch per run and kind (``run-<id>-<kind>``), rendered once from the context built by
:func:`context`. The new card's number is never in the message ("京卡已换新卡" is enough:
the worker holds the card, and a masked number in a WeChat message helps nobody but a
phisher). The WeChat template is the plugin's notice template (setting
``oa.wechat_template_notice``: 通知标题 thing1, 发文单位 thing2, 发送时间 time3); every field is one
line of at most 20 characters. Defaults to WeChat; the core falls back to SMS for workers
without a WeChat binding, and the in-site inbox always gets it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from unionhub.notify.types import Message, NotificationType, Template

KEY = "member_change"
TYPE_KEY = f"oa.{KEY}"
WECHAT_SETTING = "oa.wechat_template_notice"

#: Per kind: the title (also the WeChat 通知标题), the body and the SMS text. ``{period}`` is
#: the run's period.
TEXTS: dict[str, dict[str, str]] = {
    "new": {
        "title": "入会登记完成",
        "body": "根据市总工会 {period} 会员数据，您已登记为工会会员。请凭京卡登录数字工会，"
                "查看会员服务和互助保障。",
        "sms": "【12351】您已登记为工会会员，可凭京卡登录数字工会查看会员服务和互助保障。",
    },
    "card_replaced": {
        "title": "京卡已换新卡",
        "body": "您的京卡已换新卡，原卡已作废。互助金等款项将发放到新卡，请使用新卡登录数字工会。",
        "sms": "【12351】您的京卡已换新卡，原卡已作废，互助金等款项将发放到新卡。",
    },
    "left": {
        "title": "工会会籍已终止",
        "body": "根据市总工会 {period} 会员数据，您的工会会籍已终止（退会或转出）。"
                "如有疑问，请联系所在工会。",
        "sms": "【12351】根据市总工会会员数据，您的工会会籍已终止（退会或转出），"
               "如有疑问请联系所在工会。",
    },
}

_TEMPLATE = Template(
    title="{title}", body="{body}", url="/me", sms="{sms}",
    wechat_template_setting=WECHAT_SETTING,
    wechat_fields={"thing1": "{title}", "thing2": "{org}", "time3": "{date}"},
)


def context(kind: str, *, period: str, org: str, date: str) -> dict[str, Any]:
    """The batch context for ``kind`` (stored with the batch, so it is all text)."""
    texts = TEXTS[kind]
    return {"kind": kind, "period": period, "org": org, "date": date,
            **{k: v.format(period=period) for k, v in texts.items()}}


def render(context: Mapping[str, Any]) -> Message:
    """The message; WeChat fields cut to one line of at most 20 characters."""
    from unionhub.notify.wechat import clean_field

    message = _TEMPLATE(context)
    return replace(message, wechat_fields={k: clean_field(v)
                                           for k, v in message.wechat_fields.items()})


TYPES = [
    NotificationType(
        KEY, "会员信息变更", render, default_channels=("wechat",),
        allowed_channels=("wechat", "sms"), member_choice=False,
        description="数据交换后告知会员：入会登记完成、京卡已换新卡、会籍终止"),
]
