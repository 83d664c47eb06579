"""Return files (回盘文件): the bank's result per reference, applied exactly once.

Columns: 业务参考号, 银行流水号, 处理状态 (成功/失败), 失败原因, 处理时间 — CSV (UTF-8 or GBK) or
XLSX, read with :mod:`unionhub.imports.reader`. The file is validated as a whole first (a
missing column or a malformed row refuses it, nothing written); then each row moves its line
with a conditional update ``WHERE status = 'sent'``, so a result is applied once however often
the file is imported. Unknown references and duplicates (within the file, or already
processed) are reported, never applied; so are references of a batch that was never sent (held
for sign-off, or void after a refused sign-off).

Success: line paid, payout paid (``paid_first_batch`` when it was its first attempt), a claim
payout's claim paid, the member notified. Failure: line failed, payout ``payee_needed`` with
the bank's reason, to be fixed and sent in a new batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, case, exists, false, select, true, update
from sqlalchemy.orm import Session

from unionhub import notify
from unionhub.audit import service as audit
from unionhub.db import utcnow
from unionhub.imports.parsing import parse_date
from unionhub.imports.reader import FileRejected, iter_rows
from unionhub.imports.types import RowError

from ..models import ClaimStatus, MutualaidClaim, MutualaidPayout, PayoutStatus
from .models import (
    BATCH_STATUS_LABELS,
    SENDABLE,
    BatchStatus,
    LineStatus,
    MutualaidPayoutBatch,
    MutualaidPayoutLine,
    MutualaidPayoutReturn,
)

REQUIRED = ("业务参考号", "银行流水号", "处理状态")
OPTIONAL = ("失败原因", "处理时间")
RESULTS = {"成功": LineStatus.PAID, "失败": LineStatus.FAILED}
RESULT_LABELS = {LineStatus.PAID: "成功", LineStatus.FAILED: "失败"}
NO_REASON = "银行未说明原因"


class ReturnFileRejected(ValueError):
    """The whole file is refused; ``errors`` name the rows and fields."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("；".join(errors[:5]))
        self.errors = errors


@dataclass(frozen=True)
class ReturnRow:
    line_no: int
    reference: str
    serial: str
    result: str  # LineStatus.PAID | FAILED
    reason: str | None
    processed_on: date | None


@dataclass
class Report:
    rows: int = 0
    paid: int = 0
    failed: int = 0
    duplicates: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    previously_imported: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.paid or self.failed)

    @property
    def summary(self) -> str:
        head = (f"共 {self.rows} 行：成功入账 {self.paid} 笔，失败 {self.failed} 笔，"
                f"重复 {len(self.duplicates)} 行，未知业务参考号 {len(self.unknown)} 行")
        if not self.changed:
            head += "。本次没有新的结果，未做任何更改"
            if self.previously_imported:
                head += "（该文件此前已导入过）"
        return head

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "rows": self.rows, "paid": self.paid,
                "failed": self.failed, "duplicates": self.duplicates, "unknown": self.unknown,
                "problems": self.problems, "warnings": self.warnings,
                "previously_imported": self.previously_imported}


def _processed_on(text: str) -> date | None:
    """The date part of 处理时间 (``2026-03-01 10:20:30``, ``2026/3/1``, ``20260301102030`` …)."""
    text = text.strip()
    if not text:
        return None
    token = text.split()[0]
    if token.isdigit() and len(token) == 14:
        token = token[:8]
    return parse_date("处理时间", token)


def parse(raw: Iterable[tuple[int, dict[str, str]]]) -> list[ReturnRow]:
    """Validate every row; raises :class:`ReturnFileRejected` listing each bad row."""
    out: list[ReturnRow] = []
    errors: list[str] = []
    for line_no, row in raw:
        ref = row.get("业务参考号", "").strip()
        status = row.get("处理状态", "").strip()
        try:
            if not ref:
                raise RowError("业务参考号", "不能为空")
            if status not in RESULTS:
                raise RowError("处理状态", f"「{status}」应为 成功 或 失败")
            processed_on = _processed_on(row.get("处理时间") or "")
        except RowError as exc:
            errors.append(f"第 {line_no} 行「{exc.column}」：{exc.reason}")
            continue
        serial = row.get("银行流水号", "").strip()
        reason = (row.get("失败原因") or "").strip() or None
        out.append(ReturnRow(line_no, ref, serial, RESULTS[status], reason, processed_on))
    if errors:
        raise ReturnFileRejected(errors)
    return out


