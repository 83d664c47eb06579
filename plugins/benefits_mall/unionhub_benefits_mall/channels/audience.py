"""Audiences of offers and channels (:class:`~..models.BenefitsMallAudience`): who may claim.

One owner (``kind`` ``"offer"`` or ``"channel"`` and its id) has org rows (OR-ed subtrees, each
carrying a copy of the org's path so that eligibility is one ``LIKE`` without a join) and group
rows (OR-ed member groups); no rows of a kind means no restriction of that kind (see
:mod:`..eligibility`). An officer may target only orgs inside the subtrees where they hold the
managing permission — checked in SQL, like every scope check — except orgs the owner already
targets, which they may keep (a district officer editing a channel that the city aimed at
another district must not be blocked from saving, but cannot add such orgs).

The Jinja macro ``benefits_mall/channels/_audience.html`` (``audience_fields``) renders the
checkboxes whose values :func:`parse_form` reads (``audience_org``, ``audience_group``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.orm import Session

from unionhub.access.service import scope_filter
from unionhub.groups.models import MemberGroup
from unionhub.i18n import _
from unionhub.identity.models import Account
from unionhub.orgs.models import Org

from ..models import BenefitsMallAudience

KINDS = ("offer", "channel")
MANAGE = "benefits_mall.channels.manage"
#: Form field names read by :func:`parse_form` and written by the ``audience_fields`` macro.
ORG_FIELD, GROUP_FIELD = "audience_org", "audience_group"


class AudienceError(ValueError):
    """Refused audience input; ``errors`` maps the form field to the message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown audience kind {kind!r}")


def _ids(values: Iterable[Any], field: str) -> list[int]:
    out: list[int] = []
    for value in values:
        text = str(value).strip()
        if not text:
            continue
        if not text.isdigit():
            label = _("适用工会") if field == ORG_FIELD else _("会员群体")
            raise AudienceError({field: _("%(field)s的取值无效", field=label)})
        number = int(text)
        if number not in out:
            out.append(number)
    return out


def parse_form(form: Mapping[str, Any]) -> tuple[list[int], list[int]]:
    """The org ids and group ids posted by the ``audience_fields`` macro (a ``MultiDict`` or a
    plain mapping with lists)."""
    def values(key: str) -> list[Any]:
        getlist = getattr(form, "getlist", None)
        if getlist is not None:
            return list(getlist(key))
        raw = form.get(key) or []
        return list(raw) if isinstance(raw, list | tuple) else [raw]

    return _ids(values(ORG_FIELD), ORG_FIELD), _ids(values(GROUP_FIELD), GROUP_FIELD)


def load_audience(session: Session, kind: str, owner_id: int) -> tuple[list[int], list[int]]:
    """``(org_ids, group_ids)`` of one owner, in insertion order."""
    _check_kind(kind)
    rows = session.execute(select(BenefitsMallAudience.org_id, BenefitsMallAudience.group_id)
                           .where(BenefitsMallAudience.owner_kind == kind,
                                  BenefitsMallAudience.owner_id == owner_id)
                           .order_by(BenefitsMallAudience.id)).all()
    return ([r.org_id for r in rows if r.org_id is not None],
            [r.group_id for r in rows if r.group_id is not None])


def check_targets(session: Session, account: Account, kind: str, owner_id: int | None,
                  org_ids: Sequence[int], group_ids: Sequence[int], *,
                  permission: str = MANAGE) -> None:
    """Refuse orgs outside ``account``'s scope for ``permission`` (unless the owner already
    targets them) and ids that do not exist. Raises :class:`AudienceError`."""
    _check_kind(kind)
    errors: dict[str, str] = {}
    wanted = list(dict.fromkeys(org_ids))
    if wanted:
        kept = exists(select(BenefitsMallAudience.id).where(
            BenefitsMallAudience.owner_kind == kind,
            BenefitsMallAudience.owner_id == (owner_id if owner_id is not None else -1),
            BenefitsMallAudience.org_id == Org.id))
        allowed = set(session.scalars(select(Org.id).where(
            Org.id.in_(wanted), or_(scope_filter(account, permission, Org.path), kept))))
        refused = [i for i in wanted if i not in allowed]
        if refused:
            names = list(session.scalars(select(Org.name).where(Org.id.in_(refused))
                                         .order_by(Org.path)))
            if names:
                errors[ORG_FIELD] = _("这些工会不在您的管理范围内，不能作为适用范围：%(names)s",
                                      names="、".join(names))
            else:
                errors[ORG_FIELD] = _("所选工会不存在")
    groups = list(dict.fromkeys(group_ids))
    if groups:
        found = set(session.scalars(select(MemberGroup.id).where(MemberGroup.id.in_(groups))))
        if len(found) != len(groups):
            errors[GROUP_FIELD] = _("所选会员群体不存在")
    if errors:
        raise AudienceError(errors)


