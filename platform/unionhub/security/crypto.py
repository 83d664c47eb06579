"""Field-level encryption and keyed look-up hashes for personal numbers (ID, card, mobile).

A database dump alone must not reveal these numbers, so each value is stored twice:

* encrypted with AES-256-GCM (:meth:`FieldCipher.encrypt`) so it can be shown (masked) again;
* as an HMAC-SHA256 keyed hash (:meth:`FieldCipher.lookup_hash`) so rows can be found by
  number (sign-in, duplicate checks) without decrypting every row. A plain SHA-256 would not do:
  an 18-digit ID has so little entropy that it can be brute-forced from the hash.

The two keys are independent, so leaking one does not weaken the other.

Token format (str): ``base64url(version(1 byte) || nonce(12 bytes) || ciphertext+tag)``.
The version byte is also passed to GCM as associated data, so it cannot be altered.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["KEY_BYTES", "DecryptionError", "FieldCipher", "generate_key", "load_key"]

#: Length of every key in bytes (AES-256 / HMAC-SHA256).
KEY_BYTES = 32
HASH_HEX = 32

_VERSION = 1
_VERSION_BYTE = bytes([_VERSION])
_NONCE_BYTES = 12
_TAG_BYTES = 16


class DecryptionError(ValueError):
    """A token could not be decrypted: malformed, tampered with, or encrypted with another key."""


def _check_key(key: object, what: str) -> bytes:
    if not isinstance(key, bytes | bytearray):
        raise ValueError(f"{what} must be bytes, got {type(key).__name__}")
    if len(key) != KEY_BYTES:
        raise ValueError(f"{what} must be {KEY_BYTES} bytes, got {len(key)}")
    return bytes(key)


def _b64decode(s: str) -> bytes:
    """Strict base64url decoding; the ``=`` padding is optional."""
    s = s.strip()
    s += "=" * (-len(s) % 4)
    return base64.b64decode(s.encode("ascii"), altchars=b"-_", validate=True)


class FieldCipher:
    """Encrypts/decrypts field values and computes keyed look-up hashes.

    ``enc_key`` and ``hash_key`` are 32 random bytes each and must differ. ``old_enc_keys`` are
    retired encryption keys still accepted by :meth:`decrypt` (tried after the current one) so
    keys can be rotated and data re-encrypted lazily; :meth:`encrypt` always uses ``enc_key``.
    Instances are immutable and safe to share between threads.
    """

    __slots__ = ("_aeads", "_hmac")

    def __init__(self, enc_key: bytes, hash_key: bytes, old_enc_keys: Sequence[bytes] = ()) -> None:
        enc_key = _check_key(enc_key, "enc_key")
        hash_key = _check_key(hash_key, "hash_key")
        if hmac.compare_digest(enc_key, hash_key):
            raise ValueError("enc_key and hash_key must be different keys")
        old = [_check_key(k, f"old_enc_keys[{i}]") for i, k in enumerate(old_enc_keys)]
        self._aeads = tuple(AESGCM(k) for k in (enc_key, *old))
        # Keying HMAC costs two extra SHA-256 block compressions; do it once and copy the
        # keyed state per call (lookup_hash is on the sign-in path).
        self._hmac = hmac.new(hash_key, digestmod=hashlib.sha256)

    def __repr__(self) -> str:
        return f"<FieldCipher keys={len(self._aeads)}>"

    def encrypt(self, plaintext: str) -> str:
        """Encrypt ``plaintext``; a fresh random nonce makes every token different."""
        if not isinstance(plaintext, str):
            raise TypeError(f"plaintext must be str, got {type(plaintext).__name__}")
        nonce = os.urandom(_NONCE_BYTES)
        ct = self._aeads[0].encrypt(nonce, plaintext.encode("utf-8"), _VERSION_BYTE)
        return base64.urlsafe_b64encode(_VERSION_BYTE + nonce + ct).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Decrypt a token made by :meth:`encrypt` with the current or an old key.

        Raises :class:`DecryptionError` if the token is malformed, was modified, or none of the
        keys fits.
        """
        if not isinstance(token, str):
            raise DecryptionError("token must be a str")
        try:
            raw = _b64decode(token)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise DecryptionError("token is not valid base64url") from None
        if len(raw) < 1 + _NONCE_BYTES + _TAG_BYTES:
            raise DecryptionError("token is too short")
        if raw[0] != _VERSION:
            raise DecryptionError(f"unsupported token version {raw[0]}")
        nonce, ct = raw[1 : 1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES :]
        for aead in self._aeads:
            try:
                data = aead.decrypt(nonce, ct, _VERSION_BYTE)
            except InvalidTag:
                continue
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                raise DecryptionError("decrypted value is not UTF-8") from None
        raise DecryptionError("token was modified or encrypted with an unknown key")

    def lookup_hash(self, value: str, kind: str) -> str:
        """HMAC-SHA256 of ``value``, truncated to 128 bits, as 32 lower-case hex characters.

        Truncation (RFC 2104 §5) halves every look-up index — the member and card indexes are
        the largest in the database and take random inserts — while collisions stay out of
        reach (2^-64 at a billion numbers).

        ``kind`` ("id", "card", "mobile", ...) is part of the MAC input, so the same digits hash
        differently per kind. Pass the *normalised* value (what ``validate_*`` returns), otherwise
        the same number typed differently will not match.
        """
        if not isinstance(value, str):
            raise TypeError(f"value must be str, got {type(value).__name__}")
        if not isinstance(kind, str) or not kind or "\x00" in kind:
            raise ValueError("kind must be a non-empty string without NUL")
        h = self._hmac.copy()
        # kind cannot contain NUL, so the first NUL unambiguously ends it.
        h.update(kind.encode("utf-8") + b"\x00" + value.encode("utf-8"))
        return h.hexdigest()[:HASH_HEX]


def generate_key() -> str:
    """A new random key as URL-safe base64 text (for config / environment variables)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def load_key(s: str, *, name: str = "key") -> bytes:
    """Decode a key made by :func:`generate_key` (padding optional, surrounding blanks ignored).

    Raises ``ValueError`` naming ``name`` and the problem; the key itself is never echoed.
    """
    if isinstance(s, bytes | bytearray):
        try:
            s = bytes(s).decode("ascii")
        except UnicodeDecodeError:
            raise ValueError(f"{name} is not valid URL-safe base64") from None
    if not isinstance(s, str) or not s.strip():
        raise ValueError(f"{name} is missing or empty")
    try:
        key = _b64decode(s)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ValueError(
            f"{name} is not valid URL-safe base64 (generate one with generate_key())"
        ) from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"{name} must decode to {KEY_BYTES} bytes, got {len(key)}")
    return key
