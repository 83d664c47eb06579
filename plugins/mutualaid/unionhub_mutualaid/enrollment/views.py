"""Enrollment pages for agent clerks (参保管理) and fee recording for the centre (缴费登记).

Every list is filtered in SQL with ``scope_filter``: a clerk sees and enrolls only the units of
their own subtree, a fee officer only the statements of units in their scope.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import exists, not_, select

from unionhub import db
from unionhub.access.service import require, scope_filter, scoped_org
from unionhub.identity.models import Member, MemberStatus
from unionhub.imports import uploads
from unionhub.orgs.models import Org, OrgLevel
from unionhub.web.pagination import paginate

from .. import plans
from ..models import MutualaidCoverage, MutualaidFeeStatement, MutualaidPlan
from ..rules import PROGRAM_NAMES
from ..web import bp
from . import service

#: the largest payment the form accepts (元): far above any unit's bill, far below overflow
MAX_PAYMENT = Decimal("100000000")
STATUS_LABELS = {"pending_payment": "待单位缴费", "active": "保障中", "open": "待缴费",
                 "paid": "已缴费"}


def _units() -> list[Org]:
    """Grassroots unions and branches the clerk may enroll for (agent offices first)."""
    return list(db.session().scalars(
        select(Org).where(scope_filter(current_user, service.ENROLL_PERMISSION, Org.path),
                          Org.level.in_((OrgLevel.GRASSROOTS, OrgLevel.BRANCH)))
        .order_by(Org.agent_office.desc(), Org.path).limit(500)))


def _unit(units: list[Org]) -> Org | None:
    raw = request.values.get("unit", type=_param)
    if raw is not None:
        return scoped_org(current_user, raw, service.ENROLL_PERMISSION)
    return units[0] if units else None


def _voluntary_plans() -> list[MutualaidPlan]:
    """Plans a unit can still enroll in: voluntary, and their term not yet over."""
    today = service.today()
    return [p for p in plans.active_plans(db.session())
            if not plans.is_dues_funded(p) and p.term_end >= today]


def _int(raw: str | None) -> int | None:
    """A plain decimal integer from a form field that fits an SQL INTEGER, else None
    (``"²".isdigit()`` is true but ``int("²")`` fails; a 20-digit id overflows the column)."""
    raw = (raw or "").strip()
    if not raw.isdecimal() or len(raw) > 9:
        return None
    return int(raw)


def _param(raw: str) -> int:
    """``type=`` for ``request.args.get``: werkzeug turns the ValueError into the default."""
    value = _int(raw)
    if value is None:
        raise ValueError(raw)
    return value


def parse_amount(raw: str) -> tuple[Decimal | None, str | None]:
    """A payment amount in 元 → (amount to the fen, None) or (None, the field error).
    Refuses NaN, infinities, more than two decimals and anything above :data:`MAX_PAYMENT`
    (``quantize`` of a huge value raises ``InvalidOperation``)."""
    text = raw.replace(",", "").replace("，", "").strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None, _("缴费金额：「%(value)s」不是有效金额", value=raw)
    if not amount.is_finite():
        return None, _("缴费金额：「%(value)s」不是有效金额", value=raw)
    if amount <= 0:
        return None, _("缴费金额：须大于 0")
    if amount > MAX_PAYMENT:
        limit = f"{MAX_PAYMENT:,}"
        return None, _("缴费金额：不能超过 %(limit)s 元", limit=limit)
    try:
        fen = amount.quantize(Decimal("0.01"))
    except InvalidOperation:
        return None, _("缴费金额：「%(value)s」不是有效金额", value=raw)
    if fen != amount:
        return None, _("缴费金额：最多两位小数")
    return fen, None


@bp.route("/enroll", endpoint="enroll_unit")
@login_required
def unit_overview() -> Any:
    """The unit's enrollment: per program and year, headcount, shares, fee and payment."""
    require(service.ENROLL_PERMISSION)
    units = _units()
    unit = _unit(units)
    if unit is None:
        return render_template("mutualaid/enrollment/unit.html", units=units, unit=None)
    s = db.session()
    statements = list(s.scalars(select(MutualaidFeeStatement).where(
        MutualaidFeeStatement.unit_org_id == unit.id)
        .order_by(MutualaidFeeStatement.plan_year.desc(), MutualaidFeeStatement.program)))
    stmt = select(MutualaidCoverage).where(MutualaidCoverage.unit_org_id == unit.id)
    year = request.args.get("year", type=_param)
    program = request.args.get("program", "")
    if year:
        stmt = stmt.where(MutualaidCoverage.plan_year == year)
    if program:
        stmt = stmt.where(MutualaidCoverage.program == program)
    page = paginate(stmt.join(Member, Member.id == MutualaidCoverage.member_id).order_by(
        MutualaidCoverage.plan_year.desc(), MutualaidCoverage.program, Member.name,
        MutualaidCoverage.id))
    return render_template("mutualaid/enrollment/unit.html", units=units, unit=unit,
                           statements=statements, page=page, names=PROGRAM_NAMES,
                           labels=STATUS_LABELS, year=year, program=program)


