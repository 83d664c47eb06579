"""Tests for unionhub.identity.numbers (pure functions, no Flask)."""

from __future__ import annotations

import pickle
from datetime import date, timedelta

import pytest

from unionhub.identity.numbers import (
    DEFAULT_JINGKA_BINS,
    InvalidNumber,
    id_birth_date,
    id_sex,
    luhn_check_digit,
    make_card_number,
    make_id_number,
    mask_card_number,
    mask_id_number,
    mask_mobile,
    mask_name,
    normalize_digits,
    normalize_id_number,
    validate_card_number,
    validate_id_number,
    validate_mobile,
)

# The well-known sample ID from GB 11643 material; its check character is X.
SAMPLE_ID = "11010519491231002X"


def _flip_last_digit(s: str) -> str:
    return s[:-1] + str((int(s[-1]) + 1) % 10)


# --------------------------------------------------------------------------- normalize_digits


def test_normalize_digits_fullwidth_and_whitespace():
    assert normalize_digits("１２３ ４５\u3000６-７\t８\n９０ｘＸ") == "1234567890xX"


def test_normalize_digits_unicode_dashes():
    assert normalize_digits("138\u2013 0013\u20118000") == "13800138000"


# --------------------------------------------------------------------------- resident ID


def test_make_id_number_matches_known_sample():
    assert make_id_number("110105", date(1949, 12, 31), 2) == SAMPLE_ID


def test_validate_id_number_sample():
    assert validate_id_number(SAMPLE_ID) == SAMPLE_ID


def test_validate_id_number_1990_daxing_region_accepted():
    # 110115 (Beijing Daxing) is not in older region tables; we must not check regions.
    id_number = make_id_number("110115", date(1990, 5, 17), 123)
    assert id_number.startswith("11011519900517123")
    assert validate_id_number(id_number) == id_number


def test_validate_id_number_lowercase_x():
    assert validate_id_number(SAMPLE_ID.lower()) == SAMPLE_ID


def test_validate_id_number_fullwidth_digits():
    fullwidth = "１１０１０５１９４９１２３１００２ｘ"
    assert validate_id_number(fullwidth) == SAMPLE_ID


def test_validate_id_number_inner_spaces_and_hyphens():
    assert validate_id_number(" 110105 19491231 002x ") == SAMPLE_ID
    assert validate_id_number("110105-1949\u30001231-002X") == SAMPLE_ID


def test_normalize_id_number_uppercases_x():
    assert normalize_id_number("11010519491231002x") == SAMPLE_ID


@pytest.mark.parametrize("check", ["0", "1", "9"])
def test_validate_id_number_wrong_check_char(check):
    with pytest.raises(InvalidNumber) as exc:
        validate_id_number(SAMPLE_ID[:17] + check)
    assert exc.value.field == "id_number"
    assert exc.value.reason == "校验位错误"
    assert str(exc.value) == "校验位错误"


def test_validate_id_number_wrong_check_digit_generated():
    good = make_id_number("110101", date(1985, 1, 1), 10)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(InvalidNumber, match="校验位错误"):
        validate_id_number(bad)


def test_validate_id_number_impossible_date():
    # Correct check char, but 1990-02-30 does not exist.
    body = "110105" + "19900230" + "123"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    with pytest.raises(InvalidNumber) as exc:
        validate_id_number(body + check)
    assert exc.value.reason == "出生日期无效"


def test_validate_id_number_year_before_1900():
    body = "110105" + "18991231" + "123"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    with pytest.raises(InvalidNumber, match="出生日期无效"):
        validate_id_number(body + check)


def test_validate_id_number_future_date_rejected():
    future = make_id_number("110105", date(2999, 1, 1), 1)
    with pytest.raises(InvalidNumber) as exc:
        validate_id_number(future)
    assert exc.value.reason == "出生日期不能晚于今天"


def test_validate_id_number_today_boundary():
    today = date(2024, 5, 1)
    born_today = make_id_number("110105", today, 1)
    born_tomorrow = make_id_number("110105", today + timedelta(days=1), 1)
    assert validate_id_number(born_today, today=today) == born_today
    with pytest.raises(InvalidNumber, match="出生日期不能晚于今天"):
        validate_id_number(born_tomorrow, today=today)


def test_validate_id_number_17_chars_rejected():
    with pytest.raises(InvalidNumber) as exc:
        validate_id_number(SAMPLE_ID[:17])
    assert exc.value.field == "id_number"
    assert exc.value.reason == "身份证号应为18位"


@pytest.mark.parametrize(
    "bad",
    [
        "1101051949123100XX",  # X only allowed as the check char
        "11010519491231002A",
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",  # Arabic-Indic digits: isdigit() but not ASCII
    ],
)
def test_validate_id_number_bad_format(bad):
    with pytest.raises(InvalidNumber, match="身份证号格式错误"):
        validate_id_number(bad)


