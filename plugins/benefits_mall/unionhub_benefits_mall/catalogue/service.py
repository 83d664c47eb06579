"""The catalogue: merchants, their stores and staff accounts, offers, proposals and review.

Callers pass the acting account and plain values (``Mapping`` of form fields, lists for
multi-valued fields); nothing here reads the request. Input is checked field by field first and
a :class:`CatalogueError` names every bad field, before anything is written — so a refused
save leaves the data as it was. Every change is audited in the caller's transaction and queues
the offers it touches for the search index (:data:`OFFER_DOC`).

Who may do what is the views' business (officers holding :data:`MANAGE`; merchant managers for
their own merchant, their rows found by ``merchant_id`` in SQL); the functions here check only
what the data itself allows (a proposal can be approved, an approved offer taken offline …).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, case, delete, func, select, update
from sqlalchemy.orm import Session

from unionhub.audit import service as audit
from unionhub.db import utcnow
from unionhub.groups.models import MemberGroup
from unionhub.i18n import _
from unionhub.identity.admin import AdminError, create_account
from unionhub.identity.models import Account
from unionhub.identity.numbers import mask_card_number
from unionhub.identity.service import cipher
from unionhub.money import quantize, to_decimal
from unionhub.orgs.models import Org
from unionhub.search import queue as search_queue
from unionhub.security.passwords import hash_password
from unionhub.web.fields import FieldReader

from .. import eligibility
from ..models import (
    BenefitsMallCategory,
    BenefitsMallCouponEvent,
    BenefitsMallMerchant,
    BenefitsMallOffer,
    BenefitsMallOfferStore,
    BenefitsMallQuotaUse,
    BenefitsMallStaff,
    BenefitsMallStore,
    CouponEventKind,
    MerchantStatus,
    OfferKind,
    OfferStatus,
    StaffRole,
)
from .text import MAX_DESCRIPTION, clean_description

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
OFFER_DOC = "benefits_mall.offer"
MANAGE = "benefits_mall.catalogue.manage"
CLAIM = "benefits_mall.offers.claim"

MERCHANT_STATUS_LABELS: Mapping[str, str] = {
    MerchantStatus.ACTIVE: "合作中", MerchantStatus.SUSPENDED: "已暂停"}
OFFER_STATUS_LABELS: Mapping[str, str] = {
    OfferStatus.PROPOSED: "待审核", OfferStatus.APPROVED: "已上架",
    OfferStatus.REJECTED: "已驳回", OfferStatus.OFFLINE: "已下架"}
KIND_LABELS: Mapping[str, str] = {OfferKind.COUPON: "优惠券", OfferKind.SERVICE: "专属服务"}
STAFF_ROLE_LABELS: Mapping[str, str] = {StaffRole.MANAGER: "商户管理员", StaffRole.CLERK: "店员"}
SORTS: Mapping[str, str] = {"new": "最新", "popular": "最热"}

MAX_AMOUNT = Decimal("10000000")
MAX_IMAGES = 6
MAX_IMAGE_BYTES = 2 * 1024 * 1024
IMAGE_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp)$")
IMAGE_TYPES: Mapping[str, str] = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}

#: GB 32100-2015 统一社会信用代码: 31 characters (no I, O, S, V, Z), weights 3^i mod 31.
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
PHONE = re.compile(r"^[0-9+\-() ]{3,40}$")
_SPACES = re.compile(r"[\s\-]+")


class CatalogueError(ValueError):
    """Refused input: ``errors`` maps each bad field to a message naming it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


def today() -> date:
    """Today in Beijing (validity dates are calendar dates there)."""
    return utcnow().astimezone(CHINA).date()


def day_start(day: date) -> datetime:
    """Midnight in Beijing at the start of ``day``, as an aware datetime."""
    return datetime(day.year, day.month, day.day, tzinfo=CHINA)


# -- field parsing -----------------------------------------------------------------------------


class _Fields(FieldReader):
    """The catalogue forms' readers (on top of the core's)."""

    error = CatalogueError

    def text(self, key: str, label: str, *, required: bool = False, max_len: int = 200) -> str:
        value = self.raw(key)
        if required and not value:
            self.fail(key, _("请填写%(field)s", field=_(label)))
        elif len(value) > max_len:
            self.fail(key, _("%(field)s不能超过 %(n)s 个字", field=_(label), n=max_len))
        return value

    def integer(self, key: str, label: str, *, low: int, high: int, required: bool = False,
                default: int | None = None) -> int | None:
        value = self.raw(key)
        if not value:
            if required and default is None:
                self.fail(key, _("请填写%(field)s", field=_(label)))
            return default
        try:
            number = int(value)
        except ValueError:
            self.fail(key, _("%(field)s应为整数", field=_(label)))
            return default
        if not low <= number <= high:
            self.fail(key, _("%(field)s应在 %(low)s 到 %(high)s 之间", field=_(label), low=low,
                             high=high))
            return default
        return number

    def amount(self, key: str, label: str, *, required: bool = False) -> Decimal | None:
        value = self.raw(key)
        if not value:
            if required:
                self.fail(key, _("请填写%(field)s", field=_(label)))
            return None
        try:
            number = to_decimal(value, field=key)
        except (ValueError, TypeError, InvalidOperation):
            self.fail(key, _("%(field)s应为金额，如 199.00", field=_(label)))
            return None
        if number < 0 or number > MAX_AMOUNT:
            self.fail(key, _("%(field)s应在 0 到 %(max)s 元之间", field=_(label),
                             max=f"{MAX_AMOUNT:,}"))
            return None
        if number != quantize(number):
            self.fail(key, _("%(field)s最多两位小数", field=_(label)))
            return None
        return quantize(number)

    def day(self, key: str, label: str) -> date | None:
        value = self.raw(key)
        if not value:
            self.fail(key, _("请填写%(field)s", field=_(label)))
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(key, _("%(field)s应为日期，如 2026-01-31", field=_(label)))
            return None

    def flag(self, key: str) -> bool:
        return self.raw(key).lower() in ("1", "on", "true", "yes", "y")

    def choice(self, key: str, label: str, choices: Iterable[str], default: str | None = None
               ) -> str:
        value = self.raw(key) or (default or "")
        if value not in set(choices):
            self.fail(key, _("请选择%(field)s", field=_(label)))
        return value


