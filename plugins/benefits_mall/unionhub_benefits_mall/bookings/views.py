"""Bookings pages: the member books a service and sees and cancels their bookings; the
merchant's staff work through their bookings (pending first, with the time left). Staff pages
filter every query by the staff's merchant in SQL."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import case, select
from werkzeug.routing import BuildError

from unionhub import db
from unionhub.access.service import require
from unionhub.db import utcnow
from unionhub.identity.models import Member
from unionhub.web.pagination import paginate

from ..eligibility import Viewer, refusal
from ..models import (
    BenefitsMallBooking,
    BenefitsMallChannel,
    BenefitsMallStore,
    StaffRole,
)
from ..staff import current_staff, staff_required
from ..web import bp
from . import service

CLAIM = "benefits_mall.offers.claim"
B = BenefitsMallBooking
#: The merchant page's tabs: key → (label, states)
TABS: dict[str, tuple[str, tuple[str, ...]]] = {
    "open": ("待处理", ("pending", "confirmed")),
    "pending": ("待确认", ("pending",)),
    "confirmed": ("已确认", ("confirmed",)),
    "completed": ("已完成", ("completed",)),
    "closed": ("已取消/失效", ("cancelled", "expired")),
}


def link(endpoint: str, **values: Any) -> str | None:
    """A link to another feature's page, or None while that feature is not installed."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _member() -> Any:
    member = current_user.member
    if member is None:
        abort(404)
    return member


def _parse_date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


def _parse_int(raw: str) -> int | None:
    text = raw.strip()
    return int(text) if text.isdigit() else None


# -- member -----------------------------------------------------------------------------------


def _channel_id(raw: str) -> tuple[int | None, bool]:
    """(channel id, whether one was asked for): ``?channel=`` on the offer page's link, a
    hidden ``channel_id`` on the form. Something given that is no id counts as asked for a
    channel that does not exist (the service refuses it), never as "no channel"."""
    text = raw.strip()
    if not text:
        return None, False
    return (int(text) if text.isdigit() and len(text) <= 9 else 0), True


@bp.route("/offers/<int:offer_id>/book", methods=["GET", "POST"], endpoint="booking_new")
@login_required
def booking_new(offer_id: int) -> Any:
    require(CLAIM)
    member = _member()
    s = db.session()
    today = service.beijing_today()
    viewer = Viewer.of(s, member)
    offer = service.bookable_offer(s, viewer, offer_id, today)
    if offer is None:
        abort(404)  # not live, not a service, or targeted at others: as on the offer page
    raw_channel = (request.form.get("channel_id", "") if request.method == "POST"
                   else request.args.get("channel", ""))
    channel_id, via_channel = _channel_id(raw_channel)
    channel = s.get(BenefitsMallChannel, channel_id) if channel_id else None

    def why_not() -> str | None:
        if via_channel and channel is None:
            return "没有这个优惠通道"
        return refusal(s, viewer, offer, today, channel)

    why = why_not()
    # The contact phone is typed by the member: never filled in from the registered mobile.
    values = {"contact_phone": "", "people": "1", "service_date": ""}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form = FlaskForm()
        values = {k: request.form.get(k, "") for k in
                  ("service_date", "store_id", "people", "contact_phone", "note")}
        if not form.validate_on_submit():
            errors["form"] = _("页面已过期，请重新提交")
            status = 400
        else:
            try:
                booking = service.book(
                    s, member, offer.id, service_date=_parse_date(values["service_date"]),
                    store_id=_parse_int(values["store_id"]),
                    people=_parse_int(values["people"]),
                    contact_phone=values["contact_phone"], note=values["note"],
                    channel_id=channel_id if via_channel else None, today=today)
            except service.BookingRefused as exc:
                s.rollback()
                errors[exc.field or "form"] = _(exc.reason)
                status = 422
            else:
                s.commit()
                flash(_("预约已提交，编号 %(number)s；商户将在 %(minutes)s 分钟内确认，"
                        "未确认的预约会自动取消", number=booking.number,
                        minutes=offer.booking_hold_minutes), "success")
                return redirect(url_for(".my_bookings"))
            offer = service.bookable_offer(s, viewer, offer_id, today)
            if offer is None:
                abort(404)
            channel = s.get(BenefitsMallChannel, channel_id) if channel_id else None
            why = why_not()
    offer_url = link("benefits_mall.offer", offer_id=offer.id,
                     **({"channel": channel.id} if channel else {}))
    return render_template(
        "benefits_mall/bookings/new.html", form=FlaskForm(), offer=offer, why=why,
        channel=channel, stores=service.stores_for(s, offer), values=values, errors=errors,
        today=today, offer_url=offer_url), status


