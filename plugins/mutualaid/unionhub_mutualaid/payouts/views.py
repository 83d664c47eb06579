"""Payout pages: bank batches and their files, return files, the payee-needed list (officers
with ``mutualaid.payouts.manage``, scoped in SQL), and the member's own payouts (我的到账)."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from unionhub import db
from unionhub.access.service import require, scope_filter
from unionhub.identity.models import CardStatus, JingkaCard, Member
from unionhub.web.pagination import paginate

from ..models import MutualaidPayout, PayoutStatus
from ..rules import PROGRAM_NAMES
from ..web import bp
from . import bankfiles, batches, payee, returns, stats
from .models import (
    PAYOUT_STATUS_LABELS,
    BatchStatus,
    LineStatus,
    MutualaidPayeeCheck,
    MutualaidPayoutBatch,
    MutualaidPayoutLine,
    MutualaidPayoutReturn,
)

PERM = batches.PERMISSION
RETURN_MAX_BYTES = 50 * 1024 * 1024


def _scoped_batch(batch_id: int) -> MutualaidPayoutBatch:
    batch = db.session().scalar(select(MutualaidPayoutBatch).where(
        MutualaidPayoutBatch.id == batch_id,
        scope_filter(current_user, PERM, MutualaidPayoutBatch.org_path)))
    if batch is None:
        abort(404)
    return batch


def _home_path(s: Session) -> str | None:
    """The officer's widest subtree (for recording who imported a return file)."""
    orgs = batches.manage_orgs(s, current_user)
    return min((o.path for o in orgs), key=len) if orgs else None


@bp.route("/payouts/batches", methods=["GET", "POST"])
@login_required
def payouts_batches() -> Any:
    """代发批次: the batches in scope, generation of a new batch, the two rates."""
    require(PERM)
    s = db.session()
    form = FlaskForm()
    orgs = batches.manage_orgs(s, current_user)
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        org = next((o for o in orgs if str(o.id) == request.form.get("org_id")), None)
        program = request.form.get("program") or None
        if org is None:
            flash(_("请选择您有权管理的工会组织"), "error")
        elif program is not None and program not in PROGRAM_NAMES:
            flash(_("未知项目「%(program)s」", program=program), "error")
        else:
            result = batches.create_batch(
                s, org_path=org.path, program=program, actor=current_user,
                scope=scope_filter(current_user, PERM, MutualaidPayout.org_path))
            s.commit()
            if result.set_aside:
                flash(_("%(n)s 笔因收款信息不全转入「收款信息待补充」", n=len(result.set_aside)),
                      "warning")
            if result.batch is None:
                flash(_("没有可发放的待发放记录，未生成批次"), "warning")
                return redirect(url_for(".payouts_batches"))
            flash(_("已生成代发批次 %(batch_no)s：%(count)s 笔，合计 %(total)s 元",
                    batch_no=result.batch.batch_no, count=result.batch.count,
                    total=result.batch.total), "success")
            if result.batch.status == BatchStatus.AWAITING_SIGNOFF:
                flash(_("批次金额达到审批下限，已提交办公系统审批；审批通过后才能下载代发文件"),
                      "warning")
            return redirect(url_for(".payouts_batch", batch_id=result.batch.id))
    scope = scope_filter(current_user, PERM, MutualaidPayout.org_path)
    page = paginate(select(MutualaidPayoutBatch).where(
        scope_filter(current_user, PERM, MutualaidPayoutBatch.org_path))
        .order_by(MutualaidPayoutBatch.id.desc()))
    pending = dict(s.execute(select(MutualaidPayout.status, func.count())
                             .where(scope).group_by(MutualaidPayout.status)).all())
    return render_template(
        "mutualaid/payouts/batches.html", page=page, form=form, orgs=orgs,
        programs=PROGRAM_NAMES, pending=pending,
        direct=stats.direct_pay_rate(s, scope),
        verified=stats.verification_rate(
            s, scope_filter(current_user, PERM, MutualaidPayeeCheck.org_path)),
        returns_page=s.scalars(select(MutualaidPayoutReturn).where(
            scope_filter(current_user, PERM, MutualaidPayoutReturn.org_path))
            .order_by(MutualaidPayoutReturn.id.desc()).limit(10)).all())


