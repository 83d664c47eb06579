"""The library's web reader end to end on a phone-sized viewport.

A demo member searches the catalogue for a book, opens its page and starts reading, moves on
twice with 下一章, makes the text larger and scrolls; then a second browser context (another
device: its own cookies and local storage) signs in as the same member and opens the book
from 我的书架: the reader resumes at the same chapter, scrolled to about the same place, and
says which device read it last. Every page fits the phone's width. Runs against
``unionhub serve`` on demo data (see conftest); the book is read from the demo database;
screenshots go to ``tests/e2e/screenshots/library-<step>.png``.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import SCREENSHOTS, LiveServer
from tests.e2e.test_mutualaid_browser import assert_fits_phone, sign_in

pytestmark = pytest.mark.e2e

NewPage = Callable[..., Page]
Shot = Callable[[Any, str], Path]

# An open-licence, active EPUB of at least four chapters that the member has not started,
# whose title is unique in the catalogue (so the search shows exactly this book).
UNREAD_EPUB = """
SELECT b.id, b.title, json_array_length(json_extract(f.meta, '$.spine')) AS chapters
FROM library_book b
JOIN library_file f ON f.book_id = b.id AND f.format = 'epub'
WHERE b.state = 'active' AND b.licence = 'open'
  AND json_array_length(json_extract(f.meta, '$.spine')) >= 4
  AND NOT EXISTS (SELECT 1 FROM library_progress p
                  WHERE p.book_id = b.id AND p.account_id = :account)
  AND (SELECT count(*) FROM library_book o WHERE o.title = b.title) = 1
ORDER BY b.id
LIMIT 1
"""

PROGRESS = """
SELECT p.position, p."offset", p.device FROM library_progress p
WHERE p.book_id = :book AND p.account_id = :account
"""

ACCOUNT_OF = """
SELECT a.id FROM account a JOIN member m ON m.id = a.member_id WHERE m.mobile = :mobile
"""


@dataclass(frozen=True)
class Book:
    id: int
    title: str
    chapters: int


def unread_book(live_server: LiveServer, mobile: str) -> Book:
    with sqlite3.connect(live_server.log.parent / "unionhub.db") as db:
        account = db.execute(ACCOUNT_OF, {"mobile": mobile}).fetchone()
        assert account, f"no account for the demo member with mobile {mobile}"
        row = db.execute(UNREAD_EPUB, {"account": account[0]}).fetchone()
    assert row, "the demo has no open EPUB of four chapters or more this member has not begun"
    return Book(int(row[0]), str(row[1]), int(row[2]))


def saved_progress(live_server: LiveServer, mobile: str, book_id: int
                   ) -> tuple[int, float, str | None]:
    """What the server keeps of the member's place in the book (Playwright cannot read the
    body of the response to the script's request)."""
    with sqlite3.connect(live_server.log.parent / "unionhub.db") as db:
        account = db.execute(ACCOUNT_OF, {"mobile": mobile}).fetchone()
        row = db.execute(PROGRESS, {"book": book_id, "account": account[0]}).fetchone()
    assert row, "no reading progress saved"
    return int(row[0]), float(row[1]), row[2]


def snap(shot: Shot, page: Page, name: str, what: str) -> None:
    """Check the page fits a phone and take its full-page screenshot from the top."""
    page.evaluate("window.scrollTo(0, 0)")
    assert_fits_phone(page, what)
    shot(page, name)


def reader_shot(page: Page, name: str, what: str) -> None:
    """The reader as the phone shows it (the viewport: its bars are sticky, so a full-page
    picture would draw them in the middle of the text)."""
    assert_fits_phone(page, what)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def chapter_heading(page: Page) -> str:
    return page.locator(".reader-content h1").first.inner_text().strip()


def scroll_fraction(page: Page) -> float:
    return float(page.evaluate(
        "(() => { const m = document.documentElement.scrollHeight - innerHeight;"
        " return m > 0 ? scrollY / m : 0; })()"))


