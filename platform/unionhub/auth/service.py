"""Sign-in by card number, mobile, ID number or username, with throttling.

Every failure gives the same message, whether the identifier is unknown, the card was
replaced, the password is wrong or not yet set, so sign-in reveals nothing about who exists.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import literal_column, select
from sqlalchemy.orm import Session, contains_eager

from unionhub.audit import service as audit
from unionhub.db import utcnow
from unionhub.identity import service as identity
from unionhub.identity.models import (
    Account,
    CardStatus,
    JingkaCard,
    LoginThrottle,
    Member,
    MemberStatus,
)
from unionhub.identity.numbers import normalize_digits
from unionhub.security.passwords import hash_password, needs_rehash, verify_password

GENERIC_FAILURE = "账号或密码错误"


class AuthError(Exception):
    def __init__(self, message: str = GENERIC_FAILURE) -> None:
        super().__init__(message)
        self.message = message


# Built once: sign-in is a hot path and statement construction is not free.
_ACTIVE_ACCOUNT = (
    select(Account).join(Account.member).options(contains_eager(Account.member))
    .where(Member.status == MemberStatus.ACTIVE)
)
# Only the active card signs in: a lost, replaced or closed number does not. The status is
# written into the SQL, not bound: SQLite re-prepares a statement on every execution when a
# bound value could decide the use of a partial index (the one-active-card index), which
# cost ~0.3 ms per sign-in.
_BY_ACTIVE_CARD = _ACTIVE_ACCOUNT.join(JingkaCard, JingkaCard.member_id == Member.id).where(
    JingkaCard.status == literal_column(f"'{CardStatus.ACTIVE.value}'"))


def find_account(session: Session, identifier: str) -> Account | None:
    """Resolve what the user typed to the account of an active member (or an officer's
    username): one indexed query per candidate kind, decided by the input's shape."""
    raw = identifier.strip()
    kinds = identity.identifier_kinds(raw)
    if not kinds:
        return session.scalar(select(Account).where(Account.username == raw))
    digits = normalize_digits(raw).upper()
    for kind in kinds:
        if kind == "mobile":
            # A mobile shared by several members cannot identify one of them.
            found = session.scalars(_ACTIVE_ACCOUNT.where(Member.mobile == digits).limit(2)).all()
            account = found[0] if len(found) == 1 else None
        elif kind == "id":
            account = session.scalar(
                _ACTIVE_ACCOUNT.where(Member.id_number_hash == identity.id_hash(digits)))
        else:
            account = session.scalar(
                _BY_ACTIVE_CARD.where(JingkaCard.number_hash == identity.card_hash(digits)))
        if account is not None:
            return account
    return None


def _throttle(session: Session, identifier: str) -> LoginThrottle:
    key = identity.cipher().lookup_hash(normalize_digits(identifier.strip()).lower(), "login")
    row = session.get(LoginThrottle, key)
    if row is None:
        row = LoginThrottle(key_hash=key, failures=0, window_start=utcnow())
        session.add(row)
    return row


def authenticate(session: Session, identifier: str, password: str) -> Account:
    cfg = current_app.config
    now = utcnow()
    throttle = _throttle(session, identifier)
    if throttle.locked_until and throttle.locked_until > now:
        minutes = int((throttle.locked_until - now).total_seconds() // 60) + 1
        raise AuthError(f"尝试次数过多，请 {minutes} 分钟后再试")
    account = find_account(session, identifier)
    ok = verify_password(account.password_hash if account else None, password)
    if not ok or account is None or not account.is_active:
        if now - throttle.window_start > timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"]):
            throttle.failures, throttle.window_start = 0, now
        throttle.failures += 1
        if throttle.failures >= cfg["LOGIN_MAX_FAILURES"]:
            throttle.locked_until = now + timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
            throttle.failures = 0
        audit.record("auth.login_failed", target_type="account",
                     target_id=account.id if account else None, session=session,
                     details={"locked": bool(throttle.locked_until
                                             and throttle.locked_until > now)})
        session.commit()
        raise AuthError()
    throttle.failures, throttle.locked_until = 0, None
    if needs_rehash(account.password_hash or ""):
        account.password_hash = hash_password(password)
    account.last_login_at = now
    audit.record("auth.login", target_type="account", target_id=account.id, actor=account,
                 session=session)
    session.commit()
    return account


def set_password(session: Session, account: Account, password: str) -> None:
    account.password_hash = hash_password(password)
    account.must_change_password = False
    account.session_version += 1  # signs out every other session
    audit.record("auth.password_set", target_type="account", target_id=account.id,
                 actor=account, session=session)
