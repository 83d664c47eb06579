"""Claims: submission (member, agent clerk, settlement fast claim), review and service level.

Every state change is a conditional UPDATE on the claim's status (``WHERE status IN …``), so
two officers acting on the same claim at once cannot both succeed: the loser gets
:class:`~unionhub_mutualaid.decide.ClaimConflict` and nothing is changed. Each step writes one
history row (:class:`.models.MutualaidClaimEvent`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from unionhub import notify
from unionhub.audit import service as audit
from unionhub.db import utcnow
from unionhub.identity.models import Member
from unionhub.money import ZERO, non_negative_money
from unionhub.workdays.service import add_working_days

from .. import decide, plans
from ..models import (
    ClaimSource,
    ClaimStatus,
    MutualaidClaim,
    MutualaidCoverage,
    MutualaidPlan,
)
from ..rules import PROGRAM_CODES, PROGRAM_NAMES, BenefitKind, Cause, PlanRules
from . import materials
from .models import MutualaidClaimEvent

MAX_STAYS = 3
#: The largest amount accepted on a claim (元); far above any real bill, well inside BIGINT fen.
MAX_AMOUNT = Decimal("100000000")
#: What viewers without the right to see a diagnosis get instead.
HIDDEN = "（已隐藏）"
ICD10 = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$")

STATUS_LABELS: Mapping[str, str] = {
    ClaimStatus.SUBMITTED: "审核中",
    ClaimStatus.RETURNED: "待补充材料",
    ClaimStatus.APPROVED: "已核定，待发放",
    ClaimStatus.REJECTED: "不予赔付",
    ClaimStatus.PAID: "已到账",
    ClaimStatus.DECIDING: "审核中",
}
ACTION_LABELS: Mapping[str, str] = {
    "submitted": "提交申请",
    "file_added": "上传材料",
    "complete": "材料齐全",
    "returned": "退回补充材料",
    "resubmitted": "重新提交",
    "approved": "审核通过",
    "rejected": "不予赔付",
    "paid": "已到账",
    "corrected": "医保结算数据更正",
}
#: The reviewer's reasons for a rejection (the engine's own reasons come from adjudication).
REJECT_REASONS: Mapping[str, str] = {
    "material_false": "材料不实",
    "duplicate": "重复申请",
    "not_covered": "不属于保障责任",
    "other": "其他",
}
CAUSE_LABELS: Mapping[str, str] = {Cause.ILLNESS: "疾病", Cause.ACCIDENT: "意外"}
#: statuses still open for the service level (not yet paid or rejected)
OPEN_STATUSES: tuple[str, ...] = (ClaimStatus.SUBMITTED, ClaimStatus.RETURNED,
                                  ClaimStatus.APPROVED)


class ClaimError(ValueError):
    """Invalid claim input; ``errors`` maps a field name to a Chinese message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


# -- numbering and history ---------------------------------------------------------------------


def new_number(claim: MutualaidClaim, on: date | None = None) -> str:
    """The claim number: ``LP`` + date + a sequence taken from the id (unique because the id
    is). Call after the claim is flushed (it has an id)."""
    assert claim.id is not None
    return f"LP{(on or date.today()):%Y%m%d}{claim.id:06d}"


def _placeholder() -> str:
    """A unique temporary number until the id (and so the real number) is known."""
    return "T" + uuid.uuid4().hex[:20]


def assign_number(session: Session, claim: MutualaidClaim, on: date | None = None) -> None:
    if claim.id is None:
        session.flush()
    claim.number = new_number(claim, on)
    session.flush()


def history(session: Session, claim: MutualaidClaim, action: str, actor: Any = None,
            note: str | None = None) -> MutualaidClaimEvent:
    event = MutualaidClaimEvent(claim_id=claim.id, at=utcnow(), action=action, note=note,
                                actor_id=getattr(actor, "id", None),
                                actor_name=getattr(actor, "display_name", None)
                                or ("系统" if actor is None else None))
    session.add(event)
    session.flush()
    return event


def events(session: Session, claim: MutualaidClaim) -> list[MutualaidClaimEvent]:
    return list(session.scalars(select(MutualaidClaimEvent)
                                .where(MutualaidClaimEvent.claim_id == claim.id)
                                .order_by(MutualaidClaimEvent.id)))