def save_audience(session: Session, kind: str, owner_id: int, org_ids: Iterable[int],
                  group_ids: Iterable[int], *, account: Account | None = None,
                  permission: str = MANAGE) -> None:
    """Replace the audience rows of one owner. Org rows carry the org's current path.

    With ``account``, the targets are first checked (:func:`check_targets`, raising
    :class:`AudienceError` with nothing changed); without it the caller has checked them.
    Unknown org ids raise :class:`AudienceError` either way.
    """
    _check_kind(kind)
    orgs_wanted = list(dict.fromkeys(int(i) for i in org_ids))
    groups_wanted = list(dict.fromkeys(int(i) for i in group_ids))
    if account is not None:
        check_targets(session, account, kind, owner_id, orgs_wanted, groups_wanted,
                      permission=permission)
    paths = dict(session.execute(select(Org.id, Org.path).where(Org.id.in_(orgs_wanted))).all()
                 ) if orgs_wanted else {}
    if len(paths) != len(orgs_wanted):
        raise AudienceError({ORG_FIELD: _("所选工会不存在")})
    session.execute(delete(BenefitsMallAudience).where(
        BenefitsMallAudience.owner_kind == kind, BenefitsMallAudience.owner_id == owner_id))
    session.add_all([BenefitsMallAudience(owner_kind=kind, owner_id=owner_id, org_id=i,
                                          org_path=paths[i]) for i in orgs_wanted])
    session.add_all([BenefitsMallAudience(owner_kind=kind, owner_id=owner_id, group_id=g)
                     for g in groups_wanted])
    session.flush()


def describe_many(session: Session, kind: str, owner_ids: Iterable[int]) -> dict[int, str]:
    """:func:`describe` for several owners in two queries (for list pages)."""
    _check_kind(kind)
    ids = sorted(set(owner_ids))
    orgs: dict[int, list[str]] = defaultdict(list)
    groups: dict[int, list[str]] = defaultdict(list)
    if ids:
        for owner, name in session.execute(
                select(BenefitsMallAudience.owner_id, Org.name)
                .join(Org, Org.id == BenefitsMallAudience.org_id)
                .where(BenefitsMallAudience.owner_kind == kind,
                       BenefitsMallAudience.owner_id.in_(ids))
                .order_by(Org.path)):
            orgs[owner].append(_("%(name)s及下级", name=name))
        for owner, name in session.execute(
                select(BenefitsMallAudience.owner_id, MemberGroup.name)
                .join(MemberGroup, MemberGroup.id == BenefitsMallAudience.group_id)
                .where(BenefitsMallAudience.owner_kind == kind,
                       BenefitsMallAudience.owner_id.in_(ids))
                .order_by(MemberGroup.name)):
            groups[owner].append(name)
    out: dict[int, str] = {}
    for owner in ids:
        parts = ["、".join(p) for p in (orgs.get(owner), groups.get(owner)) if p]
        out[owner] = "；".join(parts) if parts else _("全体会员")
    return out


def describe(session: Session, kind: str, owner_id: int) -> str:
    """The audience in words: ``朝阳区总工会及下级；劳动模范`` or ``全体会员``."""
    return describe_many(session, kind, [owner_id])[owner_id]


def org_choices(session: Session, account: Account, *, permission: str = MANAGE,
                extra_ids: Iterable[int] = ()) -> list[Org]:
    """Orgs ``account`` may target (its scope for ``permission``) plus ``extra_ids`` (those
    already targeted), in tree order — what ``audience_fields`` lists."""
    extra = list(extra_ids)
    clause = scope_filter(account, permission, Org.path)
    if extra:
        clause = or_(clause, Org.id.in_(extra))
    return list(session.scalars(select(Org).where(clause).order_by(Org.path)))


def group_choices(session: Session) -> list[MemberGroup]:
    return list(session.scalars(select(MemberGroup).order_by(MemberGroup.name)))
