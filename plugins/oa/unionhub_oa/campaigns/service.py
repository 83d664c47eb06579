"""Campaigns: audiences narrowed to the campaign's org and the officer's scope, validation,
sending once, progress.

Everything writes in the caller's session and never commits (the views end the
transaction). Sending is guarded twice: the campaign's state moves ``draft`` → ``queued`` in
one conditional UPDATE (a double submit or two officers at once: only one statement changes
the row), and the core's batch key ``campaign-<id>`` makes the outbox once per member and
channel even if a send were repeated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, literal, or_, select, update
from sqlalchemy.orm import Session, aliased

from unionhub.access.models import RoleGrant
from unionhub.access.service import roles_with, scope_filter
from unionhub.audit import service as audit
from unionhub.contrib import AudienceSource
from unionhub.db import utcnow
from unionhub.i18n import _
from unionhub.identity.models import Account, Member, MemberStatus
from unionhub.notify import clock
from unionhub.notify.models import (
    Notification,
    NotifyBinding,
    NotifyOutbox,
    NotifyQuota,
    OutboxStatus,
)
from unionhub.orgs.models import Org

from .models import CampaignState, OaCampaign, OaMessageTemplate
from .notices import CHANNELS, TYPE_KEY

PERMISSION = "oa.campaigns.manage"
ORG_SOURCE = "oa.org"
RUN_SOURCE = "oa.run"
NAME_MAX, TITLE_MAX, BODY_MAX, SMS_MAX, URL_MAX = 100, 200, 5000, 300, 500
#: How many fall-back rows the campaign page lists (the counts cover all of them).
FALLBACK_ROWS = 50
OUTSTANDING = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.DEFERRED)
CHANNEL_LABELS = {"inbox": "站内消息", "wechat": "微信", "sms": "短信", "email": "电子邮件"}
_URL = re.compile(r"^(https?://[^\s]+|/[^\s]*)$")


class CampaignError(ValueError):
    """Bad input or a refused action: ``errors`` maps a form field to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("；".join(self.errors.values()))


@dataclass(frozen=True)
class CampaignInput:
    """A validated campaign form."""

    title: str
    body: str
    sms: str
    url: str
    audience_key: str
    audience_value: str
    audience_label: str
    channels: tuple[str, ...]


# --- scope ---------------------------------------------------------------------------------


def in_scope(account: Account, path_col: ColumnElement[str]) -> ColumnElement[bool]:
    """Rows of the subtrees where ``account`` may run campaigns."""
    return scope_filter(account, PERMISSION, path_col)


def above_scope(account: Account, path_col: ColumnElement[str]) -> ColumnElement[bool]:
    """True where ``path_col`` is an org at or above one where ``account`` holds the
    permission (an ancestor's templates are offered to it; its org choices are not)."""
    grant_org = aliased(Org)
    return exists(
        select(literal(1)).select_from(RoleGrant)
        .join(grant_org, grant_org.id == RoleGrant.org_id)
        .where(RoleGrant.account_id == account.id,
               RoleGrant.role.in_(roles_with(PERMISSION)),
               grant_org.path.like(path_col.concat("%"))))


def officer_org(session: Session, account: Account) -> Org | None:
    """The org a campaign of ``account`` belongs to: the highest where it holds the
    permission."""
    return session.scalar(
        select(Org).join(RoleGrant, RoleGrant.org_id == Org.id)
        .where(RoleGrant.account_id == account.id,
               RoleGrant.role.in_(roles_with(PERMISSION)))
        .order_by(Org.depth, Org.id).limit(1))


def can_manage_global(session: Session, account: Account) -> bool:
    """Templates for every org are managed by officers of a root org (the city federation)."""
    return bool(session.scalar(select(exists().where(
        Org.parent_id.is_(None), in_scope(account, Org.path)))))


# --- audiences -----------------------------------------------------------------------------


def sources() -> dict[str, AudienceSource]:
    """Every enabled plugin's audience sources by ``<plugin>.<key>``."""
    from unionhub.exchange import audience_sources

    return audience_sources()


def source_options() -> list[tuple[str, str]]:
    return [(key, src.label) for key, src in sources().items()]


def _source(key: str) -> AudienceSource:
    src = sources().get(key)
    if src is None:
        raise CampaignError({"audience_key": _("未知的发送对象类型：%(key)s", key=key)})
    return src


def within(org_path: str, path_col: ColumnElement[str]) -> ColumnElement[bool]:
    """True where ``path_col`` lies in the subtree of the org at ``org_path``."""
    return path_col.like(org_path + "%")


