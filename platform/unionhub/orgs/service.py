"""Creating, moving and importing orgs. A subtree move is one UPDATE of the paths."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from unionhub.audit import service as audit
from unionhub.imports.reader import FileRejected, iter_rows
from unionhub.orgs.models import ALLOWED_PARENTS, LEVEL_BY_LABEL, Org, OrgLevel


class OrgError(ValueError):
    pass


def subtree(path_prefix: str) -> ColumnElement[bool]:
    return Org.path.like(path_prefix + "%")


def _check_parent(level: OrgLevel, parent: Org | None) -> None:
    allowed = ALLOWED_PARENTS[level]
    if parent is None and allowed:
        raise OrgError(f"「{level.value}」级工会必须有上级组织")
    if parent is not None and OrgLevel(parent.level) not in allowed:
        raise OrgError(f"「{parent.name}」({parent.level_label}) 下不能设立该层级的组织")


def create_org(session: Session, *, code: str, name: str, level: OrgLevel,
               parent: Org | None, agent_office: bool = False, address: str | None = None,
               contact: str | None = None, phone: str | None = None) -> Org:
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise OrgError("组织代码和名称不能为空")
    if session.scalar(select(Org.id).where(Org.code == code)):
        raise OrgError(f"组织代码 {code} 已存在")
    _check_parent(level, parent)
    org = Org(code=code, name=name, level=level.value, parent=parent, path="",
              depth=(parent.depth + 1) if parent else 0, agent_office=agent_office,
              address=address, contact=contact, phone=phone)
    session.add(org)
    session.flush()
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    audit.record("org.create", target_type="org", target_id=org.id, org_path=org.path,
                 details={"code": code, "name": name}, session=session)
    return org


def move_org(session: Session, org: Org, new_parent: Org) -> None:
    """Re-parent ``org``; its whole subtree follows in one UPDATE."""
    if new_parent.path.startswith(org.path):
        raise OrgError("不能把组织移动到它自己或它的下级组织之下")
    _check_parent(OrgLevel(org.level), new_parent)
    old_prefix = org.path
    new_prefix = f"{new_parent.path}{org.id}/"
    delta = new_parent.depth + 1 - org.depth
    session.flush()
    session.execute(
        update(Org)
        .where(Org.path.like(old_prefix + "%"))
        .values(path=new_prefix + func.substr(Org.path, len(old_prefix) + 1),
                depth=Org.depth + delta)
        .execution_options(synchronize_session=False)
    )
    org.parent_id = new_parent.id
    session.flush()
    session.expire_all()
    audit.record("org.move", target_type="org", target_id=org.id, org_path=new_prefix,
                 details={"from": old_prefix, "to": new_prefix}, session=session)
    reindex_members(session, new_prefix)


def reindex_members(session: Session, path_prefix: str) -> None:
    """Queue the search documents of every member in a subtree (their org name or access
    tokens changed)."""
    from unionhub.identity.models import Member
    from unionhub.search import queue as search_queue

    search_queue.enqueue_select(session, "core.member", select(Member.id).join(
        Org, Org.id == Member.org_id).where(Org.path.like(path_prefix + "%")))


ORG_REQUIRED = ("工会组织代码", "工会组织名称", "上级代码", "层级")
ORG_OPTIONAL = ("代办处", "地址", "联系人", "联系电话")


@dataclass
class OrgImportResult:
    created: int = 0
    updated: int = 0
    moved: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def import_orgs(session: Session, path: str | Path, *, dry_run: bool = False
                ) -> OrgImportResult:
    """Load the 工会组织 file. All or nothing: any rejected row writes nothing. Rows may list
    children before parents; importing the same file twice changes nothing."""
    result = OrgImportResult()
    try:
        table, rows = iter_rows(path, ORG_REQUIRED, ORG_OPTIONAL)
    except FileRejected as exc:
        result.errors.append(str(exc))
        return result
    result.warnings.extend(table.warnings)
    parsed: dict[str, tuple[int, dict[str, str], OrgLevel]] = {}
    for line, row in rows:
        code = row["工会组织代码"]
        level = LEVEL_BY_LABEL.get(row["层级"])
        if not code:
            result.errors.append(f"第 {line} 行 工会组织代码: 不能为空")
        elif not row["工会组织名称"]:
            result.errors.append(f"第 {line} 行 工会组织名称: 不能为空")
        elif level is None:
            result.errors.append(
                f"第 {line} 行 层级: 「{row['层级']}」不是 市总/区县/产业/基层/分会 之一")
        elif code in parsed:
            result.errors.append(f"第 {line} 行 工会组织代码: {code} 与第 {parsed[code][0]} 行重复")
        else:
            parsed[code] = (line, row, level)
    existing = {o.code: o for o in session.scalars(select(Org))}
    for code, (line, row, _level) in parsed.items():
        parent_code = row["上级代码"]
        if parent_code and parent_code not in parsed and parent_code not in existing:
            result.errors.append(f"第 {line} 行 上级代码: {parent_code} 不在组织体系中")
        if parent_code == code:
            result.errors.append(f"第 {line} 行 上级代码: 不能是自己")
    if result.errors:
        return result

    done: set[str] = set()

    def apply(code: str, chain: tuple[str, ...] = ()) -> None:
        if code in done or code not in parsed:
            return
        if code in chain:
            raise OrgError(f"上级代码成环: {' → '.join((*chain, code))}")
        line, row, level = parsed[code]
        parent_code = row["上级代码"]
        if parent_code:
            apply(parent_code, (*chain, code))
        parent = existing.get(parent_code) if parent_code else None
        attrs = {
            "name": row["工会组织名称"],
            "agent_office": row.get("代办处", "") == "是",
            "address": row.get("地址") or None,
            "contact": row.get("联系人") or None,
            "phone": row.get("联系电话") or None,
        }
        try:
            org = existing.get(code)
            if org is None:
                existing[code] = create_org(session, code=code, level=level, parent=parent,
                                            **attrs)  # type: ignore[arg-type]
                result.created += 1
            else:
                changed = False
                if org.level != level.value:
                    raise OrgError(f"层级不能从「{org.level_label}」改为「{row['层级']}」")
                renamed = org.name != attrs["name"]
                for k, v in attrs.items():
                    if getattr(org, k) != v:
                        setattr(org, k, v)
                        changed = True
                if renamed:
                    reindex_members(session, org.path)
                if (parent.id if parent else None) != org.parent_id:
                    if parent is None:
                        raise OrgError("不能把组织改为最上级")
                    move_org(session, org, parent)
                    result.moved += 1
                elif changed:
                    result.updated += 1
                else:
                    result.unchanged += 1
        except OrgError as exc:
            raise OrgError(f"第 {line} 行: {exc}") from exc
        done.add(code)

    try:
        with session.begin_nested():
            for code in parsed:
                apply(code)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except OrgError as exc:
        result.errors.append(str(exc))
        result.created = result.updated = result.moved = result.unchanged = 0
    return result


class _DryRun(Exception):
    pass