# -- credit codes and accounts -----------------------------------------------------------------


def normalize_credit_code(raw: str) -> str:
    return _SPACES.sub("", raw or "").upper()


def credit_check_char(first17: str) -> str:
    """The 18th character of a 统一社会信用代码 (GB 32100-2015) from its first 17."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Why ``code`` (normalised) is not a valid 统一社会信用代码, or None."""
    if len(code) != 18:
        return _("统一社会信用代码应为 18 位")
    if any(c not in USCC_CHARS for c in code):
        return _("统一社会信用代码只能含数字和大写字母（不含 I、O、S、V、Z）")
    if not code[2:8].isdigit():
        return _("统一社会信用代码第 3–8 位应为行政区划代码（数字）")
    if credit_check_char(code[:17]) != code[17]:
        return _("统一社会信用代码校验位不正确，请核对")
    return None


def normalize_account(raw: str) -> str:
    return _SPACES.sub("", raw or "")


def mask_account(number: str) -> str:
    """A settlement account number for display: first and last four digits (card-style for
    16–19 digits), the rest starred."""
    if 16 <= len(number) <= 19:
        return mask_card_number(number)
    if len(number) >= 12:
        return f"{number[:4]} **** {number[-4:]}"
    return f"**** {number[-4:]}"


def settlement_account(merchant: BenefitsMallMerchant) -> str | None:
    """The clear account number (for settlement files only; never shown in pages)."""
    if not merchant.settlement_account_enc:
        return None
    return cipher().decrypt(merchant.settlement_account_enc)


# -- merchants ---------------------------------------------------------------------------------


def _category_codes(session: Session) -> list[str]:
    return list(session.scalars(select(BenefitsMallCategory.code)))


def categories(session: Session) -> list[BenefitsMallCategory]:
    return list(session.scalars(select(BenefitsMallCategory)
                                .order_by(BenefitsMallCategory.sort, BenefitsMallCategory.code)))


def parse_merchant(session: Session, data: Mapping[str, Any],
                   existing: BenefitsMallMerchant | None = None) -> dict[str, Any]:
    """Checked merchant fields (raises :class:`CatalogueError`). The account number may be
    left blank on an edit to keep the stored one."""
    f = _Fields(data)
    out: dict[str, Any] = {
        "name": f.text("name", "商户名称", required=True, max_len=200),
        "category_code": f.choice("category_code", "服务类别", _category_codes(session)),
        "description": f.text("description", "商户简介", max_len=2000),
        "contact_name": f.text("contact_name", "联系人", max_len=100),
        "contact_phone": f.text("contact_phone", "联系电话", max_len=40),
        "settlement_bank": f.text("settlement_bank", "结算开户行", max_len=100) or None,
        "settlement_account_name": f.text("settlement_account_name", "结算户名",
                                          max_len=200) or None,
        "status": f.choice("status", "合作状态", tuple(MerchantStatus),
                           default=MerchantStatus.ACTIVE),
    }
    if out["contact_phone"] and not PHONE.match(out["contact_phone"]):
        f.fail("contact_phone", _("联系电话只能包含数字、空格和 + - ( )"))
    code = normalize_credit_code(f.raw("credit_code"))
    if not code:
        f.fail("credit_code", _("请填写%(field)s", field=_("统一社会信用代码")))
    elif problem := credit_code_problem(code):
        f.fail("credit_code", problem)
    out["credit_code"] = code
    account = normalize_account(f.raw("settlement_account"))
    if account and not (account.isascii() and account.isdigit() and 6 <= len(account) <= 32):
        f.fail("settlement_account", _("结算账号应为 6 至 32 位数字"))
    out["settlement_account"] = account or None
    has_account = bool(account) or bool(existing and existing.settlement_account_enc)
    if (account or out["settlement_bank"] or out["settlement_account_name"]) and not (
            has_account and out["settlement_bank"] and out["settlement_account_name"]):
        for key, label in (("settlement_bank", "结算开户行"),
                           ("settlement_account_name", "结算户名"),
                           ("settlement_account", "结算账号")):
            if not (out[key] if key != "settlement_account" else has_account):
                f.fail(key, _("结算信息须填写完整：请填写%(field)s", field=_(label)))
    if out["name"] and not f.errors.get("name"):
        clash = session.scalar(select(BenefitsMallMerchant.id).where(
            BenefitsMallMerchant.name == out["name"],
            BenefitsMallMerchant.id != (existing.id if existing else -1)))
        if clash:
            f.fail("name", _("已有同名商户"))
    if code and "credit_code" not in f.errors:
        clash_name = session.scalar(select(BenefitsMallMerchant.name).where(
            BenefitsMallMerchant.credit_code == code,
            BenefitsMallMerchant.id != (existing.id if existing else -1)))
        if clash_name:
            f.fail("credit_code", _("该统一社会信用代码已被商户“%(name)s”使用", name=clash_name))
    f.done()
    return out


