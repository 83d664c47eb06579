"""The screening pages (重疾筛查): the only pages that show diagnoses.

Only holders of ``mutualaid.screening.view`` (grassroots officers) get in, and every query is
filtered in SQL by their scope on the member's current org: an officer sees the members of their
own union's subtree. A flag outside the scope is a 404 (its existence is not revealed).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import func, select
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import Optional

from unionhub import db
from unionhub.access.service import require, scope_filter
from unionhub.identity.models import Account, Member
from unionhub.orgs.models import Org
from unionhub.web.pagination import paginate

from ..web import bp
from . import service
from .models import FLAG_STATUS_LABELS, FlagStatus, MutualaidScreeningFlag, MutualaidScreeningVisit

PERMISSION = "mutualaid.screening.view"


class VisitForm(FlaskForm):
    visited_on = DateField("走访日期", validators=[Optional()])
    aid_amount = StringField("慰问金额（元）", default="0")
    note = TextAreaField("走访情况", validators=[Optional()])


def _in_scope() -> Any:
    """Flags of members whose CURRENT union lies in the viewer's scope: after a transfer the
    old union no longer sees the member's diagnoses (the flag's own ``org_path`` is only a
    copy for indexing)."""
    return MutualaidScreeningFlag.member_id.in_(
        select(Member.id).join(Org, Org.id == Member.org_id)
        .where(scope_filter(current_user, PERMISSION, Org.path)))


def _flag_or_404(flag_id: int) -> MutualaidScreeningFlag:
    require(PERMISSION)
    row = db.session().scalar(select(MutualaidScreeningFlag).where(
        MutualaidScreeningFlag.id == flag_id, _in_scope()))
    if row is None:
        abort(404)
    return row


@bp.route("/screening", endpoint="screening")
@login_required
def screening_list() -> Any:
    require(PERMISSION)
    status = request.args.get("status", "")
    stmt = select(MutualaidScreeningFlag).where(_in_scope())
    if status in FLAG_STATUS_LABELS:
        stmt = stmt.where(MutualaidScreeningFlag.status == status)
    else:
        status = ""
    stmt = stmt.order_by(MutualaidScreeningFlag.status != FlagStatus.NEW,
                         MutualaidScreeningFlag.first_settled_on.desc(),
                         MutualaidScreeningFlag.id.desc())
    page = paginate(stmt)
    return render_template("mutualaid/screening/list.html", page=page, status=status,
                           labels=FLAG_STATUS_LABELS)


def _render_detail(row: MutualaidScreeningFlag, form: VisitForm, code: int = 200) -> Any:
    s = db.session()
    visits = list(s.scalars(select(MutualaidScreeningVisit)
                            .where(MutualaidScreeningVisit.flag_id == row.id)
                            .order_by(MutualaidScreeningVisit.visited_on.desc(),
                                      MutualaidScreeningVisit.id.desc())))
    visitor_ids = {v.visitor for v in visits if v.visitor}
    visitors = dict(s.execute(select(Account.id, Account.display_name)
                              .where(Account.id.in_(visitor_ids))).all()) if visitor_ids else {}
    return render_template("mutualaid/screening/detail.html", flag=row, visits=visits,
                           visitors=visitors, form=form, close_form=FlaskForm(),
                           total=service.aid_total(s, row.id)), code


@bp.route("/screening/<int:flag_id>", endpoint="screening_detail")
@login_required
def screening_detail(flag_id: int) -> Any:
    row = _flag_or_404(flag_id)
    return _render_detail(row, VisitForm())


@bp.route("/screening/<int:flag_id>/visit", methods=["POST"], endpoint="screening_visit")
@login_required
def screening_visit(flag_id: int) -> Any:
    row = _flag_or_404(flag_id)
    form = VisitForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _render_detail(row, form, 400)
    s = db.session()
    try:
        amount = service.parse_amount(form.aid_amount.data)
        service.record_visit(s, row, visited_on=form.visited_on.data, note=form.note.data,
                             aid_amount=amount, actor=current_user)
    except service.ScreeningError as exc:
        s.rollback()
        row = _flag_or_404(flag_id)
        field = getattr(form, exc.field, None)
        if field is not None:
            field.errors = [*field.errors, exc.message]
        else:
            flash(exc.message, "error")
        return _render_detail(row, form, 400)
    s.commit()
    flash(_("走访已登记"), "success")
    return redirect(url_for(".screening_detail", flag_id=flag_id))


@bp.route("/screening/<int:flag_id>/close", methods=["POST"], endpoint="screening_close")
@login_required
def screening_close(flag_id: int) -> Any:
    row = _flag_or_404(flag_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    s = db.session()
    if service.close(s, row, actor=current_user):
        s.commit()
        flash(_("已关闭"), "success")
    else:
        flash(_("该筛查记录已关闭"), "info")
    return redirect(url_for(".screening_detail", flag_id=flag_id))


def new_flags_widget(**_: Any) -> Markup:
    """Officer board: how many new flags wait in the viewer's scope (no diagnoses)."""
    count = db.session().scalar(
        select(func.count()).select_from(MutualaidScreeningFlag)
        .where(MutualaidScreeningFlag.status == FlagStatus.NEW, _in_scope())) or 0
    return Markup(render_template("mutualaid/screening/widget.html", count=count))