def campaign_org_path(session: Session, account: Account,
                      campaign: OaCampaign | None = None) -> str | None:
    """The org subtree a campaign addresses: its own org's, or for a new one the org it will
    belong to (:func:`officer_org`). None: ``account`` runs no campaigns anywhere."""
    if campaign is not None:
        return campaign.org_path
    org = officer_org(session, account)
    return org.path if org is not None else None


def choices(session: Session, account: Account, key: str,
            org_path: str | None = None) -> list[tuple[str, str]]:
    """The values an officer may pick for source ``key``. Org choices are the orgs of the
    officer's own subtree (never an org above it) within the campaign's org subtree
    (``org_path``; for a new campaign: the officer's campaign org)."""
    out = [(str(v), str(label)) for v, label in _source(key).choices(session)]
    if key == ORG_SOURCE:
        path = org_path if org_path is not None else campaign_org_path(session, account)
        if path is None:
            return []
        allowed = {str(i) for i in session.scalars(select(Org.id).where(
            in_scope(account, Org.path), within(path, Org.path)))}
        out = [c for c in out if c[0] in allowed]
    return out


def audience(session: Session, account: Account, key: str, value: str, org_path: str
             ) -> Select[Any]:
    """Source ``key``'s members for ``value``, narrowed in SQL to active members of the
    campaign's org subtree (``org_path``) that also lie in the subtrees where ``account``
    (the officer previewing or sending) may run campaigns: whoever presses 发送, a campaign
    reaches no one outside its own org."""
    members = _source(key).members(session, value)
    return (select(Member.id).join(Org, Org.id == Member.org_id)
            .where(Member.status == MemberStatus.ACTIVE, within(org_path, Org.path),
                   in_scope(account, Org.path), Member.id.in_(members)))


def preview_count(session: Session, account: Account, audience_key: str, value: str,
                  org_path: str | None = None) -> int:
    """How many members a campaign of the org at ``org_path`` (None: ``account``'s campaign
    org) to (``audience_key``, ``value``) would reach."""
    path = org_path if org_path is not None else campaign_org_path(session, account)
    if path is None:
        return 0
    aud = audience(session, account, audience_key, value, path).subquery()
    return int(session.scalar(select(func.count()).select_from(aud)) or 0)


def reach(session: Session, account: Account, audience_key: str, value: str,
          org_path: str | None = None) -> dict[str, int]:
    """The preview: the head count and how many of them have a WeChat binding, a mobile
    number and an e-mail address (``org_path`` as for :func:`preview_count`)."""
    path = org_path if org_path is not None else campaign_org_path(session, account)
    if path is None:
        return {"total": 0, "wechat": 0, "sms": 0, "email": 0}
    ids = select(audience(session, account, audience_key, value, path).subquery().c.id)

    def bound(channel: str) -> int:
        return int(session.scalar(select(func.count()).select_from(NotifyBinding).where(
            NotifyBinding.channel == channel, NotifyBinding.status == "active",
            NotifyBinding.member_id.in_(ids))) or 0)

    mobile = int(session.scalar(select(func.count()).select_from(Member).where(
        Member.id.in_(ids), Member.mobile.is_not(None), Member.mobile != "")) or 0)
    return {"total": preview_count(session, account, audience_key, value, path),
            "wechat": bound("wechat"), "sms": mobile, "email": bound("email")}


def audience_label(session: Session, campaign: OaCampaign) -> str:
    """The campaign's audience in the viewer's language: labels the plugin makes (a
    data-exchange run) are rebuilt from the stored key and value and translated; the others
    (org and program names) are the label stored when the campaign was saved."""
    if campaign.audience_key == RUN_SOURCE:
        from .audiences import run_value_label

        label = run_value_label(session, campaign.audience_value)
        if label:
            return label
    return campaign.audience_label


# --- validation and drafts -----------------------------------------------------------------


def _text(value: Any) -> str:
    return str(value or "").replace("\r\n", "\n").strip()


def _check_message(errors: dict[str, str], title: str, body: str, sms: str) -> None:
    """The message fields a campaign and a template share: a title, bounded texts."""
    if not title:
        errors["title"] = _("请填写通知标题")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("通知标题不能超过 %(n)s 个字", n=TITLE_MAX)
    if len(body) > BODY_MAX:
        errors["body"] = _("通知正文不能超过 %(n)s 个字", n=BODY_MAX)
    if len(sms) > SMS_MAX:
        errors["sms"] = _("短信内容不能超过 %(n)s 个字", n=SMS_MAX)


