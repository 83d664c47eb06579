"""Coupon pages: claiming (a POST from the offer page), my coupons, one coupon with its QR,
the "我的券" profile panel, and the merchant staff's redemption page and today's list.

Every view ends its transaction itself: a refused claim or redemption is rolled back, a
successful one committed (see :mod:`.service`). Merchant pages filter by the signed-in
staff's ``merchant_id`` in SQL.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.routing import BuildError

from unionhub import db
from unionhub.access.service import require, scope_filter
from unionhub.db import utcnow
from unionhub.identity.models import Member
from unionhub.web.pagination import Page, paginate

from ..models import BenefitsMallCoupon, BenefitsMallStaff, BenefitsMallStore
from ..staff import current_staff, staff_required
from ..web import bp
from . import codes, service

CLAIM = "benefits_mall.offers.claim"
REPORTS = "benefits_mall.reports.view"


def _member() -> Member:
    member = current_user.member
    if member is None:
        abort(403)
    return member  # type: ignore[no-any-return]


def _staff() -> BenefitsMallStaff:
    staff = current_staff()
    if staff is None:  # staff_required() has checked already
        abort(403)
    return staff


#: Today's redemptions on the phone list, per page (the totals above it cover the whole day).
REDEMPTIONS_PER_PAGE = 50


def _int_or_none(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() else None


def _offer_url(offer_id: int, channel_id: int | None) -> str:
    """The offer page (the catalogue's ``benefits_mall.offer``), back into the channel when
    the claim came from one. Before the catalogue's routes are registered the URL is built
    from the claim URL, which sits under it by contract."""
    args: dict[str, Any] = {"channel": channel_id} if channel_id else {}
    try:
        return url_for(".offer", offer_id=offer_id, **args)
    except BuildError:
        base = url_for(".coupon_claim", offer_id=offer_id).rsplit("/claim", 1)[0]
        return f"{base}?channel={channel_id}" if channel_id else base


def _merchant_home() -> str | None:
    """The catalogue's merchant home, when that feature is installed."""
    try:
        return url_for(".merchant_home")
    except BuildError:
        return None


# -- members -----------------------------------------------------------------------------------


@bp.route("/offers/<int:offer_id>/claim", methods=["POST"])
@login_required
def coupon_claim(offer_id: int) -> Any:
    require(CLAIM)
    member = _member()
    raw_channel = request.form.get("channel_id", "").strip()
    channel_id = _int_or_none(raw_channel)
    if raw_channel and channel_id is None:
        flash(_("优惠通道编号无效"), "error")
        return redirect(_offer_url(offer_id, None))
    s = db.session()
    try:
        coupon = service.claim(s, member, offer_id, channel_id=channel_id,
                               account_id=current_user.id)
        s.commit()
    except service.CouponError as exc:
        s.rollback()
        flash(exc.reason, "error")
        return redirect(_offer_url(offer_id, channel_id))
    flash(_("领取成功！到店出示券码或二维码即可使用"), "success")
    return redirect(url_for(".coupon", coupon_id=coupon.id))


@bp.route("/my/coupons")
@login_required
def my_coupons() -> Any:
    member = _member()
    tab = request.args.get("tab", "usable")
    if tab not in service.TABS:
        tab = "usable"
    now = utcnow()
    page = paginate(service.member_coupons(member.id, tab, now))
    return render_template("benefits_mall/coupons/my.html", page=page, tab=tab,
                           tabs=service.TABS, now=now, labels=service.STATE_LABELS,
                           shown_state=service.shown_state, display=codes.display)


def _own_coupon(coupon_id: int) -> BenefitsMallCoupon:
    member = _member()
    coupon = db.session().scalar(select(BenefitsMallCoupon).where(
        BenefitsMallCoupon.id == coupon_id, BenefitsMallCoupon.member_id == member.id))
    if coupon is None:
        abort(404)
    return coupon


@bp.route("/my/coupons/<int:coupon_id>")
@login_required
def coupon(coupon_id: int) -> Any:
    c = _own_coupon(coupon_id)
    s = db.session()
    now = utcnow()
    state = service.shown_state(c, now)
    store = s.get(BenefitsMallStore, c.redeemed_store_id) if c.redeemed_store_id else None
    return render_template(
        "benefits_mall/coupons/coupon.html", coupon=c, state=state,
        labels=service.STATE_LABELS, code=codes.display(c.code),
        qr=codes.qr_svg(c.code, scale=10, title=_("券码二维码")) if state == "issued" else None,
        stores=service.usable_stores(s, c.offer), redeemed_store=store,
        events=service.events_of(s, c.id), event_labels=service.EVENT_LABELS)


@bp.route("/my/coupons/<int:coupon_id>/cancel", methods=["POST"])
@login_required
def coupon_cancel(coupon_id: int) -> Any:
    member = _member()
    s = db.session()
    try:
        service.cancel(s, coupon_id, member)
        s.commit()
    except service.CouponError as exc:
        s.rollback()
        flash(exc.reason, "error")
        return redirect(url_for(".coupon", coupon_id=coupon_id))
    flash(_("已退还该券，名额已释放"), "success")
    return redirect(url_for(".my_coupons"))


def coupons_panel(member: Any = None, account: Any = None, **_kw: Any) -> Markup | None:
    """我的券 on "我的": how many coupons are usable and which expires next."""
    if member is None:
        return None
    summary = service.panel_summary(db.session(), member.id, utcnow())
    return Markup(render_template("benefits_mall/coupons/_panel.html", summary=summary,
                                  display=codes.display))


# -- merchant staff ----------------------------------------------------------------------------


def _redeem_page(result: service.RedeemResult | None, store_id: int | None,
                 code: str = "", status: int = 200) -> Any:
    staff = _staff()
    stores = service.staff_stores(db.session(), staff)
    selected = store_id or staff.store_id or (stores[0].id if stores else None)
    return render_template(
        "benefits_mall/coupons/redeem.html", result=result, stores=stores, selected=selected,
        code=code, key=str(uuid.uuid4()), undo_key=str(uuid.uuid4()), now=utcnow(),
        merchant=staff.merchant, home_url=_merchant_home()), status


@bp.route("/merchant/redeem", methods=["GET", "POST"])
@staff_required()
def redeem() -> Any:
    if request.method == "GET":
        return _redeem_page(None, _int_or_none(request.args.get("store_id")))
    staff = _staff()
    store_id = _int_or_none(request.form.get("store_id"))
    code = request.form.get("code", "")
    key = request.form.get("idempotency_key", "").strip()
    if not key:
        result = service.RedeemResult.refused(_("页面已过期，请刷新后重新核销"))
    else:
        s = db.session()
        result = service.redeem(s, code, staff=staff, store_id=store_id, idempotency_key=key)
        if result.ok:
            s.commit()
        else:
            s.rollback()
    return _redeem_page(result, store_id, "" if result.ok else code,
                        200 if result.ok else 422)


@bp.route("/merchant/redeem/<int:coupon_id>/undo", methods=["POST"])
@staff_required()
def redeem_undo(coupon_id: int) -> Any:
    staff = _staff()
    key = request.form.get("idempotency_key", "").strip()
    if not key:
        result = service.RedeemResult.refused(_("页面已过期，请刷新后再试"),
                                              kind="undone")
    else:
        s = db.session()
        result = service.undo(s, coupon_id, staff=staff, idempotency_key=key)
        if result.ok:
            s.commit()
        else:
            s.rollback()
    if request.form.get("back") == "list":
        flash(_("已撤销核销") if result.ok else result.reason,
              "success" if result.ok else "error")
        return redirect(url_for(".merchant_redemptions"))
    return _redeem_page(result, _int_or_none(request.form.get("store_id")),
                        status=200 if result.ok else 422)


@bp.route("/merchant/redemptions")
@staff_required()
def merchant_redemptions() -> Any:
    staff = _staff()
    now = utcnow()
    day = service.local_date(now)
    s = db.session()
    redeemed, undone, amount = service.day_totals(s, staff.merchant_id, day)
    number = max(1, _int_or_none(request.args.get("page")) or 1)
    rows = service.redemptions_on(s, staff.merchant_id, day, now, limit=REDEMPTIONS_PER_PAGE,
                                  offset=(number - 1) * REDEMPTIONS_PER_PAGE)
    page = Page(rows, number, REDEMPTIONS_PER_PAGE, redeemed + undone)
    return render_template("benefits_mall/coupons/redemptions.html", rows=rows, day=day,
                           redeemed=redeemed, undone=undone, amount=amount, page=page,
                           merchant=staff.merchant, keys=[str(uuid.uuid4()) for _r in rows],
                           labels=service.EVENT_LABELS, home_url=_merchant_home())


# -- officers ----------------------------------------------------------------------------------


@bp.route("/admin/coupons")
@login_required
def admin_coupons() -> Any:
    """Look up one coupon by its code (a member's or a merchant's query) and see its events;
    only coupons of members in the officer's orgs (scope filter in SQL)."""
    require(REPORTS)
    raw = request.args.get("code", "").strip()
    coupon = events = None
    error = ""
    if raw:
        try:
            normalized = codes.normalize(raw)
        except codes.CodeError as exc:
            error = str(exc)
        else:
            s = db.session()
            coupon = s.scalar(select(BenefitsMallCoupon).where(
                BenefitsMallCoupon.code == normalized,
                scope_filter(current_user, REPORTS, BenefitsMallCoupon.org_path)))
            if coupon is None:
                error = _("没有找到这张券，或它不在您管理的范围内")
            else:
                events = service.events_of(s, coupon.id)
    return render_template("benefits_mall/coupons/admin.html", raw=raw, coupon=coupon,
                           events=events, error=error, labels=service.STATE_LABELS,
                           event_labels=service.EVENT_LABELS, display=codes.display,
                           now=utcnow(), shown_state=service.shown_state)
