"""Runs an import: stage (read, validate, bulk-load), review (SQL checks and preview
counts), apply (set-based, one transaction).

Rows are streamed: the file is never in memory as a whole. Large files are validated in
worker processes (validation, hashing and encryption are pure Python) while this process
loads the staging table — ``COPY`` on PostgreSQL, ``executemany`` on SQLite.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import multiprocessing
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Table, delete, func, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from unionhub.db import utcnow
from unionhub.imports.models import BatchStatus, ImportBatch
from unionhub.imports.reader import FileRejected, iter_values
from unionhub.imports.types import ImportHandler, RowError

log = logging.getLogger(__name__)
CHUNK = 5000  # rows per validation task
LOAD_ROWS = 50_000  # rows per staging transaction
PARALLEL_FROM_BYTES = 4 << 20  # smaller files are validated in this process
SAMPLE_ERRORS = 200
ERRORS_FILE = "errors.csv"


class ImportError_(RuntimeError):
    """An import that cannot go on (unknown handler, wrong state); message for the user."""


@dataclass
class ImportContext:
    """What handlers see during prepare, review and apply."""

    app: Flask
    batch_id: int
    handler: ImportHandler
    owner_id: int | None
    params: dict[str, Any]
    #: Filled by ``prepare``; passed to ``validate`` in worker processes (keep picklable).
    state: dict[str, Any] = field(default_factory=dict)
    session: Session | None = None
    progress: Callable[..., None] = lambda *a, **k: None

    @property
    def stage(self) -> Table:
        return self.handler.stage

    @property
    def dialect(self) -> str:
        return self.app.extensions["db"].engine.dialect.name

    def staged(self) -> Any:
        """``stage.c.import_id == this batch`` (every handler query starts from it)."""
        return self.stage.c.import_id == self.batch_id


def handlers(app: Flask) -> dict[str, ImportHandler]:
    return app.extensions["imports"]


def batch_dir(app: Flask, batch_id: int) -> Path:
    path = Path(app.instance_path) / "imports" / str(batch_id)
    path.mkdir(parents=True, exist_ok=True)
    return path


def create_batch(session: Session, app: Flask, handler_code: str, source: Path, filename: str,
                 owner_id: int | None, params: Mapping[str, Any] | None = None) -> ImportBatch:
    """Register an uploaded file (copied into the instance folder) as a new batch."""
    if handler_code not in handlers(app):
        raise ImportError_(f"unknown import handler {handler_code}")
    digest = hashlib.sha256()
    with source.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    batch = ImportBatch(handler=handler_code, filename=Path(filename).name[:300],
                        sha256=digest.hexdigest(), size=source.stat().st_size,
                        owner_id=owner_id, params=dict(params or {}), preview={},
                        applied={}, warnings=[], sample_errors=[])
    session.add(batch)
    session.flush()
    suffix = Path(filename).suffix.lower() or ".csv"
    shutil.copyfile(source, batch_dir(app, batch.id) / f"upload{suffix}")
    return batch


def upload_path(app: Flask, batch: ImportBatch) -> Path:
    suffix = Path(batch.filename).suffix.lower() or ".csv"
    return batch_dir(app, batch.id) / f"upload{suffix}"


# --- staging ------------------------------------------------------------------------------

def validate_chunk(validate: Callable[[Mapping[str, Any], Mapping[str, str]], tuple[Any, ...]],
                   state: Mapping[str, Any], keys: Sequence[str], batch_id: int,
                   chunk: Sequence[tuple[int, Sequence[str]]],
                   ) -> tuple[list[tuple[Any, ...]], list[tuple[int, str, str]]]:
    """Validate rows (in a worker process for large files). Returns the staged tuples and
    the rejected rows as (line, column, reason)."""
    good: list[tuple[Any, ...]] = []
    bad: list[tuple[int, str, str]] = []
    for line, values in chunk:
        try:
            row = {k: v.strip() for k, v in zip(keys, values, strict=True)}
            good.append((batch_id, line, *validate(state, row)))
        except RowError as exc:
            bad.append((line, exc.column, exc.reason))
    return good, bad


def bulk_insert(conn: Connection, table: Table, rows: list[tuple[Any, ...]]) -> None:
    """The fastest load each backend offers, bypassing the ORM. Values must be what the
    driver takes as they are: text, numbers, None (dates as ISO text)."""
    if not rows:
        return
    cols = [c.name for c in table.columns][: len(rows[0])]
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cur, cur.copy(  # type: ignore[union-attr]
            f'COPY {table.name} ({", ".join(cols)}) FROM STDIN'
        ) as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" * len(cols))
    cur = raw.cursor()  # type: ignore[union-attr]
    cur.executemany(f'INSERT INTO {table.name} ({", ".join(cols)}) VALUES ({marks})', rows)
    cur.close()


def _load(eng: Any, table: Table, rows: list[tuple[Any, ...]]) -> None:
    # A transaction per load: staged rows belong to this batch alone (a failed run is
    # restaged from the top), and SQLite's single writer stays free for progress reports.
    with eng.begin() as conn:
        bulk_insert(conn, table, rows)


def _count_lines(path: Path) -> int | None:
    if path.suffix.lower() != ".csv":
        return None
    n = 0
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            n += block.count(b"\n")
    return max(0, n - 1)


def _chunks(it: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(it)
    while chunk := list(islice(it, size)):
        yield chunk


class ErrorReport:
    """Rejected rows, streamed to a CSV the user downloads (UTF-8 with BOM for Excel)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh = path.open("w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.fh)
        self.writer.writerow(["行号", "列", "原因"])
        self.count = 0
        self.sample: list[list[Any]] = []

    def add(self, errors: Iterable[tuple[int, str, str]]) -> None:
        for line, column, reason in errors:
            self.writer.writerow([line, column, reason])
            self.count += 1
            if len(self.sample) < SAMPLE_ERRORS:
                self.sample.append([line, column, reason])

    def close(self) -> None:
        self.fh.close()


def stage(app: Flask, batch_id: int, progress: Callable[..., None]) -> dict[str, Any]:
    """Read, validate and stage every row of the batch's file, then review it (preview)."""
    db = app.extensions["db"]
    with db.factory() as s:
        batch = s.get(ImportBatch, batch_id)
        if batch is None or batch.status != BatchStatus.STAGING:
            raise ImportError_(f"import {batch_id} is not waiting to be staged")
        handler = handlers(app)[batch.handler]
        ctx = ImportContext(app, batch_id, handler, batch.owner_id, dict(batch.params),
                            progress=progress)
        path = upload_path(app, batch)
    report = ErrorReport(batch_dir(app, batch_id) / ERRORS_FILE)
    try:
        if handler.prepare is not None:
            handler.prepare(ctx)
        try:
            table, values = iter_values(path, handler.required, handler.optional)
        except FileRejected as exc:
            _fail(app, batch_id, str(exc))
            return {"rejected_file": str(exc)}
        total = _count_lines(path)
        rows = 0
        with db.engine.begin() as conn:
            conn.execute(delete(handler.stage).where(handler.stage.c.import_id == batch_id))
        pending: list[tuple[Any, ...]] = []
        for good, bad in _validated(handler, ctx.state, table.keys, batch_id, values,
                                    parallel=path.stat().st_size >= PARALLEL_FROM_BYTES):
            pending += good
            report.add(bad)
            rows += len(good) + len(bad)
            if len(pending) >= LOAD_ROWS:
                _load(db.engine, handler.stage, pending)
                pending = []
                progress(rows, total, f"已校验 {rows} 行")
        _load(db.engine, handler.stage, pending)
        if db.engine.dialect.name == "postgresql":
            # Fresh rows have no statistics: without them the planner nests loops over the
            # staging table (the apply's card-replacement UPDATE went quadratic).
            with db.engine.begin() as conn:
                conn.execute(text(f"ANALYZE {handler.stage.name}"))
        progress(rows, total, "正在比对现有数据", force=True)
        with db.factory() as s:
            ctx.session = s
            counts, rejects = handler.review(ctx)
            drop_lines(ctx, [line for line, _c, _r in rejects])
            report.add(sorted(rejects))
            batch = s.get(ImportBatch, batch_id)
            assert batch is not None
            batch.rows = rows
            batch.rejected = report.count
            batch.preview = {**counts, "rejected": report.count}
            batch.warnings = list(table.warnings)
            batch.sample_errors = report.sample
            batch.status = BatchStatus.READY
            s.commit()
        return {"rows": rows, **batch.preview}
    except Exception as exc:
        _fail(app, batch_id, f"{exc.__class__.__name__}: {exc}")
        raise
    finally:
        report.close()


def drop_lines(ctx: ImportContext, lines: Sequence[int]) -> None:
    """Remove rejected lines from the staging table (idempotent)."""
    assert ctx.session is not None
    for part in _chunks(lines, 900):  # stay under every backend's bind-parameter limit
        ctx.session.execute(delete(ctx.stage).where(ctx.staged(), ctx.stage.c.line.in_(part)))


def _validated(handler: ImportHandler, state: Mapping[str, Any], keys: Sequence[str],
               batch_id: int, values: Iterable[tuple[int, Sequence[str]]], *, parallel: bool
               ) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[int, str, str]]]]:
    chunks = _chunks(values, CHUNK)
    if not parallel:
        for chunk in chunks:
            yield validate_chunk(handler.validate, state, keys, batch_id, chunk)
        return
    workers = max(1, min(4, os.cpu_count() or 1))
    # spawn: the caller may be a threaded web process, where fork is unsafe.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending = []
        for chunk in chunks:
            pending.append(pool.submit(validate_chunk, handler.validate, state, keys,
                                       batch_id, chunk))
            # Bounded read-ahead keeps memory flat however large the file is.
            while len(pending) > workers * 2:
                yield pending.pop(0).result()
        for fut in pending:
            yield fut.result()