def _history_count(session: Session, claim: MutualaidClaim) -> int:
    return session.scalar(select(func.count()).select_from(MutualaidClaimEvent)
                          .where(MutualaidClaimEvent.claim_id == claim.id)) or 0


# -- materials complete → service-level dates --------------------------------------------------


def sla_days() -> int:
    from unionhub.settings import service as settings

    return int(settings.get("mutualaid.sla_working_days"))


def set_complete(claim: MutualaidClaim, on: date) -> None:
    """Materials complete on ``on``: the service-level clock starts."""
    claim.complete_on = on
    claim.due_on = add_working_days(on, sla_days())


def refresh_complete(session: Session, claim: MutualaidClaim, actor: Any = None,
                     today: date | None = None) -> bool:
    """Start the clock when the checklist has just become complete; True when it did."""
    if claim.complete_on is not None or claim.status != ClaimStatus.SUBMITTED:
        return False
    if materials.missing(session, claim):
        return False
    set_complete(claim, today or date.today())
    history(session, claim, "complete", actor)
    return True


# -- coverage ---------------------------------------------------------------------------------


def coverage_row(session: Session, member_id: int, plan: MutualaidPlan
                 ) -> MutualaidCoverage | None:
    return session.scalar(select(MutualaidCoverage).where(
        MutualaidCoverage.member_id == member_id, MutualaidCoverage.program == plan.program,
        MutualaidCoverage.plan_year == plan.plan_year))


# -- fast claim from settlement data -----------------------------------------------------------


def create_fast_claim(session: Session, *, member: Member, program: str, benefit: str | None,
                      serial: str, stays: Sequence[tuple[date, date]], hospital: str | None,
                      total: Decimal, out_of_pocket: Decimal, diagnoses: Sequence[str],
                      submitted_on: date) -> MutualaidClaim | None:
    """A claim made from a medical-insurance settlement record (京卡直赔), materials complete.

    Idempotent per ``serial``: the existing claim is returned when one was made before (the
    unique ``settlement_serial`` guards against a concurrent second insert too). A later record
    with the same serial is a correction: see :func:`_correct_fast_claim`. Returns None
    when the member has no coverage row for the program's plan year (not enrolled) or no plan
    covers the first admission date. The claim is evaluated (explanation kept), not approved.
    """
    ordered = sorted(stays)
    event_date = ordered[0][0] if ordered else submitted_on
    plan = plans.covering(session, program, event_date)
    cov = coverage_row(session, member.id, plan) if plan is not None else None
    existing = session.scalar(select(MutualaidClaim).where(
        MutualaidClaim.settlement_serial == serial))
    if existing is not None:
        if plan is not None and cov is not None:
            _correct_fast_claim(session, existing, plan=plan, coverage=cov, stays=ordered,
                                total=total, out_of_pocket=out_of_pocket, diagnoses=diagnoses)
        return existing
    if plan is None or cov is None:
        return None
    claim = MutualaidClaim(
        number=_placeholder(), member_id=member.id, org_path=member.org.path, plan_id=plan.id,
        program=program, plan_year=plan.plan_year, coverage_id=cov.id, benefit=benefit,
        cause=Cause.ILLNESS.value, event_date=event_date,
        event_end=max(d for _, d in ordered) if ordered else None,
        stays=[[a.isoformat(), d.isoformat()] for a, d in ordered], hospital=hospital,
        total_amount=total, out_of_pocket=out_of_pocket, already_reimbursed=ZERO,
        diagnoses=list(diagnoses), source=ClaimSource.SETTLEMENT, settlement_serial=serial,
        status=ClaimStatus.SUBMITTED, submitted_on=submitted_on, decision={})
    try:
        with session.begin_nested():
            session.add(claim)
            session.flush()
    except IntegrityError:
        return session.scalar(select(MutualaidClaim).where(
            MutualaidClaim.settlement_serial == serial))
    claim.number = new_number(claim, submitted_on)
    set_complete(claim, submitted_on)
    session.flush()
    history(session, claim, "submitted", None, f"医保结算数据 {serial[-4:]} 自动生成")
    decide.evaluate(session, claim)
    session.flush()
    return claim


