"""Settlement statements as files: CSV (UTF-8 with BOM, so Excel shows the Chinese headers)
and a formatted Excel workbook (openpyxl, a core dependency).

Both are written from the same rows. Before anything is written the lines are counted and
summed in SQL and must equal the statement's totals; while writing they are counted and
summed again in ``Decimal`` and must still match, so a file's total always adds up to the fen.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from unionhub.audit import service as audit
from unionhub.web.formatting import local_time

from ..models import BenefitsMallSettlement, CouponEventKind
from . import service
from .service import SettlementError, _

FORMATS = ("csv", "xlsx")
MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
COLUMNS = ("序号", "时间", "类型", "券号", "券码尾号", "优惠", "门店", "金额（元）")
AMOUNT_FORMAT = "#,##0.00"


@dataclass(frozen=True)
class Sheet:
    """A statement laid out as rows: the heading block, the lines, the totals."""

    title: str
    info: list[tuple[str, str]]
    lines: list[tuple[Any, ...]]  # amounts stay Decimal
    totals: list[tuple[str, Any]]


def sheet(session: Session, st: BenefitsMallSettlement) -> Sheet:
    service.check_totals(session, st)
    merchant = st.merchant
    account = " ".join(x for x in (merchant.settlement_bank, merchant.settlement_account_name,
                                   merchant.settlement_account_masked) if x)
    info = [("结算单号", str(st.id)), ("商户", merchant.name),
            ("结算期间", f"{st.period_start.isoformat()} 至 {st.period_end.isoformat()}"),
            ("状态", service.STATUS_LABELS.get(st.status, st.status)),
            ("结算账户", account or "未登记"),
            ("生成时间", local_time(st.created_at))]
    lines: list[tuple[Any, ...]] = []
    redeemed = undone = 0
    amount = Decimal("0.00")
    for seq, line in enumerate(service.statement_lines(session, st.id), start=1):
        redeemed += line.kind == CouponEventKind.REDEEMED
        undone += line.kind == CouponEventKind.UNDONE
        amount += line.amount
        lines.append((seq, local_time(line.at), line.kind_label, line.coupon_id, line.code_tail,
                      line.offer_title, line.store_name, line.amount))
    if (redeemed, undone, amount) != (st.redemptions, st.undone, st.amount):
        raise SettlementError(_("结算单 %(id)s 的明细在导出过程中发生变化，请重试", id=st.id))
    totals: list[tuple[str, Any]] = [("核销笔数", st.redemptions), ("撤销笔数", st.undone),
                                     ("结算金额（元）", st.amount)]
    return Sheet("福利云商商户结算单", info, lines, totals)


#: What a spreadsheet takes for the start of a formula. Store names and offer titles come from
#: merchants: a store named ``=HYPERLINK(…)`` must stay text in the operator's workbook.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(FORMULA_START) else text


def _as_text_cells(row: Any) -> None:
    """Keep text cells text in a worksheet row (openpyxl stores ``=…`` strings as formulas)."""
    for cell in row:
        if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
            cell.data_type = "s"


def csv_rows(s: Sheet) -> Iterator[tuple[str, ...]]:
    yield (s.title,)
    for label, value in s.info:
        yield (label, _text(value))
    yield ()
    yield COLUMNS
    for line in s.lines:
        yield tuple(_text(v) for v in line)
    yield ()
    for label, value in s.totals:
        yield (label, _text(value))


def to_csv(s: Sheet) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in csv_rows(s):
        writer.writerow(row)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(s: Sheet) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    wb = Workbook()
    ws = wb.active
    ws.title = "结算单"
    width = len(COLUMNS)
    bold = Font(bold=True)
    thin = Side(style="thin", color="BBBBBB")
    box = Border(top=thin, bottom=thin, left=thin, right=thin)
    ws.append([s.title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(1, 1).font = Font(bold=True, size=14)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    for label, value in s.info:
        ws.append([label, value])
        _as_text_cells(ws[ws.max_row])
        ws.cell(ws.max_row, 1).font = bold
        ws.merge_cells(start_row=ws.max_row, start_column=2, end_row=ws.max_row,
                       end_column=width)
    ws.append([])
    ws.append(list(COLUMNS))
    header = ws.max_row
    for col in range(1, width + 1):
        cell = ws.cell(header, col)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="C8102E")
        cell.alignment = Alignment(horizontal="center")
        cell.border = box
    for line in s.lines:
        ws.append(list(line))
        _as_text_cells(ws[ws.max_row])
        for col in range(1, width + 1):
            ws.cell(ws.max_row, col).border = box
        ws.cell(ws.max_row, width).number_format = AMOUNT_FORMAT
    ws.append([])
    for label, value in s.totals:
        ws.append([label] + [None] * (width - 2) + [value])
        ws.cell(ws.max_row, 1).font = bold
        cell = ws.cell(ws.max_row, width)
        cell.font = bold
        if isinstance(value, Decimal):
            cell.number_format = AMOUNT_FORMAT
    ws.freeze_panes = ws.cell(header + 1, 1)
    for col, w in zip("ABCDEFGH", (6, 18, 10, 10, 10, 30, 16, 14), strict=True):
        ws.column_dimensions[col].width = w
    ws.print_title_rows = f"{header}:{header}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def render(session: Session, st: BenefitsMallSettlement, fmt: str, actor: Any = None
           ) -> tuple[bytes, str, str]:
    """(content, filename, mimetype) of the statement; every download is audited."""
    if fmt not in FORMATS:
        raise SettlementError(_("不支持的格式：%(fmt)s", fmt=fmt))
    s = sheet(session, st)
    data = to_csv(s) if fmt == "csv" else to_xlsx(s)
    audit.record("benefits_mall.settlement.export", target_type="benefits_mall_settlement",
                 target_id=st.id, actor=actor, session=session,
                 details={"format": fmt, "lines": len(s.lines), "amount": str(st.amount)})
    return data, f"结算单_{st.id}_{st.period_start:%Y%m}.{fmt}", MIMETYPES[fmt]
