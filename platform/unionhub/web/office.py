"""The officer back office: home, members (scoped to the officer's org subtree), cards."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from unionhub import db
from unionhub.access import service as access
from unionhub.audit import service as audit
from unionhub.audit.models import AuditLog
from unionhub.identity import service as identity
from unionhub.identity.models import (
    MEMBER_STATUS_LABELS,
    CardStatus,
    JingkaCard,
    Member,
    MemberStatus,
)
from unionhub.identity.numbers import (
    InvalidNumber,
    mask_mobile,
    normalize_digits,
    validate_mobile,
)
from unionhub.orgs.models import Org
from unionhub.search import queue as search_queue
from unionhub.web.pagination import paginate

bp = Blueprint("office", __name__, url_prefix="/office")


@bp.before_request
@login_required
def _officers_only() -> None:
    access.require("core.office")


@bp.route("/")
def home() -> Any:
    return render_template("office/home.html")


def member_query(q: str, permission: str = "core.members.view") -> Select[Any]:
    """Members the current user may see matching ``q`` (card, ID, mobile or name)."""
    stmt = (
        select(Member)
        .join(Org, Member.org_id == Org.id)
        .where(access.scope_filter(current_user, permission, Org.path))
    )
    q = q.strip()
    if not q:
        return stmt
    kinds = identity.identifier_kinds(q)
    if kinds:
        digits = normalize_digits(q).upper()
        clauses = []
        if "mobile" in kinds:
            clauses.append(Member.mobile == digits)
        if "id" in kinds:
            clauses.append(Member.id_number_hash == identity.id_hash(digits))
        if "card" in kinds:
            clauses.append(Member.id.in_(select(JingkaCard.member_id).where(
                JingkaCard.number_hash == identity.card_hash(digits))))
        return stmt.where(or_(*clauses))
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return stmt.where(Member.name.like(f"%{escaped}%", escape="\\"))


def is_identifier(q: str) -> bool:
    """Card, ID and mobile numbers: looked up by POST so they never enter URLs or logs."""
    return bool(identity.identifier_kinds(q))


@bp.route("/members", methods=["GET", "POST"])
def members() -> Any:
    access.require("core.members.view")
    if request.method == "POST":
        if not FlaskForm().validate_on_submit():
            abort(400)
        q = request.form.get("q", "").strip()
        if not is_identifier(q):
            return redirect(url_for(".members", q=q or None))
        ids = db.session().scalars(member_query(q).with_only_columns(Member.id)).all()
        if len(ids) == 1:
            return redirect(url_for(".member", member_id=ids[0]))
        if ids:
            flash(_("找到 %(count)s 名会员使用该手机号，请用卡号或身份证号查找",
                    count=len(ids)), "info")
        else:
            flash(_("没有找到会员（或不在您的管辖范围内）"), "info")
        return redirect(url_for(".members"))
    q = request.args.get("q", "")
    status = request.args.get("status", "")
    stmt = member_query(q)
    if status in MEMBER_STATUS_LABELS:
        stmt = stmt.where(Member.status == status)
    page = paginate(stmt.options(selectinload(Member.cards)).order_by(Member.id))
    return render_template("office/members.html", page=page,
                           q="" if is_identifier(q) else q, status=status,
                           statuses=MEMBER_STATUS_LABELS, search_form=FlaskForm())


@bp.route("/members/export.csv")
def export_members() -> Any:
    access.require("core.members.export")
    stmt = (
        member_query(request.args.get("q", ""), "core.members.export")
        .outerjoin(JingkaCard, and_(JingkaCard.member_id == Member.id,
                                    JingkaCard.status == CardStatus.ACTIVE))
        .with_only_columns(Member.name, Member.sex, Member.id_number_masked, Member.mobile,
                           Org.name, Member.status, JingkaCard.number_masked)
        .order_by(Member.id)
    )
    audit.record("member.export", details={"q_len": len(request.args.get("q", ""))})
    db.session().commit()
    factory = db.get_db().factory

    def rows() -> Iterator[str]:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["姓名", "性别", "身份证号", "手机号", "工会组织", "会籍状态", "京卡"])
        yield "\ufeff" + buf.getvalue()
        with factory() as s:
            for name, sex, id_masked, mobile, org, status, card in s.execute(
                stmt.execution_options(yield_per=1000)
            ):
                buf.seek(0)
                buf.truncate()
                w.writerow([name, "男" if sex == "M" else "女", id_masked,
                            mask_mobile(mobile) if mobile else "", org,
                            MEMBER_STATUS_LABELS.get(status, status), card or ""])
                yield buf.getvalue()

    return Response(rows(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=members.csv"})


@bp.route("/members/<int:member_id>")
def member(member_id: int) -> Any:
    m = access.scoped_member(current_user, member_id, "core.members.view")
    history = db.session().scalars(
        select(AuditLog)
        .where(AuditLog.target_type == "member", AuditLog.target_id == str(m.id))
        .order_by(AuditLog.id.desc())
        .limit(20)
    )
    return render_template("office/member.html", member=m, history=list(history),
                           card_form=CardForm(), may_edit=access.can(
                               current_user, "core.members.edit", m.org),
                           may_cards=access.can(current_user, "core.cards.manage", m.org))


class MemberForm(FlaskForm):
    name = StringField("姓名", validators=[DataRequired(), Length(max=100)])
    mobile = StringField("手机号")
    org_id = SelectField("工会组织", coerce=int)
    status = SelectField("会籍状态", choices=list(MEMBER_STATUS_LABELS.items()))


def _org_choices(permission: str) -> list[tuple[int, str]]:
    stmt = select(Org).where(access.scope_filter(current_user, permission, Org.path))
    return [(o.id, f"{'　' * o.depth}{o.name}") for o in db.session().scalars(
        stmt.order_by(Org.path))]


@bp.route("/members/<int:member_id>/edit", methods=["GET", "POST"])
def edit_member(member_id: int) -> Any:
    m = access.scoped_member(current_user, member_id, "core.members.edit")
    form = MemberForm(obj=m)
    form.org_id.choices = _org_choices("core.members.edit")
    if form.validate_on_submit():
        try:
            mobile = validate_mobile(form.mobile.data) if form.mobile.data else None
        except InvalidNumber as exc:
            form.mobile.errors = [exc.reason]
            return render_template("office/member_edit.html", form=form, member=m), 400
        target = access.scoped_org(current_user, form.org_id.data, "core.members.edit")
        changes = {}
        for field, new in (("name", form.name.data.strip()), ("mobile", mobile),
                           ("org_id", target.id), ("status", form.status.data)):
            if getattr(m, field) != new:
                changes[field] = "*" if field == "mobile" else str(new)
                setattr(m, field, new)
        if changes:
            if "status" in changes and m.status != MemberStatus.ACTIVE and not m.left_on:
                m.left_on = date.today()
            audit.record("member.update", target_type="member", target_id=m.id,
                         org_path=target.path, details=changes)
            search_queue.enqueue(db.session(), identity.MEMBER_DOC, [m.id])
            db.session().commit()
            flash(_("会员信息已保存"), "success")
        return redirect(url_for("office.member", member_id=m.id))
    status = 400 if request.method == "POST" else 200
    return render_template("office/member_edit.html", form=form, member=m), status


class CardForm(FlaskForm):
    new_number = StringField("新卡号")


@bp.route("/members/<int:member_id>/cards/<int:card_id>/<action>", methods=["POST"])
def card_action(member_id: int, card_id: int, action: str) -> Any:
    m = access.scoped_member(current_user, member_id, "core.cards.manage")
    s = db.session()
    card = s.scalar(select(JingkaCard).where(JingkaCard.id == card_id,
                                             JingkaCard.member_id == m.id))
    if card is None or action not in {"lost", "replace"}:
        abort(404)
    form = CardForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if action == "lost":
            identity.report_lost(s, card)
            msg = _("已挂失")
        else:
            new = identity.replace_card(s, card, form.new_number.data or "")
            msg = _("已补卡，新卡号 %(number)s", number=new.number_masked)
        s.commit()
        flash(msg, "success")
    except identity.IdentityError as exc:
        s.rollback()
        flash(str(exc), "error")
    except IntegrityError:
        # Lost a race: someone else registered that number or changed the card meanwhile.
        s.rollback()
        flash(_("该卡刚被他人处理，或新卡号已被使用，请刷新后重试"), "error")
    return redirect(url_for("office.member", member_id=m.id))
