"""Officer pages (``/benefits_mall/admin/…``, permission ``benefits_mall.catalogue.manage``):
merchants with their stores and staff accounts, offers, the proposals queue and review."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from unionhub import db
from unionhub.access.service import require
from unionhub.identity.models import Account
from unionhub.web.pagination import paginate

from ..models import (
    BenefitsMallMerchant,
    BenefitsMallOffer,
    BenefitsMallStaff,
    BenefitsMallStore,
    MerchantStatus,
    OfferKind,
    OfferStatus,
)
from ..web import bp
from . import service
from .text import editable_description
from .views import form_data, page_context, uploads

MANAGE = service.MANAGE


def _checked_form() -> None:
    if not FlaskForm().validate_on_submit():
        abort(400)


def _merchant_or_404(merchant_id: int) -> BenefitsMallMerchant:
    merchant = db.session().get(BenefitsMallMerchant, merchant_id)
    if merchant is None:
        abort(404)
    return merchant


def _offer_or_404(offer_id: int) -> BenefitsMallOffer:
    offer = db.session().get(BenefitsMallOffer, offer_id)
    if offer is None:
        abort(404)
    return offer


def _staff_or_404(staff_id: int) -> BenefitsMallStaff:
    staff = db.session().get(BenefitsMallStaff, staff_id)
    if staff is None:
        abort(404)
    return staff


def _store_or_404(store_id: int) -> BenefitsMallStore:
    store = db.session().get(BenefitsMallStore, store_id)
    if store is None:
        abort(404)
    return store


# -- merchants ---------------------------------------------------------------------------------


@bp.route("/admin/merchants")
@login_required
def admin_merchants() -> Any:
    require(MANAGE)
    s = db.session()
    q = request.args.get("q", "").strip()[:100]
    status = request.args.get("status", "")
    category = request.args.get("category", "")
    page = paginate(service.merchant_list(q=q, status=status, category=category))
    cats = service.categories(s)
    ids = [m.id for m in page.items]
    offers = {merchant_id: int(n) for merchant_id, n in s.execute(
        select(BenefitsMallOffer.merchant_id, func.count())
        .where(BenefitsMallOffer.merchant_id.in_(ids)).group_by(BenefitsMallOffer.merchant_id))}
    return render_template("benefits_mall/catalogue/admin_merchants.html", page=page, q=q,
                           status=status, category=category, offers=offers,
                           categories=cats, category_names={c.code: c.name for c in cats},
                           **page_context())


def _merchant_values(m: BenefitsMallMerchant) -> dict[str, Any]:
    return {"name": m.name, "category_code": m.category_code, "description": m.description,
            "contact_name": m.contact_name, "contact_phone": m.contact_phone,
            "credit_code": m.credit_code or "", "settlement_bank": m.settlement_bank or "",
            "settlement_account_name": m.settlement_account_name or "",
            "settlement_account": "", "status": m.status}


def _merchant_form(merchant: BenefitsMallMerchant | None, values: dict[str, Any],
                   errors: dict[str, str], status: int = 200) -> Any:
    s = db.session()
    ctx: dict[str, Any] = {}
    if merchant is not None:
        ctx = {"stores": service.stores_of(s, merchant.id),
               "staff": service.staff_rows(s, merchant.id),
               "counts": service.status_counts(s, merchant.id)}
    return render_template("benefits_mall/catalogue/admin_merchant.html", merchant=merchant,
                           values=values, errors=errors, form=FlaskForm(),
                           categories=service.categories(s), statuses=tuple(MerchantStatus),
                           **ctx, **page_context()), status


@bp.route("/admin/merchants/new", methods=["GET", "POST"])
@login_required
def admin_merchant_new() -> Any:
    require(MANAGE)
    if request.method == "GET":
        return _merchant_form(None, {"status": MerchantStatus.ACTIVE}, {})
    _checked_form()
    s = db.session()
    data = form_data(request.form)
    try:
        merchant = service.create_merchant(s, data, actor=current_user)
    except service.CatalogueError as exc:
        s.rollback()
        return _merchant_form(None, {**data, "settlement_account": ""}, exc.errors, 422)
    s.commit()
    flash(_("商户已创建：%(name)s", name=merchant.name), "success")
    return redirect(url_for(".admin_merchant", merchant_id=merchant.id))


@bp.route("/admin/merchants/<int:merchant_id>", methods=["GET", "POST"])
@login_required
def admin_merchant(merchant_id: int) -> Any:
    require(MANAGE)
    merchant = _merchant_or_404(merchant_id)
    if request.method == "GET":
        return _merchant_form(merchant, _merchant_values(merchant), {})
    _checked_form()
    s = db.session()
    data = form_data(request.form)
    try:
        changed = service.update_merchant(s, merchant, data, actor=current_user)
    except service.CatalogueError as exc:
        s.rollback()
        merchant = _merchant_or_404(merchant_id)
        return _merchant_form(merchant, {**data, "settlement_account": ""}, exc.errors, 422)
    s.commit()
    flash(_("商户信息已保存") if changed else _("没有需要保存的修改"), "success")
    return redirect(url_for(".admin_merchant", merchant_id=merchant_id))


# -- stores ------------------------------------------------------------------------------------


@bp.route("/admin/merchants/<int:merchant_id>/stores", methods=["POST"])
@login_required
def admin_store_new(merchant_id: int) -> Any:
    require(MANAGE)
    merchant = _merchant_or_404(merchant_id)
    _checked_form()
    s = db.session()
    try:
        store = service.create_store(s, merchant, form_data(request.form), actor=current_user)
    except service.CatalogueError as exc:
        s.rollback()
        for message in exc.errors.values():
            flash(message, "error")
        return redirect(url_for(".admin_merchant", merchant_id=merchant_id) + "#stores")
    s.commit()
    flash(_("门店已添加：%(name)s", name=store.name), "success")
    return redirect(url_for(".admin_merchant", merchant_id=merchant_id) + "#stores")


@bp.route("/admin/stores/<int:store_id>", methods=["GET", "POST"])
@login_required
def admin_store(store_id: int) -> Any:
    require(MANAGE)
    store = _store_or_404(store_id)
    values: dict[str, Any] = {k: getattr(store, k) for k in
                              ("name", "district", "address", "phone", "hours")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        _checked_form()
        s = db.session()
        values = form_data(request.form)
        try:
            service.update_store(s, store, values, actor=current_user)
        except service.CatalogueError as exc:
            s.rollback()
            errors = exc.errors
            store = _store_or_404(store_id)
        else:
            s.commit()
            flash(_("门店已保存"), "success")
            return redirect(url_for(".admin_merchant", merchant_id=store.merchant_id) + "#stores")
    back = url_for(".admin_merchant", merchant_id=store.merchant_id)
    return render_template("benefits_mall/catalogue/store_form.html", store=store, values=values,
                           errors=errors, form=FlaskForm(), back=back, menu="officer",
                           action=url_for(".admin_store", store_id=store.id),
                           **page_context()), 422 if errors else 200


@bp.route("/admin/stores/<int:store_id>/active", methods=["POST"])
@login_required
def admin_store_active(store_id: int) -> Any:
    require(MANAGE)
    store = _store_or_404(store_id)
    _checked_form()
    s = db.session()
    service.set_store_active(s, store, request.form.get("active") == "1", actor=current_user)
    s.commit()
    flash(_("门店已恢复营业") if store.active else _("门店已停用"), "success")
    return redirect(url_for(".admin_merchant", merchant_id=store.merchant_id) + "#stores")


# -- staff -------------------------------------------------------------------------------------


def _credentials(merchant: BenefitsMallMerchant, username: str, password: str, back: str,
                 menu: str, created: bool) -> Any:
    """The one page that shows a new password (never flashed into the session cookie)."""
    resp = render_template("benefits_mall/catalogue/credentials.html", merchant=merchant,
                           username=username, password=password, back=back, menu=menu,
                           created=created)
    return resp, 200, {"Cache-Control": "no-store"}


@bp.route("/admin/merchants/<int:merchant_id>/staff", methods=["POST"])
@login_required
def admin_staff_new(merchant_id: int) -> Any:
    require(MANAGE)
    merchant = _merchant_or_404(merchant_id)
    _checked_form()
    s = db.session()
    try:
        made = service.create_staff(s, merchant, form_data(request.form), actor=current_user)
    except service.CatalogueError as exc:
        s.rollback()
        for message in exc.errors.values():
            flash(message, "error")
        return redirect(url_for(".admin_merchant", merchant_id=merchant_id) + "#staff")
    s.commit()
    return _credentials(merchant, made.username, made.password,
                        url_for(".admin_merchant", merchant_id=merchant_id) + "#staff",
                        "officer", True)


@bp.route("/admin/staff/<int:staff_id>", methods=["POST"])
@login_required
def admin_staff_edit(staff_id: int) -> Any:
    require(MANAGE)
    staff = _staff_or_404(staff_id)
    _checked_form()
    s = db.session()
    back = url_for(".admin_merchant", merchant_id=staff.merchant_id) + "#staff"
    action = request.form.get("do", "save")
    if action == "reset":
        password = service.reset_staff_password(s, staff, actor=current_user)
        s.commit()
        account = s.get(Account, staff.account_id)
        return _credentials(staff.merchant, account.username or "" if account else "",
                            password, back, "officer", False)
    if action == "remove":
        service.remove_staff(s, staff, actor=current_user)
        s.commit()
        flash(_("已移除该商户账号并停用登录"), "success")
        return redirect(back)
    try:
        service.update_staff(s, staff, form_data(request.form), actor=current_user)
    except service.CatalogueError as exc:
        s.rollback()
        for message in exc.errors.values():
            flash(message, "error")
        return redirect(back)
    s.commit()
    flash(_("商户账号已保存"), "success")
    return redirect(back)


# -- offers ------------------------------------------------------------------------------------


@bp.route("/admin/offers")
@login_required
def admin_offers() -> Any:
    require(MANAGE)
    s = db.session()
    status = request.args.get("status", "")
    category = request.args.get("category", "")
    q = request.args.get("q", "").strip()[:100]
    raw_merchant = request.args.get("merchant", "")
    merchant_id = int(raw_merchant) if raw_merchant.isdigit() and len(raw_merchant) <= 9 else None
    page = paginate(service.admin_offer_list(status=status, merchant_id=merchant_id,
                                             category=category, q=q))
    merchant = s.get(BenefitsMallMerchant, merchant_id) if merchant_id else None
    return render_template("benefits_mall/catalogue/admin_offers.html", page=page,
                           status=status, category=category, q=q, merchant=merchant,
                           counts=service.status_counts(s), statuses=tuple(OfferStatus),
                           categories=service.categories(s), **page_context())


def offer_values(s: Any, offer: BenefitsMallOffer) -> dict[str, Any]:
    """An offer as form values (strings, lists for the multi-valued fields)."""
    def text(v: Any) -> str:
        return "" if v is None else str(v)

    orgs, groups = service.audience_of(s, offer.id)
    return {
        "title": offer.title, "summary": offer.summary, "category_code": offer.category_code,
        "kind": offer.kind, "description": editable_description(offer.description),
        "price": text(offer.price), "member_price": text(offer.member_price),
        "subsidy": text(offer.subsidy), "points_price": text(offer.points_price),
        "valid_from": offer.valid_from.isoformat(), "valid_until": offer.valid_until.isoformat(),
        "coupon_valid_days": text(offer.coupon_valid_days), "stock": text(offer.stock),
        "per_member_limit": text(offer.per_member_limit),
        "per_member_period": offer.per_member_period,
        "booking_hold_minutes": text(offer.booking_hold_minutes),
        "requires_active_member": "1" if offer.requires_active_member else "",
        "requires_jingka": "1" if offer.requires_jingka else "",
        "store_ids": [str(i) for i in service.offer_store_ids(s, offer.id)],
        "audience_org": [str(i) for i in orgs], "audience_group": [str(i) for i in groups],
        "remove_images": [],
    }


def new_offer_values() -> dict[str, Any]:
    on = service.today()
    return {"kind": OfferKind.COUPON, "valid_from": on.isoformat(),
            "valid_until": on.replace(year=on.year + 1, day=min(on.day, 28)).isoformat(),
            "coupon_valid_days": "30", "per_member_limit": "1", "per_member_period": "all",
            "booking_hold_minutes": "120", "requires_active_member": "1", "subsidy": "0.00",
            "store_ids": [], "audience_org": [], "audience_group": [], "remove_images": []}


def _ids(values: Any) -> list[int]:
    return [int(v) for v in values or [] if str(v).isdigit() and len(str(v)) <= 9]


def _offer_form(offer: BenefitsMallOffer | None, merchant: BenefitsMallMerchant | None,
                values: dict[str, Any], errors: dict[str, str], status: int = 200) -> Any:
    s = db.session()
    orgs, groups = service.audience_choices(s, current_user, offer.id if offer else None)
    merchants = [] if merchant else list(s.scalars(
        select(BenefitsMallMerchant).where(BenefitsMallMerchant.status == MerchantStatus.ACTIVE)
        .order_by(BenefitsMallMerchant.name)))
    action = (url_for(".admin_offer", offer_id=offer.id) if offer
              else url_for(".admin_offer_new", merchant=merchant.id if merchant else None))
    return render_template(
        "benefits_mall/catalogue/offer_form.html", offer=offer, merchant=merchant,
        merchants=merchants, values=values, errors=errors, form=FlaskForm(), officer=True,
        menu="officer", action=action, categories=service.categories(s),
        stores=service.stores_of(s, merchant.id, active_only=True) if merchant else [],
        orgs=orgs, groups=groups, selected_orgs=_ids(values.get("audience_org")),
        selected_groups=_ids(values.get("audience_group")), review_labels=service.REVIEW_LABELS,
        review_actions=service.REVIEW_ACTIONS, max_images=service.MAX_IMAGES,
        max_mb=service.MAX_IMAGE_BYTES // (1024 * 1024),
        back=url_for(".admin_offers"), **page_context()), status


@bp.route("/admin/offers/new", methods=["GET", "POST"])
@login_required
def admin_offer_new() -> Any:
    require(MANAGE)
    s = db.session()
    raw = request.values.get("merchant", "")
    merchant = s.get(BenefitsMallMerchant, int(raw)) if raw.isdigit() and len(raw) <= 9 else None
    if request.method == "GET" or merchant is None:
        if request.method == "POST":
            _checked_form()
        return _offer_form(None, merchant, new_offer_values(),
                           {"merchant": _("请选择商户")} if request.method == "POST" else {},
                           422 if request.method == "POST" else 200)
    _checked_form()
    data = form_data(request.form)
    try:
        offer = service.create_offer(s, merchant, data, uploads(), actor=current_user,
                                     officer=True)
    except service.CatalogueError as exc:
        s.rollback()
        merchant = s.get(BenefitsMallMerchant, merchant.id)
        return _offer_form(None, merchant, data, exc.errors, 422)
    s.commit()
    flash(_("优惠已创建并上架：%(title)s", title=offer.title), "success")
    return redirect(url_for(".admin_offer", offer_id=offer.id))


@bp.route("/admin/offers/<int:offer_id>", methods=["GET", "POST"])
@login_required
def admin_offer(offer_id: int) -> Any:
    require(MANAGE)
    s = db.session()
    offer = _offer_or_404(offer_id)
    if request.method == "GET":
        return _offer_form(offer, offer.merchant, offer_values(s, offer), {})
    _checked_form()
    data = form_data(request.form)
    try:
        changed = service.update_offer(s, offer, data, uploads(), actor=current_user,
                                       officer=True)
    except service.CatalogueError as exc:
        s.rollback()
        offer = _offer_or_404(offer_id)
        data["remove_images"] = []
        return _offer_form(offer, offer.merchant, data, exc.errors, 422)
    s.commit()
    flash(_("优惠已保存") if changed else _("没有需要保存的修改"), "success")
    return redirect(url_for(".admin_offer", offer_id=offer_id))


@bp.route("/admin/offers/<int:offer_id>/review", methods=["POST"])
@login_required
def admin_offer_review(offer_id: int) -> Any:
    require(MANAGE)
    offer = _offer_or_404(offer_id)
    _checked_form()
    s = db.session()
    action = request.form.get("action", "")
    try:
        service.review_offer(s, offer, action, request.form.get("note", ""), actor=current_user)
    except service.CatalogueError as exc:
        s.rollback()
        for message in exc.errors.values():
            flash(message, "error")
        return redirect(url_for(".admin_offer", offer_id=offer_id) + "#review")
    s.commit()
    flash(_("已%(action)s：%(title)s", action=_(service.REVIEW_LABELS[action]),
            title=offer.title), "success")
    if action in ("approve", "reject"):
        return redirect(url_for(".admin_offers", status=OfferStatus.PROPOSED))
    return redirect(url_for(".admin_offer", offer_id=offer_id))