def test_member_reads_on_a_phone_and_resumes_on_another_device(
        new_page: NewPage, live_server: LiveServer, shot: Shot) -> None:
    member = live_server.members[0]
    book = unread_book(live_server, member.mobile)

    # -- 1. search the catalogue and open the book ---------------------------------------
    phone = new_page("phone")
    sign_in(phone, member.card)
    phone.goto("/library/")
    phone.get_by_role("searchbox", name="搜索图书").fill(book.title)
    phone.get_by_role("button", name="搜索", exact=True).click()
    result = phone.get_by_role("link", name=book.title, exact=True).first
    expect(result).to_be_visible()
    snap(shot, phone, "library-1-search", "search results")
    result.click()
    expect(phone.locator("h1", has_text=book.title)).to_be_visible()
    snap(shot, phone, "library-2-book", "book page")

    # -- 2. read: the first chapter, then 下一章 twice -----------------------------------
    phone.locator("#read-button").click()
    expect(phone).to_have_url(re.compile(rf"/library/read/{book.id}/0$"))
    first = chapter_heading(phone)
    reader_shot(phone, "library-3-chapter1", "first chapter")
    phone.locator("#reader-next").click()
    expect(phone).to_have_url(re.compile(rf"/library/read/{book.id}/1$"))
    assert chapter_heading(phone) != first
    phone.locator("#reader-next").click()
    expect(phone).to_have_url(re.compile(rf"/library/read/{book.id}/2$"))
    third = chapter_heading(phone)
    expect(phone.locator("#reader-percent")).to_have_text(re.compile(r"^\d+%$"))

    # larger text (kept on this phone only), then half-way down the chapter
    size_before = phone.evaluate(
        "getComputedStyle(document.querySelector('.reader-content')).fontSize")
    phone.get_by_role("button", name="放大字号").click()
    size_after = phone.evaluate(
        "getComputedStyle(document.querySelector('.reader-content')).fontSize")
    assert float(size_after.rstrip("px")) > float(size_before.rstrip("px"))
    reader_shot(phone, "library-4-chapter3-larger", "chapter with larger text")
    with phone.expect_response(re.compile(rf"/library/read/{book.id}/progress$"),
                               timeout=10_000) as saved:
        phone.evaluate("window.scrollTo(0, (document.documentElement.scrollHeight"
                       " - innerHeight) / 2)")
    assert saved.value.ok, f"saving the progress answered {saved.value.status}"
    position, offset, device = saved_progress(live_server, member.mobile, book.id)
    assert position == 2 and 0.3 < offset < 0.7 and device

    # -- 3. another device: a new browser context signs in and opens the book ------------
    other = new_page("phone")
    sign_in(other, member.card)
    other.goto("/library/shelves")
    entry = other.locator("#reading li", has_text=book.title)
    expect(entry).to_be_visible()
    expect(entry).to_contain_text(re.compile(r"读到 \d+%"))
    snap(shot, other, "library-5-shelves", "my shelves")
    entry.get_by_role("link", name="继续").click()
    expect(other).to_have_url(re.compile(rf"/library/read/{book.id}/2$"))
    assert chapter_heading(other) == third
    expect(other.locator("#reader-last")).to_contain_text("上次读到这里")
    other.wait_for_function(
        "(() => { const m = document.documentElement.scrollHeight - innerHeight;"
        " return m > 0 && scrollY / m > 0.3; })()")
    assert 0.3 < scroll_fraction(other) < 0.7
    # the larger text stayed on the first phone
    assert other.evaluate("getComputedStyle(document.querySelector('.reader-content'))"
                          ".fontSize") == size_before
    reader_shot(other, "library-6-resumed", "resumed chapter")

    # -- 4. night mode and the table of contents on the second device -----------------------
    other.get_by_role("button", name="夜间").click()
    assert other.evaluate("document.documentElement.classList.contains('reader-night')")
    other.locator("#reader-toc summary").click()
    expect(other.locator("#reader-toc a[aria-current='page']")).to_be_visible()
    reader_shot(other, "library-7-night-toc", "table of contents")
