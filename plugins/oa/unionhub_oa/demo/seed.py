"""The office an officer finds after ``unionhub demo``.

Everything goes through the features' own services, so the rows are what officers' clicks
would leave: workflows through :func:`~unionhub_oa.workflow.engine.create_workflow`, requests
and every step of their trails through the engine's actions, documents through the documents
service (numbers from its counters), the data-exchange run through
:func:`~unionhub_oa.exchange.run.create_run` and :func:`~unionhub_oa.exchange.run.run_inline`
(the core import, the plugins' reactions, the accounting and the notifications), the campaign
through the campaigns service.

Only the clock is told afterwards: each request's story happened over the last days, so its
rows (request, tasks, trail, copies) are moved back in time together, keeping their order and
each task's deadline relative to when it was created. One request at the district step is
older than its deadline, for the reminder and escalation timers to find.

The data-exchange run imports its file with its own sessions (the core's import engine, the
job runner): what the demo wrote before it is committed first.
"""

from __future__ import annotations

import csv
import io
import random
import tempfile
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub.db import utcnow
from unionhub.demo import DEMO_PASSWORD, GIVEN, SURNAMES
from unionhub.identity import service as identity
from unionhub.identity.admin import create_officer
from unionhub.identity.models import Account, CardStatus, JingkaCard, Member, MemberStatus
from unionhub.identity.numbers import DEFAULT_JINGKA_BINS, make_card_number, make_id_number
from unionhub.orgs.models import Org, OrgLevel

from ..workflow import engine
from ..workflow.models import OaAction, OaCc, OaRequest, OaTask, OaWorkflow, TaskState

CITY = "110000"
FINANCE = ("finance", "市总工会财务 赵会计", "finance_officer")
EXPENSE_CATEGORIES = ("职工慰问", "文体活动", "困难帮扶", "其他")
LEAVE_KINDS = ("公出", "培训", "事假", "其他")


# --- the workflows --------------------------------------------------------------------------

def _district(key: str, name: str, *, deadline: int | None = None, mode: str = "any",
              when: str | None = None) -> dict[str, Any]:
    step: dict[str, Any] = {"key": key, "name": name, "mode": mode,
                            "approvers": {"by": "role", "role": "district_officer",
                                          "org": "level:district"}}
    if deadline:
        step["deadline_hours"] = deadline
    if when:
        step["when"] = when
    return step


def _city(key: str, name: str, role: str, *, deadline: int | None = None,
          when: str | None = None) -> dict[str, Any]:
    step: dict[str, Any] = {"key": key, "name": name, "mode": "single",
                            "approvers": {"by": "role", "role": role, "org": "city"}}
    if deadline:
        step["deadline_hours"] = deadline
    if when:
        step["when"] = when
    return step


def workflow_specs(city: str) -> dict[str, dict[str, Any]]:
    """The demo's workflows by code. ``city`` is the city federation's name: the documents
    service and the portal send the drafting or publishing org with their sign-offs (a field
    matched by its label), and the district step — which has no approver above the city
    federation — applies only to orgs below it."""
    drafter = {"name": "drafter", "label": "拟稿单位", "type": "text"}
    publisher = {"name": "publisher", "label": "发布单位", "type": "text"}
    quoted = city.replace("\\", "\\\\").replace("'", "\\'")
    return {
        "expense": {
            "name": "经费申请", "kind": "oa.general",
            "description": "基层工会经费使用申请：区/产业工会审核，5000 元以上经市总财务审核，"
                           "市总工会审批。",
            "definition": {
                "fields": [
                    {"name": "amount", "label": "金额", "type": "decimal", "required": True},
                    {"name": "purpose", "label": "用途", "type": "textarea", "required": True},
                    {"name": "category", "label": "类别", "type": "choice",
                     "choices": list(EXPENSE_CATEGORIES)},
                ],
                "steps": [
                    _district("district", "区/产业工会审核", deadline=48),
                    _city("finance", "市总财务审核", "finance_officer", when="amount > 5000"),
                    _city("city", "市总工会审批", "city_officer", deadline=72),
                ],
            },
        },
        "leave": {
            "name": "请假/外出", "kind": "oa.general",
            "description": "工会干部请假、公出与外出培训，由所属区/产业工会审批。",
            "definition": {
                "fields": [
                    {"name": "kind", "label": "类型", "type": "choice", "required": True,
                     "choices": list(LEAVE_KINDS)},
                    {"name": "start", "label": "开始日期", "type": "date", "required": True},
                    {"name": "end", "label": "结束日期", "type": "date", "required": True},
                    {"name": "reason", "label": "事由", "type": "textarea", "required": True},
                ],
                "steps": [_district("district", "区/产业工会审批", deadline=24)],
            },
        },
        "doc_review": {
            "name": "公文审核", "kind": "oa.document",
            "description": "公文下发前的审核：区/产业工会审核后报市总工会审批"
                           "（市总工会拟稿的直接报市总审批）。",
            "definition": {"fields": [drafter], "steps": [
                _district("district", "区/产业工会审核", deadline=48,
                          when=f"drafter != '{quoted}'"),
                _city("city", "市总工会审批", "city_officer", deadline=72),
            ]},
        },
        "article_signoff": {
            "name": "文章签发", "kind": "portal.article",
            "description": "门户网站需要签发的文章，由所属区/产业工会签发"
                           "（市总工会发布的直接通过）。",
            "definition": {"fields": [publisher], "steps": [
                _district("district", "区/产业工会签发", deadline=48,
                          when=f"publisher != '{quoted}'")]},
        },
        "exchange_approval": {
            "name": "数据交换审批", "kind": "oa.exchange_run",
            "description": "要求审批的数据交换运行，由市总财务确认后应用。",
            "definition": {"fields": [], "steps": [
                _city("finance", "市总财务审核", "finance_officer", deadline=24)]},
        },
    }


