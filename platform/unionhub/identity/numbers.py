"""Chinese identity numbers: resident ID, Jingka (京卡) card number and mobile number.

Pure functions, no Flask. Every ``validate_*`` function normalises its input first and returns
the canonical form that should be stored / hashed; on failure it raises :class:`InvalidNumber`
whose ``reason`` is a short message in Simplified Chinese, suitable for showing next to the form
field. The raw input is never put into the exception (it is personal information and exceptions
end up in logs).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone
from operator import mul

__all__ = [
    "DEFAULT_JINGKA_BINS",
    "InvalidNumber",
    "id_birth_date",
    "id_sex",
    "luhn_check_digit",
    "make_card_number",
    "make_id_number",
    "mask_card_number",
    "mask_id_number",
    "mask_mobile",
    "mask_name",
    "normalize_card_number",
    "normalize_digits",
    "normalize_id_number",
    "validate_card_number",
    "validate_id_number",
    "validate_mobile",
]

#: BINs (first six digits) of Bank of Beijing UnionPay debit cards issued as 京卡.
DEFAULT_JINGKA_BINS: tuple[str, ...] = ("621468", "623111", "602969", "621420")

_DIGITS = frozenset("0123456789")

# Birth dates in ID numbers are Beijing civil dates; China has a single zone without DST, so a
# fixed offset is exact and avoids depending on the system tz database.
_CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

# Full-width ASCII variants (U+FF01..U+FF5E, e.g. "１２３", "Ｘ", "＋") map to ASCII by a fixed
# offset. Chinese IMEs often produce these in number fields.
_FULLWIDTH_TO_ASCII = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
# Separators people type inside numbers: hyphen-minus and the Unicode dashes / minus sign.
_SEPARATORS = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"

# ISO 7064 MOD 11-2 weights for the 17 body digits of a resident ID: 2^(17-i) mod 11.
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))

_CARD_LENGTHS = range(16, 20)

# Compound (two-character) surnames kept whole by mask_name, e.g. 欧阳娜娜 -> 欧阳**.
_COMPOUND_SURNAMES_TEXT = """
欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 司空 夏侯 令狐 轩辕
端木 独孤 南宫 西门 呼延 澹台 万俟 闻人 钟离 百里 东郭 公冶 太史 申屠 赫连 拓跋
"""
_COMPOUND_SURNAMES = frozenset(_COMPOUND_SURNAMES_TEXT.split())


class InvalidNumber(ValueError):
    """A number failed validation.

    ``field`` names the form field ("id_number", "card_number", "mobile"), ``reason`` is a short
    user-facing message in Simplified Chinese; ``str(exc)`` is the reason.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason

    def __reduce__(self) -> tuple[type[InvalidNumber], tuple[str, str]]:
        # The default reduce would call __init__ with only ``args`` (the reason).
        return (type(self), (self.field, self.reason))

    def __repr__(self) -> str:
        return f"InvalidNumber(field={self.field!r}, reason={self.reason!r})"


def _is_ascii_digits(s: str) -> bool:
    # str.isdigit() also accepts e.g. Arabic-Indic digits and superscripts, which int() or
    # storage would then treat inconsistently.
    return bool(s) and _DIGITS.issuperset(s)


def normalize_digits(s: str) -> str:
    """Convert full-width characters to ASCII and drop all whitespace and hyphens.

    Whitespace includes the ideographic space U+3000. Case is left unchanged.
    """
    if s.isascii() and s.isalnum():
        return s  # the common case, and the hot path of a large import
    s = s.translate(_FULLWIDTH_TO_ASCII)
    s = "".join(s.split())
    for sep in _SEPARATORS:
        s = s.replace(sep, "")
    return s


# --------------------------------------------------------------------------- resident ID


def normalize_id_number(s: str) -> str:
    """Normalise a resident ID number (see :func:`normalize_digits`) and upper-case the ``x``."""
    return normalize_digits(s).upper()


def _id_check_char(body: str) -> str:
    """ISO 7064 MOD 11-2 check character for the 17-digit body (10 is written ``X``)."""
    total = sum(map(mul, map(int, body), _ID_WEIGHTS))
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


def _china_today() -> date:
    return datetime.now(_CHINA_TZ).date()


