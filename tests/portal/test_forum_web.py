"""Forum pages on the PC portal and the mobile micro-site, the back office, images and the
"我的帖子" panel, through HTTP."""

from __future__ import annotations

import io
import re
import threading
from typing import Any

import pytest
from sqlalchemy import select

from tests.helpers import login, post_form
from tests.portal.conftest import Portal
from tests.portal.test_forum_service import add_board, add_word, new_reply, new_topic
from unionhub import db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_pc_pages_post_reply_quote_and_edit(portal: Portal) -> None:
    from unionhub_portal.forum.models import PortalForumPost

    with portal.app.app_context():
        board = add_board(portal, "职工之家")
        org_board = add_board(portal, "电控工会", org="g1")
    c = portal.app.test_client()
    assert "职工之家" in c.get("/portal/forum").get_data(as_text=True)
    assert "电控工会" not in c.get("/portal/forum").get_data(as_text=True)
    assert c.get(f"/portal/forum/b/{org_board}").status_code == 404
    assert c.get(f"/portal/forum/b/{board}/new").status_code == 302  # to the login page
    login(c, portal.world.people["m1"].mobile)
    page = c.get("/portal/forum").get_data(as_text=True)
    assert "电控工会" in page and "我的帖子" in page
    r = post_form(c, f"/portal/forum/b/{board}/new",
                  {"title": "<b>班车</b>线路调整", "body": "[点我](javascript:alert(1))\n\n"
                   "<img src=x onerror=alert(1)>",
                   "images": (io.BytesIO(PNG), "路线.png")},
                  content_type="multipart/form-data")
    assert r.status_code == 302
    topic_url = r.headers["Location"]
    html = c.get(topic_url).get_data(as_text=True)
    assert "&lt;b&gt;班车&lt;/b&gt;线路调整" in html
    assert 'href="javascript' not in html and "<img src=x" not in html  # inert text
    image = re.search(r'src="(/portal/forum/images/\d+)"', html)
    assert image
    topic_id = int(topic_url.rsplit("/", 1)[1])
    # a reply quoting the opening post
    with portal.app.app_context():
        first = db.session().scalar(select(PortalForumPost).where(
            PortalForumPost.topic_id == topic_id))
    c2 = portal.app.test_client()
    login(c2, portal.world.people["m2"].mobile)
    img = c2.get(image.group(1))
    assert img.status_code == 200 and img.data == PNG
    assert img.headers["X-Content-Type-Options"] == "nosniff"
    form_url = f"/portal/forum/t/{topic_id}/reply?quote={first.id}"
    r = post_form(c2, f"/portal/forum/t/{topic_id}/reply", {"body": "支持", "quote": first.id},
                  form_url=form_url)
    assert r.status_code == 302
    r = c2.get(r.headers["Location"])
    assert r.status_code == 302 and "#p" in r.headers["Location"]
    html = c2.get(r.headers["Location"]).get_data(as_text=True)
    assert "引用 张* 的发言" in html and "支持" in html
    # the author edits; somebody else may not
    assert c2.get(f"/portal/forum/p/{first.id}/edit").status_code == 403
    r = post_form(c, f"/portal/forum/p/{first.id}/edit", {"title": "班车线路调整", "body": "改了"})
    assert r.status_code == 302
    assert "改了" in c.get(topic_url).get_data(as_text=True)
    # an empty reply keeps the form with a message
    r = post_form(c, f"/portal/forum/t/{topic_id}/reply", {"body": " "})
    assert r.status_code == 400 and "请填写内容" in r.get_data(as_text=True)
    # anonymous visitors cannot see the image of a post in a members-only board
    with portal.app.app_context():
        hidden = new_topic(portal, "m1", org_board, uploads=[])
    assert portal.app.test_client().get(f"/portal/forum/t/{hidden.topic_id}").status_code == 404


def test_mobile_pages_render_and_post(portal: Portal) -> None:
    with portal.app.app_context():
        board = add_board(portal, "一线心声")
        first = new_topic(portal, "m1", board, "夜班公交司机的休息室")
        new_reply(portal, "m2", first.topic_id, "希望有热水")
    c = portal.app.test_client()
    html = c.get("/portal/m/forum").get_data(as_text=True)
    assert "一线心声" in html and 'class="m-tabs"' in html and "viewport" in html
    html = c.get(f"/portal/m/forum/b/{board}").get_data(as_text=True)
    assert "夜班公交司机的休息室" in html and "/portal/m/forum/t/" in html
    html = c.get(f"/portal/m/forum/t/{first.topic_id}").get_data(as_text=True)
    assert "希望有热水" in html and "李*" in html and "李娜" not in html
    login(c, portal.world.people["m3"].mobile)
    r = post_form(c, f"/portal/m/forum/t/{first.topic_id}/reply", {"body": "同感"},
                  form_url=f"/portal/m/forum/t/{first.topic_id}")
    assert r.status_code == 302 and r.headers["Location"].startswith("/portal/m/forum/p/")
    html = c.get(c.get(r.headers["Location"]).headers["Location"]).get_data(as_text=True)
    assert "同感" in html
    assert c.get("/portal/m/forum/my").status_code == 200
    assert "同感" in c.get("/portal/m/forum/my").get_data(as_text=True)