def validate(session: Session, account: Account, *, title: Any, body: Any, sms: Any, url: Any,
             audience_key: Any, audience_value: Any, channels: Iterable[Any],
             org_path: str | None = None) -> CampaignInput:
    """Check a campaign form; raises :class:`CampaignError` naming every bad field.
    ``org_path``: the edited draft's org (None: a new campaign of ``account``'s org)."""
    errors: dict[str, str] = {}
    title_, body_, sms_, url_ = _text(title), _text(body), _text(sms), _text(url)
    _check_message(errors, title_, body_, sms_)
    if url_ and (len(url_) > URL_MAX or not _URL.match(url_)):
        errors["url"] = _("链接须以 http://、https:// 或 / 开头，且不超过 %(n)s 个字符",
                          n=URL_MAX)
    chosen = [str(c) for c in channels if str(c).strip()]
    unknown = sorted(set(chosen) - set(CHANNELS))
    if unknown:
        errors["channels"] = _("未知的发送渠道：%(names)s", names="、".join(unknown))
    elif not chosen:
        errors["channels"] = _("请至少选择一个发送渠道（微信、短信或邮件）")
    key, value = _text(audience_key), _text(audience_value)
    label = ""
    if not key:
        errors["audience_key"] = _("请选择发送对象类型")
    elif key not in sources():
        errors["audience_key"] = _("未知的发送对象类型：%(key)s", key=key)
    elif not value:
        errors["audience_value"] = _("请选择发送对象")
    else:
        found = dict(choices(session, account, key, org_path)).get(value)
        if found is None:
            errors["audience_value"] = _("所选发送对象不存在或不在您的管辖范围内")
        else:
            label = found.strip()[:300]
    if errors:
        raise CampaignError(errors)
    ordered = tuple(c for c in CHANNELS if c in chosen)
    return CampaignInput(title_, body_, sms_, url_, key, value, label, ordered)


def _apply(campaign: OaCampaign, data: CampaignInput) -> None:
    campaign.title, campaign.body, campaign.sms, campaign.url = (
        data.title, data.body, data.sms, data.url)
    campaign.audience_key, campaign.audience_value = data.audience_key, data.audience_value
    campaign.audience_label = data.audience_label
    campaign.channels = list(data.channels)


def create_campaign(session: Session, account: Account, data: CampaignInput, *,
                    form_key: str | None = None) -> OaCampaign:
    """A draft campaign of ``account``'s org."""
    org = officer_org(session, account)
    if org is None:
        raise CampaignError({"audience_key": _("您没有可发送通知的组织")})
    campaign = OaCampaign(org_id=org.id, org_path=org.path, created_by=account.id,
                          form_key=form_key, state=CampaignState.DRAFT, recipients=0,
                          created_at=utcnow())
    _apply(campaign, data)
    session.add(campaign)
    session.flush()
    return campaign


def update_draft(session: Session, campaign: OaCampaign, data: CampaignInput) -> None:
    if campaign.state != CampaignState.DRAFT:
        raise CampaignError({"state": _("该通知已发送，不能再修改")})
    _apply(campaign, data)
    session.flush()


def delete_draft(session: Session, campaign: OaCampaign) -> None:
    if campaign.state != CampaignState.DRAFT:
        raise CampaignError({"state": _("该通知已发送，不能删除")})
    session.delete(campaign)
    session.flush()


def visible(account: Account) -> ColumnElement[bool]:
    """Campaigns of the subtrees where ``account`` may run campaigns."""
    return in_scope(account, OaCampaign.org_path)


def get_campaign(session: Session, account: Account, campaign_id: int) -> OaCampaign | None:
    return session.scalar(select(OaCampaign).where(OaCampaign.id == campaign_id,
                                                   visible(account)))


def by_form_key(session: Session, form_key: str) -> OaCampaign | None:
    return session.scalar(select(OaCampaign).where(OaCampaign.form_key == form_key))


# --- sending -------------------------------------------------------------------------------


def context(session: Session, campaign: OaCampaign, when: Any = None) -> dict[str, str]:
    """The notification batch's context (stored with the batch; see :mod:`.notices`)."""
    from unionhub.web.formatting import local_time

    org = session.get(Org, campaign.org_id)
    return {"title": campaign.title, "body": campaign.body, "sms": campaign.sms,
            "url": campaign.url, "org": org.name if org else "",
            "date": local_time(when or utcnow(), "%Y-%m-%d %H:%M")}