_MERCHANT_FIELDS = ("name", "category_code", "description", "contact_name", "contact_phone",
                    "credit_code", "settlement_bank", "settlement_account_name", "status")


def _apply_merchant(merchant: BenefitsMallMerchant, values: Mapping[str, Any]) -> list[str]:
    changed = [k for k in _MERCHANT_FIELDS if getattr(merchant, k) != values[k]]
    for key in _MERCHANT_FIELDS:
        setattr(merchant, key, values[key])
    account = values.get("settlement_account")
    if account:
        masked = mask_account(account)
        if merchant.settlement_account_masked != masked or not merchant.settlement_account_enc \
                or settlement_account(merchant) != account:
            changed.append("settlement_account")
        merchant.settlement_account_enc = cipher().encrypt(account)
        merchant.settlement_account_masked = masked
    return changed


def create_merchant(session: Session, data: Mapping[str, Any], *, actor: Any
                    ) -> BenefitsMallMerchant:
    values = parse_merchant(session, data)
    merchant = BenefitsMallMerchant()
    _apply_merchant(merchant, values)
    session.add(merchant)
    session.flush()
    audit.record("benefits_mall.merchant.create", target_type="benefits_mall_merchant",
                 target_id=merchant.id, actor=actor, session=session,
                 details={"name": merchant.name, "account": merchant.settlement_account_masked})
    return merchant


def update_merchant(session: Session, merchant: BenefitsMallMerchant, data: Mapping[str, Any],
                    *, actor: Any) -> list[str]:
    """Save the edit; returns the changed field names. A change of name, status or category
    re-indexes the merchant's offers (their documents carry them)."""
    values = parse_merchant(session, data, merchant)
    changed = _apply_merchant(merchant, values)
    if not changed:
        return []
    session.flush()
    audit.record("benefits_mall.merchant.update", target_type="benefits_mall_merchant",
                 target_id=merchant.id, actor=actor, session=session,
                 details={"fields": changed, "status": merchant.status,
                          "account": merchant.settlement_account_masked})
    if {"name", "status", "category_code"} & set(changed):
        _reindex_merchant(session, merchant.id)
    return changed


def _reindex_merchant(session: Session, merchant_id: int) -> None:
    search_queue.enqueue_select(session, OFFER_DOC, select(BenefitsMallOffer.id).where(
        BenefitsMallOffer.merchant_id == merchant_id))


def merchant_list(*, q: str = "", status: str = "", category: str = ""
                  ) -> Select[tuple[BenefitsMallMerchant]]:
    stmt = select(BenefitsMallMerchant).order_by(BenefitsMallMerchant.id.desc())
    if q:
        stmt = stmt.where(BenefitsMallMerchant.name.contains(q, autoescape=True))
    if status in tuple(MerchantStatus):
        stmt = stmt.where(BenefitsMallMerchant.status == status)
    if category:
        stmt = stmt.where(BenefitsMallMerchant.category_code == category)
    return stmt


# -- stores ------------------------------------------------------------------------------------


def parse_store(session: Session, merchant_id: int, data: Mapping[str, Any],
                existing: BenefitsMallStore | None = None) -> dict[str, Any]:
    f = _Fields(data)
    out = {
        "name": f.text("name", "门店名称", required=True, max_len=200),
        "district": f.text("district", "所在区", max_len=40),
        "address": f.text("address", "地址", max_len=300),
        "phone": f.text("phone", "门店电话", max_len=40),
        "hours": f.text("hours", "营业时间", max_len=100),
    }
    if out["phone"] and not PHONE.match(out["phone"]):
        f.fail("phone", _("门店电话只能包含数字、空格和 + - ( )"))
    if out["name"] and "name" not in f.errors and session.scalar(select(BenefitsMallStore.id).where(
            BenefitsMallStore.merchant_id == merchant_id, BenefitsMallStore.name == out["name"],
            BenefitsMallStore.id != (existing.id if existing else -1))):
        f.fail("name", _("该商户已有同名门店"))
    f.done()
    return out


def create_store(session: Session, merchant: BenefitsMallMerchant, data: Mapping[str, Any], *,
                 actor: Any) -> BenefitsMallStore:
    values = parse_store(session, merchant.id, data)
    store = BenefitsMallStore(merchant_id=merchant.id, active=True, **values)
    session.add(store)
    session.flush()
    audit.record("benefits_mall.store.create", target_type="benefits_mall_store",
                 target_id=store.id, actor=actor, session=session,
                 details={"merchant_id": merchant.id, "name": store.name})
    _reindex_merchant(session, merchant.id)
    return store


def update_store(session: Session, store: BenefitsMallStore, data: Mapping[str, Any], *,
                 actor: Any) -> list[str]:
    values = parse_store(session, store.merchant_id, data, store)
    changed = [k for k, v in values.items() if getattr(store, k) != v]
    for key, value in values.items():
        setattr(store, key, value)
    if changed:
        audit.record("benefits_mall.store.update", target_type="benefits_mall_store",
                     target_id=store.id, actor=actor, session=session,
                     details={"merchant_id": store.merchant_id, "fields": changed})
        _reindex_merchant(session, store.merchant_id)
    return changed


def set_store_active(session: Session, store: BenefitsMallStore, active: bool, *,
                     actor: Any) -> None:
    """Deactivate (or reopen) a store: it leaves the offers' store lists shown to members;
    its history (redemptions, bookings) stays."""
    if store.active == active:
        return
    store.active = active
    audit.record("benefits_mall.store.activate" if active else "benefits_mall.store.deactivate",
                 target_type="benefits_mall_store", target_id=store.id, actor=actor,
                 session=session, details={"merchant_id": store.merchant_id})
    _reindex_merchant(session, store.merchant_id)


