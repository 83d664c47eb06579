"""Member groups: membership tests as SQL, so lists filter in the database.

Also what the back office needs: validated creation, adding members by pasted ID or Jingka
card numbers (each line resolved or rejected with a reason, only members inside the
officer's org scope accepted — the scope is a SQL clause), member counts per group, and the
demo's groups.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, delete, exists, func, insert, literal, select, true
from sqlalchemy.orm import Session

from unionhub.db import UTCDateTime, utcnow
from unionhub.groups.models import MemberGroup, MemberGroupMember
from unionhub.i18n import _
from unionhub.identity import service as identity
from unionhub.identity.models import Member, MemberStatus
from unionhub.identity.numbers import (
    InvalidNumber,
    mask_card_number,
    mask_id_number,
    normalize_digits,
    validate_card_number,
    validate_id_number,
)
from unionhub.orgs.models import Org

CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
NAME_MAX, DESCRIPTION_MAX = 100, 300
#: Lines accepted in one paste (an officer's list; a whole file goes through an import).
MAX_LINES = 1000
_SPLIT = re.compile(r"[\s,，;；、|]+")



class GroupError(ValueError):
    """A refused group change; ``field`` names the form field it is about."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def in_any_group(member_id_col: ColumnElement[int], group_ids: Iterable[int]
                 ) -> ColumnElement[bool]:
    """True for rows whose member belongs to at least one of ``group_ids``."""
    return exists(select(MemberGroupMember.member_id).where(
        MemberGroupMember.member_id == member_id_col,
        MemberGroupMember.group_id.in_(list(group_ids))))


def groups_of(session: Session, member_id: int) -> set[int]:
    return set(session.scalars(select(MemberGroupMember.group_id)
                               .where(MemberGroupMember.member_id == member_id)))


def _checked(code: str | None, name: str | None, description: str | None
             ) -> tuple[str, str, str | None]:
    code, name = (code or "").strip(), (name or "").strip()
    description = (description or "").strip() or None
    if not code:
        raise GroupError(_("请填写群体代码"), "code")
    if not CODE_RE.match(code):
        raise GroupError(_("群体代码须以小写字母开头，只含小写字母、数字和下划线，2至32个字符"),
                         "code")
    if not name:
        raise GroupError(_("请填写群体名称"), "name")
    if len(name) > NAME_MAX:
        raise GroupError(_("群体名称不能超过 %(n)s 个字", n=NAME_MAX), "name")
    if description and len(description) > DESCRIPTION_MAX:
        raise GroupError(_("说明不能超过 %(n)s 个字", n=DESCRIPTION_MAX), "description")
    return code, name, description


def create_group(session: Session, code: str, name: str, description: str | None = None
                 ) -> MemberGroup:
    """A new group; raises :class:`GroupError` (naming the field) on bad or duplicate input."""
    code, name, description = _checked(code, name, description)
    if session.scalar(select(MemberGroup.id).where(MemberGroup.code == code)):
        raise GroupError(_("群体代码 %(code)s 已存在", code=code), "code")
    group = MemberGroup(code=code, name=name, description=description)
    session.add(group)
    session.flush()
    return group


def update_group(session: Session, group: MemberGroup, name: str, description: str | None
                 ) -> None:
    """Rename a group or change its description (the code, which plugins may use, stays)."""
    _code, group.name, group.description = _checked(group.code, name, description)
    session.flush()


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


def member_counts(session: Session, scope: ColumnElement[bool] | None = None
                  ) -> dict[int, int]:
    """Members per group id, counting only members whose org matches ``scope`` (a clause on
    :class:`Org`, e.g. ``scope_filter(account, permission, Org.path)``). One query."""
    stmt = (select(MemberGroupMember.group_id, func.count())
            .join(Member, Member.id == MemberGroupMember.member_id)
            .join(Org, Org.id == Member.org_id)
            .where(scope if scope is not None else true())
            .group_by(MemberGroupMember.group_id))
    return {gid: int(n) for gid, n in session.execute(stmt)}


# --- adding members by pasted numbers ------------------------------------------------------

@dataclass(frozen=True)
class LineProblem:
    """A pasted line that added nobody: its number (1-based), the masked value, the reason."""

    line: int
    masked: str
    reason: str


@dataclass
class AddReport:
    added: int = 0
    already: int = 0
    #: Lines naming a member that an earlier line of the same paste already named.
    repeated: int = 0
    problems: list[LineProblem] = field(default_factory=list)
    added_ids: list[int] = field(default_factory=list)

    @property
    def lines_ok(self) -> int:
        return self.added + self.already + self.repeated


def _identifier(line: str) -> tuple[str, tuple[str, ...]] | None:
    """The ID or card number on a line and what it may be: the whole line (a card written
    in groups of four), else the one token that looks like a number (other columns such as
    a name pasted along with it)."""
    def kinds(raw: str) -> tuple[str, ...]:
        return tuple(k for k in identity.identifier_kinds(raw) if k != "mobile")

    whole = kinds(line)
    if whole:
        return normalize_digits(line).upper(), whole
    found = [(tok, k) for tok in _SPLIT.split(line) if tok and (k := kinds(tok))]
    if len(found) != 1:
        return None
    return normalize_digits(found[0][0]).upper(), found[0][1]


