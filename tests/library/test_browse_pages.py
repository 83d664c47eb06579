"""The public catalogue pages, for a visitor, a member and a catalogue manager: what each page
shows, pagination, hidden books never listed (and their page a 404 except for a manager), the
author and class pages, the home-page card, SEO tags and the member menu entry."""

from __future__ import annotations

import re
from datetime import timedelta

from flask.testing import FlaskClient

from tests.helpers import login
from tests.library.conftest import Library, add_book
from tests.library.test_browse_queries import _credit, _recount, _subclass


def _titles(html: str) -> list[str]:
    """Book titles linked in the page's lists (list items and grid cards)."""
    return re.findall(r'class="(?:title|t)"[^>]*>([^<]+)<', html)


def _member(library: Library, key: str = "m1") -> FlaskClient:
    client = library.app.test_client()
    assert login(client, library.world.people[key].card_number).status_code == 302
    return client


def _catalogue(library: Library) -> dict[str, int]:
    from unionhub.db import utcnow

    city = library.world.org_id("city")
    now = utcnow()
    tp = _subclass("TP", "计算机技术", library.categories["T"])
    ids = {
        "old": add_book(library.categories["I"], "呐喊", owner_org_id=city, authors="鲁迅 著",
                        publisher="人民文学出版社", year=1973, isbn="9787020002207",
                        summary="收录《狂人日记》《孔乙己》等小说。", tags="小说,经典",
                        created_at=now - timedelta(days=9), read_count=12),
        "new": add_book(library.categories["I"], "彷徨", owner_org_id=city, authors="鲁迅 著",
                        created_at=now - timedelta(days=1), read_count=3),
        "tp": add_book(tp, "Python 编程入门", owner_org_id=city, authors="张三 编",
                       licence="lent", copies=3, created_at=now - timedelta(days=2)),
        "hidden": add_book(library.categories["I"], "下架的书", owner_org_id=city,
                           authors="鲁迅 著", state="hidden", created_at=now,
                           read_count=99),
    }
    for key in ("old", "new", "hidden"):
        _credit(ids[key], "鲁迅")
    _credit(ids["tp"], "张三", "编")
    _recount()
    return ids


def test_visitor_sees_home_lists_and_classes(library: Library) -> None:
    with library.app.app_context():
        ids = _catalogue(library)
    c = library.app.test_client()
    home = c.get("/library/")
    assert home.status_code == 200
    html = home.get_data(as_text=True)
    assert "<title>数字图书馆" in html
    assert '<meta name="description"' in html and 'rel="canonical"' in html
    assert _titles(html)[:3] == ["彷徨", "Python 编程入门", "呐喊"]
    assert "下架的书" not in html
    assert 'href="/library/c/I"' in html and 'href="/library/c/T"' in html

    new = c.get("/library/new").get_data(as_text=True)
    assert _titles(new) == ["彷徨", "Python 编程入门", "呐喊"]
    popular = c.get("/library/popular").get_data(as_text=True)
    assert _titles(popular) == ["呐喊", "彷徨", "Python 编程入门"]
    assert "阅读 12 次" in popular and "下架的书" not in popular

    classes = c.get("/library/categories").get_data(as_text=True)
    assert 'href="/library/c/TP"' in classes  # sub-classes listed under their class

    t = c.get("/library/c/T").get_data(as_text=True)
    assert _titles(t) == ["Python 编程入门"]  # a sub-class's book on its class's page
    assert 'href="/library/c/TP"' in t and "共 1 种" in t
    tp = c.get("/library/c/TP").get_data(as_text=True)
    assert _titles(tp) == ["Python 编程入门"] and 'href="/library/c/T"' in tp  # breadcrumb
    i = c.get("/library/c/I").get_data(as_text=True)
    assert _titles(i) == ["彷徨", "呐喊"]
    assert c.get("/library/c/NOPE").status_code == 404
    assert ids["hidden"]


