"""Coupon codes: 80 random bits in Crockford base32, plus one check character.

A code is 16 symbols drawn with :mod:`secrets` (32¹⁶ = 2⁸⁰ possibilities, so guessing one is
hopeless) followed by a Luhn mod 32 check symbol over them, stored as 17 upper-case symbols
and shown as ``XXXX-XXXX-XXXX-XXXX-C``. The check symbol catches every single mistyped symbol
and nearly every swap of two neighbours, so the redemption page can say "you mistyped it"
instead of "no such coupon". :func:`normalize` accepts what people type or scanners read:
lower case, spaces, dashes, and the confusables Crockford maps (``O`` → ``0``, ``I``/``L`` →
``1``).
"""

from __future__ import annotations

import secrets
from functools import lru_cache

import segno
from markupsafe import Markup

from unionhub.i18n import _

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 16
LENGTH = RANDOM_LENGTH + 1
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = str.maketrans({" ": None, "-": None, "\u3000": None, "\t": None,
                             "－": None, "—": None, "_": None})


class CodeError(ValueError):
    """Text that cannot be a coupon code; the message says why (shown to the clerk)."""


def _luhn_sum(symbols: str, *, with_check: bool) -> int:
    """The Luhn mod 32 sum: from the right, every second symbol (counting the check symbol
    as the first when present) is doubled and folded back into base 32."""
    n = len(ALPHABET)
    total = 0
    double = not with_check
    for ch in reversed(symbols):
        value = _VALUE[ch] * (2 if double else 1)
        total += value // n + value % n
        double = not double
    return total


def check_symbol(body: str) -> str:
    """The check symbol that makes ``body`` + symbol pass :func:`is_valid`."""
    n = len(ALPHABET)
    return ALPHABET[(n - _luhn_sum(body, with_check=False) % n) % n]


def generate() -> str:
    """A new random code (17 symbols, stored form)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return body + check_symbol(body)


def is_valid(code: str) -> bool:
    """True for a stored-form code whose check symbol matches."""
    return (len(code) == LENGTH and all(ch in _VALUE for ch in code)
            and _luhn_sum(code, with_check=True) % len(ALPHABET) == 0)


def normalize(text: str) -> str:
    """The stored form of ``text`` as typed or scanned; :class:`CodeError` names the problem
    (wrong length, a symbol that is not in the alphabet, or a check symbol that does not
    match — a typo, as opposed to a well-formed code that does not exist)."""
    compact = (text or "").translate(_SEPARATORS).upper().translate(_CONFUSABLE)
    if not compact:
        raise CodeError(_("请输入券码"))
    bad = sorted({ch for ch in compact if ch not in _VALUE})
    if bad:
        raise CodeError(_("券码含有无效字符：%(chars)s", chars=" ".join(bad)))
    if len(compact) != LENGTH:
        raise CodeError(_("券码应为 %(n)s 位（不含短横线），现为 %(got)s 位",
                          n=LENGTH, got=len(compact)))
    if not is_valid(compact):
        raise CodeError(_("券码校验不符，可能输错了某一位，请核对后重新输入"))
    return compact


def display(code: str) -> str:
    """``XXXX-XXXX-XXXX-XXXX-C``: groups of four, then the check symbol."""
    groups = [code[i:i + 4] for i in range(0, RANDOM_LENGTH, 4)]
    if code[RANDOM_LENGTH:]:
        groups.append(code[RANDOM_LENGTH:])
    return "-".join(groups)


@lru_cache(maxsize=4096)
def qr_svg(code: str, *, scale: int = 8, title: str = "") -> Markup:
    """The code as an inline SVG QR code (medium error correction; dark on white so phone
    screens at low brightness still scan). Encodes the stored form, which QR's
    alphanumeric mode packs densely. Cached: choosing the best mask costs about 10 ms, and a
    member opens the same coupon again at the counter."""
    qr = segno.make_qr(code, error="m")
    svg = qr.svg_inline(scale=scale, border=2, dark="#111", light="#fff",
                        title=title or None, svgclass="coupon-qr", omitsize=True)
    return Markup(svg)  # segno escapes the title; the code uses our own alphabet only
