"""Tests for unionhub.security.crypto (field encryption and look-up hashes)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from unionhub.security.crypto import DecryptionError, FieldCipher, generate_key, load_key

ENC_KEY = bytes(range(32))
HASH_KEY = bytes(range(32, 64))
OTHER_KEY = bytes(range(64, 96))
ID_NUMBER = "11010519491231002X"


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(ENC_KEY, HASH_KEY)


def _raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token)


def _token(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


# --------------------------------------------------------------------------- encryption


@pytest.mark.parametrize("plaintext", [ID_NUMBER, "6214680000000123453", "张三", ""])
def test_round_trip(cipher, plaintext):
    token = cipher.encrypt(plaintext)
    assert isinstance(token, str)
    assert plaintext not in token or plaintext == ""
    assert cipher.decrypt(token) == plaintext


def test_token_format_is_version_nonce_ciphertext(cipher):
    token = cipher.encrypt(ID_NUMBER)
    assert re.fullmatch(r"[A-Za-z0-9_=-]+", token)
    raw = _raw(token)
    assert raw[0] == 1
    # version + 96-bit nonce + ciphertext (same length as plaintext) + 128-bit GCM tag
    assert len(raw) == 1 + 12 + len(ID_NUMBER) + 16
    # Independently decryptable with AESGCM and the version byte as associated data.
    nonce, ct = raw[1:13], raw[13:]
    assert AESGCM(ENC_KEY).decrypt(nonce, ct, b"\x01") == ID_NUMBER.encode()


def test_random_nonce_makes_tokens_differ(cipher):
    tokens = {cipher.encrypt(ID_NUMBER) for _ in range(20)}
    assert len(tokens) == 20
    nonces = {_raw(t)[1:13] for t in tokens}
    assert len(nonces) == 20
    assert {cipher.decrypt(t) for t in tokens} == {ID_NUMBER}


@pytest.mark.parametrize("index", [0, 1, 12, 13, -1])
def test_tampering_raises(cipher, index):
    raw = bytearray(_raw(cipher.encrypt(ID_NUMBER)))
    raw[index] ^= 0x01
    with pytest.raises(DecryptionError):
        cipher.decrypt(_token(bytes(raw)))


def test_truncated_token_raises(cipher):
    raw = _raw(cipher.encrypt(ID_NUMBER))
    for cut in (len(raw) - 1, 29, 5, 0):
        with pytest.raises(DecryptionError):
            cipher.decrypt(_token(raw[:cut]))


@pytest.mark.parametrize("token", ["", "not base64 !!", "AAAA", "é", None, 123])
def test_malformed_token_raises(cipher, token):
    with pytest.raises(DecryptionError):
        cipher.decrypt(token)


def test_decryption_error_is_value_error():
    assert issubclass(DecryptionError, ValueError)


def test_wrong_key_raises(cipher):
    token = cipher.encrypt(ID_NUMBER)
    other = FieldCipher(OTHER_KEY, HASH_KEY)
    with pytest.raises(DecryptionError):
        other.decrypt(token)


def test_key_rotation(cipher):
    old_token = cipher.encrypt(ID_NUMBER)
    rotated = FieldCipher(OTHER_KEY, HASH_KEY, old_enc_keys=[ENC_KEY])
    assert rotated.decrypt(old_token) == ID_NUMBER
    # New tokens use the new key: the old cipher cannot read them, a new-only cipher can.
    new_token = rotated.encrypt(ID_NUMBER)
    with pytest.raises(DecryptionError):
        cipher.decrypt(new_token)
    assert FieldCipher(OTHER_KEY, HASH_KEY).decrypt(new_token) == ID_NUMBER
    # Once the old key is dropped, old tokens are unreadable.
    with pytest.raises(DecryptionError):
        FieldCipher(OTHER_KEY, HASH_KEY).decrypt(old_token)


def test_encrypt_rejects_non_str(cipher):
    with pytest.raises(TypeError):
        cipher.encrypt(b"bytes")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- lookup hash


def test_lookup_hash_is_truncated_hmac_sha256_hex(cipher):
    digest = cipher.lookup_hash(ID_NUMBER, "id")
    assert re.fullmatch(r"[0-9a-f]{32}", digest)
    expected = hmac.new(HASH_KEY, b"id\x00" + ID_NUMBER.encode(), hashlib.sha256).hexdigest()
    assert digest == expected[:32]


def test_lookup_hash_stable_across_calls_and_instances(cipher):
    first = cipher.lookup_hash(ID_NUMBER, "id")
    assert cipher.lookup_hash(ID_NUMBER, "id") == first
    # Same hash key, different encryption key: hashes still match.
    assert FieldCipher(OTHER_KEY, HASH_KEY).lookup_hash(ID_NUMBER, "id") == first


def test_lookup_hash_depends_on_value_and_key(cipher):
    assert cipher.lookup_hash("13800138000", "mobile") != cipher.lookup_hash(
        "13800138001", "mobile"
    )
    other = FieldCipher(ENC_KEY, OTHER_KEY)
    assert other.lookup_hash(ID_NUMBER, "id") != cipher.lookup_hash(ID_NUMBER, "id")


def test_lookup_hash_kind_separated(cipher):
    digits = "6214680000000123453"
    hashes = {cipher.lookup_hash(digits, kind) for kind in ("id", "card", "mobile")}
    assert len(hashes) == 3
    # No ambiguity between where the kind ends and the value begins.
    assert cipher.lookup_hash("d1", "i") != cipher.lookup_hash("1", "id")


def test_lookup_hash_not_plain_sha256(cipher):
    assert cipher.lookup_hash(ID_NUMBER, "id") != hashlib.sha256(ID_NUMBER.encode()).hexdigest()


@pytest.mark.parametrize("kind", ["", "a\x00b"])
def test_lookup_hash_rejects_bad_kind(cipher, kind):
    with pytest.raises(ValueError):
        cipher.lookup_hash(ID_NUMBER, kind)


# --------------------------------------------------------------------------- keys


@pytest.mark.parametrize(
    ("enc_key", "hash_key", "message"),
    [
        (b"short", HASH_KEY, "enc_key must be 32 bytes, got 5"),
        (ENC_KEY, bytes(33), "hash_key must be 32 bytes, got 33"),
        ("x" * 32, HASH_KEY, "enc_key must be bytes"),
        (ENC_KEY, ENC_KEY, "must be different"),
    ],
)
def test_field_cipher_rejects_bad_keys(enc_key, hash_key, message):
    with pytest.raises(ValueError, match=message):
        FieldCipher(enc_key, hash_key)


def test_field_cipher_rejects_bad_old_key():
    with pytest.raises(ValueError, match=r"old_enc_keys\[1\] must be 32 bytes, got 16"):
        FieldCipher(ENC_KEY, HASH_KEY, old_enc_keys=[OTHER_KEY, bytes(16)])


def test_repr_does_not_leak_keys(cipher):
    text = repr(cipher)
    assert ENC_KEY.hex() not in text
    assert base64.urlsafe_b64encode(ENC_KEY).decode() not in text
    assert text == "<FieldCipher keys=1>"


def test_generate_key_and_load_key():
    key_text = generate_key()
    assert isinstance(key_text, str)
    key = load_key(key_text)
    assert isinstance(key, bytes)
    assert len(key) == 32
    assert base64.urlsafe_b64encode(key).decode() == key_text
    assert generate_key() != key_text
    # Padding optional, surrounding whitespace ignored (e.g. from an .env file).
    assert load_key(key_text.rstrip("=")) == key
    assert load_key(f"  {key_text}\n") == key


def test_generated_keys_work_with_cipher():
    cipher = FieldCipher(load_key(generate_key()), load_key(generate_key()))
    assert cipher.decrypt(cipher.encrypt("x")) == "x"


def test_load_key_bad_length_message_does_not_echo_key():
    short = base64.urlsafe_b64encode(os.urandom(16)).decode()
    with pytest.raises(ValueError) as exc:
        load_key(short, name="UNIONHUB_FIELD_KEY")
    message = str(exc.value)
    assert message == "UNIONHUB_FIELD_KEY must decode to 32 bytes, got 16"
    assert short not in message
    assert short.rstrip("=") not in message


def test_load_key_default_name_in_message():
    with pytest.raises(ValueError, match=r"^key must decode to 32 bytes, got 31$"):
        load_key(base64.urlsafe_b64encode(bytes(31)).decode())


def test_load_key_not_base64_message_does_not_echo_key():
    bad = "this is not*base64$$"
    with pytest.raises(ValueError) as exc:
        load_key(bad)
    assert "not valid URL-safe base64" in str(exc.value)
    assert bad not in str(exc.value)
    assert exc.value.__cause__ is None
    assert exc.value.__suppress_context__


@pytest.mark.parametrize("empty", ["", "   ", None])
def test_load_key_missing(empty):
    with pytest.raises(ValueError, match="key is missing or empty"):
        load_key(empty)