def validate_id_number(s: str, *, today: date | None = None) -> str:
    """Validate an 18-character resident ID number and return its normalised form.

    Checks the format, the MOD 11-2 check character and that digits 7-14 are a real date between
    1900-01-01 and ``today`` (default: the current date in China). The 6-digit region code is
    deliberately *not* checked: codes are retired and re-used over time (e.g. 110115, Beijing
    Daxing), so any list would wrongly reject real people.
    """
    field = "id_number"
    if not isinstance(s, str):
        raise InvalidNumber(field, "请输入身份证号")
    n = normalize_id_number(s)
    if not n:
        raise InvalidNumber(field, "请输入身份证号")
    if len(n) != 18:
        raise InvalidNumber(field, "身份证号应为18位")
    body, check = n[:17], n[17]
    if not _is_ascii_digits(body) or not (check in _DIGITS or check == "X"):
        raise InvalidNumber(field, "身份证号格式错误")
    if _id_check_char(body) != check:
        raise InvalidNumber(field, "校验位错误")
    try:
        birth = date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    except ValueError:
        raise InvalidNumber(field, "出生日期无效") from None
    if birth.year < 1900:
        raise InvalidNumber(field, "出生日期无效")
    if birth > (today if today is not None else _china_today()):
        raise InvalidNumber(field, "出生日期不能晚于今天")
    return n


def id_birth_date(id_number: str) -> date:
    """Birth date encoded in a resident ID (validates it first, raising :class:`InvalidNumber`)."""
    n = validate_id_number(id_number)
    return date(int(n[6:10]), int(n[10:12]), int(n[12:14]))


def id_sex(id_number: str) -> str:
    """``"M"`` or ``"F"``: the 17th digit is odd for men, even for women (validates first)."""
    n = validate_id_number(id_number)
    return "M" if int(n[16]) % 2 else "F"


def make_id_number(region: str, birth: date, seq: int) -> str:
    """Build a resident ID with a correct check character (demo data, tests, benchmarks).

    ``region`` is any 6 digits, ``seq`` (0..999) becomes digits 15-17 (odd = male).
    Raises ``ValueError`` on bad arguments.
    """
    if not (len(region) == 6 and _is_ascii_digits(region)):
        raise ValueError("region must be 6 ASCII digits")
    if not 0 <= seq <= 999:
        raise ValueError("seq must be in 0..999")
    if birth.year < 1900:
        raise ValueError("birth year must be >= 1900")
    body = f"{region}{birth.year:04d}{birth.month:02d}{birth.day:02d}{seq:03d}"
    return body + _id_check_char(body)


# --------------------------------------------------------------------------- bank card


def normalize_card_number(s: str) -> str:
    """Normalise a card number (see :func:`normalize_digits`)."""
    return normalize_digits(s)


def _luhn_sum(digits: str, double_first_from_right: bool) -> int:
    total = 0
    double = double_first_from_right
    for c in reversed(digits):
        d = int(c)
        if double:
            d *= 2
            if d > 9:
                d -= 9
        total += d
        double = not double
    return total


def luhn_check_digit(partial: str) -> str:
    """The Luhn check digit to append to ``partial`` (ASCII digits, without the check digit)."""
    if not _is_ascii_digits(partial):
        raise ValueError("partial must be a non-empty string of ASCII digits")
    return str((10 - _luhn_sum(partial, True) % 10) % 10)


def validate_card_number(s: str, bins: Iterable[str] | None = DEFAULT_JINGKA_BINS) -> str:
    """Validate a Jingka card number and return it normalised (digits only).

    16-19 digits with a valid Luhn check digit. If ``bins`` is not None the number must start
    with one of them (``bins=None`` accepts any issuer; an empty ``bins`` accepts none).
    """
    field = "card_number"
    if not isinstance(s, str):
        raise InvalidNumber(field, "请输入卡号")
    n = normalize_card_number(s)
    if not n:
        raise InvalidNumber(field, "请输入卡号")
    if not _is_ascii_digits(n):
        raise InvalidNumber(field, "卡号只能包含数字")
    if len(n) not in _CARD_LENGTHS:
        raise InvalidNumber(field, "卡号应为16至19位数字")
    if _luhn_sum(n, False) % 10 != 0:
        raise InvalidNumber(field, "卡号校验位错误")
    if bins is not None:
        if isinstance(bins, str):  # a lone BIN, not an iterable of one-character "BINs"
            bins = (bins,)
        prefixes = tuple(b.strip() for b in bins)
        if not (prefixes and n.startswith(prefixes)):
            raise InvalidNumber(field, "卡BIN不在允许范围内，请使用京卡")
    return n


