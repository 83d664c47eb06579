"""The approval engine's notification types and how it sends them.

Officers are accounts; only accounts linked to a member record can be notified (the core's
notifications go to members), so every send selects ``Account.member_id`` of the accounts
concerned and skips the others. ``batch_key`` makes each notice idempotent: a to-do is sent once
per task, a reminder once per task, a result once per request.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub.identity.models import Account
from unionhub.notify.types import NotificationType, Template

TODO, RESULT, REMIND, CC = "oa.todo", "oa.result", "oa.remind", "oa.cc"

TYPES = [
    NotificationType(
        "todo", "待办提醒",
        Template(title="待办审批：{title}",
                 body="{initiator}发起的“{title}”已到“{step}”环节，等待您审批。",
                 url="{url}", wechat_template_setting="oa.wechat_template_todo",
                 wechat_fields={"thing1": "{title}", "thing2": "{step}",
                                "thing3": "{initiator}"},
                 sms="【12351】您有一条待办审批：{title}，请登录办公系统处理。"),
        default_channels=("wechat",), allowed_channels=("wechat", "sms", "email"),
        description="有审批轮到您处理时提醒"),
    NotificationType(
        "result", "审批结果",
        Template(title="审批{result}：{title}",
                 body="您发起的“{title}”{result}。{opinion}", url="{url}",
                 sms="【12351】您发起的“{title}”{result}。"),
        default_channels=("wechat",), allowed_channels=("wechat", "sms", "email"),
        description="您发起的审批结束时通知结果"),
    NotificationType(
        "remind", "超时提醒",
        Template(title="审批即将超时：{title}",
                 body="“{title}”的“{step}”环节将于 {due} 到期，请尽快处理；逾期将上报上级工会。",
                 url="{url}", wechat_template_setting="oa.wechat_template_todo",
                 wechat_fields={"thing1": "{title}", "thing2": "{step}", "time3": "{due}"},
                 sms="【12351】审批“{title}”将于{due}到期，请尽快处理。"),
        default_channels=("wechat",), allowed_channels=("wechat", "sms", "email"),
        description="待办审批到期前提醒处理人"),
    NotificationType(
        "cc", "审批抄送",
        Template(title="抄送：{title}", body="{by}把“{title}”抄送给您，请知悉。", url="{url}"),
        default_channels=(), allowed_channels=("wechat", "sms", "email"),
        description="审批抄送给您时通知（默认只进站内信）"),
]


def send(s: Session, type_key: str, account_ids: Collection[int], context: Mapping[str, Any],
         batch_key: str) -> bool:
    """Queue ``type_key`` for the accounts among ``account_ids`` that have a member record;
    False when none has (nothing is queued)."""
    ids = [i for i in account_ids if i is not None]
    if not ids:
        return False
    members = s.scalars(select(Account.member_id).where(
        Account.id.in_(ids), Account.member_id.is_not(None))).all()
    if not members:
        return False
    from unionhub import notify

    notify.send(s, type_key, list(members), dict(context), batch_key)
    return True


__all__ = ["CC", "REMIND", "RESULT", "TODO", "TYPES", "send"]
