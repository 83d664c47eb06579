"""Sending: enqueue a batch in the caller's transaction, set-based and exactly once.

``send()`` renders the message once, writes the inbox rows and one outbox row per
(member, external channel) with ``INSERT … SELECT … ON CONFLICT DO NOTHING`` against the
unique keys — so sending the same batch twice (a retried request, a re-run job) adds only the
members it did not have, and a 100,000-member audience is a handful of statements, not a loop.
The dispatcher job (:mod:`unionhub.notify.dispatch`) delivers the outbox after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    literal,
    null,
    select,
    true,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from unionhub.db import UTCDateTime
from unionhub.identity.models import Member
from unionhub.notify import clock
from unionhub.notify.models import (
    Notification,
    NotifyBatch,
    NotifyBinding,
    NotifyOutbox,
    NotifyPreference,
    OutboxStatus,
)
from unionhub.notify.registry import NotifyError, registry
from unionhub.notify.types import INBOX, Message, NotificationType

log = logging.getLogger(__name__)
DISPATCH_JOB = "core.notify_dispatch"
ID_CHUNK = 5000

Audience = Sequence[int] | Select[Any]


def dialect_insert(session: Session | Connection, model: Any) -> Any:
    """``INSERT`` with ``on_conflict_do_nothing`` for the session's database."""
    bind = session.get_bind() if isinstance(session, Session) else session
    name = bind.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the platform runs on PostgreSQL and SQLite only
        raise NotifyError(f"unsupported database {name}")
    return insert(model)


def _audiences(members: Audience) -> Iterable[Select[Any]]:
    """The audience as selects of member ids: a query as given, a list in chunks (bounded
    bind parameters; ids that are not members drop out)."""
    if isinstance(members, Select):
        yield members
        return
    ids = sorted({int(i) for i in members})
    for i in range(0, len(ids), ID_CHUNK):
        yield select(Member.id).where(Member.id.in_(ids[i:i + ID_CHUNK]))


def _batch(session: Session, nt: NotificationType, key: str, context: Mapping[str, Any],
           created_by: int | None) -> NotifyBatch:
    existing = session.scalar(select(NotifyBatch).where(NotifyBatch.type_key == nt.key,
                                                        NotifyBatch.key == key))
    if existing is not None:
        return existing
    message = nt.render(context)
    if not isinstance(message, Message):
        raise NotifyError(f"type {nt.key}: render must return a Message")
    stmt = dialect_insert(session, NotifyBatch).values(
        type_key=nt.key, key=key, context=dict(context), message=message.as_json(),
        created_by=created_by, created_at=clock.now(),
    ).on_conflict_do_nothing(index_elements=["type_key", "key"])
    session.execute(stmt)
    batch = session.scalar(select(NotifyBatch).where(NotifyBatch.type_key == nt.key,
                                                     NotifyBatch.key == key))
    assert batch is not None
    return batch


def _choice(nt: NotificationType, channel: str, member_col: Any) -> ColumnElement[bool] | None:
    """Who gets ``channel``: the defaults unless switched off, others only when switched on."""
    if not nt.member_choice:
        return true() if channel in nt.default_channels else None

    def pref(enabled: bool) -> ColumnElement[bool]:
        return exists().where(NotifyPreference.member_id == member_col,
                              NotifyPreference.type_key == nt.key,
                              NotifyPreference.channel == channel,
                              NotifyPreference.enabled.is_(enabled))

    return ~pref(False) if channel in nt.default_channels else pref(True)


def send(session: Session, type_key: str, members: Audience, context: Mapping[str, Any],
         batch_key: str, *, created_by: int | None = None, dispatch: bool = True,
         channels: Sequence[str] | None = None) -> NotifyBatch:
    """Queue notification ``type_key`` for ``members`` (ids, or a select of member ids) in
    ``session``'s transaction; nothing is sent before it commits. ``batch_key`` is the
    idempotency key: the same (type, batch_key) never reaches a member twice per channel.

    ``channels`` (a subset of the type's allowed channels) replaces the type's default
    channels for this batch — an officer's campaign picks them; a member who switched a
    channel off for this type still does not get it there."""
    reg = registry()
    nt = reg.type(type_key)
    if channels is not None:
        unknown = set(channels) - set(nt.allowed_channels)
        if unknown:
            raise NotifyError(f"type {nt.key}: channels {sorted(unknown)} are not allowed")
        nt = replace(nt, default_channels=tuple(channels))
    batch = _batch(session, nt, batch_key, context, created_by)
    message = Message.from_json(batch.message)
    now = literal(clock.now(), UTCDateTime())
    for audience in _audiences(members):
        ids = audience.distinct().subquery()
        member_col = ids.c[0]
        # Every INSERT … SELECT here has a WHERE: after a bare FROM, SQLite would read
        # "ON CONFLICT" as a join constraint.
        inbox = dialect_insert(session, Notification).from_select(
            ["member_id", "batch_id", "type_key", "title", "body", "url", "created_at"],
            select(member_col, literal(batch.id), literal(nt.key), literal(message.title),
                   literal(message.body), literal(message.url) if message.url else null(),
                   now).where(member_col.is_not(None)),
        ).on_conflict_do_nothing(index_elements=["batch_id", "member_id"])
        session.execute(inbox)
        for channel in nt.allowed_channels:
            if channels is not None and channel not in channels:
                continue
            cond = _choice(nt, channel, member_col)
            if cond is None:
                continue
            rows = dialect_insert(session, NotifyOutbox).from_select(
                ["batch_id", "member_id", "channel", "status", "attempts", "created_at"],
                select(literal(batch.id), member_col, literal(channel),
                       literal(OutboxStatus.PENDING.value), literal(0), now)
                .where(member_col.is_not(None), cond),
            ).on_conflict_do_nothing(index_elements=["batch_id", "member_id", "channel"])
            session.execute(rows)
    if dispatch:
        kick(session)
    return batch


