"""The portal's mobile micro-site end to end on a phone-sized viewport, plus a desktop glance.

A member of the bus company's union (under 北京市交通运输工会) opens the micro-site, finds a
notice targeted at their union in 通知公告 and reads it, asks the worker hotline and sees the
question under 我的提问, and replies to a forum topic and sees the reply on the topic page. A
member of 海淀区 (another district) sets a password through the first sign-in page and does not
see that notice: its URL answers 404 and it is not in their notices list (which does list a
notice targeted at 海淀). An anonymous visitor then opens the PC portal's home page and an
article; the headline covers load on both sites. Runs against ``unionhub serve`` on demo data
(see conftest); the notice, the forum topic and the second member are read from the demo
database; screenshots go to ``tests/e2e/screenshots/portal-<step>.png``.
"""

from __future__ import annotations

import re
import sqlite3
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.test_mutualaid_browser import assert_fits_phone, sign_in
from unionhub.security.crypto import FieldCipher, load_key

pytestmark = pytest.mark.e2e

NewPage = Callable[..., Page]
Shot = Callable[[Any, str], Path]

# ``:path`` is a member's org path ("/1/7/10/20/"): an org id X is the member's org or one of
# its ancestors exactly when the path contains "/X/".
UNDER = "{path} LIKE '%/' || {org} || '/%'"

# The newest notice targeted at (an ancestor of) the member's union that the member may read on
# the mobile site: live, on the mobile platform, no member-group restriction, in a shown
# notice section whose parent (if any) is shown too. Mirrors unionhub_portal.audience.
TARGETED_NOTICE = f"""
SELECT a.id, a.title, a.audience_org_id
FROM portal_article a
JOIN portal_section s ON s.id = a.section_id
LEFT JOIN portal_section p ON p.id = s.parent_id
WHERE s.kind = 'notice'
  AND a.audience_org_id IS NOT NULL AND {UNDER.format(path=':path', org='a.audience_org_id')}
  AND a.state = 'published' AND a.published_at <= datetime('now')
  AND (a.expires_at IS NULL OR a.expires_at > datetime('now'))
  AND a.on_mobile = 1 AND a.has_groups = 0
  AND s.hidden = 0 AND s.on_mobile = 1 AND s.has_groups = 0
  AND (s.audience_org_id IS NULL OR {UNDER.format(path=':path', org='s.audience_org_id')})
  AND (p.id IS NULL OR (p.hidden = 0 AND p.on_mobile = 1 AND p.has_groups = 0
                        AND p.audience_org_id IS NULL))
ORDER BY a.published_at DESC, a.id DESC
LIMIT 1
"""

MEMBER_ORG_PATH = """
SELECT o.path FROM member m JOIN org o ON o.id = m.org_id
WHERE m.mobile = :mobile AND m.status = 'active'
"""

# An open topic the member may reply to: a board that is city-wide or belongs to the member's
# org subtree, not archived, not pre-moderated (the reply shows at once), in a shown forum
# section on the mobile site; the topic shown and not locked. A union's own board first.
OPEN_TOPIC = f"""
SELECT t.id, t.title, b.id, b.name, b.org_id
FROM portal_forum_topic t
JOIN portal_forum_board b ON b.id = t.board_id
JOIN portal_section s ON s.id = b.section_id
WHERE (b.org_id IS NULL OR {UNDER.format(path=':path', org='b.org_id')})
  AND b.archived = 0 AND b.premoderated = 0
  AND s.hidden = 0 AND s.on_mobile = 1 AND s.has_groups = 0 AND s.audience_org_id IS NULL
  AND t.locked = 0 AND t.pending = 0 AND t.hidden = 0 AND t.deleted = 0
ORDER BY b.org_id IS NULL, t.pinned, t.id
LIMIT 1
"""

# An active member of another district (not under the notice's target org nor under the
# forum board's org) whose account has no password yet (so the first sign-in page lets the
# test set one), with an active card and a mobile number on record.
OTHER_MEMBER = f"""
SELECT m.id, m.id_number_enc, c.number_enc, m.mobile, o.path
FROM member m
JOIN org o ON o.id = m.org_id
JOIN org d ON d.code = :district AND {UNDER.format(path='o.path', org='d.id')}
JOIN account ac ON ac.member_id = m.id AND ac.password_hash IS NULL AND ac.is_active = 1
JOIN jingka_card c ON c.member_id = m.id AND c.status = 'active'
WHERE m.status = 'active' AND m.mobile IS NOT NULL
  AND NOT {UNDER.format(path='o.path', org=':notice_org')}
  AND NOT {UNDER.format(path='o.path', org=':board_org')}
ORDER BY m.id
LIMIT 1
"""