def _workflows(s: Session, by_id: int, city: str) -> dict[str, OaWorkflow]:
    return {code: engine.create_workflow(
        s, code=code, name=spec["name"], kind=spec["kind"], definition=spec["definition"],
        by_id=by_id, description=spec["description"])
        for code, spec in workflow_specs(city).items()}


# --- the clock ------------------------------------------------------------------------------

@dataclass
class Story:
    """When each action of a request "happened": :meth:`at` before each engine call, then
    :meth:`apply` moves the request's rows from the real moments to the story's."""

    marks: list[datetime] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)

    def at(self, when: datetime) -> None:
        if self.times and when <= self.times[-1]:
            raise ValueError("a story's moments must follow each other")
        self.marks.append(utcnow())
        self.times.append(when)

    def moved(self, t: datetime | None) -> datetime | None:
        if t is None or not self.marks:
            return t
        i = max(bisect_right(self.marks, t) - 1, 0)
        return self.times[i] + (t - self.marks[i])

    def apply(self, s: Session, request_id: int) -> None:
        s.flush()
        req = s.get(OaRequest, request_id)
        assert req is not None
        req.created_at = self.moved(req.created_at)  # type: ignore[assignment]
        req.updated_at = self.moved(req.updated_at)  # type: ignore[assignment]
        req.finished_at = self.moved(req.finished_at)
        for task in s.scalars(select(OaTask).where(OaTask.request_id == request_id)):
            created = self.moved(task.created_at)
            if task.due_at is not None:
                task.due_at = created + (task.due_at - task.created_at)  # type: ignore[operator]
            task.created_at = created  # type: ignore[assignment]
            task.acted_at = self.moved(task.acted_at)
        for action in s.scalars(select(OaAction).where(OaAction.request_id == request_id)):
            action.at = self.moved(action.at)  # type: ignore[assignment]
        for copy in s.scalars(select(OaCc).where(OaCc.request_id == request_id)):
            copy.created_at = self.moved(copy.created_at)  # type: ignore[assignment]
            copy.read_at = self.moved(copy.read_at)
        s.flush()


def _pending_task(s: Session, request_id: int, account: Account) -> int:
    """The id of ``account``'s open task on the request (the demo's script relies on it)."""
    task_id = s.scalar(select(OaTask.id).where(
        OaTask.request_id == request_id, OaTask.assignee_id == account.id,
        OaTask.state == TaskState.PENDING).order_by(OaTask.id.desc()).limit(1))
    if task_id is None:
        raise RuntimeError(f"demo: {account.username} has no task on request {request_id}")
    return task_id


# --- requests -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One move of a request's script: who does what, hours after the previous move."""

    who: str
    action: str
    after_hours: float = 3.0
    opinion: str = ""
    to: str = ""
    step: int = 0


