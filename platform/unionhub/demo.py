"""``unionhub demo``: a believable union system, so every page has something real on it."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub.groups.service import seed_demo_groups
from unionhub.identity import service as identity
from unionhub.identity.admin import create_officer
from unionhub.identity.models import Account, MemberStatus
from unionhub.identity.numbers import DEFAULT_JINGKA_BINS, make_card_number, make_id_number
from unionhub.orgs.models import Org, OrgLevel
from unionhub.orgs.service import create_org
from unionhub.security.passwords import hash_password

DEMO_PASSWORD = "Union12351"

# code, name, level, parent code, agent office
ORGS: list[tuple[str, str, OrgLevel, str | None, bool]] = [
    ("110000", "北京市总工会", OrgLevel.CITY, None, False),
    ("110101", "东城区总工会", OrgLevel.DISTRICT, "110000", False),
    ("110102", "西城区总工会", OrgLevel.DISTRICT, "110000", False),
    ("110105", "朝阳区总工会", OrgLevel.DISTRICT, "110000", False),
    ("110108", "海淀区总工会", OrgLevel.DISTRICT, "110000", False),
    ("110115", "大兴区总工会", OrgLevel.DISTRICT, "110000", False),
    ("119001", "北京市交通运输工会", OrgLevel.INDUSTRY, "110000", False),
    ("119002", "北京市教育工会", OrgLevel.INDUSTRY, "110000", False),
    ("119003", "北京市卫生健康工会", OrgLevel.INDUSTRY, "110000", False),
    ("1190010001", "北京公共交通控股（集团）有限公司工会", OrgLevel.GRASSROOTS, "119001", True),
    ("1190010002", "北京市地铁运营有限公司工会", OrgLevel.GRASSROOTS, "119001", True),
    ("1190020001", "北京市第八十中学工会", OrgLevel.GRASSROOTS, "119002", False),
    ("1190030001", "首都医科大学附属北京朝阳医院工会", OrgLevel.GRASSROOTS, "119003", True),
    ("1101050001", "北京电子控股有限责任公司工会", OrgLevel.GRASSROOTS, "110105", True),
    ("1101050002", "朝阳区望京街道总工会", OrgLevel.GRASSROOTS, "110105", False),
    ("1101080001", "中关村软件园工会联合会", OrgLevel.GRASSROOTS, "110108", True),
    ("1101010001", "王府井百货集团工会", OrgLevel.GRASSROOTS, "110101", False),
    ("1101020001", "西城区金融街服务中心工会", OrgLevel.GRASSROOTS, "110102", False),
    ("1101150001", "大兴国际机场服务公司工会", OrgLevel.GRASSROOTS, "110115", True),
    ("11900100010001", "公交第一客运分公司分会", OrgLevel.BRANCH, "1190010001", False),
    ("11900100010002", "公交保修分公司分会", OrgLevel.BRANCH, "1190010001", False),
    ("11010500010001", "京东方科技集团分会", OrgLevel.BRANCH, "1101050001", False),
]

# Officers: username, name, role, org code
OFFICERS = [
    ("admin", "平台管理员", "admin", "110000"),
    ("city", "市总工会干部 王敏", "city_officer", "110000"),
    ("chaoyang", "朝阳区总工会干部 李强", "district_officer", "110105"),
    ("haidian", "海淀区总工会干部 赵丽", "district_officer", "110108"),
    ("jiaotong", "交通运输工会干部 陈刚", "district_officer", "119001"),
    ("bus", "公交集团工会干部 刘洋", "grassroots_officer", "1190010001"),
    ("bus_clerk", "公交集团代办员 孙悦", "agent_clerk", "1190010001"),
    ("behl", "北京电控工会干部 周静", "grassroots_officer", "1101050001"),
]

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强海燕玉兰红梅德明春梅"
REGIONS = ["110101", "110102", "110105", "110106", "110108", "110115", "110112", "130102"]


@dataclass
class DemoContext:
    """What the core seeded; plugin seeders build on it."""

    rng: random.Random
    orgs: dict[str, Org]
    member_ids: list[int]
    officers: dict[str, Account]
    lines: list[str] = field(default_factory=list)


def _name(rng: random.Random) -> str:
    n = rng.choice([1, 2, 2])
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(n))


def seed_demo(session: Session, *, members: int = 2000, seed: int = 12351,
              if_empty: bool = False, echo: Callable[[str], None] = print) -> list[str]:
    if session.scalar(select(Org.id).limit(1)) is not None:
        if if_empty:
            return ["已有数据，跳过演示数据 (data present; demo skipped)"]
        raise ValueError("数据库中已有工会组织，演示数据只能导入到空库")
    rng = random.Random(seed)
    orgs: dict[str, Org] = {}
    for code, name, level, parent, agent in ORGS:
        orgs[code] = create_org(session, code=code, name=name, level=level,
                                parent=orgs.get(parent or ""), agent_office=agent,
                                contact=_name(rng), phone=f"010-{rng.randint(60000000, 89999999)}")
    echo(f"组织: {len(orgs)}")

    leaf_orgs = [o for o in orgs.values() if o.level in (OrgLevel.GRASSROOTS, OrgLevel.BRANCH)]
    weights = [6 if "公交" in o.name else 3 if o.agent_office else 1 for o in leaf_orgs]
    used_ids: set[str] = set()
    card_seq = rng.randint(10_000_000, 20_000_000)
    showcase: list[tuple[str, str, str, str]] = []
    member_ids: list[int] = []
    pw_hash = hash_password(DEMO_PASSWORD)
    today = date.today()
    for i in range(members):
        while True:
            birth = date(1965, 1, 1) + timedelta(days=rng.randint(0, 38 * 365))
            idn = make_id_number(rng.choice(REGIONS), birth, rng.randint(0, 999))
            if idn not in used_ids:
                used_ids.add(idn)
                break
        card_seq += rng.randint(1, 50)
        card = make_card_number(rng.choice(DEFAULT_JINGKA_BINS), card_seq)
        org = rng.choices(leaf_orgs, weights)[0]
        status = rng.choices([MemberStatus.ACTIVE, MemberStatus.TRANSFERRED, MemberStatus.LEFT],
                             [96, 2, 2])[0]
        m = identity.create_member(
            session, name=_name(rng), id_number=idn, org=org,
            mobile=f"1{rng.choice('3589')}{rng.randint(0, 9)}{i:08d}",
            joined_on=birth + timedelta(days=365 * rng.randint(19, 30)), status=status,
            card_number=card,
        )
        if status != MemberStatus.ACTIVE:
            m.left_on = today - timedelta(days=rng.randint(10, 700))
        member_ids.append(m.id)
        if rng.random() < 0.03 and status == MemberStatus.ACTIVE:
            card_seq += 7
            old = m.cards[0]
            identity.report_lost(session, old)
            new_no = make_card_number(rng.choice(DEFAULT_JINGKA_BINS), card_seq)
            identity.replace_card(session, old, new_no)
            card = new_no
        if len(showcase) < 3 and status == MemberStatus.ACTIVE and "公交" in org.name:
            acc = session.scalar(select(Account).where(Account.member_id == m.id))
            assert acc is not None
            acc.password_hash = pw_hash
            showcase.append((m.name, card, idn, m.mobile or ""))
        if i % 500 == 499:
            session.flush()
            echo(f"会员: {i + 1}/{members}")

    officers: dict[str, Account] = {}
    for username, name, role, code in OFFICERS:
        officers[username] = create_officer(session, username, name, DEMO_PASSWORD, role,
                                            orgs[code])
    seed_demo_groups(session, member_ids, echo=echo)
    session.commit()

    ctx = DemoContext(rng=rng, orgs=orgs, member_ids=member_ids, officers=officers)
    for plugin, seeder in current_app.extensions["unionhub"].registries.seeders:
        echo(f"插件演示数据: {plugin}.{seeder.key}")
        seeder.seed(session, ctx)
        session.commit()

    from unionhub.search.service import rebuild

    echo("建立搜索索引…")  # queued updates left over are re-applied harmlessly later
    rebuild(current_app._get_current_object())  # type: ignore[attr-defined]

    lines = [
        "",
        f"演示数据已就绪：{len(orgs)} 个工会组织，{members} 名会员。",
        f"所有演示账号的密码: {DEMO_PASSWORD}",
        "会员（京卡卡号 / 手机号 / 身份证号 任选其一登录）:",
    ]
    lines += [f"  {n}  京卡 {c}  手机 {mob}  身份证 {i}" for n, c, i, mob in showcase]
    lines.append("工会干部与管理员（用户名登录）:")
    lines += [f"  {u:10} {name}" for u, name, _r, _c in OFFICERS]
    lines += ctx.lines
    return lines
