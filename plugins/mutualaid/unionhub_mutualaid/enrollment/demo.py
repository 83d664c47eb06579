"""Demo seeding: agent offices enroll most of their members in the voluntary programs for
last year and this year; most fee statements are paid (so most cover is active).

Units enroll in November and pay in December before each plan year, so the cover they pay for
starts on the plan's unified start date (1 January): cover never starts before enrollment or
payment (see :func:`.service.cover_start`)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub.identity.models import Member, MemberStatus
from unionhub.orgs.models import Org

from .. import plans
from ..models import FeeStatus, MutualaidFeeStatement
from . import service

#: program → (shares, tier); NGTJ is for women only (men are filtered before enrolling)
DEMO_PROGRAMS: dict[str, tuple[int, str | None]] = {
    "ZYYL": (1, None), "ZYJT": (1, None), "ZDJB": (2, None), "NGTJ": (1, None),
    "YWSH": (1, "50"),
}


def seed(session: Session, ctx: Any) -> None:
    rng = ctx.rng
    year = date.today().year
    units = [o for o in ctx.orgs.values() if o.agent_office]
    enrolled = 0
    for unit in units:
        members = list(session.scalars(
            select(Member).join(Org, Org.id == Member.org_id)
            .where(Org.path.like(unit.path + "%"), Member.status == MemberStatus.ACTIVE)
            .order_by(Member.id)))
        rng.shuffle(members)
        chosen = [m for i, m in enumerate(members) if i % 12 != 11]  # ~92% join
        for plan_year in (year - 1, year):
            enrolled_on = min(date(plan_year - 1, 11, 15), date.today())
            for program, (shares, tier) in DEMO_PROGRAMS.items():
                plan = plans.current(session, program, plan_year)
                if plan is None:
                    continue
                pool = [m for m in chosen if program != "NGTJ" or m.sex == "F"]
                try:
                    result = service.enroll(session, unit, plan,
                                            [(m, shares, tier) for m in pool], None, "online",
                                            on=enrolled_on)
                except service.EnrollmentError:  # a small unit just below the ratio
                    pool = [m for m in members if program != "NGTJ" or m.sex == "F"]
                    try:
                        result = service.enroll(session, unit, plan,
                                                [(m, shares, tier) for m in pool], None,
                                                "online", on=enrolled_on)
                    except service.EnrollmentError:
                        continue
                enrolled += len(result.accepted)
    statements = list(session.scalars(select(MutualaidFeeStatement).where(
        MutualaidFeeStatement.status == FeeStatus.OPEN).order_by(MutualaidFeeStatement.id)))
    paid = 0
    for st in statements:
        if st.plan_year == year and rng.random() < 0.25:
            continue  # this year's bill still open at some units
        on = max(date(st.plan_year, 1, 1) - timedelta(days=rng.randint(5, 40)),
                 date(st.plan_year - 1, 12, 1))
        service.record_payment(session, st.id, service.outstanding(st), min(on, date.today()),
                               f"DEMO-{st.plan_year}-{st.id:05d}", None)
        paid += 1
    ctx.lines.append(f"互助保障参保：{enrolled} 人次，"
                     f"缴费通知单 {len(statements)} 张（已缴 {paid} 张）")
