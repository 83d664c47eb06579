"""Issuing and checking bearer tokens. A token is 32 random bytes; only its SHA-256 is
stored (a fast hash is right here: the token has full entropy, unlike a password)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, g
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from unionhub.api.models import ApiToken
from unionhub.audit import service as audit
from unionhub.db import utcnow
from unionhub.identity.models import Account

PREFIX = "uh_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: Session, account: Account, device: str) -> tuple[str, ApiToken]:
    token = PREFIX + secrets.token_urlsafe(32)
    days = int(current_app.config.get("API_TOKEN_DAYS", 90))
    row = ApiToken(account_id=account.id, device=device.strip()[:100] or "app",
                   token_hash=_digest(token), prefix=token[:10],
                   expires_at=utcnow() + timedelta(days=days))
    session.add(row)
    session.flush()
    audit.record("auth.token_issued", target_type="account", target_id=account.id,
                 actor=account, session=session, details={"device": row.device})
    return token, row


def resolve(session: Session, token: str) -> Account | None:
    """The account a presented token belongs to, if the token is live; records its use."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    account = row.account
    if not account.is_active:
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
        session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
        session.commit()
    g.api_token_id = row.id
    return account


def revoke(session: Session, account: Account, token_id: int) -> bool:
    n = session.execute(
        update(ApiToken).where(ApiToken.id == token_id, ApiToken.account_id == account.id,
                               ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    ).rowcount  # type: ignore[attr-defined]
    if n:
        audit.record("auth.token_revoked", target_type="account", target_id=account.id,
                     actor=account, session=session, details={"token": token_id})
    return bool(n)