def test_pending_post_note_for_its_author_only(portal: Portal) -> None:
    with portal.app.app_context():
        board = add_board(portal, "法律咨询交流", premoderated=True)
        held = new_topic(portal, "m1", board, "加班费怎么算")
    c = portal.app.test_client()
    login(c, portal.world.people["m1"].mobile)
    html = c.get(f"/portal/forum/t/{held.topic_id}").get_data(as_text=True)
    assert "此帖待版主审核" in html
    other = portal.app.test_client()
    login(other, portal.world.people["m2"].mobile)
    assert other.get(f"/portal/forum/t/{held.topic_id}").status_code == 404
    assert "加班费怎么算" in c.get("/me").get_data(as_text=True)  # the profile panel


def test_back_office_queue_actions_words_boards_and_scope(portal: Portal) -> None:
    with portal.app.app_context():
        board = add_board(portal, "职工之家", premoderated=True)
        g1_board = add_board(portal, "电控工会", org="g1")
        held = new_topic(portal, "m1", board, "待审主题")
        open_topic = new_topic(portal, "m1", g1_board, "电控话题")
        add_word(portal, "赌博", "block")
    member = portal.app.test_client()
    login(member, portal.world.people["m2"].mobile)
    assert member.get("/portal/admin/forum").status_code == 403
    haidian = portal.app.test_client()
    login(haidian, "haidian")
    page = haidian.get("/portal/admin/forum").get_data(as_text=True)
    assert "待审主题" not in page
    r = post_form(haidian, f"/portal/admin/forum/topics/{open_topic.topic_id}/lock", {},
                  form_url="/portal/admin/forum")
    assert r.status_code == 403
    city = portal.app.test_client()
    login(city, "city")
    page = city.get("/portal/admin/forum").get_data(as_text=True)
    assert "待审主题" in page
    r = post_form(city, f"/portal/admin/forum/posts/{held.id}/approve", {},
                  form_url="/portal/admin/forum")
    assert r.status_code == 302
    assert "待审主题" in member.get(f"/portal/forum/b/{board}").get_data(as_text=True)
    topic_url = f"/portal/forum/t/{open_topic.topic_id}"
    html = city.get(topic_url).get_data(as_text=True)
    assert 'id="moderator-tools"' in html
    r = post_form(city, f"/portal/admin/forum/topics/{open_topic.topic_id}/pin",
                  {"next": topic_url}, form_url=topic_url)
    assert r.status_code == 302 and r.headers["Location"] == topic_url
    assert "置顶" in city.get(topic_url).get_data(as_text=True)
    r = post_form(city, f"/portal/admin/forum/topics/{open_topic.topic_id}/move",
                  {"board_id": board, "next": topic_url}, form_url=topic_url)
    assert r.status_code == 302
    assert "电控话题" in member.get(f"/portal/forum/b/{board}").get_data(as_text=True)
    # words
    r = post_form(city, "/portal/admin/forum/words", {"word": "赌博", "level": "review"})
    assert r.status_code == 400 and "已在列表中" in r.get_data(as_text=True)
    r = post_form(city, "/portal/admin/forum/words", {"word": "传销", "level": "review"})
    assert r.status_code == 302
    assert "传销" in city.get("/portal/admin/forum/words").get_data(as_text=True)
    # boards
    r = post_form(city, "/portal/admin/forum/boards/new",
                  {"name": "劳模工匠", "section_id": portal.sections["forum"], "org_id": "",
                   "sort": "2", "premoderated": "1"})
    assert r.status_code == 302
    assert "劳模工匠" in city.get("/portal/admin/forum/boards").get_data(as_text=True)
    r = post_form(city, "/portal/admin/forum/boards/new",
                  {"name": "x", "section_id": portal.sections["forum"], "sort": "0"})
    assert r.status_code == 400 and "2–60" in r.get_data(as_text=True)
    chaoyang = portal.app.test_client()
    login(chaoyang, "chaoyang")
    assert chaoyang.get(f"/portal/admin/forum/boards/{board}").status_code == 404
    html = chaoyang.get("/portal/admin/forum/boards/new").get_data(as_text=True)
    assert "全市（所有会员）" not in html
    log = city.get("/portal/admin/forum/log").get_data(as_text=True)
    assert "通过审核" in log and "移动" in log and "添加敏感词" in log