@dataclass(frozen=True)
class Script:
    workflow: str
    initiator: str
    title: str
    fields: dict[str, str]
    hours_ago: float
    steps: tuple[Step, ...] = ()


def _expense(amount: str, category: str, purpose: str) -> dict[str, str]:
    return {"amount": amount, "category": category, "purpose": purpose}


def _leave(kind: str, start: date, days: int, reason: str) -> dict[str, str]:
    return {"kind": kind, "start": start.isoformat(),
            "end": (start + timedelta(days=days - 1)).isoformat(), "reason": reason}


def scripts(today: date) -> list[Script]:
    """The requests: the initiators are 公交集团工会 (under 交通运输工会) and 北京电控工会
    (under 朝阳区总工会)."""
    return [
        # waiting for 交通运输工会 at the first step
        Script("expense", "bus", "2027年元旦春节职工慰问品采购", _expense(
            "4800", "职工慰问", "为一线驾驶员、乘务员采购慰问品（米、油、保暖用品），约 240 份。"),
            6),
        Script("expense", "bus", "公交集团职工篮球联赛场地租赁", _expense(
            "2600", "文体活动", "租用朝阳体育中心篮球馆 4 个晚上，承办集团第六届职工篮球联赛。"),
            20),
        Script("expense", "bus", "困难职工帮扶：第一客运分公司驾驶员家庭", _expense(
            "3000", "困难帮扶", "驾驶员王某配偶重病住院，家庭生活困难，申请一次性帮扶金。"), 27),
        # older than the step's 48 hours: the timers remind and escalate it
        Script("expense", "bus", "安全行车竞赛获奖职工奖品", _expense(
            "1800", "其他", "2026年度安全行车百日竞赛获奖职工 36 人，每人奖品 50 元。"), 75),
        Script("leave", "bus", "赴天津参加交通运输系统工会工作交流", _leave(
            "公出", today + timedelta(days=8), 2,
            "应天津市交通运输工会邀请，交流职工之家建设经验。"), 4),
        # at the city finance step (over 5000 yuan)
        Script("expense", "bus", "职工书屋图书采购", _expense(
            "12000", "文体活动", "为 12 个车队职工书屋补充图书约 800 册。"), 50, (
                Step("jiaotong", "approve", 5, "同意，请市总财务审核。"),)),
        # fully approved through all three steps
        Script("expense", "bus", "冬季一线职工防寒用品", _expense(
            "8600", "职工慰问", "为夜班及场站一线职工配发防寒手套、护膝和保温杯各 430 套。"), 300, (
                Step("jiaotong", "approve", 4, "情况属实，同意。"),
                Step("finance", "approve", 20, "预算科目：职工慰问，余额充足。"),
                Step("city", "approve", 6, "同意。"))),
        # withdrawn before anyone acted
        Script("expense", "bus", "职工摄影比赛奖品（重复提交）", _expense(
            "900", "文体活动", "集团职工摄影比赛奖品。"), 120, (
                Step("bus", "withdraw", 1),)),
        # returned by the city to the first step: with 交通运输工会 again
        Script("expense", "bus", "驾驶员心理健康讲座", _expense(
            "4200", "其他", "邀请心理咨询师为驾驶员举办 3 场心理健康讲座。"), 40, (
                Step("jiaotong", "approve", 3, "同意。"),
                Step("city", "return", 14, "请补充讲座费用明细及与咨询机构的合同后重新审核。",
                     step=0))),
        Script("expense", "behl", "2027年职工迎春联欢会筹备", _expense(
            "4600", "文体活动", "举办集团 2027 年职工迎春联欢会：场地、音响及演出服装租赁。"), 10),
        # at the city step (under 5000 yuan: no finance step)
        Script("expense", "behl", "电控集团职工乒乓球比赛", _expense(
            "3000", "文体活动", "举办集团职工乒乓球比赛，场地、裁判及奖品费用。"), 30, (
                Step("chaoyang", "approve", 5, "同意。"),)),
        # approved; the city officer handed it over to the platform admin (转办)
        Script("expense", "behl", "劳模疗休养补贴", _expense(
            "2000", "职工慰问", "组织 4 名市级劳动模范参加疗休养，交通补贴。"), 230, (
                Step("chaoyang", "approve", 3, "同意。"),
                Step("city", "transfer", 18, "本人出差，请代为审批。", to="admin"),
                Step("admin", "approve", 2, "同意。"))),
        # rejected by the city finance with an opinion
        Script("expense", "behl", "部门团建拓展活动", _expense(
            "9800", "文体活动", "组织工会委员及部门职工 60 人赴密云开展团建拓展。"), 170, (
                Step("chaoyang", "approve", 4, "同意，报市总。"),
                Step("finance", "reject", 22, "团建拓展不属于工会经费开支范围，请按"
                     "《基层工会经费收支管理办法》调整为职工文体活动后重新申请。"))),
        # delegated for an opinion and answered, then at the city with a CC and a comment
        Script("expense", "behl", "困难职工子女助学金", _expense(
            "3500", "困难帮扶", "为 7 名困难职工子女发放 2026 年秋季学期助学金，每人 500 元。"),
            52, (
                Step("chaoyang", "delegate", 2, "海淀区去年办过同类助学项目，请提出意见。",
                     to="haidian"),
                Step("haidian", "answer", 5,
                     "建议按每人 500 元标准发放，并附学籍证明与困难职工档案。"),
                Step("chaoyang", "approve", 2, "按海淀区意见补齐材料后同意。"),
                Step("city", "cc", 3, to="finance"),
                Step("city", "comment", 1, "请财务同步核对助学名单与困难职工档案。"))),
        Script("leave", "behl", "参加市总工会基层工会主席培训班", _leave(
            "培训", today - timedelta(days=3), 3, "参加市总工会 2026 年第四期基层工会主席培训班。"),
            150, (Step("chaoyang", "approve", 6, "同意，注意做好工作交接。"),)),
    ]


