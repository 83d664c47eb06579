"""The core in a real browser: a member on a phone, officers and the admin on a desktop,
card replacement on a phone. Runs against ``unionhub serve`` on demo data (see conftest).

Every scenario saves full-page screenshots to ``tests/e2e/screenshots/<name>.png``. The card
replacement scenario changes data, so it comes last and uses a demo member no other
scenario signs in with.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DEMO_PASSWORD, LiveServer
from unionhub.identity.numbers import make_card_number, mask_card_number, mask_id_number

pytestmark = pytest.mark.e2e

NewPage = Callable[..., Page]
Shot = Callable[[Any, str], Path]

# demo.py ORGS: 朝阳区总工会 (110105) and everything below it.
CHAOYANG_SUBTREE = {
    "朝阳区总工会",
    "北京电子控股有限责任公司工会",
    "朝阳区望京街道总工会",
    "京东方科技集团分会",
}
# Leaf orgs elsewhere; 朝阳医院 is under 卫生健康工会, not under the 朝阳 district.
NOT_CHAOYANG = [
    "中关村软件园工会联合会",
    "公交第一客运分公司分会",
    "公交保修分公司分会",
    "首都医科大学附属北京朝阳医院工会",
    "王府井百货集团工会",
]


def sign_in(page: Page, identifier: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/auth/login")
    page.get_by_label("京卡卡号 / 手机号 / 身份证号").fill(identifier)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录", exact=True).click()


def page_overflow(page: Page) -> int:
    """How many CSS pixels the page scrolls sideways (0 when everything fits)."""
    return int(page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def assert_fits_phone(page: Page, what: str) -> None:
    assert page_overflow(page) <= 0, f"{what}: the page scrolls horizontally on a phone"


def test_member_on_phone(new_page: NewPage, live_server: LiveServer, shot: Shot) -> None:
    m = live_server.members[0]
    page = new_page("phone")

    page.goto("/")
    expect(page.get_by_role("heading", name="欢迎来到数字工会")).to_be_visible()
    assert_fits_phone(page, "home")
    shot(page, "phone_home_anonymous")

    page.locator("header .account").get_by_role("link", name="登录", exact=True).click()
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    assert_fits_phone(page, "login")
    shot(page, "phone_login")

    page.get_by_label("京卡卡号 / 手机号 / 身份证号").fill(m.card)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()

    expect(page).to_have_url(live_server.url + "/")
    widget = page.locator("section.panel", has=page.get_by_role("heading", name="我的京卡"))
    expect(widget).to_be_visible()
    expect(widget.locator(".jingka-face .number")).to_have_text(mask_card_number(m.card))
    expect(widget.locator(".jingka-face .number")).to_contain_text("**** ****")
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    assert m.card not in page.content()
    assert_fits_phone(page, "member home")
    shot(page, "phone_member_home")

    page.locator("nav.mainnav").get_by_role("link", name=re.compile("我的")).click()
    expect(page).to_have_url(re.compile(r"/me$"))
    expect(page.get_by_role("heading", name="我的", exact=True)).to_be_visible()
    profile = page.locator("section.profile")
    expect(profile).to_contain_text(m.name)
    expect(profile).to_contain_text(mask_id_number(m.id_number))
    expect(profile).to_contain_text(mask_card_number(m.card))
    expect(profile.locator(".jingka .badge").first).to_have_text("正常")
    html = page.content()
    assert m.card not in html, "full card number leaked into /me"
    assert m.id_number not in html, "full ID number leaked into /me"
    assert m.mobile not in html, "full mobile number leaked into /me"
    assert mask_id_number(m.id_number) in html
    assert mask_card_number(m.card) in html
    assert_fits_phone(page, "/me")
    shot(page, "phone_member_me")

    page.locator("header .account").get_by_role("link", name="EN", exact=True).click()
    expect(page).to_have_url(re.compile(r"/me$"))
    nav = page.locator("nav.mainnav")
    expect(nav).to_contain_text("Home")
    expect(nav).to_contain_text("My account")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert_fits_phone(page, "/me in English")
    shot(page, "phone_member_me_en")

    page.locator("header .account").get_by_role("link", name="中文", exact=True).click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    expect(page.locator("nav.mainnav")).to_contain_text("首页")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def test_wrong_password_is_generic(new_page: NewPage, live_server: LiveServer,
                                   shot: Shot) -> None:
    page = new_page("phone")
    sign_in(page, live_server.members[1].card, "not-the-password")
    expect(page.locator(".flash.error")).to_have_text("账号或密码错误")
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    expect(page.get_by_role("button", name="退出")).to_have_count(0)
    assert_fits_phone(page, "login error")
    shot(page, "phone_login_wrong_password")

    # An identifier nobody has gets exactly the same answer.
    sign_in(page, "nobody-here", "not-the-password")
    expect(page.locator(".flash.error")).to_have_text("账号或密码错误")


def test_district_officer_sees_only_their_district(new_page: NewPage, shot: Shot) -> None:
    page = new_page("desktop")
    sign_in(page, "chaoyang")
    expect(page.get_by_role("button", name="退出")).to_be_visible()

    page.locator("nav.mainnav").get_by_role("link", name=re.compile("工会后台")).click()
    expect(page).to_have_url(re.compile(r"/office/?$"))
    stats = page.locator("section.panel", has=page.get_by_role("heading", name="会员概况"))
    expect(stats).to_be_visible()
    expect(stats).to_contain_text("会员总数")
    total = int(stats.locator(".stats div").first.locator("b").inner_text())
    assert 0 < total < 200, f"朝阳 should see some, not all, of the 200 members; saw {total}"
    shot(page, "desktop_chaoyang_office")

    page.locator("nav.subnav").get_by_role("link", name="会员管理").click()
    expect(page.get_by_role("heading", name="会员管理")).to_be_visible()
    expect(page.locator("p.muted", has_text="共")).to_contain_text(f"共 {total} 人")
    rows = page.locator("table.table tbody tr")
    expect(rows.first.locator("td a")).to_be_visible()
    orgs = set(page.locator("td[data-label='工会组织']").all_inner_texts())
    assert orgs, "no members listed"
    assert orgs <= CHAOYANG_SUBTREE, f"members outside 朝阳: {orgs - CHAOYANG_SUBTREE}"
    body = page.locator("main").inner_text()
    for other in NOT_CHAOYANG:
        assert other not in body, f"{other} is not under 朝阳 but is listed"
    shot(page, "desktop_chaoyang_members")

    name = rows.first.locator("td a").inner_text().strip()
    page.get_by_placeholder("卡号、身份证号、手机号或姓名").fill(name)
    page.get_by_role("button", name="查找", exact=True).click()
    expect(page).to_have_url(re.compile(r"/office/members\?q="))
    names = page.locator("td[data-label='姓名']").all_inner_texts()
    assert names and all(name in n for n in names), f"search {name!r} listed {names}"
    expect(page.get_by_placeholder("卡号、身份证号、手机号或姓名")).to_have_value(name)
    shot(page, "desktop_chaoyang_search")

    page.locator("td[data-label='姓名'] a", has_text=name).first.click()
    expect(page).to_have_url(re.compile(r"/office/members/\d+$"))
    expect(page.locator("h1")).to_contain_text(name)
    expect(page.get_by_role("heading", name="京卡", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="变更记录")).to_be_visible()
    detail = page.locator("main").inner_text()
    assert any(org in detail for org in CHAOYANG_SUBTREE)
    assert re.search(r"\d{4} \*{4} \*{4} \d{4}", detail), "no masked card on the detail page"
    shot(page, "desktop_chaoyang_member_detail")


def test_admin_pages(new_page: NewPage, shot: Shot) -> None:
    page = new_page("desktop")
    sign_in(page, "admin")
    expect(page.get_by_role("button", name="退出")).to_be_visible()

    page.locator("nav.mainnav").get_by_role("link", name=re.compile("管理")).click()
    expect(page.get_by_role("heading", name="平台管理")).to_be_visible()
    shot(page, "desktop_admin_home")

    page.locator("nav.subnav").get_by_role("link", name="插件", exact=True).click()
    expect(page.get_by_role("heading", name="插件", exact=True)).to_be_visible()
    row = page.locator("table.table tbody tr", has_text="示例插件")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("sample")
    expect(row).to_contain_text("1.2.0")
    expect(row.locator(".badge")).to_have_text("未启用")
    expect(row.get_by_role("button", name="启用", exact=True)).to_be_visible()
    shot(page, "desktop_admin_plugins")

    page.locator("nav.subnav").get_by_role("link", name="工会组织").click()
    expect(page.get_by_role("heading", name="工会组织", exact=True)).to_be_visible()
    tree = page.locator("ul.tree > li")
    expect(tree).to_have_count(22)
    expect(tree.first).to_contain_text("北京市总工会")
    branch = page.locator("ul.tree > li", has_text="京东方科技集团分会")
    expect(branch).to_have_attribute("style", re.compile(r"--depth:\s*3"))
    expect(page.get_by_role("heading", name="新建组织")).to_be_visible()
    shot(page, "desktop_admin_orgs")

    page.locator("nav.subnav").get_by_role("link", name="审计日志").click()
    page.get_by_placeholder("操作，如 auth. 或 card.replace").fill("auth.login")
    page.get_by_role("button", name="筛选").click()
    actions = page.locator("td[data-label='操作']").all_inner_texts()
    assert actions and all(a.startswith("auth.login") for a in actions), actions
    expect(page.locator("tbody tr", has_text="平台管理员").first).to_contain_text("auth.login")
    shot(page, "desktop_admin_audit")

    page.locator("nav.subnav").get_by_role("link", name="角色与授权").click()
    expect(page.get_by_role("heading", name="角色与授权")).to_be_visible()
    expect(page.get_by_role("heading", name="当前授权")).to_be_visible()
    grant = page.locator("tbody tr", has_text="chaoyang")
    expect(grant).to_contain_text("朝阳区总工会")
    expect(page.locator("details summary", has_text="district_officer")).to_have_count(1)
    shot(page, "desktop_admin_roles")


# Changes data: keep it last.
def test_grassroots_officer_replaces_card_on_phone(new_page: NewPage, live_server: LiveServer,
                                                   shot: Shot) -> None:
    m = live_server.members[2]
    new_card = make_card_number("621468", 987654321)
    page = new_page("phone")
    sign_in(page, "bus")
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    page.goto("/office/")
    assert_fits_phone(page, "back office")
    shot(page, "phone_bus_office")

    page.locator("nav.subnav").get_by_role("link", name="会员管理").click()
    expect(page.get_by_role("heading", name="会员管理")).to_be_visible()
    assert_fits_phone(page, "member list")
    shot(page, "phone_bus_members")

    page.get_by_placeholder("卡号、身份证号、手机号或姓名").fill(m.card)
    page.get_by_role("button", name="查找", exact=True).click()
    expect(page).to_have_url(re.compile(r"/office/members/\d+$"))
    assert m.card not in page.url
    expect(page.locator("h1")).to_contain_text(m.name)
    card = page.locator("ul.cards li.jingka", has_text=mask_card_number(m.card))
    expect(card.locator(".badge")).to_have_text("正常")
    assert_fits_phone(page, "member detail")
    shot(page, "phone_bus_member_detail")

    dialogs: list[str] = []

    def accept(dialog) -> None:  # type: ignore[no-untyped-def]
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)  # both card actions ask for confirmation first
    card.get_by_role("button", name="挂失").click()
    expect(page.locator(".flash.success")).to_have_text("已挂失")
    assert dialogs and "挂失" in dialogs[-1]
    card = page.locator("ul.cards li.jingka", has_text=mask_card_number(m.card))
    expect(card.locator(".badge")).to_have_text("已挂失")
    shot(page, "phone_bus_card_lost")

    card.get_by_placeholder("新京卡卡号").fill(new_card)
    card.get_by_role("button", name="补卡换号").click()
    assert "补卡换号" in dialogs[-1]
    expect(page.locator(".flash.success")).to_have_text(
        f"已补卡，新卡号 {mask_card_number(new_card)}")
    old = page.locator("ul.cards li.jingka.replaced")
    expect(old).to_contain_text(mask_card_number(m.card))
    expect(old.locator(".badge")).to_have_text("已换卡")
    expect(old).to_contain_text(f"→ {mask_card_number(new_card)}")
    fresh = page.locator("ul.cards li.jingka.active")
    expect(fresh).to_contain_text(mask_card_number(new_card))
    expect(fresh.locator(".badge")).to_have_text("正常")
    expect(page.locator("ul.plain")).to_contain_text("card.replace")
    html = page.content()
    assert new_card not in html and m.card not in html
    assert_fits_phone(page, "member detail after replacement")
    shot(page, "phone_bus_card_replaced")

    # The member, on their own phone: the old card no longer signs in, the new one does.
    member_page = new_page("phone")
    sign_in(member_page, m.card)
    expect(member_page.locator(".flash.error")).to_have_text("账号或密码错误")
    sign_in(member_page, new_card)
    expect(member_page).to_have_url(live_server.url + "/")
    expect(member_page.locator(".jingka-face .number")).to_have_text(mask_card_number(new_card))
    shot(member_page, "phone_member_home_new_card")
