"""Reading progress on the server, resumed on another device; one read counted per reader,
book and day (with the reader's union at that moment)."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from tests.library.conftest import Library
from tests.library.test_reader_support import csrf_of, epub_bytes, signed_in, store

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0 Safari/537.36")


def _progress(library: Library, who: str, book_id: int) -> tuple[int, float, float, str]:
    from unionhub import db
    from unionhub_library.models import LibraryProgress

    with library.app.app_context():
        row = db.session().scalar(select(LibraryProgress).where(
            LibraryProgress.account_id == library.world.people[who].account_id,
            LibraryProgress.book_id == book_id))
        assert row is not None
        return row.position, row.offset, row.percent, row.device or ""


def test_progress_follows_the_reader_to_another_device(library: Library) -> None:
    book_id = store(library, epub_bytes(chapters=4), "book.epub")
    phone = signed_in(library, "m1", user_agent=IPHONE)
    phone.get(f"/library/read/{book_id}/0")
    phone.get(f"/library/read/{book_id}/1")
    token = csrf_of(phone, f"/library/read/{book_id}/2")
    r = phone.post(f"/library/read/{book_id}/progress", data={
        "csrf_token": token, "format": "epub", "position": "2", "offset": "0.5"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["percent"] == pytest.approx(2.5 / 4)
    assert _progress(library, "m1", book_id) == (2, 0.5, 0.625, "iPhone · Safari")

    desk = signed_in(library, "m1", user_agent=WINDOWS)
    r = desk.get(f"/library/read/{book_id}")
    assert r.headers["Location"].endswith(f"/library/read/{book_id}/2")
    page = desk.get(r.headers["Location"]).get_data(as_text=True)
    assert 'data-offset="0.5"' in page  # the script scrolls back to the middle
    assert "上次读到这里：iPhone · Safari" in page
    assert _progress(library, "m1", book_id)[3] == "Windows 电脑 · Chrome"

    # the latest save wins, whichever device made it
    desk.get(f"/library/read/{book_id}/0")
    r = phone.get(f"/library/read/{book_id}")
    assert r.headers["Location"].endswith(f"/library/read/{book_id}/0")
    # another member's progress is their own
    other = signed_in(library, "m2").get(f"/library/read/{book_id}")
    assert other.headers["Location"].endswith(f"/library/read/{book_id}/0")


def test_bad_progress_is_refused_and_nothing_changes(library: Library) -> None:
    book_id = store(library, epub_bytes(chapters=3), "book.epub")
    lent_id = store(library, epub_bytes(title="借阅本"), "lent.epub", licence="lent",
                    copies=1)
    client = signed_in(library, "m1")
    token = csrf_of(client, f"/library/read/{book_id}/1")
    before = _progress(library, "m1", book_id)
    url = f"/library/read/{book_id}/progress"
    for data, field in (({"position": "3", "offset": "0"}, "position"),
                        ({"position": "x", "offset": "0"}, "position"),
                        ({"position": "1", "offset": "1.5"}, "offset"),
                        ({"position": "1", "offset": "nan"}, "offset")):
        r = client.post(url, data={"csrf_token": token, "format": "epub", **data})
        assert r.status_code == 422 and field in r.get_json()["error"]["fields"], data
    r = client.post(url, data={"csrf_token": token, "format": "pdf", "position": "0"})
    assert r.status_code == 422 and "format" in r.get_json()["error"]["fields"]
    assert client.post(url, data={"format": "epub", "position": "1"}).status_code == 400
    assert _progress(library, "m1", book_id) == before
    visitor = library.app.test_client()
    assert visitor.post(url, data={"format": "epub", "position": "1"}).status_code in (400, 401)
    r = client.post(f"/library/read/{lent_id}/progress", data={
        "csrf_token": token, "format": "epub", "position": "0", "offset": "0"})
    assert r.status_code == 403


def _reads(library: Library, book_id: int) -> tuple[int, int, list[tuple[int, int | None]]]:
    from unionhub import db
    from unionhub_library.models import LibraryBook, LibraryRead

    with library.app.app_context():
        s = db.session()
        rows = s.execute(select(LibraryRead.account_id, LibraryRead.org_id)
                         .where(LibraryRead.book_id == book_id)
                         .order_by(LibraryRead.id)).all()
        count = s.scalar(select(LibraryBook.read_count).where(LibraryBook.id == book_id))
        return len(rows), int(count or 0), [tuple(r) for r in rows]


def test_a_read_is_counted_once_per_reader_and_day(library: Library) -> None:
    book_id = store(library, epub_bytes(chapters=3), "book.epub")
    world = library.world
    with time_machine.travel(datetime(2026, 3, 2, 1, 0, tzinfo=UTC), tick=True):
        client = signed_in(library, "m1")
        for pos in (0, 1, 2, 1):
            assert client.get(f"/library/read/{book_id}/{pos}").status_code == 200
        assert _reads(library, book_id)[:2] == (1, 1)
    # 16:30 UTC is already the next day in Beijing
    with time_machine.travel(datetime(2026, 3, 2, 16, 30, tzinfo=UTC), tick=True):
        client = signed_in(library, "m1")
        client.get(f"/library/read/{book_id}/0")
        client.get(f"/library/read/{book_id}/1")
        signed_in(library, "m3").get(f"/library/read/{book_id}/0")
    n, count, rows = _reads(library, book_id)
    assert (n, count) == (3, 3)
    m1, m3 = world.people["m1"].account_id, world.people["m3"].account_id
    assert rows == [(m1, world.org_id("g1")), (m1, world.org_id("g1")),
                    (m3, world.org_id("b1"))]


def test_history_lists_reads_latest_first(library: Library) -> None:
    first = store(library, epub_bytes(title="第一本"), "a.epub")
    second = store(library, epub_bytes(title="第二本"), "b.epub")
    with time_machine.travel(datetime(2026, 3, 2, 2, 0, tzinfo=UTC), tick=True):
        assert signed_in(library, "m1").get(f"/library/read/{first}/0").status_code == 200
    with time_machine.travel(datetime(2026, 3, 3, 2, 0, tzinfo=UTC), tick=True):
        client = signed_in(library, "m1")
        client.get(f"/library/read/{second}/0")
        page = client.get("/library/shelves?tab=history").get_data(as_text=True)
    assert page.index("第二本") < page.index("第一本")
    assert "2026-03-03" in page and "2026-03-02" in page


@pytest.mark.integration
@pytest.mark.skipif(not os.environ.get("UNIONHUB_TEST_DATABASE_URL"),
                    reason="concurrent upserts are checked on PostgreSQL")
def test_concurrent_first_reads_count_once(library: Library) -> None:
    from unionhub import db
    from unionhub.identity.models import Account
    from unionhub_library.models import LibraryBook
    from unionhub_library.reader import service

    book_id = store(library, epub_bytes(), "book.epub")
    account_id = library.world.people["m1"].account_id
    barrier = threading.Barrier(8)
    created: list[bool] = []

    def read() -> None:
        with library.app.test_request_context():
            s = db.session()
            account = s.get(Account, account_id)
            book = s.get(LibraryBook, book_id)
            barrier.wait()
            created.append(service.record_read(s, account, book, "test"))
            s.commit()

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert created.count(True) == 1
    n, count, _rows = _reads(library, book_id)
    assert (n, count) == (1, 1)
    with library.app.app_context():
        total = db.session().scalar(select(func.sum(LibraryBook.read_count)))
    assert total == 1
