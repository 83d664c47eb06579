"""Demo data: 30 discount channels owned by the demo's city, district, industry and grassroots
unions, each bundling several of the catalogue demo's approved offers (matched by category),
with quotas and audiences (org subtrees; member groups when the demo has any, found by name).

Channels are created through :func:`.service.create` as the owning union's demo officer (the
city officer for unions without one), so scope checks and audit entries apply as in real use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub.groups.models import MemberGroup

from ..models import BenefitsMallChannel, BenefitsMallChannelOffer, BenefitsMallOffer, OfferStatus
from . import service

#: Demo officer (platform/unionhub/demo.py OFFICERS) for each owning org code.
OFFICER_OF = {"110105": "chaoyang", "110108": "haidian", "119001": "jiaotong",
              "1190010001": "bus", "1101050001": "behl"}
CITY = "110000"


@dataclass(frozen=True)
class DemoChannel:
    name: str
    owner: str  # org code
    description: str
    categories: tuple[str, ...]
    orgs: tuple[str, ...] = ()  # audience org codes
    groups: tuple[str, ...] = ()  # words looked up in member group names
    total: int | None = 2000
    per_member: int | None = 1
    period: str = "month"
    start: int = -15  # days from today
    end: int = 75
    jingka: bool = True
    active: bool = True


CHANNELS: tuple[DemoChannel, ...] = (
    DemoChannel("五一职工福利季", CITY, "劳动节期间全市职工专享：餐饮、购物、休闲、出行多重优惠。",
                ("dining", "shopping", "leisure", "travel"), total=5000, per_member=2),
    DemoChannel("女职工关爱专区", CITY, "面向女职工的健康体检、母婴托育与健身优惠。",
                ("medical", "childcare", "fitness"), groups=("女职工",), total=3000),
    DemoChannel("劳模疗休养", CITY, "劳动模范、先进工作者疗休养专享线路与健康服务。",
                ("travel", "lodging", "medical"), groups=("劳动模范", "劳模"), total=500,
                period="year", end=180),
    DemoChannel("新就业形态劳动者专享", CITY,
                "快递员、外卖送餐员、网约车司机等新就业形态劳动者专享优惠。",
                ("dining", "auto", "finance", "housekeeping"), groups=("新就业形态",),
                total=4000, per_member=2, jingka=False),
    DemoChannel("朝阳区职工普惠通道", "110105", "朝阳区总工会为辖区职工提供的常年普惠优惠。",
                ("dining", "shopping", "fitness", "medical"), orgs=("110105",), total=3000,
                per_member=2, start=-60, end=300),
    DemoChannel("朝阳区望京街道暖心驿站", "110105", "望京街道职工暖心驿站合作商户优惠。",
                ("dining", "housekeeping", "home_repair"), orgs=("1101050002",), total=600),
    DemoChannel("朝阳区劳模工匠专享", "110105", "朝阳区劳动模范、工匠人才专享健康与疗休养服务。",
                ("medical", "travel", "lodging"), orgs=("110105",), groups=("劳动模范", "劳模"),
                total=200, period="year", end=200),
    DemoChannel("海淀区科技职工健康季", "110108", "关爱科技园区职工健康：体检、理疗、健身。",
                ("medical", "fitness"), orgs=("110108",), total=2500),
    DemoChannel("海淀区中关村职工文体月", "110108",
                "中关村软件园职工文体活动月：观演、健身、休闲。",
                ("ticketing", "leisure", "fitness"), orgs=("1101080001",), total=800,
                per_member=2),
    DemoChannel("海淀区女职工健康体检", "110108", "海淀区女职工专项健康体检优惠。",
                ("medical",), orgs=("110108",), groups=("女职工",), total=1000, period="year"),
    DemoChannel("东城区王府井职工购物节", "110101", "王府井商圈合作商户职工购物优惠。",
                ("shopping", "dining"), orgs=("110101",), total=1500, per_member=3),
    DemoChannel("西城区金融街职工午餐优惠", "110102", "金融街周边餐饮合作商户工作日午餐优惠。",
                ("dining",), orgs=("110102",), total=3000, per_member=5),
    DemoChannel("大兴区机场职工出行关爱", "110115", "大兴国际机场及周边职工出行、用车服务优惠。",
                ("auto", "travel"), orgs=("110115",), total=1200),
    DemoChannel("交通运输职工健康守护", "119001", "交通运输行业一线职工健康体检与理疗。",
                ("medical", "fitness"), orgs=("119001",), total=2000),
    DemoChannel("公交驾驶员暖心专享", "1190010001", "公交集团驾驶员、乘务员暖心餐饮与健康服务。",
                ("dining", "medical", "fitness"), orgs=("1190010001",), total=1500,
                per_member=2),
    DemoChannel("教育系统教师节专享", "119002", "教师节期间教育系统职工专享培训、观演与出行优惠。",
                ("education", "ticketing", "travel"), orgs=("119002",), total=800,
                start=-5, end=40),
    DemoChannel("医务职工减压放松计划", "119003", "卫生健康系统医务职工休闲减压专享。",
                ("leisure", "fitness", "lodging"), orgs=("119003",), total=1000),
    DemoChannel("北京电控职工家庭日", "1101050001", "北京电控职工家庭亲子休闲与托育优惠。",
                ("childcare", "leisure", "dining"), orgs=("1101050001",), total=600),
    DemoChannel("困难职工帮扶专区", CITY, "在档困难职工家政、维修与医疗帮扶优惠。",
                ("housekeeping", "home_repair", "medical"), groups=("困难职工", "困难"),
                total=1000, per_member=2, end=300),
    DemoChannel("职工婚恋交友季", CITY, "单身职工联谊、婚庆服务与观演优惠。",
                ("wedding", "dining", "ticketing"), groups=("青年职工",), total=1000),
    DemoChannel("金秋助学通道", CITY, "职工子女教育培训与托育优惠。",
                ("education", "childcare"), total=2000, start=-3, end=60),
    DemoChannel("冬季送温暖", CITY, "入冬前家电燃气检修、家政与养老照护优惠（即将开放）。",
                ("home_repair", "housekeeping", "elderly"), total=3000, start=20, end=110),
    DemoChannel("春节职工年货节", CITY, "春节年货采购与团圆宴优惠（已结束）。",
                ("shopping", "dining"), total=5000, per_member=3, start=-120, end=-60),
    DemoChannel("职工健步走健身季", CITY, "全市职工健步走活动配套健身优惠。",
                ("fitness",), total=None, per_member=2),
    DemoChannel("京郊职工疗休养", CITY, "京郊疗休养基地住宿与线路优惠。",
                ("travel", "lodging"), total=1500, period="year", end=240),
    DemoChannel("一线职工夏送清凉", CITY, "高温季节一线职工清凉餐饮与日用品优惠。",
                ("dining", "shopping"), total=6000, per_member=2, period="day", start=-1,
                end=45),
    DemoChannel("职工子女暑期托管", CITY, "暑期职工子女托管与兴趣培训优惠。",
                ("childcare", "education"), total=800, period="all", end=50),
    DemoChannel("养老照护关爱行动", CITY, "职工家庭养老照护与健康服务优惠。",
                ("elderly", "medical", "housekeeping"), total=None, per_member=None,
                end=365),
    DemoChannel("职工汽车服务节", CITY, "保养、洗车、车险等汽车服务优惠。",
                ("auto", "finance"), total=1500, jingka=False),
    DemoChannel("职工观影观演季", CITY, "电影、话剧、音乐会职工专享票价（筹备中，暂未启用）。",
                ("ticketing", "leisure"), total=2000, per_member=2, active=False),
)


def _groups(session: Session, words: tuple[str, ...]) -> list[int]:
    """Ids of member groups whose name contains one of ``words`` (none when the demo has no
    such group: the channel is then open to its org audience or everyone)."""
    found: list[int] = []
    for word in words:
        for gid in session.scalars(select(MemberGroup.id).where(MemberGroup.name.contains(word))):
            if gid not in found:
                found.append(gid)
    return found


def seed(session: Session, ctx: Any) -> None:
    orgs = ctx.orgs
    city = orgs.get(CITY)
    if city is None:
        return
    on = service.today()
    offers = list(session.execute(
        select(BenefitsMallOffer.id, BenefitsMallOffer.category_code)
        .where(BenefitsMallOffer.status == OfferStatus.APPROVED,
               BenefitsMallOffer.valid_until >= on)
        .order_by(BenefitsMallOffer.id)).all())
    by_category: dict[str, list[int]] = {}
    for offer_id, category in offers:
        by_category.setdefault(category, []).append(offer_id)
    all_ids = [offer_id for offer_id, _c in offers]
    rng = ctx.rng
    made = bundled = targeted = 0
    for spec in CHANNELS:
        code = spec.owner if spec.owner in orgs else CITY
        owner = orgs[code]
        officer = (ctx.officers.get(OFFICER_OF.get(code, ""))
                   or ctx.officers.get("city") or ctx.officers.get("admin"))
        if officer is None:
            return
        group_ids = _groups(session, spec.groups)
        data = service.ChannelData(
            name=spec.name, org_id=owner.id, description=spec.description,
            valid_from=on + timedelta(days=spec.start), valid_until=on + timedelta(days=spec.end),
            total_quota=spec.total, per_member_quota=spec.per_member,
            per_member_period=spec.period, requires_active_member=True,
            requires_jingka=spec.jingka, active=spec.active,
            org_ids=[orgs[c].id for c in spec.orgs if c in orgs], group_ids=group_ids)
        channel: BenefitsMallChannel = service.create(session, officer, data)
        made += 1
        targeted += bool(group_ids)
        preferred = [i for c in spec.categories for i in by_category.get(c, [])]
        others = [i for i in all_ids if i not in preferred]
        rng.shuffle(preferred)
        rng.shuffle(others)
        wanted = rng.randint(3, 6)
        chosen = (preferred + others)[:wanted]
        session.add_all(BenefitsMallChannelOffer(channel_id=channel.id, offer_id=i)
                        for i in chosen)
        bundled += len(chosen)
    session.flush()
    ctx.lines.append(f"福利商城优惠通道: {made} 个，共打包 {bundled} 项优惠"
                     f"（{targeted} 个面向会员群体）；工会干部在「工会后台 › 优惠通道」管理")
