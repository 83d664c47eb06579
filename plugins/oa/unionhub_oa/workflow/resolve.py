"""Who approves a step: the rule's org relative to the initiating org, then the active accounts
holding the role there — walking up to the parent org while nobody does — or the named users.

The walk reads the initiating org's ancestors and every grant of the role along them in two
queries. When nobody is found at all, the caller decides: at the start of a request that is an
error, for a later step the city org's admins (:func:`city_admins`) take the task.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub.access.models import RoleGrant
from unionhub.identity.models import Account
from unionhub.orgs.models import Org, OrgLevel

from .definition import ApproverRule

ADMIN_ROLE = "admin"
DISTRICT_LEVELS = (OrgLevel.DISTRICT.value, OrgLevel.INDUSTRY.value)


class ResolveError(LookupError):
    """The rule names an org that does not exist (``code:`` of a deleted org)."""


@dataclass
class Resolved:
    """The approvers found for a rule: ``accounts`` are (account id, org id the role is held
    at — None for named users), in order; ``target`` the org the rule pointed at, ``found_at``
    where holders were found, ``walked`` the orgs passed on the way up for lack of holders."""

    accounts: list[tuple[int, int | None]] = field(default_factory=list)
    target: Org | None = None
    found_at: Org | None = None
    walked: list[Org] = field(default_factory=list)
    missing_users: list[str] = field(default_factory=list)
    fallback: bool = False

    @property
    def account_ids(self) -> list[int]:
        return [a for a, _org in self.accounts]

    def details(self) -> dict[str, Any]:
        """What the trail records about this resolution (JSON)."""
        out: dict[str, Any] = {}
        if self.target is not None:
            out["org"] = self.target.name
        if self.walked:
            out["walked"] = [o.name for o in self.walked]
        if self.found_at is not None and self.found_at is not self.target:
            out["found_at"] = self.found_at.name
        if self.missing_users:
            out["missing_users"] = list(self.missing_users)
        if self.fallback:
            out["fallback"] = "city_admins"
        return out


def chain(s: Session, org: Org) -> list[Org]:
    """``org`` and its ancestors, nearest first (one query)."""
    ids = org.ancestor_ids
    by_id = {o.id: o for o in s.scalars(select(Org).where(Org.id.in_(ids)))}
    return [by_id[i] for i in reversed(ids) if i in by_id]


def root_of(s: Session, org: Org) -> Org:
    return chain(s, org)[-1]


def above_level(s: Session, rule_org: str, origin: Org) -> bool:
    """True when a ``level:`` rule cannot apply because the request starts above that level
    (a city officer's request has no district union above it): the step is skipped."""
    if rule_org == "level:district":
        return not any(o.level in DISTRICT_LEVELS for o in chain(s, origin))
    if rule_org == "level:grassroots":
        return origin.level not in (OrgLevel.GRASSROOTS, OrgLevel.BRANCH) and not any(
            o.level == OrgLevel.GRASSROOTS for o in chain(s, origin))
    return False


def target_org(s: Session, rule_org: str, origin: Org) -> Org:
    """The org a rule's ``org`` names, relative to ``origin`` (the initiating org). A level
    rule with no such ancestor (a request started above that level) names ``origin``."""
    line = chain(s, origin)
    if rule_org == "initiator":
        return origin
    if rule_org == "parent":
        return line[1] if len(line) > 1 else origin
    if rule_org == "city":
        return line[-1]
    if rule_org == "level:district":
        return next((o for o in line if o.level in DISTRICT_LEVELS), origin)
    if rule_org == "level:grassroots":
        return next((o for o in line if o.level == OrgLevel.GRASSROOTS), origin)
    if rule_org.startswith("code:"):
        org = s.scalar(select(Org).where(Org.code == rule_org[5:].strip()))
        if org is None:
            raise ResolveError(rule_org[5:].strip())
        return org
    raise ResolveError(rule_org)


def _grants(s: Session, role: str, org_ids: Collection[int],
            exclude: Collection[int]) -> dict[int, list[int]]:
    """Org id → the active accounts holding ``role`` there (by account id)."""
    stmt = (select(RoleGrant.org_id, Account.id)
            .join(Account, Account.id == RoleGrant.account_id)
            .where(RoleGrant.role == role, RoleGrant.org_id.in_(list(org_ids)),
                   Account.is_active.is_(True))
            .order_by(Account.id))
    if exclude:
        stmt = stmt.where(Account.id.not_in(list(exclude)))
    found: dict[int, list[int]] = {}
    for org_id, account_id in s.execute(stmt):
        found.setdefault(org_id, []).append(account_id)
    return found


def walk_up(s: Session, role: str, start: Org, exclude: Collection[int] = ()) -> Resolved:
    """Holders of ``role`` at ``start``, else at its parent, and so on up to the root."""
    line = chain(s, start)
    grants = _grants(s, role, [o.id for o in line], exclude)
    res = Resolved(target=start)
    for org in line:
        ids = grants.get(org.id)
        if ids:
            res.accounts = [(a, org.id) for a in ids]
            res.found_at = org
            return res
        res.walked.append(org)
    return res


def city_admins(s: Session, origin: Org, exclude: Collection[int] = ()) -> Resolved:
    """The city (root) org's admins: who takes a task nobody else can."""
    root = root_of(s, origin)
    ids = _grants(s, ADMIN_ROLE, [root.id], exclude).get(root.id, [])
    return Resolved(accounts=[(a, root.id) for a in ids], target=root, found_at=root,
                    fallback=True)


def named_users(s: Session, names: Sequence[str], exclude: Collection[int] = ()) -> Resolved:
    """The active accounts with these user names, in the order given."""
    rows = dict(s.execute(select(Account.username, Account.id).where(
        Account.username.in_(list(names)), Account.is_active.is_(True))).all())
    res = Resolved()
    for name in names:
        account_id = rows.get(name)
        if account_id is None:
            res.missing_users.append(name)
        elif account_id not in exclude:
            res.accounts.append((account_id, None))
    return res


def approvers(s: Session, rule: ApproverRule, origin: Org,
              exclude: Collection[int] = ()) -> Resolved:
    """Resolve ``rule`` for a request started at ``origin`` (no fallback: an empty result
    means nobody holds the role anywhere up the line, or no named user is active)."""
    if rule.by == "users":
        return named_users(s, rule.users, exclude)
    assert rule.role is not None
    return walk_up(s, rule.role, target_org(s, rule.org, origin), exclude)


__all__ = [
    "ResolveError",
    "Resolved",
    "approvers",
    "chain",
    "city_admins",
    "named_users",
    "root_of",
    "target_org",
    "walk_up",
]
