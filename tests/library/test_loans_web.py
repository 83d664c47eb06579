"""Loans on the web: the book page's actions (借阅 / 归还 / 排队预约 / 取消预约, free copies,
due date, place in the queue) through POST forms with CSRF, 我的借阅, the "我的" panel, and the
file download — refused without the role or, for a lent title, without a loan; allowed and
audited with them, named after the title and never sniffed."""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import quote

from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.helpers import login, post_form
from tests.library.conftest import Library, add_book
from tests.library.test_loans_service import check_copies, lent_book
from unionhub import db
from unionhub.access.models import RoleGrant
from unionhub.audit.models import AuditLog
from unionhub.identity.models import Account
from unionhub_library import storage
from unionhub_library.loans.files import AUDIT_ACTION
from unionhub_library.models import HoldState, LibraryFile, LibraryHold, LibraryLoan, LoanState


def reader(lib: Library, key: str) -> FlaskClient:
    client = lib.app.test_client()
    p = lib.world.people[key]
    r = login(client, p.mobile)
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return client


def page(client: FlaskClient, url: str) -> str:
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    return r.get_data(as_text=True)


def act(client: FlaskClient, book_id: int, action: str) -> str:
    """POST one of the book page's forms and follow the redirect back to it."""
    url = f"/library/book/{book_id}"
    r = post_form(client, f"{url}/{action}", {"next": url}, form_url=url)
    assert r.status_code == 302 and r.headers["Location"].endswith(url), r.status_code
    return page(client, url)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def add_file(book_id: int, fmt: str = "epub", data: bytes = b"PK\x03\x04 book") -> int:
    name = storage.new_name(fmt)
    path = storage.path_of("files", name)
    assert path is not None
    path.write_bytes(data)
    s = db.session()
    f = LibraryFile(book_id=book_id, format=fmt, stored_name=name,
                    original_name=f"upload.{fmt}", size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(), meta={})
    s.add(f)
    s.commit()
    return f.id


def grant(lib: Library, key: str, role: str = "librarian", org: str = "g1") -> None:
    s = db.session()
    s.add(RoleGrant(account_id=lib.world.people[key].account_id, role=role,
                    org_id=lib.world.org_id(org)))
    s.commit()


def test_borrow_queue_and_return_from_the_book_page(library: Library) -> None:
    with library.app.app_context():
        bid = lent_book(library, copies=1, title="平凡的世界", loan_days=14)
    m1, m2 = reader(library, "m1"), reader(library, "m2")

    html = text(page(m1, f"/library/book/{bid}"))
    assert "可借 1 / 共 1 册" in html and "借期 14 天" in html
    html = text(act(m1, bid, "borrow"))
    assert "已借阅《平凡的世界》" in html
    assert "您已借阅，应还时间" in html and "归还" in html

    html = text(page(m2, f"/library/book/{bid}"))
    assert "可借 0 / 共 1 册" in html and "排队预约" in html
    html = text(act(m2, bid, "hold"))
    assert "您在预约队列第 1 位" in html and "取消预约" in html
    assert "1 人排队" in text(page(m1, f"/library/book/{bid}"))

    # m1 returns from 我的借阅; the copy is kept for m2.
    my = page(m1, "/library/my/loans")
    assert "平凡的世界" in my and "当前借阅" in my
    r = post_form(m1, f"/library/book/{bid}/return", {"next": "/library/my/loans"},
                  form_url="/library/my/loans")
    assert r.status_code == 302 and r.headers["Location"].endswith("/library/my/loans")
    html = text(page(m1, "/library/my/loans"))
    assert "已归还" in html and "暂无借阅的图书" in html

    html = text(page(m2, f"/library/book/{bid}"))
    assert "您预约的副本已到，为您保留到" in html
    html = text(page(m2, "/library/my/loans"))
    assert "已到书，为您保留到" in html
    html = text(act(m2, bid, "borrow"))
    assert "您已借阅，应还时间" in html
    with library.app.app_context():
        assert check_copies(bid) == 1
        assert db.session().scalar(select(LibraryHold.state)) == HoldState.FULFILLED


