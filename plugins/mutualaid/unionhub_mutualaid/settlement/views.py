"""Officer pages: upload and statistics of the 医保结算数据, and the 二次报销 batches.

No page here shows diagnoses (only the screening feature shows them, to the member's own
union), nor a clear ID number (masked only).
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import case, func, or_, select

from unionhub import db
from unionhub.access.service import require, scope_filter
from unionhub.identity.models import Member
from unionhub.imports import engine, uploads
from unionhub.imports.models import ImportBatch
from unionhub.jobs import service as jobs
from unionhub.jobs.models import Job, JobStatus
from unionhub.money import money_sum
from unionhub.orgs.models import Org
from unionhub.web.pagination import paginate

from ..models import MutualaidPayout, MutualaidSettlement
from ..web import bp
from .ecbx import EcbxError, parse_quarter
from .models import MutualaidEcbxBatch, MutualaidEcbxLine

IMPORT_PERMISSION = "mutualaid.settlement.import"
ECBX_PERMISSION = "mutualaid.ecbx.manage"
HANDLER_CODE = "mutualaid.settlement"
ECBX_JOB = "mutualaid.ecbx_quarter"


@bp.route("/settlement", methods=["GET", "POST"], endpoint="settlement_index")
@login_required
def settlement_index() -> Any:
    require(IMPORT_PERMISSION)
    form = FlaskForm()
    s = db.session()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        upload = request.files.get("file")
        problem = uploads.upload_problem(upload)
        if problem:
            flash(problem, "error")
            return redirect(url_for(".settlement_index"))
        assert upload is not None
        batch = uploads.start(s, current_app, HANDLER_CODE, upload, current_user.id)
        s.commit()
        return redirect(url_for("imports.detail", batch_id=batch.id))

    S = MutualaidSettlement
    set_aside = S.member_id.is_(None)
    stmt = (
        select(S.quarter, func.count(), func.sum(case((set_aside, 1), else_=0)),
               func.count(S.member_id.distinct()),
               money_sum(case((set_aside, 0), else_=S.self_pay_1)))
        .outerjoin(Member, Member.id == S.member_id).outerjoin(Org, Org.id == Member.org_id)
        # records of people who are not members have no org: counted, never shown
        .where(or_(set_aside, scope_filter(current_user, IMPORT_PERMISSION, Org.path)))
        .group_by(S.quarter).order_by(S.quarter.desc()))
    quarters = [{"quarter": q, "records": n, "set_aside": int(aside or 0),
                 "member_records": n - int(aside or 0), "members": members,
                 "self_pay_1": self_pay}
                for q, n, aside, members, self_pay in s.execute(stmt)]
    totals = {k: sum(row[k] for row in quarters)
              for k in ("records", "set_aside", "member_records")}
    imports = s.scalars(select(ImportBatch).where(ImportBatch.handler == HANDLER_CODE)
                        .order_by(ImportBatch.id.desc()).limit(10)).all()
    handler = engine.handlers(current_app).get(HANDLER_CODE)
    return render_template("mutualaid/settlement/index.html", form=form, quarters=quarters,
                           totals=totals, imports=imports, handler=handler)


def _running(s: Any, quarter: str) -> bool:
    active = s.scalars(select(Job.params).where(
        Job.kind == ECBX_JOB, Job.status.in_((JobStatus.PENDING, JobStatus.RUNNING)))).all()
    return any((p or {}).get("quarter") == quarter for p in active)


@bp.route("/ecbx", methods=["GET", "POST"], endpoint="ecbx_index")
@login_required
def ecbx_index() -> Any:
    require(ECBX_PERMISSION)
    form = FlaskForm()
    s = db.session()
    S = MutualaidSettlement
    quarters = list(s.scalars(select(S.quarter).distinct().order_by(S.quarter.desc())))
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        quarter = request.form.get("quarter", "")
        try:
            parse_quarter(quarter)
        except EcbxError as exc:
            flash(str(exc), "error")
            return redirect(url_for(".ecbx_index"))
        if quarter not in quarters:
            flash(_("%(quarter)s 没有医保结算数据", quarter=quarter), "error")
        elif _running(s, quarter):
            flash(_("%(quarter)s 的二次报销正在计算，请稍候", quarter=quarter), "error")
        else:
            jobs.submit(ECBX_JOB, {"quarter": quarter}, session=s, owner_id=current_user.id)
            s.commit()
            flash(_("已开始计算 %(quarter)s 的二次报销；完成后批次显示在下方", quarter=quarter),
                  "success")
        return redirect(url_for(".ecbx_index"))
    page = paginate(select(MutualaidEcbxBatch).order_by(MutualaidEcbxBatch.id.desc()))
    return render_template("mutualaid/settlement/ecbx.html", form=form, quarters=quarters,
                           page=page)


@bp.route("/ecbx/<int:batch_id>", endpoint="ecbx_batch")
@login_required
def ecbx_batch(batch_id: int) -> Any:
    require(ECBX_PERMISSION)
    s = db.session()
    batch = s.get(MutualaidEcbxBatch, batch_id)
    if batch is None:
        abort(404)
    L = MutualaidEcbxLine
    stmt = (select(L.id, Member.name, Member.id_number_masked, Org.name.label("org"), L.basis,
                   L.deductible_used, L.entitled, L.amount, MutualaidPayout.status,
                   MutualaidPayout.failure)
            .join(Member, Member.id == L.member_id).join(Org, Org.id == Member.org_id)
            .outerjoin(MutualaidPayout, MutualaidPayout.id == L.payout_id)
            .where(L.batch_id == batch.id,
                   scope_filter(current_user, ECBX_PERMISSION, Org.path))
            .order_by(L.amount.desc(), L.id))
    if request.args.get("payee") == "needed":
        stmt = stmt.where(MutualaidPayout.status == "payee_needed")
    page = paginate(stmt, scalars=False)
    return render_template("mutualaid/settlement/ecbx_batch.html", batch=batch, page=page)
