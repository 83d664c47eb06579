"""The OPDS catalogue parsed back as Atom: the links every feed needs, the entries' metadata,
pagination, search through the OpenSearch description, and links that follow licences,
loans and permissions. Hidden books never appear."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.library.conftest import Library, add_book
from tests.library.test_opds_tokens import basic, issue_token

ATOM = "http://www.w3.org/2005/Atom"
NS = {"a": ATOM, "opds": "http://opds-spec.org/2010/catalog", "dc": "http://purl.org/dc/terms/",
      "os": "http://a9.com/-/spec/opensearch/1.1/", "thr": "http://purl.org/syndication/thread/1.0"}
NAV = "application/atom+xml;profile=opds-catalog;kind=navigation"
ACQ = "application/atom+xml;profile=opds-catalog;kind=acquisition"
ENTRY = "application/atom+xml;type=entry;profile=opds-catalog"
HOST = "http://localhost"
T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


class Reader:
    """An e-reader app signed in with a token of one account."""

    def __init__(self, library: Library, account_id: int) -> None:
        self.client = library.app.test_client()
        self.headers = basic(*issue_token(library.app, account_id))

    def get(self, url: str, status: int = 200) -> Any:
        r = self.client.get(url.removeprefix(HOST), headers=self.headers)
        assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True)[:300])
        return r

    def feed(self, url: str, kind: str = ACQ) -> ET.Element:
        r = self.get(url)
        assert r.headers["Content-Type"].replace(" ", "") == kind
        root = ET.fromstring(r.data)
        assert root.tag == f"{{{ATOM}}}feed"
        for tag in ("id", "title", "updated"):
            assert root.findtext(f"a:{tag}", namespaces=NS), tag
        assert root.findtext("a:id", namespaces=NS).startswith("urn:uuid:")
        return root


def links(el: ET.Element, rel: str) -> list[dict[str, str]]:
    return [dict(link.attrib) for link in el.findall("a:link", NS) if link.get("rel") == rel]


def link(el: ET.Element, rel: str, type_: str | None = None) -> dict[str, str]:
    found = [x for x in links(el, rel) if type_ is None or x.get("type") == type_]
    assert len(found) == 1, (rel, type_, found)
    return found[0]


def entries(root: ET.Element) -> list[ET.Element]:
    return root.findall("a:entry", NS)


def titles(root: ET.Element) -> list[str]:
    return [e.findtext("a:title", namespaces=NS) or "" for e in entries(root)]


def entry(root: ET.Element, title: str) -> ET.Element:
    [found] = [e for e in entries(root) if e.findtext("a:title", namespaces=NS) == title]
    return found


def path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def common_links(root: ET.Element, self_path: str, up: str | None) -> None:
    """self, start, search (OpenSearch and template), shelf — and up where relevant."""
    assert link(root, "self")["href"] == HOST + self_path
    assert link(root, "start", NAV)["href"] == f"{HOST}/library/opds/"
    osd = link(root, "search", "application/opensearchdescription+xml")
    assert osd["href"] == f"{HOST}/library/opds/opensearch.xml"
    assert link(root, "search", ACQ)["href"].endswith("/library/opds/search?q={searchTerms}")
    assert link(root, "http://opds-spec.org/shelf", ACQ)["href"] == f"{HOST}/library/opds/loans"
    if up is None:
        assert links(root, "up") == []
    else:
        assert link(root, "up")["href"] == HOST + up


def add_file(book_id: int, fmt: str = "epub", size: int = 2048) -> None:
    from unionhub import db
    from unionhub_library.models import LibraryFile

    s = db.session()
    s.add(LibraryFile(book_id=book_id, format=fmt, stored_name=f"{secrets.token_hex(16)}.{fmt}",
                      original_name=f"book.{fmt}", size=size, sha256="0" * 64, meta={}))
    s.commit()


def hide(book_id: int) -> None:
    from unionhub import db
    from unionhub_library.models import LibraryBook

    db.session().get(LibraryBook, book_id).state = "hidden"
    db.session().commit()


def index_books(library: Library, ids: list[int]) -> None:
    from unionhub import db
    from unionhub.search.queue import enqueue, process_queue

    with library.app.app_context():
        enqueue(db.session(), "library.book", ids)
        db.session().commit()
    assert process_queue(library.app).acquired


@pytest.fixture
def member(library: Library) -> Reader:
    return Reader(library, library.world.people["m1"].account_id)


def test_root_navigation_feed_links_every_section(library: Library, member: Reader) -> None:
    root = member.feed("/library/opds/", NAV)
    common_links(root, "/library/opds/", up=None)
    assert root.find("a:author/a:name", NS) is not None
    wanted = {
        "新书": ("http://opds-spec.org/sort/new", "/library/opds/new", ACQ),
        "热门": ("http://opds-spec.org/sort/popular", "/library/opds/popular", ACQ),
        "分类": ("subsection", "/library/opds/categories", NAV),
        "我的借阅": ("http://opds-spec.org/shelf", "/library/opds/loans", ACQ),
        "我的书架": ("subsection", "/library/opds/shelves", NAV),
    }
    assert set(titles(root)) == set(wanted)
    for title, (rel, href, kind) in wanted.items():
        el = entry(root, title)
        assert el.findtext("a:id", namespaces=NS).startswith("urn:uuid:")
        assert el.findtext("a:updated", namespaces=NS)
        nav = link(el, rel, kind)
        assert nav["href"] == HOST + href
        member.feed(nav["href"], kind)  # every section answers with the kind it announced


def test_categories_lead_to_acquisition_feeds_of_the_subtree(library: Library,
                                                              member: Reader) -> None:
    from unionhub import db
    from unionhub_library.models import LibraryCategory

    org = library.world.org_id("city")
    lit = library.categories["I"]
    with library.app.app_context():
        sub = LibraryCategory(code="I2", name="中国文学", parent_id=lit, sort=0)
        db.session().add(sub)
        db.session().commit()
        sub_id = sub.id
        novel = add_book(lit, "文学概论", owner_org_id=org, created_at=T0)
        poem = add_book(sub_id, "唐诗选", owner_org_id=org, created_at=T0 + timedelta(hours=1))
        add_book(sub_id, "下架的诗集", owner_org_id=org, state="hidden")
        add_book(library.categories["T"], "机械制图", owner_org_id=org)
    assert novel and poem

    top = member.feed("/library/opds/categories", NAV)
    common_links(top, "/library/opds/categories", up="/library/opds/")
    assert len(entries(top)) == 22
    tech = link(entry(top, "T 工业技术"), "subsection", ACQ)
    assert tech["href"] == f"{HOST}/library/opds/category/{library.categories['T']}"
    assert f"{{{NS['thr']}}}count" in tech
    nested = link(entry(top, "I 文学"), "subsection", NAV)
    assert nested["href"] == f"{HOST}/library/opds/categories?parent={lit}"

    inner = member.feed(nested["href"], NAV)
    common_links(inner, f"/library/opds/categories?parent={lit}", up="/library/opds/categories")
    assert titles(inner) == ["本类全部图书", "I2 中国文学"]
    whole = link(entries(inner)[0], "subsection", ACQ)["href"]
    assert link(entries(inner)[1], "subsection", ACQ)["href"] == (
        f"{HOST}/library/opds/category/{sub_id}")

    books = member.feed(whole)
    common_links(books, f"/library/opds/category/{lit}", up="/library/opds/categories")
    assert titles(books) == ["唐诗选", "文学概论"]  # the sub-class's too, newest first
    only_sub = member.feed(f"/library/opds/category/{sub_id}")
    assert titles(only_sub) == ["唐诗选"]
    assert link(only_sub, "up")["href"] == f"{HOST}/library/opds/categories?parent={lit}"
    member.get("/library/opds/category/999999", 404)
    member.get("/library/opds/categories?parent=999999", 404)


def test_entry_carries_metadata_covers_and_stable_id(library: Library, member: Reader) -> None:
    from unionhub import db
    from unionhub_library.models import LibraryAuthor, LibraryBookAuthor

    cover, thumb = f"{secrets.token_hex(16)}.jpg", f"{secrets.token_hex(16)}.webp"
    summary = "讲述新时代产业工人的故事。" * 40
    with library.app.app_context():
        book_id = add_book(library.categories["I"], "大国工匠",
                           owner_org_id=library.world.org_id("city"), authors="张三、李四 著",
                           isbn="9787020002207", publisher="工人出版社",
                           year=2021, language="zh-CN", tags="劳模,工匠", summary=summary,
                           cover_name=cover, thumb_name=thumb)
        s = db.session()
        for n, name in enumerate(("张三", "李四")):
            author = LibraryAuthor(name=name)
            s.add(author)
            s.flush()
            s.add(LibraryBookAuthor(book_id=book_id, author_id=author.id, sort=n))
        s.commit()

    root = member.feed("/library/opds/new")
    el = entry(root, "大国工匠")
    book_urn = el.findtext("a:id", namespaces=NS)
    assert book_urn.startswith("urn:uuid:")
    assert [a.findtext("a:name", namespaces=NS) for a in el.findall("a:author", NS)] == [
        "张三", "李四"]
    datetime.strptime(el.findtext("a:updated", namespaces=NS), "%Y-%m-%dT%H:%M:%SZ")
    assert el.findtext("dc:language", namespaces=NS) == "zh-CN"
    assert el.findtext("dc:identifier", namespaces=NS) == "urn:isbn:9787020002207"
    assert el.findtext("dc:publisher", namespaces=NS) == "工人出版社"
    assert el.findtext("dc:issued", namespaces=NS) == "2021"
    cats = {(c.get("term"), c.get("label")) for c in el.findall("a:category", NS)}
    assert {("I", "文学"), ("劳模", "劳模"), ("工匠", "工匠")} <= cats
    scheme = [c.get("scheme") for c in el.findall("a:category", NS) if c.get("term") == "I"]
    assert scheme == [f"{HOST}/library/categories"]
    assert el.findtext("a:content", namespaces=NS) == summary
    assert summary.startswith(el.findtext("a:summary", namespaces=NS).rstrip("…"))

    assert link(el, "alternate", "text/html")["href"] == f"{HOST}/library/book/{book_id}"
    image = link(el, "http://opds-spec.org/image")
    thumbnail = link(el, "http://opds-spec.org/image/thumbnail")
    assert path(image["href"]).startswith(f"/library/book/{book_id}/cover")
    assert path(thumbnail["href"]).startswith(f"/library/book/{book_id}/thumb")
    assert (image["type"], thumbnail["type"]) == ("image/jpeg", "image/webp")

    full = link(el, "alternate", ENTRY)["href"]
    r = member.get(full)
    assert r.headers["Content-Type"].replace(" ", "") == ENTRY
    alone = ET.fromstring(r.data)
    assert alone.tag == f"{{{ATOM}}}entry"
    assert alone.findtext("a:id", namespaces=NS) == book_urn
    # the same id in another feed and on another request
    again = entry(member.feed(f"/library/opds/category/{library.categories['I']}"), "大国工匠")
    assert again.findtext("a:id", namespaces=NS) == book_urn


def test_text_is_escaped_not_injected(library: Library, member: Reader) -> None:
    nasty = '<b>工匠&"精神"</b>\x01]]>'
    with library.app.app_context():
        add_book(library.categories["I"], nasty, owner_org_id=library.world.org_id("city"),
                 authors="</name><evil/>", summary="<script>alert(1)</script>")
    el = entries(member.feed("/library/opds/new"))[0]
    assert el.findtext("a:title", namespaces=NS) == '<b>工匠&"精神"</b>]]>'
    assert el.findtext("a:author/a:name", namespaces=NS) == "</name><evil/>"
    assert el.findtext("a:summary", namespaces=NS) == "<script>alert(1)</script>"
    assert el.find(".//evil") is None and el.find(".//a:b", NS) is None


def test_acquisition_feeds_paginate(library: Library, member: Reader) -> None:
    library.app.config["LIBRARY_OPDS_PER_PAGE"] = 3
    org = library.world.org_id("city")
    with library.app.app_context():
        for n in range(7):
            add_book(library.categories["T"], f"第{n}册", owner_org_id=org,
                     created_at=T0 + timedelta(minutes=n), read_count=n * 10 % 7)
    seen: list[str] = []
    url: str | None = f"{HOST}/library/opds/new"
    pages = []
    while url:
        root = member.feed(url)
        pages.append(root)
        seen.extend(titles(root))
        nxt = links(root, "next")
        url = nxt[0]["href"] if nxt else None
        assert len(pages) < 5
    assert seen == [f"第{n}册" for n in range(6, -1, -1)]
    assert [len(entries(p)) for p in pages] == [3, 3, 1]
    first, middle, last = pages
    assert links(first, "previous") == [] and link(first, "first")["href"].endswith("page=1")
    assert link(middle, "previous")["href"] == f"{HOST}/library/opds/new?page=1"
    assert link(middle, "next")["href"] == f"{HOST}/library/opds/new?page=3"
    assert links(last, "next") == [] and link(last, "self")["href"].endswith("page=3")
    assert titles(member.feed("/library/opds/new?page=junk")) == titles(first)
    odd = member.feed("/library/opds/new?_external=0&endpoint=x&page=2")
    assert link(odd, "self")["href"] == f"{HOST}/library/opds/new?page=2"

    popular = member.feed("/library/opds/popular")
    # read counts 0, 3, 6, 2, 5, 1, 4: most read first
    assert titles(popular) == ["第2册", "第4册", "第6册"]
    assert links(popular, "next")


def test_hidden_books_never_appear(library: Library, member: Reader) -> None:
    from unionhub import db
    from unionhub_library.loans import service as loans
    from unionhub_library.models import LibraryBook

    org = library.world.org_id("city")
    with library.app.app_context():
        shown = add_book(library.categories["D"], "劳动法读本", owner_org_id=org)
        gone = add_book(library.categories["D"], "劳动法旧版", owner_org_id=org, licence="lent",
                        copies=2, read_count=99)
        s = db.session()
        from unionhub.identity.models import Account

        loans.borrow(s, s.get(Account, library.world.people["m1"].account_id),
                     s.get(LibraryBook, gone))
        s.commit()
    index_books(library, [shown, gone])
    with library.app.app_context():
        hide(gone)  # after indexing: the index still has it, the feeds must not

    admin = Reader(library, library.world.officers["admin"])  # a catalogue manager too
    for reader in (member, admin):
        for url in ("/library/opds/new", "/library/opds/popular",
                    f"/library/opds/category/{library.categories['D']}",
                    "/library/opds/search?q=劳动法", "/library/opds/loans"):
            assert "劳动法旧版" not in titles(reader.feed(url)), url
        assert "劳动法读本" in titles(reader.feed("/library/opds/search?q=劳动法"))
        reader.get(f"/library/opds/book/{gone}", 404)


def test_links_follow_licences_loans_and_permissions(library: Library, member: Reader) -> None:
    from unionhub import db
    from unionhub.identity.models import Account
    from unionhub_library import access
    from unionhub_library.loans import service as loans
    from unionhub_library.models import LibraryBook

    org = library.world.org_id("city")
    with library.app.app_context():
        open_id = add_book(library.categories["K"], "开放之书", owner_org_id=org,
                           created_at=T0)
        lent_id = add_book(library.categories["K"], "借阅之书", owner_org_id=org, licence="lent",
                           copies=1, created_at=T0 + timedelta(minutes=1))
        add_file(open_id, "epub", 1111)
        add_file(open_id, "pdf", 2222)
        add_file(lent_id, "epub", 3333)
    admin_id = library.world.officers["admin"]
    admin = Reader(library, admin_id)
    acq = "http://opds-spec.org/acquisition"
    borrow = "http://opds-spec.org/acquisition/borrow"

    def check_against_access_rules(account_id: int, root: ET.Element) -> None:
        with library.app.test_request_context():
            s = db.session()
            account = s.get(Account, account_id)
            for book_id, title in ((open_id, "开放之书"), (lent_id, "借阅之书")):
                allowed = access.can_download(s, account, s.get(LibraryBook, book_id))
                assert bool(links(entry(root, title), acq)) == allowed, (account_id, title)

    # a member reads but may not download: no file links; the lent title offers a loan
    root = member.feed("/library/opds/new")
    check_against_access_rules(library.world.people["m1"].account_id, root)
    assert links(entry(root, "开放之书"), acq) == []
    offer = entry(root, "借阅之书")
    loan_link = link(offer, borrow, ENTRY)
    assert loan_link["href"] == f"{HOST}/library/opds/book/{lent_id}/borrow"
    el = offer.find(f"a:link[@rel='{borrow}']", NS)
    assert [x.get("type") for x in el.findall("opds:indirectAcquisition", NS)] == [
        "application/epub+zip"]
    assert el.find("opds:availability", NS).get("status") == "available"
    assert el.find("opds:copies", NS).attrib == {"total": "1", "available": "1"}
    assert links(entry(root, "开放之书"), borrow) == []

    # an account allowed to download gets the open title's files …
    root = admin.feed("/library/opds/new")
    check_against_access_rules(admin_id, root)
    files = links(entry(root, "开放之书"), acq)
    assert {(path(f["href"]), f["type"], f["length"]) for f in files} == {
        (f"/library/book/{open_id}/download/epub", "application/epub+zip", "1111"),
        (f"/library/book/{open_id}/download/pdf", "application/pdf", "2222")}
    # … but a lent title's only while borrowed
    assert links(entry(root, "借阅之书"), acq) == []
    with library.app.app_context():
        s = db.session()
        loans.borrow(s, s.get(Account, admin_id), s.get(LibraryBook, lent_id))
        s.commit()
    root = admin.feed("/library/opds/new")
    check_against_access_rules(admin_id, root)
    lent = entry(root, "借阅之书")
    assert links(lent, borrow) == []
    [file_link] = lent.findall(f"a:link[@rel='{acq}']", NS)
    assert path(file_link.get("href")) == f"/library/book/{lent_id}/download/epub"
    availability = file_link.find("opds:availability", NS)
    assert availability.get("status") == "available" and availability.get("until")
    assert "借阅之书" in titles(admin.feed("/library/opds/loans"))

    # the member now sees the only copy taken
    el = entry(member.feed("/library/opds/new"), "借阅之书").find(
        f"a:link[@rel='{borrow}']", NS)
    assert el.find("opds:availability", NS).get("status") == "unavailable"
    assert el.find("opds:copies", NS).attrib == {"total": "1", "available": "0"}


def test_opensearch_description_is_valid_and_public(library: Library) -> None:
    r = library.app.test_client().get("/library/opds/opensearch.xml")
    assert r.status_code == 200
    assert r.mimetype == "application/opensearchdescription+xml"
    root = ET.fromstring(r.data)
    osns = NS["os"]
    assert root.tag == f"{{{osns}}}OpenSearchDescription"
    short = root.findtext(f"{{{osns}}}ShortName")
    assert short and len(short) <= 16
    assert root.findtext(f"{{{osns}}}Description")
    [url] = root.findall(f"{{{osns}}}Url")
    assert url.get("type") == ACQ
    assert url.get("template") == f"{HOST}/library/opds/search?q={{searchTerms}}"


def test_search_finds_books_through_the_core_search(library: Library, member: Reader) -> None:
    library.app.config["LIBRARY_OPDS_PER_PAGE"] = 2
    org = library.world.org_id("city")
    with library.app.app_context():
        ids = [add_book(library.categories["F"], f"工匠精神第{n}卷", owner_org_id=org)
               for n in range(5)]
        ids.append(add_book(library.categories["F"], "劳动经济学", owner_org_id=org,
                            authors="王工匠"))
        ids.append(add_book(library.categories["F"], "茶馆", owner_org_id=org, authors="老舍"))
    index_books(library, ids)

    osd = ET.fromstring(library.app.test_client().get("/library/opds/opensearch.xml").data)
    template = osd.find(f"{{{NS['os']}}}Url").get("template")
    url = template.replace("{searchTerms}", "工匠")
    found: list[str] = []
    pages = 0
    while url:
        root = member.feed(url)
        pages += 1
        assert root.findtext("os:totalResults", namespaces=NS) == "6"
        assert root.findtext("os:itemsPerPage", namespaces=NS) == "2"
        common_links(root, path(root.find("a:link[@rel='self']", NS).get("href")),
                     up="/library/opds/")
        found.extend(titles(root))
        nxt = links(root, "next")
        url = nxt[0]["href"] if nxt else ""
        assert pages < 5
    assert pages == 3
    assert sorted(found) == sorted([f"工匠精神第{n}卷" for n in range(5)] + ["劳动经济学"])
    assert titles(member.feed("/library/opds/search?q=老舍")) == ["茶馆"]
    empty = member.feed("/library/opds/search?q=")
    assert entries(empty) == [] and empty.findtext("os:totalResults", namespaces=NS) == "0"


def test_shelves_are_the_readers_own(library: Library, member: Reader) -> None:
    from unionhub import db
    from unionhub_library.models import LibraryShelf, LibraryShelfItem

    w = library.world
    with library.app.app_context():
        book_id = add_book(library.categories["I"], "想读的书", owner_org_id=w.org_id("city"))
        shelf = LibraryShelf(account_id=w.people["m1"].account_id, kind="want", name="想读")
        db.session().add(shelf)
        db.session().flush()
        db.session().add(LibraryShelfItem(shelf_id=shelf.id, book_id=book_id))
        db.session().commit()
        shelf_id = shelf.id
    nav = member.feed("/library/opds/shelves", NAV)
    common_links(nav, "/library/opds/shelves", up="/library/opds/")
    href = link(entry(nav, "想读"), "subsection", ACQ)["href"]
    assert titles(member.feed(href)) == ["想读的书"]
    other = Reader(library, w.people["m2"].account_id)
    assert entries(other.feed("/library/opds/shelves", NAV)) == []
    other.get(f"/library/opds/shelf/{shelf_id}", 404)


def test_a_signed_in_browser_may_look(library: Library) -> None:
    from tests.helpers import login

    client = library.app.test_client()
    assert client.get("/library/opds/new").status_code == 401
    login(client, library.world.people["m3"].mobile)
    r = client.get("/library/opds/new")
    assert r.status_code == 200 and ET.fromstring(r.data).tag == f"{{{ATOM}}}feed"