def _correct_fast_claim(session: Session, claim: MutualaidClaim, *, plan: MutualaidPlan,
                        coverage: MutualaidCoverage, stays: Sequence[tuple[date, date]],
                        total: Decimal, out_of_pocket: Decimal, diagnoses: Sequence[str]
                        ) -> bool:
    """Apply a corrected settlement record to its fast claim while it is still under review
    (submitted or returned) and re-evaluate it; True when the claim changed.

    Approved or paid (or rejected) claims are left as they are: their money is already booked.
    The UPDATE is conditional on the status, so a reviewer deciding at the same moment wins
    cleanly and the correction is skipped.
    """
    if claim.status not in (ClaimStatus.SUBMITTED, ClaimStatus.RETURNED):
        return False
    new_stays = [[a.isoformat(), d.isoformat()] for a, d in stays]
    new_diagnoses = list(diagnoses)
    changes: dict[str, Any] = {}
    if claim.total_amount != total:
        changes["total_amount"] = total
    if claim.out_of_pocket != out_of_pocket:
        changes["out_of_pocket"] = out_of_pocket
    if list(claim.stays or []) != new_stays:
        changes["stays"] = new_stays
        changes["event_date"] = stays[0][0] if stays else claim.event_date
        changes["event_end"] = max(d for _, d in stays) if stays else None
    if list(claim.diagnoses or []) != new_diagnoses:
        changes["diagnoses"] = new_diagnoses
    if not changes:
        return False
    if plan.id != claim.plan_id:
        changes.update(plan_id=plan.id, plan_year=plan.plan_year, coverage_id=coverage.id)
    before = {"total_amount": str(claim.total_amount), "out_of_pocket": str(claim.out_of_pocket)}
    result = session.execute(
        update(MutualaidClaim)
        .where(MutualaidClaim.id == claim.id,
               MutualaidClaim.status.in_((ClaimStatus.SUBMITTED, ClaimStatus.RETURNED)))
        .values(**changes, updated_at=utcnow()).execution_options(synchronize_session=False))
    session.refresh(claim)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    fields = {"total_amount": "医疗费总额", "out_of_pocket": "个人自付", "stays": "住院",
              "diagnoses": "诊断"}
    history(session, claim, "corrected", None,
            "更正：" + "、".join(label for key, label in fields.items() if key in changes))
    audit.record("mutualaid.claim.correct", target_type="mutualaid_claim",
                 target_id=claim.number, org_path=claim.org_path, actor=None, session=session,
                 details={"before": before, "fields": sorted(changes)})
    decide.evaluate(session, claim)
    session.flush()
    return True


# -- submission --------------------------------------------------------------------------------


@dataclass
class ClaimData:
    """Validated input of a claim form or API body."""

    plan: MutualaidPlan
    rules: PlanRules
    program: str
    benefit: str
    cause: str
    event_date: date
    stays: list[tuple[date, date]] = field(default_factory=list)
    hospital: str | None = None
    total_amount: Decimal | None = None
    out_of_pocket: Decimal | None = None
    already_reimbursed: Decimal = ZERO
    diagnoses: list[str] = field(default_factory=list)
    diagnosis_text: str | None = None
    disability_grade: int | None = None
    child_name: str | None = None
    child_birth_date: date | None = None
    description: str | None = None


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    return "" if value is None else str(value).strip()


def _date(raw: Mapping[str, Any], key: str, label: str, errors: dict[str, str],
          today: date, required: bool = False) -> date | None:
    text = _text(raw, key)
    if not text:
        if required:
            errors[key] = f"请填写{label}"
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        errors[key] = f"{label}应为日期，如 2026-03-01"
        return None
    if value > today:
        errors[key] = f"{label}不能晚于今天"
        return None
    return value


def _amount(raw: Mapping[str, Any], key: str, label: str, errors: dict[str, str]
            ) -> Decimal | None:
    value = raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        amount = non_negative_money(value if not isinstance(value, float) else str(value),
                                    field=label)
    except (TypeError, ValueError, ArithmeticError):  # decimal.InvalidOperation: "1e30", "sNaN"
        errors[key] = f"{label}应为不小于 0 的金额（元，最多两位小数）"
        return None
    if not amount.is_finite():
        errors[key] = f"{label}应为不小于 0 的金额（元，最多两位小数）"
        return None
    if amount > MAX_AMOUNT:
        errors[key] = f"{label}不能超过 {MAX_AMOUNT:,} 元"
        return None
    return amount