# A live PC article an anonymous visitor may read (no org or group target anywhere).
PUBLIC_ARTICLE = """
SELECT a.id, a.title
FROM portal_article a
JOIN portal_section s ON s.id = a.section_id
LEFT JOIN portal_section p ON p.id = s.parent_id
WHERE a.state = 'published' AND a.published_at <= datetime('now')
  AND (a.expires_at IS NULL OR a.expires_at > datetime('now'))
  AND a.on_pc = 1 AND a.has_groups = 0 AND a.audience_org_id IS NULL
  AND s.hidden = 0 AND s.on_pc = 1 AND s.has_groups = 0 AND s.audience_org_id IS NULL
  AND (p.id IS NULL OR (p.hidden = 0 AND p.on_pc = 1 AND p.has_groups = 0
                        AND p.audience_org_id IS NULL))
  AND s.kind = 'news'
ORDER BY a.published_at DESC, a.id DESC
LIMIT 1
"""

HAIDIAN = "110108"  # 海淀区总工会
OTHER_PASSWORD = "Haidian2026pw"


@dataclass(frozen=True)
class Notice:
    id: int
    title: str
    org_id: int


@dataclass(frozen=True)
class Topic:
    id: int
    title: str
    board_id: int
    board_name: str
    board_org_id: int | None


@dataclass(frozen=True)
class OtherMember:
    card: str
    id_number: str
    mobile: str
    org_path: str


def database(live_server: LiveServer) -> sqlite3.Connection:
    return sqlite3.connect(live_server.log.parent / "unionhub.db")


def org_path(db: sqlite3.Connection, mobile: str) -> str:
    row = db.execute(MEMBER_ORG_PATH, {"mobile": mobile}).fetchone()
    assert row, f"no active member with mobile {mobile}"
    return str(row[0])


def targeted_notice(db: sqlite3.Connection, path: str) -> Notice | None:
    row = db.execute(TARGETED_NOTICE, {"path": path}).fetchone()
    return Notice(int(row[0]), str(row[1]), int(row[2])) if row else None


def open_topic(db: sqlite3.Connection, path: str) -> Topic:
    row = db.execute(OPEN_TOPIC, {"path": path}).fetchone()
    assert row, "the demo has no open forum topic this member may reply to"
    return Topic(int(row[0]), str(row[1]), int(row[2]), str(row[3]),
                 int(row[4]) if row[4] is not None else None)


def field_cipher(live_server: LiveServer) -> FieldCipher:
    """The instance's field cipher (its keys are in ``secrets.toml``, written on first run),
    to read a demo member's card and ID number for the first sign-in page."""
    secrets = tomllib.loads((live_server.log.parent / "secrets.toml").read_text("utf-8"))
    return FieldCipher(load_key(secrets["FIELD_ENCRYPTION_KEY"]),
                       load_key(secrets["FIELD_HASH_KEY"]))


def other_member(db: sqlite3.Connection, live_server: LiveServer, notice: Notice,
                 topic: Topic) -> OtherMember:
    row = db.execute(OTHER_MEMBER, {"district": HAIDIAN, "notice_org": notice.org_id,
                                    "board_org": topic.board_org_id or -1}).fetchone()
    assert row, "the demo has no 海淀 member without a password to sign in with"
    cipher = field_cipher(live_server)
    return OtherMember(card=cipher.decrypt(row[2]), id_number=cipher.decrypt(row[1]),
                       mobile=str(row[3]), org_path=str(row[4]))


def first_sign_in(page: Page, who: OtherMember, password: str) -> None:
    """Set a password through the first sign-in page (card + ID number + mobile on record)."""
    page.goto("/auth/first-login")
    page.get_by_label("京卡卡号").fill(who.card)
    page.get_by_label("身份证号").fill(who.id_number)
    page.get_by_label("登记的手机号").fill(who.mobile)
    page.get_by_label("设置密码").fill(password)
    page.get_by_label("确认密码").fill(password)
    page.get_by_role("button", name="设置密码并登录").click()
    expect(page.locator(".flash", has_text="密码已设置")).to_be_visible()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def snap(shot: Shot, page: Page, name: str, what: str) -> None:
    """Check the page fits a phone and take its full-page screenshot from the top (a page
    scrolled by typing would draw its sticky header in the middle of the picture)."""
    page.evaluate("window.scrollTo(0, 0)")
    assert_fits_phone(page, what)
    shot(page, name)


