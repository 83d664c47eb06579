"""The welfare mall end to end on a phone-sized viewport.

A member opens the mall, claims a coupon and shows its QR code; a clerk of the offer's
merchant redeems it on the redemption page by typing the code; a second redemption is refused
with the reason; the member's coupon then shows as used. Runs against ``unionhub serve`` on
demo data (see conftest); screenshots go to ``tests/e2e/screenshots/mall-<step>.png``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.test_mutualaid_browser import assert_fits_phone, sign_in

pytestmark = pytest.mark.e2e

NewPage = Callable[..., Page]
Shot = Callable[[Any, str], Path]

# An open coupon offer the member has not claimed yet (so no per-member limit is in the way),
# with the sign-in name of one of its merchant's staff: read from the demo database the server
# uses (the member found by their mobile number, which the demo prints).
OFFER_AND_CLERK = """
SELECT o.id, o.title, a.username
FROM benefits_mall_offer o
JOIN benefits_mall_merchant m ON m.id = o.merchant_id AND m.status = 'active'
JOIN benefits_mall_staff st ON st.merchant_id = m.id
JOIN account a ON a.id = st.account_id
WHERE o.kind = 'coupon' AND o.status = 'approved' AND o.points_price IS NULL
  AND o.valid_from <= date('now', '+8 hours') AND o.valid_until >= date('now', '+8 hours')
  AND (o.stock IS NULL OR o.issued < o.stock)
  AND NOT EXISTS (SELECT 1 FROM benefits_mall_audience au
                  WHERE au.owner_kind = 'offer' AND au.owner_id = o.id)
  AND NOT EXISTS (SELECT 1 FROM benefits_mall_coupon c JOIN member me ON me.id = c.member_id
                  WHERE c.offer_id = o.id AND me.mobile = :mobile)
ORDER BY o.id, st.id
LIMIT 1
"""


def open_offer_and_clerk(live_server: LiveServer) -> tuple[int, str, str]:
    with sqlite3.connect(live_server.log.parent / "unionhub.db") as db:
        row = db.execute(OFFER_AND_CLERK, {"mobile": live_server.members[0].mobile}).fetchone()
    assert row, "the demo has no open coupon offer with merchant staff for this member"
    return int(row[0]), str(row[1]), str(row[2])


def redeem(page: Page, code: str) -> Any:
    page.goto("/benefits_mall/merchant/redeem")
    page.locator("#redeem-code").fill(code)
    page.locator("#redeem-submit").click()
    result = page.locator("#redeem-result")
    expect(result).to_be_visible()
    return result


def test_claim_show_qr_redeem_once_on_phone(new_page: NewPage, live_server: LiveServer,
                                            shot: Shot) -> None:
    offer_id, title, clerk_name = open_offer_and_clerk(live_server)

    # -- 1. the member finds the offer and claims a coupon ----------------------------------
    member = new_page("phone")
    sign_in(member, live_server.members[0].card)
    member.goto("/benefits_mall/")
    expect(member.locator("h1").first).to_be_visible()
    assert_fits_phone(member, "mall home")
    shot(member, "mall-1-home")
    member.goto(f"/benefits_mall/offers/{offer_id}")
    expect(member.get_by_role("heading", name=title).first).to_be_visible()
    assert_fits_phone(member, "offer page")
    shot(member, "mall-2-offer")
    member.locator("#claim").get_by_role("button", name="领取").click()

    # -- 2. the coupon page shows the QR and the code ----------------------------------------
    box = member.locator("#coupon-code")
    expect(box.locator("svg")).to_be_visible()
    code = box.locator(".coupon-code").inner_text().strip()
    assert len(code.replace("-", "")) == 17, code
    expect(member.locator("#coupon-state")).to_have_text("可使用")
    assert_fits_phone(member, "coupon page")
    shot(member, "mall-3-coupon-qr")
    coupon_url = member.url

    # -- 3. the merchant's clerk redeems it ---------------------------------------------------
    clerk = new_page("phone")
    sign_in(clerk, clerk_name)
    result = redeem(clerk, code)
    expect(result).to_have_class("redeem-result ok")
    expect(result).to_contain_text("核销成功")
    expect(result).to_contain_text(title)
    assert_fits_phone(clerk, "redemption page")
    shot(clerk, "mall-4-redeemed")

    # -- 4. a second redemption is refused with the reason ------------------------------------
    result = redeem(clerk, code)
    expect(result).to_have_class("redeem-result refused")
    expect(result.locator(".reason")).to_contain_text("已核销")
    shot(clerk, "mall-5-second-refused")

    # -- 5. the member sees it used -----------------------------------------------------------
    member.goto(coupon_url)
    expect(member.locator("#coupon-state")).to_have_text("已使用")
    expect(member.locator("#coupon-code svg")).to_have_count(0)
    shot(member, "mall-6-used")
