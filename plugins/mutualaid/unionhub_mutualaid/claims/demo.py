"""Demo claims: a handful per demo run, in different states, for members with coverage."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub.identity.models import Member

from ..models import MutualaidCoverage
from . import service

#: raw claim fields per program (event date and stays are filled in per coverage)
_TEMPLATES: dict[str, dict[str, Any]] = {
    "ZYYL": {"cause": "illness", "hospital": "北京朝阳医院", "total_amount": "18600.00",
             "out_of_pocket": "7420.50", "diagnoses": "K35.8", "diagnosis_text": "急性阑尾炎",
             "stay_days": 7},
    "ZYJT": {"cause": "illness", "hospital": "北京大学人民医院", "diagnoses": "J18.9",
             "diagnosis_text": "肺炎", "stay_days": 9},
    "ZDJB": {"cause": "illness", "hospital": "中国医学科学院肿瘤医院", "diagnoses": "C50.9",
             "diagnosis_text": "乳腺恶性肿瘤"},
    "NGTJ": {"cause": "illness", "hospital": "北京妇产医院", "diagnoses": "D06.9",
             "diagnosis_text": "宫颈原位癌"},
    "YWSH": {"cause": "accident", "benefit": "allowance", "hospital": "北京积水潭医院",
             "diagnoses": "S82.2", "diagnosis_text": "胫骨骨折", "stay_days": 12},
    "ZNYW": {"cause": "accident", "benefit": "medical", "hospital": "首都儿科研究所附属儿童医院",
             "total_amount": "3200.00", "out_of_pocket": "1500.00", "child_name": "小明",
             "child_birth_date": "2016-06-01", "diagnoses": "S52.5", "diagnosis_text": "桡骨骨折"},
}


def _raw(program: str, cov: MutualaidCoverage, today: date) -> dict[str, Any] | None:
    template = dict(_TEMPLATES.get(program) or {})
    if not template:
        return None
    days = int(template.pop("stay_days", 0))
    start = max(cov.waiting_until or cov.start, cov.start) + timedelta(days=10)
    event = min(start, cov.end, today - timedelta(days=days + 3))
    if event < cov.start:
        return None
    template["program"] = program
    template["event_date"] = event.isoformat()
    if days:
        template["admitted_1"] = event.isoformat()
        template["discharged_1"] = (event + timedelta(days=days)).isoformat()
    return template


def seed(session: Session, ctx: Any, limit: int = 8) -> None:
    today = date.today()
    rows = list(session.scalars(select(MutualaidCoverage)
                                .where(MutualaidCoverage.status == "active",
                                       MutualaidCoverage.program.in_(tuple(_TEMPLATES)))
                                .order_by(MutualaidCoverage.plan_year.desc(),
                                          MutualaidCoverage.id).limit(limit * 4)))
    made: list[Any] = []
    seen: set[tuple[int, str]] = set()
    for cov in rows:
        if len(made) >= limit or (cov.member_id, cov.program) in seen:
            continue
        raw = _raw(cov.program, cov, today)
        if raw is None:
            continue
        member = session.get(Member, cov.member_id)
        if member is None:
            continue
        try:
            data = service.parse_claim(session, raw, today)
            claim = service.submit(session, member, data, actor=None, today=today)
        except service.ClaimError:
            continue
        service.set_complete(claim, claim.submitted_on)
        seen.add((cov.member_id, cov.program))
        made.append(claim)
    reviewer = (getattr(ctx, "officers", None) or {}).get("admin")
    for i, claim in enumerate(made):
        if i % 4 == 0:
            service.approve(session, claim, reviewer, "演示：材料齐全，按规则核定")
        elif i % 4 == 1:
            service.return_for_materials(session, claim, reviewer, "请补充费用明细或发票原件照片")
        elif i % 4 == 2 and len(made) > 3:
            service.reject(session, claim, reviewer, "duplicate", "与此前申请重复")
    session.flush()
    if hasattr(ctx, "lines"):
        ctx.lines.append(f"互助保障理赔演示数据：{len(made)} 笔")
