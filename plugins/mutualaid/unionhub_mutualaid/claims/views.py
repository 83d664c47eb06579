"""Claims pages: the member's and the clerk's submission, materials, the review queue, the
officers' claim search and the overdue list. Every list is scope-filtered in SQL."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import exists, literal, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from unionhub import db
from unionhub.access.service import can, require, scope_filter, scoped_member
from unionhub.identity import service as identity
from unionhub.identity.models import Member
from unionhub.web.pagination import paginate
from unionhub.workdays.service import add_working_days, working_days_between

from .. import decide, plans
from ..models import ClaimSource, ClaimStatus, MutualaidClaim
from ..rules import PROGRAM_CODES, PROGRAM_NAMES
from ..web import bp
from . import materials, service
from .models import MutualaidClaimFile

VIEW, REVIEW, SUBMIT, OWN = ("mutualaid.claims.view", "mutualaid.claims.review",
                             "mutualaid.claims.submit", "mutualaid.claims.own")


# -- helpers -----------------------------------------------------------------------------------


def _in_scope(s: Session, permission: str, claim: MutualaidClaim) -> bool:
    return bool(s.scalar(select(scope_filter(current_user, permission,
                                             literal(claim.org_path)))))


def _is_owner(claim: MutualaidClaim) -> bool:
    member = current_user.member
    return member is not None and member.id == claim.member_id


def _may_act_for(s: Session, claim: MutualaidClaim) -> bool:
    """The member, or an agent clerk / officer submitting for members in the claim's org."""
    return _is_owner(claim) or _in_scope(s, SUBMIT, claim)


def _claim_or_404(claim_id: int) -> MutualaidClaim:
    claim = service.visible_claim(db.session(), current_user, claim_id)
    if claim is None:
        abort(404)
    return claim


def _program_choices() -> list[tuple[str, str]]:
    return [(code, PROGRAM_NAMES[code]) for code in PROGRAM_CODES]


def _benefit_choices() -> dict[str, list[tuple[str, str]]]:
    """Benefits of each program's current plan year (the form filters them by program)."""
    out: dict[str, list[tuple[str, str]]] = {}
    today = date.today()
    s = db.session()
    for code in PROGRAM_CODES:
        plan = plans.covering(s, code, today) or plans.current(s, code, today.year - 1)
        if plan is not None:
            out[code] = [(b.code, b.name) for b in plans.rules_of(plan).benefits]
    return out


