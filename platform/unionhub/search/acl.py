"""Access tokens: how a document names its audience and what a viewer holds.

A viewer finds a document only when they share a token, so every query carries the filter
``acl IN viewer_tokens``. The tokens mirror :mod:`unionhub.access.service`: a role granted
at org O covers O's subtree, so a record of org X is indexed with a token per ancestor of X
(and X itself), and a viewer holds one token per grant — they meet exactly when the grant's
org is an ancestor-or-self of X, the same test as ``scope_filter``'s ``path LIKE``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import g, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub.access.models import RoleGrant
from unionhub.access.roles import IMPLICIT_MEMBER_ROLE
from unionhub.groups.models import MemberGroupMember
from unionhub.identity.models import Account, MemberStatus
from unionhub.orgs.models import Org

PUBLIC = "public"
MEMBER = "member"


def _ids(org: Org | str | int) -> list[int]:
    """Ancestor-or-self ids of an org, its materialized path ("/1/5/23/") or its id."""
    if isinstance(org, Org):
        return org.ancestor_ids
    if isinstance(org, str):
        return [int(p) for p in org.strip("/").split("/") if p]
    return [int(org)]


def org_token(org: Org | int) -> str:
    """Content targeted at ``org``: seen by active members of its subtree."""
    return f"org:{org.id if isinstance(org, Org) else int(org)}"


def group_token(group_id: int) -> str:
    """Content targeted at a member group (``unionhub.groups``): seen by its active members."""
    return f"group:{int(group_id)}"


def org_group_token(org: Org | int, group_id: int) -> str:
    """Content targeted at a group *within* an org subtree: both must hold."""
    return f"{org_token(org)}+{group_token(group_id)}"


def officer_tokens(permission: str, org: Org | str) -> tuple[str, ...]:
    """A record of ``org`` (an Org or its path) seen by holders of ``permission`` on it."""
    return tuple(f"officer:{permission}:{i}" for i in _ids(org))


def viewer_tokens(account: Any, session: Session | None = None) -> frozenset[str]:
    """Every token ``account`` holds (``None`` or an anonymous user: public only).

    Computed once per request: the account's role grants (one query), each role's
    permissions (declared defaults plus admin additions), the implicit ``member`` role.
    """
    if account is None or getattr(account, "is_anonymous", True) or not account.is_active:
        return frozenset({PUBLIC})
    cache: dict[int, frozenset[str]] | None = (
        g.setdefault("_search_tokens", {}) if has_app_context() else None)
    if cache is not None and account.id in cache:
        return cache[account.id]
    tokens = _compute(account, session)
    if cache is not None:
        cache[account.id] = tokens
    return tokens


def _compute(account: Account, session: Session | None) -> frozenset[str]:
    from unionhub import db
    from unionhub.access.service import role_permissions

    s = session or db.session()
    tokens = {PUBLIC}
    grants: list[tuple[str, int]] = [
        (role, org_id) for role, org_id in s.execute(
            select(RoleGrant.role, RoleGrant.org_id).where(RoleGrant.account_id == account.id))
    ]
    member = account.member
    if member is not None and member.status == MemberStatus.ACTIVE:
        tokens.add(MEMBER)
        ancestors = member.org.ancestor_ids
        tokens.update(org_token(i) for i in ancestors)
        groups = list(s.scalars(select(MemberGroupMember.group_id)
                                .where(MemberGroupMember.member_id == member.id)))
        tokens.update(group_token(g) for g in groups)
        tokens.update(org_group_token(i, g) for i in ancestors for g in groups)
        grants.append((IMPLICIT_MEMBER_ROLE, member.org_id))
    perms: dict[str, set[str]] = {}
    for role, org_id in grants:
        if role not in perms:
            perms[role] = role_permissions(role, s)
        tokens.update(f"officer:{p}:{org_id}" for p in perms[role])
    return frozenset(tokens)


def audience(*tokens: str | Iterable[str]) -> tuple[str, ...]:
    """Flatten token arguments into an ``acl`` tuple without duplicates, order kept."""
    out: dict[str, None] = {}
    for t in tokens:
        for token in ([t] if isinstance(t, str) else t):
            out[token] = None
    return tuple(out)
