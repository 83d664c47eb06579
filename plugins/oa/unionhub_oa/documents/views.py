"""The documents' pages (``/oa/documents``): the list with its tabs (收文 received, 发文 issued,
草稿 drafts) and a search box, a new draft, a document's page (read; edit, submit, attach
files while it is a draft; the issue form with the distribution list once it is approved) and
the read receipts of an issued document.

A document the viewer may not see answers 404 (its existence is not confirmed). Opening an
issued document writes the viewer's read receipt when it was sent to them. A refused change
re-shows the form with the reasons (422) and stores nothing; each POST ends its own
transaction.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.routing import BuildError

from unionhub import db
from unionhub.i18n import _
from unionhub.identity.models import Account
from unionhub.orgs.models import Org
from unionhub.web import id_arg
from unionhub.web.pagination import page_arg, paginate
from unionhub.web.richtext import ARTICLE, render

from ..web import DOCS_DRAFT, USE, bp, may, require
from . import service
from .models import DOC_TYPES, SECRECY_LABELS, STATE_LABELS, URGENCY_LABELS, OaDocument
from .service import DocumentError

TABS = (("received", "收文"), ("issued", "发文"), ("drafts", "草稿"))
EMPTY = {"received": "还没有发给您的公文。", "issued": "您的单位还没有下发公文。",
         "drafts": "没有草稿。"}
MAX_QUERY = 100
ACTIONS = ("save", "submit", "issue", "attach")
#: How many orgs the issue form lists at most (more: a notice and the search box narrow it).
CHOICES_SHOWN = service.MAX_RECIPIENTS


def _doc_or_404(s: Session, account: Any, doc_id: int) -> OaDocument:
    doc = service.get_visible(s, account, doc_id) if 0 < doc_id < 2**31 else None
    if doc is None:
        abort(404)
    return doc


def _choices() -> dict[str, Any]:
    return {"doc_types": DOC_TYPES, "urgency_labels": URGENCY_LABELS,
            "secrecy_labels": SECRECY_LABELS, "state_labels": STATE_LABELS}


# -- the list ----------------------------------------------------------------------------------


@bp.route("/documents", endpoint="documents")
@login_required
def documents() -> Any:
    account = require(USE)
    s = db.session()
    tab = request.args.get("tab", "received")
    if tab not in dict(TABS):
        tab = "received"
    q = " ".join(request.args.get("q", "").split())[:MAX_QUERY]
    unread = service.unread_count(s, account)
    if q:
        page_no = min(page_arg(request.args.get("page")), 50)
        from .search import search_visible

        results, hits = search_visible(s, account, q, page=page_no)
        return render_template("oa/documents/list.html", tab=None, tabs=TABS, q=q,
                               results=results, hits=hits, unread=unread,
                               may_draft=may(DOCS_DRAFT), **_choices())
    if tab == "received":
        page = paginate(service.received_query(account), scalars=False)
    elif tab == "issued":
        page = paginate(service.issued_query(account))
    else:
        page = paginate(service.drafts_query(account))
    orgs = _org_names(s, {(row[0] if tab == "received" else row).org_id for row in page.items})
    return render_template("oa/documents/list.html", tab=tab, tabs=TABS, q="", page=page,
                           orgs=orgs, unread=unread, empty=EMPTY[tab],
                           may_draft=may(DOCS_DRAFT), **_choices())


def _org_names(s: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {i: n for i, n in s.execute(select(Org.id, Org.name).where(Org.id.in_(ids)))}


def _names(s: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {i: n for i, n in s.execute(
        select(Account.id, Account.display_name).where(Account.id.in_(wanted)))}


# -- a new draft -------------------------------------------------------------------------------


@bp.route("/documents/new", methods=["GET", "POST"], endpoint="document_new")
@login_required
def document_new() -> Any:
    account = require(DOCS_DRAFT)
    s = db.session()
    orgs = service.draft_orgs(s, account)
    if not orgs:
        abort(403)
    values: dict[str, str] = {"org_id": str(orgs[0].id), "doc_type": "fa"}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {k: v for k, v in request.form.items() if k != "csrf_token"}
        try:
            doc = service.create(s, account, values)
        except DocumentError as exc:
            s.rollback()
            errors = exc.errors
        else:
            s.commit()
            flash(_("草稿已保存"), "success")
            return redirect(url_for("oa.document_detail", doc_id=doc.id))
    return render_template("oa/documents/new.html", orgs=orgs, values=values, errors=errors,
                           **_choices()), 422 if errors else 200


# -- one document ------------------------------------------------------------------------------


def _approval_url(ref: str | None) -> str | None:
    """The engine's request page for ``ref`` (``oa-<id>``), when that page exists."""
    request_id = id_arg(ref[3:]) if ref and ref.startswith("oa-") else None
    if request_id is None:
        return None
    try:
        return url_for("oa.request_detail", request_id=request_id)
    except BuildError:
        return None


def _attachments(s: Session, doc: OaDocument) -> list[Any]:
    from ..workflow import attachments

    return attachments.list_for(s, "document", doc.id)