def _form_page(form: FlaskForm, values: dict[str, Any], errors: dict[str, str], *,
               agent: bool) -> Any:
    return render_template(
        "mutualaid/claims/form.html", form=form, values=values, errors=errors, agent=agent,
        programs=_program_choices(), benefits=_benefit_choices(),
        checklists={k: materials.checklist(k) for k in PROGRAM_CODES},
        causes=service.CAUSE_LABELS, max_stays=service.MAX_STAYS,
        max_mb=materials.max_bytes() // (1024 * 1024))


def _find_member(identifier: str) -> Member | None:
    """A member by Jingka card number or ID number (never shown back, never in a URL)."""
    text = identifier.strip().replace(" ", "")
    kinds = identity.identifier_kinds(text)
    member: Member | None = None
    if "id" in kinds:
        member = identity.find_by_id_number(text)
    if member is None and "card" in kinds:
        found = identity.find_by_card(text)
        member = found.member if found else None
    return member


def _store_uploads(s: Session, claim: MutualaidClaim) -> list[str]:
    """Files posted as ``file_<kind>`` (or ``file`` + ``kind``); returns error messages."""
    problems: list[str] = []
    uploads: list[tuple[str, Any]] = []
    for key in request.files:
        for f in request.files.getlist(key):
            if not f or not f.filename:
                continue
            kind = key[5:] if key.startswith("file_") else request.form.get("kind", "")
            uploads.append((kind, f))
    for kind, f in uploads:
        data = f.read(materials.max_bytes() + 1)
        try:
            service.add_file(s, claim, kind, f.filename or "", data, actor=current_user)
        except materials.MaterialError as exc:
            problems.append(str(exc))
    return problems


def _submit(member: Member, agent: bool) -> Any:
    form = FlaskForm()
    s = db.session()
    values = request.form.to_dict()
    values.pop("identifier", None)  # never echoed back into the page
    if not form.validate_on_submit():
        return _form_page(form, values, {"form": _("页面已过期，请重新提交")}, agent=agent), 400
    errors: dict[str, str] = {}
    try:
        data = service.parse_claim(s, request.form)
    except service.ClaimError as exc:
        errors = exc.errors
    if not errors:
        try:
            with s.begin_nested():
                claim = service.submit(s, member, data, actor=current_user,
                                       source=ClaimSource.CLERK if agent else ClaimSource.MEMBER)
        except service.ClaimError as exc:
            errors = exc.errors
    if errors:
        s.rollback()
        return _form_page(form, values, errors, agent=agent), 422
    problems = _store_uploads(s, claim)
    s.commit()
    for p in problems:
        flash(p, "error")
    flash(_("理赔申请已提交，编号 %(number)s", number=claim.number), "success")
    return redirect(url_for(".claim_detail", claim_id=claim.id))


# -- member ------------------------------------------------------------------------------------


@bp.route("/claims")
@login_required
def claims_my() -> Any:
    member = current_user.member
    if member is None:
        abort(404)
    page = paginate(select(MutualaidClaim).where(MutualaidClaim.member_id == member.id)
                    .order_by(MutualaidClaim.id.desc()))
    return render_template("mutualaid/claims/my.html", page=page, names=PROGRAM_NAMES,
                           labels=service.STATUS_LABELS, may_submit=can(current_user, OWN))


@bp.route("/claims/new", methods=["GET", "POST"])
@login_required
def claims_new() -> Any:
    require(OWN)
    member = current_user.member
    if member is None:
        abort(404)
    if request.method == "POST":
        return _submit(member, agent=False)
    return _form_page(FlaskForm(), {}, {}, agent=False)


@bp.route("/claims/agent/new", methods=["GET", "POST"])
@login_required
def claims_agent_new() -> Any:
    require(SUBMIT)
    if request.method == "POST":
        member = _find_member(request.form.get("identifier", ""))
        scoped: Member | None = None
        if member is not None:
            try:
                scoped = scoped_member(current_user, member.id, SUBMIT)
            except NotFound:
                scoped = None
        if scoped is None:
            form = FlaskForm()
            values = request.form.to_dict()
            values.pop("identifier", None)
            problem = _("未找到该会员，或该会员不在您的办理范围内（请核对京卡号或身份证号）")
            return _form_page(form, values, {"identifier": problem}, agent=True), 422
        return _submit(scoped, agent=True)
    return _form_page(FlaskForm(), {}, {}, agent=True)


# -- one claim ---------------------------------------------------------------------------------


@bp.route("/claims/<int:claim_id>")
@login_required
def claim_detail(claim_id: int) -> Any:
    claim = _claim_or_404(claim_id)
    s = db.session()
    may_review = claim.status == ClaimStatus.SUBMITTED and _in_scope(s, REVIEW, claim)
    may_act = claim.status in (ClaimStatus.SUBMITTED, ClaimStatus.RETURNED) \
        and _may_act_for(s, claim)
    today = date.today()
    show_diagnoses = service.may_see_diagnoses(s, current_user, claim)
    explanation = list(claim.decision.get("explanation") or [])
    events = service.events(s, claim)
    notes = {e.id: e.note for e in events}
    if not show_diagnoses:
        explanation = [service.redact_diagnoses(line, claim) for line in explanation]
        notes = {k: service.redact_diagnoses(v, claim) for k, v in notes.items()}
    return render_template(
        "mutualaid/claims/detail.html", claim=claim, form=FlaskForm(),
        show_diagnoses=show_diagnoses, hidden=service.HIDDEN, explanation=explanation,
        notes=notes, size_text=size_text,
        files=materials.files(s, claim), missing=materials.missing(s, claim),
        kinds=materials.kinds(claim.program), label=materials.label,
        events=events, names=PROGRAM_NAMES, labels=service.STATUS_LABELS,
        actions=service.ACTION_LABELS, reasons=service.REJECT_REASONS,
        reason=service.reason_text(claim), causes=service.CAUSE_LABELS,
        may_review=may_review, may_act=may_act, owner=_is_owner(claim),
        overdue=(working_days_between(claim.due_on, today)
                 if claim.due_on and claim.status in service.OPEN_STATUSES else None),
        benefit=_benefit_name(claim), max_mb=materials.max_bytes() // (1024 * 1024))


def size_text(size: int) -> str:
    """A file size for people: bytes under 1 KB, KB with one decimal under 1 MB, else MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _benefit_name(claim: MutualaidClaim) -> str:
    item = plans.rules_of(claim.plan).benefit(claim.benefit)
    return item.name if item else (claim.benefit or "")


@bp.route("/claims/<int:claim_id>/files", methods=["POST"])
@login_required
def claim_upload(claim_id: int) -> Any:
    claim = _claim_or_404(claim_id)
    s = db.session()
    if not _may_act_for(s, claim):
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    problems = _store_uploads(s, claim) if claim.status in (
        ClaimStatus.SUBMITTED, ClaimStatus.RETURNED) else [_("该理赔已审核完毕，不能再上传材料")]
    if not problems and not request.files:
        problems = [_("请选择要上传的文件")]
    s.commit()
    for p in problems:
        flash(p, "error")
    if not problems:
        flash(_("材料已上传"), "success")
    return redirect(url_for(".claim_detail", claim_id=claim.id))


@bp.route("/claims/<int:claim_id>/files/<int:file_id>")
@login_required
def claim_file(claim_id: int, file_id: int) -> Any:
    claim = _claim_or_404(claim_id)
    row = db.session().scalar(select(MutualaidClaimFile).where(
        MutualaidClaimFile.id == file_id, MutualaidClaimFile.claim_id == claim.id))
    if row is None:
        abort(404)
    path = materials.path_of(row)
    if not path.is_file():
        abort(404)
    resp = send_file(path, mimetype=row.content_type, download_name=row.original_name,
                     as_attachment=row.content_type == "application/pdf", max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.route("/claims/<int:claim_id>/resubmit", methods=["POST"])
@login_required
def claim_resubmit(claim_id: int) -> Any:
    claim = _claim_or_404(claim_id)
    s = db.session()
    if not _may_act_for(s, claim):
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        service.resubmit(s, claim, current_user)
    except decide.ClaimConflict as exc:
        s.rollback()
        flash(str(exc), "error")
    else:
        s.commit()
        flash(_("已重新提交，等待审核"), "success")
    return redirect(url_for(".claim_detail", claim_id=claim_id))


@bp.route("/claims/<int:claim_id>/review", methods=["POST"])
@login_required
def claim_review(claim_id: int) -> Any:
    s = db.session()
    claim = s.scalar(select(MutualaidClaim).where(
        MutualaidClaim.id == claim_id,
        scope_filter(current_user, REVIEW, MutualaidClaim.org_path)))
    if claim is None:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    action = request.form.get("action", "")
    note = request.form.get("note", "").strip()
    try:
        if action == "approve":
            status = service.approve(s, claim, current_user, note)
            message = (_("已审核通过，核定金额 %(amount)s 元，已列入待发放", amount=claim.amount)
                       if status == ClaimStatus.APPROVED
                       else _("核定金额为 0，已按规则不予赔付：%(reason)s",
                              reason=service.reason_text(claim) or ""))
        elif action == "return":
            service.return_for_materials(s, claim, current_user, note)
            message = _("已退回补充材料")
        elif action == "reject":
            service.reject(s, claim, current_user, request.form.get("reason", ""), note)
            message = _("已作不予赔付处理")
        else:
            abort(400)
    except decide.ClaimConflict as exc:
        s.rollback()
        flash(_("操作未完成：%(error)s", error=exc), "error")
    except service.ClaimError as exc:
        s.rollback()
        for text in exc.errors.values():
            flash(text, "error")
    else:
        s.commit()
        flash(message, "success")
    return redirect(url_for(".claim_detail", claim_id=claim_id))


# -- officers ----------------------------------------------------------------------------------


def _due_order() -> tuple[Any, ...]:
    """Oldest due first, claims without a due date (materials incomplete) last; the id breaks
    ties so that paging is stable (PostgreSQL gives equal rows in no fixed order)."""
    return (MutualaidClaim.due_on.is_(None), MutualaidClaim.due_on, MutualaidClaim.id)


#: a claim number typed whole or as its beginning ("LP2026", "LP20260320000012")
CLAIM_NUMBER = re.compile(r"^LP[0-9]{0,14}$")
#: six or more digits in a "name" look like an ID, card or phone number: never put in a URL
DIGIT_RUN = re.compile(r"[0-9０-９]{6,}")


def _filters(stmt: Any) -> tuple[Any, dict[str, str], dict[str, str]]:
    """Apply the query-string filters (claim number, member name, program) to ``stmt``.

    Returns the statement, the filter values to show back and messages for refused values.
    Only claim numbers and names go into the URL; a value that looks like an ID or card number
    is refused (and not echoed) so that the search form never leaks one into a link.
    """
    values: dict[str, str] = {}
    problems: dict[str, str] = {}
    number = request.args.get("number", "").strip().replace(" ", "").upper()[:40]
    if number:
        if CLAIM_NUMBER.match(number):
            values["number"] = number
            stmt = stmt.where(MutualaidClaim.number.startswith(number, autoescape=True))
        else:
            problems["number"] = "理赔编号以 LP 开头，如 LP20260320000012"
    name = request.args.get("name", "").strip()[:50]
    if name:
        if DIGIT_RUN.search(name):
            problems["name"] = "请输入会员姓名，不要输入证件号或卡号"
        else:
            values["name"] = name
            stmt = stmt.where(MutualaidClaim.member_id.in_(
                select(Member.id).where(Member.name.startswith(name, autoescape=True))))
    program = request.args.get("program", "").strip().upper()
    if program in PROGRAM_CODES:
        values["program"] = program
        stmt = stmt.where(MutualaidClaim.program == program)
    return stmt, values, problems


@bp.route("/claims/review")
@login_required
def claims_queue() -> Any:
    require(REVIEW)
    stmt = (select(MutualaidClaim)
            .where(MutualaidClaim.status == ClaimStatus.SUBMITTED,
                   scope_filter(current_user, REVIEW, MutualaidClaim.org_path)))
    stmt, values, problems = _filters(stmt)
    stmt = stmt.order_by(*_due_order())
    return render_template("mutualaid/claims/list.html", page=paginate(stmt),
                           title="理赔审核", names=PROGRAM_NAMES, labels=service.STATUS_LABELS,
                           statuses=None, status=None, today=date.today(),
                           between=working_days_between, values=values, problems=problems,
                           programs=_program_choices())


@bp.route("/claims/office")
@login_required
def claims_office() -> Any:
    require(VIEW)
    status = request.args.get("status", "open")
    stmt = select(MutualaidClaim).where(scope_filter(current_user, VIEW,
                                                     MutualaidClaim.org_path))
    if status == "open":
        stmt = stmt.where(MutualaidClaim.status.in_(service.OPEN_STATUSES))
    elif status in service.STATUS_LABELS and status != ClaimStatus.DECIDING:
        stmt = stmt.where(MutualaidClaim.status == status)
    else:
        status = "all"
    stmt, values, problems = _filters(stmt)
    stmt = stmt.order_by(MutualaidClaim.id.desc())
    return render_template("mutualaid/claims/list.html", page=paginate(stmt),
                           title="理赔查询", names=PROGRAM_NAMES, labels=service.STATUS_LABELS,
                           statuses=[s for s in service.STATUS_LABELS if s != "deciding"],
                           status=status, today=date.today(), between=working_days_between,
                           may_submit=can(current_user, SUBMIT), values=values,
                           problems=problems, programs=_program_choices())


def overdue_statement(account: Any, today: date) -> Any:
    """Open claims (not paid or rejected) due within 2 working days or already overdue,
    in the account's claims.view scope, oldest due first."""
    horizon = add_working_days(today, 2)
    return (select(MutualaidClaim)
            .where(MutualaidClaim.status.in_(service.OPEN_STATUSES),
                   MutualaidClaim.due_on.is_not(None), MutualaidClaim.due_on <= horizon,
                   scope_filter(account, VIEW, MutualaidClaim.org_path))
            .order_by(MutualaidClaim.due_on, MutualaidClaim.id))


@bp.route("/claims/overdue")
@login_required
def claims_overdue() -> Any:
    require(VIEW)
    today = date.today()
    page = paginate(overdue_statement(current_user, today))
    return render_template("mutualaid/claims/overdue.html", page=page, today=today,
                           between=working_days_between, names=PROGRAM_NAMES,
                           labels=service.STATUS_LABELS)


# -- profile panel -----------------------------------------------------------------------------


def claims_panel(member: Any = None, account: Any = None, **_: Any) -> Markup | None:
    """我的理赔 on "我的" and /mutualaid/: the five latest claims."""
    if member is None:
        return None
    s = db.session()
    rows = list(s.scalars(select(MutualaidClaim).where(MutualaidClaim.member_id == member.id)
                          .order_by(MutualaidClaim.id.desc()).limit(5)))
    more = bool(s.scalar(select(exists().where(MutualaidClaim.member_id == member.id))))
    return Markup(render_template("mutualaid/claims/_panel.html", rows=rows, more=more,
                                  names=PROGRAM_NAMES, labels=service.STATUS_LABELS))
