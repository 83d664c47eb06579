"""Back-office pages of member groups (会员群体): the list with member counts, creating and
editing a group, a group's members, adding members by pasted ID or Jingka card numbers and
removing one.

Groups are platform-wide labels, so creating and renaming them takes ``core.groups.manage``
(admins, city officers); who is *in* a group is kept by officers with ``core.groups.members``,
each within their own org subtree: every list, count, addition and removal is filtered by
``scope_filter`` in SQL.
"""

from __future__ import annotations

import posixpath
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import selectinload
from wtforms import StringField, TextAreaField

from unionhub import db
from unionhub.access import service as access
from unionhub.audit import service as audit
from unionhub.groups import service as groups
from unionhub.groups.models import MemberGroup, MemberGroupMember
from unionhub.identity import service as identity
from unionhub.identity.models import Member
from unionhub.orgs.models import Org
from unionhub.web.pagination import paginate

MANAGE = "core.groups.manage"
MEMBERS = "core.groups.members"

bp = Blueprint("groups", __name__, url_prefix="/admin/groups")
groups_bp = bp


class GroupForm(FlaskForm):
    code = StringField("群体代码")
    name = StringField("群体名称")
    description = TextAreaField("说明")


class EditForm(FlaskForm):
    name = StringField("群体名称")
    description = TextAreaField("说明")


class AddForm(FlaskForm):
    lines = TextAreaField("身份证号或京卡卡号，每行一个")


class EmptyForm(FlaskForm):
    pass


@bp.before_request
@login_required
def _signed_in() -> None:
    access.require(MEMBERS)
    return None


def _scope() -> ColumnElement[bool]:
    """Orgs (``Org.path``) whose members the current user may put in or take out of groups."""
    return access.scope_filter(current_user, MEMBERS, Org.path)


def _group(group_id: int) -> MemberGroup:
    group = db.session().get(MemberGroup, group_id)
    if group is None:
        abort(404)
    return group


def _field_error(form: FlaskForm, exc: groups.GroupError) -> None:
    target = getattr(form, exc.field or "", None)
    if target is not None:
        target.errors = [str(exc)]
    else:
        flash(str(exc), "error")


@bp.route("/", methods=["GET", "POST"])
def index() -> Any:
    s = db.session()
    may_manage = access.can(current_user, MANAGE)
    form = GroupForm()
    status = 200
    if request.method == "POST":
        if not may_manage:
            abort(403)
        if form.validate_on_submit():
            try:
                group = groups.create_group(s, form.code.data or "", form.name.data or "",
                                            form.description.data)
            except groups.GroupError as exc:
                s.rollback()
                _field_error(form, exc)
                status = 400
            else:
                audit.record("group.create", target_type="member_group", target_id=group.id,
                             details={"code": group.code, "name": group.name})
                s.commit()
                flash(_("会员群体 %(name)s 已创建", name=group.name), "success")
                return redirect(url_for("groups.show", group_id=group.id))
        else:
            status = 400
    rows = list(s.scalars(select(MemberGroup).order_by(MemberGroup.id)))
    counts = groups.member_counts(s, _scope())
    return render_template("admin/groups.html", groups=rows, counts=counts, form=form,
                           may_manage=may_manage), status


def _show(group: MemberGroup, *, add_form: AddForm | None = None,
          edit_form: EditForm | None = None, report: groups.AddReport | None = None,
          status: int = 200) -> Any:
    q = request.args.get("q", "").strip()
    stmt = (select(Member)
            .join(MemberGroupMember, and_(MemberGroupMember.member_id == Member.id,
                                          MemberGroupMember.group_id == group.id))
            .join(Org, Org.id == Member.org_id)
            .where(_scope()))
    if q and identity.identifier_kinds(q):
        flash(_("这里只按姓名筛选；添加会员请在下方粘贴身份证号或京卡卡号"), "info")
        q = ""
    elif q:
        stmt = stmt.where(Member.name.contains(q, autoescape=True))
    page = paginate(stmt.options(selectinload(Member.cards)).order_by(Org.path, Member.id))
    may_manage = access.can(current_user, MANAGE)
    if edit_form is None and may_manage:
        edit_form = EditForm(formdata=None, name=group.name, description=group.description)
    return render_template(
        "admin/groups_show.html", group=group, page=page, q=q, may_manage=may_manage,
        add_form=add_form or AddForm(formdata=None), edit_form=edit_form, report=report,
        remove_form=EmptyForm(), max_lines=groups.MAX_LINES), status


