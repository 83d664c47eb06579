"""互助核算 pages (``/oa/accounting``): the snapshots, one snapshot per level with totals, per
program totals, a chart of fees due against received per district/industry union and the
reconciliation, and the Excel workbook.

Everything is read through :mod:`.report`, limited in SQL to the officer's subtree. Computing
a snapshot now (for any plan year) needs ``oa.exchange.run``: it covers the whole city.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub import db
from unionhub.i18n import _
from unionhub.identity.models import Account
from unionhub.money import fmt
from unionhub.web import charts
from unionhub.web.pagination import paginate

from ..web import ACCOUNTING, EXCHANGE, bp, may, require
from . import excel, report
from .compute import compute
from .models import LEVEL_LABELS, LEVELS, OaAccountingSnapshot

YEAR_MIN, YEAR_MAX = 2000, 2100
PROBLEMS_SHOWN = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _snapshot(s: Session, snapshot_id: int) -> OaAccountingSnapshot:
    snap = report.get_snapshot(s, snapshot_id) if 0 < snapshot_id < 2**31 else None
    if snap is None:
        abort(404)
    return snap


def parse_year(raw: str | None) -> tuple[int | None, str | None]:
    """The plan year typed in the form, or the message saying what is wrong with it."""
    text = (raw or "").strip()
    if not text:
        return None, _("核算年度：不能为空")
    # ASCII digits only (``"²".isdigit()`` is true but ``int`` refuses it), at most four:
    # never a ValueError nor a huge number
    if not (text.isascii() and text.isdigit() and len(text) <= 4) \
            or not YEAR_MIN <= int(text) <= YEAR_MAX:
        return None, _("核算年度：应为 %(lo)s 至 %(hi)s 之间的年份，收到“%(got)s”",
                       lo=YEAR_MIN, hi=YEAR_MAX, got=text[:20])
    return int(text), None


def _list_page(errors: dict[str, str], year: str, status: int = 200) -> Any:
    s = db.session()
    page = paginate(select(OaAccountingSnapshot).order_by(
        OaAccountingSnapshot.created_at.desc(), OaAccountingSnapshot.id.desc()), per_page=20)
    ids = [snap.id for snap in page.items]
    totals = report.snapshot_totals(s, current_user, ids)
    creators = {snap.created_by for snap in page.items if snap.created_by}
    names = dict(s.execute(select(Account.id, Account.display_name)
                           .where(Account.id.in_(creators))).all()) if creators else {}
    return render_template("oa/accounting/list.html", page=page, totals=totals, names=names,
                           can_compute=may(EXCHANGE), errors=errors, year=year,
                           fmt=fmt, active_tab="accounting"), status


@bp.route("/accounting", methods=["GET", "POST"], endpoint="accounting")
@login_required
def accounting() -> Any:
    require(ACCOUNTING)
    if request.method == "GET":
        return _list_page({}, str(date.today().year))
    account = require(EXCHANGE)
    raw = request.form.get("plan_year", "")
    year, error = parse_year(raw)
    if year is None:
        flash(_("未核算：请修改标出的项目"), "error")
        return _list_page({"plan_year": error or ""}, raw[:20], 422)
    s = db.session()
    snap = compute(s, year, by_id=account.id)
    s.commit()
    flash(_("已完成 %(year)s 年度核算", year=year), "success")
    return redirect(url_for("oa.accounting_detail", snapshot_id=snap.id))


def _chart(groups: list[tuple[str, Any]]) -> Any:
    return charts.grouped_bars(
        "oa-accounting-unions", _("各区县与产业工会应缴与实缴"),
        _("按区县与产业工会汇总的应缴金额与实缴金额（元）"),
        [_("应缴金额"), _("实缴金额")],
        [charts.Group(name, [fig.due, fig.received]) for name, fig in groups])


@bp.route("/accounting/<int:snapshot_id>", endpoint="accounting_detail")
@login_required
def accounting_detail(snapshot_id: int) -> Any:
    account = require(ACCOUNTING)
    s = db.session()
    snap = _snapshot(s, snapshot_id)
    visible = report.visible_levels(s, snap.id, account)
    level = request.args.get("level", "").strip()
    if level and level not in {lv.value for lv in LEVELS}:
        flash(_("层级“%(level)s”不存在，已显示默认层级", level=level[:20]), "error")
        level = ""
    level = level or (visible[0] if visible else "unit")
    items = report.items(s, snap.id, account)
    item = request.args.get("item", "").strip() or None
    if item and item not in {code for code, _label in items}:
        flash(_("项目“%(item)s”不在本次核算中，已显示全部项目", item=item[:20]), "error")
        item = None
    page = paginate(report.rows_stmt(snap.id, account, level, item), per_page=50,
                    scalars=False)
    rows = report.as_rows(page.items)
    problems = report.as_rows(s.execute(
        report.problems_stmt(snap.id, account).limit(PROBLEMS_SHOWN)))
    return render_template(
        "oa/accounting/detail.html", snap=snap, level=level, item=item, items=items,
        levels=[(lv.value, LEVEL_LABELS[lv]) for lv in LEVELS], visible=visible, page=page,
        rows=rows, total=report.total(s, snap.id, account, level, item),
        per_item=report.per_item(s, snap.id, account, level),
        chart=_chart(report.per_org(s, snap.id, account, "district", item)),
        problems=problems, problem_counts=report.problem_counts(s, snap.id, account),
        problems_shown=PROBLEMS_SHOWN, problem_labels=report.PROBLEM_LABELS,
        fmt=fmt, active_tab="accounting")


@bp.route("/accounting/<int:snapshot_id>.xlsx", endpoint="accounting_excel")
@login_required
def accounting_excel(snapshot_id: int) -> Any:
    account = require(ACCOUNTING)
    s = db.session()
    snap = _snapshot(s, snapshot_id)
    data = excel.workbook(s, snap, account)
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name=f"互助核算_{snap.plan_year}_{snap.id}.xlsx")