def _play(s: Session, ctx: Any, wfs: dict[str, OaWorkflow], script: Script,
          now: datetime) -> OaRequest:
    officers = ctx.officers
    initiator = officers[script.initiator]
    org = _officer_org(s, initiator)
    story = Story()
    when = now - timedelta(hours=script.hours_ago)
    story.at(when)
    req = engine.start(s, wfs[script.workflow], initiator=initiator, org=org,
                       title=script.title, fields=script.fields)
    for move in script.steps:
        when += timedelta(hours=move.after_hours)
        story.at(when)
        who = officers[move.who]
        if move.action == "withdraw":
            engine.withdraw(s, who, req.id)
        elif move.action == "cc":
            engine.cc(s, who, req.id, [officers[move.to].id])
        elif move.action == "comment":
            engine.comment(s, who, req.id, move.opinion)
        else:
            task_id = _pending_task(s, req.id, who)
            if move.action in ("transfer", "delegate"):
                getattr(engine, move.action)(s, who, task_id, officers[move.to].id,
                                             move.opinion)
            elif move.action == "return":
                engine.return_to(s, who, task_id, move.step, move.opinion)
            else:
                getattr(engine, move.action)(s, who, task_id, move.opinion)
    if when >= now:
        raise ValueError(f"demo request {script.title!r} ends in the future")
    story.apply(s, req.id)
    return req


def _officer_org(s: Session, account: Account) -> Org:
    """The org of the officer's first grant (the demo's officers hold one each)."""
    from unionhub.access.models import RoleGrant

    org = s.scalar(select(Org).join(RoleGrant, RoleGrant.org_id == Org.id)
                   .where(RoleGrant.account_id == account.id).order_by(RoleGrant.id).limit(1))
    assert org is not None
    return org


# --- documents ------------------------------------------------------------------------------

DOC_BODY = ("<p>各区总工会、各产业工会，各基层工会：</p><p>{lead}</p>"
            "<h2>一、工作要求</h2><p>{ask}</p>"
            "<h2>二、时间安排</h2><p>{when}</p>"
            "<p>特此通知。</p>")

CITY_DOCS = [
    {"title": "北京市总工会关于做好2027年元旦春节期间困难职工帮扶和送温暖工作的通知",
     "lead": "为深入做好元旦春节期间困难职工帮扶工作，把党和政府的关怀及时送到职工心坎上，"
             "现将有关事项通知如下。",
     "ask": "各级工会要摸清困难职工底数，重点走访一线职工、新就业形态劳动者和患重病职工家庭，"
            "慰问资金专款专用，严禁以慰问名义发放购物卡。",
     "when": "2026年12月20日前完成摸底，2027年2月10日前完成走访慰问并报送工作总结。",
     "urgency": "", "days_ago": 10,
     "to": ["110101", "110102", "110105", "110108", "110115", "119001", "119002", "119003"],
     "read": ["chaoyang", "haidian", "jiaotong", "behl"]},
    {"title": "北京市总工会关于开展2026年度职工互助保障会员数据核对工作的通知",
     "lead": "为确保互助保障参保数据准确，保障职工合法权益，市总工会决定开展年度会员数据核对。",
     "ask": "请各单位对照京卡会员数据核对在册会员、补卡换号和退会转出情况，发现问题及时更正。",
     "when": "2026年12月15日前完成核对，核对结果通过办公系统数据交换报送。",
     "urgency": "urgent", "days_ago": 4,
     "to": ["110105", "119001"],
     "read": ["jiaotong"]},
]


