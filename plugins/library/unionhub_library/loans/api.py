"""Loans on the mobile-app API (``/api/v1/library/…``): my loans and holds, borrowing,
returning, renewing, joining and leaving a waiting list, and downloading a file (same rules
as the web page: role ``library.download`` and, for a lent title, an active loan; audited)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_login import current_user
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from unionhub import db
from unionhub.access.service import can
from unionhub.api import PAGE_PARAMS, ApiError, Page, operation, paginate

from ..access import can_see
from ..models import LibraryBook, LibraryHold, LibraryLoan
from ..web import READ, api
from . import files, service

TAG = ["library"]


class LibraryLoanOut(BaseModel):
    id: int
    book_id: int
    title: str
    authors: str
    state: str
    state_label: str
    borrowed_at: datetime
    due_at: datetime
    returned_at: datetime | None


class LibraryHoldOut(BaseModel):
    id: int
    book_id: int
    title: str
    authors: str
    state: str
    state_label: str
    #: 1 for the first waiting reader; 0 when a copy is reserved for this reader.
    place: int
    created_at: datetime
    #: A reserved copy is kept until then (notified holds only).
    expires_at: datetime | None


class LibraryMyLoansOut(BaseModel):
    loans: list[LibraryLoanOut]
    holds: list[LibraryHoldOut]
    #: Loans one reader may have at the same time.
    limit: int


class LibraryLoanBookIn(BaseModel):
    book_id: int = Field(description="图书编号", ge=1, lt=2**31)


def _loan(loan: LibraryLoan) -> LibraryLoanOut:
    return LibraryLoanOut(id=loan.id, book_id=loan.book_id, title=loan.book.title,
                   authors=loan.book.authors_display, state=loan.state,
                   state_label=service.LOAN_STATE_LABELS.get(loan.state, loan.state),
                   borrowed_at=loan.borrowed_at, due_at=loan.due_at,
                   returned_at=loan.returned_at)


def _hold(hold: LibraryHold, place: int) -> LibraryHoldOut:
    return LibraryHoldOut(id=hold.id, book_id=hold.book_id, title=hold.book.title,
                   authors=hold.book.authors_display, state=hold.state,
                   state_label=service.HOLD_STATE_LABELS.get(hold.state, hold.state),
                   place=place, created_at=hold.created_at,
                   expires_at=hold.expires_at if hold.state == "notified" else None)


def _reader() -> Any:
    if not can(current_user, READ):
        raise ApiError(403, "forbidden", "您没有借阅电子书的权限")
    return current_user


def _book(s: Session, book_id: int) -> LibraryBook:
    book = s.get(LibraryBook, book_id) if 0 < book_id < 2**31 else None
    if book is None or not can_see(current_user, book):
        raise ApiError(404, "not_found", "没有这本书")
    return book


def _run(action: Any) -> Any:
    """Run ``action(session)`` in its own transaction; a refusal becomes a 409."""
    s = db.session()
    try:
        result = action(s)
    except service.LoanError as exc:
        s.rollback()
        raise ApiError(409, "refused", exc.reason) from None
    s.commit()
    return result


def _mine(s: Session) -> LibraryMyLoansOut:
    return LibraryMyLoansOut(loans=[_loan(x) for x in service.active_loans(s, current_user.id)],
                      holds=[_hold(h, p) for h, p in service.open_holds(s, current_user.id)],
                      limit=service.loans_limit())


@api.route("/loans")
@operation("图书馆：我的借阅与预约", tags=TAG, response=LibraryMyLoansOut, errors=(403,),
           description="当前借阅（含应还时间）与预约（含排队位次；place 为 0 表示已到书、"
                       "为您保留到 expires_at）。")
def api_loans_mine() -> Any:
    _reader()
    return _mine(db.session())


@api.route("/loans/history")
@operation("图书馆：借阅历史", tags=TAG, response=Page[LibraryLoanOut], params=PAGE_PARAMS,
           errors=(400, 403))
def api_loans_history() -> Any:
    _reader()
    return paginate(service.history(current_user.id), _loan)


@api.route("/loans", methods=["POST"])
@operation("图书馆：借阅", tags=TAG, body=LibraryLoanBookIn, response=LibraryLoanOut, status=201,
           errors=(403, 404, 409, 422),
           description="借阅一本“借阅”许可的图书。超过同时借阅上限、已借阅、暂无可借副本"
                       "（有读者排队时副本优先留给排队读者）时返回 409 与原因。")
def api_loans_borrow(data: LibraryLoanBookIn) -> Any:
    _reader()
    book = _book(db.session(), data.book_id)
    return _run(lambda s: _loan(service.borrow(s, current_user, book)))


def _my_loan(s: Session, loan_id: int) -> LibraryLoan:
    loan = s.get(LibraryLoan, loan_id) if 0 < loan_id < 2**31 else None
    if loan is None or loan.account_id != current_user.id:
        raise ApiError(404, "not_found", "没有这条借阅记录")
    return loan


@api.route("/loans/<int:loan_id>/return", methods=["POST"])
@operation("图书馆：归还", tags=TAG, response=LibraryLoanOut, errors=(404, 409))
def api_loans_return(loan_id: int) -> Any:
    loan = _my_loan(db.session(), loan_id)
    return _run(lambda s: _loan(service.return_loan(s, current_user, loan)))


@api.route("/loans/<int:loan_id>/renew", methods=["POST"])
@operation("图书馆：续借", tags=TAG, response=LibraryLoanOut, errors=(404, 409),
           description="到期前 3 天内、且无人排队预约时可以续借一个借期。")
def api_loans_renew(loan_id: int) -> Any:
    loan = _my_loan(db.session(), loan_id)
    return _run(lambda s: _loan(service.renew(s, current_user, loan)))


@api.route("/holds", methods=["POST"])
@operation("图书馆：排队预约", tags=TAG, body=LibraryLoanBookIn, response=LibraryHoldOut,
           status=201, errors=(403, 404, 409, 422),
           description="暂无可借副本时加入预约队列；有副本空出时按排队先后通知，"
                       "并为您保留一段时间。")
def api_holds_join(data: LibraryLoanBookIn) -> Any:
    _reader()
    book = _book(db.session(), data.book_id)

    def action(s: Session) -> LibraryHoldOut:
        hold = service.join_queue(s, current_user, book)
        return _hold(hold, service.queue_place(s, hold))

    return _run(action)


@api.route("/holds/<int:hold_id>", methods=["DELETE"])
@operation("图书馆：取消预约", tags=TAG, errors=(404, 409))
def api_holds_cancel(hold_id: int) -> Any:
    s = db.session()
    hold = s.get(LibraryHold, hold_id) if 0 < hold_id < 2**31 else None
    if hold is None or hold.account_id != current_user.id:
        raise ApiError(404, "not_found", "没有这条预约")
    _run(lambda s: service.cancel_hold(s, current_user, hold))
    return None


@api.route("/books/<int:book_id>/download/<fmt>")
@operation("图书馆：下载电子书文件", tags=TAG, response=bytes, errors=(403, 404),
           description="fmt 为 epub、pdf 或 txt。需要“下载电子书文件”权限；"
                       "借阅许可的图书还需在借阅期内。每次下载都记入审计日志。")
def api_loans_download(book_id: int, fmt: str) -> Any:
    s = db.session()
    try:
        return files.send(files.check(s, current_user, book_id, fmt), current_user, "app")
    except files.DownloadRefused as exc:
        raise ApiError(exc.status, "forbidden" if exc.status == 403 else "not_found",
                       exc.reason) from None

