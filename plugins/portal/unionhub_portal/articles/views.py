"""The article back office (``/portal/admin/articles…``, permission ``portal.content.edit``;
publishing actions need ``portal.content.publish``) and the attachment download
(``/portal/attachments/<id>``, endpoint ``portal.attachment``).

Officers reach only articles whose owner org lies in their scope (404 otherwise, so that other
unions' articles are not even confirmed to exist). Every write checks the form's CSRF token.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

from unionhub import db
from unionhub.access.service import require
from unionhub.i18n import _
from unionhub.web import id_arg
from unionhub.web.pagination import paginate
from unionhub.web.richtext import ARTICLE, clean_typed, render

from ..audience import can_read
from ..models import PLATFORMS, ArticleState, PortalArticle, PortalAttachment, PortalSection
from ..web import bp, current_viewer
from . import attachments, service, workflow
from .service import EDIT, ArticleError, StaleError

LIST_FIELDS = ("groups", "platforms")


def _checked_form() -> None:
    if not FlaskForm().validate_on_submit():
        abort(400)


def form_data(form: MultiDict[str, str]) -> dict[str, Any]:
    """A posted form as a dict: one string per field, lists for the multi-valued fields."""
    out: dict[str, Any] = {k: form.get(k, "") for k in form}
    for key in LIST_FIELDS:
        out[key] = form.getlist(key)
    out.pop("csrf_token", None)
    return out


def _seen() -> int:
    raw = request.form.get("revision", "")
    if not raw.isdigit() or len(raw) > 9:
        abort(400)
    return int(raw)


def _article_or_404(article_id: int) -> PortalArticle:
    article = service.scoped_article(db.session(), current_user, article_id)
    if article is None:
        abort(404)
    return article


def page_context() -> dict[str, Any]:
    return {"state_labels": service.STATE_LABELS, "platform_labels": service.PLATFORM_LABELS,
            "action_labels": workflow.ACTION_LABELS}


# -- lists ---------------------------------------------------------------------------------


@bp.route("/admin/articles")
@login_required
def admin_articles() -> Any:
    require(EDIT)
    s = db.session()
    section_id = id_arg(request.args.get("section"))
    state = request.args.get("state", "")
    state = state if state in service.STATE_LABELS else ""
    q = request.args.get("q", "").strip()[:100]
    page = paginate(service.list_articles(current_user, section_id=section_id, state=state,
                                          q=q))
    sections = {sec.id: sec for sec in service.article_sections(s)}
    return render_template("portal/articles/list.html", page=page, q=q, state=state,
                           section_id=section_id, sections=sections,
                           counts=service.state_counts(s, current_user, section_id),
                           **page_context())


@bp.route("/admin/articles/pending")
@login_required
def admin_articles_pending() -> Any:
    require(EDIT)
    s = db.session()
    section_id = id_arg(request.args.get("section"))
    page = paginate(service.list_articles(current_user, section_id=section_id,
                                          state=ArticleState.PENDING))
    return render_template("portal/articles/pending.html", page=page, section_id=section_id,
                           by_section=service.pending_by_section(s, current_user),
                           sections={sec.id: sec for sec in service.article_sections(s)},
                           **page_context())


# -- the edit form ---------------------------------------------------------------------------


def _form_page(article: PortalArticle | None, values: dict[str, Any], errors: dict[str, str],
               status: int = 200) -> Any:
    s = db.session()
    ctx: dict[str, Any] = {}
    extra_orgs: list[int | None] = []
    if article is not None:
        extra_orgs = [article.owner_org_id, article.audience_org_id]
        ctx = {"actions": workflow.available(s, current_user, article),
               "locked": service.editable_problem(s, current_user, article),
               "files": attachments.of_article(s, article.id),
               "public_url": f"/portal/a/{article.slug or article.id}"
               if article.state == ArticleState.PUBLISHED else None,
               "signing_off": workflow.signing_off(article)}
    return render_template(
        "portal/articles/edit.html", article=article, values=values, errors=errors,
        form=FlaskForm(), sections=service.article_sections(s),
        orgs=service.org_choices(s, current_user, extra_orgs),
        groups=service.group_choices(s), platforms=PLATFORMS,
        max_mb=attachments.max_bytes() // (1024 * 1024), accept=attachments.ACCEPT,
        **ctx, **page_context()), status


@bp.route("/admin/articles/new", methods=["GET", "POST"])
@login_required
def admin_article_new() -> Any:
    require(EDIT)
    s = db.session()
    if request.method == "GET":
        orgs = service.org_choices(s, current_user)
        section = id_arg(request.args.get("section"))
        return _form_page(None, {"platforms": list(PLATFORMS),
                                 "owner_org_id": str(orgs[0].id) if orgs else "",
                                 "section_id": str(section) if section else ""}, {})
    _checked_form()
    data = form_data(request.form)
    try:
        article = service.create(s, current_user, data)
    except ArticleError as exc:
        s.rollback()
        return _form_page(None, data, exc.errors, 422)
    s.commit()
    flash(_("文章已保存为草稿"), "success")
    return redirect(url_for(".admin_article", article_id=article.id))


@bp.route("/admin/articles/<int:article_id>", methods=["GET", "POST"])
@login_required
def admin_article(article_id: int) -> Any:
    require(EDIT)
    s = db.session()
    article = _article_or_404(article_id)
    if request.method == "GET":
        return _form_page(article, service.form_values(s, article), {})
    _checked_form()
    data = form_data(request.form)
    try:
        changed = service.update_article(s, current_user, article, data)
    except ArticleError as exc:
        s.rollback()
        article = _article_or_404(article_id)
        return _form_page(article, data, exc.errors, 409 if isinstance(exc, StaleError) else 422)
    s.commit()
    flash(_("已保存为第 %(n)s 版", n=article.revision) if changed
          else _("没有需要保存的修改"), "success")
    return redirect(url_for(".admin_article", article_id=article_id))


@bp.route("/admin/articles/<int:article_id>/workflow", methods=["POST"])
@login_required
def admin_article_workflow(article_id: int) -> Any:
    require(EDIT)
    s = db.session()
    article = _article_or_404(article_id)
    _checked_form()
    at = None
    raw_at = request.form.get("publish_at", "").strip()
    action = request.form.get("action", "")
    try:
        if action == "schedule" and raw_at:
            try:
                at = service.parse_local(raw_at)
            except ValueError:
                message = _("%(field)s应为日期时间，如 2026-03-01 09:30", field=_("定时发布时间"))
                raise ArticleError({"publish_at": message}) from None
        message = workflow.perform(s, current_user, article, action, _seen(),
                                   note=request.form.get("note", ""), at=at)
    except ArticleError as exc:
        s.rollback()
        for text in exc.errors.values():
            flash(text, "error")
        return redirect(url_for(".admin_article", article_id=article_id) + "#workflow")
    s.commit()
    flash(message, "success")
    return redirect(url_for(".admin_article", article_id=article_id))


@bp.route("/admin/articles/<int:article_id>/preview", methods=["GET", "POST"])
@login_required
def admin_article_preview(article_id: int) -> Any:
    """The article as readers will see it; POSTed from the edit form, the unsaved text."""
    require(EDIT)
    s = db.session()
    article = _article_or_404(article_id)
    title, summary, body = article.title, article.summary, service.render_body(article)
    if request.method == "POST":
        _checked_form()
        title = request.form.get("title", "").strip()[:200] or article.title
        summary = request.form.get("summary", "").strip()[:500] or None
        body = render(clean_typed(request.form.get("body", "")[:service.MAX_BODY], ARTICLE),
                      ARTICLE)
    section = s.get(PortalSection, article.section_id)
    return render_template("portal/articles/preview.html", article=article, title=title,
                           summary=summary, body=body, section=section,
                           files=[a for a in attachments.of_article(s, article.id)
                                  if a.kind == "file"],
                           unsaved=request.method == "POST", **page_context())


@bp.route("/admin/articles/new/preview", methods=["POST"])
@login_required
def admin_article_new_preview() -> Any:
    """Preview of a new article's unsaved text."""
    require(EDIT)
    _checked_form()
    body = render(clean_typed(request.form.get("body", "")[:service.MAX_BODY], ARTICLE),
                  ARTICLE)
    return render_template("portal/articles/preview.html", article=None,
                           title=request.form.get("title", "").strip()[:200] or _("（无标题）"),
                           summary=request.form.get("summary", "").strip()[:500] or None,
                           body=body, section=None, files=[], unsaved=True, **page_context())