def read(path: str | Path) -> tuple[list[ReturnRow], list[str]]:
    """(rows, warnings) of a return file; raises :class:`ReturnFileRejected`."""
    try:
        table, raw = iter_rows(path, REQUIRED, OPTIONAL)
        rows = parse(raw)
    except FileRejected as exc:
        raise ReturnFileRejected([str(exc)]) from None
    except UnicodeDecodeError:
        raise ReturnFileRejected(["无法识别文件编码（支持 UTF-8 与 GBK/GB18030）"]) from None
    if not rows:
        raise ReturnFileRejected(["文件中没有回盘记录"])
    return rows, table.warnings


def _card_tail(line: MutualaidPayoutLine) -> str:
    return line.card.number_masked.replace(" ", "")[-4:]


def _pay(session: Session, line: MutualaidPayoutLine, row: ReturnRow, report: Report) -> None:
    paid_on = row.processed_on or date.today()
    payout_id = line.payout_id
    done = session.execute(
        update(MutualaidPayout)
        .where(MutualaidPayout.id == payout_id, MutualaidPayout.status == PayoutStatus.BATCHED)
        .values(status=PayoutStatus.PAID, paid_on=paid_on, failure=None,
                paid_first_batch=case((MutualaidPayout.attempts == 1, true()), else_=false()),
                updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    if done != 1:
        report.problems.append(f"第 {row.line_no} 行：业务参考号 {row.reference} 的发放记录"
                               "状态异常，明细已记为成功，请核对")
        return
    payout = session.get(MutualaidPayout, payout_id, populate_existing=True)
    assert payout is not None
    if payout.source == "claim":
        session.execute(
            update(MutualaidClaim)
            .where(MutualaidClaim.id == payout.source_id,
                   MutualaidClaim.status == ClaimStatus.APPROVED)
            .values(status=ClaimStatus.PAID, paid_on=paid_on, updated_at=utcnow())
            .execution_options(synchronize_session=False))
    notify.send(session, "mutualaid.paid", [payout.member_id],
                {"summary": payout.summary, "amount": f"{payout.amount:.2f}",
                 "card_tail": _card_tail(line)}, batch_key=f"payout-{payout.id}")
    report.paid += 1


def _fail(session: Session, line: MutualaidPayoutLine, row: ReturnRow, report: Report) -> None:
    reason = f"银行退回：{row.reason or NO_REASON}"[:200]
    done = session.execute(
        update(MutualaidPayout)
        .where(MutualaidPayout.id == line.payout_id,
               MutualaidPayout.status == PayoutStatus.BATCHED)
        .values(status=PayoutStatus.PAYEE_NEEDED, failure=reason, updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    if done != 1:
        report.problems.append(f"第 {row.line_no} 行：业务参考号 {row.reference} 的发放记录"
                               "状态异常，明细已记为失败，请核对")
    report.failed += 1


def apply(session: Session, rows: list[ReturnRow], *, scope: ColumnElement[bool] | None = None
          ) -> Report:
    """Apply the results to the lines of batches within ``scope`` (a WHERE clause on
    ``MutualaidPayoutBatch.org_path``; references outside it count as unknown)."""
    report = Report(rows=len(rows))
    seen: dict[str, int] = {}
    touched: set[int] = set()
    now = utcnow()
    for row in rows:
        if row.reference in seen:
            report.duplicates.append(f"第 {row.line_no} 行：业务参考号 {row.reference} 与第 "
                                     f"{seen[row.reference]} 行重复，已忽略")
            continue
        seen[row.reference] = row.line_no
        found = session.execute(
            select(MutualaidPayoutLine, MutualaidPayoutBatch.status)
            .join(MutualaidPayoutBatch, MutualaidPayoutBatch.id == MutualaidPayoutLine.batch_id)
            .where(MutualaidPayoutLine.reference == row.reference,
                   scope if scope is not None else true())
            .execution_options(populate_existing=True)).first()
        if found is None:
            report.unknown.append(f"第 {row.line_no} 行：业务参考号 {row.reference} 不存在")
            continue
        line, batch_status = found
        if batch_status not in SENDABLE:  # held for sign-off or void: never sent to the bank
            label = BATCH_STATUS_LABELS.get(batch_status, batch_status)
            report.problems.append(f"第 {row.line_no} 行：业务参考号 {row.reference} 所在批次"
                                   f"「{label}」，代发文件未发出，结果未处理，请核对")
            continue
        if line.status != LineStatus.SENT:
            same = "结果相同" if line.status == row.result else (
                f"与已登记结果「{RESULT_LABELS.get(line.status, line.status)}」不一致，请核对")
            report.duplicates.append(f"第 {row.line_no} 行：业务参考号 {row.reference} "
                                     f"已处理过（{same}），未重复处理")
            continue
        moved = session.execute(
            update(MutualaidPayoutLine)
            .where(MutualaidPayoutLine.id == line.id,
                   MutualaidPayoutLine.status == LineStatus.SENT,
                   exists().where(MutualaidPayoutBatch.id == MutualaidPayoutLine.batch_id,
                                  MutualaidPayoutBatch.status.in_(SENDABLE)))
            .values(status=row.result, bank_serial=row.serial or None,
                    failure=(row.reason or NO_REASON)[:200]
                    if row.result == LineStatus.FAILED else None,
                    processed_at=now)
            .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
        if moved != 1:  # someone applied it between our read and this update
            report.duplicates.append(f"第 {row.line_no} 行：业务参考号 {row.reference} "
                                     "已被同时处理，未重复处理")
            continue
        touched.add(line.batch_id)
        (_pay if row.result == LineStatus.PAID else _fail)(session, line, row, report)
    if touched:
        session.execute(
            update(MutualaidPayoutBatch)
            .where(MutualaidPayoutBatch.id.in_(touched),
                   MutualaidPayoutBatch.status == BatchStatus.GENERATED,
                   ~exists().where(MutualaidPayoutLine.batch_id == MutualaidPayoutBatch.id,
                                   MutualaidPayoutLine.status == LineStatus.SENT))
            .values(status=BatchStatus.RETURNED, returned_at=now)
            .execution_options(synchronize_session=False))
    return report


def import_file(session: Session, path: str | Path, filename: str, *, org_path: str,
                scope: ColumnElement[bool] | None = None, actor: Any = None
                ) -> MutualaidPayoutReturn:
    """Read, apply and record one return file (the caller commits). Raises
    :class:`ReturnFileRejected` before anything is written when the file is malformed."""
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    rows, warnings = read(path)
    report = apply(session, rows, scope=scope)
    report.warnings = warnings
    report.previously_imported = bool(session.scalar(select(exists().where(
        MutualaidPayoutReturn.sha256 == digest))))
    record = MutualaidPayoutReturn(
        filename=filename[:255], sha256=digest, org_path=org_path, rows=report.rows,
        paid=report.paid, failed=report.failed, duplicates=len(report.duplicates),
        unknown=len(report.unknown), errors=len(report.problems), report=report.to_dict(),
        imported_at=utcnow(), imported_by=getattr(actor, "id", None))
    session.add(record)
    session.flush()
    audit.record("mutualaid.payout.return_import", target_type="mutualaid_payout_return",
                 target_id=record.id, org_path=org_path, actor=actor, session=session,
                 details={"file": filename[:100], "paid": report.paid, "failed": report.failed,
                          "duplicates": len(report.duplicates), "unknown": len(report.unknown)})
    return record


def simulate(session: Session, lines: Iterable[MutualaidPayoutLine],
             failures: dict[int, str] | None = None, on: date | None = None) -> Report:
    """Apply a result for ``lines`` as if the bank had returned them (the demo): success,
    or failure with ``failures[line.id]``."""
    failures = failures or {}
    rows = [ReturnRow(i, ln.reference, f"SIM{ln.id:010d}" if ln.id not in failures else "",
                      LineStatus.FAILED if ln.id in failures else LineStatus.PAID,
                      failures.get(ln.id), on)
            for i, ln in enumerate(lines, start=2)]
    return apply(session, rows)
