"""What makes the list pages fast, checked for exactness: the class tree read with one small
query and rebuilt as soon as a row changes; a class page in three statements; the cards
printing the same addresses ``url_for`` and ``library_image_url`` give; the anonymous page
cache (changes that move the counts shown at once, a hidden book never listed, in-place edits
within the stated bound, never for a signed-in viewer); the set-based ``recount``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, update

from tests.helpers import login
from tests.library.conftest import Library, add_book
from tests.library.test_browse_queries import _credit, _recount, _subclass


@contextmanager
def _statements(app: Any) -> Iterator[list[str]]:
    from unionhub.db import get_db

    with app.app_context():
        engine = get_db().engine
    seen: list[str] = []

    def hook(_conn: Any, _cursor: Any, statement: str, *_a: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", hook)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", hook)


def _book_statements(seen: list[str]) -> list[str]:
    return [s for s in seen if "library_book" in s or "library_category" in s]


def _titles(html: str) -> list[str]:
    return re.findall(r'class="title"[^>]*>([^<]+)<', html)


def _seed(library: Library, count: int = 3) -> list[int]:
    city = library.world.org_id("city")
    with library.app.app_context():
        ids = [add_book(library.categories["D"], f"劳动法{i}", owner_org_id=city)
               for i in range(count)]
        _recount()
    return ids


def test_class_tree_follows_every_change_of_the_table(library: Library) -> None:
    from unionhub import db
    from unionhub_library.browse.classes import class_tree
    from unionhub_library.models import LibraryCategory

    with library.app.app_context():
        s = db.session()
        first = class_tree(s)
        assert class_tree(s) is first  # unchanged rows: the same tree
        t = library.categories["T"]
        tp = _subclass("TP", "计算机技术", t)
        tp3 = _subclass("TP3", "计算技术", tp)
        tree = class_tree(s)
        assert tree is not first and tree.generation != first.generation
        assert tree.subtree_ids(t) == sorted([t, tp, tp3])
        assert [n.code for n in tree.ancestors(tp3)] == ["T", "TP"]
        assert [n.code for n in tree.children(t)] == ["TP"]
        assert tree.get("TP3") is not None and tree.get("X" * 21) is None
        s.execute(update(LibraryCategory).where(LibraryCategory.id == tp3)
                  .values(name="计算机软件", book_count=4))
        s.commit()
        renamed = class_tree(s)
        assert renamed.by_id[tp3].name == "计算机软件"
        assert renamed.by_id[t].total == 4  # the subtree's kept counts add up
    html = library.app.test_client().get("/library/c/T").get_data(as_text=True)
    assert "计算机技术" in html  # the new sub-class is on the page at once


def test_class_page_statements(library: Library) -> None:
    """One class: the tree, the page's keys joined to their rows, the credits."""
    library.app.config["LIBRARY_LIST_CACHE_SECONDS"] = 0
    ids = _seed(library)
    with library.app.app_context():
        _credit(ids[0], "王五")
    client = library.app.test_client()
    with _statements(library.app) as seen:
        html = client.get("/library/c/D").get_data(as_text=True)
    assert _titles(html) == ["劳动法2", "劳动法1", "劳动法0"]
    assert len(_book_statements(seen)) == 3, seen


def test_cards_print_the_addresses_url_for_gives(library: Library) -> None:
    from unionhub import db
    from unionhub_library.browse.cards import book_cards, truncate
    from unionhub_library.browse.covers import image_url
    from unionhub_library.browse.queries import Credit
    from unionhub_library.models import LibraryBook

    city = library.world.org_id("city")
    with library.app.test_request_context("/library/new"):
        with_thumb = add_book(library.categories["I"], "有封面的书", owner_org_id=city,
                              thumb_name="0123abcd4567.jpg", licence="lent", copies=2,
                              copies_out=1, summary="很长的简介" * 30)
        bare = add_book(library.categories["I"], "没有封面的书" * 5, owner_org_id=city)
        books = [db.session().get(LibraryBook, i) for i in (with_thumb, bare)]
        cards = book_cards(books, {with_thumb: [Credit(7, "张三", "编")]})
        from flask import url_for

        assert cards[0].href == url_for("library.book", book_id=with_thumb)
        assert cards[0].image == image_url(books[0]) and "v=0123abcd" in cards[0].image
        assert cards[0].credits[0].href == url_for("library.author", author_id=7)
        assert cards[0].copies == "共 2 册，可借 1 册" and cards[0].lent
        assert cards[0].summary is not None and len(cards[0].summary) == 90
        assert cards[1].image is None and cards[1].no_cover == truncate("没有封面的书" * 5, 20)
        assert cards[1].no_cover.endswith("…") and len(cards[1].no_cover) == 20


