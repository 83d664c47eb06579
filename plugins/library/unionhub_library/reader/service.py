"""Reading progress, reads, shelves and history — the rules, shared by the web pages and the
app API. Callers commit.

- **Progress**: one row per (account, book), written by an upsert; the latest save from any
  device wins and keeps the device label and the moment. The percentage is computed here from
  the position and the file's size in chapters or pages, never taken from the client.
- **Reads**: one :class:`~unionhub_library.models.LibraryRead` per account, book and
  (Asia/Shanghai) day, with the reader's union at that moment; ``INSERT … ON CONFLICT DO
  NOTHING`` decides which request made the day's row, and only that one adds 1 to the book's
  ``read_count`` — on SQLite and PostgreSQL alike, also under concurrent requests.
- **Shelves**: 想读 / 在读 / 读过 are made on first use; a book is on at most one of them
  (marking it 读过 takes it off 在读, as readers expect), and opening a book in the reader puts
  it on 在读 unless it is already there or on 读过. Custom shelves may be created, renamed and
  deleted; the standard ones may not.

Who may do what is asked of :mod:`unionhub_library.access`; lists show only books the account
may see, filtered in SQL.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from unionhub.access import service as core_access
from unionhub.db import utcnow
from unionhub.i18n import _

from .. import access
from ..models import (
    BookState,
    LibraryBook,
    LibraryFile,
    LibraryProgress,
    LibraryRead,
    LibraryShelf,
    LibraryShelfItem,
    ShelfKind,
)
from . import files

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
STANDARD: dict[str, str] = {ShelfKind.WANT: "想读", ShelfKind.READING: "在读",
                            ShelfKind.FINISHED: "读过"}
SHELF_NAME_MAX = 20
CUSTOM_SHELVES_MAX = 30
DEVICE_MAX = 60


class ReaderError(ValueError):
    """A refused request; ``field`` names the input at fault (None: the request as a whole),
    ``status`` the HTTP status the web and API answer with."""

    def __init__(self, message: str, field: str | None = None, status: int = 422) -> None:
        super().__init__(message)
        self.message, self.field, self.status = message, field, status


def china_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(CHINA).date()


def _insert(session: Session, model: Any) -> Any:
    """The dialect's ``INSERT`` (with ``ON CONFLICT``) for ``session``'s database."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


def may_use(account: Any) -> bool:
    """The account may keep progress and shelves (``library.read``)."""
    return (account is not None and not getattr(account, "is_anonymous", True)
            and core_access.can(account, access.READ))


def visible(account: Any) -> ColumnElement[bool]:
    """SQL: the book may be listed to ``account`` (active, or any state for a manager)."""
    if may_use(account) and core_access.can(account, access.MANAGE):
        return LibraryBook.id.is_not(None)
    return LibraryBook.state == BookState.ACTIVE


PLATFORMS = (("ipad", "iPad"), ("iphone", "iPhone"), ("harmonyos", "鸿蒙设备"),
             ("android", None), ("windows", "Windows 电脑"), ("macintosh", "Mac 电脑"),
             ("cros", "Chromebook"), ("linux", "Linux 电脑"))
BROWSERS = (("micromessenger", "微信"), ("edg", "Edge"), ("firefox", "Firefox"),
            ("fxios", "Firefox"), ("crios", "Chrome"), ("chrome", "Chrome"),
            ("chromium", "Chromium"), ("safari", "Safari"))


def device_label(raw: str | None, user_agent: str | None = None) -> str | None:
    """The device as named by the client (an app's token), else guessed from the
    User-Agent: platform and browser, such as "iPhone · 微信" or "Windows 电脑 · Edge"."""
    text = " ".join((raw or "").replace("\x00", "").split())[:DEVICE_MAX]
    if text:
        return text
    ua = (user_agent or "").lower()
    if not ua:
        return None
    platform = next((label or ("Android 手机" if "mobile" in ua else "Android 平板")
                     for needle, label in PLATFORMS if needle in ua), "其他设备")
    browser = next((label for needle, label in BROWSERS if needle in ua), None)
    return f"{platform} · {browser}"[:DEVICE_MAX] if browser else platform


# -- progress ----------------------------------------------------------------------------------