def _integer(text: str) -> int | None:
    """An ASCII whole number, or None (``"²".isdigit()`` is true but ``int("²")`` fails; full-
    width digits and anything over 6 characters are refused too)."""
    if not text or len(text) > 6 or not (text.isascii() and text.isdecimal()):
        return None
    try:
        return int(text)
    except ValueError:
        return None


def parse_claim(session: Session, raw: Mapping[str, Any], today: date | None = None
                ) -> ClaimData:
    """Validate a claim's fields (form or JSON, values as text). Raises :class:`ClaimError`
    with every problem, each under its field name.

    Stays come as ``admitted_1``/``discharged_1`` … up to :data:`MAX_STAYS`, or as a list
    ``stays`` of ``[admitted, discharged]`` pairs (API).
    """
    today = today or date.today()
    errors: dict[str, str] = {}
    program = _text(raw, "program").upper()
    if program not in PROGRAM_CODES:
        errors["program"] = "请选择互助项目"
    event_date = _date(raw, "event_date", "出险日期", errors, today, required=True)
    plan: MutualaidPlan | None = None
    rules: PlanRules | None = None
    if program in PROGRAM_CODES and event_date is not None:
        plan = plans.covering(session, program, event_date)
        if plan is None:
            errors["event_date"] = f"{PROGRAM_NAMES[program]}没有覆盖该日期的项目年度"
        else:
            rules = plans.rules_of(plan)
    benefit_code = _text(raw, "benefit")
    item = None
    if rules is not None:
        item = rules.benefit(benefit_code or None)
        if item is None:
            names = "、".join(b.name for b in rules.benefits)
            errors["benefit"] = f"该项目没有此保障责任（可选：{names}）"
    cause = _text(raw, "cause") or Cause.ILLNESS.value
    if cause not in CAUSE_LABELS:
        errors["cause"] = "出险原因应为疾病或意外"
    elif item is not None and Cause(cause) not in item.causes:
        errors["cause"] = f"{item.name}只保障{'、'.join(CAUSE_LABELS[c] for c in item.causes)}"

    stays: list[tuple[date, date]] = []
    pairs: list[tuple[str, str, str]] = []
    if isinstance(raw.get("stays"), list):
        for i, pair in enumerate(raw["stays"][:MAX_STAYS + 1], start=1):
            a, d = [*pair, None, None][:2] if isinstance(pair, list) else (None, None)
            pairs.append((str(i), "" if a is None else str(a), "" if d is None else str(d)))
        if len(raw["stays"]) > MAX_STAYS:
            errors["stays"] = f"最多填写 {MAX_STAYS} 次住院"
    else:
        for i in range(1, MAX_STAYS + 1):
            pairs.append((str(i), _text(raw, f"admitted_{i}"), _text(raw, f"discharged_{i}")))
    for i, a_text, d_text in pairs[:MAX_STAYS]:
        if not a_text and not d_text:
            continue
        local = {f"admitted_{i}": a_text, f"discharged_{i}": d_text}
        a = _date(local, f"admitted_{i}", f"第 {i} 次住院的入院日期", errors, today, True)
        d = _date(local, f"discharged_{i}", f"第 {i} 次住院的出院日期", errors, today, True)
        if a and d:
            if d < a:
                errors[f"discharged_{i}"] = f"第 {i} 次住院的出院日期早于入院日期"
            else:
                stays.append((a, d))
    stays.sort()
    for (_, d1), (a2, _) in pairwise(stays):
        if a2 < d1:
            errors["stays"] = "住院时间段有重叠"

    total = _amount(raw, "total_amount", "医疗费总额", errors)
    oop = _amount(raw, "out_of_pocket", "个人自付金额", errors)
    reimbursed = _amount(raw, "already_reimbursed", "已获其他报销", errors) or ZERO
    if total is not None and oop is not None and oop > total:
        errors["out_of_pocket"] = "个人自付金额不能大于医疗费总额"

    diagnoses: list[str] = []
    for code in re.split(r"[\s,，;；、]+", _text(raw, "diagnoses").upper()):
        if not code:
            continue
        if not ICD10.match(code):
            errors["diagnoses"] = f"诊断编码 {code[:12]} 不是 ICD-10 编码（如 C50.9）"
            break
        if code not in diagnoses:
            diagnoses.append(code)
    if isinstance(raw.get("diagnoses"), list):
        errors.pop("diagnoses", None)
        diagnoses = []
        for code in raw["diagnoses"]:
            code = str(code).strip().upper()
            if not ICD10.match(code):
                errors["diagnoses"] = f"诊断编码 {code[:12]} 不是 ICD-10 编码（如 C50.9）"
                break
            diagnoses.append(code)

    grade: int | None = None
    grade_text = _text(raw, "disability_grade")
    if grade_text:
        value = _integer(grade_text)
        if value is not None and 1 <= value <= 10:
            grade = value
        else:
            errors["disability_grade"] = "伤残等级应为 1 到 10 级"
    child_name = _text(raw, "child_name") or None
    child_birth = _date(raw, "child_birth_date", "子女出生日期", errors, today)

    limits = {"hospital": ("医院名称", 200), "diagnosis_text": ("诊断", 200),
              "description": ("情况说明", 2000), "child_name": ("子女姓名", 100)}
    for key, (label, limit) in limits.items():
        if len(_text(raw, key)) > limit:
            errors[key] = f"{label}最多 {limit} 个字"

    if item is not None:
        if item.kind is BenefitKind.REIMBURSE and oop is None and "out_of_pocket" not in errors:
            errors["out_of_pocket"] = f"请填写{item.basis_label}金额"
        if item.kind is BenefitKind.DAILY and not stays and not any(
                k.startswith(("admitted_", "discharged_")) for k in errors):
            errors["admitted_1"] = "请填写住院的入院和出院日期"
        if item.kind is BenefitKind.DISABILITY and grade is None \
                and "disability_grade" not in errors:
            errors["disability_grade"] = "请填写伤残等级"
        if rules is not None and rules.catalogue is not None and not diagnoses \
                and "diagnoses" not in errors:
            errors["diagnoses"] = "请填写诊断编码（ICD-10）"
    if program == "ZNYW":
        if not child_name:
            errors["child_name"] = "请填写子女姓名"
        if child_birth is None and "child_birth_date" not in errors:
            errors["child_birth_date"] = "请填写子女出生日期"
    if event_date is not None and stays and stays[0][0] < event_date \
            and "event_date" not in errors:
        errors["event_date"] = "出险日期应不晚于第一次入院日期"

    if errors:
        raise ClaimError(errors)
    assert plan is not None and rules is not None and item is not None and event_date
    return ClaimData(
        plan=plan, rules=rules, program=program, benefit=item.code, cause=cause,
        event_date=event_date, stays=stays, hospital=_text(raw, "hospital") or None,
        total_amount=total, out_of_pocket=oop, already_reimbursed=reimbursed,
        diagnoses=diagnoses, diagnosis_text=_text(raw, "diagnosis_text") or None,
        disability_grade=grade, child_name=child_name, child_birth_date=child_birth,
        description=_text(raw, "description") or None)


