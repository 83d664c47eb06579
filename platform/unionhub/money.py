"""Money on :class:`~decimal.Decimal`: 元 with two places (fen), ROUND_HALF_UP, never float.

Amounts arrive as text (files, forms, JSON) or as whole 元 (``int``); a ``float`` is refused
because it has already lost the exact value (``0.1 + 0.2``). Nothing here truncates with
``int()``: every rounding is an explicit :data:`ROUND_HALF_UP` to the fen.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import BigInteger, func, type_coerce
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

Money = Decimal
"""Type alias: a :class:`Decimal` that holds 元 (normally quantized to the fen)."""

FEN = Decimal("0.01")
ZERO = Decimal("0.00")

_STRIP = str.maketrans({",": None, "，": None, " ": None, "\u3000": None, "_": None})


def to_decimal(value: str | int | Decimal, *, field: str = "amount") -> Decimal:
    """Parse ``value`` exactly (no rounding).

    Accepts ``Decimal``, ``int`` and strings such as ``"12,345.60"``, ``" 100 "``,
    ``"1,000元"``. Raises ``TypeError`` for ``float``/``bool``/other types and ``ValueError``
    (naming ``field``) for text that is not a finite number.
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool | float):
        raise TypeError(f"{field}: {type(value).__name__} is not accepted for money, use str/int")
    elif isinstance(value, int):
        return Decimal(value)
    elif isinstance(value, str):
        text = value.translate(_STRIP)
        if text.endswith("元"):
            text = text[:-1]
        if not text:
            raise ValueError(f"{field}: empty amount")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{field}: {value!r} is not an amount") from None
    else:
        raise TypeError(f"{field}: {type(value).__name__} is not accepted for money, use str/int")
    if not result.is_finite():
        raise ValueError(f"{field}: {value!r} is not a finite amount")
    return result


def quantize(value: Decimal) -> Decimal:
    """Round to the fen, half up (``2.665`` → ``2.67``, ``-2.665`` → ``-2.67``)."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def money(value: str | int | Decimal, *, field: str = "amount") -> Decimal:
    """Parse (see :func:`to_decimal`) and round to the fen, half up."""
    return quantize(to_decimal(value, field=field))


def non_negative_money(value: str | int | Decimal, *, field: str = "amount") -> Decimal:
    """Like :func:`money` but refuses amounts below zero."""
    result = money(value, field=field)
    if result < 0:
        raise ValueError(f"{field}: must not be negative, got {result}")
    return result


def total(values: Iterable[Decimal]) -> Decimal:
    """Exact sum of amounts (``0.00`` for none); round the result yourself if needed."""
    result = ZERO
    for value in values:
        result += value
    return result


def cap(amount: Decimal, *limits: Decimal | None) -> Decimal:
    """``amount`` limited by every limit that is not ``None`` (``None`` = unlimited)."""
    for limit in limits:
        if limit is not None and limit < amount:
            amount = limit
    return amount


def floor_zero(amount: Decimal) -> Decimal:
    """``max(amount, 0)``, keeping a ``Decimal`` zero with two places."""
    return amount if amount > 0 else ZERO


def fmt(amount: Decimal) -> str:
    """``12345.6`` → ``"12,345.60"`` (rounded half up first; ``format`` alone rounds half even)."""
    return f"{quantize(amount):,}"


def fmt_exact(amount: Decimal) -> str:
    """Show an intermediate value without hiding digits: two places at least, more if present."""
    if amount == amount.quantize(FEN):
        return fmt(amount)
    return f"{amount.normalize():,f}"


def fmt_ratio(ratio: Decimal) -> str:
    """``Decimal("0.5")`` → ``"50%"``, ``Decimal("0.755")`` → ``"75.5%"``."""
    return f"{(ratio * 100).normalize():f}%"


FEN_PER_YUAN = Decimal(100)


class Fen(TypeDecorator[Decimal]):
    """``Decimal`` 元 in Python, whole fen (BIGINT) in the database."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | int | None, dialect: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be Decimal, not float")
        fen = Decimal(value) * FEN_PER_YUAN
        if fen != fen.to_integral_value():
            raise ValueError(f"amount {value} has more than two decimals")
        return int(fen)

    def process_result_value(self, value: int | None, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return quantize(Decimal(value) / FEN_PER_YUAN)


def money_sum(expr: Any) -> ColumnElement[Decimal]:
    """``SUM`` of a fen-valued expression (a :class:`Fen` column, or a ``CASE`` over one), typed
    :class:`Fen` so that every database returns ``Decimal`` 元; 0.00 when there are no rows.

    Untyped, ``SUM(bigint)`` is ``NUMERIC`` on PostgreSQL and ``INTEGER`` on SQLite: plain fen
    as ``Decimal`` on one and ``int`` on the other, easy to mistake for 元.
    """
    return func.coalesce(func.sum(type_coerce(expr, Fen)), Decimal("0.00"))
