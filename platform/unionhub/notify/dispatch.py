"""The dispatcher: claims due outbox rows, sends them within quota, records the outcome.

Row states: pending → sending → sent | failed | fallback | deferred (→ claimable again at
``next_attempt_at``). Everything the dispatcher knows is in the table, so a run can stop at
any point (time budget, quota window, crash, restart) and the next run carries on.

Exactly once, and what a crash does:

* A claim is one ``UPDATE … WHERE status IN (pending, deferred) RETURNING`` (with
  ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), committed *before* the channel is called; the
  run's id is written into ``claimed_by`` and every later update requires it, so two workers
  never send one row and a late worker cannot overwrite another's outcome.
* The outcome is committed right after the batch. A crash in between leaves rows in
  "sending". After ``sending_timeout`` the recovery step looks for proof: a WeChat receipt
  (``TEMPLATESENDJOBFINISH``) for the member's openid since the claim marks the row sent.
  Without proof the channel's ``on_interrupted`` decides; the core channels use **at most
  once** ("fail"): a lost message is visible on the campaign page and can be re-sent by
  the officer, a duplicate cannot be taken back and spends quota. Batches are small (100)
  so a crash leaves little in doubt.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    delete,
    exists,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from unionhub.db import UTCDateTime
from unionhub.notify import clock, throttle
from unionhub.notify.models import (
    NotifyBatch,
    NotifyBinding,
    NotifyOutbox,
    NotifyReceipt,
    OutboxStatus,
)
from unionhub.notify.registry import NotifyRegistry, registry
from unionhub.notify.settings import read
from unionhub.notify.types import (
    ChannelSpec,
    Failed,
    Fallback,
    Message,
    OutboxItem,
    QuotaExhausted,
    RetryLater,
    SendResult,
    Sent,
    Unknown,
)

log = logging.getLogger(__name__)
HOST = f"{socket.gethostname()}:{os.getpid()}"
IDLE_RECHECK = 5.0  # seconds before a run looks at a channel that had nothing due
Ob = NotifyOutbox


@dataclass
class Config:
    batch_size: int = 100
    seconds: float = 50.0
    sending_timeout: float = 600.0
    limits: dict[str, throttle.Limits] = field(default_factory=dict)


def load_config(reg: NotifyRegistry) -> Config:
    """Settings once per run (each read is a query)."""
    from unionhub import db

    cfg = Config(batch_size=int(read("dispatch_batch_size") or 100),
                 seconds=float(read("dispatch_seconds") or 50),
                 sending_timeout=float(read("sending_timeout") or 600))
    for ch in reg.external:
        spec = reg.channel(ch)
        per_minute, per_day = spec.per_minute, spec.per_day
        if "." not in ch:
            per_minute = int(read(f"quota_{ch}_per_minute") or 0)
            per_day = int(read(f"quota_{ch}_per_day") or 0)
        cfg.limits[ch] = throttle.Limits(per_minute, per_day)
    db.session().close()  # no transaction left open for the rest of the run
    return cfg


@dataclass
class Run:
    """One dispatcher run: its identity (written into claimed rows) and what it did."""

    app: Flask
    reg: NotifyRegistry
    cfg: Config
    id: str = field(default_factory=lambda: f"{HOST}:{uuid.uuid4().hex[:12]}"[:64])
    counts: Counter[str] = field(default_factory=Counter)
    messages: dict[int, tuple[str, Message]] = field(default_factory=dict)
    #: Channels that had nothing to claim, and when to look again (saves the quota and
    #: claim statements of idle channels on every pass).
    idle_until: dict[str, float] = field(default_factory=dict)

    @property
    def engine(self) -> Engine:
        return self.app.extensions["db"].engine


def _is_pg(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


# --- claiming ------------------------------------------------------------------------------


def claim(run: Run, channel: str, n: int, now: datetime) -> list[tuple[int, int, int, int]]:
    """Up to ``n`` due rows of ``channel`` → sending, for this run only. Returns
    (id, batch_id, member_id, attempts) of the rows this run got."""
    got: list[tuple[int, int, int, int]] = []
    for status, due in ((OutboxStatus.DEFERRED, Ob.next_attempt_at <= now),
                        (OutboxStatus.PENDING, None)):
        want = n - len(got)
        if want <= 0:
            break
        ids = select(Ob.id).where(Ob.channel == channel, Ob.status == status)
        if due is not None:
            ids = ids.where(due)
        ids = ids.order_by(Ob.next_attempt_at, Ob.id).limit(want)
        if _is_pg(run.engine):
            # A locking subquery inside IN () may be re-run per outer row (nested loop)
            # and, seeing the rows this very UPDATE changed, lock ever more of them: the
            # materialized CTE runs it exactly once.
            picked = ids.with_for_update(skip_locked=True).cte("picked").prefix_with(
                "MATERIALIZED")
            cond = Ob.id.in_(select(picked.c.id))
        else:  # SQLite evaluates IN (SELECT … LIMIT) once, under its write lock
            cond = Ob.id.in_(ids.scalar_subquery())
        stmt = (update(Ob).where(cond, Ob.status == status)
                .values(status=OutboxStatus.SENDING, claimed_by=run.id, claimed_at=now,
                        attempts=Ob.attempts + 1, next_attempt_at=None)
                .returning(Ob.id, Ob.batch_id, Ob.member_id, Ob.attempts))
        with run.engine.begin() as conn:
            got.extend(tuple(r) for r in conn.execute(stmt).all())  # type: ignore[misc]
    return got


def _items(run: Run, spec: ChannelSpec, rows: Sequence[tuple[int, int, int, int]]
           ) -> list[OutboxItem]:
    with Session(run.engine) as s:
        missing = {r[1] for r in rows} - set(run.messages)
        if missing:
            for bid, type_key, message in s.execute(select(
                    NotifyBatch.id, NotifyBatch.type_key, NotifyBatch.message
            ).where(NotifyBatch.id.in_(missing))):
                run.messages[bid] = (type_key, Message.from_json(message))
        addresses = spec.resolve(s, [r[2] for r in rows]) if spec.resolve else {}
    return [OutboxItem(id=r[0], batch_id=r[1], member_id=r[2], channel=spec.key,
                       type_key=run.messages[r[1]][0], message=run.messages[r[1]][1],
                       address=addresses.get(r[2]), attempts=r[3]) for r in rows]


# --- recording outcomes --------------------------------------------------------------------

_RECORD = (
    update(Ob)
    .where(Ob.id == bindparam("_id"), Ob.claimed_by == bindparam("_run"),
           Ob.status == OutboxStatus.SENDING)
    .values(status=bindparam("_status", type_=String()),
            next_attempt_at=bindparam("_next", type_=UTCDateTime()),
            sent_at=bindparam("_sent", type_=UTCDateTime()),
            msgid=bindparam("_msgid", type_=String()),
            error=bindparam("_error", type_=String()),
            attempts=Ob.attempts - bindparam("_undo", type_=Integer()))
)


def _outcome(run: Run, spec: ChannelSpec, item: OutboxItem, result: SendResult | None,
             now: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {"_id": item.id, "_run": run.id, "_next": None, "_sent": None,
                           "_msgid": None, "_error": None, "_undo": 0}
    if result is None:  # not attempted: back in the queue, the attempt does not count
        return {**row, "_status": OutboxStatus.PENDING, "_undo": 1}
    if isinstance(result, Sent):
        return {**row, "_status": OutboxStatus.SENT, "_sent": now,
                "_msgid": (result.ref or None) and result.ref[:64]}
    if isinstance(result, RetryLater):
        if item.attempts >= spec.max_attempts:
            return {**row, "_status": OutboxStatus.FAILED,
                    "_error": f"已重试 {item.attempts} 次: {result.reason}"[:300]}
        return {**row, "_status": OutboxStatus.DEFERRED, "_error": result.reason[:300],
                "_next": now + timedelta(seconds=result.delay)}
    if isinstance(result, Fallback):
        status = OutboxStatus.FALLBACK if spec.fallback in run.reg.channels else \
            OutboxStatus.FAILED
        return {**row, "_status": status, "_error": result.reason[:300]}
    if isinstance(result, QuotaExhausted):
        return {**row, "_status": OutboxStatus.DEFERRED, "_error": result.reason[:300],
                "_next": result.until or clock.next_day_start(now), "_undo": 1}
    if isinstance(result, Unknown):
        return {**row, "_status": OutboxStatus.SENDING, "_error": result.reason[:300]}
    if isinstance(result, Failed):
        return {**row, "_status": OutboxStatus.FAILED, "_error": result.reason[:300]}
    raise TypeError(f"channel {spec.key} returned {result!r}")


def add_fallbacks(conn: Connection, spec: ChannelSpec, ids: Sequence[int],
                  now: datetime) -> None:
    """One row on the fallback channel per row in ``ids`` (same batch and member; skipped
    when the member already has one, so still once per batch, member and channel)."""
    if not ids or not spec.fallback:
        return
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(insert(Ob).from_select(
        ["batch_id", "member_id", "channel", "status", "attempts", "created_at",
         "fallback_of_id"],
        select(Ob.batch_id, Ob.member_id, literal(spec.fallback),
               literal(OutboxStatus.PENDING.value), literal(0),
               literal(now, UTCDateTime()), Ob.id).where(Ob.id.in_(list(ids))),
    ).on_conflict_do_nothing(index_elements=["batch_id", "member_id", "channel"]))


def apply_receipts(conn: Connection, msgids: Sequence[str]) -> None:
    """Receipts that arrived before their msgid was recorded move onto the rows."""
    if not msgids:
        return
    early = conn.execute(select(NotifyReceipt.msgid, NotifyReceipt.status,
                                NotifyReceipt.received_at)
                         .where(NotifyReceipt.msgid.in_(list(msgids)))).all()
    for msgid, status, at in early:
        conn.execute(update(Ob).where(Ob.msgid == msgid).values(receipt=status, receipt_at=at))
    if early:
        conn.execute(delete(NotifyReceipt).where(
            NotifyReceipt.msgid.in_([m for m, _s, _a in early])))


def record(run: Run, spec: ChannelSpec, items: Sequence[OutboxItem],
           results: Sequence[SendResult | None], now: datetime) -> None:
    rows = [_outcome(run, spec, item, result, now) for item, result in zip(items, results,
                                                                           strict=True)]
    quota = next((r for r in results if isinstance(r, QuotaExhausted)), None)
    with run.engine.begin() as conn:
        conn.execute(_RECORD, rows)
        add_fallbacks(conn, spec, [r["_id"] for r in rows
                                   if r["_status"] == OutboxStatus.FALLBACK], now)
        apply_receipts(conn, [r["_msgid"] for r in rows if r["_msgid"]])
        if quota is not None:
            until = quota.until or clock.next_day_start(now)
            throttle.stop(conn, spec.key, until, quota.reason)
            defer_pending(conn, spec.key, until, quota.reason)
    for r, result in zip(rows, results, strict=True):
        run.counts["released" if result is None else str(r["_status"])] += 1
    if spec.fallback and any(r["_status"] == OutboxStatus.FALLBACK for r in rows):
        run.idle_until.pop(spec.fallback, None)  # it has work now


def defer_pending(conn: Connection, channel: str, until: datetime, reason: str) -> None:
    """The channel is out of quota: its queued rows wait, visibly, for the next window."""
    conn.execute(update(Ob).where(Ob.channel == channel, Ob.status == OutboxStatus.PENDING)
                 .values(status=OutboxStatus.DEFERRED, next_attempt_at=until,
                         error=reason[:300]))


# --- one channel, one batch ----------------------------------------------------------------


def send_batch(run: Run, channel: str) -> int:
    """Claim and send one batch of ``channel``; returns how many rows were handled."""
    spec = run.reg.channel(channel)
    assert spec.sender is not None
    if run.idle_until.get(channel, 0.0) > time.monotonic():
        return 0
    now = clock.now()
    with Session(run.engine) as s:
        if throttle.stopped_until(s, channel, now):
            return 0
    limits = run.cfg.limits.get(channel, throttle.Limits())
    grant = throttle.reserve(run.engine, channel, min(spec.batch_size, run.cfg.batch_size),
                             limits, now)
    if grant.n == 0:
        if grant.limited_by == "day":
            until = clock.next_day_start(now)
            with run.engine.begin() as conn:
                defer_pending(conn, channel, until, "每日发送上限已用完")
        run.counts[f"throttled.{grant.limited_by}"] += 1
        return 0
    rows = claim(run, channel, grant.n, now)
    throttle.release(run.engine, channel, grant, grant.n - len(rows), limits)
    if not rows:
        run.idle_until[channel] = time.monotonic() + IDLE_RECHECK
        return 0
    items = _items(run, spec, rows)
    try:
        results = list(spec.sender(items))
    except Exception as exc:  # the outcome of each item is unknown now
        log.exception("channel %s sender failed", channel)
        results = [Unknown(f"发送程序异常: {exc.__class__.__name__}")] * len(items)
    results = results[:len(items)] + [None] * (len(items) - len(results))
    throttle.release(run.engine, channel, grant,
                     sum(1 for r in results if r is None or isinstance(r, QuotaExhausted)),
                     limits)
    record(run, spec, items, results, clock.now())
    return len(rows)


# --- recovery ------------------------------------------------------------------------------


def recover(run: Run, now: datetime | None = None) -> int:
    """Resolve rows left "sending" longer than ``sending_timeout``: a receipt proves the
    message was delivered; otherwise the channel's ``on_interrupted`` applies."""
    now = now or clock.now()
    cutoff = now - timedelta(seconds=run.cfg.sending_timeout)
    with Session(run.engine) as s:
        stale = s.execute(select(Ob.id, Ob.channel, Ob.member_id, Ob.claimed_at, Ob.claimed_by)
                          .where(Ob.status == OutboxStatus.SENDING, Ob.claimed_at < cutoff)
                          .order_by(Ob.id).limit(5000)).all()
    if not stale:
        return 0
    with run.engine.begin() as conn:
        for oid, channel, member_id, claimed_at, claimed_by in stale:
            cond = and_(Ob.id == oid, Ob.status == OutboxStatus.SENDING,
                        Ob.claimed_by == claimed_by)
            receipt = _receipt_for(conn, channel, member_id, claimed_at)
            if receipt is not None:
                msgid, status, at = receipt
                conn.execute(update(Ob).where(cond).values(
                    status=OutboxStatus.SENT, sent_at=at, msgid=msgid, receipt=status,
                    receipt_at=at, error=None))
                conn.execute(delete(NotifyReceipt).where(NotifyReceipt.msgid == msgid))
                run.counts["recovered.sent"] += 1
                continue
            spec = run.reg.channels.get(channel)
            if spec is not None and spec[1].on_interrupted == "retry":
                conn.execute(update(Ob).where(cond).values(status=OutboxStatus.PENDING,
                                                          claimed_by=None))
                run.counts["recovered.retry"] += 1
            else:
                conn.execute(update(Ob).where(cond).values(
                    status=OutboxStatus.FAILED,
                    error="发送中断且无送达回执，按至多一次处理，未重发"))
                run.counts["recovered.failed"] += 1
    return len(stale)


