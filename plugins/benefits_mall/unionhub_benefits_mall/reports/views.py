"""Report pages: the merchant manager's reports and statements, the operators' settlement
pages and the officers' dashboard (福利统计) with its officer-board widget.

Merchant pages filter every query by the signed-in staff's ``merchant_id`` in SQL (another
merchant's statement is a 404); operator pages need ``benefits_mall.settlement.manage``;
dashboard figures are limited in SQL to the officer's subtree.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select

from unionhub import db
from unionhub.access.service import require
from unionhub.web import charts
from unionhub.web.pagination import paginate

from ..models import BenefitsMallMerchant, BenefitsMallSettlement
from ..staff import current_staff, staff_required
from ..web import bp
from . import export, service
from .service import MANAGE_PERMISSION, PERMISSION, ReportError, SettlementError


def optional_url(endpoint: str, **values: Any) -> str | None:
    """A sibling feature's page, when that feature is installed (else None)."""
    if endpoint in current_app.view_functions:
        return url_for(endpoint, **values)
    return None


def parse_day(raw: str | None, label: str) -> date | None:
    """``YYYY-MM-DD`` (empty: None); bad text raises :class:`ReportError` naming the field."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ReportError(_("%(field)s：请按 YYYY-MM-DD 填写日期", field=label)) from None


def report_range(args: Any, today: date) -> tuple[date, date, str | None]:
    """The requested ``start``/``end`` (default: this month so far) and an error, if any;
    on an error the default range is used and nothing else changes."""
    default = (today.replace(day=1), today)
    try:
        start = parse_day(args.get("start"), _("开始日期")) or default[0]
        end = parse_day(args.get("end"), _("结束日期")) or default[1]
        service.check_range(start, end)
    except ReportError as exc:
        return default[0], default[1], str(exc)
    return start, end, None


def _send(data: bytes, filename: str, mimetype: str) -> Any:
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                         download_name=filename)
    response.headers["Cache-Control"] = "no-store"
    return response


def _lines_page(settlement_id: int) -> Any:
    page = paginate(service.statement_lines_stmt(settlement_id), per_page=50, scalars=False)
    page.items = [service.to_line(row) for row in page.items]
    return page


# -- merchant manager ------------------------------------------------------------------------


def _own_statement(settlement_id: int) -> BenefitsMallSettlement:
    staff = current_staff()
    assert staff is not None
    st = db.session().scalar(select(BenefitsMallSettlement).where(
        BenefitsMallSettlement.id == settlement_id,
        BenefitsMallSettlement.merchant_id == staff.merchant_id))
    if st is None:
        abort(404)
    return st


@bp.route("/merchant/reports", endpoint="merchant_reports")
@staff_required(manager=True)
def merchant_reports() -> Any:
    staff = current_staff()
    assert staff is not None
    s = db.session()
    today = service.beijing_today()
    start, end, error = report_range(request.args, today)
    if error:
        flash(error, "error")
    report = service.merchant_report(s, staff.merchant_id, start, end)
    statements = paginate(
        select(BenefitsMallSettlement)
        .where(BenefitsMallSettlement.merchant_id == staff.merchant_id)
        .order_by(BenefitsMallSettlement.period_start.desc(), BenefitsMallSettlement.id.desc()),
        per_page=12)
    return render_template("benefits_mall/reports/merchant.html", report=report,
                           merchant=staff.merchant, statements=statements, start=start, end=end,
                           labels=service.STATUS_LABELS,
                           home_url=optional_url("benefits_mall.merchant_home"))


@bp.route("/merchant/settlements/<int:settlement_id>", endpoint="merchant_settlement")
@staff_required(manager=True)
def merchant_settlement(settlement_id: int) -> Any:
    st = _own_statement(settlement_id)
    return render_template("benefits_mall/reports/statement.html", st=st, merchant_view=True,
                           page=_lines_page(st.id), labels=service.STATUS_LABELS,
                           history_labels=service.HISTORY_LABELS, history=[], form=FlaskForm(),
                           back_url=url_for("benefits_mall.merchant_reports"))


@bp.route("/merchant/settlements/<int:settlement_id>/confirm", methods=["POST"],
          endpoint="merchant_settlement_confirm")
@staff_required(manager=True)
def merchant_settlement_confirm(settlement_id: int) -> Any:
    st = _own_statement(settlement_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    s = db.session()
    try:
        service.confirm(s, st.id, merchant_id=st.merchant_id, account_id=current_user.id)
    except SettlementError as exc:
        s.rollback()
        flash(str(exc), "error")
    else:
        s.commit()
        flash(_("已确认结算单 %(id)s", id=st.id), "success")
    return redirect(url_for("benefits_mall.merchant_settlement", settlement_id=st.id))


@bp.route("/merchant/settlements/<int:settlement_id>/statement.<fmt>",
          endpoint="merchant_settlement_export")
@staff_required(manager=True)
def merchant_settlement_export(settlement_id: int, fmt: str) -> Any:
    st = _own_statement(settlement_id)
    return _export(st, fmt, url_for("benefits_mall.merchant_settlement", settlement_id=st.id))


def _export(st: BenefitsMallSettlement, fmt: str, back: str) -> Any:
    if fmt not in export.FORMATS:
        abort(404)
    s = db.session()
    try:
        data, filename, mimetype = export.render(s, st, fmt, actor=current_user)
    except SettlementError as exc:
        s.rollback()
        flash(str(exc), "error")
        return redirect(back)
    s.commit()
    return _send(data, filename, mimetype)


# -- operators -------------------------------------------------------------------------------


def _month(raw: str) -> date:
    text = raw.strip()
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise SettlementError(_("结算月份：请按 YYYY-MM 填写")) from None


def _merchant_choice(raw: str) -> int | None:
    text = raw.strip()
    if not text:
        return None
    if not text.isdigit() or db.session().get(BenefitsMallMerchant, int(text)) is None:
        raise SettlementError(_("商户：没有该商户"))
    return int(text)


def _build(form_data: Any) -> None:
    s = db.session()
    try:
        month = _month(form_data.get("month", ""))
        merchant_id = _merchant_choice(form_data.get("merchant_id", ""))
        outcomes = service.build_month(s, month, current_user.id, merchant_id=merchant_id)
    except SettlementError as exc:
        s.rollback()
        flash(str(exc), "error")
        return
    s.commit()
    built = [o for o in outcomes if o.settlement is not None]
    if not outcomes:
        flash(_("%(month)s 没有待结算的核销记录", month=f"{month:%Y-%m}"), "info")
    for o in outcomes:
        if o.settlement is not None:
            flash(_("已生成%(merchant)s的结算单 %(id)s：核销 %(n)s 笔，撤销 %(u)s 笔，"
                    "金额 %(amount)s 元", merchant=o.merchant.name, id=o.settlement.id,
                    n=o.settlement.redemptions, u=o.settlement.undone,
                    amount=o.settlement.amount), "success")
        else:
            flash(f"{o.merchant.name}：{o.error}", "error")
    if len(outcomes) > 1:
        flash(_("共生成 %(n)s 张结算单", n=len(built)), "info")


@bp.route("/admin/settlements", methods=["GET", "POST"], endpoint="settlements")
@login_required
def settlements() -> Any:
    """商户结算: build statements for a month, list them, mark paid, download."""
    require(MANAGE_PERMISSION)
    s = db.session()
    form = FlaskForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        _build(request.form)
        return redirect(url_for("benefits_mall.settlements"))
    stmt = select(BenefitsMallSettlement).order_by(BenefitsMallSettlement.period_start.desc(),
                                                    BenefitsMallSettlement.id.desc())
    merchant_raw = request.args.get("merchant_id", "").strip()
    status = request.args.get("status", "").strip()
    if merchant_raw.isdigit():
        stmt = stmt.where(BenefitsMallSettlement.merchant_id == int(merchant_raw))
    if status in service.STATUS_LABELS:
        stmt = stmt.where(BenefitsMallSettlement.status == status)
    merchants = list(s.scalars(select(BenefitsMallMerchant).order_by(BenefitsMallMerchant.name)))
    last_start, _last_end = service.previous_month(service.beijing_today())
    return render_template("benefits_mall/reports/settlements.html", page=paginate(stmt),
                           form=form, merchants=merchants, labels=service.STATUS_LABELS,
                           merchant_id=merchant_raw, status=status,
                           default_month=f"{last_start:%Y-%m}")


def _statement(settlement_id: int) -> BenefitsMallSettlement:
    st = db.session().get(BenefitsMallSettlement, settlement_id)
    if st is None:
        abort(404)
    return st


@bp.route("/admin/settlements/<int:settlement_id>", endpoint="settlement")
@login_required
def settlement(settlement_id: int) -> Any:
    require(MANAGE_PERMISSION)
    st = _statement(settlement_id)
    return render_template("benefits_mall/reports/statement.html", st=st, merchant_view=False,
                           page=_lines_page(st.id), labels=service.STATUS_LABELS,
                           history_labels=service.HISTORY_LABELS,
                           history=service.statement_history(db.session(), st.id),
                           form=FlaskForm(), back_url=url_for("benefits_mall.settlements"))


@bp.route("/admin/settlements/<int:settlement_id>/paid", methods=["POST"],
          endpoint="settlement_paid")
@login_required
def settlement_paid(settlement_id: int) -> Any:
    require(MANAGE_PERMISSION)
    st = _statement(settlement_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    s = db.session()
    try:
        service.mark_paid(s, st.id, account_id=current_user.id)
    except SettlementError as exc:
        s.rollback()
        flash(str(exc), "error")
    else:
        s.commit()
        flash(_("结算单 %(id)s 已标记为已付款", id=st.id), "success")
    back = request.form.get("next", "")
    if not back.startswith(url_for("benefits_mall.settlements")):  # only our own pages
        back = url_for("benefits_mall.settlement", settlement_id=st.id)
    return redirect(back)


@bp.route("/admin/settlements/<int:settlement_id>/statement.<fmt>",
          endpoint="settlement_export")
@login_required
def settlement_export(settlement_id: int, fmt: str) -> Any:
    require(MANAGE_PERMISSION)
    st = _statement(settlement_id)
    return _export(st, fmt, url_for("benefits_mall.settlement", settlement_id=st.id))


# -- officers' dashboard ---------------------------------------------------------------------


def _short_day(d: date) -> str:
    return _("%(month)s/%(day)s", month=d.month, day=d.day)


def dashboard_charts(d: service.Dashboard) -> dict[str, Markup]:
    h = d.headline
    return {
        "daily": charts.columns(
            "bm-daily", _("每日领券与核销"),
            _("%(start)s 至 %(end)s 每日领取与核销（已扣除撤销）的福利券张数",
              start=h.start.isoformat(), end=h.end.isoformat()),
            [_short_day(x.day) for x in d.days],
            [charts.Series(_("领取"), [x.claims for x in d.days]),
             charts.Series(_("核销"), [x.redemptions for x in d.days])], label_every=5),
        "categories": charts.bars(
            "bm-categories", _("热门服务类别"), _("各服务类别领取的福利券张数"),
            [charts.Bar(_(g.name), g.claims, _("张")) for g in
             sorted(d.categories, key=lambda g: (-g.claims, g.name))]),
        "merchants": charts.bars(
            "bm-merchants", _("核销最多的商户"), _("核销张数最多的前十个商户"),
            [charts.Bar(g.name, g.redemptions, _("张")) for g in d.merchants]),
        "orgs": charts.bars(
            "bm-orgs", _("下级工会领券情况"), _("各下级工会会员领取的福利券张数"),
            [charts.Bar(g.name, g.claims, _("张")) for g in d.orgs]),
    }


@bp.route("/admin/dashboard", endpoint="dashboard")
@login_required
def dashboard() -> Any:
    """福利统计 for officers: their whole subtree, or one org inside it (404 outside)."""
    require(PERMISSION)
    s = db.session()
    org = None
    raw = request.args.get("org_id", "").strip()
    if raw:
        org = (service.in_scope(s, current_user, int(raw))
               if raw.isdigit() and len(raw) < 12 else None)
        if org is None:
            abort(404)
    choices = service.org_choices(s, current_user)
    if org is not None and org.id not in {o.id for o in choices}:
        choices.append(org)
    d = service.dashboard(s, service.Scope(current_user, org), service.beijing_today())
    return render_template("benefits_mall/reports/dashboard.html", d=d, h=d.headline,
                           charts=dashboard_charts(d), org=org, choices=choices)


def officer_widget(**_kw: Any) -> Markup:
    """This month's claims and redemptions in the officer's scope, for the officer board."""
    today = service.beijing_today()
    start, end = service.this_month(today)
    h = service.headline(db.session(), service.Scope(current_user), start, end)
    return Markup(render_template("benefits_mall/reports/widget.html", h=h,
                                  url=url_for("benefits_mall.dashboard")))

