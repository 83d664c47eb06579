"""Two published demo exhibitions (北京工人运动史展, 劳模风采展): sections of drawn pictures
(:mod:`.demo_art`), a synthesised work-song recording and text exhibits, with Dublin Core
metadata. Pictures go through the same checks and re-encoding as an upload. The pictures are
illustrations drawn by the program, which the metadata says (``source``, ``rights``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub.web.richtext import ARTICLE, clean_typed

from ..models import MuseumExhibition
from . import demo_art as art
from . import media, service

CITY = "110000"
SOURCE = "数字工会演示数据：图像由程序绘制，非馆藏实物照片"
RIGHTS = "演示用途，可自由使用"


@dataclass
class Exhibit:
    kind: str
    title: str
    dc: dict[str, str]
    #: Makes the file's bytes (image and audio); ``None`` for a text exhibit.
    draw: Callable[[random.Random], bytes] | None = None
    body: str = ""
    filename: str = "demo.jpg"


@dataclass
class Unit:
    title: str
    intro: str
    items: list[Exhibit] = field(default_factory=list)


@dataclass
class Show:
    slug: str
    title: str
    subtitle: str
    intro: str
    units: list[Unit]
    sort: int = 0


def _dc(identifier: str, creator: str, date: str, description: str, subject: str,
        coverage: str = "北京") -> dict[str, str]:
    return {"creator": creator, "date": date, "description": description, "subject": subject,
            "coverage": coverage, "source": SOURCE, "rights": RIGHTS,
            "identifier": identifier, "language": "zh", "publisher": "北京市总工会（演示）"}


HISTORY = Show(
    slug="beijing-workers-history",
    title="北京工人运动史展",
    subtitle="百年风雨路：首都工人阶级的奋斗足迹",
    sort=10,
    intro=("从长辛店的劳动补习学校到新时代的职工服务体系，北京工人阶级始终走在时代前列。\n\n"
           "本展分“星火初燃”“当家作主”“改革奋进”三个单元，以图片、音频和文字回顾首都工人"
           "运动与工会工作的百年历程。展品图像均为示意插图。"),
    units=[
        Unit("星火初燃（1919—1949）",
             "五四运动以后，先进知识分子走进工厂和铁路，创办工人学校、出版工人刊物，"
             "北京地区的工人运动由此兴起。",
             [
                 Exhibit("image", "长辛店劳动补习学校", _dc(
                     "BJGY-1921-001", "演示插图", "1921",
                     "1921年初在长辛店开办的劳动补习学校，白天教工人子弟、晚上教工人识字，"
                     "是早期工人教育和工人组织的重要阵地。本图为示意插图。",
                     "工人教育；长辛店；早期工人运动", "北京丰台长辛店"),
                     lambda rng: art.old_photo("长辛店劳动补习学校（示意）", "factory", rng)),
                 Exhibit("image", "京汉铁路工人大罢工", _dc(
                     "BJGY-1923-002", "演示插图", "1923-02",
                     "1923年2月，京汉铁路工人为争取组织工会的权利举行全路总罢工，"
                     "史称“二七大罢工”。本图以蒸汽机车为题材示意。",
                     "二七大罢工；铁路工人；京汉铁路", "京汉铁路沿线"),
                     lambda rng: art.old_photo("京汉铁路工人大罢工（示意）", "train", rng)),
                 Exhibit("image", "《工人周刊》", _dc(
                     "BJGY-1921-003", "演示插图", "1921",
                     "二十世纪二十年代在北京出版的工人刊物，报道各地工人的生活与斗争。"
                     "本图为报纸版面示意。",
                     "工人刊物；宣传；早期工人运动"),
                     lambda rng: art.newspaper("工人周刊", "劳工神圣", "一九二一年", rng)),
                 Exhibit("text", "展览导读：从长辛店出发", _dc(
                     "BJGY-TXT-001", "展览策划组（演示）", "2024",
                     "第一单元导读", "导读；工人运动"),
                     body=("长辛店位于北京西南，是京汉铁路北段的重要工厂所在地。"
                           "二十世纪二十年代初，这里的铁路工人在补习学校里学文化、明道理，"
                           "组织起自己的工会。\n\n"
                           "1923年2月，京汉铁路工人举行总罢工，要求承认工会、改善待遇。"
                           "罢工虽遭镇压，但“二七”精神激励了一代又一代工人。\n\n"
                           "请沿着本单元的展品，回到那个星火初燃的年代。")),
             ]),
        Unit("当家作主（1949—1978）",
             "新中国成立后，工人阶级成为国家的领导阶级。各行各业建立工会组织，"
             "开展劳动竞赛和职工教育，涌现出一大批先进生产者。",
             [
                 Exhibit("image", "各界工人庆祝大会", _dc(
                     "BJGY-1949-004", "演示插图", "1949",
                     "新中国成立前后，北京各行业工人纷纷建立工会组织。本图以群众集会示意。",
                     "工会组建；集会；新中国成立"),
                     lambda rng: art.old_photo("各界工人庆祝大会（示意）", "crowd", rng)),
                 Exhibit("image", "增产节约劳动竞赛宣传画", _dc(
                     "BJGY-1955-005", "演示插图", "1950年代",
                     "二十世纪五十年代，工厂里普遍开展增产节约、劳动竞赛活动。本图为宣传画示意。",
                     "劳动竞赛；宣传画；增产节约"),
                     lambda rng: art.poster("增产节约", "开展劳动竞赛 争当先进生产者", "1950年代",
                                            rng)),
                 Exhibit("audio", "劳动号子旋律（合成示意）", _dc(
                     "BJGY-AUD-006", "程序合成", "2024",
                     "以五声音阶合成的一段劳动号子风格旋律，用于演示音频展品的播放。",
                     "劳动号子；音乐；音频"),
                     lambda rng: art.melody_wav(), filename="melody.wav"),
             ]),
        Unit("改革奋进（1978年以来）",
             "改革开放以来，首都工会围绕维护职工合法权益、竭诚服务职工群众，"
             "建设职工之家，推出京卡·互助服务卡和12351职工服务热线。",
             [
                 Exhibit("image", "京卡·互助服务卡", _dc(
                     "BJGY-2010-008", "演示插图", "2010年代",
                     "北京市总工会发行的京卡·互助服务卡，集会员身份识别、互助保障和普惠服务于一体。"
                     "图中卡号已遮蔽。",
                     "京卡；互助保障；会员服务"),
                     lambda rng: art.service_card("京卡·互助服务卡", "6214 **** **** 1234")),
                 Exhibit("image", "12351职工服务热线", _dc(
                     "BJGY-2015-009", "演示插图", "2010年代",
                     "12351职工服务热线为职工提供法律咨询、困难帮扶和心理关爱等服务。"
                     "本图为宣传画示意。",
                     "职工服务热线；12351；维权服务"),
                     lambda rng: art.poster("12351", "有困难 找工会", "职工服务热线", rng)),
                 Exhibit("text", "首都工运大事记（简表）", _dc(
                     "BJGY-TXT-010", "展览策划组（演示）", "2024",
                     "部分历史节点一览", "大事记；工会法；中华全国总工会"),
                     body=("<ul><li>1921年：长辛店劳动补习学校开办</li>"
                           "<li>1923年2月：京汉铁路工人大罢工</li>"
                           "<li>1925年5月：中华全国总工会成立</li>"
                           "<li>1949年10月：中华人民共和国成立</li>"
                           "<li>1950年：《中华人民共和国工会法》颁布</li>"
                           "<li>1992年：新的《中华人民共和国工会法》颁布</li></ul>")),
             ]),
    ],
)

MODELS = Show(
    slug="model-workers",
    title="劳模风采展",
    subtitle="劳动最光荣 劳动最崇高 劳动最伟大 劳动最美丽",
    sort=20,
    intro=("劳动模范是民族的精英、人民的楷模。本展分“时代楷模”“新时代工匠”“劳模精神”"
           "三个单元，讲述首都劳动者在平凡岗位上创造不平凡业绩的故事。展品图像均为示意插图。"),
    units=[
        Unit("时代楷模",
             "他们来自环卫、商业、公交等普通岗位，用一生践行“为人民服务”。",
             [
                 Exhibit("image", "时传祥：宁肯一人脏，换来万家净", _dc(
                     "LMFC-001", "演示插图", "1959",
                     "时传祥（1915—1975），北京环卫工人，1959年被评为全国先进生产者。"
                     "“宁肯一人脏，换来万家净”是他的人生写照。本图为纪念肖像示意。",
                     "全国先进生产者；环卫工人；时传祥"),
                     lambda rng: art.portrait("时传祥", "宁肯一人脏 换来万家净", "1915—1975",
                                              ((176, 28, 34), (90, 12, 18)))),
                 Exhibit("image", "张秉贵：“一团火”精神", _dc(
                     "LMFC-002", "演示插图", "1955—1987",
                     "张秉贵（1918—1987），北京市百货大楼售货员，练就“一抓准”“一口清”的本领，"
                     "以“一团火”的热情服务顾客。本图为纪念肖像示意。",
                     "商业服务；售货员；一团火精神", "北京王府井"),
                     lambda rng: art.portrait("张秉贵", "一团火 温暖千万人", "1918—1987",
                                              ((196, 90, 24), (104, 36, 12)))),
                 Exhibit("image", "李素丽：用心服务每一位乘客", _dc(
                     "LMFC-003", "演示插图", "1990年代",
                     "李素丽，北京公交21路售票员，以热心、耐心、细心的服务闻名。"
                     "本图为纪念肖像示意。",
                     "公交服务；售票员；李素丽"),
                     lambda rng: art.portrait("李素丽", "用心服务每一位乘客", "北京公交21路",
                                              ((30, 96, 160), (14, 44, 88)))),
             ]),
        Unit("新时代工匠",
             "在先进制造、城市运行和科技创新一线，一代代技术工人精益求精、勇于创新。",
             [
                 Exhibit("image", "数控车间里的技能比武", _dc(
                     "LMFC-004", "演示插图", "2020年代",
                     "职工职业技能竞赛是发现和培养高技能人才的重要途径。本图为车间场景示意。",
                     "技能竞赛；技术工人；先进制造"),
                     lambda rng: art.old_photo("数控车间里的技能比武（示意）", "factory", rng)),
                 Exhibit("image", "全国劳动模范奖章", _dc(
                     "LMFC-005", "演示插图", "2020",
                     "全国劳动模范奖章示意图，奖章以金色圆盘和红色五角星为主要元素。",
                     "劳动模范；奖章；荣誉"),
                     lambda rng: art.medal("劳动模范", "奖章（示意）")),
                 Exhibit("image", "工匠精神宣传画", _dc(
                     "LMFC-006", "演示插图", "2020年代",
                     "执着专注、精益求精、一丝不苟、追求卓越。本图为宣传画示意。",
                     "工匠精神；宣传画"),
                     lambda rng: art.poster("工匠精神", "执着专注 精益求精 一丝不苟 追求卓越",
                                            "新时代", rng)),
             ]),
        Unit("劳模精神",
             "劳模精神、劳动精神、工匠精神，是激励广大劳动者建功立业的强大精神动力。",
             [
                 Exhibit("text", "什么是劳模精神、劳动精神、工匠精神", _dc(
                     "LMFC-TXT-007", "展览策划组（演示）", "2024",
                     "三种精神的内涵", "劳模精神；劳动精神；工匠精神"),
                     body=("<h3>劳模精神</h3><p>爱岗敬业、争创一流，艰苦奋斗、勇于创新，"
                           "淡泊名利、甘于奉献。</p>"
                           "<h3>劳动精神</h3><p>崇尚劳动、热爱劳动、辛勤劳动、诚实劳动。</p>"
                           "<h3>工匠精神</h3><p>执着专注、精益求精、一丝不苟、追求卓越。</p>")),
                 Exhibit("image", "劳动创造幸福", _dc(
                     "LMFC-008", "演示插图", "2024",
                     "向每一位辛勤劳动的普通劳动者致敬。本图为宣传画示意。",
                     "劳动光荣；宣传画"),
                     lambda rng: art.poster("劳动创造幸福", "向每一位劳动者致敬", "五一国际劳动节",
                                            rng)),
             ]),
    ],
)

SHOWS = (HISTORY, MODELS)


def _add_show(session: Session, show: Show, owner_org_id: int, rng: random.Random) -> int:
    exhibition = service.create_exhibition(session, {
        "slug": show.slug, "title": show.title, "subtitle": show.subtitle,
        "intro_html": clean_typed(show.intro, ARTICLE), "owner_org_id": owner_org_id,
        "sort": show.sort})
    count = 0
    for unit in show.units:
        section = service.add_section(session, exhibition, {
            "title": unit.title, "intro_html": clean_typed(unit.intro, ARTICLE)})
        for exhibit in unit.items:
            stored = (media.receive_bytes(exhibit.draw(rng), exhibit.filename, exhibit.kind)
                      if exhibit.draw is not None else None)
            service.add_item(session, section, {
                "kind": exhibit.kind, "title": exhibit.title, "dc": dict(exhibit.dc),
                "body_html": clean_typed(exhibit.body, ARTICLE)}, stored)
            count += 1
    service.set_published(session, exhibition, True)
    return count


def seed(session: Session, ctx: Any) -> None:
    """Seed the two exhibitions (skipped when they exist), owned by the city federation."""
    org = ctx.orgs.get(CITY) or next(iter(ctx.orgs.values()))
    rng = random.Random(ctx.rng.random())
    added: list[str] = []
    items = 0
    for show in SHOWS:
        if session.scalar(select(MuseumExhibition.id)
                          .where(MuseumExhibition.slug == show.slug)) is not None:
            continue
        items += _add_show(session, show, org.id, rng)
        added.append(show.title)
    if added:
        ctx.lines.append(f"数字博物馆: {len(added)} 个展览（{'、'.join(added)}），{items} 件展品")