def make_card_number(bin: str, account: int, length: int = 19) -> str:
    """Build a Luhn-valid card number: ``bin`` + zero-padded ``account`` + check digit.

    Raises ``ValueError`` if the BIN is not digits, ``length`` is outside 16..19 or ``account``
    does not fit in the remaining digits.
    """
    if not _is_ascii_digits(bin):
        raise ValueError("bin must be a non-empty string of ASCII digits")
    if length not in _CARD_LENGTHS:
        raise ValueError("length must be in 16..19")
    width = length - len(bin) - 1
    if width < 1:
        raise ValueError("bin is too long for the requested length")
    if not 0 <= account < 10**width:
        raise ValueError(f"account must be in 0..{10**width - 1} for this bin and length")
    partial = f"{bin}{account:0{width}d}"
    return partial + luhn_check_digit(partial)


# --------------------------------------------------------------------------- mobile


def _parse_mobile(s: object) -> str | None:
    if not isinstance(s, str):
        return None
    n = normalize_digits(s)
    if n.startswith("+86") and len(n) == 14:
        n = n[3:]
    elif n.startswith("86") and len(n) == 13:
        n = n[2:]
    if len(n) == 11 and n[0] == "1" and _is_ascii_digits(n):
        return n
    return None


def validate_mobile(s: str) -> str:
    """Validate a mainland mobile number and return its 11 digits.

    Accepts spaces/hyphens, full-width digits and a leading ``+86`` or ``86``.
    """
    n = _parse_mobile(s)
    if n is None:
        if not isinstance(s, str) or not normalize_digits(s):
            raise InvalidNumber("mobile", "请输入手机号")
        raise InvalidNumber("mobile", "手机号应为以1开头的11位数字")
    return n


# --------------------------------------------------------------------------- masking
#
# Display masking for personal information (PIPL). These never raise and never return the raw
# input: anything that does not look like the expected kind of number gets a fixed mask.

_MASKED_ID = "*" * 18
_MASKED_CARD = "**** **** **** ****"
_MASKED_MOBILE = "*" * 11


def mask_id_number(id_number: str | None) -> str:
    """``"110105199001011234"`` -> ``"1101**********1234"`` (first 4, last 4, length 18)."""
    if not isinstance(id_number, str):
        return _MASKED_ID
    n = normalize_id_number(id_number)
    if len(n) != 18 or not _is_ascii_digits(n[:17]) or not (n[17] in _DIGITS or n[17] == "X"):
        return _MASKED_ID
    return n[:4] + "*" * 10 + n[-4:]


def mask_card_number(card_number: str | None) -> str:
    """``"6214681234567891234"`` -> ``"6214 **** **** 1234"``, whatever the card length."""
    if not isinstance(card_number, str):
        return _MASKED_CARD
    n = normalize_card_number(card_number)
    if len(n) not in _CARD_LENGTHS or not _is_ascii_digits(n):
        return _MASKED_CARD
    return f"{n[:4]} **** **** {n[-4:]}"


def mask_mobile(mobile: str | None) -> str:
    """``"13812341234"`` -> ``"138****1234"``."""
    n = _parse_mobile(mobile)
    if n is None:
        return _MASKED_MOBILE
    return n[:3] + "****" + n[-4:]


def mask_name(name: str | None) -> str:
    """Keep the surname, star the rest: ``"张三"`` -> ``"张*"``, ``"欧阳娜娜"`` -> ``"欧阳**"``.

    The surname is the first character, or a known two-character compound surname when the name
    has at least three characters. A one-character name or anything unusable becomes ``"*"``.
    """
    if not isinstance(name, str):
        return "*"
    n = name.strip()
    if len(n) <= 1:
        return "*"
    keep = 2 if len(n) >= 3 and n[:2] in _COMPOUND_SURNAMES else 1
    return n[:keep] + "*" * (len(n) - keep)
