"""Merchant staff pages (``/benefits_mall/merchant/…``): the workbench, the merchant's offers
(managers propose and revise), stores and staff (managers manage clerks).

Every row is found together with ``current_staff().merchant_id`` in SQL, so another merchant's
offer, store or account id is a 404, never a page.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from unionhub import db
from unionhub.identity.models import Account
from unionhub.web.pagination import paginate

from ..models import (
    BenefitsMallMerchant,
    BenefitsMallOffer,
    BenefitsMallStaff,
    BenefitsMallStore,
    OfferStatus,
    StaffRole,
)
from ..staff import current_staff, staff_required
from ..web import bp
from . import service
from .admin import new_offer_values, offer_values
from .views import endpoint_url, form_data, page_context, uploads

#: Pages other features add for merchant staff: (endpoint, label, managers only).
WORKBENCH = (
    ("benefits_mall.redeem", "核销福利券", False),
    ("benefits_mall.merchant_bookings", "预约管理", False),
    ("benefits_mall.merchant_reports", "经营报表", True),
)


def _me() -> BenefitsMallStaff:
    staff = current_staff()
    assert staff is not None  # staff_required ran first
    return staff


def _merchant() -> BenefitsMallMerchant:
    merchant = db.session().get(BenefitsMallMerchant, _me().merchant_id)
    assert merchant is not None
    return merchant


def _checked_form() -> None:
    if not FlaskForm().validate_on_submit():
        abort(400)


def merchant_links(manager: bool) -> list[tuple[str, str]]:
    """(label, url) of the workbench pages that exist now (features land one by one)."""
    out: list[tuple[str, str]] = []
    for endpoint, label, managers_only in WORKBENCH:
        if managers_only and not manager:
            continue
        url = endpoint_url(endpoint)
        if url:
            out.append((label, url))
    return out


def _ctx() -> dict[str, Any]:
    me = _me()
    return {"me": me, "merchant": _merchant(), "manager": me.role == StaffRole.MANAGER,
            "links": merchant_links(me.role == StaffRole.MANAGER), **page_context()}


@bp.route("/merchant/")
@staff_required()
def merchant_home() -> Any:
    s = db.session()
    me = _me()
    return render_template(
        "benefits_mall/catalogue/merchant_home.html",
        redeemed_today=service.redemptions_today(s, me.merchant_id),
        counts=service.status_counts(s, me.merchant_id),
        store=s.get(BenefitsMallStore, me.store_id) if me.store_id else None, **_ctx())


# -- offers ------------------------------------------------------------------------------------


@bp.route("/merchant/offers")
@staff_required()
def merchant_offers() -> Any:
    me = _me()
    status = request.args.get("status", "")
    stmt = select(BenefitsMallOffer).where(BenefitsMallOffer.merchant_id == me.merchant_id)
    if status in tuple(OfferStatus):
        stmt = stmt.where(BenefitsMallOffer.status == status)
    page = paginate(stmt.order_by(BenefitsMallOffer.id.desc()))
    return render_template("benefits_mall/catalogue/merchant_offers.html", page=page,
                           status=status, statuses=tuple(OfferStatus),
                           counts=service.status_counts(db.session(), me.merchant_id), **_ctx())


def _offer_or_404(offer_id: int) -> BenefitsMallOffer:
    offer = service.merchant_offer(db.session(), _me().merchant_id, offer_id)
    if offer is None:
        abort(404)
    return offer


def _form(offer: BenefitsMallOffer | None, values: dict[str, Any], errors: dict[str, str],
          status: int = 200) -> Any:
    s = db.session()
    ctx = _ctx()
    editable = ctx["manager"] and (offer is None or offer.status in (OfferStatus.PROPOSED,
                                                                     OfferStatus.REJECTED))
    action = (url_for(".merchant_offer", offer_id=offer.id) if offer
              else url_for(".merchant_offer_new"))
    return render_template(
        "benefits_mall/catalogue/offer_form.html", offer=offer, values=values, errors=errors,
        form=FlaskForm(), officer=False, editable=editable, menu="merchant", action=action,
        categories=service.categories(s), stores=service.stores_of(s, ctx["me"].merchant_id,
                                                                   active_only=True),
        orgs=[], groups=[], selected_orgs=[], selected_groups=[], max_images=service.MAX_IMAGES,
        max_mb=service.MAX_IMAGE_BYTES // (1024 * 1024), back=url_for(".merchant_offers"),
        **ctx), status


@bp.route("/merchant/offers/new", methods=["GET", "POST"])
@staff_required(manager=True)
def merchant_offer_new() -> Any:
    if request.method == "GET":
        values = new_offer_values()
        values["category_code"] = _merchant().category_code
        return _form(None, values, {})
    _checked_form()
    s = db.session()
    data = form_data(request.form)
    try:
        offer = service.create_offer(s, _merchant(), data, uploads(), actor=current_user,
                                     officer=False)
    except service.CatalogueError as exc:
        s.rollback()
        return _form(None, data, exc.errors, 422)
    s.commit()
    flash(_("已提交审核：%(title)s。福利平台审核通过后上架。", title=offer.title), "success")
    return redirect(url_for(".merchant_offer", offer_id=offer.id))


@bp.route("/merchant/offers/<int:offer_id>", methods=["GET", "POST"])
@staff_required()
def merchant_offer(offer_id: int) -> Any:
    s = db.session()
    offer = _offer_or_404(offer_id)
    if request.method == "GET":
        return _form(offer, offer_values(s, offer), {})
    if _me().role != StaffRole.MANAGER:
        abort(403)
    _checked_form()
    data = form_data(request.form)
    try:
        service.update_offer(s, offer, data, uploads(), actor=current_user, officer=False)
    except service.CatalogueError as exc:
        s.rollback()
        offer = _offer_or_404(offer_id)
        data["remove_images"] = []
        return _form(offer, data, exc.errors, 422)
    s.commit()
    flash(_("修改已提交审核"), "success")
    return redirect(url_for(".merchant_offer", offer_id=offer_id))


@bp.route("/merchant/offers/<int:offer_id>/offline", methods=["POST"])
@staff_required(manager=True)
def merchant_offer_offline(offer_id: int) -> Any:
    offer = _offer_or_404(offer_id)
    _checked_form()
    s = db.session()
    try:
        service.merchant_take_offline(s, offer, actor=current_user)
    except service.CatalogueError as exc:
        s.rollback()
        for message in exc.errors.values():
            flash(message, "error")
    else:
        s.commit()
        flash(_("优惠已下架"), "success")
    return redirect(url_for(".merchant_offer", offer_id=offer_id))


# -- stores ------------------------------------------------------------------------------------


@bp.route("/merchant/stores")
@staff_required()
def merchant_stores() -> Any:
    return render_template("benefits_mall/catalogue/merchant_stores.html",
                           stores=service.stores_of(db.session(), _me().merchant_id),
                           form=FlaskForm(), **_ctx())


@bp.route("/merchant/stores/new", methods=["POST"])
@staff_required(manager=True)
def merchant_store_new() -> Any:
    _checked_form()
    s = db.session()
    try:
        store = service.create_store(s, _merchant(), form_data(request.form),
                                     actor=current_user)
    except service.CatalogueError as exc:
        s.rollback()
        for message in exc.errors.values():
            flash(message, "error")
    else:
        s.commit()
        flash(_("门店已添加：%(name)s", name=store.name), "success")
    return redirect(url_for(".merchant_stores"))


@bp.route("/merchant/stores/<int:store_id>", methods=["GET", "POST"])
@staff_required(manager=True)
def merchant_store(store_id: int) -> Any:
    s = db.session()
    store = service.merchant_store(s, _me().merchant_id, store_id)
    if store is None:
        abort(404)
    values: dict[str, Any] = {k: getattr(store, k) for k in
                              ("name", "district", "address", "phone", "hours")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        _checked_form()
        values = form_data(request.form)
        if "active" in request.form:
            service.set_store_active(s, store, request.form["active"] == "1",
                                     actor=current_user)
            s.commit()
            flash(_("门店已恢复营业") if store.active else _("门店已停用"), "success")
            return redirect(url_for(".merchant_stores"))
        try:
            service.update_store(s, store, values, actor=current_user)
        except service.CatalogueError as exc:
            s.rollback()
            errors = exc.errors
            store = service.merchant_store(s, _me().merchant_id, store_id)
        else:
            s.commit()
            flash(_("门店已保存"), "success")
            return redirect(url_for(".merchant_stores"))
    return render_template("benefits_mall/catalogue/store_form.html", store=store,
                           values=values, errors=errors, form=FlaskForm(),
                           back=url_for(".merchant_stores"), menu="merchant",
                           action=url_for(".merchant_store", store_id=store_id),
                           **_ctx()), 422 if errors else 200


# -- staff (managers manage their clerks) ------------------------------------------------------


@bp.route("/merchant/staff")
@staff_required(manager=True)
def merchant_staff() -> Any:
    s = db.session()
    me = _me()
    return render_template("benefits_mall/catalogue/merchant_staff.html",
                           staff=service.staff_rows(s, me.merchant_id),
                           stores=service.stores_of(s, me.merchant_id, active_only=True),
                           form=FlaskForm(), **_ctx())


@bp.route("/merchant/staff/new", methods=["POST"])
@staff_required(manager=True)
def merchant_staff_new() -> Any:
    _checked_form()
    s = db.session()
    data = {**form_data(request.form), "role": StaffRole.CLERK}
    try:
        made = service.create_staff(s, _merchant(), data, actor=current_user,
                                    roles=(StaffRole.CLERK,))
    except service.CatalogueError as exc:
        s.rollback()
        for message in exc.errors.values():
            flash(message, "error")
        return redirect(url_for(".merchant_staff"))
    s.commit()
    return render_template("benefits_mall/catalogue/credentials.html",
                           username=made.username, password=made.password,
                           back=url_for(".merchant_staff"), menu="merchant", created=True,
                           **_ctx()), 200, {"Cache-Control": "no-store"}


@bp.route("/merchant/staff/<int:staff_id>", methods=["POST"])
@staff_required(manager=True)
def merchant_staff_edit(staff_id: int) -> Any:
    """A manager changes a clerk's store, resets a clerk's password or removes a clerk
    (other managers are the officers' business)."""
    s = db.session()
    me = _me()
    staff = service.merchant_staff(s, me.merchant_id, staff_id)
    if staff is None:
        abort(404)
    if staff.role != StaffRole.CLERK or staff.id == me.id:
        abort(403)
    _checked_form()
    action = request.form.get("do", "save")
    if action == "reset":
        password = service.reset_staff_password(s, staff, actor=current_user)
        s.commit()
        account = s.get(Account, staff.account_id)
        return render_template(
            "benefits_mall/catalogue/credentials.html", username=account.username if account
            else "", password=password, back=url_for(".merchant_staff"), menu="merchant",
            created=False, **_ctx()), 200, {"Cache-Control": "no-store"}
    if action == "remove":
        service.remove_staff(s, staff, actor=current_user)
        s.commit()
        flash(_("已移除该店员并停用登录"), "success")
        return redirect(url_for(".merchant_staff"))
    try:
        service.update_staff(s, staff, {**form_data(request.form), "role": StaffRole.CLERK},
                             actor=current_user, roles=(StaffRole.CLERK,))
    except service.CatalogueError as exc:
        s.rollback()
        for message in exc.errors.values():
            flash(message, "error")
    else:
        s.commit()
        flash(_("店员信息已保存"), "success")
    return redirect(url_for(".merchant_staff"))