@bp.route("/<int:group_id>")
def show(group_id: int) -> Any:
    return _show(_group(group_id))


@bp.route("/<int:group_id>/edit", methods=["POST"])
def edit(group_id: int) -> Any:
    if not access.can(current_user, MANAGE):
        abort(403)
    group = _group(group_id)
    form = EditForm()
    if not form.validate_on_submit():
        abort(400)
    s = db.session()
    try:
        groups.update_group(s, group, form.name.data or "", form.description.data)
    except groups.GroupError as exc:
        s.rollback()
        group = _group(group_id)
        _field_error(form, exc)
        return _show(group, edit_form=form, status=400)
    audit.record("group.update", target_type="member_group", target_id=group.id,
                 details={"code": group.code, "name": group.name})
    s.commit()
    flash(_("已保存"), "success")
    return redirect(url_for("groups.show", group_id=group.id))


def _common_path(paths: list[str]) -> str | None:
    """The deepest org path that every path lies under ("/1/5/" for "/1/5/7/" and "/1/5/9/")."""
    if not paths:
        return None
    prefix = posixpath.commonprefix(paths)
    prefix = prefix[:prefix.rfind("/") + 1]
    return prefix if prefix.strip("/") else None


@bp.route("/<int:group_id>/members", methods=["POST"])
def add(group_id: int) -> Any:
    group = _group(group_id)
    form = AddForm()
    if not form.validate_on_submit():
        abort(400)
    text = form.lines.data or ""
    if not text.strip():
        form.lines.errors = [_("请粘贴至少一个身份证号或京卡卡号")]
        return _show(group, add_form=form, status=400)
    s = db.session()
    try:
        report = groups.add_by_numbers(s, group, text, _scope())
    except groups.GroupError as exc:
        s.rollback()
        form.lines.errors = [str(exc)]
        return _show(group, add_form=form, status=400)
    if report.added:
        paths = list(s.scalars(
            select(Org.path).join(Member, Member.org_id == Org.id)
            .where(Member.id.in_(report.added_ids)).distinct()))
        audit.record("group.add_members", target_type="member_group", target_id=group.id,
                     org_path=_common_path(paths),
                     details={"code": group.code, "added": report.added,
                              "already": report.already, "rejected": len(report.problems)})
    s.commit()
    if report.added:
        flash(_("已加入 %(n)s 名会员", n=report.added), "success")
    elif not report.problems:
        flash(_("没有新加入的会员：这些会员已在群体中"), "info")
    # Rendered, not redirected: the per-line report is shown once and no number enters a URL.
    return _show(group, report=report)


@bp.route("/<int:group_id>/members/<int:member_id>/remove", methods=["POST"])
def remove(group_id: int, member_id: int) -> Any:
    group = _group(group_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    member = access.scoped_member(current_user, member_id, MEMBERS)
    s = db.session()
    if groups.remove_members(s, group, [member.id]):
        audit.record("group.remove_member", target_type="member", target_id=member.id,
                     org_path=member.org.path, details={"code": group.code})
        s.commit()
        flash(_("已将 %(name)s 移出 %(group)s", name=member.name, group=group.name), "success")
    else:
        flash(_("该会员不在此群体中"), "info")
    return redirect(url_for("groups.show", group_id=group.id))
