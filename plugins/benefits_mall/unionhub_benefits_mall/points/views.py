"""Points pages: the member's points, the officers' rules and grants, and the report
积分发放与使用. Every officer list is limited in SQL to the viewer's scope."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased
from werkzeug.exceptions import NotFound
from werkzeug.routing import BuildError

from unionhub import db
from unionhub.access import service as access
from unionhub.groups.models import MemberGroup
from unionhub.jobs import service as jobs
from unionhub.jobs.models import Job
from unionhub.orgs.models import Org
from unionhub.web import charts
from unionhub.web.pagination import paginate

from ..models import BenefitsMallPointsRule
from ..web import bp
from . import service
from .jobs import GRANT_JOB
from .report import report

GRANT, RULES, REPORTS = ("benefits_mall.points.grant", "benefits_mall.points.rules",
                         "benefits_mall.reports.view")
#: How far below the viewer's top orgs the org selectors reach.
SELECT_DEPTH = 2
SELECT_LIMIT = 300


def url_or_none(endpoint: str) -> str | None:
    """A link to another feature's page, or None while that feature is not installed."""
    try:
        return url_for(endpoint)
    except BuildError:
        return None


def _member() -> Any:
    member = current_user.member
    if member is None:
        abort(404)
    return member


# -- member -----------------------------------------------------------------------------------


@bp.route("/my/points", endpoint="my_points")
@login_required
def my_points() -> Any:
    member = _member()
    s = db.session()
    today = service.beijing_today()
    page = paginate(service.entries(member.id))
    return render_template(
        "benefits_mall/points/my.html", balance=service.balance(s, member.id, today),
        soon=service.expiring(s, member.id, today), page=page, kinds=service.KIND_LABELS,
        occasion_name=service.occasion_name, today=today,
        shop_url=url_or_none("benefits_mall.home"))


def points_panel(member: Any = None, **_kw: Any) -> Markup | None:
    """我的积分 on the member's profile: balance and points expiring within 30 days."""
    if member is None:
        return None
    s = db.session()
    today = service.beijing_today()
    soon = service.expiring(s, member.id, today)
    return Markup(render_template(
        "benefits_mall/points/_panel.html", balance=service.balance(s, member.id, today),
        soon=soon, soon_total=sum(lot.remainder for lot in soon),
        occasion_name=service.occasion_name))


# -- officers: rules and grants ---------------------------------------------------------------


def _org_choices(permission: str) -> list[Org]:
    """Orgs in the viewer's scope for ``permission``, down to :data:`SELECT_DEPTH` levels below
    the viewer's top orgs."""
    inner = aliased(Org)
    top = (select(func.min(inner.depth))
           .where(access.scope_filter(current_user, permission, inner.path)).scalar_subquery())
    return list(db.session().scalars(
        select(Org).where(access.scope_filter(current_user, permission, Org.path),
                          Org.depth <= top + SELECT_DEPTH)
        .order_by(Org.path).limit(SELECT_LIMIT)))


def _scoped_org(raw: str | None, permission: str) -> Org | None:
    text = (raw or "").strip()
    if not text.isdigit():
        return None
    try:
        return access.scoped_org(current_user, int(text), permission)
    except NotFound:
        return None


