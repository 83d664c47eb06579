"""Campaign pages: the list (with the message templates), compose and edit, the campaign
page with its progress, sending and deleting a draft.

The compose form works without JavaScript: "切换" re-renders the value list for the chosen
audience source, "套用模板" fills the text from a template, "预览人数" validates and shows
the head count, and only then is "发送" offered. A small inline script does the first two
on change. The form carries a one-time key, so a double-submitted "发送" finds its campaign
again instead of creating a second one; sending itself is guarded by the campaign's state.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from unionhub import db
from unionhub.i18n import _
from unionhub.identity.models import Account
from unionhub.notify.models import OUTBOX_STATUS_LABELS
from unionhub.orgs.models import Org
from unionhub.web import id_arg
from unionhub.web.pagination import paginate

from ..web import CAMPAIGNS, bp, require
from . import service
from .models import CAMPAIGN_STATE_LABELS, CampaignState, OaCampaign
from .notices import CHANNELS
from .service import CHANNEL_LABELS, CampaignError

FORM_FIELDS = ("title", "body", "sms", "url", "audience_key", "audience_value")
TEMPLATE_FIELDS = ("name", "title", "body", "sms")
#: The compose form's one-time key as this page makes it (``uuid4().hex``); anything else
#: posted is replaced by a fresh key (the column holds 64 characters).
FORM_KEY = re.compile(r"[0-9a-f]{32}")


def _campaign(account: Account, campaign_id: int) -> OaCampaign:
    campaign = service.get_campaign(db.session(), account, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


# --- the list and the templates ------------------------------------------------------------


def _index(account: Account, tpl_values: dict[str, Any] | None = None,
           tpl_errors: dict[str, str] | None = None, status: int = 200) -> Any:
    s = db.session()
    page = paginate(select(OaCampaign).where(service.visible(account))
                    .order_by(OaCampaign.id.desc()))
    service.settle(s, page.items)
    s.commit()
    org_ids = {c.org_id for c in page.items}
    orgs = dict(s.execute(select(Org.id, Org.name).where(Org.id.in_(org_ids))).all()) \
        if org_ids else {}
    labels = {c.id: service.audience_label(s, c) for c in page.items}
    return render_template(
        "oa/campaigns/index.html", active_tab="campaigns", page=page, orgs=orgs, labels=labels,
        state_labels=CAMPAIGN_STATE_LABELS, channel_labels=CHANNEL_LABELS,
        templates=service.templates_for(s, account),
        can_global=service.can_manage_global(s, account),
        tpl_values=tpl_values or {}, tpl_errors=tpl_errors or {}), status


@bp.route("/campaigns")
@login_required
def campaigns() -> Any:
    return _index(require(CAMPAIGNS))


@bp.route("/campaigns/templates", methods=["POST"])
@login_required
def campaign_template_new() -> Any:
    account = require(CAMPAIGNS)
    s = db.session()
    values = {k: request.form.get(k, "") for k in TEMPLATE_FIELDS}
    shared = request.form.get("for_all") == "1"
    values["for_all"] = "1" if shared else ""
    if shared and not service.can_manage_global(s, account):
        abort(403)
    org = None if shared else service.officer_org(s, account)
    try:
        row = service.create_template(s, name=values["name"], title=values["title"],
                                      body=values["body"], sms=values["sms"],
                                      by_id=account.id, org=org)
    except CampaignError as exc:
        s.rollback()
        return _index(account, values, exc.errors, 422)
    s.commit()
    flash(_("已添加模板“%(name)s”", name=row.name), "success")
    return redirect(url_for("oa.campaigns") + "#templates")


@bp.route("/campaigns/templates/<int:template_id>/delete", methods=["POST"])
@login_required
def campaign_template_delete(template_id: int) -> Any:
    account = require(CAMPAIGNS)
    s = db.session()
    try:
        service.delete_template(s, account, template_id)
    except CampaignError as exc:
        s.rollback()
        flash(str(exc), "error")
        return redirect(url_for("oa.campaigns") + "#templates")
    s.commit()
    flash(_("已删除模板"), "success")
    return redirect(url_for("oa.campaigns") + "#templates")


# --- compose -------------------------------------------------------------------------------


def _values(campaign: OaCampaign | None) -> dict[str, Any]:
    if request.method == "POST":
        values: dict[str, Any] = {k: request.form.get(k, "") for k in FORM_FIELDS}
        values["channels"] = request.form.getlist("channels")
        values["template_id"] = request.form.get("template_id", "")
        return values
    if campaign is not None:
        return {"title": campaign.title, "body": campaign.body, "sms": campaign.sms,
                "url": campaign.url, "audience_key": campaign.audience_key,
                "audience_value": campaign.audience_value,
                "channels": list(campaign.channels), "template_id": ""}
    return {"title": "", "body": "", "sms": "", "url": "",
            "audience_key": request.args.get("audience_key", ""),
            "audience_value": request.args.get("audience_value", ""),
            "channels": ["wechat"], "template_id": ""}


def _form(account: Account, campaign: OaCampaign | None, values: dict[str, Any],
          form_key: str, *, errors: dict[str, str] | None = None,
          reach: dict[str, int] | None = None, status: int = 200) -> Any:
    s = db.session()
    sources = service.source_options()
    keys = [k for k, _label in sources]
    if values.get("audience_key") not in keys:
        values["audience_key"] = keys[0] if keys else ""
    org_path = campaign.org_path if campaign is not None else None
    try:
        value_choices = service.choices(s, account, values["audience_key"], org_path) \
            if values["audience_key"] else []
    except CampaignError:
        value_choices = []
    return render_template(
        "oa/campaigns/form.html", active_tab="campaigns", campaign=campaign, values=values,
        form_key=form_key, errors=errors or {}, reach=reach, sources=sources,
        value_choices=value_choices, templates=service.templates_for(s, account),
        channels=[(c, CHANNEL_LABELS[c]) for c in CHANNELS]), status


def _validate(account: Account, campaign: OaCampaign | None,
              values: dict[str, Any]) -> service.CampaignInput:
    return service.validate(db.session(), account, title=values["title"], body=values["body"],
                            sms=values["sms"], url=values["url"],
                            audience_key=values["audience_key"],
                            audience_value=values["audience_value"],
                            channels=values["channels"],
                            org_path=campaign.org_path if campaign is not None else None)


def _form_key() -> str:
    """The posted one-time key when it is one this page made, else a new one."""
    posted = request.form.get("form_key", "") if request.method == "POST" else ""
    return posted if FORM_KEY.fullmatch(posted) else uuid.uuid4().hex


def _already(campaign: OaCampaign) -> Any:
    flash(_("该通知已发送，未重复发送"), "info")
    return redirect(url_for("oa.campaign_detail", campaign_id=campaign.id))


def _compose(account: Account, campaign: OaCampaign | None) -> Any:
    values = _values(campaign)
    form_key = _form_key()
    if request.method == "GET":
        return _form(account, campaign, values, form_key)
    action = request.form.get("action", "preview")
    s = db.session()
    if action == "source":
        values["audience_value"] = ""
        return _form(account, campaign, values, form_key)
    if action == "template":
        template_id = id_arg(str(values.get("template_id") or ""))
        tpl = service.get_template(s, account, template_id) if template_id else None
        if tpl is None:
            return _form(account, campaign, values, form_key,
                         errors={"template_id": _("请选择要套用的模板")}, status=422)
        values.update(title=tpl.title, body=tpl.body, sms=tpl.sms)
        return _form(account, campaign, values, form_key)
    if action not in ("preview", "save", "send"):
        abort(400)
    try:
        data = _validate(account, campaign, values)
    except CampaignError as exc:
        return _form(account, campaign, values, form_key, errors=exc.errors, status=422)
    if action == "preview":
        reach = service.reach(s, account, data.audience_key, data.audience_value,
                               campaign.org_path if campaign is not None else None)
        return _form(account, campaign, values, form_key, reach=reach)
    sent = False
    target = campaign
    if target is None:
        target = service.by_form_key(s, form_key)
        if target is not None and service.get_campaign(s, account, target.id) is None:
            abort(404)
    if target is not None and target.state != CampaignState.DRAFT:
        return _already(target)
    try:
        if target is None:
            target = service.create_campaign(s, account, data, form_key=form_key)
        else:
            service.update_draft(s, target, data)
        if action == "send":
            sent = service.send(s, account, target)
    except IntegrityError:  # the same form submitted twice at once: the other one won
        s.rollback()
        other = service.by_form_key(s, form_key)
        if other is None:
            raise
        return _already(other)
    except CampaignError as exc:
        s.rollback()
        return _form(account, campaign, values, form_key, errors=exc.errors, status=422)
    campaign_id = target.id
    if action == "save":
        s.commit()
        flash(_("已保存草稿"), "success")
    elif not sent:
        s.rollback()
        return _already(target)
    else:
        recipients = target.recipients
        s.commit()
        flash(_("已提交发送，共 %(n)s 名会员", n=recipients), "success")
    return redirect(url_for("oa.campaign_detail", campaign_id=campaign_id))


@bp.route("/campaigns/new", methods=["GET", "POST"])
@login_required
def campaign_new() -> Any:
    return _compose(require(CAMPAIGNS), None)


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@login_required
def campaign_edit(campaign_id: int) -> Any:
    account = require(CAMPAIGNS)
    campaign = _campaign(account, campaign_id)
    if campaign.state != CampaignState.DRAFT:
        return _already(campaign)
    return _compose(account, campaign)


# --- one campaign --------------------------------------------------------------------------


@bp.route("/campaigns/<int:campaign_id>")
@login_required
def campaign_detail(campaign_id: int) -> Any:
    account = require(CAMPAIGNS)
    s = db.session()
    campaign = _campaign(account, campaign_id)
    service.settle(s, [campaign])
    s.commit()
    reach, reach_error = None, None
    if campaign.state == CampaignState.DRAFT:
        try:
            reach = service.reach(s, account, campaign.audience_key, campaign.audience_value,
                                  campaign.org_path)
        except CampaignError as exc:
            reach_error = str(exc)
    org = s.get(Org, campaign.org_id)
    sender = s.get(Account, campaign.sent_by or campaign.created_by) \
        if (campaign.sent_by or campaign.created_by) else None
    return render_template(
        "oa/campaigns/detail.html", active_tab="campaigns", campaign=campaign, org=org,
        audience_label=service.audience_label(s, campaign),
        sender=sender, progress=service.progress(s, campaign), reach=reach,
        reach_error=reach_error, state_labels=CAMPAIGN_STATE_LABELS,
        channel_labels=CHANNEL_LABELS, status_labels=OUTBOX_STATUS_LABELS)


@bp.route("/campaigns/<int:campaign_id>/progress.json")
@login_required
def campaign_progress(campaign_id: int) -> Any:
    account = require(CAMPAIGNS)
    s = db.session()
    campaign = _campaign(account, campaign_id)
    service.settle(s, [campaign])
    s.commit()
    data = service.progress(s, campaign)
    data["state"] = campaign.state
    for q in data["quota"]:
        q["stopped_until"] = q["stopped_until"].isoformat() if q["stopped_until"] else None
    return jsonify(data)


@bp.route("/campaigns/<int:campaign_id>/send", methods=["POST"])
@login_required
def campaign_send(campaign_id: int) -> Any:
    account = require(CAMPAIGNS)
    s = db.session()
    campaign = _campaign(account, campaign_id)
    try:
        sent = service.send(s, account, campaign)
    except CampaignError as exc:
        s.rollback()
        flash(str(exc), "error")
        return redirect(url_for("oa.campaign_detail", campaign_id=campaign_id))
    if not sent:
        s.rollback()
        return _already(campaign)
    recipients = campaign.recipients
    s.commit()
    flash(_("已提交发送，共 %(n)s 名会员", n=recipients), "success")
    return redirect(url_for("oa.campaign_detail", campaign_id=campaign_id))


@bp.route("/campaigns/<int:campaign_id>/delete", methods=["POST"])
@login_required
def campaign_delete(campaign_id: int) -> Any:
    account = require(CAMPAIGNS)
    s = db.session()
    campaign = _campaign(account, campaign_id)
    try:
        service.delete_draft(s, campaign)
    except CampaignError as exc:
        s.rollback()
        flash(str(exc), "error")
        return redirect(url_for("oa.campaign_detail", campaign_id=campaign_id))
    s.commit()
    flash(_("已删除草稿"), "success")
    return redirect(url_for("oa.campaigns"))
