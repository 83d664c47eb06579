"""The reader's pages beyond targeting: lists by section kind, pagination and its caps, slugs
and SEO tags, the sanitised body, attachments, prev/next, view counts, the home page's
carousel, hot list and Jingka discounts (mall on and off), the core home card, the mobile
site's 我的 page and the app API's shapes."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from tests.conftest import AppFactory
from tests.helpers import login
from tests.portal.conftest import Portal, add_article


def _attachment(article_id: int, name: str, kind: str = "file") -> int:
    from unionhub import db
    from unionhub_portal.models import PortalAttachment

    s = db.session()
    row = PortalAttachment(article_id=article_id, kind=kind, filename=name,
                           stored_name=f"{article_id}-{name}", content_type="application/pdf",
                           size=2048, sha256="0" * 64)
    s.add(row)
    s.commit()
    return row.id


def test_article_page_slug_seo_body_attachments_and_neighbours(portal: Portal) -> None:
    w, news = portal.world, portal.sections["news"]
    city = w.org_id("city")
    with portal.app.app_context():
        from unionhub.db import utcnow

        now = utcnow()
        older = add_article(news, "较早的动态", owner_org_id=city,
                            published_at=now - timedelta(days=2))
        middle = add_article(
            news, "职工疗休养安排", owner_org_id=city, slug="rest-2025",
            published_at=now - timedelta(days=1), source="市总工会", author="李宣传",
            tags="疗休养,福利", seo_description="2025 年职工疗休养 <安排>",
            body='<p>正文<script>alert(1)</script><img src="x" onerror="alert(2)"></p>'
                 '<a href="javascript:alert(3)">链接</a>')
        newer = add_article(news, "较新的动态", owner_org_id=city,
                            published_at=now - timedelta(hours=3))
        file_id = _attachment(middle, "安排表.pdf")
    client = portal.app.test_client()
    page = client.get("/portal/a/rest-2025")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<title>职工疗休养安排" in html
    assert '<meta name="description" content="2025 年职工疗休养 &lt;安排&gt;">' in html
    assert '<meta name="keywords" content="疗休养，福利">' in html
    assert re.search(r'<link rel="canonical" href="http://[^"]+/portal/a/rest-2025">', html)
    assert "<script>" not in html.split("<main")[1] and "onerror" not in html
    assert "javascript:" not in html
    assert "市总工会" in html and "李宣传" in html
    assert f'href="/portal/attachments/{file_id}"' in html and "安排表.pdf" in html
    assert '<span class="tag">疗休养</span>' in html
    prev_next = html.split('class="portal-prevnext"')[1]
    assert "较早的动态" in prev_next and "较新的动态" in prev_next
    assert client.get(f"/portal/a/{middle}").status_code == 200  # the id works too
    assert client.get("/portal/a/no-such-slug").status_code == 404
    assert client.get("/portal/a/" + "9" * 12).status_code == 404
    # the mobile page has the same content; its canonical is the PC page
    mobile = client.get("/portal/m/a/rest-2025").get_data(as_text=True)
    assert "安排表.pdf" in mobile and "/portal/a/rest-2025" in mobile
    # each page names its own canonical address; pages outside the portal none
    assert re.search(r'<link rel="canonical" href="http://[^"]+/portal/s/news">',
                     client.get("/portal/s/news").get_data(as_text=True))
    assert 'rel="canonical"' not in client.get("/").get_data(as_text=True)
    assert older and newer


def test_section_menu_in_the_visitors_language(portal: Portal) -> None:
    """The layout's menu names are translated with the request's catalog (no ``_()`` in
    the template loop): Chinese by default, English with the language cookie."""
    with portal.app.app_context():
        aid = add_article(portal.sections["news"], "菜单语言",
                          owner_org_id=portal.world.org_id("city"))
    client = portal.app.test_client()

    def menu(url: str) -> str:
        return client.get(url).get_data(as_text=True).split('class="portal-menu"')[1] \
            .split("</nav>")[0]

    assert '/portal/s/notices" class="">通知公告</a>' in menu(f"/portal/a/{aid}")
    client.set_cookie("lang", "en")
    assert '/portal/s/notices" class="">Notices</a>' in menu(f"/portal/a/{aid}")
    assert "通知公告" not in menu("/portal/s/news")


def test_view_counts_shown_at_once_and_written_in_a_batch(portal: Portal) -> None:
    from unionhub import db
    from unionhub_portal.models import PortalArticle
    from unionhub_portal.site.counter import flush_views

    city = portal.world.org_id("city")
    with portal.app.app_context():
        aid = add_article(portal.sections["news"], "阅读计数", owner_org_id=city)
        before = db.session().get(PortalArticle, aid).updated_at
    client = portal.app.test_client()
    first = client.get(f"/portal/a/{aid}").get_data(as_text=True)
    assert '<span class="views">1</span>' in first
    mobile = client.get(f"/portal/m/a/{aid}").get_data(as_text=True)
    assert '<span class="views">2</span>' in mobile
    api = client.get(f"/api/v1/portal/articles/{aid}").get_json()
    assert api["views"] == 3
    with portal.app.app_context():
        # not written yet: the views wait in this process's memory
        assert db.session().get(PortalArticle, aid).view_count == 0
    assert flush_views(portal.app) == 3
    assert flush_views(portal.app) == 0  # written once
    with portal.app.app_context():
        s = db.session()
        article = s.get(PortalArticle, aid)
        assert article.view_count == 3
        assert article.updated_at == before  # a view is not an edit
    assert '<span class="views">4</span>' in client.get(f"/portal/a/{aid}").get_data(
        as_text=True)
    # a page that is refused counts nothing
    with portal.app.app_context():
        hidden = add_article(portal.sections["news"], "草稿不计数", owner_org_id=city,
                             state="draft")
    assert client.get(f"/portal/a/{hidden}").status_code == 404
    assert client.get(f"/portal/m/a/{hidden}").status_code == 404
    assert client.get(f"/api/v1/portal/articles/{hidden}").status_code == 404
    assert flush_views(portal.app) == 1
    with portal.app.app_context():
        s = db.session()
        assert s.get(PortalArticle, hidden).view_count == 0
        assert s.get(PortalArticle, aid).view_count == 4


def test_pagination_order_and_caps(portal: Portal, monkeypatch: Any) -> None:
    from unionhub.db import utcnow
    from unionhub_portal.site import service

    city = portal.world.org_id("city")
    with portal.app.app_context():
        now = utcnow()
        for i in range(45):
            add_article(portal.sections["media"], f"媒体报道{i:02d}号", owner_org_id=city,
                        published_at=now - timedelta(hours=i + 1))
        add_article(portal.sections["media"], "置顶的旧报道", owner_org_id=city, pinned=True,
                    published_at=now - timedelta(days=90))
    client = portal.app.test_client()

    def titles(url: str) -> list[str]:
        html = client.get(url).get_data(as_text=True)
        return re.findall(r"(置顶的旧报道|媒体报道\d\d号)</a>", html)

    first = titles("/portal/s/media")
    assert first[0] == "置顶的旧报道" and first[1:4] == ["媒体报道00号", "媒体报道01号",
                                                        "媒体报道02号"]
    assert len(first) == 20
    assert titles("/portal/s/media?page=3") == [f"媒体报道{i:02d}号" for i in range(39, 45)]
    assert titles("/portal/s/media?page=abc") == first
    assert titles("/portal/s/media?page=999") == []  # capped at MAX_PAGE, past the end
    # the parent section lists its children's articles
    assert len(titles("/portal/s/news")) == 20
    pager = client.get("/portal/s/media?page=2").get_data(as_text=True)
    assert "page=3" in pager and "page=1" in pager

    monkeypatch.setattr(service, "MAX_PAGE", 2)
    with portal.app.app_context():
        from unionhub import db
        from unionhub_portal.audience import Viewer

        page = service.list_articles(db.session(), Viewer("pc"),
                                     section_ids=[portal.sections["media"]], page=5)
        assert page.page == 2 and page.capped and page.total == 40 and page.pages == 2
    api = client.get("/api/v1/portal/sections/media/articles?page=3&per_page=20")
    assert api.status_code == 400  # beyond the cap
    assert client.get("/api/v1/portal/sections/media/articles?per_page=0").status_code == 400


def test_section_kinds(portal: Portal) -> None:
    w = portal.world
    with portal.app.app_context():
        from unionhub.db import utcnow

        notice = add_article(portal.sections["notices"], "关于春节慰问的通知",
                             owner_org_id=w.org_id("d1"),
                             expires_at=utcnow() + timedelta(days=10))
        doc = add_article(portal.sections["documents"], "工会法全文", owner_org_id=w.org_id("city"))
        _attachment(doc, "工会法.pdf")
        _attachment(doc, "释义.pdf")
        _attachment(doc, "插图.png", kind="image")
    client = portal.app.test_client()
    notices = client.get("/portal/s/notices").get_data(as_text=True)
    assert "关于春节慰问的通知" in notices and "朝阳" in notices and "有效期至" in notices
    docs = client.get("/portal/s/documents").get_data(as_text=True)
    assert "附件 2" in docs
    assert client.get("/portal/s/hotline").headers["Location"].endswith("/portal/hotline")
    assert client.get("/portal/s/forum").headers["Location"].endswith("/portal/forum")
    assert client.get("/portal/s/library").headers["Location"].endswith("/library/")
    assert client.get("/portal/m/s/hotline").headers["Location"].endswith("/portal/m/hotline")
    assert client.get("/portal/s/nothing-here").status_code == 404
    news = client.get("/portal/s/news").get_data(as_text=True)
    assert "/portal/s/grassroots" in news and "/portal/s/media" in news  # sub-sections
    assert notice


def test_home_carousel_hot_and_core_card(portal: Portal) -> None:
    from unionhub import db
    from unionhub_portal.models import PortalArticle

    city = portal.world.org_id("city")
    with portal.app.app_context():
        from unionhub.db import utcnow

        headline = add_article(portal.sections["news"], "头条有封面", owner_org_id=city,
                               headline=True)
        cover = _attachment(headline, "封面.jpg", kind="image")
        s = db.session()
        s.get(PortalArticle, headline).cover_id = cover
        s.commit()
        add_article(portal.sections["news"], "头条无封面", owner_org_id=city, headline=True)
        old = add_article(portal.sections["news"], "旧文很热", owner_org_id=city,
                          published_at=utcnow() - timedelta(days=40))
        fresh = add_article(portal.sections["policy"], "新文较热", owner_org_id=city)
        s.get(PortalArticle, old).view_count = 900
        s.get(PortalArticle, fresh).view_count = 50
        s.commit()
        add_article(portal.sections["notices"], "全市通知一则", owner_org_id=city)
        add_article(portal.sections["notices"], "海淀通知一则", owner_org_id=city,
                    audience_org_id=portal.world.org_id("d2"))
    client = portal.app.test_client()
    html = client.get("/portal/").get_data(as_text=True)
    carousel = html.split('id="headlines"')[1].split("</div>")[0]
    assert "头条有封面" in carousel and "头条无封面" not in carousel
    assert f"/portal/attachments/{cover}" in carousel
    hot = html.split('id="hot"')[1].split("</section>")[0]
    assert "新文较热" in hot and "旧文很热" not in hot
    notices = html.split('id="notices"')[1].split("</section>")[0]
    assert "全市通知一则" in notices and "海淀通知一则" not in notices
    assert 'id="block-news"' in html and 'id="block-policy"' in html
    # the core home page shows the notices the visitor may read
    core = client.get("/").get_data(as_text=True)
    assert "全市通知一则" in core and "海淀通知一则" not in core
    login(client, portal.world.people["m2"].mobile)
    assert "海淀通知一则" in client.get("/").get_data(as_text=True)
    assert "海淀通知一则" in client.get("/portal/").get_data(as_text=True)


def test_offers_block_without_the_mall(portal: Portal) -> None:
    client = portal.app.test_client()
    login(client, portal.world.people["m1"].mobile)
    html = client.get("/portal/").get_data(as_text=True)
    block = html.split('id="discounts"')[1].split("</section>")[0]
    assert "暂无优惠" in block
    section = client.get("/portal/s/discounts")
    assert section.status_code == 200 and "暂无优惠" in section.get_data(as_text=True)
    assert "暂无优惠" in client.get("/portal/m/").get_data(as_text=True)


def test_offers_block_with_the_mall(mall: Any, make_app: AppFactory) -> None:
    make_app.set_plugin("portal", True)  # the mall stays enabled: both plugins, one world
    client = make_app().test_client()
    login(client, mall.world.people["m1"].mobile)
    html = client.get("/portal/").get_data(as_text=True)
    block = html.split('id="discounts"')[1].split("</section>")[0]
    assert "职工体检套餐 8 折券" in block and "/benefits_mall/offers/" in block
    section = client.get("/portal/s/discounts").get_data(as_text=True)
    assert "中医理疗专属服务" in section
    assert "职工体检套餐 8 折券" in client.get("/portal/m/s/discounts").get_data(as_text=True)
    make_app.set_plugin("benefits_mall", False)
    off = make_app()
    c2 = off.test_client()
    login(c2, mall.world.people["m1"].mobile)
    assert "职工体检套餐 8 折券" not in c2.get("/portal/").get_data(as_text=True)


def test_mobile_sections_and_me(portal: Portal) -> None:
    client = portal.app.test_client()
    grid = client.get("/portal/m/sections").get_data(as_text=True)
    assert "/portal/m/s/news" in grid and "/portal/m/s/grassroots" in grid
    anonymous = client.get("/portal/m/me").get_data(as_text=True)
    assert "京卡登录" in anonymous
    m1 = portal.world.people["m1"]
    login(client, m1.mobile)
    me = client.get("/portal/m/me").get_data(as_text=True)
    assert m1.name not in me.split('id="me"')[1]  # masked
    assert m1.name[0] in me and "/me" in me and "/notify/" in me
    with portal.app.app_context():
        from tests.helpers import member

        assert member(m1.member_id).org.name in me


def test_api_shapes(portal: Portal) -> None:
    city = portal.world.org_id("city")
    with portal.app.app_context():
        aid = add_article(portal.sections["grassroots"], "基层风采一则", owner_org_id=city,
                          body="<p>第一段<script>x()</script></p><p>第二段</p>", tags="基层")
        file_id = _attachment(aid, "名单.pdf")
    client = portal.app.test_client()
    tree = client.get("/api/v1/portal/sections").get_json()
    news = next(s for s in tree if s["code"] == "news")
    assert {c["code"] for c in news["children"]} == {"grassroots", "media"}
    assert all(s["code"] != "grassroots" for s in tree)
    listing = client.get("/api/v1/portal/sections/news/articles").get_json()
    assert set(listing) == {"items", "page", "per_page", "total"}
    assert listing["items"][0]["url"] == f"/portal/m/a/{aid}"
    detail = client.get(f"/api/v1/portal/articles/{aid}").get_json()
    assert "<script>" not in detail["body_html"] and "第二段" in detail["body_html"]
    assert detail["body_text"].split() == ["第一段", "第二段"]
    assert detail["attachments"] == [{"id": file_id, "filename": "名单.pdf",
                                      "content_type": "application/pdf", "size": 2048,
                                      "url": f"/api/v1/portal/attachments/{file_id}"}]
    assert detail["tags"] == ["基层"]
    home = client.get("/api/v1/portal/home").get_json()
    assert set(home) == {"headlines", "notices", "hot"}
    assert client.get("/api/v1/portal/articles?q=" + "长" * 101).status_code == 400
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/portal/sections", "/api/v1/portal/home",
            "/api/v1/portal/articles/{article_id}"} <= set(spec["paths"])


def test_search_statuses_override(portal: Portal) -> None:
    """The core addition: ``statuses`` widens what one query may find for a doc_type, the
    tokens and tags still apply, and the default is unchanged."""
    from unionhub import db
    from unionhub.search.acl import PUBLIC
    from unionhub.search.queue import enqueue, process_queue
    from unionhub.search.service import get_service
    from unionhub_portal.models import PortalArticle

    city = portal.world.org_id("city")
    with portal.app.app_context():
        on_pc = add_article(portal.sections["news"], "读书月电脑版", owner_org_id=city)
        off_pc = add_article(portal.sections["news"], "读书月手机版", owner_org_id=city,
                             platforms=["mobile"])
        s = db.session()
        enqueue(s, "portal.article", [on_pc, off_pc])
        s.commit()
    process_queue(portal.app)
    with portal.app.app_context():
        svc = get_service(portal.app)
        tokens = frozenset({PUBLIC})

        def titles(**kw: Any) -> set[str]:
            return {h.title for h in svc.search("读书月", tokens, **kw).hits}

        assert titles() == {"读书月电脑版"}
        wide = {"portal.article": ("published", "offsite")}
        assert titles(statuses=wide) == {"读书月电脑版", "读书月手机版"}
        assert titles(statuses=wide, tags=("platform:app",)) == {"读书月电脑版"}
        assert titles(statuses=wide, tags=("platform:mobile",)) == {"读书月电脑版", "读书月手机版"}
        assert titles(statuses={"portal.article": ("offsite",)}) == {"读书月手机版"}
        assert titles(statuses={"nobody.knows": ("draft",), "portal.article": ()}) == \
            {"读书月电脑版"}
        assert titles(statuses=wide) == titles(statuses=wide, doc_type="portal.article")
        assert svc.search("读书月", frozenset({"org:999999"}), statuses=wide).total == 0
        # a draft stays out whatever the statuses asked for
        s = db.session()
        s.get(PortalArticle, off_pc).state = "draft"
        enqueue(s, "portal.article", [off_pc])
        s.commit()
    process_queue(portal.app)
    with portal.app.app_context():
        assert titles(statuses=wide) == {"读书月电脑版"}


def test_concurrent_views_all_count(portal: Portal) -> None:
    """Readers at the same moment each add one view while batches are being written: no
    view is lost between being counted and being written, none is written twice."""
    import threading

    from unionhub import db
    from unionhub_portal.models import PortalArticle
    from unionhub_portal.site.counter import count_view, flush_views

    with portal.app.app_context():
        aid = add_article(portal.sections["news"], "并发阅读",
                          owner_org_id=portal.world.org_id("city"))
        other = add_article(portal.sections["news"], "并发阅读二",
                            owner_org_id=portal.world.org_id("city"))
    threads, per_thread, errors = 6, 200, []
    start = threading.Barrier(threads + 1, timeout=60)
    middle = threading.Barrier(threads + 1, timeout=60)
    done = threading.Event()
    written: list[int] = []

    def reader(n: int) -> None:
        try:
            with portal.app.app_context():
                start.wait()
                for i in range(per_thread):
                    if i == per_thread // 2:
                        middle.wait()  # a batch has been written meanwhile
                    count_view(db.session(), aid if (n + i) % 3 else other)
        except Exception as exc:  # reported below: a failed thread must fail the test
            errors.append(exc)

    def writer() -> None:
        try:
            start.wait()
            while not sum(written):
                written.append(flush_views(portal.app))
            middle.wait()
            while not done.is_set():  # batches taken while the readers count
                written.append(flush_views(portal.app))
        except Exception as exc:
            errors.append(exc)

    pool = [threading.Thread(target=reader, args=(n,)) for n in range(threads)]
    flusher = threading.Thread(target=writer)
    for t in (*pool, flusher):
        t.start()
    for t in pool:
        t.join()
    done.set()
    flusher.join()
    written.append(flush_views(portal.app))
    assert errors == []
    assert sum(written) == threads * per_thread
    with portal.app.app_context():
        s = db.session()
        total = s.get(PortalArticle, aid).view_count + s.get(PortalArticle, other).view_count
        assert total == threads * per_thread
        assert s.get(PortalArticle, other).view_count == sum(
            1 for n in range(threads) for i in range(per_thread) if (n + i) % 3 == 0)


XSS = (
    "<script>alert('xss')</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<svg onload="alert(1)"></svg>',
    '<iframe src="https://evil.example/"></iframe>',
    '<p style="background:url(javascript:alert(1))" onclick="alert(1)">p</p>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">d</a>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
)


def test_stored_markup_is_inert_on_every_surface(portal: Portal) -> None:
    """Bodies are sanitised on save by the editor; whatever is stored (older rules, direct
    imports) is sanitised again on the way out — PC, mobile, API — and feeds carry text."""
    body = "<p>安全正文</p>" + "".join(XSS)
    with portal.app.app_context():
        aid = add_article(portal.sections["news"], "净化检查<b>标题</b>",
                          owner_org_id=portal.world.org_id("city"), body=body,
                          summary=None)
    client = portal.app.test_client()
    bad = ("<script", "onerror", "onload", "onclick", "javascript:", "<iframe", "<svg",
           "data:text/html", "style=\"background")
    for url in (f"/portal/a/{aid}", f"/portal/m/a/{aid}"):
        html = client.get(url).get_data(as_text=True)
        article = html.split('class="article-body"')[1].split("</article>")[0]
        assert "安全正文" in article
        assert not [b for b in bad if b in article], url
        assert "净化检查&lt;b&gt;标题&lt;/b&gt;" in html  # titles are text
    api = client.get(f"/api/v1/portal/articles/{aid}").get_json()
    assert "安全正文" in api["body_html"]
    assert not [b for b in bad if b in api["body_html"]]
    rss = client.get("/portal/feeds/news.rss").get_data(as_text=True)
    assert "<script" not in rss and "净化检查&lt;b&gt;" in rss


def _stored_attachment(article_id: int, name: str, kind: str, data: bytes,
                       content_type: str) -> int:
    """An attachment with its file really stored (so that its download answers 200)."""
    import secrets

    from unionhub import db
    from unionhub_portal.articles import attachments
    from unionhub_portal.models import PortalAttachment

    stored = f"{secrets.token_hex(16)}.{name.rpartition('.')[2]}"
    attachments.folder().mkdir(parents=True, exist_ok=True)
    (attachments.folder() / stored).write_bytes(data)
    s = db.session()
    row = PortalAttachment(article_id=article_id, kind=kind, filename=name, stored_name=stored,
                           content_type=content_type, size=len(data), sha256="0" * 64)
    s.add(row)
    s.commit()
    return row.id


def test_mobile_only_article_images_and_files_load_on_the_micro_site(portal: Portal) -> None:
    """An article published only on the mobile site: its cover (carousel and list), the images
    in its body and its files are fetched by the micro-site's pages as the mobile reader, so
    every one of them loads there (and stays a 404 on the PC portal)."""
    from unionhub import db
    from unionhub_portal.models import PortalArticle

    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    with portal.app.app_context():
        aid = add_article(portal.sections["news"], "只在微网站的头条",
                          owner_org_id=portal.world.org_id("city"), platforms=("mobile",),
                          headline=True, summary="摘要")
        cover = _stored_attachment(aid, "封面.png", "image", png, "image/png")
        pdf = _stored_attachment(aid, "报名表.pdf", "file", b"%PDF-1.4 x", "application/pdf")
        article = db.session().get(PortalArticle, aid)
        article.cover_id = cover
        article.body_html = f'<p>正文</p><p><img src="/portal/attachments/{cover}" alt=""></p>'
        db.session().commit()
    client = portal.app.test_client()
    pages = {url: client.get(url).get_data(as_text=True)
             for url in ("/portal/m/", "/portal/m/s/news", f"/portal/m/a/{aid}")}
    for url, html in pages.items():
        links = re.findall(r'(?:src|href)="(/portal/attachments/[^"]+)"', html)
        assert links, url
        for link in links:
            assert client.get(link.replace("&amp;", "&")).status_code == 200, (url, link)
    article_links = re.findall(r'(?:src|href)="(/portal/attachments/[^"]+)"',
                               pages[f"/portal/m/a/{aid}"])
    assert any(str(pdf) in link for link in article_links)
    assert any(str(cover) in link for link in article_links)
    assert client.get(f"/portal/attachments/{pdf}").status_code == 404  # not on the PC portal


def test_link_section_redirects_only_to_this_site_or_https(portal: Portal) -> None:
    """A link section goes to its ``link_url`` only when that is a path here or an https
    address; a stored value a browser would read as another host (``/\\host``, a tab or
    newline before a second slash) or another scheme goes to the portal's home instead."""
    from unionhub import db
    from unionhub_portal.models import PortalSection, SectionKind

    cases = {"ok-path": ("/library/", "/library/"),
             "ok-https": ("https://www.bjzgh.org/", "https://www.bjzgh.org/"),
             "bad-backslash": ("/\\evil.example", "/portal/"),
             "bad-tab": ("/\t/evil.example", "/portal/"),
             "bad-newline": ("/\n/evil.example", "/portal/"),
             "bad-scheme": ("javascript:alert(1)", "/portal/"),
             "bad-proto-relative": ("//evil.example", "/portal/")}
    with portal.app.app_context():
        s = db.session()
        for code, (url, _want) in cases.items():
            s.add(PortalSection(code=code, name=code, kind=SectionKind.LINK, link_url=url))
        s.commit()
    client = portal.app.test_client()
    for code, (_url, want) in cases.items():
        r = client.get(f"/portal/s/{code}")
        assert r.status_code == 302 and r.headers["Location"] == want, code
        r = client.get(f"/portal/m/s/{code}")
        assert r.headers["Location"] == (want if want != "/portal/" else "/portal/m/"), code


