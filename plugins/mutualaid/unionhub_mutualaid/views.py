"""The member's own mutual-aid page, the coverage panel on "我的", the plans pages and the
coverage API. Feature packages add their pages to the same blueprints."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from pydantic import BaseModel
from sqlalchemy import func, select

from unionhub import db
from unionhub.access.service import can, require
from unionhub.api import operation

from . import plans
from .cover import member_cover
from .features import FEATURES
from .models import MutualaidClaim, MutualaidPlan
from .rules import PROGRAM_NAMES, RulesError
from .web import api, bp


def coverage_panel(member: Any = None, account: Any = None, **_: Any) -> Markup | None:
    if member is None:
        return None
    lines = [line for line in member_cover(db.session(), member) if line.status != "ended"]
    return Markup(render_template("mutualaid/_coverage.html", lines=lines, compact=True))


@bp.route("/")
@login_required
def my() -> Any:
    """我的互助: coverage, then the claims and payouts panels of the features."""
    member = current_user.member
    if member is None:
        if can(current_user, "mutualaid.stats.view"):
            return redirect(url_for(".plans"))
        abort(404)
    lines = member_cover(db.session(), member)
    rendered = [(p.title, p.render(member=member, account=current_user))
                for p in FEATURES.gather("profile_panels")]
    panels = [(title, html) for title, html in rendered if html]  # None: nothing to show
    return render_template("mutualaid/my.html", member=member, panels=panels,
                           current=[line for line in lines if line.status != "ended"],
                           past=[line for line in lines if line.status == "ended"])


def _may_see_plans() -> None:
    if not (can(current_user, "mutualaid.stats.view")
            or can(current_user, "mutualaid.plans.manage")):
        abort(403)


@bp.route("/plans", endpoint="plans")
@login_required
def plans_index() -> Any:
    _may_see_plans()
    s = db.session()
    rows = plans.active_plans(s)
    counts = dict(s.execute(select(MutualaidClaim.plan_id, func.count())
                            .group_by(MutualaidClaim.plan_id)).all())
    return render_template("mutualaid/plans.html", plans=rows, counts=counts,
                           names=PROGRAM_NAMES, rules_of=plans.rules_of)


@bp.route("/plans/<int:plan_id>")
@login_required
def plan_detail(plan_id: int) -> Any:
    _may_see_plans()
    s = db.session()
    plan = s.get(MutualaidPlan, plan_id)
    if plan is None:
        abort(404)
    versions = list(s.scalars(select(MutualaidPlan).where(
        MutualaidPlan.program == plan.program, MutualaidPlan.plan_year == plan.plan_year)
        .order_by(MutualaidPlan.version.desc())))
    return render_template("mutualaid/plan.html", plan=plan, rules=plans.rules_of(plan),
                           versions=versions, has_claims=plans.has_claims(s, plan),
                           today=date.today())


@bp.route("/plans/<int:plan_id>/edit", methods=["GET", "POST"])
@login_required
def plan_edit(plan_id: int) -> Any:
    require("mutualaid.plans.manage")
    s = db.session()
    plan = s.get(MutualaidPlan, plan_id)
    if plan is None:
        abort(404)
    form = FlaskForm()
    text = json.dumps(plan.rules, ensure_ascii=False, indent=2)
    errors: list[str] = []
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        text = request.form.get("rules", "")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            errors = [_("JSON 第 %(line)s 行第 %(col)s 列：%(msg)s",
                         line=exc.lineno, col=exc.colno, msg=exc.msg)]
        else:
            try:
                target = plans.update(s, plan, data, actor=current_user)
            except RulesError as exc:
                errors = list(exc.errors)
            else:
                s.commit()
                if target.id != plan.id:
                    flash(_("该年度已有理赔，已保存为新版本 v%(version)s", version=target.version),
                          "success")
                else:
                    flash(_("规则已保存"), "success")
                return redirect(url_for(".plan_detail", plan_id=target.id))
    return render_template("mutualaid/plan_edit.html", plan=plan, form=form, text=text,
                           errors=errors, has_claims=plans.has_claims(s, plan))


class CoverOut(BaseModel):
    program: str
    name: str
    plan_year: int
    start: date
    end: date
    shares: int
    tier: str | None
    waiting_until: date | None
    fee: str
    status: str
    status_label: str
    unit: str | None


@api.route("/coverage")
@operation("互助保障：我的保障", tags=["mutualaid"], response=list[CoverOut])
def api_coverage() -> Any:
    member = current_user.member
    if member is None:
        return []
    return [CoverOut(program=c.program, name=c.name, plan_year=c.plan_year, start=c.start,
                     end=c.end, shares=c.shares, tier=c.tier, waiting_until=c.waiting_until,
                     fee=str(c.fee), status=c.status, status_label=c.status_label, unit=c.unit)
            for c in member_cover(db.session(), member)]
