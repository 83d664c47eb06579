"""Creating platform admins (``unionhub create-admin``)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub.access.models import RoleGrant
from unionhub.audit import service as audit
from unionhub.identity.models import Account
from unionhub.orgs.models import Org
from unionhub.security.passwords import hash_password, password_problem

USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{2,63}$")


class AdminError(ValueError):
    pass


def create_account(session: Session, username: str, display_name: str, password: str, *,
                   must_change: bool = False) -> Account:
    """A sign-in account with no member and no role grant (e.g. a partner merchant's staff,
    whose rights a plugin keeps in its own tables)."""
    if not USERNAME_RE.match(username):
        raise AdminError(
            "用户名须以字母开头，3–64 位字母、数字或 _.-（不能是纯数字，以免与卡号混淆）"
        )
    if problem := password_problem(password):
        raise AdminError(problem)
    if session.scalar(select(Account.id).where(Account.username == username)):
        raise AdminError(f"用户名 {username} 已存在")
    acc = Account(username=username, display_name=display_name,
                  password_hash=hash_password(password), must_change_password=must_change)
    session.add(acc)
    session.flush()
    return acc


def create_officer(session: Session, username: str, display_name: str, password: str,
                   role: str, org: Org, *, must_change: bool = False) -> Account:
    acc = create_account(session, username, display_name, password, must_change=must_change)
    session.add(RoleGrant(account_id=acc.id, role=role, org_id=org.id))
    audit.record("role.grant", target_type="account", target_id=acc.id, org_path=org.path,
                 details={"role": role, "org": org.code}, session=session)
    return acc


def create_platform_admin(session: Session, username: str, display_name: str, password: str
                          ) -> Account:
    root = session.scalar(select(Org).where(Org.parent_id.is_(None)).order_by(Org.id))
    if root is None:
        raise AdminError(
            "还没有市总工会组织：请先导入组织（unionhub orgs import）或运行 unionhub demo"
        )
    acc = create_officer(session, username, display_name, password, "admin", root)
    session.commit()
    return acc
