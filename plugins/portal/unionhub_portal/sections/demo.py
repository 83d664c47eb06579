"""Demo content for the sections that hold articles (news lists, notices, document libraries):
a few hundred articles written from the phrase banks in :mod:`.demo_text`, dated over the last
twelve months, with summaries, tags, sources, authors and view counts; headline articles with
drawn covers, documents and notices with PDF or text attachments; notices aimed at one union's
subtree (朝阳区总工会, 交通运输工会 …) or at a member group; a few articles only on the mobile
site or the app; some drafts, some waiting for review, scheduled, expired or taken offline; and
the first revision of each. Everything is inserted in bulk and queued for search indexing.
Deterministic for a given ``ctx.rng`` (dates are relative to now).
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from unionhub.db import utcnow
from unionhub.groups.models import MemberGroup
from unionhub.orgs.models import Org
from unionhub.search.queue import enqueue_select
from unionhub.web.richtext import ARTICLE

from ..models import (
    PLATFORMS,
    ArticleState,
    PortalArticle,
    PortalArticleGroup,
    PortalAttachment,
    PortalRevision,
    PortalSection,
    SectionKind,
)
from . import demo_files
from . import demo_text as T

SHANGHAI = ZoneInfo("Asia/Shanghai")
ARTICLE_KINDS = (SectionKind.NEWS, SectionKind.NOTICE, SectionKind.DOCUMENTS)
CITY, CHAOYANG, HAIDIAN, TRANSPORT, EDUCATION = "110000", "110105", "110108", "119001", "119002"
#: Officers who write for a union (demo usernames in unionhub.demo.OFFICERS).
WRITERS = {CHAOYANG: "chaoyang", HAIDIAN: "haidian", TRANSPORT: "jiaotong"}
NUMERALS = "零一二三四五六七八九十"
#: Words marking a guide or explainer rather than a report of an event.
EXPLAINERS = ("指南", "解读", "问答", "一图", "图解", "读懂", "解答", "以案说法", "案例",
              "学习园地", "理论学习", "学习笔记", "专题辅导", "招聘", "提醒", "提示", "读书会")

#: Notices a union issues to its own subtree only ({issuer} is the union's name).
TARGETED_NOTICES: dict[str, tuple[str, ...]] = {
    CHAOYANG: (
        "{issuer}关于组织开展{year}年职工疗休养活动的通知",
        "{issuer}关于举办职工{sport}友谊赛的通知",
        "{issuer}关于开展新就业形态劳动者集中入会活动的通知",
        "{issuer}关于望京地区户外劳动者服务站点开放的公告",
        "{issuer}关于做好{year}年度基层工会经费审查工作的通知",
        "{issuer}关于举办职工子女暑期托管班的通知",
    ),
    TRANSPORT: (
        "{issuer}关于开展“安康杯”行车安全竞赛的通知",
        "{issuer}关于组织公交驾驶员健康体检的通知",
        "{issuer}关于举办{year}年公交驾驶员职业技能竞赛的通知",
        "{issuer}关于做好夏季一线职工防暑降温工作的通知",
        "{issuer}关于地铁一线职工疗休养安排的通知",
    ),
    HAIDIAN: (
        "{issuer}关于中关村园区职工心理健康服务的通知",
        "{issuer}关于举办软件园职工篮球联赛的通知",
    ),
    EDUCATION: (
        "{issuer}关于开展教职工“师德标兵”推荐工作的通知",
        "{issuer}关于组织教职工暑期疗休养的通知",
    ),
}
#: Notices for one member group (looked up by code; skipped when the group is missing).
GROUP_NOTICES = {
    "model_worker": "关于组织{year}年劳动模范健康体检和疗休养的通知",
    "female": "关于女职工“两癌”免费筛查预约的通知",
}


@dataclass
class Draft:
    """One article being put together (column values, then what hangs off it)."""

    row: dict[str, Any]
    kind: str
    groups: list[int] = field(default_factory=list)
    cover: bool = False
    files: list[tuple[str, str, bytes]] = field(default_factory=list)  # name, type, bytes
    id: int = 0


def _person(rng: random.Random) -> str:
    """A name of two or three characters."""
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(T.SURNAMES) + rng.choice(T.GIVEN)
    if roll < 0.7:
        return rng.choice(T.SURNAMES) + rng.choice(T.GIVEN_TWO)
    return rng.choice(T.SURNAMES) + rng.choice(T.GIVEN) + rng.choice(T.GIVEN)


def _cn_number(n: int) -> str:
    if n <= 10:
        return NUMERALS[n]
    if n < 20:
        return "十" + NUMERALS[n - 10]
    tens, ones = divmod(n, 10)
    return NUMERALS[tens] + "十" + (NUMERALS[ones] if ones else "")


class Writer:
    """Fills templates and writes titles, summaries and bodies for one run."""

    def __init__(self, rng: random.Random, orgs: dict[str, Org], now: datetime) -> None:
        self.rng = rng
        self.orgs = orgs
        self.now = now
        self.titles: set[str] = set()
        districts = [o for o in orgs.values() if o.depth == 1]
        self.city = orgs.get(CITY) or min(orgs.values(), key=lambda o: (o.depth, o.id))
        self.districts = districts or [self.city]

    def slots(self, owner: Org, when: datetime) -> dict[str, Any]:
        rng = self.rng
        local = when.astimezone(SHANGHAI)
        later = local + timedelta(days=rng.randint(10, 40))
        district = (owner.name.removesuffix("总工会") if owner.name.endswith("区总工会")
                    else rng.choice(T.DISTRICTS))
        return {
            "org": owner.name, "issuer": owner.name, "district": district,
            "company": rng.choice(T.COMPANIES), "job": rng.choice(T.JOBS),
            "person": _person(rng), "sport": rng.choice(T.SPORTS), "place": rng.choice(T.PLACES),
            "year": local.year, "month": local.month, "day": local.day,
            "year2": later.year, "month2": later.month, "day2": later.day,
            "n": rng.randint(2, 9),
            "m": rng.randint(3, 12), "k": rng.randint(1, 4),
            "amount": rng.choice((800, 1500, 2000, 3000, 5000, 8000)),
            "wan": rng.choice((12, 35, 80, 150, 320, 680)),
            "gift": rng.choice((500, 800, 1000, 2000)),
        }

    def title(self, templates: tuple[str, ...], slots: dict[str, Any]) -> str | None:
        """A title not used yet in this run (None after a few tries)."""
        for _attempt in range(12):
            slots = {**slots, "company": self.rng.choice(T.COMPANIES),
                     "job": self.rng.choice(T.JOBS), "person": _person(self.rng),
                     "n": self.rng.randint(2, 60), "m": self.rng.randint(2, 9)}
            title = self.rng.choice(templates).format(**slots)
            if title not in self.titles:
                self.titles.add(title)
                return title
        return None

    def news_body(self, bank: T.Bank, slots: dict[str, Any], lead: str, report: bool) -> str:
        """A report opens with its date (``近日，…``); a guide or explainer does not."""
        rng = self.rng
        opener = rng.choice(T.PARAGRAPH_OPENERS).format(**slots) + "，" if report else ""
        parts = [f"<p>{opener}{lead}</p>"]
        picked = rng.sample(bank.paragraphs, min(len(bank.paragraphs), rng.randint(3, 4)))
        for i, paragraph in enumerate(picked):
            if i == 2 and rng.random() < 0.4:
                parts.append(f"<h3>{rng.choice(('服务暖心', '亮点纷呈', '务实管用', '成效明显'))}"
                             "</h3>")
            parts.append(f"<p>{paragraph.format(**slots)}</p>")
        parts.append(f"<p>{rng.choice(T.CLOSINGS).format(**slots)}</p>")
        return "\n".join(parts)

    def notice_body(self, title: str, slots: dict[str, Any], issuer: Org,
                    attachment: str | None) -> str:
        rng = self.rng
        action = re.sub(r"^.*?关于", "", title)
        action = re.sub(r"的(通知|公告|公示)$", "", action)
        addressee = ("各区总工会、各产业工会，各基层工会：" if issuer.depth == 0
                     else "各街道（乡镇）总工会、各基层工会：")
        parts = [f"<p>{addressee}</p>",
                 f"<p>{rng.choice(T.NOTICE_PURPOSES)}经研究，决定{action}。"
                 "现将有关事项通知如下：</p>"]
        items = rng.sample(T.NOTICE_ITEMS, 4)
        for i, (head, text) in enumerate(items, start=1):
            parts.append(f"<h3>{_cn_number(i)}、{head}</h3>")
            parts.append(f"<p>{text.format(**slots)}</p>")
        parts.append(f"<p>联系人：{slots['person']}，联系电话：010-"
                     f"{rng.randint(60000000, 89999999)}。</p>")
        if attachment:
            parts.append(f"<p>附件：{attachment}</p>")
        local = self.now.astimezone(SHANGHAI) if slots.get("_date") is None else slots["_date"]
        parts.append(f"<p>{issuer.name}<br>{local.year}年{local.month}月{local.day}日</p>")
        return "\n".join(parts)

    def document_body(self, title: str, slots: dict[str, Any]) -> tuple[str, str, str]:
        """(body, summary, plain text for the attached copy)."""
        rng = self.rng
        topic = re.sub(r"^(北京市总工会|北京市工会|北京市)", "", title)
        topic = re.sub(r"(管理办法|实施细则|实施办法|工作办法|操作规程|管理规定|工作规定|"
                       r"建设规范|服务规范|工作规则|工作指引|细则|办法|规定|规范|意见)$", "",
                       topic) or "工会"
        doctype = next((t for t in ("细则", "规程", "规定", "规范", "规则", "指引", "意见")
                        if title.endswith(t)), "办法")
        number = f"京工发〔{slots['year']}〕{rng.randint(3, 48)}号"
        parts = [f"<p>（{number}）</p>"]
        lines = [number]
        article = 0
        chapters = T.CHAPTERS if rng.random() < 0.7 else ("总则", "管理与使用", "附则")
        for c, chapter in enumerate(chapters, start=1):
            head = f"第{_cn_number(c)}章　{chapter}"
            parts.append(f"<h3>{head}</h3>")
            lines.append(head)
            for text in T.DOC_ARTICLES[chapter]:
                article += 1
                sentence = text.format(topic=topic, doctype=doctype, **slots)
                parts.append(f"<p><strong>第{_cn_number(article)}条</strong>　{sentence}</p>")
                lines.append(f"第{_cn_number(article)}条　{sentence}")
        summary = (f"本{doctype}共{_cn_number(len(chapters))}章{_cn_number(article)}条，"
                   f"对{topic}工作的职责分工、申请审批、管理使用和监督检查等作出规定。")
        return "\n".join(parts), summary, "\n".join(lines)

    def resolution_body(self, title: str, slots: dict[str, Any]) -> tuple[str, str, str]:
        """(body, summary, plain text) of a workers' congress resolution or disclosure list."""
        rng = self.rng
        items = [t.format(**slots) for t in rng.sample(T.RESOLUTION_ITEMS, 4)]
        intro = (f"{slots['company']}第{_cn_number(slots['k'] + 1)}届职工代表大会第"
                 f"{_cn_number(slots['m'])}次会议于{slots['year']}年{slots['month']}月"
                 f"{slots['day']}日召开，应到职工代表{slots['n']}0名，实到"
                 f"{slots['n']}0名，符合规定人数。会议")
        body = (f"<p>{intro}：</p>\n<ol>" + "".join(f"<li>{i}；</li>" for i in items)
                + "</ol>\n<p>会议要求，要认真落实大会各项决议，依法保障职工的知情权、参与权、"
                "表达权和监督权。</p>")
        summary = f"{intro}{items[0]}等{_cn_number(len(items))}项事项。"
        return body, summary, "\n".join([intro, *items])

    def guide_body(self, slots: dict[str, Any]) -> tuple[str, str]:
        parts, lines = [], []
        for i, (head, text) in enumerate(T.GUIDE_STEPS, start=1):
            filled = text.format(**slots)
            parts.append(f"<h3>{_cn_number(i)}、{head}</h3><p>{filled}</p>")
            lines.append(f"{_cn_number(i)}、{head}：{filled}")
        return "\n".join(parts), "\n".join(lines)