def test_report_from_the_page_once(portal: Portal) -> None:
    with portal.app.app_context():
        board = add_board(portal)
        first = new_topic(portal, "m1", board)
        bad = new_reply(portal, "m2", first.topic_id, "广告广告")
    c = portal.app.test_client()
    login(c, portal.world.people["m3"].mobile)
    url = f"/portal/forum/p/{bad.id}/report"
    r = post_form(c, url, {"reason": "广告"})
    assert r.status_code == 302
    assert 'id="already-reported"' in c.get(url).get_data(as_text=True)
    city = portal.app.test_client()
    login(city, "city")
    assert "广告广告" in city.get("/portal/admin/forum?tab=reports").get_data(as_text=True)


def test_moderation_next_goes_only_to_a_path_on_this_site(portal: Portal) -> None:
    """``next`` after a moderation action: a path here is followed; anything a browser would
    read as another site (``//host``, a backslash, a tab or newline that browsers drop before
    the second slash, an absolute URL) falls back to the queue."""
    with portal.app.app_context():
        board = add_board(portal)
        topic_id = new_topic(portal, "m1", board).topic_id
    city = portal.app.test_client()
    login(city, "city")
    url = f"/portal/forum/t/{topic_id}"
    actions = iter(["pin", "unpin"] * 4)
    for target in ("//evil.example/x", "/\\evil.example", "/\t/evil.example",
                   "/\n/evil.example", "/ /evil.example", "https://evil.example/"):
        r = post_form(city, f"/portal/admin/forum/topics/{topic_id}/{next(actions)}",
                      {"next": target}, form_url=url)
        assert r.status_code == 302
        assert r.headers["Location"] == "/portal/admin/forum", target
    r = post_form(city, f"/portal/admin/forum/topics/{topic_id}/lock", {"next": url},
                  form_url=url)
    assert r.headers["Location"] == url


def phone_widths(client: Any, paths: list[str]) -> dict[str, int]:
    """The page width (``scrollWidth``) of each path in Chromium at 390 px, the pages served
    by the Flask test ``client`` (skips when Playwright or Chromium is missing)."""
    import shutil

    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not shutil.which(chromium):
        pytest.skip("no Chromium")
    base = "http://portal.test"

    def serve(route: Any) -> None:
        r = client.open(route.request.url.removeprefix(base), method=route.request.method)
        route.fulfill(status=r.status_code, body=r.get_data(), headers={
            k: v for k, v in r.headers.items() if k.lower() != "content-length"})

    widths: dict[str, int] = {}
    failure: list[BaseException] = []

    def measure() -> None:
        try:
            with sync_api.sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=chromium,
                    args=["--headless", "--no-sandbox", "--disable-gpu",
                          "--disable-background-networking"])
                page = browser.new_page(viewport={"width": 390, "height": 844})
                page.route("**/*", serve)
                for path in paths:
                    page.goto(base + path)
                    widths[path] = page.evaluate("document.documentElement.scrollWidth")
                browser.close()
        except BaseException as exc:  # re-raised in the test's thread
            failure.append(exc)

    # Playwright's sync API refuses a thread whose asyncio loop is running (another test of
    # the session may have left one): a thread of its own has none.
    worker = threading.Thread(target=measure)
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
    return widths


def test_topic_page_fits_a_phone_when_posts_hold_long_words(portal: Portal) -> None:
    """A long address or word in a title, a quote's excerpt or a post wraps (or scrolls inside
    its code block or table) instead of widening the page past a 390 px phone screen."""
    long = "https://example.com/" + "a" * 200
    with portal.app.app_context():
        board = add_board(portal)
        first = new_topic(portal, "m1", board, title="建议" + "Y" * 100,
                          body=f"{long}\n\n```\n{'x' * 200}\n```\n\n| a | b | c | d |\n"
                               "|---|---|---|---|\n| 很长的内容 | 很长的内容 | 很长的内容 | "
                               "很长的内容 |")
        new_reply(portal, "m3", first.topic_id, "同意", quote_post_id=first.id)
    client = portal.app.test_client()
    login(client, portal.world.people["m1"].mobile)
    paths = [f"/portal/forum/t/{first.topic_id}", f"/portal/m/forum/t/{first.topic_id}",
             f"/portal/m/forum/b/{board}", "/portal/m/forum/my",
             f"/portal/m/forum/t/{first.topic_id}/reply?quote={first.id}"]
    assert phone_widths(client, paths) == {path: 390 for path in paths}