def submit(session: Session, member: Member, data: ClaimData, *, actor: Any,
           source: str = ClaimSource.MEMBER, today: date | None = None) -> MutualaidClaim:
    """Create and evaluate a claim for ``member``. Raises :class:`ClaimError` when a voluntary
    program's member has no cover in the plan year (nothing is stored)."""
    today = today or date.today()
    cov = coverage_row(session, member.id, data.plan)
    if cov is None and not plans.is_dues_funded(data.plan):
        raise ClaimError({"program": f"{member.name}未参加{data.plan.plan_year}年度"
                                     f"{PROGRAM_NAMES[data.program]}"})
    claim = MutualaidClaim(
        number=_placeholder(), member_id=member.id, org_path=member.org.path,
        plan_id=data.plan.id, program=data.program, plan_year=data.plan.plan_year,
        coverage_id=cov.id if cov else None, benefit=data.benefit, cause=data.cause,
        event_date=data.event_date, event_end=data.stays[-1][1] if data.stays else None,
        stays=[[a.isoformat(), d.isoformat()] for a, d in data.stays],
        hospital=data.hospital, total_amount=data.total_amount,
        out_of_pocket=data.out_of_pocket, already_reimbursed=data.already_reimbursed,
        diagnoses=data.diagnoses, diagnosis_text=data.diagnosis_text,
        disability_grade=data.disability_grade, child_name=data.child_name,
        child_birth_date=data.child_birth_date, description=data.description, source=source,
        status=ClaimStatus.SUBMITTED, submitted_on=today, decision={},
        submitted_by=getattr(actor, "id", None))
    session.add(claim)
    assign_number(session, claim, today)
    history(session, claim, "submitted", actor)
    refresh_complete(session, claim, actor, today)
    decide.evaluate(session, claim)
    session.flush()
    return claim