@bp.route("/payouts/batches/<int:batch_id>")
@login_required
def payouts_batch(batch_id: int) -> Any:
    require(PERM)
    batch = _scoped_batch(batch_id)
    page = paginate(select(MutualaidPayoutLine).where(MutualaidPayoutLine.batch_id == batch.id)
                    .order_by(MutualaidPayoutLine.seq))
    return render_template("mutualaid/payouts/batch.html", batch=batch, page=page,
                           form=FlaskForm())


@bp.route("/payouts/batches/<int:batch_id>/file.<fmt>")
@login_required
def payouts_bank_file(batch_id: int, fmt: str) -> Any:
    """The bank file, decrypted while written; every download is audited."""
    require(PERM)
    s = db.session()
    batch = _scoped_batch(batch_id)
    if fmt not in bankfiles.FORMATS:
        abort(404)
    if batch.status == BatchStatus.AWAITING_SIGNOFF:
        flash(_("批次 %(batch_no)s 正在办公系统审批中，审批通过后才能下载代发文件",
                batch_no=batch.batch_no), "error")
        return redirect(url_for(".payouts_batch", batch_id=batch_id))
    if not batch.sendable:
        flash(_("批次 %(batch_no)s 审批未通过，已作废，不能下载代发文件",
                batch_no=batch.batch_no), "error")
        return redirect(url_for(".payouts_batch", batch_id=batch_id))
    try:
        data, filename, mimetype = bankfiles.render(s, batch, fmt, actor=current_user)
    except bankfiles.BankFileError as exc:
        s.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".payouts_batch", batch_id=batch_id))
    s.commit()
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                         download_name=filename)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/payouts/returns", methods=["POST"])
@login_required
def payouts_return_upload() -> Any:
    """回盘文件: applied once; the report lists duplicates and unknown references."""
    require(PERM)
    s = db.session()
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    back = request.form.get("next") or url_for(".payouts_batches")
    if not back.startswith("/") or back.startswith("//") or "\\" in back:
        back = url_for(".payouts_batches")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("请选择回盘文件"), "error")
        return redirect(back)
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        flash(_("回盘文件应为 CSV 或 XLSX"), "error")
        return redirect(back)
    home = _home_path(s)
    if home is None:
        abort(403)
    fd, tmp = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            upload.save(fh)
        if os.path.getsize(tmp) > RETURN_MAX_BYTES:
            flash(_("回盘文件过大"), "error")
            return redirect(back)
        try:
            record = returns.import_file(
                s, tmp, upload.filename, org_path=home, actor=current_user,
                scope=scope_filter(current_user, PERM, MutualaidPayoutBatch.org_path))
        except returns.ReturnFileRejected as exc:
            s.rollback()
            for err in exc.errors[:20]:
                flash(err, "error")
            flash(_("回盘文件未导入，数据未做任何更改"), "error")
            return redirect(back)
        s.commit()
    finally:
        Path(tmp).unlink(missing_ok=True)
    return redirect(url_for(".payouts_return", return_id=record.id))


@bp.route("/payouts/returns/<int:return_id>")
@login_required
def payouts_return(return_id: int) -> Any:
    require(PERM)
    record = db.session().scalar(select(MutualaidPayoutReturn).where(
        MutualaidPayoutReturn.id == return_id,
        scope_filter(current_user, PERM, MutualaidPayoutReturn.org_path)))
    if record is None:
        abort(404)
    return render_template("mutualaid/payouts/return.html", record=record)


