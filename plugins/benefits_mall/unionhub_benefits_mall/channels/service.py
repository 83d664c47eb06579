"""Discount channels (优惠通道): parsing and validating the officer's form, creating and editing
channels, bundling approved offers, and the member-side queries (channels open to a member, a
channel's offers, what is left of the quotas for them).

A channel's audience never reaches beyond its owning org's subtree: with no org picked the
owning org itself is saved as the org target (a city-owned channel is then open to everyone, a
district's to that district), and every org picked must lie in that subtree (as well as in the
officer's scope). Member groups narrow the audience within it. The member-side queries also
require the member to be in the owning org's subtree, so that a channel whose audience rows
predate this rule cannot reach the whole city either.

Every change is audited in the caller's transaction; on bad input a :class:`ChannelError`
naming each field is raised before anything is written. The total quota is lowered with a
conditional ``UPDATE … WHERE issued <= :quota`` so that a claim landing at the same moment
cannot leave more coupons issued than the quota allows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select, update
from sqlalchemy.orm import Session

from unionhub.access.service import scope_filter
from unionhub.audit.service import record
from unionhub.i18n import _
from unionhub.identity.models import Account
from unionhub.orgs.models import Org

from .. import eligibility
from ..eligibility import PERIODS, Viewer, period_key
from ..models import (
    BenefitsMallChannel,
    BenefitsMallChannelOffer,
    BenefitsMallCoupon,
    BenefitsMallOffer,
    BenefitsMallQuotaUse,
    OfferStatus,
)
from . import audience

MANAGE = audience.MANAGE
SHANGHAI = ZoneInfo("Asia/Shanghai")
NAME_MAX, DESCRIPTION_MAX, QUOTA_MAX = 200, 2000, 10_000_000


def today() -> date:
    """Today in Beijing (channel windows are calendar dates there)."""
    return datetime.now(SHANGHAI).date()


class ChannelError(ValueError):
    """Refused input; ``errors`` maps each form field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class ChannelData:
    """A channel as the officer entered it (already parsed, not yet checked against the
    database: scope, issued counts)."""

    name: str
    org_id: int
    valid_from: date
    valid_until: date
    description: str = ""
    total_quota: int | None = None
    per_member_quota: int | None = None
    per_member_period: str = "month"
    requires_active_member: bool = True
    requires_jingka: bool = True
    active: bool = True
    #: Audience orgs (subtrees); empty means the owning org ``org_id`` and its sub-unions.
    org_ids: list[int] = field(default_factory=list)
    group_ids: list[int] = field(default_factory=list)


def _text(form: Mapping[str, Any], key: str) -> str:
    value = form.get(key)
    return "" if value is None else str(value).strip()


def _flag(form: Mapping[str, Any], key: str) -> bool:
    value = form.get(key)
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "y", "yes", "on", "true")


def _date(raw: str, label: str, errors: dict[str, str], key: str) -> date | None:
    if not raw:
        errors[key] = _("请填写%(field)s", field=label)
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[key] = _("%(field)s应为日期，格式如 2026-05-01", field=label)
        return None


def _quota(raw: str, label: str, errors: dict[str, str], key: str) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        errors[key] = _("%(field)s应为正整数（不填表示不限）", field=label)
        return None
    if int(raw) > QUOTA_MAX:
        errors[key] = _("%(field)s不能超过 %(max)s", field=label, max=QUOTA_MAX)
        return None
    return int(raw)


