"""Stored files that follow the database transaction.

A book file or cover is written to disk before the rows that name it are committed. Files
written through :func:`store` are deleted again when the session's outermost transaction
ends without committing (a rollback, or a session closed with its transaction open), and
files handed to :func:`delete_after_commit` (a replaced cover) are deleted only once the
change that stopped using them has committed. So a refused or failed change leaves no file
behind and a committed one never points at a missing file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from .. import storage
from .covers import write_atomically

_NEW = "library_catalogue_new_files"
_OLD = "library_catalogue_old_files"
_HOOKED = "library_catalogue_files_hooked"


def _unlink(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def _hook(session: Session) -> None:
    if session.info.get(_HOOKED):
        return
    session.info[_HOOKED] = True

    def after_commit(sess: Session) -> None:
        if sess.in_nested_transaction():  # a savepoint: the outer transaction decides
            return
        sess.info.pop(_NEW, None)
        _unlink(sess.info.pop(_OLD, []))

    def after_transaction_end(sess: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is not None:
            return
        sess.info.pop(_OLD, None)
        _unlink(sess.info.pop(_NEW, []))

    event.listen(session, "after_commit", after_commit)
    event.listen(session, "after_transaction_end", after_transaction_end)


def begin_nested(session: Session) -> SessionTransaction:
    """``session.begin_nested()`` that is a real savepoint on SQLite too.

    The sqlite3 driver opens a transaction only before its first INSERT/UPDATE/DELETE, so a
    ``SAVEPOINT`` issued after nothing but reads *starts* the transaction, and releasing it
    commits — the caller's later rollback would then leave the rows while the files they
    name are deleted. Opening the transaction explicitly first keeps savepoint semantics.
    """
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        if raw is not None and not getattr(raw, "in_transaction", True):
            conn.exec_driver_sql("BEGIN")
    return session.begin_nested()


def store(session: Session, area: str, ext: str, data: bytes) -> str:
    """Write ``data`` under a new stored name in ``area``; it disappears again unless the
    session commits."""
    _hook(session)
    session.connection()  # the transaction this file follows must exist from now on
    name = storage.new_name(ext)
    write_atomically(area, name, data)
    path = storage.path_of(area, name)
    assert path is not None
    session.info.setdefault(_NEW, []).append(path)
    return name


def delete_after_commit(session: Session, area: str, name: str | None) -> None:
    """Delete a stored file once the current transaction commits (kept on rollback)."""
    path = storage.path_of(area, name)
    if path is None:
        return
    _hook(session)
    session.info.setdefault(_OLD, []).append(path)


@contextlib.contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A savepoint that also takes back the files stored (and the deletions planned) inside
    it when it fails; the exception goes on to the caller."""
    _hook(session)
    new_mark = len(session.info.get(_NEW, []))
    old_mark = len(session.info.get(_OLD, []))
    nested = begin_nested(session)
    try:
        yield
    except BaseException:
        nested.rollback()
        new: list[Path] = session.info.get(_NEW, [])
        _unlink(new[new_mark:])
        del new[new_mark:]
        del session.info.get(_OLD, [])[old_mark:]
        raise
    nested.commit()