def test_refusals_are_flashed_and_change_nothing(library: Library) -> None:
    with library.app.app_context():
        bid = lent_book(library, copies=1)
    m1 = reader(library, "m1")
    html = text(act(m1, bid, "hold"))
    assert "现在有可借副本，请直接借阅" in html
    html = text(act(m1, bid, "return"))
    assert "您没有借阅这本书" in html
    with library.app.app_context():
        s = db.session()
        assert s.scalar(select(func.count()).select_from(LibraryHold)) == 0
        assert s.scalar(select(func.count()).select_from(LibraryLoan)) == 0


def test_forms_need_the_csrf_token_and_a_signed_in_reader(library: Library) -> None:
    with library.app.app_context():
        bid = lent_book(library, copies=1)
    m1 = reader(library, "m1")
    assert m1.post(f"/library/book/{bid}/borrow").status_code == 400
    visitor = library.app.test_client()
    html = text(page(visitor, f"/library/book/{bid}"))
    assert "登录后借阅" in html
    r = visitor.get("/library/my/loans")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]
    with library.app.app_context():
        assert db.session().scalar(select(func.count()).select_from(LibraryLoan)) == 0


def test_next_must_stay_inside_the_library(library: Library) -> None:
    with library.app.app_context():
        bid = lent_book(library, copies=1)
    m1 = reader(library, "m1")
    url = f"/library/book/{bid}"
    r = post_form(m1, f"{url}/borrow", {"next": "//evil.example/library/"}, form_url=url)
    assert r.status_code == 302 and r.headers["Location"].endswith("/library/my/loans")


def test_my_loans_page_and_profile_panel(library: Library) -> None:
    with library.app.app_context():
        a = lent_book(library, copies=1, title="红岩")
        b = lent_book(library, copies=1, title="青春之歌")
    m1, m2 = reader(library, "m1"), reader(library, "m2")
    act(m1, a, "borrow")
    act(m2, b, "borrow")
    act(m1, b, "hold")
    html = text(page(m1, "/library/my/loans"))
    assert "红岩" in html and "1 / 5 册" in html
    assert "青春之歌" in html and "排队第 1 位" in html
    assert "暂无借阅历史" in html
    me = text(page(m1, "/me"))
    assert "我的借阅" in me and "红岩" in me and "您还有排队中的预约" in me
    # The member menu has the page.
    assert 'href="/library/my/loans"' in page(m1, "/me")


def test_download_refused_without_the_role_allowed_and_audited_with_it(
        library: Library) -> None:
    with library.app.app_context():
        open_id = add_book(library.categories["I"], "红楼梦 / 上", owner_org_id=library.world
                           .org_id("city"))
        add_file(open_id, "epub", b"PK\x03\x04 open book")
    m1 = reader(library, "m1")
    url = f"/library/book/{open_id}/download/epub"
    r = m1.get(url)
    assert r.status_code == 403 and "没有下载电子书文件的权限" in r.get_data(as_text=True)
    assert "book-downloads" not in page(m1, f"/library/book/{open_id}")
    visitor = library.app.test_client().get(url)
    assert visitor.status_code == 302 and "/auth/login" in visitor.headers["Location"]

    with library.app.app_context():
        grant(library, "m1")
    m1 = reader(library, "m1")
    assert f'href="{url}"' in page(m1, f"/library/book/{open_id}")
    r = m1.get(url)
    assert r.status_code == 200 and r.data == b"PK\x03\x04 open book"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.mimetype == "application/epub+zip"
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert quote("红楼梦 上.epub") in disposition  # the slash is not a path
    assert "no-store" in r.headers["Cache-Control"]
    assert m1.get(f"/library/book/{open_id}/download/pdf").status_code == 404
    assert m1.get(f"/library/book/{open_id}/download/exe").status_code == 404
    with library.app.app_context():
        entries = db.session().scalars(select(AuditLog).where(
            AuditLog.action == AUDIT_ACTION)).all()
        assert len(entries) == 1
        e = entries[0]
        assert e.actor_id == library.world.people["m1"].account_id
        assert e.target_id == str(open_id) and e.details["format"] == "epub"
        assert e.details["channel"] == "web"
        assert e.org_path == library.world.orgs["g1"].path