def progress_of(session: Session, account_id: int, book_id: int) -> LibraryProgress | None:
    return session.scalar(select(LibraryProgress).where(
        LibraryProgress.account_id == account_id, LibraryProgress.book_id == book_id))


def save_progress(session: Session, account: Any, book: LibraryBook, file: LibraryFile, *,
                  position: Any, offset: Any, device: str | None) -> LibraryProgress:
    """Store where ``account`` is in ``book`` (read in ``file``); the latest save wins."""
    if not access.can_read(session, account, book):
        raise ReaderError(_("您现在不能阅读这本书"), status=403)
    count = files.total(file)
    try:
        pos = int(position)
    except (TypeError, ValueError):
        raise ReaderError(_("阅读位置应为整数"), "position") from None
    if not 0 <= pos < max(count, 1):
        raise ReaderError(_("阅读位置超出范围（本书共 %(n)s %(unit)s）", n=count,
                            unit=_("章") if file.format == "epub" else _("页")), "position")
    try:
        off = float(offset)
    except (TypeError, ValueError):
        raise ReaderError(_("页内位置应为 0 到 1 之间的数"), "offset") from None
    if not 0.0 <= off <= 1.0:  # also refuses NaN
        raise ReaderError(_("页内位置应为 0 到 1 之间的数"), "offset")
    values = {"format": file.format, "position": pos, "offset": round(off, 4),
              "percent": files.percent(pos, off, count), "device": device, "updated_at": utcnow()}
    stmt = _insert(session, LibraryProgress).values(account_id=account.id, book_id=book.id,
                                                    **values)
    session.execute(stmt.on_conflict_do_update(index_elements=["account_id", "book_id"],
                                               set_=values))
    row = session.scalar(select(LibraryProgress).where(
        LibraryProgress.account_id == account.id, LibraryProgress.book_id == book.id)
        .execution_options(populate_existing=True))
    assert row is not None
    return row


def current_reading(account: Any) -> Select[tuple[LibraryProgress, LibraryBook]]:
    """The account's books with progress, the most recently read first."""
    return (select(LibraryProgress, LibraryBook)
            .join(LibraryBook, LibraryBook.id == LibraryProgress.book_id)
            .where(LibraryProgress.account_id == account.id, visible(account))
            .order_by(LibraryProgress.updated_at.desc(), LibraryProgress.id.desc()))


# -- reads -------------------------------------------------------------------------------------


def record_read(session: Session, account: Any, book: LibraryBook, device: str | None) -> bool:
    """Count today's read of ``book`` by ``account``; True when it is the first today (the
    book's ``read_count`` went up by one)."""
    if not access.can_read(session, account, book):
        return False
    now = utcnow()
    member = getattr(account, "member", None)
    stmt = _insert(session, LibraryRead).values(
        account_id=account.id, book_id=book.id, org_id=member.org_id if member else None,
        read_on=china_today(now), device=device, last_at=now,
    ).on_conflict_do_nothing(index_elements=["account_id", "book_id", "read_on"]) \
        .returning(LibraryRead.id)
    created = session.execute(stmt).first() is not None  # no row: today's read existed
    if created:
        session.execute(update(LibraryBook).where(LibraryBook.id == book.id)
                        .values(read_count=LibraryBook.read_count + 1))
    else:
        session.execute(update(LibraryRead).where(
            LibraryRead.account_id == account.id, LibraryRead.book_id == book.id,
            LibraryRead.read_on == china_today(now)).values(last_at=now, device=device))
    return created


def history(account: Any) -> Select[tuple[LibraryRead, LibraryBook]]:
    """The account's reads (one per book and day), the latest first."""
    return (select(LibraryRead, LibraryBook)
            .join(LibraryBook, LibraryBook.id == LibraryRead.book_id)
            .where(LibraryRead.account_id == account.id, visible(account))
            .order_by(LibraryRead.last_at.desc(), LibraryRead.id.desc()))


# -- shelves -----------------------------------------------------------------------------------


def shelf_label(shelf: LibraryShelf) -> str:
    """The shelf's name in the viewer's language (the standard ones are translated)."""
    return _(STANDARD[shelf.kind]) if shelf.kind in STANDARD else shelf.name