def parse(form: Mapping[str, Any]) -> ChannelData:
    """Read the channel form (a ``MultiDict`` or a plain mapping, e.g. API JSON). Raises
    :class:`ChannelError` with a message for every bad field."""
    errors: dict[str, str] = {}
    name = _text(form, "name")
    if not name:
        errors["name"] = _("请填写通道名称")
    elif len(name) > NAME_MAX:
        errors["name"] = _("通道名称不能超过 %(max)s 个字", max=NAME_MAX)
    description = _text(form, "description")
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = _("通道说明不能超过 %(max)s 个字", max=DESCRIPTION_MAX)
    raw_org = _text(form, "org_id")
    org_id = 0
    if not raw_org:
        errors["org_id"] = _("请选择所属工会")
    elif not raw_org.isdigit():
        errors["org_id"] = _("所属工会的取值无效")
    else:
        org_id = int(raw_org)
    valid_from = _date(_text(form, "valid_from"), _("开始日期"), errors, "valid_from")
    valid_until = _date(_text(form, "valid_until"), _("结束日期"), errors, "valid_until")
    if valid_from and valid_until and valid_until < valid_from:
        errors["valid_until"] = _("结束日期不能早于开始日期（%(start)s）",
                                  start=valid_from.isoformat())
    total = _quota(_text(form, "total_quota"), _("总名额"), errors, "total_quota")
    per_member = _quota(_text(form, "per_member_quota"), _("每人限额"), errors,
                        "per_member_quota")
    if total is not None and per_member is not None and per_member > total:
        errors["per_member_quota"] = _("每人限额不能大于总名额（%(total)s）", total=total)
    period = _text(form, "per_member_period") or "month"
    if period not in PERIODS:
        errors["per_member_period"] = _("请选择限额周期：%(choices)s",
                                        choices="、".join(_(v) for v in PERIODS.values()))
    org_ids: list[int] = []
    group_ids: list[int] = []
    try:
        org_ids, group_ids = audience.parse_form(form)
    except audience.AudienceError as exc:
        errors.update(exc.errors)
    if errors:
        raise ChannelError(errors)
    assert valid_from is not None and valid_until is not None
    return ChannelData(
        name=name, org_id=org_id, valid_from=valid_from, valid_until=valid_until,
        description=description, total_quota=total, per_member_quota=per_member,
        per_member_period=period,
        requires_active_member=_flag(form, "requires_active_member"),
        requires_jingka=_flag(form, "requires_jingka"), active=_flag(form, "active"),
        org_ids=org_ids, group_ids=group_ids)


def form_values(channel: BenefitsMallChannel | None, org_ids: Sequence[int] = (),
                group_ids: Sequence[int] = ()) -> dict[str, Any]:
    """The edit form's initial values (a new channel: active, members with a Jingka, monthly).

    An audience of just the owning org is shown as no org ticked (what the officer left it
    as), so that moving the channel to another owner moves that default along."""
    if channel is None:
        return {"per_member_period": "month", "requires_active_member": True,
                "requires_jingka": True, "active": True, "org_ids": [], "group_ids": []}
    if list(org_ids) == [channel.org_id]:
        org_ids = []
    return {"name": channel.name, "description": channel.description,
            "org_id": channel.org_id, "valid_from": channel.valid_from.isoformat(),
            "valid_until": channel.valid_until.isoformat(),
            "total_quota": channel.total_quota or "",
            "per_member_quota": channel.per_member_quota or "",
            "per_member_period": channel.per_member_period,
            "requires_active_member": channel.requires_active_member,
            "requires_jingka": channel.requires_jingka, "active": channel.active,
            "org_ids": list(org_ids), "group_ids": list(group_ids)}


# -- officer side ------------------------------------------------------------------------------


def scoped_channels(account: Account) -> Select[tuple[BenefitsMallChannel]]:
    """Channels owned by orgs in ``account``'s scope for managing channels (SQL filter)."""
    return select(BenefitsMallChannel).where(
        scope_filter(account, MANAGE, BenefitsMallChannel.org_path))


def scoped_channel(session: Session, account: Account, channel_id: int
                   ) -> BenefitsMallChannel | None:
    """One channel the officer may manage, or None (the page then answers 404)."""
    return session.scalar(scoped_channels(account).where(BenefitsMallChannel.id == channel_id))


def _scoped_org(session: Session, account: Account, org_id: int) -> Org | None:
    return session.scalar(select(Org).where(
        Org.id == org_id, scope_filter(account, MANAGE, Org.path)))


def audience_orgs(data: ChannelData, owner: Org) -> list[int]:
    """The org targets saved for the channel: those picked, or else the owning org."""
    return list(data.org_ids) or [owner.id]


def _outside_owner(session: Session, owner: Org, org_ids: Sequence[int]) -> list[str]:
    """Names of the existing orgs in ``org_ids`` outside ``owner``'s subtree (checked in SQL;
    ids that do not exist are reported by :func:`.audience.check_targets`)."""
    if not org_ids:
        return []
    inside = set(session.scalars(select(Org.id).where(
        Org.id.in_(org_ids), Org.path.like(owner.path + "%"))))
    outside = [i for i in org_ids if i not in inside]
    if not outside:
        return []
    return list(session.scalars(select(Org.name).where(Org.id.in_(outside)).order_by(Org.path)))


def _max_member_use(session: Session, channel_id: int, period: str, on: date) -> int:
    """The most any one member has used of this channel in the period ``on`` falls in."""
    return int(session.scalar(select(func.max(BenefitsMallQuotaUse.used)).where(
        BenefitsMallQuotaUse.scope == f"channel:{channel_id}",
        BenefitsMallQuotaUse.period == period_key(period, on))) or 0)