def assert_images_load(page: Page, selector: str, what: str) -> None:
    """Every image matching ``selector`` (at least one) has loaded and decoded."""
    images = page.locator(selector)
    expect(images.first).to_be_visible()
    page.wait_for_load_state("load")
    broken = page.evaluate(
        "(sel) => [...document.querySelectorAll(sel)]"
        ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'))",
        selector)
    assert not broken, f"{what}: images do not load: {broken}"


def list_titles(page: Page, url: str) -> list[str]:
    """Every article title of a micro-site section list, following its pager to the end."""
    page.goto(url)
    titles: list[str] = []
    for _ in range(50):
        titles += [t.strip() for t in
                   page.locator(".article-list .title > a").all_inner_texts()]
        following = page.locator(".pager a", has_text="下一页")
        if not following.count():
            return titles
        following.click()
        page.wait_for_load_state()
    pytest.fail(f"{url}: the pager did not end within 50 pages")


def show_notice_list_page(page: Page, title: str) -> None:
    """Page through 通知公告 until ``title`` is listed (it is newest-first, so usually page 1)."""
    page.goto("/portal/m/s/notices")
    for _ in range(50):
        if page.locator(".article-list .title > a", has_text=title).count():
            return
        following = page.locator(".pager a", has_text="下一页")
        assert following.count(), f"{title!r} is not in the member's notices list"
        following.click()
        page.wait_for_load_state()
    pytest.fail("the notices pager did not end within 50 pages")


def test_member_reads_notice_asks_hotline_replies_in_forum_on_phone(
        new_page: NewPage, live_server: LiveServer, shot: Shot) -> None:
    member = live_server.members[0]
    with database(live_server) as db:
        path = org_path(db, member.mobile)
        notice = targeted_notice(db, path)
        assert notice, f"the demo targets no notice at the union of {member.name} ({path})"
        topic = open_topic(db, path)
        other = other_member(db, live_server, notice, topic)
        other_notice = targeted_notice(db, other.org_path)
    assert other_notice, "the demo targets no notice at 海淀区总工会"

    # -- 1. the member opens the micro-site -------------------------------------------------
    phone = new_page("phone")
    sign_in(phone, member.card)
    phone.goto("/portal/m/")
    expect(phone.locator(".m-head h1")).to_have_text("工会微网站")
    expect(phone.locator("#notices h2")).to_have_text("通知公告")
    expect(phone.locator(".m-tabs a.active")).to_contain_text("首页")
    snap(shot, phone, "portal-1-home", "micro-site home")

    # -- 2. finds the notice targeted at their union in 通知公告 and reads it ----------------
    show_notice_list_page(phone, notice.title)
    expect(phone.locator(".m-head h1")).to_have_text("通知公告")
    snap(shot, phone, "portal-2-notices", "notices list")
    phone.locator(".article-list .title > a", has_text=notice.title).first.click()
    expect(phone.locator("article.portal-article h1")).to_have_text(notice.title)
    expect(phone.locator(".article-meta")).to_contain_text("发布时间")
    expect(phone.locator(".article-body")).not_to_be_empty()
    snap(shot, phone, "portal-3-notice", "notice page")

    # -- 3. asks the worker hotline ------------------------------------------------------------
    subject = "夜班补贴标准咨询"
    phone.locator(".m-tabs a", has_text="热线").click()
    expect(phone.locator(".m-head h1")).to_have_text("职工热线")
    snap(shot, phone, "portal-4-hotline", "hotline")
    phone.get_by_role("link", name="我要提问").click()
    expect(phone).to_have_url(re.compile(r"/portal/m/hotline/ask$"))
    phone.locator("select[name='category']").select_option(label="工资报酬")
    phone.locator("input[name='subject']").fill(subject)
    phone.locator("textarea[name='body']").fill(
        "我在公交第一客运分公司开夜班车，想了解单位夜班补贴的发放标准和依据，谢谢。")
    snap(shot, phone, "portal-5-ask", "hotline ask form")
    phone.get_by_role("button", name="提交问题").click()
    expect(phone).to_have_url(re.compile(r"/portal/m/hotline/my/\d+$"))
    expect(phone.locator(".flash.success")).to_contain_text("提问已提交")
    expect(phone.locator("main article.card > h2")).to_have_text(subject)
    snap(shot, phone, "portal-6-question", "my question")

    # ... and sees it in 我的提问
    phone.locator(".m-head a[aria-label='返回']").click()
    expect(phone.locator(".m-head h1")).to_have_text("我的提问")
    expect(phone.locator("#my-questions li", has_text=subject)).to_have_count(1)
    snap(shot, phone, "portal-7-my-questions", "my questions")

    # -- 4. replies to a forum topic ---------------------------------------------------------
    reply = "同意楼上的建议，我们车队也希望尽快落实，辛苦工会了！"
    phone.locator(".m-tabs a", has_text="论坛").click()
    expect(phone.locator(".m-head h1")).to_have_text("工会论坛")
    snap(shot, phone, "portal-8-forum", "forum")
    phone.locator("#forum-boards a.name", has_text=topic.board_name).click()
    expect(phone).to_have_url(re.compile(rf"/portal/m/forum/b/{topic.board_id}$"))
    phone.get_by_role("link", name=topic.title).first.click()
    expect(phone).to_have_url(re.compile(rf"/portal/m/forum/t/{topic.id}$"))
    expect(phone.locator("section.card h1")).to_contain_text(topic.title)
    phone.locator("#reply textarea[name='body']").fill(reply)
    snap(shot, phone, "portal-9-topic", "forum topic")
    phone.locator("#reply").get_by_role("button", name="发表回复").click()
    expect(phone.locator(".flash.success")).to_contain_text("回复已发布")
    expect(phone).to_have_url(re.compile(rf"/portal/m/forum/t/{topic.id}"))
    post = phone.locator("#posts article.forum-post", has_text=reply)
    expect(post).to_have_count(1)
    expect(post).to_have_class(re.compile(r"\bstate-visible\b"))
    snap(shot, phone, "portal-10-replied", "forum topic after the reply")

    # -- 5. a member of 海淀 does not see the notice -------------------------------------------
    outsider = new_page("phone")
    first_sign_in(outsider, other, OTHER_PASSWORD)
    response = outsider.goto(f"/portal/m/a/{notice.id}")
    assert response is not None and response.status == 404, (
        f"/portal/m/a/{notice.id} answered {response and response.status} for a 海淀 member")
    expect(outsider.locator("body")).not_to_contain_text(notice.title)
    snap(shot, outsider, "portal-11-other-404", "404 on the micro-site")

    titles = list_titles(outsider, "/portal/m/s/notices")
    assert notice.title not in titles, "a 海淀 member sees a notice targeted elsewhere"
    assert other_notice.title in titles, "the 海淀 member's own targeted notice is not listed"
    outsider.goto("/portal/m/s/notices")
    snap(shot, outsider, "portal-12-other-notices", "notices list of the 海淀 member")
    outsider.goto("/portal/m/")
    expect(outsider.locator("#notices")).not_to_contain_text(notice.title)

    if topic.board_org_id is not None:  # the union's own board is not theirs either
        response = outsider.goto(f"/portal/m/forum/t/{topic.id}")
        assert response is not None and response.status == 404
        outsider.goto("/portal/m/forum")
        expect(outsider.locator("#forum-boards")).not_to_contain_text(topic.board_name)


