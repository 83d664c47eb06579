"""Cell parsers for the formats government files use (dates, amounts)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from unionhub.imports.types import RowError

_DATE_SEP = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_EXCEL_EPOCH = date(1899, 12, 30)
CENT = Decimal("0.01")


def parse_date(column: str, text: str) -> date | None:
    """``2026-03-01``, ``2026/3/1``, ``2026年3月1日``, ``20260301``, an Excel serial number
    or an ISO date written by the XLSX reader. Empty → None."""
    text = text.strip()
    if not text:
        return None
    try:
        if len(text) == 8 and text.isdigit():
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        m = _DATE_SEP.match(text)
        if m:
            return date(int(m[1]), int(m[2]), int(m[3]))
        if text.isdigit() and 20000 < int(text) < 80000:  # Excel serial date stored as text
            return _EXCEL_EPOCH + timedelta(days=int(text))
        return datetime.fromisoformat(text).date()
    except ValueError:
        pass
    raise RowError(column, f"「{text}」不是有效日期（如 2026-03-01、2026/3/1、20260301）")


def parse_amount(column: str, text: str, *, allow_negative: bool = False) -> Decimal | None:
    """元 with up to two decimals (thousands separators and a leading ¥ allowed)."""
    text = text.strip().replace(",", "").replace("，", "").lstrip("¥￥")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RowError(column, f"「{text}」不是有效金额") from None
    if value != value.quantize(CENT, rounding=ROUND_HALF_UP):
        raise RowError(column, f"「{text}」最多两位小数")
    if value < 0 and not allow_negative:
        raise RowError(column, "金额不能为负")
    return value.quantize(CENT)


def parse_choice(column: str, text: str, choices: dict[str, str], default: str | None = None
                 ) -> str | None:
    text = text.strip()
    if not text:
        return default
    if text not in choices:
        raise RowError(column, f"「{text}」应为 {'/'.join(choices)} 之一")
    return choices[text]
