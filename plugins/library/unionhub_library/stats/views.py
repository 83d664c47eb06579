"""阅读统计 for officers (``/library/stats``) and its officer-board widget.

Every figure is limited in SQL to the officer's subtree (see :mod:`.service`); an org chosen
on the page must lie in it (404 otherwise). A bad date range is flashed and the default (the
last 12 months) shown instead; nothing is stored.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from flask import abort, flash, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from unionhub import db
from unionhub.access.service import require
from unionhub.i18n import _
from unionhub.web import charts, id_arg

from ..web import bp
from . import service


def stats_range(args: Any, today: date) -> tuple[date, date, str | None]:
    """The requested ``start``/``end`` (default: the last 12 months) and an error, if any."""
    default = service.default_range(today)
    try:
        start = service.parse_day(args.get("start"), _("开始日期")) or default[0]
        end = service.parse_day(args.get("end"), _("结束日期")) or default[1]
        service.check_range(start, end)
    except service.StatsError as exc:
        return default[0], default[1], str(exc)
    return start, end, None


def dashboard_charts(d: service.Dashboard) -> dict[str, Markup]:
    h = d.headline
    labels = [m.label for m in d.months]
    every = max(1, math.ceil(len(labels) / 12))
    period = _("%(start)s 至 %(end)s", start=h.start.isoformat(), end=h.end.isoformat())
    return {
        "reads": charts.columns(
            "lib-reads", _("每月阅读人次"),
            _("%(period)s 每月阅读人次（同一读者同一天读同一本书计一次）", period=period),
            labels, [charts.Series(_("阅读人次"), [m.reads for m in d.months]),
                     charts.Series(_("阅读人数"), [m.readers for m in d.months])],
            label_every=every),
        "loans": charts.columns(
            "lib-loans", _("每月借阅册次"), _("%(period)s 每月借出的册次", period=period),
            labels, [charts.Series(_("借阅册次"), [m.loans for m in d.months])],
            label_every=every),
        "titles": charts.bars(
            "lib-titles", _("热门图书"), _("期间内阅读人次最多的图书"),
            [charts.Bar(t.title, t.reads, _("次")) for t in d.titles]),
        "unions": charts.bars(
            "lib-unions", _("各工会活跃读者"), _("期间内有阅读记录的读者人数，按下级工会汇总"),
            [charts.Bar(u.name, u.readers, _("人")) for u in d.unions.rows]),
    }


@bp.route("/stats", endpoint="stats")
@login_required
def stats() -> Any:
    require(service.PERMISSION)
    s = db.session()
    org = None
    raw = request.args.get("org_id", "").strip()
    if raw:
        org_id = id_arg(raw)
        org = service.in_scope(s, current_user, org_id) if org_id is not None else None
        if org is None:
            abort(404)
    start, end, error = stats_range(request.args, service.beijing_today())
    if error:
        flash(error, "error")
    choices = service.org_choices(s, current_user)
    if org is not None and org.id not in {o.id for o in choices}:
        choices.append(org)
    d = service.dashboard(s, service.Scope(current_user, org), start, end)
    return render_template("library/stats/dashboard.html", d=d, h=d.headline,
                           charts=dashboard_charts(d), org=org, choices=choices,
                           start=start, end=end)


def officer_widget(**_kw: Any) -> Markup:
    """This month's reads and active readers in the officer's scope."""
    today = service.beijing_today()
    h = service.headline(db.session(), service.Scope(current_user), today.replace(day=1), today)
    return Markup(render_template("library/stats/_widget.html", h=h,
                                  url=url_for("library.stats")))