# -- revisions -------------------------------------------------------------------------------


@bp.route("/admin/articles/<int:article_id>/revisions")
@login_required
def admin_article_revisions(article_id: int) -> Any:
    require(EDIT)
    s = db.session()
    article = _article_or_404(article_id)
    revs = service.revisions(s, article.id)
    numbers = [r.number for r in revs]
    new_n = id_arg(request.args.get("b")) or (numbers[0] if numbers else None)
    old_n = id_arg(request.args.get("a")) or (new_n - 1 if new_n and new_n - 1 in numbers else None)
    compared = None
    if old_n is not None and new_n is not None:
        old, new = service.revision(s, article.id, old_n), service.revision(s, article.id, new_n)
        if old is None or new is None:
            abort(404)
        compared = service.diff(s, old, new)
    return render_template("portal/articles/revisions.html", article=article, revisions=revs,
                           compared=compared, form=FlaskForm(),
                           locked=service.editable_problem(s, current_user, article),
                           **page_context())


@bp.route("/admin/articles/<int:article_id>/revisions/<int:number>/restore",
          methods=["POST"])
@login_required
def admin_article_restore(article_id: int, number: int) -> Any:
    require(EDIT)
    s = db.session()
    article = _article_or_404(article_id)
    _checked_form()
    try:
        changed = service.restore(s, current_user, article, number, _seen())
    except ArticleError as exc:
        s.rollback()
        for text in exc.errors.values():
            flash(text, "error")
        return redirect(url_for(".admin_article_revisions", article_id=article_id))
    s.commit()
    flash(_("已恢复第 %(n)s 版（保存为第 %(m)s 版）", n=number, m=article.revision) if changed
          else _("第 %(n)s 版与当前内容相同，无需恢复", n=number), "success")
    return redirect(url_for(".admin_article_revisions", article_id=article_id))