def ensure_standard(session: Session, account_id: int) -> dict[str, LibraryShelf]:
    """The account's 想读 / 在读 / 读过 shelves, made now if missing (race-safe)."""
    rows = {s.kind: s for s in session.scalars(select(LibraryShelf).where(
        LibraryShelf.account_id == account_id, LibraryShelf.kind.in_(list(STANDARD))))}
    missing = [kind for kind in STANDARD if kind not in rows]
    if missing:
        now = utcnow()
        for kind in missing:
            session.execute(_insert(session, LibraryShelf).values(
                account_id=account_id, kind=kind, name=STANDARD[kind], created_at=now,
            ).on_conflict_do_nothing(index_elements=["account_id", "name"]))
        rows = {s.kind: s for s in session.scalars(select(LibraryShelf).where(
            LibraryShelf.account_id == account_id, LibraryShelf.kind.in_(list(STANDARD))))}
    return rows


def own_shelves(session: Session, account_id: int) -> list[LibraryShelf]:
    """The account's shelves as they are (none made), in creation order."""
    return list(session.scalars(select(LibraryShelf).where(
        LibraryShelf.account_id == account_id).order_by(LibraryShelf.created_at,
                                                        LibraryShelf.id)))


def shelves(session: Session, account: Any) -> list[tuple[LibraryShelf, int]]:
    """The account's shelves (standard ones first) with how many visible books each holds."""
    ensure_standard(session, account.id)
    counts = dict(session.execute(
        select(LibraryShelfItem.shelf_id, func.count())
        .join(LibraryShelf, LibraryShelf.id == LibraryShelfItem.shelf_id)
        .join(LibraryBook, LibraryBook.id == LibraryShelfItem.book_id)
        .where(LibraryShelf.account_id == account.id, visible(account))
        .group_by(LibraryShelfItem.shelf_id)).all())
    order = {kind: i for i, kind in enumerate(STANDARD)}
    rows = session.scalars(select(LibraryShelf).where(LibraryShelf.account_id == account.id))
    ordered = sorted(rows, key=lambda s: (order.get(s.kind, len(order)), s.created_at, s.id))
    return [(s, int(counts.get(s.id, 0))) for s in ordered]


def shelf_of(session: Session, account_id: int, shelf_id: int) -> LibraryShelf | None:
    """The account's own shelf ``shelf_id`` (None for someone else's)."""
    return session.scalar(select(LibraryShelf).where(LibraryShelf.id == shelf_id,
                                                     LibraryShelf.account_id == account_id))


def shelf_books(account: Any, shelf_id: int) -> Select[tuple[LibraryBook]]:
    """The visible books on one of the account's shelves, the latest added first."""
    return (select(LibraryBook)
            .join(LibraryShelfItem, LibraryShelfItem.book_id == LibraryBook.id)
            .join(LibraryShelf, LibraryShelf.id == LibraryShelfItem.shelf_id)
            .where(LibraryShelf.id == shelf_id, LibraryShelf.account_id == account.id,
                   visible(account))
            .order_by(LibraryShelfItem.added_at.desc(), LibraryBook.id.desc()))


def book_shelf_ids(session: Session, account_id: int, book_id: int) -> set[int]:
    return set(session.scalars(
        select(LibraryShelfItem.shelf_id)
        .join(LibraryShelf, LibraryShelf.id == LibraryShelfItem.shelf_id)
        .where(LibraryShelf.account_id == account_id, LibraryShelfItem.book_id == book_id)))


def _clean_name(session: Session, account_id: int, raw: Any,
                shelf_id: int | None = None) -> str:
    name = " ".join(str(raw or "").replace("\x00", "").split())
    if not name:
        raise ReaderError(_("请填写书架名称"), "name")
    if len(name) > SHELF_NAME_MAX:
        raise ReaderError(_("书架名称不能超过 %(n)s 个字", n=SHELF_NAME_MAX), "name")
    if name in STANDARD.values() or name in {_(v) for v in STANDARD.values()}:
        raise ReaderError(_("“%(name)s”是系统书架的名称，请换一个", name=name), "name")
    taken = session.scalar(select(LibraryShelf.id).where(
        LibraryShelf.account_id == account_id, LibraryShelf.name == name))
    if taken is not None and taken != shelf_id:
        raise ReaderError(_("已经有名为“%(name)s”的书架", name=name), "name")
    return name