def _upload_limits() -> dict[str, Any]:
    from ..workflow import attachments

    return {"max_mb": attachments.max_bytes() // (1024 * 1024), "accept": attachments.ACCEPT}


def _detail(s: Session, account: Any, doc: OaDocument, *, values: dict[str, Any] | None = None,
            errors: dict[str, str] | None = None, chosen: dict[int, bool] | None = None,
            status: int = 200) -> Any:
    may_edit = service.may_edit(s, account, doc)
    may_issue = service.may_issue(s, account, doc)
    org_q = (request.form.get("org_q") if request.method == "POST"
             else request.args.get("org_q")) or ""
    choices = service.recipient_choices(s, account, org_q, CHOICES_SHOWN, keep=chosen or ()) \
        if may_issue else service.Choices([], False)
    org = s.get(Org, doc.org_id)
    recipients = service.recipients_of(s, doc.id) if doc.state == service.ISSUED else []
    if values is None:
        values = {"doc_type": doc.doc_type, "title": doc.title, "body": doc.body,
                  "urgency": doc.urgency, "secrecy": doc.secrecy}
    return render_template(
        "oa/documents/detail.html", doc=doc, org=org, body=render(doc.body, ARTICLE),
        may_edit=may_edit, may_issue=may_issue,
        may_receipts=service.may_see_receipts(s, account, doc),
        choices=choices.orgs, choices_truncated=choices.truncated, org_q=choices.query,
        choices_shown=CHOICES_SHOWN,
        chosen=chosen or {}, recipients=recipients,
        read_at=service.receipt_of(s, account, doc.id),
        names=_names(s, {doc.created_by, doc.issued_by}),
        approval_url=_approval_url(doc.approval_ref), attachments=_attachments(s, doc),
        values=values, errors=errors or {}, **_upload_limits(), **_choices()), status


@bp.route("/documents/<int:doc_id>", methods=["GET", "POST"], endpoint="document_detail")
@login_required
def document_detail(doc_id: int) -> Any:
    account = require(USE)
    s = db.session()
    doc = _doc_or_404(s, account, doc_id)
    if request.method == "GET":
        if service.mark_read(s, account, doc):
            s.commit()
        return _detail(s, account, doc)
    action = request.form.get("action", "")
    if action not in ACTIONS:
        abort(400)
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    chosen: dict[int, bool] = {}
    try:
        if action == "save":
            service.update_draft(s, account, doc, values)
            message = _("草稿已保存")
        elif action == "submit":
            if "title" in values:  # the edit form's "save and submit"
                service.update_draft(s, account, doc, values)
            ref = service.submit(s, account, doc)
            message = _("已提交审批") if ref else _("已定稿，待有权下发的干部编号下发")
        elif action == "issue":
            chosen = _chosen_recipients()
            number = service.issue(s, account, doc, chosen.items())
            message = _("已下发，文号：%(number)s", number=number)
        else:
            _attach(s, account, doc, [f for f in request.files.getlist("file")
                                      if f and f.filename])
            message = _("附件已上传")
    except DocumentError as exc:
        s.rollback()
        s.refresh(doc)
        return _detail(s, account, doc, values=values if "title" in values else None,
                       errors=exc.errors, chosen=chosen, status=422)
    s.commit()
    flash(message, "success")
    return redirect(url_for("oa.document_detail", doc_id=doc.id))


def _chosen_recipients() -> dict[int, bool]:
    """The issue form's distribution list: ticked orgs, ``subtree`` ticks included (ticking
    含下级 alone chooses the org too)."""
    def ids(name: str) -> set[int]:
        raw = request.form.getlist(name)
        found = {i for i in (id_arg(v) for v in raw) if i}
        if len(found) < len({v.strip() for v in raw if v.strip()}):
            raise DocumentError({"recipients": _("主送单位的编号无效，请重新勾选")})
        return found

    subtree = ids("subtree")
    return {i: i in subtree for i in sorted(ids("org") | subtree)}


def _attach(s: Session, account: Any, doc: OaDocument, files: list[FileStorage]) -> None:
    """Store uploaded files on a draft (through the engine's attachment store)."""
    from ..workflow import attachments
    from ..workflow.engine import EngineError

    if not service.may_edit(s, account, doc):
        raise DocumentError({"file": _("只能给您有权起草的草稿添加附件")})
    if not files:
        raise DocumentError({"file": _("请选择要上传的文件")})
    for f in files:
        try:
            attachments.add(s, account, "document", doc.id, f.filename or "file", f.read(),
                            f.mimetype or "application/octet-stream")
        except EngineError as exc:
            raise DocumentError({"file": str(exc)}) from exc


@bp.route("/documents/<int:doc_id>/files/<int:attachment_id>", endpoint="document_file")
@login_required
def document_file(doc_id: int, attachment_id: int) -> Any:
    from ..workflow import attachments

    account = require(USE)
    s = db.session()
    doc = _doc_or_404(s, account, doc_id)
    return attachments.send(s, "document", doc.id, attachment_id)


# -- read receipts -----------------------------------------------------------------------------


@bp.route("/documents/<int:doc_id>/receipts", endpoint="document_receipts")
@login_required
def document_receipts(doc_id: int) -> Any:
    account = require(USE)
    s = db.session()
    doc = _doc_or_404(s, account, doc_id)
    if not service.may_see_receipts(s, account, doc):
        abort(404)
    groups = service.receipts(s, doc)
    read = sum(len(g.read) for g in groups)
    total = sum(g.total for g in groups)
    return render_template("oa/documents/receipts.html", doc=doc, groups=groups, read=read,
                           total=total)


__all__ = ["document_detail", "document_file", "document_new", "document_receipts",
           "documents"]