def _receipt_for(conn: Connection, channel: str, member_id: int, since: datetime
                 ) -> tuple[str, str, datetime] | None:
    if channel != "wechat":
        return None
    openid = select(NotifyBinding.address).where(
        NotifyBinding.member_id == member_id, NotifyBinding.channel == "wechat"
    ).scalar_subquery()
    row = conn.execute(select(NotifyReceipt.msgid, NotifyReceipt.status,
                              NotifyReceipt.received_at)
                       .where(NotifyReceipt.openid == openid,
                              NotifyReceipt.received_at >= since - timedelta(minutes=1),
                              ~exists().where(Ob.msgid == NotifyReceipt.msgid))
                       .order_by(NotifyReceipt.received_at).limit(1)).first()
    return (row[0], row[1], row[2]) if row else None


# --- the run -------------------------------------------------------------------------------


def due_work(app: Flask, now: datetime | None = None) -> int:
    """Rows some channel could send now (ignoring per-minute quotas); 0 means done."""
    now = now or clock.now()
    reg = registry(app)
    with Session(app.extensions["db"].engine) as s:
        channels = [c for c in reg.external if not throttle.stopped_until(s, c, now)]
        if not channels:
            return 0
        return len(s.scalars(select(Ob.id).where(
            Ob.channel.in_(channels),
            or_(Ob.status == OutboxStatus.PENDING,
                and_(Ob.status == OutboxStatus.DEFERRED, Ob.next_attempt_at <= now)),
        ).limit(10_000)).all())


def dispatch(app: Flask, *, seconds: float | None = None,
             on_progress: Callable[[Counter[str]], None] | None = None) -> tuple[Counter[str],
                                                                                bool]:
    """Send until nothing is due, every channel is throttled, or ``seconds`` have passed.
    Returns the counts and whether work may remain (time ran out while still sending)."""
    reg = registry(app)
    run = Run(app, reg, load_config(reg))
    recover(run)
    deadline = time.monotonic() + (seconds if seconds is not None else run.cfg.seconds)
    while True:
        worked = 0
        for channel in reg.external:  # one batch per channel per pass
            worked += send_batch(run, channel)
            if on_progress is not None:
                on_progress(run.counts)
        if not worked:
            return run.counts, False
        if time.monotonic() >= deadline:
            return run.counts, True
