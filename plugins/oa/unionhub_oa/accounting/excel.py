"""The accounting as a formatted Excel workbook (openpyxl), scoped like the page.

One sheet per level the officer may see — 市总 (only for officers whose subtree holds the
city), 区县与产业工会, 基层单位 — plus 对账 (the reconciliation). Chinese headers, bold and
frozen; money as numbers with the format ``#,##0.00``; each level sheet ends with a 合计 row
whose values are exact ``Decimal`` sums of the sheet's rows, written as numbers (for the whole
city every level adds up to the same totals, to the fen).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from unionhub.i18n import _

from . import report
from .compute import Figures
from .models import LEVEL_LABELS, Level, OaAccountingSnapshot

MONEY_FORMAT = "#,##0.00"
COUNT_FORMAT = "#,##0"
HEADER_FILL = PatternFill("solid", fgColor="F2E6E6")
BOLD = Font(bold=True)


def _headers() -> list[tuple[str, int, str | None]]:
    """(header, column width, number format) of a level sheet."""
    return [(_("单位代码"), 14, None), (_("单位名称"), 32, None), (_("项目"), 24, None),
            (_("参保人数"), 11, COUNT_FORMAT), (_("份数"), 10, COUNT_FORMAT),
            (_("应缴金额（元）"), 17, MONEY_FORMAT), (_("开票金额（元）"), 17, MONEY_FORMAT),
            (_("实缴金额（元）"), 17, MONEY_FORMAT), (_("差额（元）"), 15, MONEY_FORMAT)]


def _recon_headers() -> list[tuple[str, int, str | None]]:
    return [(_("单位代码"), 14, None), (_("单位名称"), 32, None), (_("项目"), 24, None),
            (_("应缴金额（元）"), 17, MONEY_FORMAT), (_("开票金额（元）"), 17, MONEY_FORMAT),
            (_("实缴金额（元）"), 17, MONEY_FORMAT), (_("开票差额（元）"), 15, MONEY_FORMAT),
            (_("差额（元）"), 15, MONEY_FORMAT), (_("问题"), 30, None)]


def _sheet(wb: Workbook, title: str, headers: Sequence[tuple[str, int, str | None]]
           ) -> Worksheet:
    ws = wb.create_sheet(title)
    ws.append([h for h, _w, _f in headers])
    for col, (_h, width, _f) in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
        cell = ws.cell(row=1, column=col)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.freeze_panes = "A2"
    return ws


def _format_row(ws: Worksheet, headers: Sequence[tuple[str, int, str | None]],
                bold: bool = False) -> None:
    row = ws.max_row
    for col, (_h, _w, fmt) in enumerate(headers, start=1):
        cell = ws.cell(row=row, column=col)
        if fmt:
            cell.number_format = fmt
        if bold:
            cell.font = BOLD


def _level_sheet(wb: Workbook, title: str, rows: Sequence[report.Row]) -> Figures:
    headers = _headers()
    ws = _sheet(wb, title, headers)
    sums = Figures()
    for r in rows:
        name = f"{r.name}{_(r.direct_label)}" if r.direct_label else r.name
        ws.append([r.code, name, _(r.item_label), r.headcount, r.shares, r.due, r.billed,
                   r.received, r.difference])
        _format_row(ws, headers)
        sums.add(r)
    ws.append([_("合计"), None, None, sums.headcount, sums.shares, sums.due, sums.billed,
               sums.received, sums.difference])
    _format_row(ws, headers, bold=True)
    return sums


def _problems(codes: Sequence[str]) -> str:
    return "；".join(_(report.PROBLEM_LABELS[c]) for c in codes)


def workbook(s: Session, snapshot: OaAccountingSnapshot, account: Any) -> bytes:
    """The workbook of ``snapshot`` as ``account`` may see it."""
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.title = _("%(year)s 年度互助保障核算", year=snapshot.plan_year)
    visible = set(report.visible_levels(s, snapshot.id, account))
    for level in (Level.CITY, Level.DISTRICT, Level.UNIT):
        if level == Level.CITY and level.value not in visible:
            continue  # the city total is shown only to those whose subtree holds the city
        _level_sheet(wb, _(LEVEL_LABELS[level]),
                     report.level_rows(s, snapshot.id, account, level.value))
    headers = _recon_headers()
    ws = _sheet(wb, _("对账"), headers)
    for r in report.as_rows(s.execute(report.problems_stmt(snapshot.id, account))):
        ws.append([r.code, r.name, _(r.item_label), r.due, r.billed, r.received, r.billed_off,
                   r.difference, _problems(r.problems)])
        _format_row(ws, headers)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


__all__ = ["MONEY_FORMAT", "workbook"]