def test_lent_title_download_needs_an_active_loan(library: Library) -> None:
    with library.app.app_context():
        bid = lent_book(library, copies=1, title="借阅下载")
        add_file(bid, "pdf", b"%PDF-1.4 lent")
        grant(library, "m1")
    m1 = reader(library, "m1")
    url = f"/library/book/{bid}/download/pdf"
    r = m1.get(url)
    assert r.status_code == 403 and "需要先借阅" in r.get_data(as_text=True)
    act(m1, bid, "borrow")
    assert f'href="{url}"' in page(m1, f"/library/book/{bid}")
    r = m1.get(url)
    assert r.status_code == 200 and r.data == b"%PDF-1.4 lent"
    act(m1, bid, "return")
    assert m1.get(url).status_code == 403
    with library.app.app_context():
        assert db.session().scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == AUDIT_ACTION)) == 1


def _states(lib: Library) -> Any:
    with lib.app.app_context():
        return sorted(db.session().scalars(select(LibraryLoan.state)))


def test_renew_button_only_near_the_due_date(library: Library) -> None:
    from datetime import timedelta

    from unionhub.db import utcnow

    with library.app.app_context():
        bid = lent_book(library, copies=1, loan_days=14)
    m1 = reader(library, "m1")
    html = text(act(m1, bid, "borrow"))
    assert "续借" not in html
    with library.app.app_context():
        s = db.session()
        loan = s.scalar(select(LibraryLoan))
        loan.due_at = utcnow() + timedelta(days=2)
        s.commit()
    html = text(act(m1, bid, "renew"))
    assert "已续借" in html
    with library.app.app_context():
        loan = db.session().scalar(select(LibraryLoan))
        assert loan.due_at - utcnow() > timedelta(days=15)
    assert _states(library) == [LoanState.ACTIVE]


def test_e_reader_apps_download_with_their_app_token(library: Library) -> None:
    """The OPDS acquisition links point at the same endpoint: HTTP Basic with an app token
    (never the password); a wrong token is a 401, a refusal plain text; audited as opds."""
    import base64

    from unionhub_library.opds import tokens

    with library.app.app_context():
        bid = lent_book(library, copies=1, title="三体")
        add_file(bid, "epub", b"PK\x03\x04 three body")
        grant(library, "m1")
        s = db.session()
        issued = tokens.create(s, s.get(Account, library.world.people["m1"].account_id), "阅读器")
        s.commit()

    def basic(user: str, password: str) -> dict[str, str]:
        raw = base64.b64encode(f"{user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {raw}"}

    app = library.app.test_client()
    url = f"/library/book/{bid}/download/epub"
    r = app.get(url, headers=basic(issued.username, "wrong-token"))
    assert r.status_code == 401 and "WWW-Authenticate" in r.headers
    ok = basic(issued.username, issued.password)
    r = app.get(url, headers=ok)
    assert r.status_code == 403 and r.mimetype == "text/plain"
    assert "需要先借阅" in r.get_data(as_text=True)
    act(reader(library, "m1"), bid, "borrow")
    r = app.get(url, headers=ok)
    assert r.status_code == 200 and r.data == b"PK\x03\x04 three body"
    with library.app.app_context():
        entry = db.session().scalar(select(AuditLog).where(AuditLog.action == AUDIT_ACTION))
        assert entry is not None and entry.details["channel"] == "opds"
        assert entry.actor_id == library.world.people["m1"].account_id