def _require(account: Any) -> None:
    if not may_use(account):
        raise ReaderError(_("您没有使用书架的权限"), status=403)


def create_shelf(session: Session, account: Any, name: Any) -> LibraryShelf:
    _require(account)
    clean = _clean_name(session, account.id, name)
    custom = session.scalar(select(func.count()).select_from(LibraryShelf).where(
        LibraryShelf.account_id == account.id, LibraryShelf.kind == ShelfKind.CUSTOM)) or 0
    if custom >= CUSTOM_SHELVES_MAX:
        raise ReaderError(_("自建书架最多 %(n)s 个", n=CUSTOM_SHELVES_MAX), "name")
    shelf = LibraryShelf(account_id=account.id, kind=ShelfKind.CUSTOM, name=clean)
    try:
        with session.begin_nested():
            session.add(shelf)
            session.flush()
    except IntegrityError:
        raise ReaderError(_("已经有名为“%(name)s”的书架", name=clean), "name") from None
    return shelf


def rename_shelf(session: Session, account: Any, shelf: LibraryShelf, name: Any) -> None:
    _require(account)
    if shelf.account_id != account.id:
        raise ReaderError(_("没有这个书架"), status=404)
    if shelf.kind != ShelfKind.CUSTOM:
        raise ReaderError(_("系统书架不能改名"), "name")
    clean = _clean_name(session, account.id, name, shelf.id)
    try:
        with session.begin_nested():
            shelf.name = clean
            session.flush()
    except IntegrityError:
        raise ReaderError(_("已经有名为“%(name)s”的书架", name=clean), "name") from None


def delete_shelf(session: Session, account: Any, shelf: LibraryShelf) -> None:
    """Delete a custom shelf (its books stay in the catalogue and on other shelves)."""
    _require(account)
    if shelf.account_id != account.id:
        raise ReaderError(_("没有这个书架"), status=404)
    if shelf.kind != ShelfKind.CUSTOM:
        raise ReaderError(_("系统书架不能删除"))
    session.execute(delete(LibraryShelfItem).where(LibraryShelfItem.shelf_id == shelf.id))
    session.delete(shelf)
    session.flush()


def add_book(session: Session, account: Any, shelf: LibraryShelf, book: LibraryBook) -> None:
    """Put ``book`` on ``shelf`` (a standard shelf takes it off the other two)."""
    _require(account)
    if shelf.account_id != account.id:
        raise ReaderError(_("没有这个书架"), status=404)
    if not access.can_see(account, book):
        raise ReaderError(_("没有这本书"), status=404)
    if shelf.kind in STANDARD:
        others = select(LibraryShelf.id).where(LibraryShelf.account_id == account.id,
                                                LibraryShelf.kind.in_(list(STANDARD)),
                                                LibraryShelf.id != shelf.id)
        session.execute(delete(LibraryShelfItem).where(
            LibraryShelfItem.book_id == book.id, LibraryShelfItem.shelf_id.in_(others)))
    session.execute(_insert(session, LibraryShelfItem).values(
        shelf_id=shelf.id, book_id=book.id, added_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["shelf_id", "book_id"]))


def remove_book(session: Session, account: Any, shelf: LibraryShelf, book_id: int) -> bool:
    _require(account)
    if shelf.account_id != account.id:
        raise ReaderError(_("没有这个书架"), status=404)
    result = session.execute(delete(LibraryShelfItem).where(
        LibraryShelfItem.shelf_id == shelf.id, LibraryShelfItem.book_id == book_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_reading(session: Session, account: Any, book: LibraryBook) -> None:
    """Put a book being opened on 在读 unless it is there or on 读过 already."""
    standard = ensure_standard(session, account.id)
    on = book_shelf_ids(session, account.id, book.id)
    if standard[ShelfKind.READING].id in on or standard[ShelfKind.FINISHED].id in on:
        return
    add_book(session, account, standard[ShelfKind.READING], book)