def _headline_sentence(title: str) -> str:
    """The title as the lead's first sentence: a column prefix such as ``以案说法：`` or
    ``劳模风采｜`` dropped, the space of a two-part headline made a comma."""
    sentence = re.sub(r"^[^：｜0-9]{2,8}[：｜]", "", title)
    return sentence.replace(" ", "，")


def _attachments_dir() -> Path:
    folder = Path(current_app.instance_path) / "portal" / "attachments"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _when(rng: random.Random, now: datetime) -> datetime:
    """A moment in the last twelve months, more often recent, in office hours (Beijing)."""
    days = int(rng.random() ** 1.5 * 360) + 1
    local = (now - timedelta(days=days)).astimezone(SHANGHAI)
    local = local.replace(hour=rng.randint(8, 18), minute=rng.randint(0, 59), second=0,
                          microsecond=0)
    return local.astimezone(UTC)


def _tags(rng: random.Random, pool: tuple[str, ...]) -> str:
    return ",".join(rng.sample(pool, min(len(pool), rng.randint(1, 3))))


def _row(section: PortalSection, owner: Org, title: str, summary: str, body: str,
         when: datetime, **extra: Any) -> dict[str, Any]:
    row = {"section_id": section.id, "slug": None, "title": title[:200],
           "summary": summary[:500], "body_html": ARTICLE.clean(body), "cover_id": None,
           "tags": None, "source": None, "author": None, "state": ArticleState.PUBLISHED,
           "published_at": when, "expires_at": None, "headline": False, "pinned": False,
           "owner_org_id": owner.id, "view_count": 0, "seo_title": None,
           "seo_description": None, "seo_keywords": None, "revision": 1,
           "needs_signoff": False, "approval_ref": None, "review_note": None,
           "audience_org_id": None, "has_groups": False, "on_pc": True, "on_mobile": True,
           "on_app": True, "created_by": None, "updated_by": None, "created_at": when,
           "updated_at": when}
    row.update(extra)
    return row