def _doc_values(org: Org, doc: dict[str, Any]) -> dict[str, Any]:
    return {"org_id": str(org.id), "doc_type": "fa", "title": doc["title"],
            "body": DOC_BODY.format(**doc), "urgency": doc.get("urgency", ""), "secrecy": ""}


def _request_id(ref: str | None) -> int:
    """The engine's request behind a sign-off reference (``oa-<id>``)."""
    if not ref or not ref.startswith("oa-") or not ref[3:].isdigit():
        raise RuntimeError(f"demo: the document was not sent to the approval engine ({ref!r})")
    return int(ref[3:])


def _documents(s: Session, ctx: Any, now: datetime) -> dict[str, int]:
    """The city federation's two documents, reviewed (``doc_review``: the city step only, as
    the city drafted them), numbered and issued, some of them read; a document of 公交集团工会
    waiting for 交通运输工会's review; a draft of 朝阳区总工会."""
    from ..documents import service as docs
    from ..documents.models import OaDocReceipt

    officers, orgs = ctx.officers, ctx.orgs
    city = officers["city"]
    counts: Counter[str] = Counter()
    for spec in CITY_DOCS:
        issued_at = now - timedelta(days=spec["days_ago"])
        drafted_at = issued_at - timedelta(days=1, hours=3)
        doc = docs.create(s, city, _doc_values(orgs[CITY], spec))
        story = Story()
        story.at(drafted_at + timedelta(hours=1))
        request_id = _request_id(docs.submit(s, city, doc))
        story.at(issued_at - timedelta(hours=2))
        engine.approve(s, city, _pending_task(s, request_id, city), "同意签发。")
        story.apply(s, request_id)
        docs.issue(s, city, doc, [(orgs[code].id, True) for code in spec["to"]], now=issued_at)
        doc.created_at = drafted_at  # type: ignore[assignment]
        for i, username in enumerate(spec["read"]):
            docs.mark_read(s, officers[username], doc)
            receipt = s.scalar(select(OaDocReceipt).where(
                OaDocReceipt.document_id == doc.id,
                OaDocReceipt.account_id == officers[username].id))
            if receipt is not None:
                receipt.read_at = issued_at + timedelta(hours=2 + 5 * i)  # type: ignore[assignment]
        counts["issued"] += 1

    bus = officers["bus"]
    reviewing = docs.create(s, bus, _doc_values(orgs["1190010001"], {
        "title": "公交集团工会关于做好冬季安全行车和一线职工防寒保暖工作的通知",
        "lead": "入冬以来气温持续走低，为保障一线职工冬季安全行车和身体健康，"
                "现就有关工作通知如下。",
        "ask": "各分会要落实场站取暖和热水供应，为夜班驾驶员配发防寒用品，开展冬季安全行车提示。",
        "when": "即日起至2027年2月底。"}))
    reviewing.created_at = now - timedelta(hours=33)  # type: ignore[assignment]
    story = Story()
    story.at(now - timedelta(hours=30))
    story.apply(s, _request_id(docs.submit(s, bus, reviewing)))
    counts["reviewing"] += 1

    docs.create(s, officers["chaoyang"], _doc_values(orgs["110105"], {
        "title": "朝阳区总工会关于举办2027年职工冬季趣味运动会的通知",
        "lead": "为丰富职工业余文化生活，区总工会定于2027年1月举办职工冬季趣味运动会。",
        "ask": "各基层工会组队报名，每队 10 至 15 人，做好安全保障。",
        "when": "2026年12月25日前报名。"}))
    counts["draft"] += 1
    s.flush()
    return dict(counts)


# --- the data-exchange run ------------------------------------------------------------------

