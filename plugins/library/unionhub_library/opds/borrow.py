"""Borrowing from an e-reader app: the ``http://opds-spec.org/acquisition/borrow`` link.

Apps follow the link (GET, or POST/PUT) with their Basic credentials; the loan is made by
:func:`unionhub_library.loans.service.borrow` (limits, waiting list, copies) and the answer is
the book's complete entry (201), now with its file links if the reader may download. The
endpoint acts only on an app token, never on a browser's session cookie — a page on another
site could otherwise make a signed-in member borrow by loading an image — so it is exempt
from the form CSRF check, and a browser without Basic credentials is sent to the book's web
page, where borrowing is a CSRF-protected form.
"""

from __future__ import annotations

from flask import Response, g, redirect, request
from flask_login import current_user

from unionhub import db
from unionhub.i18n import _
from unionhub.web import csrf

from ..access import active_loan
from ..loans import service as loans
from ..models import LibraryBook, Licence
from ..web import bp
from . import urls
from .auth import account_from_basic_auth, challenge, has_basic_auth
from .entries import Viewer
from .views import active_book, entry_response


def _refused(reason: str, status: int) -> Response:
    resp = Response(reason + "\n", status=status, mimetype="text/plain")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/opds/book/<int:book_id>/borrow", methods=["GET", "POST", "PUT"])
@csrf.exempt
def opds_borrow(book_id: int) -> Response:
    # E-reader apps follow the borrow link with a GET; a browser that once typed an app token
    # would replay it on a cross-site <img> as well, so requests a browser marks as coming
    # from another site are refused (apps send no Sec-Fetch-Site).
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return _refused(_("不能从其他网站借阅"), 403)
    if not has_basic_auth(request) and current_user.is_authenticated:
        return redirect(urls.book_page(book_id), code=303)  # type: ignore[return-value]
    account = account_from_basic_auth(request)
    if account is None:
        return challenge()
    viewer = g.opds_viewer = Viewer.of(account)
    book: LibraryBook = active_book(book_id)
    s = db.session()
    if not viewer.may_read:
        return _refused(_("您没有借阅电子书的权限"), 403)
    if book.licence != Licence.LENT or active_loan(s, account.id, book.id) is not None:
        return entry_response(book)  # nothing to borrow: the entry as it stands
    try:
        loans.borrow(s, account, book)
    except loans.LoanError as exc:
        s.rollback()
        return _refused(exc.reason, 409)
    s.commit()
    return entry_response(book, status=201)
