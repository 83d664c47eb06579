"""Member groups: membership tests as SQL, so lists filter in the database."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, delete, exists, select
from sqlalchemy.orm import Session

from unionhub.groups.models import MemberGroup, MemberGroupMember


class GroupError(ValueError):
    pass


def in_any_group(member_id_col: ColumnElement[int], group_ids: Iterable[int]
                 ) -> ColumnElement[bool]:
    """True for rows whose member belongs to at least one of ``group_ids``."""
    return exists(select(MemberGroupMember.member_id).where(
        MemberGroupMember.member_id == member_id_col,
        MemberGroupMember.group_id.in_(list(group_ids))))


def groups_of(session: Session, member_id: int) -> set[int]:
    return set(session.scalars(select(MemberGroupMember.group_id)
                               .where(MemberGroupMember.member_id == member_id)))


def create_group(session: Session, code: str, name: str, description: str | None = None
                 ) -> MemberGroup:
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise GroupError("群体代码和名称不能为空")
    if session.scalar(select(MemberGroup.id).where(MemberGroup.code == code)):
        raise GroupError(f"群体代码 {code} 已存在")
    group = MemberGroup(code=code, name=name, description=description)
    session.add(group)
    session.flush()
    return group


def add_members(session: Session, group: MemberGroup, member_ids: Iterable[int]) -> int:
    """Add members (already present ones are skipped); returns how many were added."""
    wanted = set(member_ids)
    present = set(session.scalars(select(MemberGroupMember.member_id).where(
        MemberGroupMember.group_id == group.id, MemberGroupMember.member_id.in_(wanted))))
    new = sorted(wanted - present)
    session.add_all(MemberGroupMember(group_id=group.id, member_id=m) for m in new)
    session.flush()
    return len(new)


def remove_members(session: Session, group: MemberGroup, member_ids: Iterable[int]) -> int:
    result = session.execute(delete(MemberGroupMember).where(
        MemberGroupMember.group_id == group.id,
        MemberGroupMember.member_id.in_(list(member_ids))))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