HEADER = ["姓名", "身份证号", "京卡卡号", "工会组织代码", "工会组织名称", "性别", "手机号",
          "入会日期", "会籍状态", "卡状态", "原卡号"]
SEX_LABELS = {"M": "男", "F": "女"}
REGIONS = ("110105", "110108", "110106", "110112", "110114", "120101", "130102")
#: Card numbers of the demo's exchange file come from far above the core demo's sequence.
CARD_BASE = 95_000_000
UNKNOWN_ORG = "1199990001"


def _person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _unused_id(s: Session, rng: random.Random, used: set[str]) -> str:
    while True:
        birth = date(1975, 1, 1) + timedelta(days=rng.randint(0, 28 * 365))
        idn = make_id_number(rng.choice(REGIONS), birth, rng.randint(0, 999))
        if idn in used:
            continue
        used.add(idn)
        if s.scalar(select(Member.id).where(
                Member.id_number_hash == identity.id_hash(idn))) is None:
            return idn


def _unused_card(s: Session, rng: random.Random, used: set[str]) -> str:
    while True:
        card = make_card_number(rng.choice(DEFAULT_JINGKA_BINS),
                                CARD_BASE + rng.randint(0, 4_000_000))
        if card in used:
            continue
        used.add(card)
        if s.scalar(select(JingkaCard.id).where(
                JingkaCard.number_hash == identity.card_hash(card))) is None:
            return card


def _existing_row(member: Member, card: str, org: Org, *, status: str = "在会",
                  old_card: str = "") -> list[str]:
    return [member.name, identity.reveal_id_number(member), card, org.code, org.name,
            SEX_LABELS.get(member.sex, ""), member.mobile or "",
            member.joined_on.isoformat() if member.joined_on else "", status, "正常", old_card]


def exchange_file(s: Session, ctx: Any, rng: random.Random, *, new: int = 20,
                  replaced: int = 5, left: int = 3) -> tuple[str, dict[str, int]]:
    """The city federation's member/Jingka change file for the month: new members with valid
    ID and card numbers, cards replaced (with 原卡号), members who left, and two bad rows (an
    ID number with a wrong check character, an unknown org code). Members who sign in with a
    password (the demo's showcase members) are left alone."""
    orgs: dict[str, Org] = ctx.orgs
    leaves = sorted((o for o in orgs.values()
                     if o.level in (OrgLevel.GRASSROOTS, OrgLevel.BRANCH)), key=lambda o: o.code)
    weights = [5 if o.code.startswith("119001") else 2 if o.code.startswith("110105") else 1
               for o in leaves]
    used_ids: set[str] = set()
    used_cards: set[str] = set()
    rows: list[list[str]] = []
    month_end = date.today().replace(day=1) - timedelta(days=1)
    for _i in range(new):
        org = rng.choices(leaves, weights)[0]
        idn = _unused_id(s, rng, used_ids)
        sex = "男" if int(idn[16]) % 2 else "女"
        joined = month_end.replace(day=rng.randint(1, month_end.day))
        rows.append([_person_name(rng), idn, _unused_card(s, rng, used_cards), org.code,
                     org.name, sex, f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}",
                     joined.isoformat(), "在会", "正常", ""])

    by_org = {o.id: o for o in orgs.values()}
    candidates = list(s.execute(
        select(Member, JingkaCard)
        .join(JingkaCard, JingkaCard.member_id == Member.id)
        .join(Account, Account.member_id == Member.id)
        .where(Member.id.in_(ctx.member_ids), Member.status == MemberStatus.ACTIVE,
               JingkaCard.status == CardStatus.ACTIVE, Account.password_hash.is_(None))
        .order_by(Member.id)).all())
    picked = rng.sample(candidates, min(replaced + left, len(candidates)))
    for member, card in picked[:replaced]:
        rows.append(_existing_row(member, _unused_card(s, rng, used_cards), by_org[member.org_id],
                                  old_card=identity.reveal_card_number(card)))
    for member, card in picked[replaced:]:
        rows.append(_existing_row(member, identity.reveal_card_number(card),
                                  by_org[member.org_id], status="退会"))

    bus = orgs["1190010001"]
    bad_id = _unused_id(s, rng, used_ids)
    bad_id = bad_id[:17] + ("0" if bad_id[17] != "0" else "1")
    rows.append([_person_name(rng), bad_id, _unused_card(s, rng, used_cards), bus.code,
                 bus.name, "男", "", "", "在会", "正常", ""])
    stray = _unused_id(s, rng, used_ids)
    rows.append([_person_name(rng), stray, _unused_card(s, rng, used_cards), UNKNOWN_ORG,
                 "北京市某某公司工会", "男" if int(stray[16]) % 2 else "女", "", "", "在会",
                 "正常", ""])
    rng.shuffle(rows)

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue(), {"new": new, "cards_replaced": len(picked[:replaced]),
                            "left": len(picked[replaced:]), "bad": 2}