def test_pc_portal_home_and_article_for_a_visitor(new_page: NewPage, live_server: LiveServer,
                                                  shot: Shot) -> None:
    with database(live_server) as db:
        row = db.execute(PUBLIC_ARTICLE).fetchone()
        path = org_path(db, live_server.members[0].mobile)
        notice = targeted_notice(db, path)
    assert row, "the demo has no public news article"
    assert notice, "the demo has no targeted notice"
    article_id, title = int(row[0]), str(row[1])

    pc = new_page("desktop")
    pc.goto("/portal/")
    expect(pc.locator("#notices")).to_be_visible()
    expect(pc.locator("#headlines a").first).to_be_visible()
    assert pc.locator("section[id^='block-'] .article-list li").count() > 0
    shot(pc, "portal-20-pc-home")

    pc.goto(f"/portal/a/{article_id}")
    expect(pc.locator("article.portal-article h1")).to_have_text(title)
    expect(pc.locator(".article-body")).not_to_be_empty()
    shot(pc, "portal-21-pc-article")

    response = pc.goto(f"/portal/a/{notice.id}")  # targeted content is not for visitors
    assert response is not None and response.status == 404


def test_headline_covers_load(new_page: NewPage) -> None:
    """The demo's headline covers are served to the visitor on both sites."""
    phone = new_page("phone")
    phone.goto("/portal/m/")
    assert_images_load(phone, "#headlines img", "micro-site headlines")
    pc = new_page("desktop")
    pc.goto("/portal/")
    assert_images_load(pc, "#headlines img", "PC portal headlines")
