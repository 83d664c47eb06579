"""The core's channels: inbox (written while sending), WeChat, SMS and e-mail.

Senders run inside the dispatcher job's app context and read their settings per batch, so
an admin's change applies to the next batch without a restart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from unionhub.identity.models import Member
from unionhub.identity.numbers import mask_mobile
from unionhub.notify import clock
from unionhub.notify.models import BindingStatus, NotifyBinding
from unionhub.notify.settings import read
from unionhub.notify.types import (
    INBOX,
    ChannelSpec,
    Failed,
    Fallback,
    OutboxItem,
    QuotaExhausted,
    RetryLater,
    SendResult,
    Sent,
    Unknown,
)

log = logging.getLogger(__name__)


def backoff(attempts: int, base: float = 30.0, cap: float = 3600.0) -> float:
    """30 s, 60 s, 120 s … after the 1st, 2nd, 3rd … failed attempt."""
    return min(cap, base * 2 ** max(0, attempts - 1))


def absolute(url: str | None, base: str | None = None) -> str | None:
    """A link members can open outside the site; None when no public URL is configured."""
    if not url or url.startswith(("http://", "https://")):
        return url or None
    base = (str(read("public_url") or "") if base is None else base).rstrip("/")
    return f"{base}{url}" if base else None


def _bindings(channel: str) -> Any:
    def resolve(session: Session, member_ids: Sequence[int]) -> Mapping[int, str]:
        return dict(session.execute(select(NotifyBinding.member_id, NotifyBinding.address).where(
            NotifyBinding.channel == channel, NotifyBinding.status == BindingStatus.ACTIVE,
            NotifyBinding.member_id.in_(list(member_ids)))).all())
    return resolve


def resolve_mobile(session: Session, member_ids: Sequence[int]) -> Mapping[int, str]:
    return {mid: mobile for mid, mobile in session.execute(
        select(Member.id, Member.mobile).where(Member.id.in_(list(member_ids)))) if mobile}


_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(size: int) -> ThreadPoolExecutor:
    """One pool of request threads per size and process (starting threads per batch costs
    more than the requests on a fast network)."""
    with _pools_lock:
        pool = _pools.get(size)
        if pool is None:
            pool = _pools[size] = ThreadPoolExecutor(max_workers=size,
                                                     thread_name_prefix="notify-wechat")
        return pool


# --- WeChat --------------------------------------------------------------------------------


def _mark_bindings(member_ids: set[int], status: str) -> None:
    if not member_ids:
        return
    with current_app.extensions["db"].engine.begin() as conn:
        conn.execute(update(NotifyBinding).where(
            NotifyBinding.channel == "wechat", NotifyBinding.member_id.in_(member_ids),
        ).values(status=status, updated_at=clock.now()))


def send_wechat(items: Sequence[OutboxItem]) -> list[SendResult | None]:
    from unionhub.notify.wechat import (
        BAD_OPENID,
        BUSY,
        NOT_FOLLOWING,
        QUOTA,
        TOKEN_ERRORS,
        WeChatError,
        WeChatTransportError,
        client_for,
        mask_openid,
    )

    appid, secret = str(read("wechat_appid") or ""), str(read("wechat_secret") or "")
    if not appid or not secret:
        return [Fallback("未配置微信公众号") for _ in items]
    parallel = max(1, int(read("wechat_parallel") or 1))
    client = client_for(current_app._get_current_object(),  # type: ignore[attr-defined]
                        str(read("wechat_base_url")), appid, secret,
                        timeout=float(read("wechat_timeout") or 10), max_connections=parallel)
    public_url = str(read("public_url") or "")  # read here: the pool threads have no app
    quota_hit = threading.Event()
    unfollowed: set[int] = set()
    invalid: set[int] = set()

    def one(item: OutboxItem) -> SendResult | None:
        if quota_hit.is_set():
            return None
        if not item.address:
            return Fallback("未绑定微信")
        msg = item.message
        if not msg.wechat_template_id:
            return Fallback("该通知没有微信模板")
        try:
            msgid = client.send_template(item.address, msg.wechat_template_id,
                                         msg.wechat_fields, absolute(msg.url, public_url))
        except WeChatError as exc:
            code = exc.errcode
            if code == NOT_FOLLOWING:
                unfollowed.add(item.member_id)
                return Fallback("未关注公众号 (43004)")
            if code == BAD_OPENID:
                invalid.add(item.member_id)
                log.warning("wechat 40003 for openid %s", mask_openid(item.address))
                return Fallback("openid 无效 (40003)")
            if code == QUOTA:
                quota_hit.set()
                return QuotaExhausted("微信模板消息当日配额已用完 (45009)")
            if code == BUSY:
                return RetryLater("微信系统繁忙 (-1)", backoff(item.attempts))
            if code in TOKEN_ERRORS:
                return RetryLater(f"access_token 无效 ({code})", backoff(item.attempts))
            return Failed(f"微信错误 {code}: {exc.errmsg[:80]}")
        except WeChatTransportError as exc:
            if exc.maybe_sent:
                return Unknown(f"微信无应答: {exc}")
            return RetryLater(f"微信连接失败: {exc}", backoff(item.attempts))
        return Sent(msgid or None)

    if parallel == 1 or len(items) == 1:
        results = [one(i) for i in items]
    else:
        results = list(_pool(parallel).map(one, items))
    _mark_bindings(unfollowed, BindingStatus.UNFOLLOWED)
    _mark_bindings(invalid, BindingStatus.INVALID)
    return results


# --- SMS -----------------------------------------------------------------------------------


def send_sms(items: Sequence[OutboxItem]) -> list[SendResult | None]:
    from unionhub.notify.sms import HttpSmsProvider, SmsError

    url = str(read("sms_url") or "")
    if not url:
        return [Failed("未配置短信接口") for _ in items]
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    http = app.extensions.get("notify_sms_http")
    if http is None:
        http = app.extensions["notify_sms_http"] = httpx.Client(timeout=10.0)
    provider = HttpSmsProvider(url, str(read("sms_key") or ""), str(read("sms_sign") or ""),
                               http)
    results: list[SendResult | None] = []
    for item in items:
        if not item.address:
            results.append(Failed("无手机号"))
            continue
        text = item.message.sms_text
        link = absolute(item.message.url)
        if link and not item.message.sms:
            text = f"{text} {link}"
        try:
            results.append(Sent(provider.send(item.address, text) or None))
        except SmsError as exc:
            if exc.quota:
                until = (clock.now() + timedelta(seconds=exc.retry_after)
                         if exc.retry_after else None)
                results.append(QuotaExhausted(f"短信配额: {exc.reason}", until))
                break
            if exc.permanent:
                log.info("sms to %s refused: %s", mask_mobile(item.address), exc.reason)
                results.append(Failed(f"短信被拒绝: {exc.reason}"))
            elif exc.maybe_sent:
                results.append(Unknown(f"短信接口无应答: {exc.reason}"))
            else:
                results.append(RetryLater(f"短信接口错误: {exc.reason}",
                                          backoff(item.attempts)))
    return results + [None] * (len(items) - len(results))


# --- e-mail --------------------------------------------------------------------------------


def send_email(items: Sequence[OutboxItem]) -> list[SendResult | None]:
    from unionhub.notify.mail import SmtpConfig, send_batch

    host = str(read("smtp_host") or "")
    if not host:
        return [Failed("未配置邮件服务器") for _ in items]
    cfg = SmtpConfig(host=host, port=int(read("smtp_port") or 25),
                     security=str(read("smtp_security") or "none"),
                     user=str(read("smtp_user") or ""), password=str(read("smtp_password") or ""),
                     sender=str(read("smtp_from") or ""))
    texts = []
    for item in items:
        m = item.message
        body = m.email_body or m.body
        link = absolute(m.url)
        if link:
            body = f"{body}\n\n{link}"
        texts.append((m.email_subject or m.title, body))
    return send_batch(cfg, items, texts)


CORE_CHANNELS = [
    ChannelSpec(INBOX, "站内消息"),
    ChannelSpec("wechat", "微信", sender=send_wechat, resolve=_bindings("wechat"),
                fallback="sms"),
    ChannelSpec("sms", "短信", sender=send_sms, resolve=resolve_mobile),
    ChannelSpec("email", "电子邮件", sender=send_email, resolve=_bindings("email"),
                batch_size=50),
]