# -- attachments -----------------------------------------------------------------------------


@bp.route("/admin/articles/<int:article_id>/attachments", methods=["POST"])
@login_required
def admin_article_upload(article_id: int) -> Any:
    require(EDIT)
    s = db.session()
    article = _article_or_404(article_id)
    _checked_form()
    limit = attachments.max_bytes()
    files = [f for f in request.files.getlist("file") if f and f.filename]
    if not files:
        flash(_("请选择要上传的文件"), "error")
    added = 0
    for f in files:
        upload = attachments.Upload(f.filename or "", f.read(limit + 1))
        try:
            attachments.add(s, current_user, article, upload)
        except ArticleError as exc:
            for text in exc.errors.values():
                flash(text, "error")
            continue
        added += 1
    if added:
        s.commit()
        flash(_("已上传 %(n)s 个附件", n=added), "success")
    else:
        s.rollback()
    return redirect(url_for(".admin_article", article_id=article_id) + "#attachments")


def _attachment_of(article: PortalArticle, attachment_id: int) -> PortalAttachment:
    att = db.session().get(PortalAttachment, attachment_id)
    if att is None or att.article_id != article.id:
        abort(404)
    return att


@bp.route("/admin/articles/<int:article_id>/attachments/<int:attachment_id>/cover",
          methods=["POST"])
@login_required
def admin_attachment_cover(article_id: int, attachment_id: int) -> Any:
    require(EDIT)
    s = db.session()
    article = _article_or_404(article_id)
    _checked_form()
    att = _attachment_of(article, attachment_id)
    try:
        attachments.make_cover(s, current_user, article, att, _seen())
    except ArticleError as exc:
        s.rollback()
        for text in exc.errors.values():
            flash(text, "error")
    else:
        s.commit()
        flash(_("已设为封面"), "success")
    return redirect(url_for(".admin_article", article_id=article_id) + "#attachments")


@bp.route("/admin/articles/<int:article_id>/attachments/<int:attachment_id>/delete",
          methods=["POST"])
@login_required
def admin_attachment_delete(article_id: int, attachment_id: int) -> Any:
    require(EDIT)
    s = db.session()
    article = _article_or_404(article_id)
    _checked_form()
    att = _attachment_of(article, attachment_id)
    name = att.filename
    try:
        path = attachments.remove(s, current_user, article, att, _seen())
    except ArticleError as exc:
        s.rollback()
        for text in exc.errors.values():
            flash(text, "error")
    else:
        s.commit()
        if path is not None:
            path.unlink(missing_ok=True)
        flash(_("已删除附件：%(name)s", name=name), "success")
    return redirect(url_for(".admin_article", article_id=article_id) + "#attachments")


@bp.route("/attachments/<int:attachment_id>")
def attachment(attachment_id: int) -> Any:
    """An attachment, for officers who may edit its article (a preview: not counted) or for
    readers who may read the article now on this platform (``?m=1``: the mobile site)."""
    s = db.session()
    att = s.get(PortalAttachment, attachment_id)
    if att is None:
        abort(404)
    officer = current_user.is_authenticated and s.scalar(
        service.scoped_articles(current_user).where(PortalArticle.id == att.article_id)
        .with_only_columns(PortalArticle.id)) is not None
    if not officer:
        viewer = current_viewer("mobile" if request.args.get("m") == "1" else "pc")
        if not can_read(s, att.article_id, viewer):
            abort(404)
    return serve(att, counted=not officer)


def serve(att: PortalAttachment, *, counted: bool) -> Response:
    """The file of ``att`` (the caller has checked who may have it); ``counted``: one more
    download per fetch of the whole file or of its first bytes (a viewer reading a PDF in
    ranges, or revalidating its cache, does not count again)."""
    path = attachments.path_of(att)
    if path is None or not path.is_file():
        abort(404)
    resp = send_file(path, mimetype=att.content_type, as_attachment=att.kind != "image",
                     download_name=att.filename, conditional=True, max_age=0)
    first_part = resp.status_code == 206 and request.range is not None \
        and request.range.ranges[0][0] == 0
    if counted and (resp.status_code == 200 or first_part):
        s = db.session()
        attachments.count_download(s, att.id)
        s.commit()
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp.cache_control.private = True
    resp.cache_control.public = False
    return resp


def reviewer_count() -> int:
    """Pending articles in the signed-in officer's scope (the officer dashboard widget)."""
    if not current_user.is_authenticated:
        return 0
    return service.state_counts(db.session(), current_user).get(ArticleState.PENDING, 0)


__all__ = ["attachment", "form_data", "reviewer_count", "serve"]
