"""Removing personal data from a question and its answer before publication.

:func:`redact` replaces, in this order (so that a longer number is never half-taken by a
shorter pattern): e-mail addresses, resident ID numbers (18 digits with an optional final X,
or the old 15 digits), Jingka and bank card numbers (16–19 digits, spaces or hyphens between
groups allowed), mobile numbers (11 digits from 13–19, an optional +86), landline numbers
(with an area code, or 7–8 digits right after a word like 电话/座机), and the asker's name —
the full name becomes "张某" (the surname and 某, as published cases write it) and, for names
of three or more characters, the given name alone is replaced too.

The result is a proposal: the officer reads and edits it on the publish form. Shorter
numbers (amounts, years, the 12351 hotline) are left alone on purpose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from unionhub.identity.numbers import mask_name

ID_MARK = "〔身份证号〕"
CARD_MARK = "〔卡号〕"
MOBILE_MARK = "〔手机号〕"
PHONE_MARK = "〔电话〕"
EMAIL_MARK = "〔邮箱〕"

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_ID18 = re.compile(r"(?<![0-9])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
                   r"\d{3}[0-9Xx](?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9])[1-9]\d{5}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}"
                   r"(?![0-9])")
_CARD = re.compile(r"(?<![0-9])\d(?:[ \-]?\d){15,18}(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])(?:(?:\+|00)?86[ \-]?)?1[3-9]\d(?:[ \-]?\d{4}){2}(?![0-9])")
_PHONE_AREA = re.compile(r"(?<![0-9])(?:\(0\d{2,3}\)|（0\d{2,3}）|0\d{2,3}[ \-]?)"
                         r"[2-9]\d{6,7}(?:[ \-]?(?:转|ext\.?)\s?\d{1,5})?(?![0-9])")
_PHONE_WORD = re.compile(r"((?:电话|座机|联系方式|联系|号码|tel|Tel|TEL)[:：是为\s]{0,3})"
                         r"[2-9]\d{6,7}(?![0-9])")
#: Digits written with full-width characters are read like ASCII ones.
_FULLWIDTH = str.maketrans("０１２３４５６７８９Ｘｘ－", "0123456789Xx-")


@dataclass(frozen=True)
class Redaction:
    text: str
    #: How many things were replaced, by kind (shown to the officer).
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def surname_mark(name: str) -> str:
    """"张伟" → "张某", "欧阳娜娜" → "欧阳某" (the surname as :func:`mask_name` keeps it)."""
    masked = mask_name(name)
    surname = masked.rstrip("*")
    return f"{surname}某" if surname else "某职工"


def redact_text(text: str | None, names: tuple[str, ...] = ()) -> Redaction:
    """``text`` with personal data replaced (see the module docstring); ``names`` are the
    asker's names (full name first)."""
    out = (text or "").translate(_FULLWIDTH)
    counts: dict[str, int] = {}

    def sub(kind: str, pattern: re.Pattern[str], repl: str) -> None:
        nonlocal out
        out, n = pattern.subn(repl, out)
        if n:
            counts[kind] = counts.get(kind, 0) + n

    sub("email", _EMAIL, EMAIL_MARK)
    sub("id", _ID18, ID_MARK)
    sub("id", _ID15, ID_MARK)
    sub("card", _CARD, CARD_MARK)
    sub("mobile", _MOBILE, MOBILE_MARK)
    sub("phone", _PHONE_AREA, PHONE_MARK)
    sub("phone", _PHONE_WORD, r"\g<1>" + PHONE_MARK)
    for name in names:
        name = (name or "").strip()
        if len(name) < 2:
            continue
        mark = surname_mark(name)
        sub("name", re.compile(re.escape(name)), mark)
        given = name[len(mark) - 1:]
        if len(name) >= 3 and len(given) >= 2:
            sub("name", re.compile(re.escape(given)), mark)
    return Redaction(out, counts)


def redact(text: str | None, asker_name: str | None = None) -> str:
    """Just the redacted text (see :func:`redact_text`)."""
    return redact_text(text, (asker_name,) if asker_name else ()).text


__all__ = ["CARD_MARK", "EMAIL_MARK", "ID_MARK", "MOBILE_MARK", "PHONE_MARK", "Redaction",
           "redact", "redact_text", "surname_mark"]
