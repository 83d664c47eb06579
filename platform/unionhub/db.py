"""Database access: one declarative base, one engine per app, a session per app context."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base of the core and every plugin (one metadata, so foreign keys
    between plugin and core tables resolve)."""

    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp stored as UTC on every backend (SQLite drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use unionhub.db.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


class Database:
    """Holds the engine and the session factory of one app (``app.extensions["db"]``)."""

    def __init__(self, app: Flask) -> None:
        url = app.config["DATABASE_URL"]
        pool = {} if url.startswith("sqlite") else {
            "pool_size": int(app.config.get("DATABASE_POOL_SIZE", 5)),
            "max_overflow": int(app.config.get("DATABASE_MAX_OVERFLOW", 10))}
        self.engine = make_engine(url, **pool)
        self.factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        app.extensions["db"] = self
        app.teardown_appcontext(self._teardown)

    @staticmethod
    def _teardown(exc: BaseException | None) -> None:
        session: Session | None = g.pop("_db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


def get_db(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["db"]


def session() -> Session:
    """The session of the current app context (created on first use, closed at teardown)."""
    s: Session | None = g.get("_db_session")
    if s is None:
        s = get_db().factory()
        g._db_session = s
    return s


@contextmanager
def transaction() -> Iterator[Session]:
    """Commit on success, roll back on error, for the current app context's session."""
    s = session()
    try:
        yield s
        s.commit()
    except BaseException:
        s.rollback()
        raise
