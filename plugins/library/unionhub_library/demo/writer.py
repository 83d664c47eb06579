"""Writing the demo's books: titles, authors, summaries and chapters of generated Chinese text
from the phrase banks in :mod:`.subjects`, for every top-level 中图法 class in proportion to
its weight (and at least a few in each). Pure: a :class:`random.Random` in, plans out — the
same generator state writes the same books.

Non-fiction chapters are paragraphs of expository sentences about the book's topic and the
chapter's aspect, mixed with sentences only that class would say, some split into sections
(``## `` lines, which :func:`unionhub_library.epubgen.make_epub` turns into headings and
table-of-contents entries). Literature (class I) is narrative: two characters, a place, scenes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..models import Licence
from .subjects import (
    EXPOSITION,
    OPENERS,
    STORY_CHAPTERS,
    STORY_PLACES,
    STORY_SEASONS,
    STORY_SENTENCES,
    STORY_THINGS,
    STORY_TIMES,
    STORY_TITLES,
    SUBJECTS,
    Subject,
)

SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕"
            "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰涛明超霞平刚华欣鹏宇婷浩雪凯琳斌宁晨阳帆峰岚蕾颖君健辉波"
         "玲丹萍莉红梅兰松柏桦")
SUMMARY_VERBS = ("系统介绍了", "围绕", "通俗讲解了", "结合大量实例讲述了")
SUMMARY_STYLES = ("语言通俗，条理清晰", "理论联系实际", "图文并茂，便于查阅", "案例丰富，实用性强")
STORY_TURNS = ("挫折与坚持", "离别与重逢", "比武与考验", "失落与希望")
STORY_ENDINGS = ("写出了普通劳动者的平凡与伟大。", "展现了新时代产业工人的精神风貌。",
                 "笔调朴素而温暖。")
JOBS = ("公交驾驶员", "地铁司机", "电工", "焊工", "数控车工", "汽车维修工", "护士", "快递员",
        "环卫工人", "燃气抢修工", "钳工", "电梯维修工", "教师", "厨师", "机场地勤")
PLACES = ("朝阳区", "海淀区", "丰台区", "通州区", "大兴区", "亦庄", "望京", "中关村",
          "长辛店", "石景山", "顺义", "房山")
NUMERALS = "零一二三四五六七八九十"
#: Share of the books that are lent with a few copies, written as EPUB 2, or plain text.
LENT_SHARE, EPUB2_SHARE, TXT_SHARE = 0.12, 0.25, 0.04


@dataclass
class BookPlan:
    """One demo book, before it is a file."""

    code: str
    title: str
    authors: list[str]
    publisher: str
    year: int
    isbn_number: int
    summary: str
    tags: list[str]
    chapters: list[tuple[str, str]]
    licence: str = Licence.OPEN
    copies: int = 0
    epub_version: int = 3
    format: str = "epub"
    hue: int = 0
    subjects: list[str] = field(default_factory=list)


def cn_number(n: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十 (enough for chapter numbers)."""
    if n <= 10:
        return NUMERALS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else NUMERALS[tens]) + "十" + (NUMERALS[ones] if ones else "")