@bp.route("/enroll/new", methods=["GET", "POST"], endpoint="enroll_new")
@login_required
def enroll_new() -> Any:
    """Pick a plan, tick members of the unit not yet enrolled, one shares value, submit."""
    require(service.ENROLL_PERMISSION)
    units = _units()
    unit = _unit(units)
    if unit is None:
        abort(404)
    s = db.session()
    choices = _voluntary_plans()
    plan_id = request.values.get("plan", type=_param)
    plan = next((p for p in choices if p.id == plan_id), choices[0] if choices else None)
    form = FlaskForm()
    if plan is None:
        abort(404)
    rules = plans.rules_of(plan)
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        ids = [i for i in map(_int, request.form.getlist("member_id")) if i is not None]
        shares = _int(request.form.get("shares")) or 0
        tier = request.form.get("tier") or None
        if not ids:
            flash(_("请至少勾选一名会员"), "error")
        elif shares < 1:
            flash(_("份数：请填写正整数"), "error")
        else:
            members = list(s.scalars(select(Member).join(Org, Org.id == Member.org_id).where(
                Member.id.in_(ids),
                scope_filter(current_user, service.ENROLL_PERMISSION, Org.path))))
            hidden = len(set(ids)) - len(members)
            try:
                result = service.enroll(s, unit, plan, [(m, shares, tier) for m in members],
                                        current_user, "online")
            except service.EnrollmentError as exc:
                s.rollback()
                flash(str(exc), "error")
            else:
                s.commit()
                names = {m.id: m for m in members}
                return render_template("mutualaid/enrollment/result.html", unit=unit,
                                       plan=plan, rules=rules, result=result, members=names,
                                       hidden=hidden)
    q = request.args.get("q", "").strip()
    stmt = (select(Member).join(Org, Org.id == Member.org_id)
            .where(Org.path.like(unit.path + "%"), Member.status == MemberStatus.ACTIVE,
                   not_(exists().where(MutualaidCoverage.member_id == Member.id,
                                       MutualaidCoverage.program == plan.program,
                                       MutualaidCoverage.plan_year == plan.plan_year))))
    if q:
        stmt = stmt.where(Member.name.contains(q, autoescape=True))
    page = paginate(stmt.order_by(Member.name, Member.id))
    return render_template("mutualaid/enrollment/new.html", units=units, unit=unit,
                           plans=choices, plan=plan, rules=rules, page=page, q=q, form=form,
                           names=PROGRAM_NAMES,
                           unit_shares=service.unit_shares(s, unit, plan),
                           tiers=sorted(rules.tiers, key=lambda t: (len(t), t)))


