"""Job pages: a list, a page per job with a live progress bar, and its JSON."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import ColumnElement, or_, select

from unionhub import db
from unionhub.access import service as access
from unionhub.jobs import service as jobs
from unionhub.jobs.models import Job
from unionhub.orgs.models import Org
from unionhub.web.pagination import paginate

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


def visible() -> ColumnElement[bool]:
    """Jobs the user may see: their own, those of orgs in their back-office scope, and
    every job for platform admins."""
    if access.can(current_user, "core.plugins.manage"):
        return Job.id.is_not(None)
    in_scope = Job.org_id.in_(select(Org.id).where(
        access.scope_filter(current_user, "core.office", Org.path)))
    return or_(Job.owner_id == current_user.id, in_scope)


def get_visible(job_id: int) -> Job:
    job = db.session().scalar(select(Job).where(Job.id == job_id, visible()))
    if job is None:
        abort(404)
    return job


@bp.before_request
@login_required
def _signed_in() -> None:
    return None


@bp.route("/")
def index() -> Any:
    page = paginate(select(Job).where(visible()).order_by(Job.id.desc()))
    labels = {k: spec.label for k, (_p, spec) in jobs.registry().specs.items()}
    return render_template("jobs/index.html", page=page, labels=labels)


@bp.route("/<int:job_id>")
def detail(job_id: int) -> Any:
    job = get_visible(job_id)
    labels = {k: spec.label for k, (_p, spec) in jobs.registry().specs.items()}
    return render_template("jobs/detail.html", job=job, label=labels.get(job.kind, job.kind),
                           form=FlaskForm())


@bp.route("/<int:job_id>.json")
def as_json(job_id: int) -> Any:
    return jsonify(get_visible(job_id).as_dict())


@bp.route("/<int:job_id>/result")
def result(job_id: int) -> Any:
    """The job's result file (e.g. an import's error report), only from the jobs folder."""
    from pathlib import Path

    from flask import current_app, send_file

    job = get_visible(job_id)
    if not job.result_file:
        abort(404)
    base = (Path(current_app.instance_path) / "jobs").resolve()
    path = (base / job.result_file).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        abort(404)
    return send_file(path, as_attachment=True, download_name=path.name)


@bp.route("/<int:job_id>/cancel", methods=["POST"])
def cancel(job_id: int) -> Any:
    job = get_visible(job_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    if job.owner_id != current_user.id and not access.can(current_user, "core.plugins.manage"):
        abort(403)
    if jobs.cancel(db.session(), job):
        db.session().commit()
        flash(_("已取消"), "success")
    else:
        flash(_("任务已结束，无法取消"), "info")
    return redirect(url_for("jobs.detail", job_id=job_id))
