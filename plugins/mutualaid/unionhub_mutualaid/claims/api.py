"""Claims on the mobile-app API (``/api/v1/mutualaid/claims``): the member's own claims."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import request
from flask_login import current_user
from pydantic import BaseModel
from sqlalchemy import select

from unionhub import db
from unionhub.access.service import can
from unionhub.api import PAGE_PARAMS, ApiError, Page, operation, paginate

from ..models import ClaimSource, MutualaidClaim
from ..rules import PROGRAM_NAMES
from ..web import api
from . import materials, service


class ClaimOut(BaseModel):
    id: int
    number: str
    program: str
    program_name: str
    plan_year: int
    benefit: str | None
    event_date: date
    status: str
    status_label: str
    submitted_on: date
    due_on: date | None
    amount: str | None
    reason: str | None


class FileOut(BaseModel):
    id: int
    kind: str
    kind_label: str
    name: str
    content_type: str
    size: int


class ClaimDetailOut(ClaimOut):
    #: Health data: only for the member themself and the claim's reviewers, else null.
    diagnoses: list[str] | None
    diagnosis_text: str | None
    explanation: list[str]
    auto_amount: str | None
    stays: list[list[str]]
    missing: list[str]
    files: list[FileOut]
    history: list[dict[str, Any]]


class ClaimIn(BaseModel):
    program: str
    benefit: str | None = None
    cause: str = "illness"
    event_date: str
    stays: list[list[str]] = []
    hospital: str | None = None
    total_amount: str | None = None
    out_of_pocket: str | None = None
    already_reimbursed: str | None = None
    diagnoses: list[str] = []
    diagnosis_text: str | None = None
    disability_grade: int | None = None
    child_name: str | None = None
    child_birth_date: str | None = None
    description: str | None = None


def _member() -> Any:
    member = current_user.member
    if member is None or not can(current_user, "mutualaid.claims.own"):
        raise ApiError(403, "forbidden", "仅会员本人可申请和查看理赔")
    return member


def _out(claim: MutualaidClaim) -> ClaimOut:
    return ClaimOut(id=claim.id, number=claim.number, program=claim.program,
                    program_name=PROGRAM_NAMES.get(claim.program, claim.program),
                    plan_year=claim.plan_year, benefit=claim.benefit,
                    event_date=claim.event_date, status=claim.status,
                    status_label=service.STATUS_LABELS.get(claim.status, claim.status),
                    submitted_on=claim.submitted_on, due_on=claim.due_on,
                    amount=None if claim.amount is None else str(claim.amount),
                    reason=service.reason_text(claim))


def _own(claim_id: int) -> MutualaidClaim:
    member = _member()
    claim = db.session().scalar(select(MutualaidClaim).where(
        MutualaidClaim.id == claim_id, MutualaidClaim.member_id == member.id))
    if claim is None:
        raise ApiError(404, "not_found", "没有这笔理赔")
    return claim


def _detail(claim: MutualaidClaim) -> ClaimDetailOut:
    s = db.session()
    shown = service.may_see_diagnoses(s, current_user, claim)
    explanation = list(claim.decision.get("explanation", []))
    events = service.events(s, claim)
    if not shown:
        explanation = [service.redact_diagnoses(x, claim) or "" for x in explanation]
    return ClaimDetailOut(
        **_out(claim).model_dump(),
        diagnoses=list(claim.diagnoses or []) if shown else None,
        diagnosis_text=claim.diagnosis_text if shown else None, explanation=explanation,
        auto_amount=claim.decision.get("amount"), stays=claim.stays or [],
        missing=[name for _, name in materials.missing(s, claim)],
        files=[FileOut(id=f.id, kind=f.kind, kind_label=materials.label(claim.program, f.kind),
                       name=f.original_name, content_type=f.content_type, size=f.size)
               for f in materials.files(s, claim)],
        history=[{"at": e.at.isoformat(), "action": e.action,
                  "label": service.ACTION_LABELS.get(e.action, e.action),
                  "note": e.note if shown else service.redact_diagnoses(e.note, claim)}
                 for e in events])


@api.route("/claims")
@operation("互助保障：我的理赔", tags=["mutualaid"], response=Page[ClaimOut],
           params=PAGE_PARAMS, errors=(403,))
def api_claims() -> Any:
    member = _member()
    stmt = (select(MutualaidClaim).where(MutualaidClaim.member_id == member.id)
            .order_by(MutualaidClaim.id.desc()))
    return paginate(stmt, _out)


@api.route("/claims/<int:claim_id>")
@operation("互助保障：理赔详情（核算说明、材料、进度）", tags=["mutualaid"],
           response=ClaimDetailOut, errors=(403, 404))
def api_claim(claim_id: int) -> Any:
    return _detail(_own(claim_id))


@api.route("/claims", methods=["POST"])
@operation("互助保障：申请理赔", tags=["mutualaid"], body=ClaimIn, response=ClaimDetailOut,
           status=201, errors=(403, 422))
def api_claim_submit(data: ClaimIn) -> Any:
    member = _member()
    s = db.session()
    raw = data.model_dump()
    if raw.get("disability_grade") is not None:
        raw["disability_grade"] = str(raw["disability_grade"])
    try:
        parsed = service.parse_claim(s, raw)
        claim = service.submit(s, member, parsed, actor=current_user, source=ClaimSource.MEMBER)
    except service.ClaimError as exc:
        s.rollback()
        raise ApiError(422, "invalid", "理赔申请有误", exc.errors) from None
    s.commit()
    return _detail(claim)


@api.route("/claims/<int:claim_id>/files", methods=["POST"])
@operation("互助保障：上传理赔材料（multipart：kind、file）", tags=["mutualaid"],
           response=ClaimDetailOut, status=201, errors=(403, 404, 422))
def api_claim_file(claim_id: int) -> Any:
    claim = _own(claim_id)
    s = db.session()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(422, "invalid", "请上传文件", {"file": "缺少文件"})
    data = upload.read(materials.max_bytes() + 1)
    try:
        service.add_file(s, claim, request.form.get("kind", ""), upload.filename, data,
                         actor=current_user)
    except materials.MaterialError as exc:
        s.rollback()
        raise ApiError(422, "invalid", str(exc), {"file": str(exc)}) from None
    s.commit()
    return _detail(claim)