@pytest.mark.parametrize("empty", ["", "   ", None])
def test_validate_id_number_empty(empty):
    with pytest.raises(InvalidNumber, match="请输入身份证号"):
        validate_id_number(empty)


def test_invalid_number_does_not_contain_input_and_pickles():
    with pytest.raises(InvalidNumber) as exc:
        validate_id_number(SAMPLE_ID[:17] + "0")
    assert SAMPLE_ID[:17] not in repr(exc.value)
    copy = pickle.loads(pickle.dumps(exc.value))
    assert (copy.field, copy.reason) == ("id_number", "校验位错误")
    assert isinstance(copy, ValueError)


def test_id_sex_and_birth_date():
    male = make_id_number("110115", date(1990, 5, 17), 123)
    female = make_id_number("110115", date(2001, 2, 28), 124)
    assert id_sex(male) == "M"
    assert id_sex(female) == "F"
    assert id_sex(SAMPLE_ID) == "F"  # 17th digit 2
    assert id_birth_date(male) == date(1990, 5, 17)
    assert id_birth_date(female) == date(2001, 2, 28)
    assert id_birth_date(SAMPLE_ID.lower()) == date(1949, 12, 31)


def test_id_helpers_validate_input():
    with pytest.raises(InvalidNumber):
        id_sex(SAMPLE_ID[:17] + "0")
    with pytest.raises(InvalidNumber):
        id_birth_date("123")


def test_make_id_number_many_are_valid():
    start = date(1950, 1, 1)
    for i in range(0, 1000, 7):
        birth = start + timedelta(days=i * 23)
        id_number = make_id_number("320102", birth, i)
        assert validate_id_number(id_number) == id_number
        assert id_birth_date(id_number) == birth
        assert id_sex(id_number) == ("M" if i % 2 else "F")


@pytest.mark.parametrize(
    ("region", "birth", "seq"),
    [
        ("11010", date(1990, 1, 1), 1),
        ("11010A", date(1990, 1, 1), 1),
        ("110105", date(1990, 1, 1), 1000),
        ("110105", date(1990, 1, 1), -1),
        ("110105", date(1899, 12, 31), 1),
    ],
)
def test_make_id_number_rejects_bad_arguments(region, birth, seq):
    with pytest.raises(ValueError):
        make_id_number(region, birth, seq)


# --------------------------------------------------------------------------- Jingka card


def test_luhn_check_digit_known_value():
    # Textbook example: 7992739871 -> check digit 3.
    assert luhn_check_digit("7992739871") == "3"
    assert luhn_check_digit("0") == "0"


def test_luhn_check_digit_rejects_non_digits():
    with pytest.raises(ValueError):
        luhn_check_digit("12a")
    with pytest.raises(ValueError):
        luhn_check_digit("")


@pytest.mark.parametrize("length", [16, 17, 18, 19])
@pytest.mark.parametrize("bin_", DEFAULT_JINGKA_BINS)
def test_generated_cards_are_valid(bin_, length):
    card = make_card_number(bin_, 4242, length)
    assert len(card) == length
    assert card.startswith(bin_)
    assert validate_card_number(card) == card


def test_make_card_number_layout():
    card = make_card_number("621468", 12345, 16)
    assert card[:15] == "621468000012345"
    assert card == card[:15] + luhn_check_digit(card[:15])


def test_validate_card_number_normalises():
    card = make_card_number("621468", 1, 19)
    spaced = " ".join(card[i : i + 4] for i in range(0, 19, 4))
    fullwidth = card.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    assert validate_card_number(spaced) == card
    assert validate_card_number(fullwidth) == card
    assert validate_card_number(card[:6] + "-" + card[6:]) == card


def test_validate_card_number_one_wrong_digit_rejected():
    card = make_card_number("623111", 987654321, 19)
    for pos in (6, 10, 18):
        wrong = card[:pos] + str((int(card[pos]) + 1) % 10) + card[pos + 1 :]
        with pytest.raises(InvalidNumber) as exc:
            validate_card_number(wrong)
        assert exc.value.field == "card_number"
        assert exc.value.reason == "卡号校验位错误"


@pytest.mark.parametrize("length", [15, 20])
def test_validate_card_number_bad_length(length):
    partial = "621468" + "1" * (length - 7)
    card = partial + luhn_check_digit(partial)  # Luhn-valid, so only the length is wrong
    assert len(card) == length
    with pytest.raises(InvalidNumber, match="卡号应为16至19位数字"):
        validate_card_number(card)