def _fail(app: Flask, batch_id: int, message: str) -> None:
    with app.extensions["db"].engine.begin() as conn:
        conn.execute(update(ImportBatch).where(ImportBatch.id == batch_id).values(
            status=BatchStatus.FAILED, error=message[:2000]))


# --- apply --------------------------------------------------------------------------------

def apply(app: Flask, batch_id: int, progress: Callable[..., None]) -> dict[str, int]:
    """Apply a reviewed batch in one transaction: all of it or nothing. A failed apply
    leaves the batch ready (its staged rows kept), so it can be applied again."""
    db = app.extensions["db"]
    with db.engine.begin() as conn:
        taken = conn.execute(update(ImportBatch).where(
            ImportBatch.id == batch_id, ImportBatch.status == BatchStatus.READY)
            .values(status=BatchStatus.APPLYING)).rowcount
    if not taken:
        raise ImportError_(f"import {batch_id} is not ready to apply")
    with db.factory() as s:
        batch = s.get(ImportBatch, batch_id)
        assert batch is not None
        handler = handlers(app)[batch.handler]
        staged = s.scalar(select(func.count()).select_from(handler.stage)
                          .where(handler.stage.c.import_id == batch_id)) or 0
        if not staged and batch.rows > batch.rejected:
            # PostgreSQL empties the (unlogged) staging tables after a crash: never mark a
            # batch applied with nothing applied.
            s.rollback()
            _fail(app, batch_id, LOST_STAGE)
            raise ImportError_(LOST_STAGE)
        if db.engine.dialect.name == "sqlite":
            # The apply transaction holds SQLite's only write lock: progress written from
            # another connection would wait for it. Report the start only.
            progress(0, None, "正在导入", force=True)
            progress = _quiet
        ctx = ImportContext(app, batch_id, handler, batch.owner_id, dict(batch.params),
                            session=s, progress=progress)
        try:
            if handler.prepare is not None:
                handler.prepare(ctx)
            progress(0, None, "正在导入", force=True)
            counts = handler.apply(ctx)
            s.execute(delete(handler.stage).where(handler.stage.c.import_id == batch_id))
            batch.status = BatchStatus.APPLIED
            batch.applied = counts
            batch.applied_at = utcnow()
            from unionhub.audit import service as audit
            from unionhub.identity.models import Account

            owner = s.get(Account, batch.owner_id) if batch.owner_id else None
            audit.record(f"import.{handler.code}", target_type="import", target_id=batch_id,
                         details={"file": batch.filename, **counts}, session=s, actor=owner)
            s.commit()
        except Exception:
            s.rollback()
            with db.engine.begin() as conn:
                conn.execute(update(ImportBatch).where(ImportBatch.id == batch_id)
                             .values(status=BatchStatus.READY))
            raise
    return counts


LOST_STAGE = "暂存的数据已不在（数据库异常重启后暂存表会清空），请重新上传该文件"


def _quiet(*_args: Any, **_kwargs: Any) -> None:
    return None


def discard(session: Session, app: Flask, batch: ImportBatch) -> None:
    handler = handlers(app)[batch.handler]
    session.execute(delete(handler.stage).where(handler.stage.c.import_id == batch.id))
    batch.status = BatchStatus.DISCARDED
