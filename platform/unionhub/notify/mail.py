"""E-mail over SMTP (``smtplib``), one connection per batch."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from unionhub.notify.types import (
    Failed,
    OutboxItem,
    RetryLater,
    SendResult,
    Sent,
    Unknown,
)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str  # "ssl" | "starttls" | "none"
    user: str
    password: str
    sender: str
    timeout: float = 20.0


def _connect(cfg: SmtpConfig) -> smtplib.SMTP:
    if cfg.security == "ssl":
        conn: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout,
                                              context=ssl.create_default_context())
    else:
        conn = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        if cfg.security == "starttls":
            conn.starttls(context=ssl.create_default_context())
    if cfg.user:
        conn.login(cfg.user, cfg.password)
    return conn


def compose(cfg: SmtpConfig, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = cfg.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain=cfg.sender.rpartition("@")[2] or None)
    msg.set_content(body)
    return msg


def send_batch(cfg: SmtpConfig, items: Sequence[OutboxItem], texts: Sequence[tuple[str, str]]
               ) -> list[SendResult | None]:
    """``texts[i]`` is (subject, body) of ``items[i]``; items without an address fail."""
    results: list[SendResult | None] = [None] * len(items)
    try:
        conn = _connect(cfg)
    except (OSError, smtplib.SMTPException) as exc:
        reason = f"SMTP 连接失败: {exc.__class__.__name__}"
        return [RetryLater(reason, 300) for _ in items]
    try:
        for i, (item, (subject, body)) in enumerate(zip(items, texts, strict=True)):
            if not item.address:
                results[i] = Failed("未设置电子邮箱")
                continue
            msg = compose(cfg, item.address, subject, body)
            try:
                conn.send_message(msg)
                results[i] = Sent(str(msg["Message-ID"]).strip("<>")[:64])
            except smtplib.SMTPRecipientsRefused as exc:
                results[i] = Failed(f"收件人被拒绝: {_code(exc)}")
            except smtplib.SMTPResponseException as exc:
                results[i] = (RetryLater(f"SMTP {exc.smtp_code}", 300) if exc.smtp_code < 500
                              else Failed(f"SMTP {exc.smtp_code}"))
            except (OSError, smtplib.SMTPServerDisconnected) as exc:
                # The server may have taken the message before the connection broke.
                results[i] = Unknown(f"SMTP 连接中断: {exc.__class__.__name__}")
                break
    finally:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()
    return results


def _code(exc: smtplib.SMTPRecipientsRefused) -> str:
    codes = [str(v[0]) for v in exc.recipients.values()]
    return ",".join(codes) or "?"
