from decimal import Decimal

import pytest

from unionhub.money import (
    ZERO,
    cap,
    floor_zero,
    fmt,
    fmt_exact,
    fmt_ratio,
    money,
    non_negative_money,
    quantize,
    to_decimal,
    total,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12,345.605", Decimal("12345.61")),
        (" 1,000元 ", Decimal("1000.00")),
        ("1，000.5", Decimal("1000.50")),
        (3, Decimal("3.00")),
        (Decimal("0.125"), Decimal("0.13")),
        ("-0.125", Decimal("-0.13")),
        ("0.004", Decimal("0.00")),
    ],
)
def test_money_parses_and_rounds_half_up(raw: object, expected: Decimal) -> None:
    result = money(raw)  # type: ignore[arg-type]
    assert result == expected
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize("raw", [0.1, 1.0, True])
def test_money_refuses_float_and_bool(raw: object) -> None:
    with pytest.raises(TypeError, match=r"fee: \w+ is not accepted for money"):
        money(raw, field="fee")  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["abc", "", "NaN", "Infinity", "1.2.3"])
def test_money_rejects_non_amounts_naming_the_field(raw: str) -> None:
    with pytest.raises(ValueError, match=r"^out_of_pocket: "):
        money(raw, field="out_of_pocket")


def test_to_decimal_is_exact() -> None:
    assert to_decimal("0.505") == Decimal("0.505")
    assert to_decimal(Decimal("1.23456")) == Decimal("1.23456")


def test_non_negative_money() -> None:
    assert non_negative_money("0") == ZERO
    with pytest.raises(ValueError, match="total_amount: must not be negative"):
        non_negative_money("-0.01", field="total_amount")


def test_quantize_is_half_up_not_half_even() -> None:
    assert quantize(Decimal("2.665")) == Decimal("2.67")
    assert quantize(Decimal("2.675")) == Decimal("2.68")
    assert quantize(Decimal("-2.665")) == Decimal("-2.67")
    assert quantize(Decimal("2.66499")) == Decimal("2.66")


def test_total_cap_floor() -> None:
    assert total([]) == ZERO
    assert total([Decimal("0.10"), Decimal("0.20")]) == Decimal("0.30")
    assert cap(Decimal("500"), None, Decimal("300"), Decimal("400")) == Decimal("300")
    assert cap(Decimal("500"), None) == Decimal("500")
    assert floor_zero(Decimal("-3")) == ZERO
    assert floor_zero(Decimal("3")) == Decimal("3")


def test_formatting() -> None:
    assert fmt(Decimal("12345.6")) == "12,345.60"
    assert fmt(Decimal("2.665")) == "2.67"  # format() alone would round half even to 2.66
    assert fmt_exact(Decimal("5672.805")) == "5,672.805"
    assert fmt_exact(Decimal("5672.8")) == "5,672.80"
    assert fmt_ratio(Decimal("0.5")) == "50%"
    assert fmt_ratio(Decimal("0.755")) == "75.5%"
    assert fmt_ratio(Decimal("1")) == "100%"
