"""Password hashing with argon2id (slow by design; tests use cheaper parameters)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

_DEFAULT = PasswordHasher()
_FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
MIN_LENGTH = 8


def _hasher() -> PasswordHasher:
    return _FAST if current_app.config.get("FAST_PASSWORD_HASH") else _DEFAULT


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if not stored:
        # Spend the same time as a real check so a missing password is not observable.
        _hasher().hash(password)
        return False
    try:
        return _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher().check_needs_rehash(stored)


def password_problem(password: str, *, identifiers: tuple[str, ...] = ()) -> str | None:
    """A reason the new password is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 位"
    if password.isdigit() or password.isalpha():
        return "密码需同时包含字母和数字"
    if any(i and i in password for i in identifiers):
        return "密码不能包含卡号、证件号或手机号"
    return None