def _news(w: Writer, section: PortalSection, count: int) -> list[Draft]:
    rng = w.rng
    bank = T.BANKS.get(section.code, T.NEWS)
    out: list[Draft] = []
    for _i in range(count):
        owner = w.city if rng.random() < 0.6 else rng.choice(w.districts)
        when = _when(rng, w.now)
        slots = w.slots(owner, when)
        title = w.title(bank.titles, slots)
        if title is None:
            continue
        report = not any(word in title for word in EXPLAINERS)
        first = (_headline_sentence(title) if report
                 else rng.choice(("为帮助广大职工了解相关政策和办理流程，现整理如下",
                                  "现将有关内容整理如下，供职工和工会干部参考")))
        lead = f"{first}。{rng.choice(bank.summaries).format(**slots)}"
        summary = lead
        body = w.news_body(bank, slots, lead, report)
        author = rng.choice(("记者 ", "通讯员 ", "")) + _person(rng)
        source = owner.name if owner is not w.city and rng.random() < 0.4 else rng.choice(
            bank.sources)
        out.append(Draft(_row(section, owner, title, summary, body, when,
                              tags=_tags(rng, bank.tags), source=source, author=author),
                         section.kind))
    return out


def _notices(w: Writer, section: PortalSection, count: int,
             groups: dict[str, MemberGroup]) -> list[Draft]:
    rng = w.rng
    out: list[Draft] = []
    plans: list[tuple[str, Org, str | None]] = []  # template, issuer, group code
    for code, templates in TARGETED_NOTICES.items():
        org = w.orgs.get(code)
        if org is not None:
            plans += [(t, org, None) for t in templates]
    plans += [(t, w.city, code) for code, t in GROUP_NOTICES.items() if code in groups]
    while len(plans) < count:
        owner = w.city if rng.random() < 0.75 else rng.choice(w.districts)
        plans.append((rng.choice(T.NOTICE_TITLES), owner, None))
    for template, issuer, group_code in plans:
        targeted = issuer.code in TARGETED_NOTICES and template in TARGETED_NOTICES[issuer.code]
        when = _when(rng, w.now)
        slots = w.slots(issuer, when)
        slots["_date"] = when.astimezone(SHANGHAI)
        title = w.title((template,), slots)
        if title is None:
            continue
        files: list[tuple[str, str, bytes]] = []
        attachment = None
        if rng.random() < 0.18 or (targeted and rng.random() < 0.3):
            attachment = "报名表" if "举办" in title or "组织" in title else "有关事项说明"
            text = (f"{title}\n\n单位名称：\n联系人：\n联系电话：\n参加人数：\n\n"
                    f"请于{slots['month2']}月{slots['day2']}日前报送。\n{issuer.name}")
            if rng.random() < 0.5:
                files.append((f"{attachment}.txt", "text/plain; charset=utf-8",
                              demo_files.text_file(attachment, text)))
                attachment += ".txt"
            else:
                files.append((f"{attachment}.pdf", "application/pdf",
                              demo_files.pdf(attachment, text)))
                attachment += ".pdf"
        body = w.notice_body(title, slots, issuer, attachment)
        summary = f"{issuer.name}印发《{re.sub(r'^.*?关于', '关于', title)}》，" + rng.choice((
            "请各单位认真组织落实。", "请各单位按要求做好相关工作。",
            "请符合条件的会员按时报名。", "特此通知。"))
        extra: dict[str, Any] = {"tags": _tags(rng, ("通知", "公告", "公示", "工会工作")),
                                 "source": issuer.name}
        if targeted:
            extra["audience_org_id"] = issuer.id
        if rng.random() < 0.35:  # the application window closes some weeks later
            extra["expires_at"] = w.now + timedelta(days=rng.randint(7, 60))
        draft = Draft(_row(section, issuer, title, summary, body, when, **extra),
                      section.kind, files=files)
        if group_code is not None:
            draft.groups = [groups[group_code].id]
            draft.row["has_groups"] = True
        out.append(draft)
    return out


