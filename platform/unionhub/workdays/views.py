"""Admin page of the working-day calendar: years and their status, one year's overrides,
add/remove one day, bulk paste (all or nothing), mark a year complete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from unionhub import db
from unionhub.access import service as access
from unionhub.audit import service as audit
from unionhub.workdays import service as workdays
from unionhub.workdays.models import KIND_LABELS, WorkdayOverride

PERMISSION = "core.settings.manage"
bp = Blueprint("workdays", __name__, url_prefix="/admin/workdays")
workdays_bp = bp


class OverrideForm(FlaskForm):
    day = StringField("日期")
    kind = SelectField("类型", choices=list(KIND_LABELS.items()), validate_choice=False)
    name = StringField("名称")


class BulkForm(FlaskForm):
    lines = TextAreaField("批量录入")


class YearForm(FlaskForm):
    complete = BooleanField("已录入完整")
    note = StringField("备注")


class EmptyForm(FlaskForm):
    pass


@bp.before_request
@login_required
def _signed_in() -> None:
    access.require(PERMISSION)
    return None


def _selected_year() -> int:
    raw = request.args.get("year", "").strip()
    if raw:
        try:
            return workdays.parse_year(raw)
        except workdays.WorkdayError as exc:
            flash(str(exc), "error")
    today = workdays._today()
    for year in (today.year, today.year + 1):
        if not workdays.year_status(year).known:
            return year
    return today.year


def _page(year: int, *, form: OverrideForm | None = None, bulk_form: BulkForm | None = None,
          bulk_errors: list[str] | None = None, year_form: YearForm | None = None) -> Any:
    s = db.session()
    status = workdays.year_status(year)
    if year_form is None:
        year_form = YearForm(formdata=None, complete=status.complete, note=status.note or "")
    form = form or OverrideForm(formdata=None, day=f"{year}-")
    years = [workdays.year_status(y) for y in workdays.listed_years(s, extra=(year,))]
    return render_template(
        "workdays/index.html",
        year=year, status=status, years=years,
        warnings=[w for w in workdays.warnings() if w != status.warning],
        overrides=workdays.overrides_of(s, year), package_days=workdays.special_days(year),
        form=form, bulk_form=bulk_form or BulkForm(formdata=None), bulk_errors=bulk_errors or [],
        year_form=year_form, delete_form=EmptyForm(), kind_labels=KIND_LABELS,
        weekdays="一二三四五六日")


@bp.route("/")
def index() -> Any:
    return _page(_selected_year())


@bp.route("/overrides", methods=["POST"])
def add() -> Any:
    form = OverrideForm()
    if not form.validate_on_submit():
        abort(400)
    s = db.session()
    entry, errors = workdays.validate_entry(form.day.data, form.kind.data, form.name.data)
    if entry is not None:
        try:
            row = workdays.add_override(s, entry.day, entry.kind, entry.name)
            audit.record("workdays.override.add", target_type="workday_override",
                         target_id=row.id, details={"day": entry.day.isoformat(),
                                                    "kind": entry.kind, "name": entry.name})
            s.commit()
        except workdays.WorkdayError as exc:
            s.rollback()
            errors = [exc]
        except IntegrityError:  # the same date added concurrently
            s.rollback()
            errors = [workdays.WorkdayError(f"日期：{entry.day.isoformat()} 已有记录", "day")]
        else:
            day_text = entry.day.isoformat()
            flash(_("已录入 %(day)s %(kind)s %(name)s", day=day_text,
                    kind=_(KIND_LABELS[entry.kind]), name=entry.name), "success")
            return redirect(url_for("workdays.index", year=entry.day.year))
    for exc in errors:
        getattr(form, exc.field or "day").errors = [str(exc)]
    flash(_("未保存：%(errors)s", errors="；".join(str(e) for e in errors)), "error")
    year = entry.day.year if entry else _year_from(form.day.data)
    return _page(year, form=form)


def _year_from(raw: object) -> int:
    try:
        return workdays.parse_day(raw).year
    except workdays.WorkdayError:
        return _selected_year()


@bp.route("/overrides/<int:override_id>/delete", methods=["POST"])
def delete(override_id: int) -> Any:
    if not EmptyForm().validate_on_submit():
        abort(400)
    s = db.session()
    row = s.get(WorkdayOverride, override_id)
    if row is None:
        abort(404)
    day, kind, name = row.day, row.kind, row.name
    workdays.remove_override(s, override_id)
    audit.record("workdays.override.remove", target_type="workday_override",
                 target_id=override_id, details={"day": day.isoformat(), "kind": kind,
                                                 "name": name})
    s.commit()
    day_text = day.isoformat()
    flash(_("已删除 %(day)s %(kind)s %(name)s", day=day_text,
            kind=_(KIND_LABELS.get(kind, kind)), name=name), "success")
    return redirect(url_for("workdays.index", year=day.year))


@bp.route("/bulk", methods=["POST"])
def bulk() -> Any:
    form = BulkForm()
    if not form.validate_on_submit():
        abort(400)
    s = db.session()
    try:
        result = workdays.import_bulk(s, form.lines.data or "")
    except IntegrityError:
        s.rollback()
        result = workdays.BulkResult(errors=["有日期刚被其他人录入，请刷新后重试"])
    if not result.ok:
        s.rollback()
        flash(_("有 %(count)s 处错误，未录入任何数据", count=len(result.errors)), "error")
        year = request.args.get("year", type=int) or _selected_year()
        return _page(year, bulk_form=form, bulk_errors=result.errors)
    years = sorted({e.day.year for e in result.created})
    if result.created:
        audit.record("workdays.bulk", details={
            "created": len(result.created), "unchanged": result.unchanged, "years": years})
    s.commit()
    flash(_("已录入 %(created)s 条，%(unchanged)s 条与已有记录相同未变",
            created=len(result.created), unchanged=result.unchanged), "success")
    return redirect(url_for("workdays.index", year=years[0] if years else None))


@bp.route("/years/<int:year>", methods=["POST"])
def mark_year(year: int) -> Any:
    form = YearForm()
    if not form.validate_on_submit():
        abort(400)
    s = db.session()
    try:
        year = workdays.parse_year(year)
        workdays.set_year(s, year, bool(form.complete.data), form.note.data)
    except workdays.WorkdayError as exc:
        s.rollback()
        if exc.field in ("complete", "note"):
            getattr(form, exc.field).errors = [str(exc)]
        flash(str(exc), "error")
        return _page(year if workdays.MIN_YEAR <= year <= workdays.MAX_YEAR
                     else _selected_year(), year_form=form)
    audit.record("workdays.year", target_type="workday_year", target_id=year,
                 details={"complete": bool(form.complete.data)})
    s.commit()
    if form.complete.data:
        flash(_("%(year)s 年已标记为录入完整", year=year), "success")
    else:
        flash(_("%(year)s 年已标记为未完整", year=year), "success")
    return redirect(url_for("workdays.index", year=year))