@bp.route("/payouts/payee")
@login_required
def payouts_payee() -> Any:
    """收款信息待补充: payouts blocked by verification or refused by the bank."""
    require(PERM)
    s = db.session()
    page = paginate(select(MutualaidPayout).where(
        MutualaidPayout.status == PayoutStatus.PAYEE_NEEDED,
        scope_filter(current_user, PERM, MutualaidPayout.org_path))
        .order_by(MutualaidPayout.updated_at.desc(), MutualaidPayout.id.desc()))
    return render_template(
        "mutualaid/payouts/payee.html", page=page, form=FlaskForm(),
        verified=stats.verification_rate(
            s, scope_filter(current_user, PERM, MutualaidPayeeCheck.org_path)))


@bp.route("/payouts/<int:payout_id>/ready", methods=["POST"])
@login_required
def payouts_ready(payout_id: int) -> Any:
    """收款信息已补充: re-verify, then back to the queue for a new batch."""
    require(PERM)
    s = db.session()
    if not FlaskForm().validate_on_submit():
        abort(400)
    payout = s.scalar(select(MutualaidPayout).where(
        MutualaidPayout.id == payout_id,
        scope_filter(current_user, PERM, MutualaidPayout.org_path)))
    if payout is None:
        abort(404)
    try:
        payee.mark_ready(s, payout, actor=current_user)
    except payee.NotReady as exc:
        s.commit()  # keeps the failed check and the updated reason
        flash(str(exc), "error")
    else:
        s.commit()
        flash(_("%(name)s 的 %(amount)s 元已重新进入待发放，将在新批次中发放",
                name=payout.member.name, amount=payout.amount), "success")
    return redirect(url_for(".payouts_payee"))


# -- the member's own payouts ---------------------------------------------------------------


def cards_of(s: Session, payouts: list[MutualaidPayout]) -> dict[int, str]:
    """Masked card per payout: the card of its latest line (a void one never counts), else the
    member's active card."""
    ids = [p.id for p in payouts]
    out: dict[int, str] = {}
    if not ids:
        return out
    for pid, masked in s.execute(
            select(MutualaidPayoutLine.payout_id, JingkaCard.number_masked)
            .join(JingkaCard, JingkaCard.id == MutualaidPayoutLine.card_id)
            .where(MutualaidPayoutLine.payout_id.in_(ids),
                   MutualaidPayoutLine.status != LineStatus.VOID)
            .order_by(MutualaidPayoutLine.id)):
        out[pid] = masked
    members = {p.member_id for p in payouts if p.id not in out}
    if members:
        active = dict(s.execute(select(JingkaCard.member_id, JingkaCard.number_masked).where(
            JingkaCard.member_id.in_(members), JingkaCard.status == CardStatus.ACTIVE)).all())
        for p in payouts:
            if p.id not in out and p.member_id in active:
                out[p.id] = active[p.member_id]
    return out


def _mine(member: Member) -> Any:
    return (select(MutualaidPayout).where(MutualaidPayout.member_id == member.id)
            .order_by(MutualaidPayout.id.desc()))


def payouts_panel(member: Member | None = None, account: Any = None, **_: Any
                  ) -> Markup | None:
    """我的到账 on the member's "我的" page: the latest five payouts."""
    if member is None:
        return None
    s = db.session()
    rows = list(s.scalars(_mine(member).limit(5)))
    if not rows:
        return None
    return Markup(render_template("mutualaid/payouts/_panel.html", payouts=rows,
                                  cards=cards_of(s, rows), labels=PAYOUT_STATUS_LABELS))


@bp.route("/payouts/my")
@login_required
def payouts_my() -> Any:
    member = current_user.member
    if member is None:
        abort(404)
    s = db.session()
    page = paginate(_mine(member))
    return render_template("mutualaid/payouts/my.html", page=page,
                           cards=cards_of(s, page.items), labels=PAYOUT_STATUS_LABELS)