def kick(session: Session) -> None:
    """Start a dispatcher when ``session`` commits (the beat would, within a minute)."""
    from unionhub.jobs import service as jobs

    if DISPATCH_JOB not in jobs.registry().specs:
        log.warning("job %s is not registered; the outbox waits", DISPATCH_JOB)
        return
    jobs.submit(DISPATCH_JOB, {}, session=session)


# --- preferences ---------------------------------------------------------------------------


def channels_for(session: Session, member_id: int, type_key: str) -> list[str]:
    """The channels ``member_id`` receives ``type_key`` on, inbox first."""
    nt = registry().type(type_key)
    prefs = dict(session.execute(select(NotifyPreference.channel, NotifyPreference.enabled)
                                 .where(NotifyPreference.member_id == member_id,
                                        NotifyPreference.type_key == type_key)).all())
    chosen = []
    for ch in nt.allowed_channels:
        on = ch in nt.default_channels
        if nt.member_choice and ch in prefs:
            on = bool(prefs[ch])
        if on:
            chosen.append(ch)
    return [INBOX, *chosen]


def set_preferences(session: Session, member_id: int, chosen: Mapping[str, set[str]]) -> None:
    """Record the member's channels for each choosable type in ``chosen`` (explicit rows, so
    a later change of a type's defaults does not override what the member picked)."""
    reg = registry()
    for type_key, channels in chosen.items():
        nt = reg.type(type_key)
        if not nt.member_choice:
            continue
        for ch in nt.allowed_channels:
            stmt = dialect_insert(session, NotifyPreference).values(
                member_id=member_id, type_key=type_key, channel=ch, enabled=ch in channels,
                updated_at=clock.now())
            session.execute(stmt.on_conflict_do_update(
                index_elements=["member_id", "type_key", "channel"],
                set_={"enabled": ch in channels, "updated_at": clock.now()}))


# --- inbox ---------------------------------------------------------------------------------


def unread_count(session: Session, member_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Notification).where(
        Notification.member_id == member_id, Notification.read_at.is_(None))) or 0)


def mark_read(session: Session, member_id: int, ids: Sequence[int] | None = None) -> int:
    """Mark the member's notifications ``ids`` (all when None) read; returns how many."""
    cond = [Notification.member_id == member_id, Notification.read_at.is_(None)]
    if ids is not None:
        cond.append(Notification.id.in_(list(ids)))
    result = session.execute(update(Notification).where(and_(*cond))
                             .values(read_at=clock.now())
                             .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- bindings ------------------------------------------------------------------------------


def binding(session: Session, member_id: int, channel: str) -> NotifyBinding | None:
    return session.scalar(select(NotifyBinding).where(NotifyBinding.member_id == member_id,
                                                      NotifyBinding.channel == channel))


def set_binding(session: Session, member_id: int, channel: str, address: str | None) -> None:
    """Bind (or, with None, unbind) ``member_id``'s address on ``channel``."""
    row = binding(session, member_id, channel)
    if address is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        session.add(NotifyBinding(member_id=member_id, channel=channel, address=address,
                                  status="active", created_at=clock.now(),
                                  updated_at=clock.now()))
    else:
        row.address, row.status, row.updated_at = address, "active", clock.now()
    session.flush()


# --- progress ------------------------------------------------------------------------------


def progress(session: Session, batch_id: int) -> dict[str, Any]:
    """Counts per channel and status for one batch (the campaign's progress)."""
    rows = session.execute(
        select(NotifyOutbox.channel, NotifyOutbox.status, func.count())
        .where(NotifyOutbox.batch_id == batch_id)
        .group_by(NotifyOutbox.channel, NotifyOutbox.status)).all()
    by_channel: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}
    for channel, status, n in rows:
        by_channel.setdefault(channel, {})[status] = n
        totals[status] = totals.get(status, 0) + n
    inbox = session.scalar(select(func.count()).select_from(Notification)
                           .where(Notification.batch_id == batch_id)) or 0
    read = session.scalar(select(func.count()).select_from(Notification)
                          .where(Notification.batch_id == batch_id,
                                 Notification.read_at.is_not(None))) or 0
    receipts = dict(session.execute(
        select(NotifyOutbox.receipt, func.count())
        .where(NotifyOutbox.batch_id == batch_id, NotifyOutbox.receipt.is_not(None))
        .group_by(NotifyOutbox.receipt)).all())
    outstanding = sum(totals.get(s, 0) for s in ("pending", "sending", "deferred"))
    return {"batch_id": batch_id, "by_channel": by_channel, "by_status": totals,
            "inbox": inbox, "read": read, "receipts": receipts,
            "done": outstanding == 0}