def test_book_page_for_visitor_member_and_manager(library: Library) -> None:
    with library.app.app_context():
        ids = _catalogue(library)
    c = library.app.test_client()
    r = c.get(f"/library/book/{ids['old']}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "<title>呐喊 · 鲁迅 著" in html
    for text in ("人民文学出版社", "1973", "9787020002207", "收录《狂人日记》《孔乙己》等小说。",
                 "开放阅读", 'href="/library/c/I"', "暂无电子文件"):
        assert text in html, text
    assert re.search(r'href="/library/author/\d+">鲁迅</a> 著', html)
    assert 'href="/library/search?q=%E5%B0%8F%E8%AF%B4"' in html  # tag → search
    lent = c.get(f"/library/book/{ids['tp']}").get_data(as_text=True)
    assert "借阅" in lent and "可借 3" in lent and "共 3 册" in lent  # here or in the loans box
    assert 'href="/library/c/T"' in lent and 'href="/library/c/TP"' in lent

    assert c.get(f"/library/book/{ids['hidden']}").status_code == 404
    assert c.get("/library/book/999999").status_code == 404
    member = _member(library)
    assert member.get(f"/library/book/{ids['hidden']}").status_code == 404
    assert member.get(f"/library/book/{ids['old']}").status_code == 200
    admin = library.app.test_client()
    login(admin, "admin")
    seen = admin.get(f"/library/book/{ids['hidden']}")
    assert seen.status_code == 200 and "已下架" in seen.get_data(as_text=True)
    # … but even a manager never finds it in the public lists
    assert "下架的书" not in admin.get("/library/new").get_data(as_text=True)


def test_author_page_lists_only_active_books(library: Library) -> None:
    from unionhub import db
    from unionhub_library.models import LibraryAuthor

    with library.app.app_context():
        _catalogue(library)
        luxun = db.session().query(LibraryAuthor).filter_by(name="鲁迅").one()
        author_id = luxun.id
        assert luxun.book_count == 2
    c = library.app.test_client()
    html = c.get(f"/library/author/{author_id}").get_data(as_text=True)
    assert "<h1>鲁迅</h1>" in html
    assert _titles(html) == ["彷徨", "呐喊"] and "在架图书 2 种" in html
    assert c.get("/library/author/999999").status_code == 404


def test_pagination_of_a_long_list(library: Library) -> None:
    from unionhub.db import utcnow
    from unionhub_library.browse.queries import PER_PAGE

    with library.app.app_context():
        city = library.world.org_id("city")
        now = utcnow()
        for i in range(PER_PAGE + 5):
            add_book(library.categories["K"], f"史书{i:02d}", owner_org_id=city,
                     created_at=now - timedelta(hours=i))
        _recount()
    c = library.app.test_client()
    first = c.get("/library/c/K").get_data(as_text=True)
    assert _titles(first) == [f"史书{i:02d}" for i in range(PER_PAGE)]
    assert "1 / 2" in first and 'href="/library/c/K?page=2"' in first
    second = c.get("/library/c/K?page=2").get_data(as_text=True)
    assert _titles(second) == [f"史书{i:02d}" for i in range(PER_PAGE, PER_PAGE + 5)]
    assert "下一页" not in second and "第 2 页" in second
    assert _titles(c.get("/library/new?page=2").get_data(as_text=True)) == \
        [f"史书{i:02d}" for i in range(PER_PAGE, PER_PAGE + 5)]
    assert c.get("/library/new?page=abc").status_code == 200
    assert _titles(c.get("/library/c/K?page=99").get_data(as_text=True)) == []


def test_member_pages_and_menu(library: Library) -> None:
    with library.app.app_context():
        ids = _catalogue(library)
    member = _member(library, "m2")
    for url in ("/library/", "/library/categories", "/library/c/I", "/library/new",
                "/library/popular", f"/library/book/{ids['new']}", "/library/search?q=x"):
        r = member.get(url)
        assert r.status_code == 200, url
        assert "下架的书" not in r.get_data(as_text=True), url
    me = member.get("/me").get_data(as_text=True)
    assert 'href="/library/"' in me and "数字图书馆" in me


def test_new_books_card_on_the_home_page(library: Library) -> None:
    c = library.app.test_client()
    assert "library-new-books" not in c.get("/").get_data(as_text=True)  # empty catalogue
    with library.app.app_context():
        ids = _catalogue(library)
    html = c.get("/").get_data(as_text=True)
    assert 'id="library-new-books"' in html
    assert f'href="/library/book/{ids["new"]}"' in html
    assert "下架的书" not in html


def test_pages_fit_a_phone(library: Library) -> None:
    """Every catalogue page stays 390 px wide in Chromium at 390 px, even with long unbroken
    words in a title, an author's name, a publisher or a summary."""
    from tests.portal.test_forum_web import phone_widths

    word = "Z" * 90
    with library.app.app_context():
        ids = _catalogue(library)
        long_id = add_book(library.categories["I"], f"书名{word}", authors=f"作者{word}",
                           owner_org_id=library.world.org_id("city"), publisher=f"社{word}",
                           summary=f"简介{word}", tags=f"标签{word[:30]}")
        _credit(long_id, f"作者{word}")
        _recount()
    client = library.app.test_client()
    paths = ["/library/", "/library/categories", "/library/c/I", "/library/c/T",
             "/library/new", "/library/popular", f"/library/book/{long_id}",
             f"/library/book/{ids['tp']}", "/library/search?q=%E5%91%90%E5%96%8A"]
    assert phone_widths(client, paths) == {path: 390 for path in paths}