def test_anonymous_page_is_kept_and_count_moves_show_at_once(library: Library) -> None:
    from unionhub import db
    from unionhub_library.catalogue.service import set_state
    from unionhub_library.models import LibraryBook

    ids = _seed(library)
    client = library.app.test_client()
    assert _titles(client.get("/library/c/D").get_data(as_text=True))[0] == "劳动法2"
    with _statements(library.app) as seen:
        again = client.get("/library/c/D").get_data(as_text=True)
    assert _titles(again)[0] == "劳动法2"
    assert len(_book_statements(seen)) == 2, seen  # the tree and the still-active check
    with library.app.app_context():
        s = db.session()
        assert set_state(s, s.get(LibraryBook, ids[2]), "hidden")
        s.commit()
    for path in ("/library/c/D", "/library/new"):
        assert "劳动法2" not in _titles(client.get(path).get_data(as_text=True)), path
    city = library.world.org_id("city")
    with library.app.app_context():
        add_book(library.categories["D"], "工会法", owner_org_id=city)
        _recount()
    assert _titles(client.get("/library/c/D").get_data(as_text=True))[0] == "工会法"


def test_a_hidden_book_is_never_listed_even_with_the_counts_unchanged(
        library: Library) -> None:
    from unionhub import db
    from unionhub_library.models import LibraryBook

    ids = _seed(library)
    client = library.app.test_client()
    assert "劳动法1" in _titles(client.get("/library/c/D").get_data(as_text=True))
    with library.app.app_context():  # hidden behind the counts' back
        db.session().execute(update(LibraryBook).where(LibraryBook.id == ids[1])
                             .values(state="hidden"))
        db.session().commit()
    assert "劳动法1" not in _titles(client.get("/library/c/D").get_data(as_text=True))


def test_in_place_edits_show_within_the_bound(library: Library,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from unionhub import db
    from unionhub_library.browse import pagecache
    from unionhub_library.models import LibraryBook

    clock = [1000.0]
    monkeypatch.setattr(pagecache.time, "monotonic", lambda: clock[0])
    library.app.config["LIBRARY_LIST_CACHE_SECONDS"] = 10
    ids = _seed(library)
    client = library.app.test_client()
    client.get("/library/c/D")
    with library.app.app_context():
        db.session().execute(update(LibraryBook).where(LibraryBook.id == ids[2])
                             .values(title="劳动法（修订）"))
        db.session().commit()
    clock[0] += 9.5
    assert _titles(client.get("/library/c/D").get_data(as_text=True))[0] == "劳动法2"
    clock[0] += 1
    assert _titles(client.get("/library/c/D").get_data(as_text=True))[0] == "劳动法（修订）"
    # a signed-in member is never served a kept page
    member = library.app.test_client()
    assert login(member, library.world.people["m1"].card_number).status_code == 302
    with library.app.app_context():
        db.session().execute(update(LibraryBook).where(LibraryBook.id == ids[2])
                             .values(title="劳动法（第三版）"))
        db.session().commit()
    page = member.get("/library/c/D").get_data(as_text=True)
    assert _titles(page)[0] == "劳动法（第三版）"
    assert _titles(client.get("/library/c/D").get_data(as_text=True))[0] == "劳动法（修订）"


def test_the_cache_is_bounded_and_keyed_by_address(library: Library,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from unionhub_library.browse import pagecache

    monkeypatch.setattr(pagecache, "MAX_PAGES", 3)
    _seed(library, 30)
    client = library.app.test_client()
    first = client.get("/library/c/D?page=1").get_data(as_text=True)
    second = client.get("/library/c/D?page=2").get_data(as_text=True)
    assert _titles(first) != _titles(second) and len(_titles(second)) == 6
    for page in range(1, 6):
        client.get(f"/library/new?page={page}")
    assert len(library.app.extensions["library_list_cache"]) == 3


def test_recount_is_set_based_and_resets_stale_counts(library: Library) -> None:
    from unionhub import db
    from unionhub_library.catalogue.service import recount
    from unionhub_library.models import LibraryAuthor, LibraryCategory

    city = library.world.org_id("city")
    with library.app.app_context():
        s = db.session()
        a = add_book(library.categories["D"], "甲", owner_org_id=city)
        b = add_book(library.categories["D"], "乙", owner_org_id=city, state="hidden")
        c = add_book(library.categories["I"], "丙", owner_org_id=city)
        luxun = _credit(a, "鲁迅")
        _credit(b, "鲁迅")
        _credit(c, "鲁迅")
        nobody = _credit(b, "无名氏")
        s.execute(update(LibraryCategory).values(book_count=99))
        s.execute(update(LibraryAuthor).values(book_count=99))
        with _statements(library.app) as seen:
            recount(s)
        s.commit()
        assert len([x for x in seen if x.lstrip().upper().startswith("UPDATE")]) == 2
        counts = {cat.code: cat.book_count for cat in s.query(LibraryCategory)}
        assert counts["D"] == 1 and counts["I"] == 1 and counts["A"] == 0
        assert s.get(LibraryAuthor, luxun).book_count == 2
        assert s.get(LibraryAuthor, nobody).book_count == 0
