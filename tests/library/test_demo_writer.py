"""The demo's book writer on its own (no database): the same generator state writes the same
books; every 中图法 class gets its share; titles are unique; chapters have real structure
(5-12 chapters, paragraphs, sections that become table-of-contents entries); the plain-text
edition carries every chapter."""

from __future__ import annotations

import random
from collections import Counter

from unionhub_library.demo.subjects import SUBJECTS
from unionhub_library.demo.writer import allocate, as_text, cn_number, plan_books
from unionhub_library.epub import EpubBook
from unionhub_library.epubgen import isbn13, make_epub

CLASSES = set("ABCDEFGHIJKNOPQRSTUVXZ")


def test_allocate_covers_every_class() -> None:
    assert {s.code for s in SUBJECTS} == CLASSES
    for total in (22 * 4, 100, 300, 1000):
        counts = allocate(total)
        assert sum(counts.values()) == total and set(counts) == CLASSES
        assert min(counts.values()) >= 4
    small = allocate(30)
    assert sum(small.values()) == 30 and min(small.values()) == 1
    counts = allocate(300)
    assert counts["D"] > counts["A"] > counts["V"] - 1
    assert max(counts, key=counts.__getitem__) in ("I", "D")


def test_cn_number() -> None:
    assert [cn_number(n) for n in (1, 9, 10, 11, 12, 20, 23)] == [
        "一", "九", "十", "十一", "十二", "二十", "二十三"]


def test_plans_are_deterministic_and_varied() -> None:
    first = plan_books(random.Random(5), 300)
    again = plan_books(random.Random(5), 300)
    assert [(p.title, p.chapters, p.authors) for p in first] == [
        (p.title, p.chapters, p.authors) for p in again]
    assert [p.title for p in plan_books(random.Random(6), 300)] != [p.title for p in first]

    assert len({p.title for p in first}) == 300
    assert len({p.isbn_number for p in first}) == 300
    assert Counter(p.code for p in first) == Counter(allocate(300))
    assert all(5 <= len(p.chapters) <= 12 for p in first)
    licences = Counter(p.licence for p in first)
    assert 15 <= licences["lent"] <= 70
    assert all(1 <= p.copies <= 3 for p in first if p.licence == "lent")
    formats = Counter((p.format, p.epub_version) for p in first)
    assert formats[("epub", 2)] >= 30 and formats[("epub", 3)] >= 150
    assert formats[("txt", 3)] >= 3
    # the text varies: few paragraphs repeat across the whole catalogue
    paragraphs = [line for p in first for _t, body in p.chapters for line in body.splitlines()
                  if not line.startswith("## ")]
    assert len(paragraphs) > 10_000
    assert len(set(paragraphs)) / len(paragraphs) > 0.97
    assert sum(1 for p in first for _t, body in p.chapters if "\n## " in body) >= 100
    fiction = [p for p in first if p.code == "I"]
    assert fiction and all("第一章" in p.chapters[0][0] for p in fiction)
    assert all("“" in "".join(b for _t, b in p.chapters) for p in fiction)  # dialogue
    law = [p for p in first if p.code == "D"]
    assert any("劳动" in p.title or "工会" in p.title for p in law)
    assert not any("{" in body or "}" in body for p in first for _t, body in p.chapters)


def test_a_plan_makes_a_book() -> None:
    plan = next(p for p in plan_books(random.Random(2), 60) if p.format == "epub")
    data = make_epub(plan.title, plan.authors, plan.chapters, isbn=isbn13(plan.isbn_number),
                     epub_version=plan.epub_version, description=plan.summary)
    with EpubBook.open(data) as book:
        assert book.meta.title == plan.title and book.meta.description == plan.summary
        assert [s.title for s in book.spine] == [t for t, _b in plan.chapters]
        sections = sum(body.count("\n## ") + body.startswith("## ") for _t, body in plan.chapters)
        assert len(book.toc) == len(plan.chapters) + sections
    text = as_text(plan)
    assert text.startswith(plan.title)
    assert all(title in text for title, _body in plan.chapters)
    assert "## " not in text
