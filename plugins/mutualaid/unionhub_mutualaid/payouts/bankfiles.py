"""The bank batch payout file (批量代发文件), GBK CSV or XLSX.

Layout (DOMAIN "Bank batch payout file")::

    批次号,总笔数,总金额
    20261130000001,2,1234.50
    序号,京卡卡号,姓名,身份证号,金额,摘要,业务参考号
    1,6214680000000000001,张伟,110105199005170011,1000.00,互助金-住院医疗,MA20261130000001000001

Full card and ID numbers exist only while the file is written (decrypted per line, never
stored or logged). Before anything is written the lines are counted and summed and must equal
the batch row's header figures; a mismatch refuses the file. A batch held for sign-off or
void (sign-off refused) has no bank file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from unionhub.audit import service as audit
from unionhub.identity.models import JingkaCard, Member
from unionhub.identity.service import reveal_card_number, reveal_id_number
from unionhub.money import money_sum

from .models import SENDABLE, BatchStatus, MutualaidPayoutBatch, MutualaidPayoutLine

HEADER = ("批次号", "总笔数", "总金额")
COLUMNS = ("序号", "京卡卡号", "姓名", "身份证号", "金额", "摘要", "业务参考号")
FORMATS = ("csv", "xlsx")
MIMETYPES = {"csv": "text/csv; charset=GBK",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class BankFileError(ValueError):
    """The file cannot be produced (totals do not match, a name not encodable in GBK …)."""


def check_sendable(session: Session, batch: MutualaidPayoutBatch) -> None:
    """Refuse a batch waiting for sign-off or void (its status read again from the database)."""
    status = session.scalar(select(MutualaidPayoutBatch.status)
                            .where(MutualaidPayoutBatch.id == batch.id))
    if status in SENDABLE:
        return
    if status == BatchStatus.AWAITING_SIGNOFF:
        raise BankFileError(f"批次 {batch.batch_no} 正在办公系统审批中（{batch.approval_ref}），"
                            "审批通过后才能下载代发文件")
    raise BankFileError(f"批次 {batch.batch_no} 审批未通过，已作废，不能生成代发文件")


def check_totals(session: Session, batch: MutualaidPayoutBatch) -> None:
    """Count and sum the lines in SQL; they must equal the batch's header figures."""
    count, total = session.execute(
        select(func.count(), money_sum(MutualaidPayoutLine.amount))
        .where(MutualaidPayoutLine.batch_id == batch.id)).one()
    if count != batch.count or total != batch.total:
        raise BankFileError(
            f"批次 {batch.batch_no} 明细合计（{count} 笔，{total} 元）与批次总数"
            f"（{batch.count} 笔，{batch.total} 元）不一致，拒绝生成代发文件")


def _lines(session: Session, batch: MutualaidPayoutBatch
           ) -> Iterator[tuple[MutualaidPayoutLine, JingkaCard, Member]]:
    stmt = (select(MutualaidPayoutLine, JingkaCard, Member)
            .join(JingkaCard, JingkaCard.id == MutualaidPayoutLine.card_id)
            .join(Member, Member.id == MutualaidPayoutLine.member_id)
            .where(MutualaidPayoutLine.batch_id == batch.id)
            .order_by(MutualaidPayoutLine.seq))
    yield from session.execute(stmt)  # rows unpack as (line, card, member)


def rows(session: Session, batch: MutualaidPayoutBatch) -> Iterator[tuple[str, ...]]:
    """The file's rows as text: header, header values, column names, one row per line.
    Amounts are written as exact ``0.00`` text, never floats."""
    check_sendable(session, batch)
    check_totals(session, batch)
    yield HEADER
    yield (batch.batch_no, str(batch.count), f"{batch.total:.2f}")
    yield COLUMNS
    count, total = 0, Decimal("0.00")
    for line, card, member in _lines(session, batch):
        count += 1
        total += line.amount
        yield (str(line.seq), reveal_card_number(card), line.name, reveal_id_number(member),
               f"{line.amount:.2f}", line.summary, line.reference)
    if count != batch.count or total != batch.total:  # read again while writing: still equal
        raise BankFileError(f"批次 {batch.batch_no} 明细在生成过程中发生变化，拒绝生成代发文件")


def to_csv(session: Session, batch: MutualaidPayoutBatch) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in rows(session, batch):
        writer.writerow(row)
    text = buf.getvalue()
    try:
        return text.encode("gbk")
    except UnicodeEncodeError as exc:
        bad = text[exc.start:exc.end]
        raise BankFileError(f"字符「{bad}」无法用 GBK 编码（常见于生僻字姓名），"
                            "请下载 XLSX 格式或与银行确认") from None


def to_xlsx(session: Session, batch: MutualaidPayoutBatch) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(f"代发{batch.batch_no}")
    for row in rows(session, batch):
        ws.append(list(row))  # all text: long card/ID numbers keep every digit
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def render(session: Session, batch: MutualaidPayoutBatch, fmt: str, actor: Any = None
           ) -> tuple[bytes, str, str]:
    """(content, filename, mimetype) of the bank file; every download is audited."""
    if fmt not in FORMATS:
        raise BankFileError(f"不支持的格式「{fmt}」")
    data = to_csv(session, batch) if fmt == "csv" else to_xlsx(session, batch)
    audit.record("mutualaid.payout.bank_file", target_type="mutualaid_payout_batch",
                 target_id=batch.batch_no, org_path=batch.org_path, actor=actor,
                 session=session, details={"format": fmt, "count": batch.count,
                                           "total": str(batch.total)})
    return data, f"代发_{batch.batch_no}.{fmt}", MIMETYPES[fmt]