def previous_month(today: date) -> str:
    last = today.replace(day=1) - timedelta(days=1)
    return f"{last.year}-{last.month:02d}"


def _exchange(s: Session, ctx: Any, rng: random.Random) -> Any:
    """Create the month's run on the generated file and run it to the end. Commits first:
    the import engine and the job runner work in their own sessions."""
    from ..exchange.models import OaRun
    from ..exchange.run import create_run, run_inline

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    text, _planned = exchange_file(s, ctx, rng)
    today = date.today()
    period = previous_month(today)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"京卡会员数据_{period}.csv"
        path.write_text(text, encoding="utf-8-sig")
        run = create_run(s, app, ctx.officers["city"], period=period, plan_year=today.year,
                         path=path, filename=path.name, auto_apply=True)
        run_id = run.id
        s.commit()
    run_inline(app, run_id)
    s.expire_all()
    done = s.get(OaRun, run_id)
    assert done is not None
    if done.state != "done":
        raise RuntimeError(f"demo data-exchange run ended {done.state}: {done.error}")
    return done


def _campaign(s: Session, ctx: Any, run: Any) -> Any:
    from ..campaigns import service as campaigns

    city = s.get(Account, ctx.officers["city"].id)
    assert city is not None
    campaigns.create_template(
        s, name="会籍变动提醒", title="您的工会会籍信息有变动",
        body="您好！根据市总工会京卡会员数据，您的会籍或京卡信息已于本月更新，"
             "可登录“北京工会”查看详情。如有疑问请联系所在基层工会。",
        sms="【北京工会】您的会籍或京卡信息已更新，详情请登录北京工会查看。", by_id=city.id)
    data = campaigns.validate(
        s, city, title=f"{run.period} 会籍与京卡变动提醒",
        body="您好！市总工会已完成本月京卡会员数据交换，您的会籍或京卡信息有更新。"
             "新入会会员已自动纳入职工互助保障，换卡会员请使用新卡办理各项服务。",
        sms="【北京工会】本月京卡会员数据已更新，您的会籍或京卡信息有变动，详情请登录北京工会查看。",
        url="/", audience_key="oa.run", audience_value=str(run.id), channels=["wechat", "sms"])
    campaign = campaigns.create_campaign(s, city, data)
    campaigns.send(s, city, campaign)
    return campaign


# --- all of it ------------------------------------------------------------------------------

def seed(session: Session, ctx: Any) -> None:
    s = session
    rng = random.Random(ctx.rng.getrandbits(32))
    now = utcnow()
    username, name, role = FINANCE
    ctx.officers[username] = create_officer(s, username, name, DEMO_PASSWORD, role,
                                            ctx.orgs[CITY])
    wfs = _workflows(s, ctx.officers["admin"].id, ctx.orgs[CITY].name)
    doc_counts = _documents(s, ctx, now)
    states: Counter[str] = Counter()
    for script in scripts(date.today()):
        states[_play(s, ctx, wfs, script, now).state] += 1
    s.flush()

    run = _exchange(s, ctx, rng)
    members = dict((run.result or {}).get("members") or {})
    campaign = _campaign(s, ctx, run)
    s.flush()
    documents = sum(doc_counts.values())
    ctx.lines.append(
        f"办公自动化: {len(wfs)} 个审批流程，{sum(states.values())} 个审批"
        f"（审批中 {states['running']}、已通过 {states['approved']}、"
        f"已驳回 {states['rejected']}、已撤回 {states['withdrawn']}），"
        f"公文 {documents} 份（已下发 {doc_counts['issued']}），"
        f"数据交换 {run.period}：新会员 {members.get('new', 0)}、"
        f"换卡 {members.get('card_replaced', 0)}、退会 {members.get('left', 0)}，"
        f"群发通知 {campaign.recipients} 人；财务账号 {username}（{name}）")