def send(session: Session, account: Account, campaign: OaCampaign) -> bool:
    """Queue ``campaign`` to its audience — narrowed to the campaign's own org subtree and
    to ``account``'s scope — on its channels. Returns False, adding nothing, when it was sent
    already."""
    from unionhub.notify import send as notify_send

    now = utcnow()
    moved = session.execute(
        update(OaCampaign)
        .where(OaCampaign.id == campaign.id, OaCampaign.state == CampaignState.DRAFT)
        .values(state=CampaignState.QUEUED, sent_at=now, sent_by=account.id)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(campaign)
    if moved != 1:
        return False
    if not campaign.channels:
        raise CampaignError({"channels": _("请至少选择一个发送渠道（微信、短信或邮件）")})
    members = audience(session, account, campaign.audience_key, campaign.audience_value,
                       campaign.org_path)
    batch = notify_send(session, TYPE_KEY, members, context(session, campaign, now),
                        f"campaign-{campaign.id}", created_by=account.id,
                        channels=list(campaign.channels))
    campaign.notify_batch_id = batch.id
    campaign.recipients = int(session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.batch_id == batch.id)) or 0)
    session.flush()
    settle(session, [campaign])
    audit.record("oa.campaign.send", target_type="oa_campaign", target_id=campaign.id,
                 org_path=campaign.org_path, actor=account, session=session,
                 details={"title": campaign.title, "audience": campaign.audience_key,
                          "value": campaign.audience_value, "label": campaign.audience_label,
                          "channels": list(campaign.channels),
                          "recipients": campaign.recipients, "batch_id": batch.id})
    return True


def settle(session: Session, campaigns: Sequence[OaCampaign]) -> None:
    """Queued campaigns with nothing left to deliver become ``sent`` (one query for all)."""
    queued = [c for c in campaigns if c.state == CampaignState.QUEUED]
    if not queued:
        return
    batch_ids = [c.notify_batch_id for c in queued if c.notify_batch_id is not None]
    busy = set(session.scalars(select(NotifyOutbox.batch_id).where(
        NotifyOutbox.batch_id.in_(batch_ids), NotifyOutbox.status.in_(OUTSTANDING),
    ).distinct())) if batch_ids else set()
    done = [c.id for c in queued if c.notify_batch_id not in busy]
    if not done:
        return
    session.execute(update(OaCampaign).where(OaCampaign.id.in_(done),
                                             OaCampaign.state == CampaignState.QUEUED)
                    .values(state=CampaignState.SENT)
                    .execution_options(synchronize_session=False))
    for c in queued:
        if c.id in done:
            session.refresh(c)


# --- progress ------------------------------------------------------------------------------


def quota(session: Session, channels: Sequence[str]) -> list[dict[str, Any]]:
    """Today's (Beijing day) and this minute's quota use of each channel, shared by every
    campaign and notice, with the limits from the notification settings (0: none) and when a
    channel stopped by its provider's quota may send again."""
    from unionhub.notify import throttle
    from unionhub.notify.settings import read

    now = clock.now()
    windows = {"day": clock.day_start(now), "minute": clock.minute_start(now)}
    out = []
    for ch in channels:
        used = {}
        for period, start in windows.items():
            used[period] = int(session.scalar(select(NotifyQuota.used).where(
                NotifyQuota.channel == ch, NotifyQuota.period == period,
                NotifyQuota.window_start == start)) or 0)
        out.append({"channel": ch, "label": CHANNEL_LABELS.get(ch, ch),
                    "day_used": used["day"], "day_limit": int(read(f"quota_{ch}_per_day") or 0),
                    "minute_used": used["minute"],
                    "minute_limit": int(read(f"quota_{ch}_per_minute") or 0),
                    "stopped_until": throttle.stopped_until(session, ch, now)})
    return out


def fallbacks(session: Session, batch_id: int) -> dict[str, Any]:
    """Rows of the batch that could not go by their channel (``fallback``: no WeChat binding,
    not following, bad openid, no template) and what became of them: the row the dispatcher
    added on the fallback channel (``fallback_of_id``) — or none when the campaign had chosen
    that channel too, so the member already has a row there."""
    orig, extra = aliased(NotifyOutbox), aliased(NotifyOutbox)
    count = int(session.scalar(select(func.count()).select_from(orig).where(
        orig.batch_id == batch_id, orig.status == OutboxStatus.FALLBACK)) or 0)
    by_status = dict(session.execute(
        select(extra.status, func.count()).where(extra.batch_id == batch_id,
                                                 extra.fallback_of_id.is_not(None))
        .group_by(extra.status)).all())
    reasons = dict(session.execute(
        select(orig.error, func.count()).where(orig.batch_id == batch_id,
                                               orig.status == OutboxStatus.FALLBACK)
        .group_by(orig.error)).all())
    rows = session.execute(
        select(Member.name, Org.name, orig.channel, orig.error, extra.channel, extra.status,
               extra.error)
        .select_from(orig).join(Member, Member.id == orig.member_id)
        .join(Org, Org.id == Member.org_id)
        .outerjoin(extra, and_(extra.fallback_of_id == orig.id))
        .where(orig.batch_id == batch_id, orig.status == OutboxStatus.FALLBACK)
        .order_by(orig.id).limit(FALLBACK_ROWS)).all()
    return {"count": count, "by_status": {str(k): int(v) for k, v in by_status.items()},
            "reasons": {str(k or ""): int(v) for k, v in reasons.items()},
            "rows": [{"member": r[0], "org": r[1], "channel": r[2], "reason": r[3] or "",
                      "to_channel": r[4], "to_status": r[5], "to_error": r[6] or ""}
                     for r in rows]}