@bp.route("/my/bookings", endpoint="my_bookings")
@login_required
def my_bookings() -> Any:
    member = _member()
    page = paginate(service.member_bookings(member.id))
    s = db.session()
    store_ids = {b.store_id for b in page.items if b.store_id}
    stores = {st.id: st for st in s.scalars(
        select(BenefitsMallStore).where(BenefitsMallStore.id.in_(store_ids)))}
    return render_template("benefits_mall/bookings/my.html", page=page, stores=stores,
                           labels=service.STATE_LABELS, today=service.beijing_today(),
                           now=utcnow(), form=FlaskForm())


@bp.route("/my/bookings/<int:booking_id>/cancel", methods=["POST"],
          endpoint="my_booking_cancel")
@login_required
def my_booking_cancel(booking_id: int) -> Any:
    member = _member()
    if not FlaskForm().validate_on_submit():
        abort(400)
    s = db.session()
    try:
        booking = service.cancel(s, booking_id, by_member=member,
                                 reason=request.form.get("reason", ""),
                                 expected_state=request.form.get("state") or None)
    except service.BookingError as exc:
        s.rollback()
        if exc.not_found:
            abort(404)
        flash(exc.message, "error")
    else:
        s.commit()
        flash(_("预约 %(number)s 已取消", number=booking.number), "success")
    return redirect(url_for(".my_bookings"))


# -- merchant staff ---------------------------------------------------------------------------


@bp.route("/merchant/bookings", endpoint="merchant_bookings")
@staff_required()
def merchant_bookings() -> Any:
    staff = current_staff()
    assert staff is not None
    tab = request.args.get("tab", "open")
    if tab not in TABS:
        tab = "open"
    pending_first = case((B.state == "pending", 0), (B.state == "confirmed", 1), else_=2)
    stmt = (select(B, Member.name, BenefitsMallStore.name)
            .join(Member, Member.id == B.member_id)
            .outerjoin(BenefitsMallStore, BenefitsMallStore.id == B.store_id)
            .where(B.merchant_id == staff.merchant_id, B.state.in_(TABS[tab][1])))
    if tab in ("completed", "closed"):
        stmt = stmt.order_by(B.decided_at.desc(), B.id.desc())
    else:
        stmt = stmt.order_by(pending_first, B.hold_until, B.service_date, B.id)
    page = paginate(stmt, scalars=False)
    now = utcnow()
    # Clerks see the member's contact phone masked and cannot call it from the page;
    # managers see it masked too, behind a tap-to-call link carrying the full number.
    return render_template("benefits_mall/bookings/merchant.html", page=page, tab=tab,
                           tabs=TABS, labels=service.STATE_LABELS, now=now,
                           can_call=staff.role == StaffRole.MANAGER,
                           mask_phone=service.mask_phone,
                           minutes_left=lambda b: max(0, int(
                               (b.hold_until - now).total_seconds() // 60)),
                           today=service.beijing_today(), form=FlaskForm(),
                           home_url=link("benefits_mall.merchant_home"))


def _staff_action(booking_id: int, action: str) -> Any:
    staff = current_staff()
    assert staff is not None
    if not FlaskForm().validate_on_submit():
        abort(400)
    s = db.session()
    try:
        if action == "confirm":
            booking = service.confirm(s, booking_id, staff)
            message = _("已确认预约 %(number)s，已通知会员", number=booking.number)
        elif action == "complete":
            booking = service.complete(s, booking_id, staff)
            message = _("预约 %(number)s 已完成", number=booking.number)
        else:
            booking = service.cancel(s, booking_id, by_staff=staff,
                                     reason=request.form.get("reason", ""),
                                     expected_state=request.form.get("state") or None)
            message = _("已取消预约 %(number)s，已通知会员", number=booking.number)
    except service.BookingError as exc:
        s.rollback()
        if exc.not_found:
            abort(404)
        flash(exc.message, "error")
    else:
        s.commit()
        flash(message, "success")
    back: dict[str, Any] = {"tab": request.args.get("tab", "open")}
    page = _parse_int(request.args.get("page", ""))
    if page and page > 1:
        back["page"] = page
    return redirect(url_for(".merchant_bookings", **back))


@bp.route("/merchant/bookings/<int:booking_id>/confirm", methods=["POST"],
          endpoint="merchant_booking_confirm")
@staff_required()
def merchant_booking_confirm(booking_id: int) -> Any:
    return _staff_action(booking_id, "confirm")


@bp.route("/merchant/bookings/<int:booking_id>/complete", methods=["POST"],
          endpoint="merchant_booking_complete")
@staff_required()
def merchant_booking_complete(booking_id: int) -> Any:
    return _staff_action(booking_id, "complete")


@bp.route("/merchant/bookings/<int:booking_id>/cancel", methods=["POST"],
          endpoint="merchant_booking_cancel")
@staff_required()
def merchant_booking_cancel(booking_id: int) -> Any:
    return _staff_action(booking_id, "cancel")
