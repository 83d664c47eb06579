"""ISBN checking: ISBN-10 and ISBN-13 in their usual spellings, stored as 13 digits."""

from __future__ import annotations

import pytest

from unionhub_library.catalogue.isbn import (
    IsbnError,
    is_valid_isbn,
    isbn10_check_digit,
    isbn13_check_digit,
    normalise_isbn,
    to_isbn10,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("9787020002207", "9787020002207"),
    ("978-7-02-000220-7", "9787020002207"),
    ("ISBN 978 7 02 000220 7", "9787020002207"),
    ("ISBN-13：978-7-02-000220-7", "9787020002207"),
    ("7-02-000220-X", "9787020002207"),  # ISBN-10 with X converted
    ("702000220x", "9787020002207"),
    ("0-306-40615-2", "9780306406157"),
    ("979-10-90636-07-1", "9791090636071"),
])
def test_valid(text: str, expected: str) -> None:
    assert normalise_isbn(text) == expected
    assert is_valid_isbn(text)


@pytest.mark.parametrize(("text", "why"), [
    ("978-7-02-000220-8", "校验位错误：最后一位应为 7"),
    ("7-02-000220-5", "校验位错误：最后一位应为 X"),
    ("12345", "应为 10 位或 13 位（现有 5 位）"),
    ("977-7-02-000220-7", "应以 978 或 979 开头"),
    ("97870200022O7", "不允许的字符"),
    ("70200X2207", "不允许的字符"),
    ("", "不能为空"),
])
def test_invalid_with_reason(text: str, why: str) -> None:
    with pytest.raises(IsbnError) as err:
        normalise_isbn(text)
    assert why in str(err.value)
    assert not is_valid_isbn(text)


def test_check_digits_and_back_to_isbn10() -> None:
    assert isbn13_check_digit("978030640615") == "7"
    assert isbn10_check_digit("030640615") == "2"
    assert to_isbn10("9787020002207") == "702000220X"
    assert to_isbn10("9791090636071") is None
