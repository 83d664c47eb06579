"""Data-exchange pages (``/oa/runs``): the runs of the officer's org subtree, the upload
form and a run's page — its steps as a progress list, the preview with the first rejected
rows, the officer's buttons (确认应用, 放弃, 重试) and the result. While the job works the
page reloads itself every 3 seconds (an HTTP ``Refresh`` and a meta refresh; no script).

Every run is looked up through ``scope_filter`` on its org path (404 outside the subtree).
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.routing import BuildError

from unionhub import db
from unionhub.access import service as access
from unionhub.access.service import scope_filter
from unionhub.i18n import _
from unionhub.identity.models import Account
from unionhub.imports import uploads
from unionhub.imports.models import ImportBatch
from unionhub.jobs.models import Job
from unionhub.orgs.models import Org
from unionhub.web.formatting import SHANGHAI
from unionhub.web.pagination import paginate

from ..web import EXCHANGE, bp, require
from . import run as service
from .models import MEMBER_KIND_LABELS, OaRun, RunState

REFRESH_SECONDS = 3
SAMPLE_ROWS = 20


def _scoped(run_id: int) -> OaRun:
    run = db.session().scalar(select(OaRun).where(
        OaRun.id == run_id, scope_filter(current_user, EXCHANGE, OaRun.org_path)))
    if run is None:
        abort(404)
    return run


def _url(endpoint: str, **values: Any) -> str | None:
    """``url_for`` of another feature's page, or None while that page does not exist."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@bp.route("/runs", endpoint="runs")
@login_required
def runs() -> Any:
    require(EXCHANGE)
    stmt = (select(OaRun).where(scope_filter(current_user, EXCHANGE, OaRun.org_path))
            .order_by(OaRun.id.desc()))
    return render_template("oa/exchange/list.html", page=paginate(stmt), active_tab="runs",
                           preview_labels=service.PREVIEW_LABELS)


def _defaults() -> dict[str, Any]:
    today = datetime.now(SHANGHAI)
    return {"period": f"{today.year}-{today.month:02d}", "plan_year": str(today.year),
            "require_approval": False}


@bp.route("/runs/new", methods=["GET", "POST"], endpoint="run_new")
@login_required
def run_new() -> Any:
    require(EXCHANGE)
    form = FlaskForm()
    values = _defaults()
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        values = {"period": request.form.get("period", "").strip(),
                  "plan_year": request.form.get("plan_year", "").strip(),
                  "require_approval": request.form.get("require_approval") == "1"}
        upload = request.files.get("file")
        problem = uploads.upload_problem(upload)
        try:
            service.check_inputs(values["period"], values["plan_year"],
                                 upload.filename if upload is not None and upload.filename
                                 else ".csv")
        except service.RunError as exc:
            errors[exc.field or "file"] = str(exc)
        if problem:
            errors["file"] = problem
        if not errors:
            assert upload is not None
            s = db.session()
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "upload"
                upload.save(path)
                try:
                    run = service.create_run(
                        s, current_app, current_user, period=values["period"],
                        plan_year=int(values["plan_year"]), path=path,
                        filename=upload.filename or "", require_approval=values[
                            "require_approval"])
                except service.RunError as exc:
                    s.rollback()
                    errors[exc.field or "file"] = str(exc)
                else:
                    s.commit()
                    flash(_("文件已接收，正在校验"), "success")
                    return redirect(url_for("oa.run_detail", run_id=run.id))
        for message in errors.values():
            flash(message, "error")
    status = 422 if errors else 200
    return render_template("oa/exchange/new.html", form=form, values=values, errors=errors,
                           active_tab="runs"), status


@bp.route("/runs/<int:run_id>", endpoint="run_detail")
@login_required
def run_detail(run_id: int) -> Any:
    require(EXCHANGE)
    run = _scoped(run_id)
    s = db.session()
    if service.reconcile(s, run):
        s.commit()
    batch = s.get(ImportBatch, run.import_batch_id) if run.import_batch_id else None
    job = s.get(Job, run.job_id) if run.job_id else None
    errors_url = None
    if batch is not None and batch.rejected and (
            batch.owner_id == current_user.id or access.can(current_user,
                                                            "core.plugins.manage")):
        errors_url = url_for("imports.errors", batch_id=batch.id)
    notify = {}
    if run.result.get("notify"):
        from unionhub.notify.service import progress

        notify = {kind: {**info, "progress": progress(s, info["batch_id"])}
                  for kind, info in run.result["notify"].items()}
    approval_url = None
    if run.approval_ref and run.approval_ref.startswith("oa-"):
        ref = run.approval_ref[3:]
        approval_url = _url("oa.request_detail", request_id=int(ref)) if ref.isdigit() \
            else None
    accounting_url = (_url("oa.accounting_detail", snapshot_id=run.accounting_snapshot_id)
                      if run.accounting_snapshot_id else None)
    stage = run.step("stage") or {}
    html = render_template(
        "oa/exchange/detail.html", run=run, batch=batch, job=job, form=FlaskForm(),
        org=s.get(Org, run.org_id),
        creator=s.get(Account, run.created_by) if run.created_by else None,
        active_tab="runs", preview=stage.get("counts") or {},
        preview_labels=service.PREVIEW_LABELS, applied_labels=service.APPLIED_LABELS,
        accounting_labels=service.ACCOUNTING_LABELS, kind_labels=MEMBER_KIND_LABELS,
        step_states=service.STEP_STATE_LABELS,
        sample=(batch.sample_errors or [])[:SAMPLE_ROWS] if batch is not None else [],
        errors_url=errors_url, notify=notify, approval_url=approval_url,
        accounting_url=accounting_url, refresh=REFRESH_SECONDS if run.working else None,
        can_confirm=run.state == RunState.PREVIEW,
        can_discard=service.can_discard(s, run), can_retry=service.can_retry(s, run))
    response = make_response(html)
    if run.working:
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


def _act(run_id: int, action: str) -> Any:
    require(EXCHANGE)
    run = _scoped(run_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    s = db.session()
    try:
        if action == "confirm":
            service.confirm(s, run, current_user)
            message = _("已确认，正在应用变更")
        elif action == "discard":
            service.discard(s, current_app, run, current_user)
            message = _("已放弃本次数据交换，未应用任何数据")
        else:
            service.retry(s, run, current_user)
            message = _("已重新开始应用")
    except service.RunError as exc:
        s.rollback()
        flash(str(exc), "error")
    else:
        s.commit()
        flash(message, "success")
    return redirect(url_for("oa.run_detail", run_id=run_id))


@bp.route("/runs/<int:run_id>/confirm", methods=["POST"], endpoint="run_confirm")
@login_required
def run_confirm(run_id: int) -> Any:
    return _act(run_id, "confirm")


@bp.route("/runs/<int:run_id>/discard", methods=["POST"], endpoint="run_discard")
@login_required
def run_discard(run_id: int) -> Any:
    return _act(run_id, "discard")


@bp.route("/runs/<int:run_id>/retry", methods=["POST"], endpoint="run_retry")
@login_required
def run_retry(run_id: int) -> Any:
    return _act(run_id, "retry")
