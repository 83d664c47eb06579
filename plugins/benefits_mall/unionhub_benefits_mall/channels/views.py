"""Discount-channel pages: members see the channels open to them and a channel's offers;
officers list (scoped in SQL), create and edit channels in their subtree and bundle approved
offers. A channel outside the officer's scope, or outside the member's audience, is a 404."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from unionhub import db
from unionhub.access.service import require
from unionhub.identity.models import Member
from unionhub.orgs.models import Org
from unionhub.web.pagination import paginate

from ..eligibility import PERIODS, Viewer
from ..models import BenefitsMallChannel, BenefitsMallOffer, OfferKind, OfferStatus
from ..web import bp
from . import audience, service

MANAGE = service.MANAGE
KIND_LABELS = {OfferKind.COUPON: "福利券", OfferKind.SERVICE: "专属服务"}
OFFER_STATUS_LABELS = {OfferStatus.PROPOSED: "待审核", OfferStatus.APPROVED: "已上架",
                       OfferStatus.REJECTED: "未通过", OfferStatus.OFFLINE: "已下架"}


def offer_url(offer_id: int, channel_id: int) -> str:
    """The member's offer page reached from a channel (``?channel=``): the catalogue's
    ``benefits_mall.offer`` when it is registered, else the same URL built by hand."""
    if "benefits_mall.offer" in current_app.view_functions:
        return url_for("benefits_mall.offer", offer_id=offer_id, channel=channel_id)
    base = url_for("benefits_mall.channels").rsplit("/channels", 1)[0]
    return f"{base}/offers/{offer_id}?channel={channel_id}"


def _member() -> Member:
    member = current_user.member
    if member is None:
        abort(404)
    return member


# -- member ------------------------------------------------------------------------------------


@bp.route("/channels")
@login_required
def channels() -> Any:
    s = db.session()
    viewer = Viewer.of(s, _member())
    on = service.today()
    page = paginate(service.open_channels(viewer, on))
    ids = [c.id for c in page.items]
    orgs = dict(s.execute(select(Org.id, Org.name).where(
        Org.id.in_({c.org_id for c in page.items}))).all()) if ids else {}
    return render_template(
        "benefits_mall/channels/member_list.html", page=page, orgs=orgs,
        counts=service.open_offer_counts(s, viewer, ids, on),
        left=service.remaining(s, viewer.member_id, page.items, on),
        audiences=audience.describe_many(s, "channel", ids), periods=PERIODS)


@bp.route("/channels/<int:channel_id>")
@login_required
def channel(channel_id: int) -> Any:
    s = db.session()
    viewer = Viewer.of(s, _member())
    on = service.today()
    found = service.open_channel(s, viewer, channel_id, on)
    if found is None:
        abort(404)
    page = paginate(service.open_offers(found.id, viewer, on))
    return render_template(
        "benefits_mall/channels/member_channel.html", channel=found, page=page,
        org=s.get(Org, found.org_id), left=service.remaining(s, viewer.member_id, [found], on)[
            found.id], audience_text=audience.describe(s, "channel", found.id), periods=PERIODS,
        kinds=KIND_LABELS, offer_url=offer_url)


# -- officers ----------------------------------------------------------------------------------


def _scoped_or_404(channel_id: int) -> BenefitsMallChannel:
    found = service.scoped_channel(db.session(), current_user, channel_id)
    if found is None:
        abort(404)
    return found


@bp.route("/admin/channels")
@login_required
def admin_channels() -> Any:
    require(MANAGE)
    s = db.session()
    q = request.args.get("q", "").strip()[:50]
    stmt = service.scoped_channels(current_user)
    if q:
        stmt = stmt.where(BenefitsMallChannel.name.contains(q, autoescape=True))
    page = paginate(stmt.order_by(BenefitsMallChannel.valid_until.desc(),
                                  BenefitsMallChannel.id.desc()))
    ids = [c.id for c in page.items]
    orgs = dict(s.execute(select(Org.id, Org.name).where(
        Org.id.in_({c.org_id for c in page.items}))).all()) if ids else {}
    return render_template(
        "benefits_mall/channels/admin_list.html", page=page, q=q, orgs=orgs,
        counts=service.offer_counts(s, ids), audiences=audience.describe_many(s, "channel", ids),
        periods=PERIODS, today=service.today())


def _form_page(channel: BenefitsMallChannel | None, values: dict[str, Any],
               errors: dict[str, str], status: int = 200) -> Any:
    s = db.session()
    owner_extra: list[int] = []
    audience_extra: list[int] = []
    if channel is not None:
        owner_extra.append(channel.org_id)
        audience_extra = audience.load_audience(s, "channel", channel.id)[0]
    return render_template(
        "benefits_mall/channels/admin_form.html", channel=channel, values=values, errors=errors,
        form=FlaskForm(), orgs=audience.org_choices(s, current_user, extra_ids=audience_extra),
        owner_orgs=audience.org_choices(s, current_user, extra_ids=owner_extra),
        groups=audience.group_choices(s), periods=PERIODS), status


def _posted_values(form: MultiDict[str, str]) -> dict[str, Any]:
    """The posted form, shown back after an error (ids that are not numbers are dropped)."""
    values: dict[str, Any] = {k: form.get(k, "") for k in (
        "name", "description", "org_id", "valid_from", "valid_until", "total_quota",
        "per_member_quota", "per_member_period")}
    for flag in ("requires_active_member", "requires_jingka", "active"):
        values[flag] = bool(form.get(flag))
    values["org_ids"] = [int(v) for v in form.getlist(audience.ORG_FIELD) if v.isdigit()]
    values["group_ids"] = [int(v) for v in form.getlist(audience.GROUP_FIELD) if v.isdigit()]
    return values


def _save(channel: BenefitsMallChannel | None) -> Any:
    s = db.session()
    values = _posted_values(request.form)
    if not FlaskForm().validate_on_submit():
        return _form_page(channel, values, {"form": _("页面已过期，请重新提交")}, 400)
    try:
        data = service.parse(request.form)
        with s.begin_nested():
            if channel is None:
                saved = service.create(s, current_user, data)
            else:
                saved = service.edit(s, current_user, channel, data)
    except service.ChannelError as exc:
        s.rollback()
        return _form_page(channel, values, exc.errors, 422)
    s.commit()
    flash(_("优惠通道「%(name)s」已保存", name=saved.name), "success")
    if channel is None:
        return redirect(url_for(".admin_channel_offers", channel_id=saved.id))
    return redirect(url_for(".admin_channel_edit", channel_id=saved.id))


@bp.route("/admin/channels/new", methods=["GET", "POST"])
@login_required
def admin_channel_new() -> Any:
    require(MANAGE)
    if request.method == "POST":
        return _save(None)
    values = service.form_values(None)
    first = audience.org_choices(db.session(), current_user)
    if first:
        values["org_id"] = first[0].id
    return _form_page(None, values, {})


@bp.route("/admin/channels/<int:channel_id>", methods=["GET", "POST"])
@login_required
def admin_channel_edit(channel_id: int) -> Any:
    require(MANAGE)
    found = _scoped_or_404(channel_id)
    if request.method == "POST":
        return _save(found)
    org_ids, group_ids = audience.load_audience(db.session(), "channel", found.id)
    return _form_page(found, service.form_values(found, org_ids, group_ids), {})


def _query_arg(source: MultiDict[str, str]) -> str:
    return source.get("q", "").strip()[:50]


@bp.route("/admin/channels/<int:channel_id>/offers")
@login_required
def admin_channel_offers(channel_id: int) -> Any:
    """The offers bundled in the channel, a page at a time (the search for offers to add is
    :func:`admin_channel_offer_search`: one ``page`` parameter per page)."""
    require(MANAGE)
    found = _scoped_or_404(channel_id)
    q = _query_arg(request.args)
    if q:  # the search used to live here: keep such links working
        return redirect(url_for(".admin_channel_offer_search", channel_id=found.id, q=q))
    s = db.session()
    page = paginate(service.channel_offers(found.id))
    if not page.items and page.page > page.pages:
        # e.g. the last offer of the last page was just removed
        return redirect(url_for(".admin_channel_offers", channel_id=found.id, page=page.pages))
    return render_template(
        "benefits_mall/channels/admin_offers.html", channel=found, page=page,
        claims=service.claims_by_offer(s, found.id, [o.id for o in page.items]),
        kinds=KIND_LABELS, statuses=OFFER_STATUS_LABELS, today=service.today(), periods=PERIODS,
        audience_text=audience.describe(s, "channel", found.id),
        org=s.get(Org, found.org_id))


@bp.route("/admin/channels/<int:channel_id>/offers/add")
@login_required
def admin_channel_offer_search(channel_id: int) -> Any:
    """Approved, unexpired offers to add, found by title, a page at a time."""
    require(MANAGE)
    found = _scoped_or_404(channel_id)
    q = _query_arg(request.args)
    page = paginate(service.attachable_offers(found.id, q, service.today())) if q else None
    return render_template(
        "benefits_mall/channels/admin_offer_search.html", channel=found, page=page, q=q,
        kinds=KIND_LABELS)


def _offer_action(channel_id: int, attach: bool) -> Any:
    require(MANAGE)
    found = _scoped_or_404(channel_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    s = db.session()
    raw = request.form.get("offer_id", "")
    q = _query_arg(request.form)
    back = request.form.get("page", "")
    try:
        if not raw.isdigit():
            raise service.ChannelError({"offer_id": _("请选择优惠")})
        offer_id = int(raw)
        with s.begin_nested():
            offer: BenefitsMallOffer = (service.attach if attach else service.detach)(
                s, current_user, found, offer_id)
    except service.ChannelError as exc:
        s.rollback()
        for message in exc.errors.values():
            flash(message, "error")
    else:
        s.commit()
        flash(_("已将「%(title)s」加入通道", title=offer.title) if attach
              else _("已将「%(title)s」移出通道", title=offer.title), "success")
    if attach and q:
        return redirect(url_for(".admin_channel_offer_search", channel_id=found.id, q=q))
    return redirect(url_for(".admin_channel_offers", channel_id=found.id,
                            page=int(back) if back.isdigit() and 1 < int(back) < 10**6
                            else None))


@bp.route("/admin/channels/<int:channel_id>/offers/attach", methods=["POST"])
@login_required
def admin_channel_attach(channel_id: int) -> Any:
    return _offer_action(channel_id, attach=True)


@bp.route("/admin/channels/<int:channel_id>/offers/detach", methods=["POST"])
@login_required
def admin_channel_detach(channel_id: int) -> Any:
    return _offer_action(channel_id, attach=False)