def _documents(w: Writer, section: PortalSection, count: int) -> list[Draft]:
    rng = w.rng
    out: list[Draft] = []
    if section.code == "service_guide":
        titles = T.SERVICE_GUIDE_TITLES
    elif section.code == "democracy":
        titles = T.DEMOCRACY_TITLES
    else:
        titles = T.DOCUMENT_TITLES
    for i in range(count):
        template, slug = titles[i % len(titles)]
        when = _when(rng, w.now)
        slots = w.slots(w.city, when)
        title = w.title((template,), slots)
        if title is None:
            continue
        files: list[tuple[str, str, bytes]] = []
        if section.code == "service_guide":
            body, text = w.guide_body(slots)
            summary = f"{title.removesuffix('办事指南')}的办理对象、条件、材料、流程和时限。"
            if "表格" in title or rng.random() < 0.25:
                name = title.split("：")[-1]
                files.append((f"{name}.pdf", "application/pdf", demo_files.pdf(name, text)))
                body += f"\n<p>附件：{name}.pdf</p>"
        elif "决议" in title or "清单" in title:
            slots["company"] = title.split(str(slots["year"]))[0]
            body, summary, text = w.resolution_body(title, slots)
        else:
            body, summary, text = w.document_body(title, slots)
            if rng.random() < 0.45:
                files.append((f"{title}.pdf", "application/pdf", demo_files.pdf(title, text)))
                body += f"\n<p>附件：{title}.pdf</p>"
        out.append(Draft(_row(section, w.city, title, summary, body, when,
                              slug=slug if i < len(titles) else None,
                              tags=_tags(rng, ("文件", "制度", "办事指南" if "指南" in title
                                               else "管理办法", "工会工作")),
                              source="北京市总工会办公室"), section.kind, files=files))
    return out


