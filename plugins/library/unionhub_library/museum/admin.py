"""Officers' museum management (``/library/museum/admin…``, endpoints ``museum_admin_*``):
exhibitions (create, edit, publish and unpublish, delete), their sections (add, edit, reorder,
delete) and items (upload an image, a video or an audio recording, write a text exhibit,
Dublin Core metadata, reorder, choose the cover).

Everything needs ``library.museum.manage``, and every record is looked up through the
officer's scope in SQL: an exhibition of another union's subtree is "not found". A refused
form or upload changes nothing and stores no file.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from unionhub import db
from unionhub.access.service import require
from unionhub.i18n import _
from unionhub.web.pagination import paginate

from ..models import MuseumExhibition, MuseumItem, MuseumSection
from ..web import bp
from . import dc, forms, media, service
from .service import MANAGE, MuseumError

PER_PAGE = 20


def _exhibition(exhibition_id: int) -> MuseumExhibition:
    require(MANAGE)
    found = service.managed_exhibition(db.session(), current_user, exhibition_id)
    if found is None:
        abort(404)
    return found


def _section(section_id: int) -> MuseumSection:
    require(MANAGE)
    found = service.managed_section(db.session(), current_user, section_id)
    if found is None:
        abort(404)
    return found


def _item(item_id: int) -> MuseumItem:
    require(MANAGE)
    found = service.managed_item(db.session(), current_user, item_id)
    if found is None:
        abort(404)
    return found


def _overview(exhibition_id: int, anchor: str = "") -> Any:
    url = url_for(".museum_admin_exhibition", exhibition_id=exhibition_id)
    return redirect(url + (f"#{anchor}" if anchor else ""))


def _remove_files(names: list[str | None]) -> None:
    for name in names:
        media.remove(name)


# --- exhibitions --------------------------------------------------------------------------


@bp.route("/museum/admin")
@login_required
def museum_admin_list() -> Any:
    require(MANAGE)
    s = db.session()
    page = paginate(service.managed_exhibitions(current_user), per_page=PER_PAGE)
    ids = [e.id for e in page.items]
    return render_template("library/museum/admin/list.html", page=page,
                           counts=service.item_counts(s, ids),
                           covers=service.covers(s, page.items))


def _exhibition_form(exhibition: MuseumExhibition | None, values: dict[str, Any],
                     errors: dict[str, str], status: int = 200) -> Any:
    owners = service.owner_choices(db.session(), current_user)
    return render_template("library/museum/admin/exhibition_form.html", exhibition=exhibition,
                           values=values, errors=errors, owners=owners), status


def _exhibition_values(exhibition: MuseumExhibition | None) -> dict[str, Any]:
    if exhibition is None:
        owners = service.owner_choices(db.session(), current_user)
        return {"owner_org_id": owners[0].id if owners else "", "sort": 0}
    return {"title": exhibition.title, "subtitle": exhibition.subtitle or "",
            "slug": exhibition.slug, "intro": exhibition.intro_html,
            "owner_org_id": exhibition.owner_org_id, "sort": exhibition.sort}


def _save_exhibition(exhibition: MuseumExhibition | None) -> Any:
    s = db.session()
    owners = {o.id for o in service.owner_choices(s, current_user)}
    try:
        data = forms.exhibition_data(s, request.form, owners,
                                     exhibition.id if exhibition else None)
        if exhibition is None:
            saved = service.create_exhibition(s, data)
        else:
            service.update_exhibition(s, exhibition, data)
            saved = exhibition
        s.commit()
    except MuseumError as exc:
        s.rollback()
        return _exhibition_form(exhibition, dict(request.form), exc.errors, 422)
    except IntegrityError:  # the same address saved by someone else a moment ago
        s.rollback()
        return _exhibition_form(exhibition, dict(request.form), {"slug": _(
            "网址名称“%(slug)s”已被其他展览使用", slug=request.form.get("slug", ""))}, 422)
    flash(_("展览“%(title)s”已保存", title=saved.title), "success")
    return _overview(saved.id)


@bp.route("/museum/admin/new", methods=["GET", "POST"])
@login_required
def museum_admin_new() -> Any:
    require(MANAGE)
    if request.method == "POST":
        return _save_exhibition(None)
    return _exhibition_form(None, _exhibition_values(None), {})


@bp.route("/museum/admin/<int:exhibition_id>")
@login_required
def museum_admin_exhibition(exhibition_id: int) -> Any:
    exhibition = _exhibition(exhibition_id)
    s = db.session()
    return render_template("library/museum/admin/exhibition.html", exhibition=exhibition,
                           cover=service.covers(s, [exhibition]).get(exhibition.id),
                           kind_labels=service.KIND_LABELS)


@bp.route("/museum/admin/<int:exhibition_id>/edit", methods=["GET", "POST"])
@login_required
def museum_admin_edit(exhibition_id: int) -> Any:
    exhibition = _exhibition(exhibition_id)
    if request.method == "POST":
        return _save_exhibition(exhibition)
    return _exhibition_form(exhibition, _exhibition_values(exhibition), {})


@bp.route("/museum/admin/<int:exhibition_id>/publish", methods=["POST"])
@login_required
def museum_admin_publish(exhibition_id: int) -> Any:
    exhibition = _exhibition(exhibition_id)
    s = db.session()
    publish = request.form.get("published") == "1"
    service.set_published(s, exhibition, publish)
    s.commit()
    flash(_("展览“%(title)s”已发布，所有访客都能看到", title=exhibition.title) if publish
          else _("展览“%(title)s”已撤回为草稿，访客看不到它了", title=exhibition.title),
          "success")
    return _overview(exhibition.id)


@bp.route("/museum/admin/<int:exhibition_id>/delete", methods=["POST"])
@login_required
def museum_admin_delete(exhibition_id: int) -> Any:
    exhibition = _exhibition(exhibition_id)
    s = db.session()
    if request.form.get("confirm") != "1":
        flash(_("请勾选“确认删除”后再删除展览"), "error")
        return _overview(exhibition.id, "delete")
    title = exhibition.title
    names = service.delete_exhibition(s, exhibition)
    s.commit()
    _remove_files(list(names))
    flash(_("展览“%(title)s”及其全部展品已删除", title=title), "success")
    return redirect(url_for(".museum_admin_list"))


# --- sections -----------------------------------------------------------------------------


def _section_form(exhibition: MuseumExhibition, section: MuseumSection | None,
                  values: dict[str, Any], errors: dict[str, str], status: int = 200) -> Any:
    return render_template("library/museum/admin/section_form.html", exhibition=exhibition,
                           section=section, values=values, errors=errors), status


def _save_section(exhibition: MuseumExhibition, section: MuseumSection | None) -> Any:
    s = db.session()
    try:
        data = forms.section_data(request.form)
        if section is None:
            section = service.add_section(s, exhibition, data)
        else:
            service.update_section(s, section, data)
    except MuseumError as exc:
        s.rollback()
        return _section_form(exhibition, section, dict(request.form), exc.errors, 422)
    s.commit()
    flash(_("单元“%(title)s”已保存", title=section.title), "success")
    return _overview(exhibition.id, f"section-{section.id}")


@bp.route("/museum/admin/<int:exhibition_id>/sections/new", methods=["GET", "POST"])
@login_required
def museum_admin_section_new(exhibition_id: int) -> Any:
    exhibition = _exhibition(exhibition_id)
    if request.method == "POST":
        return _save_section(exhibition, None)
    return _section_form(exhibition, None, {}, {})


@bp.route("/museum/admin/sections/<int:section_id>", methods=["GET", "POST"])
@login_required
def museum_admin_section_edit(section_id: int) -> Any:
    section = _section(section_id)
    exhibition = section.exhibition
    if request.method == "POST":
        return _save_section(exhibition, section)
    return _section_form(exhibition, section,
                         {"title": section.title, "intro": section.intro_html}, {})


@bp.route("/museum/admin/sections/<int:section_id>/move", methods=["POST"])
@login_required
def museum_admin_section_move(section_id: int) -> Any:
    section = _section(section_id)
    s = db.session()
    moved = service.move_section(s, section, request.form.get("direction", ""))
    s.commit()
    if not moved:
        flash(_("单元“%(title)s”已在最前或最后", title=section.title), "info")
    return _overview(section.exhibition_id, f"section-{section.id}")


@bp.route("/museum/admin/sections/<int:section_id>/delete", methods=["POST"])
@login_required
def museum_admin_section_delete(section_id: int) -> Any:
    section = _section(section_id)
    s = db.session()
    exhibition_id, title = section.exhibition_id, section.title
    names = service.delete_section(s, section)
    s.commit()
    _remove_files(list(names))
    flash(_("单元“%(title)s”及其展品已删除", title=title), "success")
    return _overview(exhibition_id)


# --- items --------------------------------------------------------------------------------


def _item_values(item: MuseumItem) -> dict[str, Any]:
    values: dict[str, Any] = {"title": item.title, "body": item.body_html,
                              "section_id": item.section_id}
    values.update({f"dc_{k}": v for k, v in (item.dc or {}).items()})
    return values


def _item_form(section: MuseumSection, item: MuseumItem | None, values: dict[str, Any],
               errors: dict[str, str], status: int = 200) -> Any:
    return render_template("library/museum/admin/item_form.html", section=section,
                           exhibition=section.exhibition, item=item, values=values,
                           errors=errors, elements=dc.ELEMENTS, kinds=service.KIND_LABELS,
                           accept=media.ACCEPT, max_mb=media.max_bytes() // (1024 * 1024)
                           ), status


def _save_item(section: MuseumSection, item: MuseumItem | None) -> Any:
    """Check the form first and the file only when the form is right, so that a refused
    form stores nothing; a failure after the file was stored removes it again."""
    s = db.session()
    upload = request.files.get("file")
    has_file = bool(upload is not None and upload.filename)
    sections = {row.id for row in section.exhibition.sections}
    values = dict(request.form)
    try:
        data = forms.item_data(request.form, kind=item.kind if item else None,
                               sections=sections, has_file=has_file)
    except MuseumError as exc:
        return _item_form(section, item, values, exc.errors, 422)
    stored = None
    if has_file:
        assert upload is not None
        try:
            stored = media.receive(upload.stream, upload.filename or "",
                                   item.kind if item else data["kind"])
        except media.MediaError as exc:
            return _item_form(section, item, values, {"file": str(exc)}, 422)
    old: str | None = None
    try:
        if item is None:
            item = service.add_item(s, section, data, stored)
        else:
            old = service.update_item(s, item, data, stored)
        s.commit()
    except BaseException:
        s.rollback()
        if stored is not None:
            media.remove(stored.name)
        raise
    media.remove(old)
    flash(_("展品“%(title)s”已保存", title=item.title), "success")
    return _overview(section.exhibition_id, f"item-{item.id}")


@bp.route("/museum/admin/sections/<int:section_id>/items/new", methods=["GET", "POST"])
@login_required
def museum_admin_item_new(section_id: int) -> Any:
    section = _section(section_id)
    if request.method == "POST":
        return _save_item(section, None)
    kind = request.args.get("kind", "image")
    return _item_form(section, None, {"kind": kind if kind in service.KINDS else "image"}, {})


@bp.route("/museum/admin/items/<int:item_id>", methods=["GET", "POST"])
@login_required
def museum_admin_item_edit(item_id: int) -> Any:
    item = _item(item_id)
    if request.method == "POST":
        return _save_item(item.section, item)
    return _item_form(item.section, item, _item_values(item), {})


@bp.route("/museum/admin/items/<int:item_id>/move", methods=["POST"])
@login_required
def museum_admin_item_move(item_id: int) -> Any:
    item = _item(item_id)
    s = db.session()
    moved = service.move_item(s, item, request.form.get("direction", ""))
    s.commit()
    if not moved:
        flash(_("展品“%(title)s”已在本单元的最前或最后", title=item.title), "info")
    return _overview(item.section.exhibition_id, f"item-{item.id}")


@bp.route("/museum/admin/items/<int:item_id>/delete", methods=["POST"])
@login_required
def museum_admin_item_delete(item_id: int) -> Any:
    item = _item(item_id)
    s = db.session()
    exhibition_id, title = item.section.exhibition_id, item.title
    name = service.delete_item(s, item)
    s.commit()
    media.remove(name)
    flash(_("展品“%(title)s”已删除", title=title), "success")
    return _overview(exhibition_id)


@bp.route("/museum/admin/items/<int:item_id>/cover", methods=["POST"])
@login_required
def museum_admin_item_cover(item_id: int) -> Any:
    item = _item(item_id)
    if item.kind != "image" or not item.media_name:
        abort(400)
    s = db.session()
    exhibition = s.scalar(select(MuseumExhibition).where(
        MuseumExhibition.id == item.section.exhibition_id))
    assert exhibition is not None
    service.set_cover(s, exhibition, item)
    s.commit()
    flash(_("已将“%(title)s”设为展览封面", title=item.title), "success")
    return _overview(exhibition.id, f"item-{item.id}")