def _below_issued(issued: int) -> str:
    return _("总名额不能少于已发放的 %(issued)s 份：已领取的福利券仍然有效、不会收回，"
             "名额只能限制今后的领取", issued=issued)


def _check(session: Session, account: Account, data: ChannelData,
           channel: BenefitsMallChannel | None) -> Org:
    """Every database-dependent check, all errors at once; returns the owning org."""
    errors: dict[str, str] = {}
    org = _scoped_org(session, account, data.org_id)
    if org is None:
        errors["org_id"] = _("所属工会不在您的管理范围内")
    if channel is not None:
        if data.total_quota is not None and data.total_quota < channel.issued:
            errors["total_quota"] = _below_issued(channel.issued)
        if data.per_member_quota is not None:
            used = _max_member_use(session, channel.id, data.per_member_period, today())
            if data.per_member_quota < used:
                errors["per_member_quota"] = _(
                    "每人限额不能少于本期已有会员领取的 %(used)s 份：已领取的不会收回，"
                    "可在下一周期再调低", used=used)
    try:
        audience.check_targets(session, account, "channel",
                               channel.id if channel is not None else None,
                               data.org_ids, data.group_ids)
    except audience.AudienceError as exc:
        errors.update(exc.errors)
    if org is not None:
        # An owner in scope puts its whole subtree in scope: this message is the precise one.
        outside = _outside_owner(session, org, data.org_ids)
        if outside:
            errors[audience.ORG_FIELD] = _(
                "适用工会只能是所属工会「%(owner)s」或其下级工会，这些工会不在其中：%(names)s",
                owner=org.name, names="、".join(outside))
    if errors:
        raise ChannelError(errors)
    assert org is not None
    return org


def _columns(data: ChannelData, org: Org) -> dict[str, Any]:
    return {"name": data.name, "description": data.description, "org_id": org.id,
            "org_path": org.path, "valid_from": data.valid_from, "valid_until": data.valid_until,
            "total_quota": data.total_quota, "per_member_quota": data.per_member_quota,
            "per_member_period": data.per_member_period,
            "requires_active_member": data.requires_active_member,
            "requires_jingka": data.requires_jingka, "active": data.active}


def _audit_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def create(session: Session, account: Account, data: ChannelData) -> BenefitsMallChannel:
    """A new channel owned by an org in the officer's scope, with its audience."""
    org = _check(session, account, data, None)
    channel = BenefitsMallChannel(**_columns(data, org), created_by=account.id)
    session.add(channel)
    session.flush()
    org_ids = audience_orgs(data, org)
    audience.save_audience(session, "channel", channel.id, org_ids, data.group_ids)
    details = {k: _audit_value(v) for k, v in asdict(data).items()}
    details["org_ids"] = org_ids
    record("benefits_mall.channel.create", target_type="benefits_mall_channel",
           target_id=channel.id, org_path=channel.org_path, actor=account, session=session,
           details=details)
    return channel


def edit(session: Session, account: Account, channel: BenefitsMallChannel,
         data: ChannelData) -> BenefitsMallChannel:
    """Edit a channel. A quota below what is already issued is refused (the coupons already
    claimed stay valid, so such a quota could never hold); the total quota is written by a
    conditional UPDATE so that a concurrent claim cannot slip past the check."""
    org = _check(session, account, data, channel)
    values = _columns(data, org)
    before = {k: _audit_value(getattr(channel, k)) for k in values}
    before["audience"] = audience.load_audience(session, "channel", channel.id)
    stmt = update(BenefitsMallChannel).where(BenefitsMallChannel.id == channel.id)
    if data.total_quota is not None:
        stmt = stmt.where(BenefitsMallChannel.issued <= data.total_quota)
    result = session.execute(stmt.values(**values).execution_options(synchronize_session=False))
    if not result.rowcount:  # type: ignore[attr-defined]
        issued = session.scalar(select(BenefitsMallChannel.issued)
                                .where(BenefitsMallChannel.id == channel.id))
        if issued is None:
            raise ChannelError({"form": _("该优惠通道已不存在")})
        raise ChannelError({"total_quota": _below_issued(issued)})
    session.refresh(channel)
    org_ids = audience_orgs(data, org)
    audience.save_audience(session, "channel", channel.id, org_ids, data.group_ids)
    after = {k: _audit_value(v) for k, v in values.items()}
    after["audience"] = (org_ids, data.group_ids)
    changed = {k: [before[k], after[k]] for k in after
               if _comparable(before[k]) != _comparable(after[k])}
    record("benefits_mall.channel.update", target_type="benefits_mall_channel",
           target_id=channel.id, org_path=channel.org_path, actor=account, session=session,
           details={"changed": changed})
    return channel


