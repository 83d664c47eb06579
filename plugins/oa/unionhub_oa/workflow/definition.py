"""Workflow definitions: the JSON stored in ``OaWorkflowVersion.definition``, parsed into
frozen dataclasses and checked with one message per offending path.

Shape::

    {"fields": [{"name": "amount", "label": "金额（元）", "type": "decimal", "required": true}],
     "steps": [{"key": "district", "name": "区/产业工会审核",
                "approvers": {"by": "role", "role": "district_officer", "org": "level:district"},
                "mode": "any", "deadline_hours": 48, "when": "amount > 5000",
                "cc": {"by": "users", "users": ["finance"]}}]}

Approver org rules are relative to the initiating org: ``initiator``, ``parent``,
``level:district`` (the nearest ancestor-or-self at district or industry level),
``level:grassroots``, ``city`` (the root) or ``code:<org code>``. What needs the database
(roles, user names and org codes that exist) is checked by :func:`.engine.check`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from unionhub.i18n import _

from .expr import ExprError, compile_expr

FIELD_TYPES = ("text", "textarea", "int", "decimal", "date", "choice")
MODES = ("single", "any", "all", "ratio", "sequential")
ORG_RULES = ("initiator", "parent", "level:district", "level:grassroots", "city")
FIELD_TYPE_LABELS = {"text": "单行文字", "textarea": "多行文字", "int": "整数",
                     "decimal": "金额/小数", "date": "日期", "choice": "选项"}
MODE_LABELS = {"single": "单人审批", "any": "或签（一人同意即可）", "all": "会签（全部同意）",
               "ratio": "按比例会签", "sequential": "依次审批"}
ORG_RULE_LABELS = {"initiator": "发起单位", "parent": "上级工会",
                   "level:district": "所属区/产业工会", "level:grassroots": "所属基层工会",
                   "city": "市总工会"}
KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
MAX_STEPS = 30
MAX_FIELDS = 40


class DefinitionError(ValueError):
    """An invalid definition: ``messages`` maps each offending path (``steps[1].when``,
    ``fields[0].name``…) to what is wrong there."""

    def __init__(self, messages: Mapping[str, str]) -> None:
        self.messages = dict(messages)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.messages.items()))


@dataclass(frozen=True)
class FieldDef:
    """A field of the request form."""

    name: str
    label: str
    type: str = "text"
    required: bool = False
    choices: tuple[str, ...] = ()

    @property
    def type_label(self) -> str:
        return FIELD_TYPE_LABELS.get(self.type, self.type)


@dataclass(frozen=True)
class ApproverRule:
    """Who approves (or is copied): holders of ``role`` at the org the ``org`` rule names,
    or the accounts named in ``users`` (user names)."""

    by: str = "role"
    role: str | None = None
    org: str = "initiator"
    users: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepDef:
    """A step: its approvers, how their decisions combine, an optional deadline and an
    optional condition (the step is skipped when it is false)."""

    key: str
    name: str
    approvers: ApproverRule
    mode: str = "any"
    ratio: Decimal | None = None
    deadline_hours: int | None = None
    when: str | None = None
    cc: ApproverRule | None = None

    @property
    def mode_label(self) -> str:
        return MODE_LABELS.get(self.mode, self.mode)


@dataclass(frozen=True)
class Definition:
    fields: tuple[FieldDef, ...]
    steps: tuple[StepDef, ...]

    def field(self, name: str) -> FieldDef | None:
        return next((f for f in self.fields if f.name == name), None)

    def condition(self, index: int) -> Any:
        """The compiled ``when`` of step ``index`` (None when it has none)."""
        when = self.steps[index].when
        if not when:
            return None
        return compile_expr(when, {f.name: f for f in self.fields})


def _unknown(data: Mapping[str, Any], known: tuple[str, ...], path: str,
             errors: dict[str, str]) -> None:
    """A misspelt key (``deadline`` for ``deadline_hours``) would be ignored silently."""
    for key in sorted(set(data) - set(known), key=str):
        errors[f"{path}.{key}" if path else str(key)] = _("不认识的项目“%(key)s”", key=key)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _rule(data: Any, path: str, errors: dict[str, str]) -> ApproverRule | None:
    if not isinstance(data, Mapping):
        errors[path] = _("应是一个对象（含 by 以及 role 或 users）")
        return None
    by = data.get("by", "role")
    _unknown(data, ("by", "role", "org", "users"), path, errors)
    if by == "role":
        role = _text(data.get("role"))
        if role is None:
            errors[f"{path}.role"] = _("请填写角色")
        org = data.get("org", "initiator")
        if not isinstance(org, str) or not (
                org in ORG_RULES or (org.startswith("code:") and org[5:].strip())):
            errors[f"{path}.org"] = _(
                "组织应是 initiator、parent、level:district、level:grassroots、city "
                "或 code:<组织代码>")
            org = "initiator"
        if role is None:
            return None
        return ApproverRule("role", role=role, org=org.strip())
    if by == "users":
        users = data.get("users")
        if not isinstance(users, list | tuple) or not users \
                or not all(_text(u) for u in users):
            errors[f"{path}.users"] = _("请列出至少一个用户名")
            return None
        names = tuple(dict.fromkeys(u.strip() for u in users))
        return ApproverRule("users", users=names)
    errors[f"{path}.by"] = _("审批人应按角色（role）或指定用户（users）")
    return None


def _field(data: Any, path: str, errors: dict[str, str], seen: set[str]) -> FieldDef | None:
    if not isinstance(data, Mapping):
        errors[path] = _("应是一个对象")
        return None
    _unknown(data, ("name", "label", "type", "required", "choices"), path, errors)
    name = _text(data.get("name"))
    ok = True
    if name is None:
        errors[f"{path}.name"] = _("请填写字段名")
        ok = False
    elif not name.isidentifier() or name in {"and", "or", "not", "in", "true", "false",
                                              "null"} or len(name) > 40:
        errors[f"{path}.name"] = _("字段名“%(name)s”只能由文字、字母、数字和下划线组成，"
                                   "不能以数字开头", name=name)
        ok = False
    elif name in seen:
        errors[f"{path}.name"] = _("字段名“%(name)s”重复", name=name)
        ok = False
    else:
        seen.add(name)
    label = _text(data.get("label")) or name
    ftype = data.get("type", "text")
    if ftype not in FIELD_TYPES:
        errors[f"{path}.type"] = _("字段类型应是 %(types)s 之一", types=", ".join(FIELD_TYPES))
        ok = False
    choices: tuple[str, ...] = ()
    raw_choices = data.get("choices") or ()
    if ftype == "choice":
        if not isinstance(raw_choices, list | tuple) or not raw_choices \
                or not all(_text(c) for c in raw_choices):
            errors[f"{path}.choices"] = _("选项字段请列出选项")
            ok = False
        else:
            choices = tuple(dict.fromkeys(str(c).strip() for c in raw_choices))
    required = data.get("required", False)
    if not isinstance(required, bool):
        errors[f"{path}.required"] = _("应是 true 或 false")
        ok = False
    if not ok or name is None:
        return None
    return FieldDef(name, label or name, ftype, required, choices)


def _step(data: Any, path: str, errors: dict[str, str], seen: set[str],
          fields: Mapping[str, FieldDef]) -> StepDef | None:
    if not isinstance(data, Mapping):
        errors[path] = _("应是一个对象")
        return None
    before = len(errors)
    _unknown(data, ("key", "name", "approvers", "mode", "ratio", "deadline_hours", "when", "cc"),
             path, errors)
    key = _text(data.get("key"))
    if key is None or not KEY_RE.match(key):
        errors[f"{path}.key"] = _("环节代码应由字母、数字和下划线组成（不超过 32 个字符）")
    elif key in seen:
        errors[f"{path}.key"] = _("环节代码“%(key)s”重复", key=key)
    else:
        seen.add(key)
    name = _text(data.get("name"))
    if name is None:
        errors[f"{path}.name"] = _("请填写环节名称")
    elif len(name) > 60:
        errors[f"{path}.name"] = _("环节名称不能超过 %(n)s 个字", n=60)
    approvers = _rule(data.get("approvers"), f"{path}.approvers", errors)
    mode = data.get("mode", "any")
    if mode not in MODES:
        errors[f"{path}.mode"] = _("审批方式应是 %(modes)s 之一", modes=", ".join(MODES))
    ratio: Decimal | None = None
    raw_ratio = data.get("ratio")
    if mode == "ratio":
        try:
            ratio = Decimal(str(raw_ratio))
            if not (Decimal(0) < ratio <= Decimal(1)):
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors[f"{path}.ratio"] = _("按比例会签请填写 0 到 1 之间的比例（如 0.6）")
    elif raw_ratio is not None:
        errors[f"{path}.ratio"] = _("只有按比例会签才需要比例")
    deadline = data.get("deadline_hours")
    if deadline is not None and (isinstance(deadline, bool) or not isinstance(deadline, int)
                                 or not 0 < deadline <= 24 * 365):
        errors[f"{path}.deadline_hours"] = _("时限应是 1 到 8760 之间的整数小时")
        deadline = None
    when = data.get("when")
    if when is not None and not isinstance(when, str):
        errors[f"{path}.when"] = _("条件应是文字")
        when = None
    when = when.strip() if when else None
    if when:
        try:
            compile_expr(when, fields)
        except ExprError as exc:
            errors[f"{path}.when"] = str(exc)
    cc = None
    if data.get("cc") is not None:
        cc = _rule(data["cc"], f"{path}.cc", errors)
    if len(errors) > before or key is None or name is None or approvers is None:
        return None
    return StepDef(key, name, approvers, mode, ratio, deadline, when or None, cc)


def parse(data: Mapping[str, Any]) -> Definition:
    """Check ``data`` (the JSON shape above) and return the :class:`Definition`; raises
    :class:`DefinitionError` listing every problem by path."""
    errors: dict[str, str] = {}
    if not isinstance(data, Mapping):
        raise DefinitionError({"": _("流程定义应是一个对象")})
    raw_fields = data.get("fields") or []
    fields: list[FieldDef] = []
    if not isinstance(raw_fields, list | tuple):
        errors["fields"] = _("字段应是一个列表")
        raw_fields = []
    elif len(raw_fields) > MAX_FIELDS:
        errors["fields"] = _("字段不能超过 %(n)s 个", n=MAX_FIELDS)
    seen: set[str] = set()
    for i, raw in enumerate(raw_fields):
        f = _field(raw, f"fields[{i}]", errors, seen)
        if f is not None:
            fields.append(f)
    by_name = {f.name: f for f in fields}
    raw_steps = data.get("steps")
    steps: list[StepDef] = []
    if not isinstance(raw_steps, list | tuple) or not raw_steps:
        errors["steps"] = _("至少需要一个审批环节")
        raw_steps = []
    elif len(raw_steps) > MAX_STEPS:
        errors["steps"] = _("审批环节不能超过 %(n)s 个", n=MAX_STEPS)
    keys: set[str] = set()
    for i, raw in enumerate(raw_steps):
        st = _step(raw, f"steps[{i}]", errors, keys, by_name)
        if st is not None:
            steps.append(st)
    _unknown(data, ("fields", "steps"), "", errors)
    if errors:
        raise DefinitionError(errors)
    return Definition(tuple(fields), tuple(steps))


def _dump_rule(rule: ApproverRule) -> dict[str, Any]:
    if rule.by == "users":
        return {"by": "users", "users": list(rule.users)}
    return {"by": "role", "role": rule.role, "org": rule.org}


def dump(defn: Definition) -> dict[str, Any]:
    """The JSON form of ``defn`` (``parse(dump(d)) == d``)."""
    fields = []
    for f in defn.fields:
        item: dict[str, Any] = {"name": f.name, "label": f.label, "type": f.type,
                                "required": f.required}
        if f.choices:
            item["choices"] = list(f.choices)
        fields.append(item)
    steps = []
    for st in defn.steps:
        step: dict[str, Any] = {"key": st.key, "name": st.name,
                                "approvers": _dump_rule(st.approvers), "mode": st.mode}
        if st.ratio is not None:
            step["ratio"] = str(st.ratio)
        if st.deadline_hours is not None:
            step["deadline_hours"] = st.deadline_hours
        if st.when:
            step["when"] = st.when
        if st.cc is not None:
            step["cc"] = _dump_rule(st.cc)
        steps.append(step)
    return {"fields": fields, "steps": steps}


def typed_value(f: FieldDef, raw: Any) -> Any:
    """A stored field value as the condition language sees it (None when empty or not of the
    field's type)."""
    if raw is None or raw == "":
        return None
    try:
        if f.type == "int":
            return int(raw)
        if f.type == "decimal":
            return Decimal(str(raw))
        if f.type == "date":
            return raw if isinstance(raw, date) else date.fromisoformat(str(raw))
    except (ValueError, InvalidOperation):
        return None
    return str(raw)


def typed_values(defn: Definition, stored: Mapping[str, Any]) -> dict[str, Any]:
    return {f.name: typed_value(f, stored.get(f.name)) for f in defn.fields}


__all__ = [
    "MODES",
    "MODE_LABELS",
    "ApproverRule",
    "Definition",
    "DefinitionError",
    "FieldDef",
    "StepDef",
    "dump",
    "parse",
    "typed_value",
    "typed_values",
]
