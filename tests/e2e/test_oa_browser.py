"""The OA approval engine end to end: an expense request goes up the union hierarchy.

公交集团工会's officer (bus, a grassroots union under 交通运输工会) starts an 经费申请 of
3000 yuan on a desktop; 交通运输工会's officer (jiaotong) finds it through the to-do badge on a
phone-sized viewport and approves it with an opinion; the city federation's officer (city)
signs it off on a desktop (under 5000 yuan the finance step is skipped); the initiator opens it
again and sees 已通过 with the whole trail. Every phone page fits the phone's width. Runs
against ``unionhub serve`` on demo data (see conftest); screenshots go to
``tests/e2e/screenshots/oa-<step>.png``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_mutualaid_browser import assert_fits_phone, sign_in

pytestmark = pytest.mark.e2e

NewPage = Callable[..., Page]
Shot = Callable[[Any, str], Path]

PHONE_WIDTH = 390
DISTRICT_STEP = "区/产业工会审核"
FINANCE_STEP = "市总财务审核"
CITY_STEP = "市总工会审批"


def snap_phone(shot: Shot, page: Page, name: str, what: str) -> None:
    """Check the page fits the phone (no sideways scrolling) and take it from the top."""
    page.evaluate("window.scrollTo(0, 0)")
    assert_fits_phone(page, what)
    width = int(page.evaluate("document.documentElement.scrollWidth"))
    assert width <= PHONE_WIDTH, f"{what}: {width} px wide on a {PHONE_WIDTH} px phone"
    shot(page, name)


def open_request(page: Page, title: str) -> None:
    """Open the request ``title`` from the inbox list shown."""
    row = page.locator("#inbox-rows li", has=page.get_by_role("link", name=title, exact=True))
    expect(row).to_have_count(1)
    row.get_by_role("link", name=title, exact=True).click()
    expect(page.locator("#request-title")).to_have_text(title)


def state_badge(page: Page) -> Any:
    return page.locator("#request-title + p .badge[data-state]")


def approve(page: Page, opinion: str) -> None:
    form = page.locator("#act-decide")
    form.get_by_label(re.compile("审批意见")).fill(opinion)
    form.get_by_role("button", name="同意", exact=True).click()
    expect(page.locator(".flash").filter(has_text="已同意")).to_be_visible()


def test_expense_request_goes_up_the_hierarchy(new_page: NewPage, shot: Shot) -> None:
    title = f"职工冬季长跑活动饮用水采购（{secrets.token_hex(2)}）"

    # -- 1. the grassroots officer starts an 经费申请 ------------------------------------------
    bus = new_page("desktop")
    sign_in(bus, "bus")
    bus.goto("/oa/")
    bus.locator("nav.oa-menu").get_by_role("link", name="发起申请").click()
    expect(bus.get_by_role("heading", name="发起申请")).to_be_visible()
    bus.locator("#workflows").get_by_role("link", name="经费申请", exact=True).click()
    expect(bus.get_by_role("heading", name="经费申请")).to_be_visible()
    form = bus.locator("#start-form")
    form.get_by_label("标题").fill(title)
    expect(form.get_by_label("发起单位")).to_contain_text("北京公共交通控股（集团）有限公司工会")
    form.get_by_label("金额").fill("3000")
    form.get_by_label("用途").fill("冬季长跑活动为 300 名参赛职工采购饮用水和能量补给。")
    form.get_by_label("类别").select_option("文体活动")
    shot(bus, "oa-1-bus-start")
    form.get_by_role("button", name="提交申请").click()

    expect(bus.locator("#request-title")).to_have_text(title)
    expect(state_badge(bus)).to_have_text("审批中")
    expect(bus.locator("#current-step")).to_have_text(DISTRICT_STEP)
    steps = bus.locator("#steps li[data-step]")
    expect(steps).to_have_count(3)
    expect(steps.nth(0)).to_have_attribute("data-state", "active")
    expect(steps.nth(0)).to_contain_text("交通运输工会干部 陈刚")
    expect(steps.nth(1)).to_have_attribute("data-state", "skipped")  # 3000 ≤ 5000
    expect(bus.locator("#summary")).to_contain_text("3000")
    shot(bus, "oa-2-bus-submitted")
    request_url = bus.url

    # -- 2. the district officer approves it on a phone ----------------------------------------
    phone = new_page("phone")
    sign_in(phone, "jiaotong")
    phone.goto("/office/")
    todo_link = phone.locator("nav.subnav").get_by_role("link", name=re.compile("审批待办"))
    badge = todo_link.locator(".badge")
    expect(badge).to_have_text(re.compile(r"^\d+$"))
    waiting = int(badge.inner_text())
    assert waiting >= 1
    snap_phone(shot, phone, "oa-3-jiaotong-phone-office", "the officer home")
    todo_link.click()
    expect(phone.get_by_role("heading", name="审批待办")).to_be_visible()
    todo_tab = phone.locator("#inbox-tabs a[data-tab='todo']")
    expect(todo_tab).to_have_attribute("aria-current", "page")
    # (the beat's timers may have escalated an overdue to-do meanwhile: no exact count)
    expect(todo_tab.locator(".count")).to_have_text(re.compile(r"^[1-9]\d*$"))
    snap_phone(shot, phone, "oa-4-jiaotong-phone-inbox", "the inbox")
    open_request(phone, title)
    expect(phone.locator("#request-initiator")).to_have_text("公交集团工会干部 刘洋")
    expect(phone.locator("#act-decide")).to_be_visible()
    snap_phone(shot, phone, "oa-5-jiaotong-phone-request", "the request")
    approve(phone, "经核实，活动方案和预算合理，同意。")
    expect(phone.locator("#current-step")).to_have_text(CITY_STEP)
    expect(phone.locator("#act-decide")).to_have_count(0)
    snap_phone(shot, phone, "oa-6-jiaotong-phone-approved", "the request after approving")

    # -- 3. the city federation signs it off ------------------------------------------------
    city = new_page("desktop")
    sign_in(city, "city")
    city.goto("/oa/inbox")
    open_request(city, title)
    expect(city.locator("#current-step")).to_have_text(CITY_STEP)
    expect(city.locator("#trail")).to_contain_text("经核实，活动方案和预算合理，同意。")
    shot(city, "oa-7-city-request")
    approve(city, "同意。")
    expect(state_badge(city)).to_have_text("已通过")
    shot(city, "oa-8-city-approved")

    # -- 4. the initiator sees it approved, with the whole trail ----------------------------
    bus.goto("/oa/inbox?tab=mine")
    open_request(bus, title)
    assert bus.url == request_url
    expect(state_badge(bus)).to_have_text("已通过")
    expect(bus.locator("#current-step")).to_have_count(0)
    expect(bus.locator("#actions")).to_have_count(0)
    states = bus.locator("#steps li[data-step]")
    expect(states.nth(0)).to_have_attribute("data-state", "done")
    expect(states.nth(0)).to_contain_text("同意")
    expect(states.nth(1)).to_have_attribute("data-state", "skipped")
    expect(states.nth(1)).to_contain_text(FINANCE_STEP)
    expect(states.nth(2)).to_have_attribute("data-state", "done")
    trail = bus.locator("#trail li[data-action]")
    actions = [a for a in (trail.nth(i).get_attribute("data-action")
                           for i in range(trail.count())) if a != "step"]
    assert actions == ["start", "approve", "approve", "finish"], actions
    approvals = bus.locator("#trail li[data-action='approve']")
    expect(approvals.nth(0)).to_contain_text("交通运输工会干部 陈刚")
    expect(approvals.nth(0)).to_contain_text("经核实，活动方案和预算合理，同意。")
    expect(approvals.nth(1)).to_contain_text("市总工会干部 王敏")
    shot(bus, "oa-9-bus-approved")
