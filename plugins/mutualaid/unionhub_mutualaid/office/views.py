"""互助统计: the officers' dashboard, the agent clerk's unit page and the officer-board widget.

Every figure comes from :mod:`.stats`, filtered in SQL to the viewer's subtree; the org
selector only offers (and only accepts) orgs inside it.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from unionhub import db
from unionhub.access import service as access
from unionhub.access.models import RoleGrant
from unionhub.orgs.models import Org
from unionhub.web import charts

from ..models import MutualaidPlan
from ..web import bp
from . import stats
from .stats import PERMISSION, Scope

#: How far below the viewer's top orgs the org selector reaches (deeper orgs are reached
#: from the units table); a city has thousands of grassroots unions.
SELECT_DEPTH = 2
SELECT_LIMIT = 300


def _years(today_year: int) -> list[int]:
    """Plan years that exist, plus the current one, newest first."""
    rows = db.session().scalars(select(MutualaidPlan.plan_year).distinct())
    return sorted({int(y) for y in rows} | {today_year}, reverse=True)


def _chosen_year(years: list[int], default: int) -> int:
    raw = request.args.get("year", "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) not in years:
        flash(_("没有该年度的互助项目数据，已显示%(year)s年", year=default), "error")
        return default
    return int(raw)


def _org_choices() -> list[Org]:
    """Orgs in the viewer's scope down to :data:`SELECT_DEPTH` levels below its top orgs."""
    inner = aliased(Org)
    top = (select(func.min(inner.depth))
           .where(access.scope_filter(current_user, PERMISSION, inner.path)).scalar_subquery())
    return list(db.session().scalars(
        select(Org).where(access.scope_filter(current_user, PERMISSION, Org.path),
                          Org.depth <= top + SELECT_DEPTH)
        .order_by(Org.path).limit(SELECT_LIMIT)))


def _month_label(month: tuple[int, int]) -> str:
    return _("%(year)s年%(month)s月", year=month[0], month=month[1])


def _short_month(month: tuple[int, int]) -> str:
    return _("%(month)s月", month=month[1])


def _charts(d: stats.Dashboard) -> dict[str, Markup]:
    programs = d.programs
    claims = d.claims
    series = [charts.Series(_(label), [claims.count(m, code) for m in claims.months])
              for code, label in stats.CLAIM_STATUSES]
    paid_payouts = sum(p.count for p in d.payouts)
    return {
        "enrollment": charts.bars(
            "ma-enrol", _("各项目参保人数"),
            _("%(year)s年各互助项目参保人数，共%(n)s人次", year=d.year,
              n=sum(p.headcount for p in programs)),
            [charts.Bar(_(p.name), p.headcount) for p in programs]),
        "units": charts.bars(
            "ma-units", _("参保人数最多的单位"),
            _("%(year)s年参保人次最多的单位", year=d.year),
            [charts.Bar(u.name, u.headcount) for u in d.units]),
        "claims": charts.columns(
            "ma-claims", _("每月理赔申请"),
            _("近12个月每月提交的理赔申请数，按状态分段，共%(n)s件", n=claims.total),
            [_short_month(m) for m in claims.months], series, stacked=True),
        "payouts": charts.bars(
            "ma-payouts", _("互助金发放状态"),
            _("未到账的全部发放与%(year)s年已到账的发放，共%(n)s笔", year=d.year,
              n=paid_payouts),
            [charts.Bar(_(p.label), p.count) for p in d.payouts]),
        "sla": charts.gauge(
            "ma-sla", _("按时赔付率"),
            _("%(year)s年到账的理赔中按时限到账的比例", year=d.year),
            d.sla.percent, _("按时赔付率")),
        "direct": charts.gauge(
            "ma-direct", _("京卡直赔率"),
            _("%(year)s年到账的发放中首批即成功到账的比例", year=d.year),
            d.direct.percent, _("京卡直赔率")),
    }


def _render(scope: Scope, *, unit_mode: bool, choices: list[Org]) -> Any:
    today = stats.beijing_today()
    years = _years(today.year)
    year = _chosen_year(years, today.year)
    d = stats.dashboard(db.session(), scope, year, today)
    return render_template("mutualaid/office/dashboard.html", d=d, charts=_charts(d),
                           years=years, year=year, org=scope.org, choices=choices,
                           unit_mode=unit_mode, month_label=_month_label,
                           claim_statuses=stats.CLAIM_STATUSES)


@bp.route("/office", endpoint="office_dashboard")
@login_required
def dashboard() -> Any:
    """互助统计 for officers: the viewer's whole subtree, or one org inside it."""
    access.require(PERMISSION)
    org = None
    raw = request.args.get("org_id", "").strip()
    if raw:
        if not raw.isdigit():
            abort(404)
        org = access.scoped_org(current_user, int(raw), PERMISSION)  # 404 outside the scope
    choices = _org_choices()
    if org is not None and org.id not in {o.id for o in choices}:
        choices.append(org)
    return _render(Scope(current_user, org), unit_mode=False, choices=choices)


@bp.route("/office/unit", endpoint="office_unit")
@login_required
def unit_home() -> Any:
    """The agent clerk's unit: the same figures for the unit the clerk works for."""
    access.require(PERMISSION)
    org = db.session().scalar(
        select(Org).join(RoleGrant, RoleGrant.org_id == Org.id)
        .where(RoleGrant.account_id == current_user.id,
               RoleGrant.role.in_(access.roles_with(PERMISSION)))
        .order_by(Org.depth.desc(), Org.id).limit(1))
    if org is None:
        abort(403)
    return _render(Scope(current_user, org), unit_mode=True, choices=[])


def officer_widget(**_kw: Any) -> Markup:
    """Three headline numbers for the core officer board."""
    today = stats.beijing_today()
    h = stats.headline(db.session(), Scope(current_user), today)
    return Markup(render_template("mutualaid/office/widget.html", h=h, year=today.year,
                                  url=url_for("mutualaid.office_dashboard")))
