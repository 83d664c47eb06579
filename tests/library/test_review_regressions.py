"""Defects found in review: a hidden book's loan can still be returned from the web, odd digits
in ids are a 404 or a clear refusal rather than a server error, and the OPDS borrow link
refuses a request a browser marks as cross-site."""

from __future__ import annotations

import pytest

from tests.helpers import login, post_form
from tests.library.conftest import Library
from tests.library.test_loans_service import lent_book
from tests.library.test_loans_web import act, reader
from tests.library.test_opds_borrow import _lent, _loans
from tests.library.test_opds_feeds import Reader
from unionhub import db
from unionhub.web import id_arg
from unionhub_library.catalogue import service as catalogue
from unionhub_library.models import LibraryBook, LibraryLoan


def test_a_loan_of_a_book_hidden_since_can_still_be_returned(library: Library) -> None:
    with library.app.app_context():
        bid = lent_book(library, copies=1, title="白鹿原")
    m1 = reader(library, "m1")
    act(m1, bid, "borrow")
    with library.app.app_context():
        s = db.session()
        catalogue.set_state(s, s.get(LibraryBook, bid), "hidden")
        s.commit()
    assert m1.get(f"/library/book/{bid}").status_code == 404
    r = post_form(m1, f"/library/book/{bid}/return", {"next": "/library/my/loans"},
                  form_url="/library/my/loans")
    assert r.status_code == 302
    with library.app.app_context():
        s = db.session()
        [loan] = s.query(LibraryLoan).filter_by(book_id=bid).all()
        assert loan.state == "returned"
        assert s.get(LibraryBook, bid).copies_out == 0


@pytest.mark.parametrize("raw, expected", [("12", 12), (" 7 ", 7), ("²", None), ("0", None),
                                           ("-1", None), ("1e3", None), ("", None),
                                           (None, None), ("99999999999999999999999", None),
                                           (str(2**31), None), (str(2**31 - 1), 2**31 - 1)])
def test_id_arg(raw: str | None, expected: int | None) -> None:
    assert id_arg(raw) == expected


def test_odd_digits_in_ids_are_not_server_errors(library: Library) -> None:
    m1 = reader(library, "m1")
    officer = library.app.test_client()
    login(officer, "admin")
    for client, url in ((officer, "/library/stats?org_id=²"),
                        (officer, "/library/admin/books?category=²"),
                        (m1, "/library/opds/categories?parent=²")):
        assert client.get(url).status_code < 500, url
    for book_id, shelf in (("99999999999999999999999", "want"), ("1", "²")):
        r = post_form(m1, "/library/shelves/put", {"book_id": book_id, "shelf": shelf},
                      form_url="/library/shelves")
        assert r.status_code < 500, (book_id, shelf)


def test_opds_borrow_refuses_a_cross_site_request(library: Library) -> None:
    book_id = _lent(library)
    app = Reader(library, library.world.people["m1"].account_id)
    url = f"/library/opds/book/{book_id}/borrow"
    r = app.client.get(url, headers={**app.headers, "Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    assert _loans(library, book_id) == []
    assert app.client.get(url, headers=app.headers).status_code == 201
