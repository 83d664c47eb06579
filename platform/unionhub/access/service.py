"""Answers "may this account do P on this org?" and gives the SQL filter for list views.

A grant of role R at org O gives R's permissions on O's whole subtree. Both helpers are
one SQL statement; list views never filter row by row in Python.
"""

from __future__ import annotations

from flask import abort, current_app, g
from sqlalchemy import ColumnElement, exists, false, literal, or_, select
from sqlalchemy.orm import Session, aliased

from unionhub import db
from unionhub.access.models import RoleGrant, RolePermission
from unionhub.access.roles import IMPLICIT_MEMBER_ROLE
from unionhub.identity.models import Account, Member, MemberStatus
from unionhub.orgs.models import Org


def roles_with(permission: str, session: Session | None = None) -> list[str]:
    """Roles that carry ``permission``: declared defaults plus admin additions."""
    reg = current_app.extensions["unionhub"].registries
    roles = set(reg.roles_with(permission))
    s = session or db.session()
    roles.update(s.scalars(select(RolePermission.role).where(
        RolePermission.permission == permission)))
    return sorted(roles)


def role_permissions(role: str, session: Session | None = None) -> set[str]:
    reg = current_app.extensions["unionhub"].registries
    perms = set(reg.roles[role].permissions) if role in reg.roles else set()
    s = session or db.session()
    perms.update(s.scalars(select(RolePermission.permission).where(RolePermission.role == role)))
    return perms


def _member_org_path(account: Account) -> str | None:
    m = account.member
    if m is None or m.status != MemberStatus.ACTIVE:
        return None
    return m.org.path


def scope_filter(account: Account | None, permission: str, path_col: ColumnElement[str]
                 ) -> ColumnElement[bool]:
    """A WHERE clause true for rows whose org path lies in a subtree where ``account`` holds
    ``permission`` (``path_col`` is the org path column of the listed rows)."""
    if account is None or not account.is_active:
        return false()
    roles = roles_with(permission)
    grant_org = aliased(Org)
    clause: ColumnElement[bool] = exists(
        select(literal(1))
        .select_from(RoleGrant)
        .join(grant_org, grant_org.id == RoleGrant.org_id)
        .where(
            RoleGrant.account_id == account.id,
            RoleGrant.role.in_(roles),
            path_col.like(grant_org.path.concat("%")),
        )
    )
    member_path = _member_org_path(account)
    if IMPLICIT_MEMBER_ROLE in roles and member_path:
        clause = or_(clause, path_col.like(member_path + "%"))
    return clause


def can(account: Account | None, permission: str, org: Org | None = None) -> bool:
    """True when ``account`` holds ``permission`` on ``org`` (anywhere, when org is None)."""
    if account is None or getattr(account, "is_anonymous", True) or not account.is_active:
        return False
    if org is None:
        return permission in permissions_of(account)
    path_col = select(Org.path).where(Org.id == org.id).scalar_subquery()
    return bool(db.session().scalar(select(scope_filter(account, permission, path_col))))


def permissions_of(account: Account) -> set[str]:
    """Every permission the account holds somewhere (cached for the request)."""
    cache: dict[int, set[str]] = g.setdefault("_perm_cache", {})
    if account.id in cache:
        return cache[account.id]
    s = db.session()
    roles = set(s.scalars(select(RoleGrant.role).where(RoleGrant.account_id == account.id)))
    if _member_org_path(account):
        roles.add(IMPLICIT_MEMBER_ROLE)
    perms: set[str] = set()
    for role in roles:
        perms |= role_permissions(role, s)
    cache[account.id] = perms
    return perms


def require(permission: str) -> None:
    """Abort with 403 unless the signed-in user holds ``permission`` somewhere."""
    from flask_login import current_user

    if not can(current_user, permission):
        abort(403)


def scoped_member(account: Account, member_id: int, permission: str) -> Member:
    """Fetch a member the account may act on, or 404 — never reveal that it exists."""
    m = db.session().scalar(
        select(Member)
        .join(Org, Member.org_id == Org.id)
        .where(Member.id == member_id, scope_filter(account, permission, Org.path))
    )
    if m is None:
        abort(404)
    return m


def scoped_org(account: Account, org_id: int, permission: str) -> Org:
    o = db.session().scalar(
        select(Org).where(Org.id == org_id, scope_filter(account, permission, Org.path))
    )
    if o is None:
        abort(404)
    return o
