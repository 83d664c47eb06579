"""Loan pages: the actions on a book page (借阅 / 归还 / 续借 / 排队预约 / 取消预约 and the
download links, the partial ``library/loans/_book_actions.html``), 我的借阅, the file
download, and the "我的" profile panel.

Every action is a POST with the CSRF token; it ends its own transaction (a refusal is rolled
back and flashed) and goes back to the page it came from (a local ``/library/`` path only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.routing import BuildError

from unionhub import db
from unionhub.access.service import can
from unionhub.db import utcnow
from unionhub.i18n import _
from unionhub.web.pagination import paginate

from ..access import can_download, can_see
from ..models import HoldState, LibraryBook, LibraryFile, LibraryHold, Licence
from ..web import READ, bp, require_reader
from . import files, service

TEMPLATES = "library/loans"


def _book(book_id: int, *, hidden_ok: bool = False) -> LibraryBook:
    """The book, or 404. ``hidden_ok``: ending one's own loan or hold still works after the
    book was hidden (the service acts only on the reader's own rows)."""
    book = db.session().get(LibraryBook, book_id)
    if book is None or not (hidden_ok or can_see(current_user, book)):
        abort(404)
    return book


def _back() -> Any:
    """The page the form was on (``next``: a path under /library/), else 我的借阅."""
    target = (request.form.get("next") or "").strip()
    if target.startswith("/library/") and "//" not in target and "\\" not in target:
        return redirect(target)
    return redirect(url_for("library.my_loans"))


def _act(action: Any, done: str) -> Any:
    s = db.session()
    try:
        action(s)
    except service.LoanError as exc:
        s.rollback()
        flash(exc.reason, "error")
    else:
        s.commit()
        flash(done, "success")
    return _back()


# --- the book page's actions ---------------------------------------------------------------------


@dataclass(frozen=True)
class BookActions:
    """What ``_book_actions.html`` shows for one book and the signed-in reader."""

    lent: bool
    status: service.BookStatus | None
    downloads: list[LibraryFile]
    renewable: bool
    next: str


def book_actions(book: LibraryBook) -> BookActions:
    s = db.session()
    account = current_user if current_user.is_authenticated else None
    status = service.book_status(s, account, book) if book.licence == Licence.LENT else None
    downloads: list[LibraryFile] = []
    if account is not None and can(account, "library.download") \
            and can_download(s, account, book):
        downloads = list(s.scalars(select(LibraryFile).where(LibraryFile.book_id == book.id)
                                   .order_by(LibraryFile.format)))
    renewable = bool(status and status.loan and status.waiting == 0
                     and status.loan.due_at - utcnow() <= service.RENEW_WINDOW)
    return BookActions(book.licence == Licence.LENT, status, downloads, renewable,
                       request.path if request.path.startswith("/library/") else "")


def book_url(book_id: int) -> str | None:
    """The book page (the browse feature's ``library.book``), when it is there."""
    try:
        return url_for("library.book", book_id=book_id)
    except BuildError:
        return None


@bp.app_context_processor
def _loan_helpers() -> dict[str, Any]:
    return {"library_book_actions": book_actions, "library_book_url": book_url,
            "library_loan_labels": service.LOAN_STATE_LABELS,
            "library_hold_labels": service.HOLD_STATE_LABELS}


@bp.route("/book/<int:book_id>/borrow", methods=["POST"], endpoint="borrow")
@login_required
def borrow(book_id: int) -> Any:
    require_reader()
    book = _book(book_id)
    return _act(lambda s: service.borrow(s, current_user, book),
                _("已借阅《%(title)s》，请在到期前读完", title=book.title))


@bp.route("/book/<int:book_id>/return", methods=["POST"], endpoint="return_book")
@login_required
def return_book(book_id: int) -> Any:
    book = _book(book_id, hidden_ok=True)

    def action(s: Any) -> None:
        loan = service.loan_of(s, current_user.id, book.id)
        if loan is None:
            raise service.LoanError(_("您没有借阅这本书"))
        service.return_loan(s, current_user, loan)

    return _act(action, _("已归还《%(title)s》", title=book.title))


@bp.route("/book/<int:book_id>/renew", methods=["POST"], endpoint="renew")
@login_required
def renew(book_id: int) -> Any:
    book = _book(book_id, hidden_ok=True)

    def action(s: Any) -> None:
        loan = service.loan_of(s, current_user.id, book.id)
        if loan is None:
            raise service.LoanError(_("您没有借阅这本书"))
        service.renew(s, current_user, loan)

    return _act(action, _("已续借《%(title)s》", title=book.title))


@bp.route("/book/<int:book_id>/hold", methods=["POST"], endpoint="hold")
@login_required
def hold(book_id: int) -> Any:
    require_reader()
    book = _book(book_id)
    return _act(lambda s: service.join_queue(s, current_user, book),
                _("已加入《%(title)s》的预约队列，到书后会通知您", title=book.title))


@bp.route("/book/<int:book_id>/hold/cancel", methods=["POST"], endpoint="cancel_hold")
@login_required
def cancel_hold(book_id: int) -> Any:
    book = _book(book_id, hidden_ok=True)

    def action(s: Any) -> None:
        held = service.hold_of(s, current_user.id, book.id)
        if held is None:
            raise service.LoanError(_("这条预约已结束，无需取消"))
        service.cancel_hold(s, current_user, held)

    return _act(action, _("已取消《%(title)s》的预约", title=book.title))


# --- 我的借阅 ------------------------------------------------------------------------------------


@bp.route("/my/loans", endpoint="my_loans")
@login_required
def my_loans() -> Any:
    require_reader()
    s = db.session()
    loans = service.active_loans(s, current_user.id)
    holds = service.open_holds(s, current_user.id)
    page = paginate(service.history(current_user.id), per_page=20)
    return render_template(f"{TEMPLATES}/my_loans.html", loans=loans, holds=holds, page=page,
                           now=utcnow(), limit=service.loans_limit(),
                           window=service.RENEW_WINDOW, notified=HoldState.NOTIFIED,
                           active_tab="loans")


def my_loans_panel(member: Any = None, account: Any = None, **_kw: Any) -> Markup | None:
    """我的借阅 on "我的": the current loans with due dates and the copies waiting."""
    if account is None or not can(account, READ):
        return None
    s = db.session()
    loans = service.active_loans(s, account.id)
    ready = [h for h, _place in service.open_holds(s, account.id)
             if h.state == HoldState.NOTIFIED]
    waiting = s.scalar(select(LibraryHold.id).where(
        LibraryHold.account_id == account.id,
        LibraryHold.state == HoldState.WAITING).limit(1)) is not None
    return Markup(render_template(f"{TEMPLATES}/_panel.html", loans=loans, ready=ready,
                                  waiting=waiting, now=utcnow()))


# --- download ------------------------------------------------------------------------------------


@bp.route("/book/<int:book_id>/download/<fmt>", endpoint="download")
def download(book_id: int, fmt: str) -> Any:
    """The file, for the signed-in web user or for an e-reader app sending its app token
    over HTTP Basic (the OPDS acquisition links point here; a wrong token is a 401)."""
    from ..opds import auth as opds_auth

    channel = "web"
    if opds_auth.has_basic_auth(request):
        account = opds_auth.account_from_basic_auth(request)
        if account is None:
            return opds_auth.challenge()
        channel = "opds"
    elif current_user.is_authenticated:
        account = current_user._get_current_object()
    else:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    s = db.session()
    try:
        found = files.check(s, account, book_id, fmt)
        return files.send(found, account, channel)
    except files.DownloadRefused as exc:
        if channel == "opds":  # an app shows plain text as it is
            return Response(exc.reason + "\n", status=exc.status, mimetype="text/plain")
        return render_template("errors/error.html", code=exc.status, error=None,
                               message=exc.reason), exc.status