def test_sub_section_of_a_hidden_or_targeted_parent_is_not_shown(portal: Portal) -> None:
    """A sub-section names its parent (PC breadcrumb, mobile back link); hiding the parent or
    targeting it at another union covers the sub-section too: its pages, its articles and the
    article's attachments answer 404 and reveal nothing of the parent."""
    from unionhub import db
    from unionhub_portal.models import PortalSection

    with portal.app.app_context():
        s = db.session()
        rights = s.get(PortalSection, portal.sections["rights"])
        rights.name = "内部维权专栏"
        s.commit()
        aid = add_article(portal.sections["legal_aid"], "法律援助指南",
                          owner_org_id=portal.world.org_id("city"))
        pdf = _stored_attachment(aid, "指南.pdf", "file", b"%PDF-1.4 x", "application/pdf")
    client = portal.app.test_client()
    assert "内部维权专栏" in client.get("/portal/s/legal_aid").get_data(as_text=True)
    assert 'href="/portal/m/s/rights"' in client.get("/portal/m/s/legal_aid").get_data(
        as_text=True)
    assert client.get(f"/portal/attachments/{pdf}").status_code == 200
    for change in ({"hidden": True}, {"hidden": False,
                                      "audience_org_id": portal.world.org_id("d2")}):
        with portal.app.app_context():
            s = db.session()
            rights = s.get(PortalSection, portal.sections["rights"])
            for key, value in change.items():
                setattr(rights, key, value)
            s.commit()
        for url in ("/portal/s/legal_aid", "/portal/m/s/legal_aid", f"/portal/a/{aid}",
                    f"/portal/m/a/{aid}", f"/portal/attachments/{pdf}",
                    f"/portal/attachments/{pdf}?m=1", "/portal/feeds/legal_aid.rss",
                    f"/api/v1/portal/articles/{aid}"):
            r = client.get(url)
            assert r.status_code == 404, (change, url)
            assert "内部维权专栏" not in r.get_data(as_text=True), (change, url)
        for url in ("/portal/", "/portal/m/", "/portal/sitemap.xml", "/portal/m/sections",
                    "/api/v1/portal/sections", "/api/v1/portal/articles"):
            html = client.get(url).get_data(as_text=True)
            assert "法律援助指南" not in html and "内部维权专栏" not in html, (change, url)


