"""Member pages of the catalogue: the mall's home (categories, search, offers) and an offer's
page, plus the offer images. Open to visitors, who see only offers without an audience
restriction; members see what :func:`..eligibility.offer_clause` lets them, filtered in SQL."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, current_app, render_template, request, send_file, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.routing import BuildError

from unionhub import db
from unionhub.access.service import can
from unionhub.money import fmt
from unionhub.web import id_arg
from unionhub.web.pagination import paginate

from .. import eligibility
from ..models import BenefitsMallChannel, BenefitsMallOffer, OfferKind
from ..web import bp
from . import service
from .provider import tags
from .text import render_description

PER_PAGE = 12
LIST_FIELDS = ("store_ids", "audience_org", "audience_group", "remove_images")


# -- helpers shared by the catalogue's views ---------------------------------------------------


def endpoint_url(endpoint: str, **values: Any) -> str | None:
    """The URL of ``endpoint`` when some feature registered it, else None (features land one
    by one; a page links only to what exists)."""
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def form_data(form: MultiDict[str, str]) -> dict[str, Any]:
    """A posted form as a dict: one string per field, lists for the multi-valued fields."""
    out: dict[str, Any] = {k: form.get(k, "") for k in form}
    for key in LIST_FIELDS:
        out[key] = form.getlist(key)
    out.pop("csrf_token", None)
    return out


def uploads(field: str = "images") -> list[service.Upload]:
    """Uploaded files, each read up to one byte past the limit (enough to refuse it)."""
    out: list[service.Upload] = []
    for f in request.files.getlist(field):
        if f and f.filename:
            out.append(service.Upload(f.filename, f.read(service.MAX_IMAGE_BYTES + 1)))
    return out


def money_text(amount: Any) -> str:
    return f"¥{fmt(amount)}" if amount is not None else ""


def page_context() -> dict[str, Any]:
    """Labels every catalogue template uses."""
    return {"kind_labels": service.KIND_LABELS, "status_labels": service.OFFER_STATUS_LABELS,
            "merchant_status_labels": service.MERCHANT_STATUS_LABELS,
            "role_labels": service.STAFF_ROLE_LABELS, "periods": eligibility.PERIODS,
            "money": money_text, "offer_tags": tags}


# -- member pages ------------------------------------------------------------------------------


@bp.route("/")
def home() -> Any:
    s = db.session()
    on = service.today()
    viewer = service.viewer_of(s, current_user)
    cats = service.categories(s)
    category = request.args.get("category", "")
    if category not in {c.code for c in cats}:
        category = ""
    sort = request.args.get("sort", "new")
    if sort not in service.SORTS:
        sort = "new"
    kind = request.args.get("kind", "")
    if kind not in tuple(OfferKind):
        kind = ""
    page = paginate(service.visible_offers(viewer, on, category=category, kind=kind, sort=sort),
                    per_page=PER_PAGE)
    return render_template(
        "benefits_mall/catalogue/home.html", page=page, categories=cats, category=category,
        sort=sort, sorts=service.SORTS, kind=kind,
        channels_url=endpoint_url("benefits_mall.channels"),
        my_coupons_url=endpoint_url("benefits_mall.my_coupons") if viewer else None,
        search_url=endpoint_url("search.page"), **page_context())


def _channel(viewer: eligibility.Viewer | None, on: date) -> BenefitsMallChannel | None:
    """The ``?channel=`` the page was reached from, only when it is open to ``viewer``:
    otherwise it is ignored (its name is not shown, nor its id sent with the claim)."""
    from ..channels.service import open_channel

    channel_id = id_arg(request.args.get("channel"))
    return open_channel(db.session(), viewer, channel_id, on) if channel_id else None


def _action(offer: BenefitsMallOffer, channel: BenefitsMallChannel | None) -> str | None:
    """Where the member claims (coupons: a POST form) or books (services: a page)."""
    if offer.kind == OfferKind.SERVICE:
        extra = {"channel": channel.id} if channel else {}
        return endpoint_url("benefits_mall.booking_new", offer_id=offer.id, **extra)
    return endpoint_url("benefits_mall.coupon_claim", offer_id=offer.id)


@bp.route("/offers/<int:offer_id>")
def offer(offer_id: int) -> Any:
    s = db.session()
    on = service.today()
    viewer = service.viewer_of(s, current_user)
    item = service.viewable_offer(s, viewer, offer_id, on)
    if item is None:
        abort(404)
    channel = _channel(viewer, on)
    state, refusal, used = _eligibility(viewer, item, channel, on)
    html = render_template(
        "benefits_mall/catalogue/offer.html", offer=item, channel=channel, state=state,
        refusal=refusal, used=used, remaining=service.remaining(item),
        stores=service.offer_stores(s, item), limit_text=service.limit_text(item),
        description=render_description(item.description), action_url=_action(item, channel),
        login_url=url_for("auth.login", next=request.full_path.rstrip("?")),
        home_url=url_for(".home", category=item.category_code), **page_context())
    service.count_view(s, item.id)
    s.commit()
    return html


def _eligibility(viewer: eligibility.Viewer | None, item: BenefitsMallOffer,
                 channel: BenefitsMallChannel | None, on: date
                 ) -> tuple[str, str | None, int | None]:
    """(state, refusal, used): ``login`` for visitors, ``not_member`` for accounts that are
    no member, ``forbidden`` without the claim permission, ``refused`` with the reason,
    ``sold_out``, ``limit`` (a coupon whose per-member quota for this period is used up) or
    ``ok``. A service's quota counts per period of the *service date*, so this month's use
    says nothing about next month's: services are never gated on it — the booking form
    decides and explains per date."""
    if not current_user.is_authenticated:
        return "login", None, None
    if viewer is None:
        return "not_member", None, None
    s = db.session()
    refusal = eligibility.refusal(s, viewer, item, on, channel)
    if refusal:
        return "refused", refusal, None
    if not can(current_user, service.CLAIM):
        return "forbidden", None, None
    used = service.used_by(s, viewer.member_id, item, on)
    if service.remaining(item) == 0:
        return "sold_out", None, used
    if item.kind == OfferKind.COUPON and item.per_member_limit is not None \
            and used >= item.per_member_limit:
        return "limit", None, used
    return "ok", None, used


@bp.route("/images/<name>")
def offer_image(name: str) -> Any:
    """An offer image (random names: an image is reachable only through its offer's page)."""
    path = service.image_path(name)
    if path is None or not path.is_file():
        abort(404)
    ext = name.rsplit(".", 1)[1]
    resp = send_file(path, mimetype=service.IMAGE_TYPES[ext], max_age=86400)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp

