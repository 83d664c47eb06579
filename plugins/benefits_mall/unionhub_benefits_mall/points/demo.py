"""Demo points: the city federation's rules, a mid-autumn grant to one district's members,
last year's spring-festival grant to the bus group (expired since) and birthday grants to a
few members — all through :mod:`.service`, so caps and expiry apply as in real use. The
coupons demo spends some of these points."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub.identity.models import Member, MemberStatus

from . import service

#: occasion → (per grant, per member and occasion a year, per member a year, valid months)
CITY_RULES: dict[str, tuple[int, int, int, int]] = {
    "spring_festival": (200, 200, 1000, 12),
    "dragon_boat": (100, 100, 1000, 6),
    "mid_autumn": (200, 200, 1000, 12),
    "national_day": (100, 100, 1000, 6),
    "womens_day": (100, 100, 1000, 6),
    "labour_day": (100, 100, 1000, 6),
    "birthday": (100, 100, 1000, 12),
    "other": (50, 100, 1000, 6),
}


def seed(session: Session, ctx: Any) -> None:
    city = ctx.orgs.get("110000")
    if city is None:
        return
    officer = ctx.officers.get("city")
    for occasion, (pg, pmo, pmy, months) in CITY_RULES.items():
        service.set_rule(session, city, occasion, pg, pmo, pmy, months, actor=officer)
    today = service.beijing_today()
    granted: list[str] = []
    chaoyang = ctx.orgs.get("110105")
    if chaoyang is not None:
        by = ctx.officers.get("chaoyang") or officer
        result = service.grant(
            session, org=chaoyang, member_ids=None, occasion="mid_autumn", points=200,
            year=today.year, account_id=by.id if by else None,
            batch_key=f"demo:mid_autumn:{today.year}", note="中秋节福利积分", today=today)
        granted.append(f"{chaoyang.name} 中秋 200 分 × {result.granted} 人")
    bus = ctx.orgs.get("1190010001")
    if bus is not None:
        last = date(today.year - 1, 1, 20)  # about last spring festival, valid 12 months
        if service.add_months(last, CITY_RULES["spring_festival"][3]) >= today:
            last = date(today.year - 2, 1, 20)
        by = ctx.officers.get("bus") or officer
        result = service.grant(
            session, org=bus, member_ids=None, occasion="spring_festival", points=100,
            year=last.year, account_id=by.id if by else None,
            batch_key=f"demo:spring_festival:{last.year}", note="春节福利积分", today=last)
        granted.append(f"{bus.name} {last.year}年春节 100 分 × {result.granted} 人（已过期）")
    expired = service.expire_due(session, today)
    ids = list(session.scalars(select(Member.id).where(
        Member.id.in_(ctx.member_ids), Member.status == MemberStatus.ACTIVE)
        .order_by(Member.id).limit(6)))
    if ids:
        result = service.grant(
            session, org=city, member_ids=ids, occasion="birthday", points=100,
            year=today.year, account_id=officer.id if officer else None,
            batch_key=f"demo:birthday:{today:%Y%m}", note="生日福利积分", today=today)
        granted.append(f"生日 100 分 × {result.granted} 人")
    ctx.lines.append("福利积分: " + "；".join(granted) + f"；过期处理 {expired} 笔")