def merchant_store(session: Session, merchant_id: int, store_id: int) -> BenefitsMallStore | None:
    return session.scalar(select(BenefitsMallStore).where(
        BenefitsMallStore.id == store_id, BenefitsMallStore.merchant_id == merchant_id))


def stores_of(session: Session, merchant_id: int, *, active_only: bool = False
              ) -> list[BenefitsMallStore]:
    stmt = select(BenefitsMallStore).where(BenefitsMallStore.merchant_id == merchant_id)
    if active_only:
        stmt = stmt.where(BenefitsMallStore.active.is_(True))
    return list(session.scalars(stmt.order_by(BenefitsMallStore.id)))


# -- staff -------------------------------------------------------------------------------------

_PASSWORD_LETTERS = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
_PASSWORD_DIGITS = "23456789"


def temporary_password() -> str:
    """A random 12-character password with letters and digits (shown once; must be changed
    at the first sign-in)."""
    chars = [secrets.choice(_PASSWORD_LETTERS) for _i in range(8)]
    chars += [secrets.choice(_PASSWORD_DIGITS) for _i in range(4)]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


@dataclass(frozen=True)
class NewCredentials:
    staff: BenefitsMallStaff
    username: str
    #: The password to hand over (temporary unless the caller chose it).
    password: str


def _staff_fields(session: Session, merchant_id: int, data: Mapping[str, Any],
                  roles: Sequence[str]) -> tuple[_Fields, str, int | None]:
    f = _Fields(data)
    role = f.choice("role", "岗位", roles, default=StaffRole.CLERK)
    store_id = f.integer("store_id", "所属门店", low=1, high=2**31 - 1)
    if store_id is not None and merchant_store(session, merchant_id, store_id) is None:
        f.fail("store_id", _("请选择本商户的门店"))
    return f, role, store_id


def create_staff(session: Session, merchant: BenefitsMallMerchant, data: Mapping[str, Any], *,
                 actor: Any, roles: Sequence[str] = tuple(StaffRole),
                 password: str | None = None) -> NewCredentials:
    """A sign-in account (no member, no role grant) linked to ``merchant``. Without
    ``password`` a temporary one is generated and must be changed at the first sign-in."""
    f, role, store_id = _staff_fields(session, merchant.id, data, roles)
    username = f.text("username", "登录用户名", required=True, max_len=64)
    display = f.text("display_name", "姓名", required=True, max_len=100)
    f.done()
    chosen = password or temporary_password()
    try:
        account = create_account(session, username, display, chosen,
                                 must_change=password is None)
    except AdminError as exc:
        raise CatalogueError({"username": _(str(exc))}) from None
    staff = BenefitsMallStaff(merchant_id=merchant.id, account_id=account.id, role=role,
                              store_id=store_id)
    session.add(staff)
    session.flush()
    audit.record("benefits_mall.staff.create", target_type="benefits_mall_staff",
                 target_id=staff.id, actor=actor, session=session,
                 details={"merchant_id": merchant.id, "username": username, "role": role,
                          "store_id": store_id})
    return NewCredentials(staff, username, chosen)


def update_staff(session: Session, staff: BenefitsMallStaff, data: Mapping[str, Any], *,
                 actor: Any, roles: Sequence[str] = tuple(StaffRole)) -> None:
    f, role, store_id = _staff_fields(session, staff.merchant_id, data, roles)
    f.done()
    if (staff.role, staff.store_id) == (role, store_id):
        return
    staff.role, staff.store_id = role, store_id
    audit.record("benefits_mall.staff.update", target_type="benefits_mall_staff",
                 target_id=staff.id, actor=actor, session=session,
                 details={"merchant_id": staff.merchant_id, "role": role, "store_id": store_id})


def reset_staff_password(session: Session, staff: BenefitsMallStaff, *, actor: Any) -> str:
    """A new temporary password; every session of the account is signed out."""
    account = session.get(Account, staff.account_id)
    assert account is not None
    password = temporary_password()
    account.password_hash = hash_password(password)
    account.must_change_password = True
    account.session_version += 1
    audit.record("benefits_mall.staff.reset_password", target_type="benefits_mall_staff",
                 target_id=staff.id, actor=actor, session=session,
                 details={"merchant_id": staff.merchant_id, "account_id": account.id})
    return password


def remove_staff(session: Session, staff: BenefitsMallStaff, *, actor: Any) -> None:
    """Unlink the account from the merchant and disable it (its history keeps its id)."""
    account = session.get(Account, staff.account_id)
    if account is not None:
        account.is_active = False
        account.session_version += 1
    audit.record("benefits_mall.staff.remove", target_type="benefits_mall_staff",
                 target_id=staff.id, actor=actor, session=session,
                 details={"merchant_id": staff.merchant_id, "account_id": staff.account_id,
                          "role": staff.role})
    session.delete(staff)
    session.flush()


def merchant_staff(session: Session, merchant_id: int, staff_id: int) -> BenefitsMallStaff | None:
    return session.scalar(select(BenefitsMallStaff).where(
        BenefitsMallStaff.id == staff_id, BenefitsMallStaff.merchant_id == merchant_id))