def add_file(session: Session, claim: MutualaidClaim, kind: str, filename: str, data: bytes,
             *, actor: Any, today: date | None = None) -> Any:
    """Store one material; the clock starts when the checklist becomes complete."""
    if claim.status not in (ClaimStatus.SUBMITTED, ClaimStatus.RETURNED):
        raise materials.MaterialError("该理赔已审核完毕，不能再上传材料")
    row = materials.store(session, claim, kind, filename, data, actor=actor)
    history(session, claim, "file_added", actor, materials.label(claim.program, kind))
    refresh_complete(session, claim, actor, today)
    return row


# -- review ------------------------------------------------------------------------------------


def _transition(session: Session, claim: MutualaidClaim, allowed: tuple[str, ...],
                **values: Any) -> None:
    result = session.execute(
        update(MutualaidClaim)
        .where(MutualaidClaim.id == claim.id, MutualaidClaim.status.in_(allowed))
        .values(**values, updated_at=utcnow()).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise decide.ClaimConflict("该理赔已被他人处理，请刷新后查看")
    session.refresh(claim)


def _notify(session: Session, claim: MutualaidClaim, action: str, reason: str) -> None:
    kind = {"approved": "mutualaid.claim_approved", "returned": "mutualaid.claim_returned",
            "rejected": "mutualaid.claim_rejected"}[action]
    count = _history_count(session, claim)
    notify.send(session, kind, [claim.member_id], {
        "claim_id": claim.id, "number": claim.number,
        "program": PROGRAM_NAMES.get(claim.program, claim.program),
        "amount": str(claim.amount if claim.amount is not None else ZERO),
        "status": STATUS_LABELS.get(claim.status, claim.status), "reason": reason,
    }, batch_key=f"claim-{claim.id}-{action}-{count}")


def approve(session: Session, claim: MutualaidClaim, actor: Any, note: str | None = None
            ) -> str:
    """Approve (decide.approve books the ledger and queues the payout). A decided amount of 0
    rejects with the engine's reason. Returns the resulting status."""
    decision = decide.approve(session, claim, actor, note=note or None)
    if claim.status == ClaimStatus.APPROVED:
        history(session, claim, "approved", actor,
                f"核定金额 {claim.amount} 元" + (f"；{note}" if note else ""))
        _notify(session, claim, "approved", note or "")
    else:
        reason = decision.explanation[-1] if decision.explanation else "不予赔付"
        history(session, claim, "rejected", actor, reason)
        _notify(session, claim, "rejected", reason)
    return claim.status


def return_for_materials(session: Session, claim: MutualaidClaim, actor: Any, note: str
                         ) -> None:
    note = note.strip()
    if not note:
        raise ClaimError({"note": "请写明需要补充的材料"})
    _transition(session, claim, (ClaimStatus.SUBMITTED,), status=ClaimStatus.RETURNED,
                review_note=note[:1000], reviewed_by=getattr(actor, "id", None))
    history(session, claim, "returned", actor, note[:1000])
    audit.record("mutualaid.claim.return", target_type="mutualaid_claim",
                 target_id=claim.number, org_path=claim.org_path, actor=actor,
                 session=session, details={"note": note[:200]})
    _notify(session, claim, "returned", note)


def reject(session: Session, claim: MutualaidClaim, actor: Any, code: str, note: str) -> None:
    note = note.strip()
    errors: dict[str, str] = {}
    if code not in REJECT_REASONS:
        errors["reason"] = "请选择不予赔付的原因"
    if code == "other" and not note:
        errors["note"] = "原因为“其他”时请填写说明"
    if errors:
        raise ClaimError(errors)
    _transition(session, claim, (ClaimStatus.SUBMITTED,), status=ClaimStatus.REJECTED,
                reason_code=code, review_note=note[:1000] or None, amount=ZERO,
                reviewed_by=getattr(actor, "id", None), decided_at=utcnow())
    reason = REJECT_REASONS[code] + (f"：{note}" if note else "")
    history(session, claim, "rejected", actor, reason[:1000])
    audit.record("mutualaid.claim.reject", target_type="mutualaid_claim",
                 target_id=claim.number, org_path=claim.org_path, actor=actor,
                 session=session, details={"reason": code})
    _notify(session, claim, "rejected", reason)


def resubmit(session: Session, claim: MutualaidClaim, actor: Any, today: date | None = None
             ) -> None:
    """Returned → submitted: the clock restarts when the materials are complete again."""
    today = today or date.today()
    _transition(session, claim, (ClaimStatus.RETURNED,), status=ClaimStatus.SUBMITTED,
                complete_on=None, due_on=None)
    history(session, claim, "resubmitted", actor)
    refresh_complete(session, claim, actor, today)
    decide.evaluate(session, claim)
    session.flush()


def reason_text(claim: MutualaidClaim) -> str | None:
    """The rejection reason for display (reviewer code or the engine's reason)."""
    if claim.status != ClaimStatus.REJECTED:
        return None
    from ..adjudication import REASON_LABELS, Reason

    code = claim.reason_code or ""
    if code in REJECT_REASONS:
        return REJECT_REASONS[code] + (f"：{claim.review_note}" if claim.review_note else "")
    try:
        return REASON_LABELS[Reason(code)]
    except ValueError:
        return code or None


# -- visibility --------------------------------------------------------------------------------


def visible_clause(account: Any) -> Any:
    """SQL: claims ``account`` may see — their own, or in scope of claims.view / review."""
    from unionhub.access.service import scope_filter

    clauses = [scope_filter(account, "mutualaid.claims.view", MutualaidClaim.org_path),
               scope_filter(account, "mutualaid.claims.review", MutualaidClaim.org_path)]
    member = getattr(account, "member", None)
    if member is not None:
        clauses.append(MutualaidClaim.member_id == member.id)
    return or_(*clauses)


def visible_claim(session: Session, account: Any, claim_id: int) -> MutualaidClaim | None:
    return session.scalar(select(MutualaidClaim).where(MutualaidClaim.id == claim_id,
                                                       visible_clause(account)))


def may_see_diagnoses(session: Session, account: Any, claim: MutualaidClaim) -> bool:
    """Diagnoses are health data: only the member themself and those who adjudicate the claim
    (``mutualaid.claims.review`` over its org) see them — not clerks or district/city officers
    who merely hold ``claims.view``."""
    from sqlalchemy import literal

    from unionhub.access.service import scope_filter

    member = getattr(account, "member", None)
    if member is not None and member.id == claim.member_id:
        return True
    if account is None or not getattr(account, "is_authenticated", True):
        return False
    return bool(session.scalar(select(scope_filter(
        account, "mutualaid.claims.review", literal(claim.org_path)))))


def redact_diagnoses(text: str | None, claim: MutualaidClaim) -> str | None:
    """``text`` (an explanation line or a history note) with any diagnosis removed: the
    engine's lines about the diagnosis or the disease catalogue become :data:`HIDDEN`."""
    if not text:
        return text
    secrets = [c for c in (claim.diagnoses or []) if c]
    if claim.diagnosis_text:
        secrets.append(claim.diagnosis_text)
    if text.startswith("诊断") or "病种目录" in text or "此前已给付" in text \
            or any(s in text for s in secrets) or re.search(r"\b[A-Z][0-9]{2}\.[0-9A-Z]", text):
        return f"诊断{HIDDEN}"
    return text
