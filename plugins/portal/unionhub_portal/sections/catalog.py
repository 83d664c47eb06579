"""The sections (栏目) a union portal starts with: (code, name, kind, parent code, on home page,
description). The first migration inserts a copy of this list; admins then add, rename,
reorder and hide sections in the back office (``/portal/admin/sections``)."""

from __future__ import annotations

from ..models import SectionKind as K

SECTIONS: tuple[tuple[str, str, str, str | None, bool, str], ...] = (
    ("news", "工会动态", K.NEWS, None, True, "市总工会及各级工会的工作动态"),
    ("grassroots", "基层风采", K.NEWS, "news", True, "基层工会的活动与经验"),
    ("media", "媒体聚焦", K.NEWS, "news", False, "媒体对工会工作的报道"),
    ("notices", "通知公告", K.NOTICE, None, True, "各级工会发布的通知与公示"),
    ("documents", "文件法规", K.DOCUMENTS, None, True, "工会文件、法律法规与规章制度"),
    ("policy", "政策解读", K.NEWS, None, True, "与职工权益相关的政策解读"),
    ("hotline", "职工热线", K.QA, None, True, "12351 职工服务热线问答"),
    ("discounts", "京卡优惠", K.DISCOUNTS, None, True, "持京卡享受的会员专属优惠"),
    ("forum", "工会论坛", K.FORUM, None, False, "职工交流园地"),
    ("model_workers", "劳模风采", K.NEWS, None, True, "劳动模范与工匠人才的故事"),
    ("rights", "维权服务", K.NEWS, None, False, "劳动关系协调与职工维权"),
    ("legal_aid", "法律援助", K.NEWS, "rights", True, "工会法律援助与典型案例"),
    ("labour_protection", "劳动保护", K.NEWS, "rights", False, "安全生产与职业健康"),
    ("mutual_aid", "互助保障", K.NEWS, None, False, "职工互助保障计划的参保与理赔"),
    ("assistance", "困难帮扶", K.NEWS, None, False, "困难职工帮扶与送温暖"),
    ("employment", "就业服务", K.NEWS, None, False, "招聘信息与就业指导"),
    ("skills", "技能提升", K.NEWS, None, False, "职工技能培训与劳动竞赛"),
    ("culture", "文体活动", K.NEWS, None, True, "职工文化与体育活动"),
    ("women", "女职工工作", K.NEWS, None, False, "女职工权益保护与关爱"),
    ("democracy", "民主管理", K.DOCUMENTS, None, False, "职代会与厂务公开"),
    ("theory", "理论学习", K.NEWS, None, False, "工会理论与学习园地"),
    ("service_guide", "服务指南", K.DOCUMENTS, None, False, "办事流程与常用表格下载"),
    ("library", "数字图书馆", K.LINK, None, False, "职工数字阅读"),
)

#: Where the ``library`` link section goes.
LINKS = {"library": "/library/"}