def _comparable(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(sorted(v) for v in value)
    return value


def attach(session: Session, account: Account, channel: BenefitsMallChannel,
           offer_id: int) -> BenefitsMallOffer:
    """Add an approved, unexpired offer to the channel (refused with a reason otherwise)."""
    offer = session.get(BenefitsMallOffer, offer_id)
    if offer is None:
        raise ChannelError({"offer_id": _("没有这项优惠")})
    if offer.status != OfferStatus.APPROVED:
        raise ChannelError({"offer_id": _("「%(title)s」尚未通过审核或已下架，只有已上架的优惠"
                                          "可以加入通道", title=offer.title)})
    if offer.valid_until < today():
        raise ChannelError({"offer_id": _("「%(title)s」已于 %(day)s 过期", title=offer.title,
                                          day=offer.valid_until.isoformat())})
    present = session.get(BenefitsMallChannelOffer, (channel.id, offer.id))
    if present is not None:
        raise ChannelError({"offer_id": _("「%(title)s」已在本通道中", title=offer.title)})
    session.add(BenefitsMallChannelOffer(channel_id=channel.id, offer_id=offer.id))
    session.flush()
    record("benefits_mall.channel.offer_attach", target_type="benefits_mall_channel",
           target_id=channel.id, org_path=channel.org_path, actor=account, session=session,
           details={"offer_id": offer.id, "title": offer.title})
    return offer


def detach(session: Session, account: Account, channel: BenefitsMallChannel,
           offer_id: int) -> BenefitsMallOffer:
    """Remove an offer from the channel (coupons already claimed through it stay valid)."""
    link = session.get(BenefitsMallChannelOffer, (channel.id, offer_id))
    offer = session.get(BenefitsMallOffer, offer_id)
    if link is None or offer is None:
        raise ChannelError({"offer_id": _("该优惠不在本通道中")})
    session.delete(link)
    session.flush()
    record("benefits_mall.channel.offer_detach", target_type="benefits_mall_channel",
           target_id=channel.id, org_path=channel.org_path, actor=account, session=session,
           details={"offer_id": offer.id, "title": offer.title})
    return offer


def channel_offers(channel_id: int) -> Select[tuple[BenefitsMallOffer]]:
    """Every offer bundled in the channel (officer view: whatever its status)."""
    return (select(BenefitsMallOffer)
            .join(BenefitsMallChannelOffer,
                  BenefitsMallChannelOffer.offer_id == BenefitsMallOffer.id)
            .where(BenefitsMallChannelOffer.channel_id == channel_id)
            .order_by(BenefitsMallOffer.id))


def attachable_offers(channel_id: int, query: str, on: date) -> Select[tuple[BenefitsMallOffer]]:
    """Approved, unexpired offers not yet in the channel whose title contains ``query``."""
    linked = select(BenefitsMallChannelOffer.offer_id).where(
        BenefitsMallChannelOffer.channel_id == channel_id)
    stmt = select(BenefitsMallOffer).where(
        BenefitsMallOffer.status == OfferStatus.APPROVED, BenefitsMallOffer.valid_until >= on,
        BenefitsMallOffer.id.not_in(linked))
    if query:
        stmt = stmt.where(BenefitsMallOffer.title.contains(query, autoescape=True))
    return stmt.order_by(BenefitsMallOffer.valid_until, BenefitsMallOffer.id)


def offer_counts(session: Session, channel_ids: Iterable[int]) -> dict[int, int]:
    ids = sorted(set(channel_ids))
    if not ids:
        return {}
    return dict(session.execute(
        select(BenefitsMallChannelOffer.channel_id, func.count())
        .where(BenefitsMallChannelOffer.channel_id.in_(ids))
        .group_by(BenefitsMallChannelOffer.channel_id)).all())


def claims_by_offer(session: Session, channel_id: int,
                    offer_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Coupons claimed through the channel, per offer (whatever they became since); with
    ``offer_ids``, only for those offers (the page being shown)."""
    stmt = (select(BenefitsMallCoupon.offer_id, func.count())
            .where(BenefitsMallCoupon.channel_id == channel_id)
            .group_by(BenefitsMallCoupon.offer_id))
    if offer_ids is not None:
        ids = sorted(set(offer_ids))
        if not ids:
            return {}
        stmt = stmt.where(BenefitsMallCoupon.offer_id.in_(ids))
    return dict(session.execute(stmt).all())


# -- member side -------------------------------------------------------------------------------


def open_clause(viewer: Viewer | None, on: date) -> ColumnElement[bool]:
    """Channels open to ``viewer`` ``on``: :func:`..eligibility.channel_clause` (active, in
    window, audience and member rules) and, for a member, the member inside the owning org's
    subtree — never wider than the owner, even for audience rows saved before that rule."""
    clause = eligibility.channel_clause(viewer, on)
    if viewer is None:
        return clause
    return and_(clause, literal(viewer.org_path).like(BenefitsMallChannel.org_path + "%"))


def open_channels(viewer: Viewer, on: date) -> Select[tuple[BenefitsMallChannel]]:
    """Channels open to the member ``on`` (:func:`open_clause`), ending soonest first."""
    return (select(BenefitsMallChannel)
            .where(open_clause(viewer, on))
            .order_by(BenefitsMallChannel.valid_until, BenefitsMallChannel.id))


def open_channel(session: Session, viewer: Viewer | None, channel_id: int, on: date
                 ) -> BenefitsMallChannel | None:
    """The channel when it is open to ``viewer`` ``on`` (``None`` — a visitor — sees only
    channels without any audience restriction, i.e. none saved under the current rule), else
    None: callers must then show nothing of it, not even its name."""
    return session.scalar(select(BenefitsMallChannel).where(
        BenefitsMallChannel.id == channel_id, open_clause(viewer, on)))


def open_offers(channel_id: int, viewer: Viewer, on: date) -> Select[tuple[BenefitsMallOffer]]:
    """The channel's live offers the member may claim ``on``."""
    return (select(BenefitsMallOffer)
            .join(BenefitsMallChannelOffer,
                  BenefitsMallChannelOffer.offer_id == BenefitsMallOffer.id)
            .where(BenefitsMallChannelOffer.channel_id == channel_id,
                   eligibility.offer_clause(viewer, on))
            .order_by(BenefitsMallOffer.valid_until, BenefitsMallOffer.id))


def open_offer_counts(session: Session, viewer: Viewer, channel_ids: Iterable[int], on: date
                      ) -> dict[int, int]:
    ids = sorted(set(channel_ids))
    if not ids:
        return {}
    return dict(session.execute(
        select(BenefitsMallChannelOffer.channel_id, func.count())
        .join(BenefitsMallOffer, BenefitsMallOffer.id == BenefitsMallChannelOffer.offer_id)
        .where(BenefitsMallChannelOffer.channel_id.in_(ids), eligibility.offer_clause(viewer, on))
        .group_by(BenefitsMallChannelOffer.channel_id)).all())


@dataclass(frozen=True)
class Remaining:
    """What is left of a channel's quotas: over all members and for one member (``None``:
    unlimited). ``for_member`` is the smaller of the two."""

    total: int | None
    mine: int | None

    @property
    def for_member(self) -> int | None:
        values = [v for v in (self.total, self.mine) if v is not None]
        return min(values) if values else None


def remaining(session: Session, member_id: int, channels: Sequence[BenefitsMallChannel],
              on: date) -> dict[int, Remaining]:
    """:class:`Remaining` for each channel (one query for the member's usage)."""
    keys = {c.id: (f"channel:{c.id}", period_key(c.per_member_period, on)) for c in channels
            if c.per_member_quota is not None}
    used: dict[tuple[str, str], int] = {}
    if keys:
        rows = session.execute(select(BenefitsMallQuotaUse.scope, BenefitsMallQuotaUse.period,
                                      BenefitsMallQuotaUse.used).where(
            BenefitsMallQuotaUse.member_id == member_id,
            or_(*(and_(BenefitsMallQuotaUse.scope == literal(scope),
                       BenefitsMallQuotaUse.period == literal(period))
                  for scope, period in keys.values()))))
        used = {(r.scope, r.period): int(r.used) for r in rows}
    out: dict[int, Remaining] = {}
    for c in channels:
        total = None if c.total_quota is None else max(0, c.total_quota - c.issued)
        mine = None
        if c.per_member_quota is not None:
            mine = max(0, c.per_member_quota - used.get(keys[c.id], 0))
        out[c.id] = Remaining(total, mine)
    return out