def test_article_pages_fit_a_phone_when_titles_hold_long_words(portal: Portal) -> None:
    """A title, summary or tag with a long unbroken word wraps on the home page, the section
    list and the article page (PC and mobile) instead of widening them past 390 px."""
    from tests.portal.test_forum_web import phone_widths

    word = "Z" * 90
    with portal.app.app_context():
        aid = add_article(portal.sections["news"], f"通知{word}",
                          owner_org_id=portal.world.org_id("city"), summary=f"摘要{word}",
                          tags=f"标签{word[:18]}", source=f"来源{word[:90]}")
    client = portal.app.test_client()
    paths = ["/portal/", "/portal/m/", "/portal/s/news", "/portal/m/s/news", f"/portal/a/{aid}",
             f"/portal/m/a/{aid}"]
    assert phone_widths(client, paths) == {path: 390 for path in paths}


def test_home_blocks_leave_notices_to_their_own_card(portal: Portal) -> None:
    from unionhub import db
    from unionhub_portal.audience import Viewer
    from unionhub_portal.site import service

    with portal.app.app_context():
        add_article(portal.sections["notices"], "一则通知",
                    owner_org_id=portal.world.org_id("city"))
        blocks = service.home_blocks(db.session(), Viewer())
        assert blocks and "notice" not in {b.section.kind for b in blocks}
        assert [a.title for a in service.notices(db.session(), Viewer())] == ["一则通知"]
    html = portal.app.test_client().get("/portal/").get_data(as_text=True)
    assert "附件 0" not in html and "> · " not in html


def test_a_missing_page_on_the_micro_site_keeps_its_layout(portal: Portal) -> None:
    client = portal.app.test_client()
    mobile = client.get("/portal/m/a/999999")
    assert mobile.status_code == 404
    assert 'class="m-tabs"' in mobile.get_data(as_text=True)
    pc = client.get("/portal/a/999999")
    assert pc.status_code == 404 and 'class="m-tabs"' not in pc.get_data(as_text=True)