def _admin_page(status: int = 200, *, grant_values: dict[str, Any] | None = None,
                grant_errors: dict[str, str] | None = None,
                rule_values: dict[str, Any] | None = None,
                rule_errors: dict[str, str] | None = None,
                preview: service.GrantPlan | None = None) -> Any:
    s = db.session()
    may_rules = access.can(current_user, RULES)
    rules = list(s.execute(
        select(BenefitsMallPointsRule, Org).join(Org, Org.id == BenefitsMallPointsRule.org_id)
        .where(or_(access.scope_filter(current_user, GRANT, Org.path),
                   access.scope_filter(current_user, RULES, Org.path)))
        .order_by(Org.path, BenefitsMallPointsRule.occasion).limit(200)))
    rule_scope = set(s.scalars(select(Org.id).where(
        Org.id.in_({o.id for _r, o in rules}),
        access.scope_filter(current_user, RULES, Org.path)))) if may_rules else set()
    batches = list(s.execute(service.grant_batches(
        access.scope_filter(current_user, GRANT, service.E.org_path))))
    grant_jobs = list(s.scalars(
        select(Job).where(Job.kind == GRANT_JOB,
                          or_(Job.owner_id == current_user.id,
                              Job.org_id.in_(select(Org.id).where(
                                  access.scope_filter(current_user, GRANT, Org.path)))))
        .order_by(Job.id.desc()).limit(10)))
    values = {"year": service.beijing_today().year, "batch_key": uuid.uuid4().hex,
              **(grant_values or {})}
    return render_template(
        "benefits_mall/points/admin.html", form=FlaskForm(), rules=rules, rule_scope=rule_scope,
        may_rules=may_rules, rule_orgs=_org_choices(RULES) if may_rules else [],
        grant_orgs=_org_choices(GRANT), groups=list(s.scalars(
            select(MemberGroup).order_by(MemberGroup.name).limit(200))),
        occasions=service.OCCASIONS, occasion_name=service.occasion_name,
        batches=batches, grant_jobs=grant_jobs, values=values, errors=grant_errors or {},
        rule_values=rule_values or {}, rule_errors=rule_errors or {}, preview=preview,
        fields=service.RULE_FIELDS), status


@bp.route("/admin/points", endpoint="points_admin")
@login_required
def points_admin() -> Any:
    access.require(GRANT)
    return _admin_page()


@bp.route("/admin/points/rules", methods=["POST"], endpoint="points_rule_save")
@login_required
def points_rule_save() -> Any:
    access.require(RULES)
    if not FlaskForm().validate_on_submit():
        abort(400)
    s = db.session()
    values = request.form.to_dict()
    values.pop("csrf_token", None)
    org = _scoped_org(values.get("org_id"), RULES)
    if org is None:
        return _admin_page(422, rule_values=values,
                           rule_errors={"org_id": _("工会组织：请选择您管辖范围内的工会")})
    try:
        service.set_rule(s, org, values.get("occasion", ""), values.get("per_grant", ""),
                         values.get("per_member_occasion", ""),
                         values.get("per_member_year", ""), values.get("valid_months", ""),
                         actor=current_user)
    except service.RuleError as exc:
        s.rollback()
        return _admin_page(422, rule_values=values, rule_errors=exc.errors)
    s.commit()
    flash(_("已保存%(org)s的“%(occasion)s”积分规则", org=org.name,
            occasion=_(service.occasion_name(values.get("occasion")))), "success")
    return redirect(url_for(".points_admin"))


@bp.route("/admin/points/rules/<int:rule_id>/delete", methods=["POST"],
          endpoint="points_rule_delete")
@login_required
def points_rule_delete(rule_id: int) -> Any:
    access.require(RULES)
    if not FlaskForm().validate_on_submit():
        abort(400)
    s = db.session()
    rule = s.scalar(select(BenefitsMallPointsRule)
                    .join(Org, Org.id == BenefitsMallPointsRule.org_id)
                    .where(BenefitsMallPointsRule.id == rule_id,
                           access.scope_filter(current_user, RULES, Org.path)))
    if rule is None:
        abort(404)
    service.delete_rule(s, rule, actor=current_user)
    s.commit()
    flash(_("积分规则已删除"), "success")
    return redirect(url_for(".points_admin"))


