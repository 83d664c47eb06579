"""Offset pagination: ``?page=`` is clamped to 1 … MAX_PAGE, so a huge or odd value shows a
page (empty past the end) instead of an offset the database cannot hold (a 500)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.helpers import login
from unionhub.identity.models import Account
from unionhub.web.pagination import MAX_PAGE, page_arg, paginate


@pytest.mark.parametrize(("raw", "page"), [
    (None, 1), ("", 1), ("2", 2), (" 3 ", 3), ("0", 1), ("-5", 1), ("abc", 1), ("²", 1),
    ("1e3", 1), (str(MAX_PAGE), MAX_PAGE), (str(MAX_PAGE + 1), MAX_PAGE),
    ("99999999999999999999", MAX_PAGE), ("9" * 500, MAX_PAGE),
])
def test_page_arg_is_clamped(raw: str | None, page: int) -> None:
    assert page_arg(raw) == page


def test_paginate_with_a_huge_page_is_an_empty_last_page(app, world) -> None:
    with app.test_request_context("/?page=99999999999999999999"):
        page = paginate(select(Account).order_by(Account.id), per_page=5)
    assert page.page == MAX_PAGE and page.items == [] and page.total > 0
    with app.test_request_context("/?page=²"):
        page = paginate(select(Account).order_by(Account.id), per_page=5)
    assert page.page == 1 and len(page.items) == 5


def test_a_page_with_a_huge_page_number_is_served(client, world) -> None:
    login(client, "admin")
    for url in ("/admin/audit?page=99999999999999999999", "/admin/roles?page=²"):
        assert client.get(url).status_code == 200, url