def _vary(w: Writer, drafts: list[Draft]) -> None:
    """Headlines and covers, view counts, states, platforms, pinned notices."""
    rng = w.rng
    now = w.now
    news = [d for d in drafts if d.kind == SectionKind.NEWS and not d.row["audience_org_id"]]
    recent = sorted(news, key=lambda d: d.row["published_at"], reverse=True)[:40]
    for d in rng.sample(recent, min(8, len(recent))):
        d.row["headline"] = d.cover = True
        d.row["seo_title"] = d.row["title"][:120]
        d.row["seo_description"] = d.row["summary"][:300]
        d.row["seo_keywords"] = d.row["tags"]
    for d in rng.sample(news, min(22, len(news))):
        d.cover = True
    for d in drafts:
        age = max(1.0, (now - d.row["published_at"]).days)
        views = int(rng.lognormvariate(4.6, 0.8) * (1 + min(age, 90) / 30))
        d.row["view_count"] = views * (4 if d.row["headline"] else 1)
    plain = [d for d in drafts if not d.row["audience_org_id"] and not d.groups
             and not d.row["headline"]]
    rng.shuffle(plain)
    take = iter(plain)
    for _i in range(6):
        d = next(take)
        d.row.update(state=ArticleState.DRAFT, published_at=None, view_count=0)
    for _i in range(5):
        d = next(take)
        d.row.update(state=ArticleState.PENDING, published_at=None, view_count=0)
    for _i in range(4):
        d = next(take)
        d.row.update(published_at=now + timedelta(days=rng.randint(1, 10), hours=rng.randint(0, 8)),
                     view_count=0, expires_at=None)
    for _i in range(3):
        d = next(take)
        d.row.update(state=ArticleState.OFFLINE)
    notices = [d for d in take if d.kind == SectionKind.NOTICE]
    for d in notices[:4]:  # the deadline passed
        d.row["published_at"] = now - timedelta(days=rng.randint(30, 200))
        d.row["expires_at"] = d.row["published_at"] + timedelta(days=rng.randint(7, 25))
    for d in notices[4:7]:
        d.row["pinned"] = True
        d.row["expires_at"] = None
        d.row["published_at"] = now - timedelta(days=rng.randint(1, 20))
    others = [d for d in plain[18:] if d.row["state"] == ArticleState.PUBLISHED
              and d not in notices[:7]]
    for d, platforms in zip(others[:7], (("mobile",),) * 3 + (("app",),) * 2 + (("pc",),) * 2,
                            strict=False):
        d.row.update({f"on_{p}": p in platforms for p in PLATFORMS})