def staff_rows(session: Session, merchant_id: int) -> list[tuple[BenefitsMallStaff, Account]]:
    rows = session.execute(
        select(BenefitsMallStaff, Account).join(Account, Account.id == BenefitsMallStaff.account_id)
        .where(BenefitsMallStaff.merchant_id == merchant_id)
        .order_by(BenefitsMallStaff.role.desc(), BenefitsMallStaff.id))
    return [(st, acc) for st, acc in rows]


# -- images ------------------------------------------------------------------------------------


def sniff_image(data: bytes) -> str | None:
    """The file extension from the magic bytes (JPEG, PNG, WebP), or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def images_dir() -> Path:
    return Path(current_app.instance_path) / "benefits_mall" / "images"


def image_path(name: str) -> Path | None:
    """Where an image named ``name`` lives (None for a name this module never makes)."""
    if not IMAGE_NAME.match(name):
        return None
    return images_dir() / name


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def _check_uploads(f: _Fields, uploads: Sequence[Upload], kept: int) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    for up in uploads:
        if not up.data:
            continue
        ext = sniff_image(up.data)
        if ext is None:
            f.fail("images", _("图片“%(name)s”不是 JPEG、PNG 或 WebP 图片", name=up.filename))
        elif len(up.data) > MAX_IMAGE_BYTES:
            f.fail("images", _("图片“%(name)s”超过 %(mb)s MB", name=up.filename,
                               mb=MAX_IMAGE_BYTES // (1024 * 1024)))
        else:
            out.append((ext, up.data))
    if kept + len(out) > MAX_IMAGES:
        f.fail("images", _("每个优惠最多 %(n)s 张图片", n=MAX_IMAGES))
    return out


def _store_images(images: Sequence[tuple[str, bytes]]) -> list[str]:
    folder = images_dir()
    folder.mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    for ext, data in images:
        name = f"{secrets.token_hex(16)}.{ext}"
        (folder / name).write_bytes(data)
        names.append(name)
    return names


# -- offers ------------------------------------------------------------------------------------

_OFFER_FIELDS = ("category_code", "kind", "title", "summary", "description", "price",
                 "member_price", "valid_from", "valid_until", "coupon_valid_days", "stock",
                 "per_member_limit", "per_member_period", "booking_hold_minutes")
_OFFICER_FIELDS = ("subsidy", "points_price", "requires_active_member", "requires_jingka")


@dataclass
class OfferInput:
    values: dict[str, Any]
    store_ids: list[int]
    remove_images: list[str]
    new_images: list[tuple[str, bytes]]
    org_ids: list[int] | None = None
    group_ids: list[int] | None = None


def parse_offer(session: Session, merchant_id: int, data: Mapping[str, Any],
                uploads: Sequence[Upload] = (), *, officer: Any = None,
                existing: BenefitsMallOffer | None = None) -> OfferInput:
    """Check an offer form. ``officer`` (the acting officer's account) also reads the fields
    only officers set — subsidy, points price, member requirements and the audience, whose
    orgs must lie where the officer holds :data:`MANAGE`."""
    f = _Fields(data)
    v: dict[str, Any] = {
        "title": f.text("title", "标题", required=True, max_len=200),
        "summary": f.text("summary", "一句话介绍", max_len=500),
        "category_code": f.choice("category_code", "服务类别", _category_codes(session)),
        "kind": f.choice("kind", "类型", tuple(OfferKind)),
        "price": f.amount("price", "原价"),
        "member_price": f.amount("member_price", "会员价"),
        "valid_from": f.day("valid_from", "开始日期"),
        "valid_until": f.day("valid_until", "结束日期"),
        "coupon_valid_days": f.integer("coupon_valid_days", "领取后有效天数", low=1, high=3650,
                                       default=30),
        "stock": f.integer("stock", "库存", low=0, high=10_000_000),
        "per_member_limit": f.integer("per_member_limit", "每人限领", low=1, high=1000),
        "per_member_period": f.choice("per_member_period", "限领周期", eligibility.PERIODS,
                                      default="all"),
        "booking_hold_minutes": f.integer("booking_hold_minutes", "预约保留时长（分钟）", low=10,
                                          high=10080, default=120),
    }
    raw_description = f.raw("description")
    if len(raw_description) > MAX_DESCRIPTION:
        f.fail("description", _("%(field)s不能超过 %(n)s 个字", field=_("详细说明"),
                                n=MAX_DESCRIPTION))
    v["description"] = clean_description(raw_description[:MAX_DESCRIPTION])
    if v["price"] is not None and v["member_price"] is not None \
            and v["member_price"] > v["price"]:
        f.fail("member_price", _("会员价不能高于原价"))
    if v["valid_from"] and v["valid_until"] and v["valid_until"] < v["valid_from"]:
        f.fail("valid_until", _("结束日期不能早于开始日期"))
    if existing is None and v["valid_until"] and v["valid_until"] < today():
        f.fail("valid_until", _("结束日期不能早于今天"))
    if existing is not None and v["stock"] is not None and v["stock"] < existing.issued:
        f.fail("stock", _("库存不能少于已发放的 %(n)s 份", n=existing.issued))
    if officer is not None:
        v["subsidy"] = f.amount("subsidy", "每次核销补贴") or Decimal("0.00")
        v["points_price"] = f.integer("points_price", "所需积分", low=1, high=10_000_000)
        v["requires_active_member"] = f.flag("requires_active_member")
        v["requires_jingka"] = f.flag("requires_jingka")
    store_ids = f.ids("store_ids", "适用门店")
    if store_ids:
        found = set(session.scalars(select(BenefitsMallStore.id).where(
            BenefitsMallStore.id.in_(store_ids), BenefitsMallStore.merchant_id == merchant_id,
            BenefitsMallStore.active.is_(True))))
        if found != set(store_ids):
            f.fail("store_ids", _("请选择本商户营业中的门店"))
    current = list(existing.images) if existing else []
    remove = [n for n in (data.get("remove_images") or []) if n in current]
    new_images = _check_uploads(f, uploads, len(current) - len(remove))
    result = OfferInput(v, store_ids, remove, new_images)
    if officer is not None:
        result.org_ids, result.group_ids = _audience_input(
            session, f, officer, existing.id if existing else None, data)
    f.done()
    return result


def _audience_input(session: Session, f: _Fields, officer: Any, offer_id: int | None,
                    data: Mapping[str, Any]) -> tuple[list[int], list[int]]:
    """The audience posted by the shared ``audience_fields`` macro, checked against the
    officer's :data:`MANAGE` scope (orgs the offer already targets may be kept)."""
    from ..channels import audience

    try:
        org_ids, group_ids = audience.parse_form(data)
        audience.check_targets(session, officer, "offer", offer_id, org_ids, group_ids,
                               permission=MANAGE)
    except audience.AudienceError as exc:
        for key, message in exc.errors.items():
            f.fail(key, message)
        return [], []
    return org_ids, group_ids


def audience_of(session: Session, offer_id: int) -> tuple[list[int], list[int]]:
    """(org ids, group ids) of an offer's audience."""
    from ..channels import audience

    return audience.load_audience(session, "offer", offer_id)


def audience_choices(session: Session, officer: Any, offer_id: int | None = None
                     ) -> tuple[list[Org], list[MemberGroup]]:
    """Orgs an officer may target (their :data:`MANAGE` subtrees, plus those the offer
    already targets) and every member group."""
    from ..channels import audience

    current = audience_of(session, offer_id)[0] if offer_id else []
    return (audience.org_choices(session, officer, permission=MANAGE, extra_ids=current),
            audience.group_choices(session))


def _save_audience(session: Session, offer_id: int, org_ids: Sequence[int],
                   group_ids: Sequence[int]) -> bool:
    """Replace the offer's audience when it differs; returns whether it changed."""
    from ..channels import audience

    before = audience_of(session, offer_id)
    if (sorted(before[0]), sorted(before[1])) == (sorted(set(org_ids)), sorted(set(group_ids))):
        return False
    audience.save_audience(session, "offer", offer_id, org_ids, group_ids)
    return True


def update_audience(session: Session, offer: BenefitsMallOffer, org_ids: Sequence[int],
                    group_ids: Sequence[int], *, actor: Any) -> bool:
    """Change only an offer's audience (the orgs must lie in ``actor``'s :data:`MANAGE`
    subtrees); audited and re-indexed when it changed."""
    f = _Fields({})
    wanted = _audience_input(session, f, actor, offer.id, {
        "audience_org": [str(i) for i in org_ids], "audience_group": [str(i) for i in group_ids]})
    f.done()
    if not _save_audience(session, offer.id, *wanted):
        return False
    _audit_offer(session, "audience", offer, actor, org_ids=wanted[0], group_ids=wanted[1])
    return True


def _set_stores(session: Session, offer_id: int, store_ids: Sequence[int]) -> bool:
    before = sorted(session.scalars(select(BenefitsMallOfferStore.store_id).where(
        BenefitsMallOfferStore.offer_id == offer_id)))
    if before == sorted(store_ids):
        return False
    session.execute(delete(BenefitsMallOfferStore).where(
        BenefitsMallOfferStore.offer_id == offer_id))
    session.add_all([BenefitsMallOfferStore(offer_id=offer_id, store_id=s) for s in store_ids])
    session.flush()
    return True


def offer_store_ids(session: Session, offer_id: int) -> list[int]:
    return sorted(session.scalars(select(BenefitsMallOfferStore.store_id).where(
        BenefitsMallOfferStore.offer_id == offer_id)))


def _apply_offer(session: Session, offer: BenefitsMallOffer, parsed: OfferInput) -> list[str]:
    changed = [k for k, v in parsed.values.items() if getattr(offer, k, None) != v]
    for key, value in parsed.values.items():
        setattr(offer, key, value)
    images = [n for n in (offer.images or []) if n not in parsed.remove_images]
    added = _store_images(parsed.new_images)
    if parsed.remove_images or added:
        offer.images = images + added
        changed.append("images")
    session.flush()
    if _set_stores(session, offer.id, parsed.store_ids):
        changed.append("stores")
    if parsed.org_ids is not None and _save_audience(
            session, offer.id, parsed.org_ids, parsed.group_ids or []):
        changed.append("audience")
    return changed


def _audit_offer(session: Session, action: str, offer: BenefitsMallOffer, actor: Any,
                 **details: Any) -> None:
    audit.record(f"benefits_mall.offer.{action}", target_type="benefits_mall_offer",
                 target_id=offer.id, actor=actor, session=session,
                 details={"merchant_id": offer.merchant_id, "status": offer.status, **details})
    search_queue.enqueue(session, OFFER_DOC, [offer.id])


def create_offer(session: Session, merchant: BenefitsMallMerchant, data: Mapping[str, Any],
                 uploads: Sequence[Upload] = (), *, actor: Any, officer: bool) -> BenefitsMallOffer:
    """An offer created by an officer (approved at once) or proposed by a merchant manager
    (``proposed``, waiting for an officer)."""
    parsed = parse_offer(session, merchant.id, data, uploads,
                         officer=actor if officer else None)
    offer = BenefitsMallOffer(merchant_id=merchant.id, images=[], issued=0, view_count=0)
    if officer:
        offer.status = OfferStatus.APPROVED
        offer.reviewed_by, offer.reviewed_at = actor.id, utcnow()
    else:
        offer.status = OfferStatus.PROPOSED
        offer.proposed_by = actor.id
    session.add(offer)
    for key, value in parsed.values.items():
        setattr(offer, key, value)
    session.flush()
    _apply_offer(session, offer, OfferInput({}, parsed.store_ids, [], parsed.new_images,
                                            parsed.org_ids, parsed.group_ids))
    _audit_offer(session, "create" if officer else "propose", offer, actor,
                 title=offer.title, kind=offer.kind)
    return offer


class OfferStateError(CatalogueError):
    """The offer is not in a state that allows this action (someone acted first)."""

    def __init__(self, message: str) -> None:
        super().__init__({"status": message})


def update_offer(session: Session, offer: BenefitsMallOffer, data: Mapping[str, Any],
                 uploads: Sequence[Upload] = (), *, actor: Any, officer: bool) -> list[str]:
    """Save an edit. A merchant may edit only its proposals and rejected offers; saving
    (re)submits them for review."""
    if not officer and offer.status not in (OfferStatus.PROPOSED, OfferStatus.REJECTED):
        raise OfferStateError(_("已上架或已下架的优惠不能由商户修改，请联系福利平台运营"))
    parsed = parse_offer(session, offer.merchant_id, data, uploads,
                         officer=actor if officer else None, existing=offer)
    changed = _apply_offer(session, offer, parsed)
    resubmitted = not officer and offer.status == OfferStatus.REJECTED
    if resubmitted:
        offer.status = OfferStatus.PROPOSED
        offer.proposed_by = actor.id
    if changed or resubmitted:
        _audit_offer(session, "update" if officer else "revise", offer, actor, fields=changed)
    return changed


REVIEW_ACTIONS: Mapping[str, tuple[tuple[str, ...], str]] = {
    "approve": ((OfferStatus.PROPOSED, OfferStatus.REJECTED, OfferStatus.OFFLINE),
                OfferStatus.APPROVED),
    "reject": ((OfferStatus.PROPOSED,), OfferStatus.REJECTED),
    "offline": ((OfferStatus.APPROVED,), OfferStatus.OFFLINE),
}
REVIEW_LABELS: Mapping[str, str] = {"approve": "通过并上架", "reject": "驳回", "offline": "下架"}


def review_offer(session: Session, offer: BenefitsMallOffer, action: str, note: str, *,
                 actor: Any) -> None:
    """Approve, reject (a note is required) or take offline, by a conditional UPDATE on the
    current status: of two officers acting at once, one wins and the other is told."""
    if action not in REVIEW_ACTIONS:
        raise CatalogueError({"action": _("未知的审核操作")})
    note = (note or "").strip()
    if len(note) > 500:
        raise CatalogueError({"note": _("%(field)s不能超过 %(n)s 个字", field=_("审核意见"),
                                        n=500)})
    if action == "reject" and not note:
        raise CatalogueError({"note": _("驳回时请填写审核意见，告诉商户原因")})
    allowed, target = REVIEW_ACTIONS[action]
    now = utcnow()
    result = session.execute(
        update(BenefitsMallOffer)
        .where(BenefitsMallOffer.id == offer.id, BenefitsMallOffer.status.in_(allowed))
        .values(status=target, review_note=note or None, reviewed_by=actor.id, reviewed_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise OfferStateError(_("该优惠状态已变化（当前：%(status)s），请刷新后再试",
                                status=_(OFFER_STATUS_LABELS.get(offer.status, offer.status))))
    session.refresh(offer)
    _audit_offer(session, action, offer, actor, note=note)


def merchant_take_offline(session: Session, offer: BenefitsMallOffer, *, actor: Any) -> None:
    """A merchant manager takes its own approved offer down (coupons already claimed stay
    valid; officers may list it again)."""
    result = session.execute(
        update(BenefitsMallOffer)
        .where(BenefitsMallOffer.id == offer.id,
               BenefitsMallOffer.status == OfferStatus.APPROVED)
        .values(status=OfferStatus.OFFLINE, review_note=_("商户自行下架"))
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise OfferStateError(_("只有已上架的优惠可以下架"))
    session.refresh(offer)
    _audit_offer(session, "offline_by_merchant", offer, actor)


def admin_offer_list(*, status: str = "", merchant_id: int | None = None, category: str = "",
                     q: str = "") -> Select[tuple[BenefitsMallOffer]]:
    """Officers' list: proposals first (oldest first: a queue), then the rest newest first."""
    proposed = BenefitsMallOffer.status == OfferStatus.PROPOSED
    stmt = select(BenefitsMallOffer).order_by(
        case((proposed, 0), else_=1),
        case((proposed, BenefitsMallOffer.id), else_=-BenefitsMallOffer.id))
    if status in tuple(OfferStatus):
        stmt = stmt.where(BenefitsMallOffer.status == status)
    if merchant_id:
        stmt = stmt.where(BenefitsMallOffer.merchant_id == merchant_id)
    if category:
        stmt = stmt.where(BenefitsMallOffer.category_code == category)
    if q:
        stmt = stmt.where(BenefitsMallOffer.title.contains(q, autoescape=True))
    return stmt


def status_counts(session: Session, merchant_id: int | None = None) -> dict[str, int]:
    stmt = select(BenefitsMallOffer.status, func.count()).group_by(BenefitsMallOffer.status)
    if merchant_id is not None:
        stmt = stmt.where(BenefitsMallOffer.merchant_id == merchant_id)
    return {status: int(n) for status, n in session.execute(stmt)}


def merchant_offer(session: Session, merchant_id: int, offer_id: int) -> BenefitsMallOffer | None:
    """One offer of one merchant (the merchant pages' only way to an offer)."""
    return session.scalar(select(BenefitsMallOffer).where(
        BenefitsMallOffer.id == offer_id, BenefitsMallOffer.merchant_id == merchant_id))


# -- what members see --------------------------------------------------------------------------


def viewer_of(session: Session, account: Any) -> eligibility.Viewer | None:
    """The eligibility viewer for an account: None for visitors and accounts that are not
    members (officers, merchant staff) — they see what an anonymous visitor sees."""
    member = getattr(account, "member", None) if getattr(account, "is_authenticated",
                                                          False) else None
    return eligibility.Viewer.of(session, member) if member is not None else None


def visible_offers(viewer: eligibility.Viewer | None, on: date, *, category: str = "",
                   kind: str = "", sort: str = "new") -> Select[tuple[BenefitsMallOffer]]:
    """Offers ``viewer`` may see and claim on ``on``, filtered in SQL."""
    stmt = select(BenefitsMallOffer).where(eligibility.offer_clause(viewer, on))
    if category:
        stmt = stmt.where(BenefitsMallOffer.category_code == category)
    if kind in tuple(OfferKind):
        stmt = stmt.where(BenefitsMallOffer.kind == kind)
    order: tuple[ColumnElement[Any], ...]
    if sort == "popular":
        order = (BenefitsMallOffer.issued.desc(), BenefitsMallOffer.view_count.desc(),
                 BenefitsMallOffer.id.desc())
    else:
        order = (BenefitsMallOffer.valid_from.desc(), BenefitsMallOffer.id.desc())
    return stmt.order_by(*order)


def viewable_offer(session: Session, viewer: eligibility.Viewer | None, offer_id: int,
                   on: date) -> BenefitsMallOffer | None:
    """The offer, if it is live and ``viewer`` is in its audience (else None: a 404). Member
    requirements (active membership, a Jingka) do not hide it: the page says why instead."""
    return session.scalar(select(BenefitsMallOffer).where(
        BenefitsMallOffer.id == offer_id, eligibility.live_offer_clause(on),
        eligibility.audience_clause("offer", BenefitsMallOffer.id, viewer)))


def count_view(session: Session, offer_id: int) -> None:
    """One more view, in one UPDATE (``updated_at`` untouched: a view is not an edit)."""
    session.execute(update(BenefitsMallOffer).where(BenefitsMallOffer.id == offer_id)
                    .values(view_count=BenefitsMallOffer.view_count + 1,
                            updated_at=BenefitsMallOffer.updated_at)
                    .execution_options(synchronize_session=False))


def offer_stores(session: Session, offer: BenefitsMallOffer) -> list[BenefitsMallStore]:
    """The active stores where the offer can be used (all of its merchant's when none are
    listed)."""
    listed = select(BenefitsMallOfferStore.store_id).where(
        BenefitsMallOfferStore.offer_id == offer.id)
    stmt = select(BenefitsMallStore).where(BenefitsMallStore.merchant_id == offer.merchant_id,
                                           BenefitsMallStore.active.is_(True))
    if session.scalar(select(func.count()).select_from(listed.subquery())):
        stmt = stmt.where(BenefitsMallStore.id.in_(listed))
    return list(session.scalars(stmt.order_by(BenefitsMallStore.id)))


def remaining(offer: BenefitsMallOffer) -> int | None:
    return None if offer.stock is None else max(0, offer.stock - offer.issued)


def used_by(session: Session, member_id: int, offer: BenefitsMallOffer, on: date) -> int:
    """How much of the offer's per-member limit the member has used in the period of ``on``.
    For a coupon that is the claim's period; a service's bookings count per period of their
    service date, so for a service this is only the use by services dated in ``on``'s period
    (shown for information, never a reason to hide the booking link)."""
    if offer.per_member_limit is None:
        return 0
    used = session.scalar(select(BenefitsMallQuotaUse.used).where(
        BenefitsMallQuotaUse.member_id == member_id,
        BenefitsMallQuotaUse.scope == f"offer:{offer.id}",
        BenefitsMallQuotaUse.period == eligibility.period_key(offer.per_member_period, on)))
    return int(used or 0)


def limit_text(offer: BenefitsMallOffer) -> str:
    if offer.per_member_limit is None:
        return _("不限")
    period = eligibility.PERIODS.get(offer.per_member_period, offer.per_member_period)
    return _("%(period)s每人 %(n)s 次", period=_(period), n=offer.per_member_limit)


def redemptions_today(session: Session, merchant_id: int, on: date | None = None) -> int:
    """Redemptions at the merchant today (Beijing), less those undone: from the events."""
    start = day_start(on or today())
    counts = {kind: int(n) for kind, n in session.execute(
        select(BenefitsMallCouponEvent.kind, func.count())
        .where(BenefitsMallCouponEvent.merchant_id == merchant_id,
               BenefitsMallCouponEvent.kind.in_((CouponEventKind.REDEEMED,
                                                 CouponEventKind.UNDONE)),
               BenefitsMallCouponEvent.at >= start,
               BenefitsMallCouponEvent.at < start + timedelta(days=1))
        .group_by(BenefitsMallCouponEvent.kind))}
    return max(0, int(counts.get(CouponEventKind.REDEEMED, 0))
               - int(counts.get(CouponEventKind.UNDONE, 0)))