def progress(session: Session, campaign: OaCampaign) -> dict[str, Any]:
    """The core's batch progress (per channel and status, inbox and read counts, receipts,
    ``done``) plus the quota used today on the campaign's channels and the fall-backs."""
    from unionhub.notify.service import progress as batch_progress

    if campaign.notify_batch_id is None:
        base: dict[str, Any] = {"batch_id": None, "by_channel": {}, "by_status": {},
                                "inbox": 0, "read": 0, "receipts": {},
                                "done": campaign.state != CampaignState.QUEUED}
        fb: dict[str, Any] = {"count": 0, "by_status": {}, "reasons": {}, "rows": []}
    else:
        base = batch_progress(session, campaign.notify_batch_id)
        fb = fallbacks(session, campaign.notify_batch_id)
    channels = list(dict.fromkeys([*campaign.channels, *base["by_channel"]]))
    return {**base, "recipients": campaign.recipients, "channels": channels,
            "quota": quota(session, channels), "fallbacks": fb}


# --- templates -----------------------------------------------------------------------------


def templates_visible(account: Account) -> ColumnElement[bool]:
    """Templates for everyone, of the officer's subtree and of the orgs above it."""
    t = OaMessageTemplate
    return or_(t.org_path.is_(None), in_scope(account, t.org_path),
               above_scope(account, t.org_path))


def templates_for(session: Session, account: Account) -> list[OaMessageTemplate]:
    return list(session.scalars(select(OaMessageTemplate)
                                .where(templates_visible(account))
                                .order_by(OaMessageTemplate.name, OaMessageTemplate.id)))


def get_template(session: Session, account: Account, template_id: int
                 ) -> OaMessageTemplate | None:
    return session.scalar(select(OaMessageTemplate).where(
        OaMessageTemplate.id == template_id, templates_visible(account)))


def create_template(session: Session, *, name: str, title: str, body: str, sms: str = "",
                    by_id: int | None = None, org: Org | None = None) -> OaMessageTemplate:
    """A message template of ``org`` (None: for every org); raises :class:`CampaignError`
    for a missing or too long field or a name the org already uses."""
    errors: dict[str, str] = {}
    name_, title_, body_, sms_ = _text(name), _text(title), _text(body), _text(sms)
    if not name_:
        errors["name"] = _("请填写模板名称")
    elif len(name_) > NAME_MAX:
        errors["name"] = _("模板名称不能超过 %(n)s 个字", n=NAME_MAX)
    _check_message(errors, title_, body_, sms_)
    if "name" not in errors:
        same_org = (OaMessageTemplate.org_id.is_(None) if org is None
                    else OaMessageTemplate.org_id == org.id)
        if session.scalar(select(exists().where(same_org,
                                                OaMessageTemplate.name == name_))):
            errors["name"] = _("已有同名模板：%(name)s", name=name_)
    if errors:
        raise CampaignError(errors)
    row = OaMessageTemplate(name=name_, title=title_, body=body_, sms=sms_,
                            org_id=org.id if org else None, org_path=org.path if org else None,
                            created_by=by_id, created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def delete_template(session: Session, account: Account, template_id: int) -> None:
    """Delete a template of the officer's subtree (global ones: officers of the root)."""
    row = session.get(OaMessageTemplate, template_id)
    allowed = row is not None and (
        can_manage_global(session, account) if row.org_path is None else
        bool(session.scalar(select(exists().where(
            OaMessageTemplate.id == row.id, in_scope(account, OaMessageTemplate.org_path))))))
    if row is None or not allowed:
        raise CampaignError({"template": _("模板不存在或不在您的管辖范围内")})
    session.delete(row)
    session.flush()