def test_validate_card_number_non_digit():
    with pytest.raises(InvalidNumber, match="卡号只能包含数字"):
        validate_card_number("6214 68AB CDEF 1234")


def test_validate_card_number_bin_not_allowed():
    other = make_card_number("622202", 55, 19)  # an ICBC BIN
    with pytest.raises(InvalidNumber) as exc:
        validate_card_number(other)
    assert "BIN" in exc.value.reason
    assert "不在允许范围内" in exc.value.reason


def test_validate_card_number_bins_none_accepts_any():
    other = make_card_number("622202", 55, 19)
    assert validate_card_number(other, bins=None) == other


def test_validate_card_number_custom_bins_iterable():
    card = make_card_number("622202", 55, 16)
    assert validate_card_number(card, bins=(b for b in ["622202"])) == card
    with pytest.raises(InvalidNumber):
        validate_card_number(card, bins=[])


def test_validate_card_number_single_bin_string():
    card = make_card_number("622202", 55, 16)
    assert validate_card_number(card, bins="622202") == card
    with pytest.raises(InvalidNumber):
        validate_card_number(card, bins="621468")


@pytest.mark.parametrize(
    ("bin_", "account", "length"),
    [
        ("62146A", 1, 19),
        ("621468", 1, 15),
        ("621468", 1, 20),
        ("621468", 10**12, 19),  # 12 account digits available
        ("621468", -1, 19),
    ],
)
def test_make_card_number_rejects_bad_arguments(bin_, account, length):
    with pytest.raises(ValueError):
        make_card_number(bin_, account, length)


# --------------------------------------------------------------------------- mobile


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 138 0013 8000",
        "+8613800138000",
        "8613800138000",
        "86 138-0013-8000",
        "１３８００１３８０００",
        "＋８６\u3000１３８００１３８０００",
    ],
)
def test_validate_mobile_variants(raw):
    assert validate_mobile(raw) == "13800138000"


@pytest.mark.parametrize(
    "bad",
    [
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "23800138000",  # must start with 1
        "+8523800138000",
        "1380013800a",
        "+87 13800138000",
    ],
)
def test_validate_mobile_rejects(bad):
    with pytest.raises(InvalidNumber) as exc:
        validate_mobile(bad)
    assert exc.value.field == "mobile"
    assert exc.value.reason == "手机号应为以1开头的11位数字"


def test_validate_mobile_empty():
    with pytest.raises(InvalidNumber, match="请输入手机号"):
        validate_mobile("  ")


# --------------------------------------------------------------------------- masking


def test_mask_id_number():
    assert mask_id_number(SAMPLE_ID) == "1101**********002X"
    assert mask_id_number("11010519491231002x") == "1101**********002X"
    assert len(mask_id_number(SAMPLE_ID)) == 18


def test_mask_card_number_always_19_char_display():
    card19 = make_card_number("621468", 1234, 19)
    card16 = make_card_number("621468", 1234, 16)
    assert mask_card_number(card19) == f"6214 **** **** {card19[-4:]}"
    assert mask_card_number(card16) == f"6214 **** **** {card16[-4:]}"
    assert mask_card_number("6214 6800 0000 0012 345") == "6214 **** **** 2345"
    assert len(mask_card_number(card16)) == 19


def test_mask_mobile():
    assert mask_mobile("13812341234") == "138****1234"
    assert mask_mobile("+86 138-1234-1234") == "138****1234"


def test_mask_name():
    assert mask_name("张三") == "张*"
    assert mask_name("张三丰") == "张**"
    assert mask_name("欧阳娜娜") == "欧阳**"
    assert mask_name("欧阳娜") == "欧阳*"
    assert mask_name(" 李四 ") == "李*"


GARBAGE = [
    "secret-garbage-value",
    "12345",
    "1234567890123456789012",
    "13812341234X",
    "",
    None,
    12345678901,
]


@pytest.mark.parametrize("garbage", [*GARBAGE, "1101051949123100", "1101051949123100XX"])
def test_mask_id_number_never_echoes_garbage(garbage):
    assert mask_id_number(garbage) == "*" * 18


@pytest.mark.parametrize("garbage", [*GARBAGE, "621468000000123", "6214 68AB CDEF 1234"])
def test_mask_card_number_never_echoes_garbage(garbage):
    assert mask_card_number(garbage) == "**** **** **** ****"


@pytest.mark.parametrize("garbage", [*GARBAGE, "23812341234", "1381234123", SAMPLE_ID])
def test_mask_mobile_never_echoes_garbage(garbage):
    assert mask_mobile(garbage) == "*" * 11


def test_mask_name_garbage():
    assert mask_name("") == "*"
    assert mask_name("张") == "*"
    assert mask_name(None) == "*"
    assert mask_name(42) == "*"
