"""Books in the core search: Chinese queries find a book by its title, an author, its summary,
tags, publisher or ISBN; hidden books are never found (not indexed, and a hit hidden since
indexing is dropped); the class filter covers sub-classes; the page shows highlights and
pages; the full rebuild reads in batches."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers import login
from tests.library.conftest import Library, add_book
from tests.library.test_browse_queries import _credit, _recount, _subclass


def _index(library: Library, ids: list[int]) -> None:
    from unionhub import db
    from unionhub.search.queue import process_queue
    from unionhub_library.browse.search import queue_books

    with library.app.app_context():
        s = db.session()
        queue_books(s, ids)
        s.commit()
    assert process_queue(library.app).acquired


def _books(library: Library) -> dict[str, int]:
    city = library.world.org_id("city")
    tp = _subclass("TP", "计算机技术", library.categories["T"])
    ids = {
        "nahan": add_book(library.categories["I"], "呐喊", owner_org_id=city,
                          authors="周树人 著", summary="收录了《狂人日记》《孔乙己》等十四篇小说。",
                          tags="现代文学", publisher="人民文学出版社", isbn="9787020002207"),
        "python": add_book(tp, "程序设计入门", owner_org_id=city, authors="张三 编",
                           summary="从变量讲到函数。"),
        "engine": add_book(library.categories["T"], "内燃机原理", owner_org_id=city,
                           authors="李四 著", summary="讲解发动机的工作循环。"),
        "hidden": add_book(library.categories["I"], "狂人日记手稿", owner_org_id=city,
                           authors="周树人 著", state="hidden"),
        "long": add_book(library.categories["I"], "长篇", owner_org_id=city, authors="赵六 著",
                         summary="很长的简介。" * 2000),
    }
    _credit(ids["nahan"], "鲁迅")  # a linked name not in the display text
    _recount()
    return ids


def _found(library: Library, q: str, **kw: Any) -> set[int]:
    from unionhub import db
    from unionhub_library.browse.finder import search_books

    with library.app.test_request_context("/"):
        return {h.book.id for h in search_books(db.session(), None, q, **kw).hits}


def test_chinese_queries_find_title_author_summary_and_more(library: Library) -> None:
    with library.app.app_context():
        ids = _books(library)
    _index(library, list(ids.values()))
    with library.app.app_context():
        assert _found(library, "呐喊") == {ids["nahan"]}
        assert _found(library, "周树人") == {ids["nahan"]}  # hidden one not indexed
        assert _found(library, "鲁迅") == {ids["nahan"]}
        assert _found(library, "狂人日记") == {ids["nahan"]}
        assert _found(library, "发动机") == {ids["engine"]}
        assert _found(library, "现代文学") == {ids["nahan"]}
        assert _found(library, "人民文学出版社") == {ids["nahan"]}
        assert _found(library, "9787020002207") == {ids["nahan"]}
        assert _found(library, "手稿") == set()
        assert _found(library, "赵六") == {ids["long"]}  # credits kept after a long summary


def test_category_filter_covers_subclasses(library: Library) -> None:
    from unionhub import db
    from unionhub_library.browse import queries

    with library.app.app_context():
        ids = _books(library)
        extra = add_book(library.categories["I"], "入门小说", owner_org_id=library.world.org_id(
            "city"))
    _index(library, [*ids.values(), extra])
    with library.app.app_context():
        s = db.session()
        t = queries.category_by_code(s, "T")
        tp = queries.category_by_code(s, "TP")
        i = queries.category_by_code(s, "I")
        assert _found(library, "入门") == {ids["python"], extra}
        assert _found(library, "入门", category=t) == {ids["python"]}
        assert _found(library, "入门", category=tp) == {ids["python"]}
        assert _found(library, "入门", category=i) == {extra}


def test_hiding_removes_from_search_even_before_the_index_catches_up(library: Library) -> None:
    from unionhub import db
    from unionhub.search.service import get_service
    from unionhub_library.models import LibraryBook

    with library.app.app_context():
        ids = _books(library)
    _index(library, list(ids.values()))
    with library.app.app_context():
        s = db.session()
        book = s.get(LibraryBook, ids["engine"])
        assert book is not None
        book.state = "hidden"
        s.commit()
        assert _found(library, "发动机") == set()  # the row is checked
    page = library.app.test_client().get("/library/search?q=发动机").get_data(as_text=True)
    assert "内燃机原理" not in page
    _index(library, [ids["engine"]])
    with library.app.app_context():
        raw = get_service().search("发动机", frozenset({"public"}), doc_type="library.book")
        assert raw.total == 0  # the queued update deleted the document


def test_search_page_highlights_pages_and_filters(library: Library) -> None:
    from unionhub_library.browse.views import SEARCH_PER_PAGE

    city = library.world.org_id("city")
    with library.app.app_context():
        ids = [add_book(library.categories["K"], f"工运史话第{i}卷", owner_org_id=city,
                        authors="王五 著", summary="北京工人运动的历史。")
               for i in range(SEARCH_PER_PAGE + 3)]
        other = add_book(library.categories["I"], "工运小说", owner_org_id=city)
        _recount()
    _index(library, [*ids, other])
    for client in (library.app.test_client(), library.app.test_client()):
        html = client.get("/library/search?q=工运").get_data(as_text=True)
        assert "<title>搜索：工运" in html
        assert f"共找到 {SEARCH_PER_PAGE + 4} 种" in html
        assert len(re.findall(r'<li>\s*<a href="/library/book/\d+"', html)) == SEARCH_PER_PAGE
        assert "<b>工运</b>" in html
        assert 'href="/library/search?q=%E5%B7%A5%E8%BF%90&amp;page=2"' in html
        second = client.get("/library/search?q=工运&page=2").get_data(as_text=True)
        assert len(re.findall(r'<li>\s*<a href="/library/book/\d+"', second)) == 4
        only_i = client.get("/library/search?q=工运&category=I").get_data(as_text=True)
        assert f'href="/library/book/{other}"' in only_i and "共找到 1 种" in only_i
        assert '<option value="I" selected>' in only_i
        login(client, library.world.people["m1"].card_number)  # the member sees the same
    empty = library.app.test_client().get("/library/search?q=").get_data(as_text=True)
    assert "可按书名、作者" in empty
    nothing = library.app.test_client().get("/library/search?q=不存在的词").get_data(
        as_text=True)
    assert "没有找到相关图书" in nothing


def test_markup_in_a_title_is_escaped_in_hits(library: Library) -> None:
    with library.app.app_context():
        book = add_book(library.categories["I"], "<script>alert(1)</script>工运",
                        owner_org_id=library.world.org_id("city"))
    _index(library, [book])
    html = library.app.test_client().get("/library/search?q=工运").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_rebuild_reads_active_books_in_batches(library: Library,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from unionhub import db
    from unionhub.search.service import rebuild
    from unionhub_library.browse import search

    monkeypatch.setattr(search, "BATCH", 3)
    city = library.world.org_id("city")
    with library.app.app_context():
        active = [add_book(library.categories["A"], f"文集{i}", owner_org_id=city)
                  for i in range(8)]
        hidden = add_book(library.categories["A"], "文集隐藏", owner_org_id=city, state="hidden")
        s = db.session()
        docs = list(search.documents(s, None))
        assert [int(d.doc_id) for d in docs] == active
        assert all(d.acl == ("public",) for d in docs)
        assert search.count(s) == 8
        assert list(search.documents(s, [str(hidden), "x", str(active[0])])) == \
            [d for d in docs if d.doc_id == str(active[0])]
        assert docs[0].tags == (f"category:{library.categories['A']}",)
    assert rebuild(library.app, ["library.book"]) == 8
    with library.app.app_context():
        assert len(_found(library, "文集")) == 8