def _store_files(session: Session, drafts: list[Draft], rng: random.Random,
                 created_by: int | None) -> dict[int, int]:
    """Write covers and files, insert their rows; returns article id → cover attachment id."""
    folder = _attachments_dir()
    rows: list[dict[str, Any]] = []
    covers: list[int] = []  # article ids, in the order of their cover rows
    for d in drafts:
        planned = [("封面.png", "image/png", demo_files.cover_png(rng))] if d.cover else []
        for index, (name, content_type, data) in enumerate([*planned, *d.files]):
            ext = name.rsplit(".", 1)[-1]
            stored = f"{rng.getrandbits(128):032x}.{ext}"
            (folder / stored).write_bytes(data)
            image = content_type.startswith("image/")
            rows.append({"article_id": d.id, "kind": "image" if image else "file",
                         "filename": name, "stored_name": stored, "content_type": content_type,
                         "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                         "downloads": 0 if image else rng.randint(0, 240),
                         "created_by": created_by, "created_at": d.row["created_at"]})
            if image and index == 0:
                covers.append(d.id)
    if not rows:
        return {}
    ids = list(session.scalars(insert(PortalAttachment).returning(
        PortalAttachment.id, sort_by_parameter_order=True), rows))
    cover_ids: dict[int, int] = {}
    for row, attachment_id in zip(rows, ids, strict=True):
        if row["kind"] == "image" and row["article_id"] in covers \
                and row["article_id"] not in cover_ids:
            cover_ids[row["article_id"]] = attachment_id
    return cover_ids


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _revision(d: Draft, created_by: int | None) -> dict[str, Any]:
    r = d.row
    meta = {"section_id": r["section_id"], "slug": r["slug"], "tags": r["tags"],
            "source": r["source"], "author": r["author"], "cover_id": r["cover_id"],
            "audience_org_id": r["audience_org_id"], "groups": sorted(d.groups),
            "platforms": [p for p in PLATFORMS if r[f"on_{p}"]],
            "published_at": _iso(r["published_at"]), "expires_at": _iso(r["expires_at"]),
            "headline": r["headline"], "pinned": r["pinned"], "seo_title": r["seo_title"],
            "seo_description": r["seo_description"], "seo_keywords": r["seo_keywords"]}
    return {"article_id": d.id, "number": 1, "title": r["title"], "summary": r["summary"],
            "body_html": r["body_html"], "meta": meta, "note": "初稿",
            "created_by": created_by, "created_at": r["created_at"]}


