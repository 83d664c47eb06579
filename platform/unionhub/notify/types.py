"""What plugins contribute to the notification service (light: imported at start-up).

A plugin returns :class:`NotificationType` from ``unionhub_notification_types()`` and may add a
delivery channel with :class:`ChannelSpec` from ``unionhub_notification_channels()``. The core's
own channels (inbox, WeChat, SMS, e-mail) come through the same hook.

A channel's ``sender`` receives a batch of :class:`OutboxItem` and returns one result per item,
in order: :class:`Sent`, :class:`RetryLater`, :class:`Failed` (permanent), :class:`Fallback`
(try the channel's fallback channel instead), :class:`QuotaExhausted` (stop the channel until
the next window), :class:`Unknown` (the request may or may not have been delivered: the row
stays "sending" for the recovery step) — or ``None`` for an item it did not attempt (it goes
back to the queue untouched).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

INBOX = "inbox"


@dataclass(frozen=True)
class Message:
    """One notification rendered for every channel. ``wechat_fields`` maps the template's
    keywords (``thing1``, ``time2``…) to values; the WeChat channel cuts them to the platform's
    limits. ``sms`` defaults to the title and the start of the body."""

    title: str
    body: str = ""
    url: str | None = None
    wechat_template_id: str | None = None
    wechat_fields: Mapping[str, str] = field(default_factory=dict)
    sms: str | None = None
    email_subject: str | None = None
    email_body: str | None = None

    @property
    def sms_text(self) -> str:
        if self.sms:
            return self.sms
        body = " ".join(self.body.split())
        text = f"{self.title}：{body}" if body else self.title
        return text if len(text) <= 120 else text[:119] + "…"

    def as_json(self) -> dict[str, Any]:
        return {"title": self.title, "body": self.body, "url": self.url,
                "wechat_template_id": self.wechat_template_id,
                "wechat_fields": dict(self.wechat_fields), "sms": self.sms,
                "email_subject": self.email_subject, "email_body": self.email_body}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Message:
        return cls(**{k: data.get(k) for k in ("title", "body", "url", "wechat_template_id",
                                                "sms", "email_subject", "email_body")
                      if data.get(k) is not None},
                   wechat_fields=dict(data.get("wechat_fields") or {}))


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def _fill(text: str | None, context: Mapping[str, Any]) -> str | None:
    if text is None:
        return None
    return string.Formatter().vformat(text, (), _Blank(context))


@dataclass(frozen=True)
class Template:
    """A declarative renderer: ``str.format`` patterns over the send context (missing keys
    render empty). ``wechat_template_setting`` names the setting that holds the template id
    (ids differ per official account, so they are configuration, not code)."""

    title: str
    body: str = ""
    url: str | None = None
    wechat_template_setting: str | None = None
    wechat_fields: Mapping[str, str] = field(default_factory=dict)
    sms: str | None = None

    def __call__(self, context: Mapping[str, Any]) -> Message:
        template_id = None
        if self.wechat_template_setting:
            from unionhub.settings import service as settings

            try:
                template_id = settings.get(self.wechat_template_setting) or None
            except KeyError:  # the setting is not registered (plugin disabled)
                template_id = None
        return Message(
            title=_fill(self.title, context) or "",
            body=_fill(self.body, context) or "",
            url=_fill(self.url, context) or None,
            wechat_template_id=template_id,
            wechat_fields={k: _fill(v, context) or "" for k, v in self.wechat_fields.items()},
            sms=_fill(self.sms, context) or None,
        )


@dataclass(frozen=True)
class NotificationType:
    """A kind of notification; the service namespaces ``key`` as ``<plugin>.<key>``.

    ``default_channels`` are used for members who chose nothing; ``allowed_channels`` bounds
    what they may choose when ``member_choice`` is true. The inbox is always on. Channel keys
    are the core's (``wechat``, ``sms``, ``email``) or ``<plugin>.<key>`` of a plugin channel
    (a bare key names the declaring plugin's own channel when the core has no such channel).
    ``render(context)`` returns the :class:`Message` (``context`` is JSON-able; it is stored
    with the batch).
    """

    key: str
    label: str
    render: Callable[[Mapping[str, Any]], Message]
    default_channels: tuple[str, ...] = ("wechat",)
    allowed_channels: tuple[str, ...] = ("wechat", "sms", "email")
    member_choice: bool = True
    description: str = ""


@dataclass(frozen=True)
class OutboxItem:
    """What a sender gets for one queued message; ``address`` is the channel's address of the
    member (openid, mobile, e-mail) or None when the member has none."""

    id: int
    batch_id: int
    member_id: int
    channel: str
    type_key: str
    message: Message
    address: str | None
    attempts: int


@dataclass(frozen=True)
class Sent:
    ref: str | None = None  # the provider's message id (WeChat msgid)


@dataclass(frozen=True)
class RetryLater:
    reason: str
    delay: float = 60.0


@dataclass(frozen=True)
class Failed:
    reason: str


@dataclass(frozen=True)
class Fallback:
    reason: str


@dataclass(frozen=True)
class QuotaExhausted:
    reason: str
    until: datetime | None = None  # default: the next day 00:00 Asia/Shanghai


@dataclass(frozen=True)
class Unknown:
    reason: str


SendResult = Sent | RetryLater | Failed | Fallback | QuotaExhausted | Unknown
Sender = Callable[[Sequence[OutboxItem]], Sequence["SendResult | None"]]
Resolver = Callable[[Any, Sequence[int]], Mapping[int, str]]


@dataclass(frozen=True)
class ChannelSpec:
    """A delivery channel. ``resolve(session, member_ids)`` returns each member's address;
    ``sender(items)`` delivers a batch (see the module docstring for results). ``fallback``
    names the channel tried when the sender answers :class:`Fallback`.

    ``on_interrupted`` decides a row left "sending" by a crash with no receipt proving it
    was delivered: ``"fail"`` (at most once: the default; a duplicate costs quota and trust)
    or ``"retry"`` (at least once). ``per_minute``/``per_day`` are default quotas (0 = none);
    the core's channels read theirs from settings. ``sender`` None means the channel is
    written in the sending transaction itself (only the core's inbox).
    """

    key: str
    label: str
    sender: Sender | None = None
    resolve: Resolver | None = None
    fallback: str | None = None
    on_interrupted: Literal["fail", "retry"] = "fail"
    batch_size: int = 100
    per_minute: int = 0
    per_day: int = 0
    max_attempts: int = 5
