"""ISBN checking: ISBN-10 and ISBN-13, with or without hyphens and spaces, stored as ISBN-13.

An ISBN-10 is converted by prefixing ``978`` and recomputing the check digit; only the
``978`` prefix has ISBN-10 equivalents, so :func:`to_isbn10` refuses ``979`` numbers.
"""

from __future__ import annotations

import re

from unionhub.i18n import _

_SEPARATORS = re.compile(r"[\s\-‐‑–—_]+")
_PREFIX = re.compile(r"^ISBN(?:-1[03])?[:：]?", re.IGNORECASE)


class IsbnError(ValueError):
    """The text is not a valid ISBN; ``str(e)`` says why (for the user)."""


def isbn13_check_digit(first12: str) -> str:
    """The check digit of an ISBN-13 from its first 12 digits (weights 1, 3, 1, 3 …)."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def isbn10_check_digit(first9: str) -> str:
    """The check digit of an ISBN-10 from its first 9 digits (``X`` stands for 10)."""
    total = sum(int(d) * (10 - i) for i, d in enumerate(first9))
    value = (11 - total % 11) % 11
    return "X" if value == 10 else str(value)


def _compact(text: str) -> str:
    return _SEPARATORS.sub("", _PREFIX.sub("", text.strip())).upper()


def normalise_isbn(text: str) -> str:
    """``text`` as 13 digits without hyphens, or :class:`IsbnError` naming the problem.

    Accepts ``978-7-02-000220-7``, ``ISBN 7020002207``, ``7-02-000220-X`` …
    """
    raw = text.strip()
    digits = _compact(raw)
    if not digits:
        raise IsbnError(_("ISBN 不能为空"))
    if len(digits) == 10:
        if not (digits[:9].isdigit() and (digits[9].isdigit() or digits[9] == "X")):
            raise IsbnError(_("ISBN「%(isbn)s」含有不允许的字符（ISBN-10 只能是数字，"
                              "最后一位可为 X）", isbn=raw))
        expected = isbn10_check_digit(digits[:9])
        if digits[9] != expected:
            raise IsbnError(_("ISBN「%(isbn)s」校验位错误：最后一位应为 %(digit)s",
                              isbn=raw, digit=expected))
        first12 = "978" + digits[:9]
        return first12 + isbn13_check_digit(first12)
    if len(digits) == 13:
        if not digits.isdigit():
            raise IsbnError(_("ISBN「%(isbn)s」含有不允许的字符（ISBN-13 只能是数字）",
                              isbn=raw))
        if digits[:3] not in ("978", "979"):
            raise IsbnError(_("ISBN「%(isbn)s」应以 978 或 979 开头", isbn=raw))
        expected = isbn13_check_digit(digits[:12])
        if digits[12] != expected:
            raise IsbnError(_("ISBN「%(isbn)s」校验位错误：最后一位应为 %(digit)s",
                              isbn=raw, digit=expected))
        return digits
    raise IsbnError(_("ISBN「%(isbn)s」应为 10 位或 13 位（现有 %(n)s 位）",
                      isbn=raw, n=len(digits)))


def is_valid_isbn(text: str) -> bool:
    try:
        normalise_isbn(text)
    except IsbnError:
        return False
    return True


def to_isbn10(isbn13: str) -> str | None:
    """The ISBN-10 form of a checked ISBN-13, or None for a ``979`` number."""
    if not isbn13.startswith("978") or len(isbn13) != 13:
        return None
    return isbn13[3:12] + isbn10_check_digit(isbn13[3:12])

