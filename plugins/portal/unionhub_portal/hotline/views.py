"""Hotline pages on the PC portal (``/portal/hotline…``: the published Q&As, asking, my
questions) and in the back office (``/portal/admin/hotline…``: the queue, one question with
assign / answer / publish / close, the overdue list), plus the "我的提问" profile panel and the
officer dashboard widget.

Every view ends its transaction itself: a refused action is rolled back and the page shown
again with the reason (HTTP 422), a successful one committed. Officer pages find questions
through :func:`.service.scoped_question` (scope in SQL); out of scope is 404.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from unionhub import db
from unionhub.access.service import can, require
from unionhub.db import utcnow
from unionhub.i18n import _
from unionhub.web import id_arg
from unionhub.web.pagination import paginate

from ..web import bp
from . import service, sla
from .models import PortalHotlineQuestion

TEMPLATES = "portal/hotline"


def common() -> dict[str, Any]:
    """What every hotline template uses."""
    return {"categories": service.CATEGORIES, "state_labels": service.STATE_LABELS,
            "event_labels": service.EVENT_LABELS, "rating_labels": service.RATING_LABELS,
            "public_asker": service.public_asker, "category_label": service.category_label}


def _filters() -> tuple[str | None, str]:
    category = request.args.get("c") or None
    if category not in service.CATEGORIES:
        category = None
    return category, (request.args.get("q") or "").strip()[:50]


# -- shared by the PC pages and the micro-site (mobile.py) ----------------------------------------


def public_list(template: str, **extra: Any) -> Any:
    category, text = _filters()
    page = paginate(service.published(category, text or None))
    return render_template(template, page=page, category=category, text=text,
                           can_ask=current_user.is_authenticated and can(current_user,
                                                                        service.ASK),
                           **common(), **extra)


def public_one(template: str, question_id: int, **extra: Any) -> Any:
    question = service.published_question(db.session(), question_id)
    if question is None:
        abort(404)
    return render_template(template, q=question, **common(), **extra)


def ask_page(template: str, channel: str, done_endpoint: str, **extra: Any) -> Any:
    """GET: the form (addressed by default to the member's grassroots union); POST: ask.
    Bad input shows the form again with a message per field and nothing saved."""
    require(service.ASK)
    s = db.session()
    member = current_user.member
    if member is None:
        abort(403)
    options = service.address_options(s, member)
    values: dict[str, Any] = {"category": request.args.get("c", ""), "subject": "", "body": "",
                              "anonymous": True, "org_id": options[0].id if options else None}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {"category": request.form.get("category", ""),
                  "subject": request.form.get("subject", ""),
                  "body": request.form.get("body", ""),
                  "anonymous": request.form.get("anonymous") == "1",
                  "org_id": id_arg(request.form.get("org_id"))}
        try:
            question = service.ask(s, current_user, category=values["category"],
                                   subject=values["subject"], body=values["body"],
                                   anonymous=values["anonymous"], org_id=values["org_id"],
                                   channel=channel)
        except service.HotlineError as exc:
            s.rollback()
            errors = exc.errors or {"form": exc.reason}
            errors.setdefault("form", exc.reason)
            status = 422
        else:
            s.commit()
            flash(_("提问已提交，%(org)s将在 %(due)s 前答复，答复后会通知您",
                    org=question.org.name, due=service.sla_text(question.due_at)), "success")
            return redirect(url_for(done_endpoint, question_id=question.id))
    return render_template(template, values=values, errors=errors, options=options,
                           hours=sla.answer_hours(), **common(), **extra), status


def my_list(template: str, **extra: Any) -> Any:
    member = current_user.member
    if member is None:
        abort(403)
    page = paginate(service.my_questions(member.id))
    return render_template(template, page=page, now=utcnow(), **common(), **extra)


def _own(question_id: int) -> PortalHotlineQuestion:
    member = current_user.member
    question = (service.own_question(db.session(), member.id, question_id)
                if member is not None else None)
    if question is None:
        abort(404)
    return question


def my_one(template: str, question_id: int, **extra: Any) -> Any:
    question = _own(question_id)
    events = service.events_of(db.session(), question.id)
    return render_template(template, q=question, events=events, now=utcnow(), **common(),
                           **extra)


def rate_action(question_id: int, back_endpoint: str) -> Any:
    question = _own(question_id)
    s = db.session()
    try:
        service.rate(s, question, current_user, request.form.get("rating", ""),
                     request.form.get("rating_note", ""))
    except service.HotlineError as exc:
        s.rollback()
        flash(exc.reason, "error")
    else:
        s.commit()
        flash(_("感谢您的评价"), "success")
    return redirect(url_for(back_endpoint, question_id=question_id))


# -- PC portal: public and member pages ----------------------------------------------------------


@bp.route("/hotline")
def hotline() -> Any:
    return public_list(f"{TEMPLATES}/list.html", active_section="hotline")


@bp.route("/hotline/<int:question_id>")
def hotline_qa(question_id: int) -> Any:
    return public_one(f"{TEMPLATES}/qa.html", question_id, active_section="hotline")


@bp.route("/hotline/ask", methods=["GET", "POST"])
@login_required
def hotline_ask() -> Any:
    return ask_page(f"{TEMPLATES}/ask.html", "pc", ".hotline_mine", active_section="hotline")


@bp.route("/hotline/my")
@login_required
def hotline_my() -> Any:
    return my_list(f"{TEMPLATES}/my.html", active_section="hotline")


@bp.route("/hotline/my/<int:question_id>")
@login_required
def hotline_mine(question_id: int) -> Any:
    return my_one(f"{TEMPLATES}/mine.html", question_id, active_section="hotline")


@bp.route("/hotline/my/<int:question_id>/rate", methods=["POST"])
@login_required
def hotline_rate(question_id: int) -> Any:
    return rate_action(question_id, ".hotline_mine")


def my_questions_panel(member: Any = None, account: Any = None, **_kw: Any) -> Markup | None:
    """我的提问 on "我的": how many questions, how many answered, the latest three."""
    if member is None or account is None or not can(account, service.ASK):
        return None
    total, answered, latest = service.member_summary(db.session(), member.id)
    return Markup(render_template(f"{TEMPLATES}/_panel.html", total=total, answered=answered,
                                  latest=latest, **common()))


# -- back office -----------------------------------------------------------------------------------


def officer_widget(**_kw: Any) -> Markup:
    """New, open, overdue and my questions in the officer's answering scope."""
    counts = service.counts(db.session(), current_user, utcnow())
    return Markup(render_template(f"{TEMPLATES}/_widget.html", c=counts,
                                  can_manage=can(current_user, service.MANAGE)))


@bp.route("/admin/hotline")
@login_required
def hotline_admin() -> Any:
    require(service.ANSWER)
    tab = request.args.get("tab", "open")
    if tab not in service.QUEUE_TABS:
        tab = "open"
    category, text = _filters()
    page = paginate(service.queue(current_user, tab, category=category, text=text or None))
    now = utcnow()
    return render_template(f"{TEMPLATES}/admin_queue.html", page=page, tab=tab,
                           tabs=service.QUEUE_TABS, category=category, text=text, now=now,
                           counts=service.counts(db.session(), current_user, now), **common())


@bp.route("/admin/hotline/overdue")
@login_required
def hotline_overdue() -> Any:
    require(service.MANAGE)
    now = utcnow()
    page = paginate(service.overdue(current_user, now))
    return render_template(f"{TEMPLATES}/admin_overdue.html", page=page, now=now,
                           late=lambda q: service.lateness_text(q.due_at, now), **common())


def _scoped(question_id: int) -> PortalHotlineQuestion:
    require(service.ANSWER)
    question = service.scoped_question(db.session(), current_user, question_id)
    if question is None:
        abort(404)
    return question


def _detail(question: PortalHotlineQuestion, *, errors: dict[str, str] | None = None,
            values: dict[str, str] | None = None, status: int = 200) -> Any:
    s = db.session()
    manage = can(current_user, service.MANAGE, question.org)
    now = utcnow()
    return render_template(
        f"{TEMPLATES}/admin_detail.html", q=question, events=service.events_of(s, question.id),
        officers=service.eligible_officers(s, question.org) if manage else [],
        can_manage=manage, errors=errors or {}, values=values or {}, now=now,
        late=service.lateness_text(question.due_at, now) if question.due_at < now else None,
        can_close=question.state == "answered" or manage, **common()), status


@bp.route("/admin/hotline/<int:question_id>")
@login_required
def hotline_admin_detail(question_id: int) -> Any:
    return _detail(_scoped(question_id))


def _refused(question_id: int, exc: service.HotlineError, values: dict[str, str]) -> Any:
    s = db.session()
    s.rollback()
    question = _scoped(question_id)
    return _detail(question, errors={"form": exc.reason, **exc.errors}, values=values,
                   status=422)


@bp.route("/admin/hotline/<int:question_id>/assign", methods=["POST"])
@login_required
def hotline_assign(question_id: int) -> Any:
    question = _scoped(question_id)
    if not can(current_user, service.MANAGE, question.org):
        abort(403)
    values = {"assignee_id": request.form.get("assignee_id", ""),
              "assign_note": request.form.get("note", "")}
    s = db.session()
    try:
        event = service.assign(s, question, id_arg(values["assignee_id"]), current_user,
                               note=values["assign_note"])
    except service.HotlineError as exc:
        return _refused(question_id, exc, values)
    s.commit()
    flash(_("已改派") if event.kind == "reassigned" else _("已分派"), "success")
    return redirect(url_for(".hotline_admin_detail", question_id=question_id))


@bp.route("/admin/hotline/<int:question_id>/answer", methods=["POST"])
@login_required
def hotline_answer(question_id: int) -> Any:
    question = _scoped(question_id)
    values = {"answer": request.form.get("answer", "")}
    s = db.session()
    try:
        service.answer(s, question, current_user, values["answer"])
    except service.HotlineError as exc:
        return _refused(question_id, exc, values)
    s.commit()
    flash(_("已答复，已通知提问人"), "success")
    return redirect(url_for(".hotline_admin_detail", question_id=question_id))


@bp.route("/admin/hotline/<int:question_id>/publish", methods=["GET", "POST"])
@login_required
def hotline_publish(question_id: int) -> Any:
    question = _scoped(question_id)
    if question.state not in ("answered", "published"):
        flash(_("只有已答复的问题可以公开"), "error")
        return redirect(url_for(".hotline_admin_detail", question_id=question_id))
    draft = service.publish_draft(question)
    values = {"subject": draft.subject, "question": draft.question, "answer": draft.answer}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in ("subject", "question", "answer")}
        s = db.session()
        try:
            service.publish(s, question, current_user, subject=values["subject"],
                            question_text=values["question"], answer_text=values["answer"],
                            confirmed=request.form.get("confirmed") == "1")
        except service.HotlineError as exc:
            s.rollback()
            question = _scoped(question_id)
            errors = {"form": exc.reason, **{k.removeprefix("public_"): v
                                             for k, v in exc.errors.items()}}
            status = 422
        else:
            s.commit()
            flash(_("问答已公开"), "success")
            return redirect(url_for(".hotline_admin_detail", question_id=question_id))
    return render_template(
        f"{TEMPLATES}/admin_publish.html", q=question, values=values, errors=errors,
        counts=draft.counts, kinds=service.REDACTION_KINDS, **common()), status


@bp.route("/admin/hotline/<int:question_id>/close", methods=["POST"])
@login_required
def hotline_close(question_id: int) -> Any:
    question = _scoped(question_id)
    # Closing an answered question is routine; closing an unanswered one or withdrawing a
    # published Q&A is the manager's call.
    if question.state != "answered" and not can(current_user, service.MANAGE, question.org):
        abort(403)
    values = {"close_note": request.form.get("note", "")}
    s = db.session()
    try:
        service.close(s, question, current_user, values["close_note"])
    except service.HotlineError as exc:
        return _refused(question_id, exc, {**values, "note_field": "close"})
    s.commit()
    flash(_("已办结"), "success")
    return redirect(url_for(".hotline_admin_detail", question_id=question_id))