class Writer:
    """Writes books with one random generator; keeps titles unique within a run."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.titles: set[str] = set()
        # A pool of authors, some of them prolific (an author page with several books).
        self.authors = list(dict.fromkeys(self.name() for _ in range(260)))

    def name(self) -> str:
        rng = self.rng
        given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
        return rng.choice(SURNAMES) + given

    def author_list(self) -> list[str]:
        rng = self.rng
        count = 1 if rng.random() < 0.8 else 2
        picks = {self.authors[min(int(rng.paretovariate(1.1)) - 1, len(self.authors) - 1)
                              if rng.random() < 0.3 else rng.randrange(len(self.authors))]
                 for _ in range(count)}
        return sorted(picks)

    # -- non-fiction ----------------------------------------------------------------------

    def _slots(self, subject: Subject, topic: str, aspect: str) -> dict[str, object]:
        rng = self.rng
        others = [a for a in subject.aspects if a != aspect] or [aspect]
        return {"t": topic, "a": aspect, "a2": rng.choice(others), "p": self.name(),
                "n": cn_number(rng.randint(2, 9)), "job": rng.choice(JOBS),
                "place": rng.choice(PLACES)}

    def paragraph(self, subject: Subject, topic: str, aspect: str) -> str:
        """Three to six sentences on ``aspect`` (the names and numbers in them are drawn once
        per paragraph: a paragraph is about one person, one place)."""
        rng = self.rng
        slots = self._slots(subject, topic, aspect)
        sentences = []
        for i in range(rng.randint(3, 6)):
            pool = subject.facts if subject.facts and rng.random() < 0.22 else EXPOSITION
            sentence = rng.choice(pool).format_map(slots)
            # an opener only before a sentence that does not start with its own clause
            opener = rng.choice(OPENERS) if i == 0 and "，" not in sentence[:8] else ""
            sentences.append(opener + sentence)
        return "".join(dict.fromkeys(sentences))  # a sentence drawn twice is said once

    def chapter(self, subject: Subject, topic: str, number: int, aspect: str) -> tuple[str, str]:
        rng = self.rng
        lines: list[str] = []
        sections = rng.choice((0, 0, 2, 3))
        if sections:
            others = rng.sample([a for a in subject.aspects if a != aspect],
                                min(sections, len(subject.aspects) - 1))
            lines += [self.paragraph(subject, topic, aspect) for _ in range(rng.randint(1, 2))]
            for i, sub in enumerate(others, start=1):
                lines.append(f"## {cn_number(i)}、{sub}")
                lines += [self.paragraph(subject, topic, sub) for _ in range(rng.randint(2, 4))]
        else:
            lines += [self.paragraph(subject, topic, aspect) for _ in range(rng.randint(5, 10))]
        return f"第{cn_number(number)}章 {aspect}", "\n".join(lines)

    def nonfiction(self, subject: Subject) -> tuple[str, str, list[tuple[str, str]], str]:
        """(title, topic, chapters, summary)."""
        rng = self.rng
        topic = rng.choice(subject.topics)
        title = self._unique(lambda: rng.choice(subject.titles).format(
            t=topic if rng.random() < 0.9 else rng.choice(subject.topics),
            t2=rng.choice(subject.topics), y=rng.randint(2015, 2025)))
        count = rng.randint(5, min(12, len(subject.aspects) + 1))
        aspects = rng.sample(subject.aspects, min(count, len(subject.aspects)))
        chapters = []
        if rng.random() < 0.3:
            chapters.append(("前言", "\n".join(self.paragraph(subject, topic, aspects[0])
                                                 for _ in range(2))))
        for number, aspect in enumerate(aspects, start=1):
            chapters.append(self.chapter(subject, topic, number, aspect))
        chapters = chapters[:12]
        covered = "、".join(aspects[:3])
        audience = rng.choice(("广大职工", "基层工会干部", "初学者", "一线技术工人",
                               "对此感兴趣的读者", "职工读书会"))
        summary = (f"本书{rng.choice(SUMMARY_VERBS)}{topic}的{covered}等内容，"
                   f"{rng.choice(SUMMARY_STYLES)}，适合{audience}阅读。")
        return title, topic, chapters, summary

    # -- fiction --------------------------------------------------------------------------

    def story_title(self) -> str:
        rng = self.rng
        things = rng.sample(STORY_THINGS, 2)
        return rng.choice(STORY_TITLES).format(
            place=rng.choice(STORY_PLACES), thing=things[0], thing2=things[1],
            season=rng.choice(STORY_SEASONS), time=rng.choice(STORY_TIMES),
            job=rng.choice(JOBS))

    def story(self, subject: Subject) -> tuple[str, str, list[tuple[str, str]], str]:
        rng = self.rng
        base = self._unique(self.story_title)
        template = rng.choice(subject.titles)
        title = template.format(t=base)
        self.titles.add(title)
        a, b = self.name(), self.name()
        place, job = rng.choice(STORY_PLACES), rng.choice(JOBS)
        scenes = rng.sample(STORY_CHAPTERS, rng.randint(5, 12))
        chapters = []
        for number, scene in enumerate(scenes, start=1):
            heading = scene.format(place=place, thing=rng.choice(STORY_THINGS), name=a)
            paragraphs = []
            for _ in range(rng.randint(6, 12)):
                sentences = [rng.choice(STORY_SENTENCES).format(
                    a=a, b=b, place=place, thing=rng.choice(STORY_THINGS), job=job)
                    for _ in range(rng.randint(2, 6))]
                paragraphs.append("".join(dict.fromkeys(sentences)))
            chapters.append((f"第{cn_number(number)}章 {heading}", "\n".join(paragraphs)))
        summary = (f"{rng.choice(('小说', '作品', '本书'))}讲述了年轻的{job}{a}在{place}"
                   f"成长的故事。在师傅{b}的带领下，{a}经历了"
                   f"{rng.choice(STORY_TURNS)}，{rng.choice(STORY_ENDINGS)}")
        return title, base, chapters, summary

    def _unique(self, make: object) -> str:
        for _attempt in range(40):
            title = make()  # type: ignore[operator]
            if title not in self.titles:
                self.titles.add(title)
                return str(title)
        title = f"{make()}（{cn_number(len(self.titles) % 10 + 1)}）"  # type: ignore[operator]
        self.titles.add(title)
        return title

    # -- a catalogue ----------------------------------------------------------------------

    def book(self, subject: Subject, isbn_number: int) -> BookPlan:
        rng = self.rng
        if subject.fiction:
            title, topic, chapters, summary = self.story(subject)
        else:
            title, topic, chapters, summary = self.nonfiction(subject)
        tags = rng.sample(subject.tags, min(len(subject.tags), rng.randint(1, 3)))
        plan = BookPlan(code=subject.code, title=title, authors=self.author_list(),
                        publisher=rng.choice(subject.publishers),
                        year=rng.choice((*range(2008, 2026), *range(2018, 2026))),
                        isbn_number=isbn_number, summary=summary, tags=tags, chapters=chapters,
                        hue=rng.randrange(360), subjects=[topic] if topic else [])
        roll = rng.random()
        if roll < LENT_SHARE:
            plan.licence, plan.copies = Licence.LENT, rng.choice((1, 1, 2, 2, 3))
        roll = rng.random()
        if roll < TXT_SHARE:
            plan.format = "txt"
        elif roll < TXT_SHARE + EPUB2_SHARE:
            plan.epub_version = 2
        return plan


def allocate(total: int, minimum: int = 4) -> dict[str, int]:
    """How many books each class gets: ``minimum`` each (fewer when ``total`` is too small
    for that), the rest by weight."""
    minimum = min(minimum, total // len(SUBJECTS))
    counts = {s.code: minimum for s in SUBJECTS}
    rest = max(total - minimum * len(SUBJECTS), 0)
    weights = sum(s.weight for s in SUBJECTS)
    shares = {s.code: rest * s.weight / weights for s in SUBJECTS}
    for code, share in shares.items():
        counts[code] += int(share)
    leftover = total - sum(counts.values())
    for code in sorted(shares, key=lambda c: shares[c] - int(shares[c]), reverse=True):
        if leftover <= 0:
            break
        counts[code] += 1
        leftover -= 1
    return counts


def plan_books(rng: random.Random, total: int) -> list[BookPlan]:
    """``total`` books over every class, in a shuffled order (the order they are added)."""
    writer = Writer(rng)
    counts = allocate(total)
    numbers = rng.sample(range(10_000_000, 99_999_999), total)
    plans = [writer.book(subject, numbers.pop())
             for subject in SUBJECTS for _ in range(counts[subject.code])]
    rng.shuffle(plans)
    return plans


def as_text(plan: BookPlan) -> str:
    """A plain-text edition: the title, the author line and the chapters."""
    parts = [plan.title, "、".join(plan.authors) + " 著", ""]
    for heading, body in plan.chapters:
        parts += [heading, ""]
        parts += [("　　" + line) if not line.startswith("## ") else line[3:]
                  for line in body.splitlines()]
        parts.append("")
    return "\n".join(parts)
