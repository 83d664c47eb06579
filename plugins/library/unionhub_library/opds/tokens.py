"""App tokens for e-reader apps (OPDS clients speak only HTTP Basic).

A member creates a named token on the web; the app is given the token's **prefix** as the
user name and the **token** as the password. Only the token's SHA-256 is stored (a fast hash
is right: the token has ~129 bits of entropy, unlike a password), so it is shown exactly once.
The member's own password is never accepted here: the user name is looked up among token
prefixes only, never among card numbers, mobiles or usernames.

Tokens are lower-case letters and digits without look-alikes (no ``i l o 0 1``), shown in
groups of four; what an app sends is normalised (case, spaces and hyphens ignored) because
members type it on e-reader keyboards.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import Session

from unionhub.audit import service as audit
from unionhub.db import utcnow
from unionhub.i18n import _
from unionhub.identity.models import Account

from ..models import LibraryAppToken

ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
TOKEN_LENGTH = 26  # 26 × log2(31) ≈ 129 bits
PREFIX_LENGTH = 8
NAME_MAX = 60
#: Active tokens one account may hold (an app per device is plenty).
MAX_ACTIVE = 10
#: ``last_used_at`` is written at most this often per token (not on every feed request).
TOUCH_EVERY = timedelta(minutes=1)


class TokenError(ValueError):
    """A token cannot be created; ``str(e)`` is a message for the member."""


@dataclass(frozen=True)
class IssuedToken:
    """What the member is shown once after creating a token."""

    row: LibraryAppToken
    #: The user name to type in the app (the token's prefix).
    username: str
    #: The password to type in the app (the token, in groups of four).
    password: str


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalise(text: str) -> str:
    """What a member typed, as stored: lower case, no spaces or hyphens."""
    return "".join(ch for ch in text.lower() if ch not in " -\t")


def digest(token: str) -> str:
    return hashlib.sha256(normalise(token).encode()).hexdigest()


def grouped(token: str) -> str:
    """``abcd-efgh-…``: easier to read off a screen and type (the hyphens are ignored)."""
    return "-".join(token[i:i + 4] for i in range(0, len(token), 4))


def clean_name(raw: str) -> str:
    """The token's name as entered, or :class:`TokenError` naming the problem."""
    name = " ".join(raw.split())
    if not name:
        raise TokenError(_("请填写名称，例如“Kindle”或“手机阅读App”，以便日后区分和撤销"))
    if len(name) > NAME_MAX:
        raise TokenError(_("名称不能超过 %(n)s 个字（现有 %(len)s 个字）", n=NAME_MAX,
                           len=len(name)))
    if any(ord(ch) < 32 for ch in name):
        raise TokenError(_("名称不能包含控制字符"))
    return name


def active_tokens(session: Session, account_id: int) -> list[LibraryAppToken]:
    """The account's tokens that still work, newest first."""
    return list(session.scalars(
        select(LibraryAppToken)
        .where(LibraryAppToken.account_id == account_id, LibraryAppToken.revoked_at.is_(None))
        .order_by(LibraryAppToken.created_at.desc(), LibraryAppToken.id.desc())))


def create(session: Session, account: Account, raw_name: str) -> IssuedToken:
    """Create a token for ``account`` (flushed, not committed) and return it in clear once."""
    name = clean_name(raw_name)
    count = session.scalar(select(func.count()).select_from(LibraryAppToken).where(
        LibraryAppToken.account_id == account.id, LibraryAppToken.revoked_at.is_(None))) or 0
    if count >= MAX_ACTIVE:
        raise TokenError(_("最多可同时保留 %(n)s 个阅读App令牌，请先撤销不再使用的令牌",
                           n=MAX_ACTIVE))
    prefix = _random(PREFIX_LENGTH)
    while session.scalar(select(exists().where(LibraryAppToken.prefix == prefix))):
        prefix = _random(PREFIX_LENGTH)
    token = _random(TOKEN_LENGTH)
    row = LibraryAppToken(account_id=account.id, name=name, prefix=prefix,
                          token_hash=digest(token), created_at=utcnow())
    session.add(row)
    session.flush()
    audit.record("library.app_token_created", target_type="account", target_id=account.id,
                 actor=account, session=session, details={"token": row.id, "name": name})
    return IssuedToken(row, prefix, grouped(token))


def revoke(session: Session, account: Account, token_id: int) -> bool:
    """Revoke one of ``account``'s own tokens; False when it is not theirs or already revoked."""
    n = session.execute(
        update(LibraryAppToken)
        .where(LibraryAppToken.id == token_id, LibraryAppToken.account_id == account.id,
               LibraryAppToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    ).rowcount  # type: ignore[attr-defined]
    if n:
        audit.record("library.app_token_revoked", target_type="account", target_id=account.id,
                     actor=account, session=session, details={"token": token_id})
    return bool(n)


def resolve(session: Session, username: str, password: str) -> Account | None:
    """The active account a (user name, password) pair from an app belongs to, or None.

    The user name must be a live token's prefix and the password that token (compared in
    constant time). A successful use is recorded at most once per :data:`TOUCH_EVERY`,
    committed at once so that a later failure of the request does not lose it.
    """
    prefix = normalise(username)
    if not prefix or len(prefix) > PREFIX_LENGTH * 2 or len(password) > 200:
        return None
    row = session.scalar(select(LibraryAppToken).where(LibraryAppToken.prefix == prefix))
    if row is None or not hmac.compare_digest(row.token_hash, digest(password)):
        return None
    if row.revoked_at is not None:
        return None
    account = session.get(Account, row.account_id)
    if account is None or not account.is_active:
        return None
    _touch(session, row, utcnow())
    return account


def _touch(session: Session, row: LibraryAppToken, now: datetime) -> None:
    if row.last_used_at is not None and now - row.last_used_at < TOUCH_EVERY:
        return
    session.execute(
        update(LibraryAppToken)
        .where(LibraryAppToken.id == row.id,
               or_(LibraryAppToken.last_used_at.is_(None),
                   LibraryAppToken.last_used_at < now - TOUCH_EVERY))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False))
    session.commit()
