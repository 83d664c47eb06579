"""The catalogue's services: merchant checks (credit code, settlement account), staff accounts,
offers (validation, proposals and review, images, descriptions), all audited."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from unionhub import db
from unionhub.audit.models import AuditLog
from unionhub.auth.service import AuthError, authenticate
from unionhub.identity.models import Account
from unionhub.search.models import SearchQueue
from unionhub_benefits_mall.catalogue import service, text
from unionhub_benefits_mall.models import (
    BenefitsMallMerchant,
    BenefitsMallOffer,
    BenefitsMallOfferStore,
    BenefitsMallStaff,
    OfferStatus,
)

VALID_CODES = ("91350100M000100Y43", "91110000802100433B")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 64


def merchant_form(**overrides: str) -> dict[str, str]:
    data = {"name": "京华口腔门诊部", "category_code": "medical", "contact_name": "刘晓",
            "contact_phone": "010-68012233", "credit_code": VALID_CODES[0],
            "settlement_bank": "中国工商银行北京分行", "settlement_account_name": "京华口腔门诊部",
            "settlement_account": "0200 0049 0920 0123 456", "status": "active"}
    data.update(overrides)
    return data


def offer_form(**overrides: object) -> dict[str, object]:
    today = service.today()
    data: dict[str, object] = {
        "title": "洁牙 5 折", "summary": "京卡会员专享", "category_code": "medical",
        "kind": "coupon", "price": "200", "member_price": "100.50", "subsidy": "20",
        "valid_from": today.isoformat(), "valid_until": (today + timedelta(days=30)).isoformat(),
        "coupon_valid_days": "30", "stock": "50", "per_member_limit": "1",
        "per_member_period": "all", "booking_hold_minutes": "120",
        "requires_active_member": "1", "store_ids": [], "audience_org": [],
        "audience_group": []}
    data.update(overrides)
    return data


def account(name_or_id: str | int, mall) -> Account:
    ids = {**mall.accounts, **mall.world.officers}
    acc = db.session().get(Account, ids[name_or_id] if isinstance(name_or_id, str)
                           else name_or_id)
    assert acc is not None
    return acc


# -- credit codes and settlement accounts ------------------------------------------------------


@pytest.mark.parametrize("code", VALID_CODES)
def test_credit_code_check_digit_accepts_real_codes(code):
    assert service.credit_code_problem(code) is None


@pytest.mark.parametrize("code, problem", [
    ("91350100M000100Y4", "18 位"),
    ("91350100M000100Y44", "校验位"),
    ("91350100M000100I43", "不含 I"),
    ("9135010AM000100Y43", "行政区划"),
])
def test_credit_code_problems_name_the_reason(code, problem):
    assert problem in (service.credit_code_problem(code) or "")


def test_account_masks():
    assert service.mask_account("0200004909200123456") == "0200 **** **** 3456"
    assert service.mask_account("110060149018000123456789") == "1100 **** 6789"
    assert service.mask_account("12345678") == "**** 5678"


def test_merchant_created_with_encrypted_and_masked_account(mall):
    with mall.app.app_context():
        s = db.session()
        op = account("operator", mall)
        m = service.create_merchant(s, merchant_form(credit_code="91350100m000100y43"), actor=op)
        s.commit()
        row = s.get(BenefitsMallMerchant, m.id)
        assert row.credit_code == "91350100M000100Y43"
        assert row.settlement_account_masked == "0200 **** **** 3456"
        assert "0200004909200123456" not in (row.settlement_account_enc or "")
        assert "3456" not in (row.settlement_account_enc or "")
        assert service.settlement_account(row) == "0200004909200123456"
        entry = s.scalar(select(AuditLog).where(AuditLog.action == "benefits_mall.merchant.create"))
        assert entry is not None and entry.actor_id == op.id
        assert "0200004909200123456" not in str(entry.details)


def test_bad_merchant_input_names_each_field_and_stores_nothing(mall):
    with mall.app.app_context():
        s = db.session()
        before = s.scalar(select(func.count(BenefitsMallMerchant.id)))
        with pytest.raises(service.CatalogueError) as exc:
            service.create_merchant(s, merchant_form(
                name="", credit_code="91350100M000100Y44", settlement_account="12AB",
                contact_phone="call me", category_code="nope"), actor=account("operator", mall))
        errors = exc.value.errors
        assert set(errors) == {"name", "credit_code", "settlement_account", "contact_phone",
                               "category_code"}
        assert "商户名称" in errors["name"] and "校验位" in errors["credit_code"]
        s.rollback()
        assert s.scalar(select(func.count(BenefitsMallMerchant.id))) == before
        with pytest.raises(service.CatalogueError) as exc:
            service.create_merchant(s, merchant_form(name="康健体检中心"),
                                    actor=account("operator", mall))
        assert exc.value.errors == {"name": "已有同名商户"}
        with pytest.raises(service.CatalogueError) as exc:
            service.create_merchant(s, merchant_form(settlement_bank=""),
                                    actor=account("operator", mall))
        assert "结算开户行" in exc.value.errors["settlement_bank"]


def test_edit_keeps_the_account_when_left_blank(mall):
    with mall.app.app_context():
        s = db.session()
        op = account("operator", mall)
        m = service.create_merchant(s, merchant_form(), actor=op)
        token = m.settlement_account_enc
        changed = service.update_merchant(s, m, merchant_form(settlement_account="",
                                                              contact_name="刘经理"), actor=op)
        assert changed == ["contact_name"]
        assert m.settlement_account_enc == token
        assert service.settlement_account(m) == "0200004909200123456"
        changed = service.update_merchant(s, m, merchant_form(
            settlement_account="6222020200112233", status="suspended", contact_name="刘经理"),
            actor=op)
        assert set(changed) == {"status", "settlement_account"}
        assert m.settlement_account_masked == "6222 **** **** 2233"
        s.commit()
        queued = set(s.scalars(select(SearchQueue.doc_id).where(
            SearchQueue.doc_type == service.OFFER_DOC)))
        assert queued == set()  # no offers yet: nothing to re-index
        mall_merchant = s.get(BenefitsMallMerchant, mall.merchant_id)
        service.update_merchant(s, mall_merchant, merchant_form(
            name="康健体检中心", credit_code=VALID_CODES[1], status="suspended"), actor=op)
        s.commit()
        queued = set(s.scalars(select(SearchQueue.doc_id).where(
            SearchQueue.doc_type == service.OFFER_DOC)))
        assert {str(mall.coupon_offer_id), str(mall.service_offer_id)} <= queued


# -- stores and staff --------------------------------------------------------------------------


def test_store_names_unique_per_merchant_and_deactivation(mall):
    with mall.app.app_context():
        s = db.session()
        op = account("operator", mall)
        merchant = s.get(BenefitsMallMerchant, mall.merchant_id)
        with pytest.raises(service.CatalogueError) as exc:
            service.create_store(s, merchant, {"name": "朝阳店"}, actor=op)
        assert exc.value.errors["name"] == "该商户已有同名门店"
        store = service.create_store(s, merchant, {"name": "通州店", "district": "通州区",
                                                   "phone": "010-8888 1234"}, actor=op)
        service.set_store_active(s, store, False, actor=op)
        assert [x.name for x in service.stores_of(s, merchant.id, active_only=True)] == [
            "朝阳店", "海淀店"]


def test_staff_account_created_with_temporary_password_reset_and_removed(mall):
    with mall.app.app_context():
        s = db.session()
        op = account("operator", mall)
        merchant = s.get(BenefitsMallMerchant, mall.merchant_id)
        with pytest.raises(service.CatalogueError) as exc:
            service.create_staff(s, merchant, {"username": "shop_clerk", "display_name": "重名",
                                               "role": "clerk"}, actor=op)
        assert "已存在" in exc.value.errors["username"]
        with pytest.raises(service.CatalogueError) as exc:
            service.create_staff(s, merchant, {"username": "new_clerk", "display_name": "王",
                                               "store_id": str(mall.store_ids[0] + 99)},
                                 actor=op)
        assert exc.value.errors == {"store_id": "请选择本商户的门店"}
        made = service.create_staff(s, merchant, {"username": "new_clerk", "display_name": "王",
                                                  "role": "clerk",
                                                  "store_id": str(mall.store_ids[0])}, actor=op)
        s.commit()
        acc = s.get(Account, made.staff.account_id)
        assert acc.must_change_password and acc.member_id is None
        assert authenticate(s, "new_clerk", made.password).id == acc.id
        version = acc.session_version
        password = service.reset_staff_password(s, made.staff, actor=op)
        s.commit()
        assert password != made.password and acc.session_version == version + 1
        assert authenticate(s, "new_clerk", password).id == acc.id
        service.remove_staff(s, made.staff, actor=op)
        s.commit()
        assert s.scalar(select(BenefitsMallStaff).where(
            BenefitsMallStaff.account_id == acc.id)) is None
        with pytest.raises(AuthError):
            authenticate(s, "new_clerk", password)
        actions = set(s.scalars(select(AuditLog.action).where(
            AuditLog.action.like("benefits_mall.staff.%"))))
        assert actions == {"benefits_mall.staff.create", "benefits_mall.staff.reset_password",
                           "benefits_mall.staff.remove"}


# -- offers ------------------------------------------------------------------------------------


def test_offer_validation_names_fields_and_stores_nothing(mall):
    with mall.app.app_context():
        s = db.session()
        merchant = s.get(BenefitsMallMerchant, mall.merchant_id)
        before = s.scalar(select(func.count(BenefitsMallOffer.id)))
        today = service.today()
        with pytest.raises(service.CatalogueError) as exc:
            service.create_offer(s, merchant, offer_form(
                title="", price="100", member_price="120.5", subsidy="1.234", stock="-1",
                valid_until=(today - timedelta(days=1)).isoformat(),
                store_ids=[str(mall.store_ids[0]), "999999"], per_member_period="week"),
                actor=account("operator", mall), officer=True)
        errors = exc.value.errors
        assert set(errors) == {"title", "member_price", "subsidy", "stock", "valid_until",
                               "store_ids", "per_member_period"}
        assert "标题" in errors["title"] and "两位小数" in errors["subsidy"]
        assert errors["member_price"] == "会员价不能高于原价"
        s.rollback()
        assert s.scalar(select(func.count(BenefitsMallOffer.id))) == before


def test_stock_cannot_drop_below_issued(mall):
    with mall.app.app_context():
        s = db.session()
        offer = s.get(BenefitsMallOffer, mall.coupon_offer_id)
        offer.issued = 40
        s.flush()
        with pytest.raises(service.CatalogueError) as exc:
            service.update_offer(s, offer, offer_form(stock="39"),
                                 actor=account("operator", mall), officer=True)
        assert "40" in exc.value.errors["stock"]


def test_proposal_review_flow(mall):
    with mall.app.app_context():
        s = db.session()
        manager, op = account("shop_manager", mall), account("operator", mall)
        merchant = s.get(BenefitsMallMerchant, mall.merchant_id)
        offer = service.create_offer(
            s, merchant, offer_form(subsidy="999", requires_jingka="1",
                                    store_ids=[str(mall.store_ids[1])]),
            actor=manager, officer=False)
        s.commit()
        assert offer.status == OfferStatus.PROPOSED and offer.proposed_by == manager.id
        assert offer.subsidy == Decimal("0.00") and not offer.requires_jingka  # officers' fields
        assert offer.member_price == Decimal("100.50")
        assert list(s.scalars(select(BenefitsMallOfferStore.store_id).where(
            BenefitsMallOfferStore.offer_id == offer.id))) == [mall.store_ids[1]]
        with pytest.raises(service.CatalogueError) as exc:
            service.review_offer(s, offer, "reject", "  ", actor=op)
        assert "审核意见" in exc.value.errors["note"]
        with pytest.raises(service.OfferStateError):
            service.review_offer(s, offer, "offline", "", actor=op)
        service.review_offer(s, offer, "reject", "价格请再核实", actor=op)
        s.commit()
        assert offer.status == OfferStatus.REJECTED and offer.review_note == "价格请再核实"
        service.update_offer(s, offer, offer_form(member_price="90"), actor=manager,
                             officer=False)
        s.commit()
        assert offer.status == OfferStatus.PROPOSED and offer.member_price == Decimal("90.00")
        service.review_offer(s, offer, "approve", "", actor=op)
        s.commit()
        assert offer.status == OfferStatus.APPROVED and offer.reviewed_by == op.id
        with pytest.raises(service.OfferStateError):
            service.update_offer(s, offer, offer_form(), actor=manager, officer=False)
        with pytest.raises(service.OfferStateError):
            service.review_offer(s, offer, "approve", "", actor=op)  # already approved
        service.merchant_take_offline(s, offer, actor=manager)
        s.commit()
        assert offer.status == OfferStatus.OFFLINE
        actions = list(s.scalars(select(AuditLog.action).where(
            AuditLog.target_type == "benefits_mall_offer", AuditLog.target_id == str(offer.id))
            .order_by(AuditLog.id)))
        assert actions == ["benefits_mall.offer.propose", "benefits_mall.offer.reject",
                           "benefits_mall.offer.revise", "benefits_mall.offer.approve",
                           "benefits_mall.offer.offline_by_merchant"]
        queued = list(s.scalars(select(SearchQueue.doc_id).where(
            SearchQueue.doc_type == service.OFFER_DOC, SearchQueue.doc_id == str(offer.id))))
        assert len(queued) == 5


def test_images_checked_by_content_and_size(mall):
    with mall.app.app_context():
        s = db.session()
        merchant = s.get(BenefitsMallMerchant, mall.merchant_id)
        op = account("operator", mall)
        for upload, word in ((service.Upload("x.jpg", b"<svg onload=alert(1)>"), "不是"),
                             (service.Upload("big.png", PNG + b"\x00" * service.MAX_IMAGE_BYTES),
                              "超过")):
            with pytest.raises(service.CatalogueError) as exc:
                service.create_offer(s, merchant, offer_form(), [upload], actor=op, officer=True)
            assert word in exc.value.errors["images"]
            s.rollback()
        assert not service.images_dir().exists() or not any(service.images_dir().iterdir())
        offer = service.create_offer(
            s, merchant, offer_form(),
            [service.Upload("a.png", PNG), service.Upload("b", JPEG), service.Upload("c", WEBP)],
            actor=op, officer=True)
        s.commit()
        assert [n.rsplit(".", 1)[1] for n in offer.images] == ["png", "jpg", "webp"]
        for name in offer.images:
            assert service.image_path(name).read_bytes()[:3] in (PNG[:3], JPEG[:3], WEBP[:3])
        too_many = [service.Upload(f"{i}.png", PNG) for i in range(service.MAX_IMAGES)]
        with pytest.raises(service.CatalogueError) as exc:
            service.update_offer(s, offer, offer_form(), too_many, actor=op, officer=True)
        assert "最多" in exc.value.errors["images"]
        s.rollback()
        offer = s.get(BenefitsMallOffer, offer.id)
        kept = offer.images[1:]
        service.update_offer(s, offer, offer_form(remove_images=[offer.images[0]]), actor=op,
                             officer=True)
        assert offer.images == kept
        assert service.image_path("../../etc/passwd") is None


XSS = ('<script>alert(1)</script><img src=x onerror="alert(2)">'
       '<a href="javascript:alert(3)">点我</a><p onclick="x()">正文</p>')
#: Markup that would run: a script/img/iframe tag, an event handler, a javascript: link.
LIVE = re.compile(r"<\s*(script|img|iframe)|<[^>]*\son\w+\s*="
                  r"|<a[^>]*href\s*=\s*['\"]?\s*javascript:", re.I)


def test_description_is_inert_after_save_and_on_output():
    stored = text.clean_description(XSS)
    assert not LIVE.search(stored)
    assert not LIVE.search(str(text.render_description(stored)))
    # whatever the database holds (an older row, a direct edit), output carries no live markup
    shown = str(text.render_description(XSS))
    assert not LIVE.search(shown)
    assert "正文" in shown and "点我" in shown
    assert LIVE.search(XSS)  # the pattern does catch the payload
    assert text.html_to_text(XSS) == "点我\n正文"


def test_plain_text_keeps_line_breaks():
    stored = text.clean_description("第一行\n第二行 <b>粗</b> & 更多\n\n新段落")
    shown = str(text.render_description(stored))
    assert shown.count("<br>") >= 2
    assert text.html_to_text(stored).splitlines()[0] == "第一行"
    assert "<b>粗</b>" in shown and "&amp;" in shown