@bp.route("/enroll/import", methods=["GET", "POST"], endpoint="enroll_import")
@login_required
def enroll_import() -> Any:
    """Upload a 参保名单 for a unit and plan year; the core's import pages preview and apply."""

    require(service.ENROLL_PERMISSION)
    units = _units()
    unit = _unit(units)
    if unit is None:
        abort(404)
    years = sorted({p.plan_year for p in _voluntary_plans()}, reverse=True)
    form = FlaskForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        year = request.form.get("plan_year", type=_param)
        upload = request.files.get("file")
        problem = uploads.upload_problem(upload)
        if year not in years:
            flash(_("请选择参保年度"), "error")
        elif problem or upload is None:
            flash(problem or _("请选择文件"), "error")
        else:
            s = db.session()
            batch = uploads.start(s, current_app, "mutualaid.enrollment", upload,
                                  current_user.id,
                                  params={"unit_org_id": unit.id, "plan_year": year})
            s.commit()
            return redirect(url_for("imports.detail", batch_id=batch.id))
    return render_template("mutualaid/enrollment/import.html", units=units, unit=unit,
                           years=years, form=form)


# -- fees ---------------------------------------------------------------------------------------


@bp.route("/fees", endpoint="fees")
@login_required
def fees() -> Any:
    """Fee statements of the units in scope, unpaid first."""
    require(service.FEES_PERMISSION)
    stmt = (select(MutualaidFeeStatement).join(Org, Org.id == MutualaidFeeStatement.unit_org_id)
            .where(scope_filter(current_user, service.FEES_PERMISSION, Org.path)))
    status = request.args.get("status", "open")
    year = request.args.get("year", type=_param)
    if status in ("open", "paid"):
        stmt = stmt.where(MutualaidFeeStatement.status == status)
    if year:
        stmt = stmt.where(MutualaidFeeStatement.plan_year == year)
    page = paginate(stmt.order_by(MutualaidFeeStatement.plan_year.desc(), Org.path,
                                  MutualaidFeeStatement.program, MutualaidFeeStatement.id))
    return render_template("mutualaid/enrollment/fees.html", page=page, names=PROGRAM_NAMES,
                           labels=STATUS_LABELS, status=status, year=year)


@bp.route("/fees/<int:statement_id>", methods=["GET", "POST"], endpoint="fee_detail")
@login_required
def fee_detail(statement_id: int) -> Any:
    """Record the unit's payment: the amount must equal the amount due."""
    require(service.FEES_PERMISSION)
    s = db.session()
    try:
        st = service.scoped_statement(s, current_user, statement_id)
    except service.PaymentError:
        abort(404)
    form = FlaskForm()
    values = {"amount": "", "paid_on": service.today().isoformat(), "reference": ""}
    errors: list[str] = []
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        values = {k: request.form.get(k, "").strip() for k in values}
        paid_on: date | None = None
        amount, problem = parse_amount(values["amount"])
        if problem:
            errors.append(problem)
        try:
            paid_on = date.fromisoformat(values["paid_on"])
        except ValueError:
            errors.append(_("缴费日期：「%(value)s」不是有效日期", value=values["paid_on"]))
        if not errors and amount is not None and paid_on is not None:
            try:
                service.record_payment(s, st.id, amount, paid_on,
                                       values["reference"], current_user)
            except service.PaymentError as exc:
                s.rollback()
                errors.append(str(exc))
            else:
                s.commit()
                flash(_("缴费已登记，该单位本项目参保已生效"), "success")
                return redirect(url_for(".fee_detail", statement_id=st.id))
        st = service.scoped_statement(s, current_user, statement_id)
    return render_template("mutualaid/enrollment/fee.html", st=st, form=form, values=values,
                           errors=errors, names=PROGRAM_NAMES, labels=STATUS_LABELS,
                           owed=service.outstanding(st))


def plan_label(plan: MutualaidPlan) -> str:
    return f"{plan.plan_year} {PROGRAM_NAMES.get(plan.program, plan.program)}"