def _resolve(session: Session, number: str, kinds: tuple[str, ...]
             ) -> tuple[Member | None, str, str | None]:
    """(member or None, masked number, reason when the number itself is invalid)."""
    masked = mask_id_number(number) if "id" in kinds else mask_card_number(number)
    invalid: list[str] = []
    if "id" in kinds:
        try:
            validate_id_number(number)
        except InvalidNumber:
            invalid.append(_("身份证号无效（校验位或出生日期不对）"))
        else:
            member = identity.find_by_id_number(number, session)
            if member is not None:
                return member, masked, None
    if "card" in kinds:
        try:
            validate_card_number(number, bins=None)
        except InvalidNumber:
            invalid.append(_("京卡卡号无效（校验位不对）"))
        else:
            lookup = identity.find_by_card(number, session)
            if lookup is not None:
                return lookup.member, mask_card_number(number), None
    if len(invalid) == len(kinds):  # invalid as every kind of number it could be
        return None, masked, invalid[0]
    return None, masked, None


def add_by_numbers(session: Session, group: MemberGroup, text: str,
                   scope: ColumnElement[bool]) -> AddReport:
    """Add the members named on ``text``'s lines (resident ID or Jingka card numbers, one a
    line) whose org matches ``scope`` (a clause on :class:`Org`). Good lines are added even
    when others are bad; each bad line is reported with the reason. A member outside the
    scope is reported exactly like an unknown number, so the page never reveals who is a
    member elsewhere."""
    report = AddReport()
    lines = text.splitlines()
    if len([ln for ln in lines if ln.strip()]) > MAX_LINES:
        raise GroupError(_("一次最多粘贴 %(n)s 行，请分批添加", n=MAX_LINES), "lines")
    by_line: dict[int, tuple[int, str]] = {}
    for no, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        ident = _identifier(raw.strip())
        if ident is None:
            report.problems.append(LineProblem(no, mask_id_number(None), _(
                "无法识别：每行应为一个18位身份证号或16至19位京卡卡号")))
            continue
        member, masked, invalid = _resolve(session, *ident)
        if invalid:
            report.problems.append(LineProblem(no, masked, invalid))
        elif member is None:
            report.problems.append(LineProblem(no, masked, _("找不到该会员，或不在您的管辖范围内")))
        else:
            by_line[no] = (member.id, masked)
    in_scope = set(session.scalars(
        select(Member.id).join(Org, Org.id == Member.org_id)
        .where(Member.id.in_({mid for mid, _m in by_line.values()}), scope)))
    present = set(session.scalars(select(MemberGroupMember.member_id).where(
        MemberGroupMember.group_id == group.id, MemberGroupMember.member_id.in_(in_scope))))
    seen: set[int] = set()
    new: list[int] = []
    for no, (mid, masked) in by_line.items():
        if mid not in in_scope:
            report.problems.append(LineProblem(no, masked, _("找不到该会员，或不在您的管辖范围内")))
        elif mid in seen:
            report.repeated += 1
        elif mid in present:
            report.already += 1
        else:
            new.append(mid)
        seen.add(mid)
    report.problems.sort(key=lambda p: p.line)
    report.added = add_members(session, group, new)
    report.added_ids = new
    return report


# --- demo --------------------------------------------------------------------------------

#: code, name, description — the groups the demo seeds (plugins target them by code).
DEMO_GROUPS: list[tuple[str, str, str]] = [
    ("model_worker", "劳动模范", "全国、北京市及区级劳动模范和先进工作者"),
    ("female", "女职工", "在会女职工（女职工委员会工作对象）"),
    ("new_employment", "新就业形态劳动者", "快递员、外卖送餐员、网约车司机等新就业形态劳动者"),
    ("hardship", "困难职工", "建档困难职工及其家庭"),
    ("youth", "青年职工", "35周岁及以下的青年职工"),
]
YOUTH_MAX_AGE = 35


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def seed_demo_groups(session: Session, member_ids: Iterable[int] = (), *,
                     today: date | None = None, echo: Callable[[str], None] = print
                     ) -> dict[str, int]:
    """Create the demo groups (reusing those that exist) and fill them with active members,
    one ``INSERT … SELECT`` per group: about 2% model workers, 40% of the women, 5% new
    forms of employment, 3% hardship cases, and everyone aged 35 or under as youth.

    Shares are taken with fixed arithmetic on member ids so the demo is the same every run;
    ``member_ids`` (when given) limits the choice to the id range of the demo's members.
    Returns the members added per group code.
    """
    today = today or date.today()
    ids = list(member_ids)
    base = Member.status == MemberStatus.ACTIVE
    if ids:
        base = base & Member.id.between(min(ids), max(ids))
    picks: dict[str, ColumnElement[bool]] = {
        "model_worker": Member.id * 37 % 100 < 2,
        "female": (Member.sex == "F") & (Member.id * 13 % 5 < 2),
        "new_employment": Member.id * 53 % 100 < 5,
        "hardship": Member.id * 71 % 100 < 3,
        "youth": Member.birth_date > _years_before(today, YOUTH_MAX_AGE + 1),
    }
    now = utcnow()
    added: dict[str, int] = {}
    for code, name, description in DEMO_GROUPS:
        group = session.scalar(select(MemberGroup).where(MemberGroup.code == code))
        if group is None:
            group = create_group(session, code, name, description)
        rows = (select(literal(group.id), Member.id, literal(now, UTCDateTime))
                .where(base, picks[code],
                       ~exists().where(MemberGroupMember.group_id == group.id,
                                       MemberGroupMember.member_id == Member.id)))
        # Counted from RETURNING: psycopg reports no row count for INSERT … SELECT.
        added[code] = len(session.execute(insert(MemberGroupMember).from_select(
            ["group_id", "member_id", "added_at"], rows)
            .returning(MemberGroupMember.member_id)).all())
    session.flush()
    echo("会员群体: " + "，".join(f"{name} {added[code]}" for code, name, _d in DEMO_GROUPS))
    return added
