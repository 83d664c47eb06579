"""Import pages: upload, preview (counts, rejected rows, report), apply."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from unionhub import db
from unionhub.access import service as access
from unionhub.imports import engine, uploads
from unionhub.imports.models import BatchStatus, ImportBatch
from unionhub.jobs import service as jobs
from unionhub.jobs.models import Job
from unionhub.web.pagination import paginate

bp = Blueprint("imports", __name__, url_prefix="/imports")


def _allowed_handlers() -> dict[str, Any]:
    return {code: h for code, h in engine.handlers(current_app).items()
            if access.can(current_user, h.permission)}


def _batch(batch_id: int) -> ImportBatch:
    """A batch the user may see: their own, or any for platform admins."""
    batch = db.session().get(ImportBatch, batch_id)
    if batch is None or (batch.owner_id != current_user.id
                         and not access.can(current_user, "core.plugins.manage")):
        abort(404)
    return batch


@bp.before_request
@login_required
def _signed_in() -> None:
    return None


@bp.route("/", methods=["GET", "POST"])
def index() -> Any:
    allowed = _allowed_handlers()
    if not allowed:
        abort(403)
    form = FlaskForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        code = request.form.get("handler", "")
        upload = request.files.get("file")
        if code not in allowed:
            abort(403)
        problem = uploads.upload_problem(upload)
        if problem:
            flash(problem, "error")
            return redirect(url_for(".index"))
        assert upload is not None
        s = db.session()
        batch = uploads.start(s, current_app, code, upload, current_user.id)
        s.commit()
        return redirect(url_for(".detail", batch_id=batch.id))
    stmt = select(ImportBatch).order_by(ImportBatch.id.desc())
    if not access.can(current_user, "core.plugins.manage"):
        stmt = stmt.where(ImportBatch.owner_id == current_user.id)
    return render_template("imports/index.html", handlers=allowed, form=form,
                           page=paginate(stmt))


@bp.route("/<int:batch_id>")
def detail(batch_id: int) -> Any:
    batch = _batch(batch_id)
    handler = engine.handlers(current_app).get(batch.handler)
    job_id = batch.params.get("apply_job") or batch.params.get("stage_job")
    job = db.session().get(Job, job_id) if job_id else None
    return render_template("imports/detail.html", batch=batch, handler=handler, job=job,
                           form=FlaskForm(), ready=batch.status == BatchStatus.READY)


@bp.route("/<int:batch_id>/errors.csv")
def errors(batch_id: int) -> Any:
    batch = _batch(batch_id)
    path = engine.batch_dir(current_app, batch.id) / engine.ERRORS_FILE
    if not path.is_file():
        abort(404)
    return send_file(path, as_attachment=True, download_name=f"import-{batch.id}-errors.csv",
                     mimetype="text/csv")


@bp.route("/<int:batch_id>/apply", methods=["POST"])
def apply(batch_id: int) -> Any:
    batch = _batch(batch_id)
    handler = engine.handlers(current_app)[batch.handler]
    access.require(handler.permission)
    if not FlaskForm().validate_on_submit():
        abort(400)
    if batch.status != BatchStatus.READY:
        flash(_("该批次不在待导入状态"), "error")
        return redirect(url_for(".detail", batch_id=batch.id))
    s = db.session()
    job = jobs.submit("core.import_apply", {"batch_id": batch.id}, session=s,
                      owner_id=current_user.id, dedup_key=f"import-apply:{batch.id}")
    batch.params = {**batch.params, "apply_job": job.id}
    s.commit()
    flash(_("已开始导入"), "success")
    return redirect(url_for(".detail", batch_id=batch.id))


@bp.route("/<int:batch_id>/discard", methods=["POST"])
def discard(batch_id: int) -> Any:
    batch = _batch(batch_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    if batch.status not in (BatchStatus.READY, BatchStatus.FAILED):
        flash(_("该批次不能放弃"), "error")
    else:
        engine.discard(db.session(), current_app, batch)
        db.session().commit()
        flash(_("已放弃该批次，未导入任何数据"), "success")
    return redirect(url_for(".index"))
