"""Section management in the back office (``/portal/admin/sections``): the tree with kinds,
audience and article counts; adding, editing (name, kind, link, description, SEO, home-page
block, hidden, audience), moving up and down, hiding and showing, deleting an empty section.
Everything needs ``portal.sections.manage``; the rules live in :mod:`.service`."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from unionhub import db
from unionhub.access.service import require
from unionhub.i18n import _
from unionhub.orgs.models import Org

from ..models import PLATFORMS, PortalSection
from ..web import bp
from . import service

MANAGE = service.MANAGE


def _section_or_404(section_id: int) -> PortalSection:
    found = db.session().get(PortalSection, section_id)
    if found is None:
        abort(404)
    return found


@bp.route("/admin/sections")
@login_required
def admin_sections() -> Any:
    require(MANAGE)
    s = db.session()
    tree = service.ordered_tree(s)
    org_ids = {row.audience_org_id for top, kids in tree for row in (top, *kids)
               if row.audience_org_id}
    orgs = dict(s.execute(select(Org.id, Org.name).where(Org.id.in_(org_ids))).all()
                ) if org_ids else {}
    return render_template(
        "portal/sections/admin_list.html", tree=tree, counts=service.article_counts(s),
        orgs=orgs, groups=service.groups_by_section(s), kinds=service.KIND_LABELS,
        platform_labels=service.PLATFORM_LABELS, form=FlaskForm())


def _posted_values(form: MultiDict[str, str]) -> dict[str, Any]:
    """The posted form, shown back after an error."""
    values: dict[str, Any] = {k: form.get(k, "") for k in (
        "code", "name", "kind", "parent_id", "link_url", "description", "seo_title",
        "seo_description", "audience_org_id")}
    values["on_home"] = bool(form.get("on_home"))
    values["hidden"] = bool(form.get("hidden"))
    values["group_ids"] = [int(v) for v in form.getlist("group_ids") if v.isdigit()]
    values["platforms"] = [p for p in PLATFORMS if p in form.getlist("platforms")]
    return values


def _form_page(section: PortalSection | None, values: dict[str, Any], errors: dict[str, str],
               status: int = 200) -> Any:
    s = db.session()
    keep = section.audience_org_id if section is not None else None
    return render_template(
        "portal/sections/admin_form.html", section=section, values=values, errors=errors,
        form=FlaskForm(), kinds=service.KIND_LABELS, platform_labels=service.PLATFORM_LABELS,
        orgs=service.org_choices(s, current_user, keep), groups=service.group_choices(s),
        parents=[p for p in service.parent_choices(s)
                 if section is None or p.id != section.id],
        article_count=(service.article_counts(s).get(section.id, 0) if section else 0)
    ), status


def _save(section: PortalSection | None) -> Any:
    s = db.session()
    values = _posted_values(request.form)
    if not FlaskForm().validate_on_submit():
        return _form_page(section, values, {"form": _("页面已过期，请重新提交")}, 400)
    try:
        data = service.parse(request.form, creating=section is None)
        with s.begin_nested():
            if section is None:
                saved = service.create(s, current_user, data)
            else:
                saved = service.update(s, current_user, section, data)
    except service.SectionError as exc:
        s.rollback()
        return _form_page(section, values, exc.errors, 422)
    s.commit()
    flash(_("栏目「%(name)s」已保存", name=saved.name), "success")
    return redirect(url_for(".admin_sections"))


@bp.route("/admin/sections/new", methods=["GET", "POST"])
@login_required
def admin_section_new() -> Any:
    require(MANAGE)
    if request.method == "POST":
        return _save(None)
    values = service.form_values(None)
    parent = request.args.get("parent", "")
    if parent.isdigit():
        values["parent_id"] = int(parent)
    return _form_page(None, values, {})


@bp.route("/admin/sections/<int:section_id>", methods=["GET", "POST"])
@login_required
def admin_section_edit(section_id: int) -> Any:
    require(MANAGE)
    found = _section_or_404(section_id)
    if request.method == "POST":
        return _save(found)
    return _form_page(found, service.form_values(
        found, service.group_ids_of(db.session(), found.id)), {})


def _checked_post(section_id: int) -> PortalSection:
    require(MANAGE)
    found = _section_or_404(section_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    return found


def _back() -> Any:
    return redirect(url_for(".admin_sections") + "#tree")


@bp.route("/admin/sections/<int:section_id>/move", methods=["POST"])
@login_required
def admin_section_move(section_id: int) -> Any:
    found = _checked_post(section_id)
    s = db.session()
    try:
        moved = service.move(s, current_user, found, request.form.get("direction", ""))
    except service.SectionError as exc:
        s.rollback()
        flash(exc.errors["form"], "error")
        return _back()
    s.commit()
    if not moved:
        flash(_("栏目「%(name)s」已在最前或最后，无法再移动", name=found.name), "info")
    return _back()


@bp.route("/admin/sections/<int:section_id>/visibility", methods=["POST"])
@login_required
def admin_section_visibility(section_id: int) -> Any:
    found = _checked_post(section_id)
    s = db.session()
    hidden = request.form.get("hidden") == "1"
    service.set_hidden(s, current_user, found, hidden)
    s.commit()
    flash(_("栏目「%(name)s」已隐藏，访客和会员都看不到它及其中的文章", name=found.name)
          if hidden else _("栏目「%(name)s」已恢复显示", name=found.name), "success")
    return _back()


@bp.route("/admin/sections/<int:section_id>/delete", methods=["POST"])
@login_required
def admin_section_delete(section_id: int) -> Any:
    found = _checked_post(section_id)
    s = db.session()
    name = found.name
    try:
        service.delete_section(s, current_user, found)
    except service.SectionError as exc:
        s.rollback()
        flash(exc.errors["form"], "error")
        return redirect(url_for(".admin_section_edit", section_id=section_id))
    s.commit()
    flash(_("栏目「%(name)s」已删除", name=name), "success")
    return _back()
