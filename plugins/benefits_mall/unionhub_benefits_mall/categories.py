"""The 16 service categories of the welfare mall (seeded by the base migration's data step and
by :func:`seed`; officers may rename them, codes are stable)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import BenefitsMallCategory

CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("medical", "医疗健康", "🏥"),
    ("travel", "旅游出行", "🧳"),
    ("leisure", "休闲娱乐", "🎭"),
    ("fitness", "运动健身", "🏋"),
    ("shopping", "购物百货", "🛍"),
    ("lodging", "酒店住宿", "🏨"),
    ("ticketing", "票务演出", "🎫"),
    ("wedding", "婚恋婚庆", "💍"),
    ("home_repair", "家电燃气维修", "🔧"),
    ("dining", "餐饮美食", "🍜"),
    ("education", "教育培训", "📚"),
    ("childcare", "母婴托育", "🍼"),
    ("elderly", "养老照护", "🧓"),
    ("housekeeping", "家政服务", "🧹"),
    ("auto", "汽车服务", "🚗"),
    ("finance", "金融保险", "🏦"),
)


def seed(session: Session) -> int:
    """Insert the categories that are missing; returns how many were added."""
    present = set(session.scalars(select(BenefitsMallCategory.code)))
    added = 0
    for sort, (code, name, icon) in enumerate(CATEGORIES):
        if code not in present:
            session.add(BenefitsMallCategory(code=code, name=name, icon=icon, sort=sort))
            added += 1
    session.flush()
    return added