def _parse_grant(values: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The grant form's fields, checked; errors name the field."""
    errors: dict[str, str] = {}
    org = _scoped_org(values.get("org_id"), GRANT)
    if org is None:
        errors["org_id"] = _("发放范围：请选择您管辖范围内的工会")
    occasion = values.get("occasion", "")
    if occasion not in service.OCCASIONS:
        errors["occasion"] = _("节日：请从列表中选择")
    raw_points = values.get("points", "").strip()
    points = int(raw_points) if raw_points.isdigit() else 0
    if not 1 <= points <= service.MAX_POINTS:
        errors["points"] = _("每人积分：请填写正整数")
    group_ids: list[int] = []
    raw_group = values.get("group_id", "").strip()
    if raw_group:
        if raw_group.isdigit() and db.session().get(MemberGroup, int(raw_group)) is not None:
            group_ids = [int(raw_group)]
        else:
            errors["group_id"] = _("会员群体：请从列表中选择")
    note = values.get("note", "").strip()
    if len(note) > 200:
        errors["note"] = _("说明：不超过 200 个字")
    key = values.get("batch_key", "").strip()
    if not key or len(key) > 60 or not key.isalnum():
        key = uuid.uuid4().hex
    return {"org": org, "occasion": occasion, "points": points, "group_ids": group_ids,
            "note": note, "batch_key": key, "year": service.beijing_today().year}, errors


@bp.route("/admin/points/grant", methods=["POST"], endpoint="points_grant")
@login_required
def points_grant() -> Any:
    """Preview (``action=preview``) or submit a grant; a submitted grant runs as a tracked
    job (thousands of members) whose page shows its progress."""
    access.require(GRANT)
    if not FlaskForm().validate_on_submit():
        abort(400)
    s = db.session()
    values = request.form.to_dict()
    values.pop("csrf_token", None)
    data, errors = _parse_grant(values)
    values["batch_key"] = data["batch_key"]
    if errors:
        return _admin_page(422, grant_values=values, grant_errors=errors)
    org = data["org"]
    batch_key = f"grant:{org.id}:{data['batch_key']}"
    checked = service.plan(s, org=org, occasion=data["occasion"], points=data["points"],
                           year=data["year"], group_ids=data["group_ids"], batch_key=batch_key)
    if request.form.get("action") != "grant" or checked.error:
        return _admin_page(422 if checked.error else 200, grant_values=values,
                           preview=checked)
    job = jobs.submit(GRANT_JOB, {
        "org_id": org.id, "occasion": data["occasion"], "points": data["points"],
        "year": data["year"], "group_ids": data["group_ids"], "note": data["note"],
        "batch_key": batch_key, "account_id": current_user.id,
    }, session=s, owner_id=current_user.id, org_id=org.id, dedup_key=f"{GRANT_JOB}:{batch_key}")
    s.commit()
    flash(_("已开始向%(org)s的 %(n)s 名会员发放积分，可在本页查看进度", org=org.name,
            n=checked.fresh), "success")
    return redirect(url_for("jobs.detail", job_id=job.id))


# -- officers: report -------------------------------------------------------------------------


@bp.route("/admin/points/report", endpoint="points_report")
@login_required
def points_report() -> Any:
    access.require(REPORTS)
    s = db.session()
    today = service.beijing_today()
    choices = _org_choices(REPORTS)
    raw = request.args.get("org_id", "").strip()
    org: Org | None = None
    if raw:
        if not raw.isdigit():
            abort(404)
        org = access.scoped_org(current_user, int(raw), REPORTS)  # 404 outside the scope
        if org.id not in {o.id for o in choices}:
            choices.append(org)
    elif choices:
        org = choices[0]
    if org is None:
        abort(403)
    raw_year = request.args.get("year", "").strip()
    year = int(raw_year) if raw_year.isdigit() and 2000 <= int(raw_year) <= 2100 else today.year
    data = report(s, lambda col: access.scope_filter(current_user, REPORTS, col), org, year,
                  today)
    series = [_("发放"), _("使用"), _("过期")]
    chart = charts.grouped_bars(
        "points-report", _("积分发放与使用"),
        _("%(year)s年%(org)s各单位会员获得、使用和过期的积分", year=year, org=org.name),
        series, [charts.Group(_("本级会员") if r.own else r.name,
                              [r.granted, r.spent, r.expired]) for r in data.rows])
    return render_template("benefits_mall/points/report.html", data=data, chart=chart,
                           org=org, choices=choices, year=year,
                           years=list(range(today.year, today.year - 5, -1)),
                           occasion_name=service.occasion_name)
