"""WeChat's event push: signature check, delivery receipts, follow/unfollow.

Only the plain-text mode is handled (the account's 消息加解密方式 set to 明文模式); the
signature (SHA-1 over the sorted token, timestamp and nonce) proves the push came from
WeChat. Receipts are matched to outbox rows by MsgID; one that matches nothing yet is kept
in ``notify_receipt`` for the dispatcher and the recovery step.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from flask import Request, Response, abort
from sqlalchemy import update
from sqlalchemy.orm import Session

from unionhub import db
from unionhub.notify import clock
from unionhub.notify.models import BindingStatus, NotifyBinding, NotifyOutbox, NotifyReceipt
from unionhub.notify.settings import read

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024


def signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def verified(req: Request) -> bool:
    token = str(read("wechat_token") or "")
    if not token:
        return False
    expected = signature(token, req.args.get("timestamp", ""), req.args.get("nonce", ""))
    return hmac.compare_digest(expected, req.args.get("signature", ""))


def parse(body: bytes) -> dict[str, str]:
    """The flat XML WeChat posts; documents with a DOCTYPE are refused (entity tricks)."""
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise ValueError("DOCTYPE not allowed")
    root = ET.fromstring(body)
    return {child.tag: (child.text or "").strip() for child in root}


def record_receipt(session: Session, msgid: str, status: str, openid: str | None,
                   at: datetime) -> bool:
    """Put the receipt on its outbox row; keep it aside when no row has that msgid yet.
    Returns whether a row matched."""
    from unionhub.notify.service import dialect_insert

    matched = session.execute(update(NotifyOutbox).where(NotifyOutbox.msgid == msgid)
                              .values(receipt=status[:64], receipt_at=at)
                              .execution_options(synchronize_session=False)).rowcount
    if not matched:
        session.execute(dialect_insert(session, NotifyReceipt).values(
            msgid=msgid, openid=openid, status=status[:64], received_at=at,
        ).on_conflict_do_nothing(index_elements=["msgid"]))
    return bool(matched)


def _follow(session: Session, openid: str, status: str) -> None:
    session.execute(update(NotifyBinding).where(
        NotifyBinding.channel == "wechat", NotifyBinding.address == openid,
    ).values(status=status, updated_at=clock.now()))


def handle(req: Request) -> Any:
    if not verified(req):
        abort(403)
    if req.method == "GET":  # URL verification when the push URL is configured
        return Response(req.args.get("echostr", ""), mimetype="text/plain")
    if (req.content_length or 0) > MAX_BODY:
        abort(413)
    try:
        event = parse(req.get_data(cache=False)[:MAX_BODY])
    except (ET.ParseError, ValueError):
        abort(400)
    kind = event.get("Event", "").upper()
    openid = event.get("FromUserName") or None
    s = db.session()
    if kind == "TEMPLATESENDJOBFINISH" and event.get("MsgID"):
        try:
            at = datetime.fromtimestamp(int(event.get("CreateTime", "")), UTC)
        except ValueError:
            at = clock.now()
        record_receipt(s, event["MsgID"], event.get("Status", ""), openid, at)
    elif kind == "UNSUBSCRIBE" and openid:
        _follow(s, openid, BindingStatus.UNFOLLOWED)
    elif kind == "SUBSCRIBE" and openid:
        _follow(s, openid, BindingStatus.ACTIVE)
    s.commit()
    return Response("success", mimetype="text/plain")