def build(session: Session, ctx: Any, now: datetime | None = None) -> list[Draft]:
    """Write (not insert) the demo's articles for every news, notice and document section."""
    now = now or utcnow()
    w = Writer(ctx.rng, ctx.orgs, now)
    groups = {g.code: g for g in session.scalars(select(MemberGroup).where(
        MemberGroup.code.in_(list(GROUP_NOTICES))))}
    drafts: list[Draft] = []
    for section in session.scalars(select(PortalSection).where(
            PortalSection.kind.in_(ARTICLE_KINDS)).order_by(PortalSection.sort, PortalSection.id)):
        count = T.COUNTS.get(section.code, T.DEFAULT_COUNTS[section.kind])
        if section.kind == SectionKind.NOTICE:
            drafts += _notices(w, section, count, groups)
        elif section.kind == SectionKind.DOCUMENTS:
            drafts += _documents(w, section, count)
        else:
            drafts += _news(w, section, count)
    _vary(w, drafts)
    return drafts


def seed(session: Session, ctx: Any) -> None:
    """Insert the demo articles with their attachments, audiences and first revisions."""
    drafts = build(session, ctx)
    if not drafts:
        return
    officers = getattr(ctx, "officers", {}) or {}
    default_writer = officers.get("city") or officers.get("admin")
    for d in drafts:
        writer = officers.get(WRITERS.get(_org_code(ctx, d.row["owner_org_id"]), ""),
                              default_writer)
        d.row["created_by"] = d.row["updated_by"] = getattr(writer, "id", None)
        if d.row["published_at"] is None or d.row["published_at"] > utcnow():
            d.row["created_at"] = d.row["updated_at"] = utcnow() - timedelta(
                hours=ctx.rng.randint(2, 200))
        else:
            d.row["created_at"] = d.row["published_at"] - timedelta(hours=ctx.rng.randint(1, 30))
            d.row["updated_at"] = d.row["published_at"]
    ids = list(session.scalars(insert(PortalArticle).returning(
        PortalArticle.id, sort_by_parameter_order=True), [d.row for d in drafts]))
    for d, article_id in zip(drafts, ids, strict=True):
        d.id = article_id
    cover_ids = _store_files(session, drafts, ctx.rng, getattr(default_writer, "id", None))
    if cover_ids:
        session.execute(update(PortalArticle), [{"id": a, "cover_id": c}
                                                for a, c in cover_ids.items()])
    for d in drafts:
        d.row["cover_id"] = cover_ids.get(d.id)
    links = [{"article_id": d.id, "group_id": g} for d in drafts for g in d.groups]
    if links:
        session.execute(insert(PortalArticleGroup), links)
    session.execute(insert(PortalRevision), [_revision(d, d.row["created_by"]) for d in drafts])
    enqueue_select(session, "portal.article", select(PortalArticle.id).where(
        PortalArticle.id.between(min(ids), max(ids))))
    session.flush()
    live = sum(1 for d in drafts if d.row["state"] == ArticleState.PUBLISHED
               and d.row["published_at"] <= utcnow())
    targeted = sum(1 for d in drafts if d.row["audience_org_id"] or d.groups)
    ctx.lines.append(f"门户网站：{len(drafts)} 篇文章（已发布 {live} 篇，定向发布 {targeted} 篇），"
                     f"{len(cover_ids)} 张封面图；访问 /portal/ 或手机 /portal/m/")


def _org_code(ctx: Any, org_id: int) -> str:
    for code, org in ctx.orgs.items():
        if org.id == org_id:
            return str(code)
    return ""
