"""Demo forum: five city-wide boards and the 公交集团 union's own board, about forty believable
topics with replies and quotes written by demo members, a pinned and a locked topic, a post
waiting for review in the pre-moderated legal board, a few sensitive words and open reports.

Rows are inserted directly (the posting rules, rate limit included, are for people); the
Markdown goes through the same renderer, and every topic's counts are computed by
:func:`.service.refresh_topic`, so the demo obeys the same invariants as real posts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub.db import utcnow
from unionhub.identity.models import Account, Member

from ..models import PortalSection, SectionKind
from . import markdown
from .models import (
    PortalForumBoard,
    PortalForumPost,
    PortalForumReport,
    PortalForumSubscription,
    PortalForumTopic,
    PortalForumWord,
    PostState,
    WordLevel,
)
from .service import refresh_topic

BUS_UNION = "1190010001"

BOARDS: list[tuple[str, str, bool, str | None]] = [
    ("职工之家", "聊聊工作与生活，互相帮助", False, None),
    ("劳模工匠", "劳模精神、工匠技艺与技能交流", False, None),
    ("文体活动", "球赛、书画、摄影、徒步，约起来", False, None),
    ("法律咨询交流", "劳动合同、社保、工伤等问题交流（先审后发）", True, None),
    ("一线心声", "一线职工的建议与心声，工会认真倾听", False, None),
    ("公交人之家", "公交集团职工交流园地（本单位会员可见）", False, BUS_UNION),
]

# board index → [(title, opening post, [replies])]; a reply starting with ">" quotes the
# opening post, with ">>" the reply before it.
TOPICS: dict[int, list[tuple[str, str, list[str]]]] = {
    0: [
        (
            "单位食堂能不能增加清淡菜品？",
            "最近体检好几位同事血脂偏高，建议食堂每天至少提供两道少油少盐的菜。",
            [
                "赞同！最好标注热量。",
                ">标注热量这个主意好，很多人在控制饮食。",
                "我们单位去年就这么做了，效果不错。",
            ],
        ),
        (
            "孩子暑假托管班有没有单位在办？",
            "双职工家庭暑假最头疼，听说有的工会办了爱心托管班，想了解一下。",
            [
                "我们区总工会每年都办，7月初报名，名额要抢。",
                ">>请问收费吗？",
                "基本免费，只收一点午餐费。",
            ],
        ),
        (
            "推荐几本适合通勤听的书",
            "每天地铁一个半小时，想找些有声书，大家有推荐吗？",
            ["《平凡的世界》有声版非常好。", "数字图书馆里就有，京卡登录可以免费听。"],
        ),
        (
            "京卡优惠的电影票怎么领？",
            "看到说京卡有观影优惠，在哪里领券？",
            ["门户首页“京卡优惠”栏目里有，领了到影院出示就行。", ">谢谢，已经领到了！"],
        ),
        (
            "夏季高温津贴什么时候发？",
            "今年的高温津贴大概什么时候能发放？标准是多少？",
            ["按规定6到8月发放，标准每月不低于180元。", "我们单位随7月工资一起发的。"],
        ),
        (
            "单身职工联谊活动报名",
            "听说工会要组织青年职工联谊活动，有没有具体时间？",
            ["关注工会动态栏目，会发通知的。"],
        ),
        (
            "职工体检项目可以自选吗？",
            "今年体检想加一个甲状腺B超，能自费加项吗？",
            ["可以的，体检中心现场就能加。", ">自费加项大概多少钱？", "几十块钱，不贵。"],
        ),
    ],
    1: [
        (
            "学习劳模精神：三十年守护一条线",
            "听了全国劳模张师傅的报告会，三十年巡检没出过一次差错，很受触动。",
            ["这就是工匠精神！", ">张师傅的“巡检十字法”我们班组也在学。"],
        ),
        (
            "数控车床精度调校经验分享",
            "分享一下我们车间调校老设备精度的几个小窍门：先热机，再分段补偿……",
            ["干货！收藏了。", "请问热机时间一般多长？", ">>我们一般空转30分钟。"],
        ),
        (
            "焊工技能大赛备赛心得",
            "去年参加市级焊工比赛拿了三等奖，说说备赛过程中的体会。",
            ["恭喜！今年还参加吗？", "想请教仰焊的练习方法。"],
        ),
        (
            "创新工作室申报流程",
            "想以班组名义申报职工创新工作室，需要准备哪些材料？",
            ["可以看文件法规栏目里的申报通知，附件有表格。"],
        ),
        (
            "电工证复审需要注意什么",
            "特种作业操作证快到期了，复审要准备什么？",
            ["提前60天在网上预约，带好身份证和原证。"],
        ),
        (
            "首席技师评选标准讨论",
            "今年首席技师评选，大家觉得哪些条件最重要？",
            ["技术攻关成果最重要。", ">带徒弟的成绩也应该算进去。", "同意，传帮带很关键。"],
        ),
    ],
    2: [
        (
            "周末奥森健步走，有一起的吗？",
            "这周六早上七点奥森南门集合，走10公里，欢迎同事们参加！",
            ["报名+1", "带孩子可以吗？", ">>可以，慢慢走就行。"],
        ),
        (
            "职工羽毛球赛报名开始了",
            "区总工会职工羽毛球赛开始报名，分男单、女单、混双。",
            ["我们单位组了两队。", ">混双还差一位女选手，有意向的联系我。"],
        ),
        (
            "书法兴趣班第二期",
            "第一期反响很好，第二期下月开课，零基础也可以。",
            ["上期学了楷书，这期想学行书。"],
        ),
        (
            "摄影比赛作品征集：我身边的劳动者",
            "工会摄影比赛征集作品，主题“我身边的劳动者”。",
            ["截止到什么时候？", ">月底截止，每人限投3幅。"],
        ),
        ("单位篮球队招新", "篮球队缺两个后卫，每周三晚上训练。", ["我报名，打了十年控卫。"]),
        (
            "职工合唱团排练通知",
            "合唱团本周四晚七点在工会活动室排练《我和我的祖国》。",
            ["收到，准时到。"],
        ),
        (
            "乒乓球友谊赛结果",
            "上周和兄弟单位的乒乓球友谊赛，我们5比3获胜！",
            ["厉害！", ">下次我也想参加。"],
        ),
        (
            "推荐几条北京周边徒步路线",
            "秋天快到了，大家有什么适合新手的徒步路线推荐？",
            ["香山到八大处，难度适中。", "古北水镇附近的长城段风景很好。"],
        ),
    ],
    3: [
        (
            "劳动合同到期不续签有补偿吗？",
            "合同下个月到期，公司说不续签了，我能拿到经济补偿吗？",
            ["如果是公司不续签，一般应当支付经济补偿。", ">按工作年限，每满一年支付一个月工资。"],
        ),
        (
            "加班费的计算基数怎么确定",
            "公司按最低工资算加班费，这样合法吗？",
            ["应按劳动合同约定的工资标准计算，不能随意按最低工资。"],
        ),
        (
            "上下班途中受伤算工伤吗？",
            "骑车上班路上被车撞了，对方全责，能认定工伤吗？",
            ["非本人主要责任的交通事故，可以认定工伤。", "记得保留交警的事故认定书。"],
        ),
        (
            "试用期可以随时辞退吗？",
            "试用期被辞退，公司说不需要理由，对吗？",
            ["不对，试用期辞退也要证明不符合录用条件。"],
        ),
        (
            "年休假没休完能折算工资吗？",
            "去年有5天年假没休，单位说作废了。",
            ["单位安排不了的，应按日工资的300%支付。"],
        ),
    ],
    4: [
        (
            "建议厂区增设电动车充电桩",
            "很多同事骑电动车上班，厂区充电桩太少，经常排队。",
            ["同意，最好有充电保护装置。", ">工会已经反映给后勤了，说下季度安装。"],
        ),
        (
            "夜班职工希望有热饭",
            "夜班食堂十点就关了，希望能留个热饭窗口。",
            ["支持，夜班太不容易了。", "可以考虑放微波炉。"],
        ),
        (
            "一线岗位的防暑降温措施",
            "车间温度太高了，希望增加风扇和绿豆汤供应。",
            ["已向工会反映。"],
        ),
        (
            "希望组织职工心理健康讲座",
            "工作压力大，希望工会能请专家来讲讲怎么调节情绪。",
            ["好建议！", ">上次的讲座很有帮助，希望常办。"],
        ),
        ("职工休息室改造建议", "休息室沙发太旧了，能不能换一批，再加个饮水机。", ["附议。"]),
    ],
    5: [
        (
            "夜班公交司机的休息室条件",
            "末班车回场后休息室没有热水，冬天很难熬，希望改善。",
            ["场站已经在装电热水器了。", ">太好了，辛苦工会了！"],
        ),
        (
            "公交集团技能比武报名",
            "今年驾驶员技能比武开始报名了，各车队抓紧组织。",
            ["我们车队报了五个人。"],
        ),
        (
            "驾驶员体检安排",
            "今年驾驶员年度体检安排在下个月，请关注车队通知。",
            ["需要空腹吗？", ">>需要，早上八点前到。"],
        ),
        (
            "安全行车经验分享",
            "开了二十年公交，说说雨天行车的几点体会：提前减速、加大车距……",
            ["老师傅说得好！", ">雨天进站一定要慢。"],
        ),
        (
            "保修分公司技术交流会",
            "下周三保修分公司组织新能源车辆维修技术交流，欢迎参加。",
            ["报名！"],
        ),
    ],
}


def _accounts(session: Session, member_ids: list[int]) -> list[Account]:
    if not member_ids:
        return []
    return list(
        session.scalars(
            select(Account)
            .where(Account.member_id.in_(member_ids[:400]), Account.is_active.is_(True))
            .order_by(Account.id)
        )
    )


def _bus_accounts(session: Session, path: str) -> list[Account]:
    from unionhub.orgs.models import Org

    return list(
        session.scalars(
            select(Account)
            .join(Member, Member.id == Account.member_id)
            .join(Org, Org.id == Member.org_id)
            .where(Org.path.like(path + "%"))
            .order_by(Account.id)
            .limit(60)
        )
    )


def seed(session: Session, ctx: Any) -> None:
    rng = ctx.rng
    section = session.scalar(
        select(PortalSection)
        .where(PortalSection.kind == SectionKind.FORUM)
        .order_by(PortalSection.sort, PortalSection.id)
    )
    if section is None:
        return
    everyone = _accounts(session, list(ctx.member_ids))
    if not everyone:
        return
    bus = ctx.orgs.get(BUS_UNION)
    moderator = ctx.officers.get("city")
    for word, level in (
        ("代开发票", WordLevel.BLOCK),
        ("网络赌博", WordLevel.BLOCK),
        ("罢工", WordLevel.REVIEW),
        ("传销", WordLevel.REVIEW),
    ):
        session.add(
            PortalForumWord(word=word, level=level, created_by=moderator.id if moderator else None)
        )
    now = utcnow()
    boards: list[PortalForumBoard] = []
    for i, (name, description, premoderated, org_code) in enumerate(BOARDS):
        org = ctx.orgs.get(org_code) if org_code else None
        if org_code and org is None:
            continue
        board = PortalForumBoard(
            section_id=section.id,
            name=name,
            description=description,
            premoderated=premoderated,
            sort=i * 10,
            org_id=org.id if org else None,
            created_at=now - timedelta(days=90),
        )
        session.add(board)
        boards.append(board)
    session.flush()
    bus_people = _bus_accounts(session, bus.path) if bus is not None else []
    topics = 0
    posts: list[PortalForumPost] = []
    for index, board in enumerate(boards):
        people = bus_people if board.org_id is not None and bus_people else everyone
        for title, opening, replies in TOPICS.get(index, []):
            start = now - timedelta(days=rng.randint(1, 60), minutes=rng.randint(0, 600))
            author = rng.choice(people)
            topic = PortalForumTopic(
                board_id=board.id,
                author_id=author.id,
                title=title,
                last_post_at=start,
                created_at=start,
            )
            session.add(topic)
            session.flush()
            first = _post(session, topic, author, opening, start, is_first=True)
            thread = [first]
            at = start
            for text in replies:
                at += timedelta(minutes=rng.randint(5, 900))
                if at > now:
                    break
                quote = None
                if text.startswith(">>") and len(thread) > 1:
                    quote, text = thread[-1], text[2:]
                elif text.startswith(">"):
                    quote, text = first, text[1:]
                replier = rng.choice([p for p in people if p.id != author.id] or people)
                thread.append(_post(session, topic, replier, text, at, quote=quote))
            for p in {p.author_id for p in thread if p.author_id}:
                session.add(
                    PortalForumSubscription(account_id=p, topic_id=topic.id, created_at=start)
                )
            refresh_topic(session, topic)
            posts.extend(thread[1:])
            topics += 1
    _extras(session, ctx, boards, everyone, posts, now)
    ctx.lines.append(
        f"工会论坛: {len(boards)} 个版块、{topics} 个主题（含置顶、锁定、待审核帖与举报）"
    )


def _post(
    session: Session,
    topic: PortalForumTopic,
    author: Account,
    text: str,
    at: Any,
    *,
    is_first: bool = False,
    quote: PortalForumPost | None = None,
    state: str = PostState.VISIBLE,
    note: str | None = None,
) -> PortalForumPost:
    post = PortalForumPost(
        topic_id=topic.id,
        author_id=author.id,
        is_first=is_first,
        body_md=text,
        body_html=markdown.render(text),
        quote_post_id=quote.id if quote else None,
        state=state,
        review_note=note,
        created_at=at,
    )
    session.add(post)
    session.flush()
    return post


def _extras(
    session: Session,
    ctx: Any,
    boards: list[PortalForumBoard],
    everyone: list[Account],
    replies: list[PortalForumPost],
    now: Any,
) -> None:
    """A pinned and a locked topic, a reply waiting for review, two open reports."""
    rng = ctx.rng
    if not boards:
        return
    home = session.scalars(
        select(PortalForumTopic)
        .where(PortalForumTopic.board_id == boards[0].id)
        .order_by(PortalForumTopic.id)
    ).all()
    if home:
        home[0].pinned = True
    if len(home) > 1:
        home[-1].locked = True
    legal = next((b for b in boards if b.premoderated), None)
    if legal is not None:
        topic = session.scalars(
            select(PortalForumTopic)
            .where(PortalForumTopic.board_id == legal.id)
            .order_by(PortalForumTopic.id)
        ).first()
        if topic is not None:
            _post(
                session,
                topic,
                rng.choice(everyone),
                "补充一下：如果是**劳动者主动提出**不续签，就没有经济补偿了吧？",
                now - timedelta(hours=3),
                state=PostState.PENDING,
                note="本版块发帖需版主审核",
            )
    for post in rng.sample(replies, min(2, len(replies))):
        reporter = rng.choice([a for a in everyone if a.id != post.author_id] or everyone)
        session.add(
            PortalForumReport(
                post_id=post.id,
                reporter_id=reporter.id,
                reason=rng.choice(["疑似广告", "与版块主题无关", "言辞不当"]),
                created_at=now - timedelta(hours=rng.randint(1, 48)),
            )
        )
    session.flush()
