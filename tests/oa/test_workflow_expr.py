"""The condition language of workflow steps and the definition parser: what parses, what is
refused (with the position and the path), and how conditions evaluate on typed values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from unionhub_oa.workflow.definition import (
    DefinitionError,
    FieldDef,
    dump,
    parse,
    typed_values,
)
from unionhub_oa.workflow.expr import ExprError, compile_expr, tokenize

FIELDS = {
    "amount": FieldDef("amount", "金额", "decimal"),
    "人数": FieldDef("人数", "人数", "int"),
    "类别": FieldDef("类别", "类别", "choice", choices=("慰问", "培训", "活动")),
    "day": FieldDef("day", "日期", "date"),
    "note": FieldDef("note", "备注", "text"),
}


def ev(text: str, **values: Any) -> bool:
    return compile_expr(text, FIELDS).evaluate(values)


@pytest.mark.parametrize(("text", "values", "expected"), [
    ("amount > 5000", {"amount": Decimal("5000.01")}, True),
    ("amount > 5000", {"amount": Decimal("5000")}, False),
    ("amount >= 5000", {"amount": Decimal("5000.00")}, True),
    ("amount <= 0.5", {"amount": Decimal("0.50")}, True),
    ("amount < -1", {"amount": Decimal("-2")}, True),
    ("amount == 12.30", {"amount": Decimal("12.3")}, True),
    ("amount != 12", {"amount": Decimal("12")}, False),
    ("人数 > 10 and 类别 == '慰问'", {"人数": 11, "类别": "慰问"}, True),
    ("人数 > 10 && 类别 == \"慰问\"", {"人数": 11, "类别": "培训"}, False),
    ("人数 > 10 or 类别 == '慰问'", {"人数": 3, "类别": "慰问"}, True),
    ("人数 > 10 || 类别 == '慰问'", {"人数": 3, "类别": "培训"}, False),
    ("not 人数 > 10", {"人数": 3}, True),
    ("!(人数 > 10)", {"人数": 30}, False),
    ("类别 in ['慰问', '培训']", {"类别": "培训"}, True),
    ("类别 not in ['慰问', '培训']", {"类别": "培训"}, False),
    ("类别 not in ['慰问']", {"类别": "活动"}, True),
    ("amount in [100, 200]", {"amount": Decimal("200.00")}, True),
    ("day >= '2025-07-01'", {"day": date(2025, 7, 1)}, True),
    ("day < '2025-07-01'", {"day": date(2025, 7, 1)}, False),
    ("note == null", {}, True),
    ("note != null", {"note": "x"}, True),
    ("amount > 100", {}, False),  # a missing value satisfies no ordering
    ("(amount > 100 or 人数 > 1) and not (类别 == '活动')",
     {"amount": Decimal(50), "人数": 2, "类别": "慰问"}, True),
    ("a and b or c", None, None),  # precedence: (a and b) or c — checked below
])
def test_evaluation(text: str, values: dict[str, Any] | None, expected: bool | None) -> None:
    if values is None:
        expr = compile_expr(text)
        assert expr.evaluate({"a": 0, "b": 1, "c": 1}) is True
        assert expr.evaluate({"a": 1, "b": 0, "c": 0}) is False
        assert expr.names == {"a", "b", "c"}
        return
    assert ev(text, **values) is expected


def test_precedence_of_not_and_or() -> None:
    expr = compile_expr("not a or b and c")  # (not a) or (b and c)
    assert expr.evaluate({"a": 1, "b": 1, "c": 1}) is True
    assert expr.evaluate({"a": 1, "b": 1, "c": 0}) is False
    assert expr.evaluate({"a": 0, "b": 0, "c": 0}) is True


def test_escaped_quotes_and_chinese_names() -> None:
    assert tokenize(r"'it\'s' ")[0].value == "it's"
    assert tokenize(r'"a\\b"')[0].value == "a\\b"
    expr = compile_expr("申请金额 > 1000")
    assert expr.names == {"申请金额"}
    assert expr.evaluate({"申请金额": Decimal("1000.5")}) is True


@pytest.mark.parametrize(("text", "pos", "fragment"), [
    ("", 0, "空"),
    ("amount >", 8, "不完整"),
    ("amount > 5000 and", 17, "不完整"),
    ("(amount > 1", 11, "右括号"),
    ("amount = 1", 7, "=="),
    ("amount > 1 )", 11, "多余"),
    ("amount > 'abc", 9, "引号"),
    ("amount # 1", 7, "不认识的字符"),
    ("类别 in '慰问'", 6, "列表"),
    ("类别 in ['慰问'", 11, "右方括号"),
    ("类别 in [note]", 7, "数字、字符串"),
    ("12abc > 1", 2, "数字后面"),
])
def test_syntax_errors_carry_the_position(text: str, pos: int, fragment: str) -> None:
    with pytest.raises(ExprError) as err:
        compile_expr(text)
    assert err.value.position == pos, err.value
    assert fragment in err.value.message
    assert f"第 {pos + 1} 个字符" in str(err.value)


@pytest.mark.parametrize(("text", "pos", "fragment"), [
    ("amunt > 5000", 0, "amunt"),
    ("amount > 1 and 人 == 2", 15, "人"),
    ("amount > '5000'", 0, "数字和文字"),
    ("note > 1", 0, "文字和数字"),
    ("day > '2025-13-40'", 6, "不是日期"),
    ("类别 == '奖励'", 6, "奖励"),
    ("类别 in ['慰问', '奖励']", 13, "奖励"),
    ("amount > null", 9, "null"),
    ("amount > true", 0, "true/false"),
    ("[1, 2] == amount", 0, "列表"),
])
def test_checks_against_the_fields(text: str, pos: int, fragment: str) -> None:
    compile_expr(text)  # fine without the fields
    with pytest.raises(ExprError) as err:
        compile_expr(text, FIELDS)
    assert err.value.position == pos, err.value
    assert fragment in err.value.message


def test_limits_and_no_eval() -> None:
    with pytest.raises(ExprError):
        compile_expr("(" * 60 + "a" + ")" * 60)
    with pytest.raises(ExprError):
        compile_expr("a == 1 or " * 200 + "a == 1")
    with pytest.raises(ExprError):  # Python is not the language: no calls, no attributes
        compile_expr("__import__('os').system('true')")
    with pytest.raises(ExprError):
        compile_expr("amount.real > 1")


def test_runtime_mismatch_is_an_error_not_a_guess() -> None:
    expr = compile_expr("x > 1")
    with pytest.raises(ExprError):
        expr.evaluate({"x": "abc"})
    assert compile_expr("x == 1").evaluate({"x": "1"}) is False


# -- definitions -----------------------------------------------------------------------


GOOD = {
    "fields": [
        {"name": "amount", "label": "金额（元）", "type": "decimal", "required": True},
        {"name": "类别", "label": "类别", "type": "choice", "choices": ["慰问", "培训"]},
        {"name": "day", "type": "date"},
    ],
    "steps": [
        {"key": "district", "name": "区/产业工会审核",
         "approvers": {"by": "role", "role": "district_officer", "org": "level:district"},
         "mode": "any", "deadline_hours": 48, "when": "amount > 5000"},
        {"key": "city", "name": "市总签批", "approvers": {"by": "users", "users": ["city"]},
         "mode": "ratio", "ratio": "0.6", "cc": {"by": "role", "role": "city_officer",
                                                 "org": "city"}},
    ],
}


def test_parse_and_dump_round_trip() -> None:
    defn = parse(GOOD)
    assert [f.name for f in defn.fields] == ["amount", "类别", "day"]
    assert defn.fields[2].label == "day" and defn.fields[0].required
    first, second = defn.steps
    assert first.approvers.org == "level:district" and first.deadline_hours == 48
    assert second.ratio == Decimal("0.6") and second.approvers.users == ("city",)
    assert second.cc is not None and second.cc.role == "city_officer"
    assert defn.condition(0).evaluate({"amount": Decimal(6000)}) is True
    assert defn.condition(1) is None
    assert parse(dump(defn)) == defn
    values = typed_values(defn, {"amount": "6000.50", "day": "2025-03-01", "类别": "慰问"})
    assert values == {"amount": Decimal("6000.50"), "类别": "慰问", "day": date(2025, 3, 1)}


def test_invalid_definitions_name_every_path() -> None:
    bad = {
        "fields": [
            {"name": "amount", "type": "money"},
            {"name": "amount", "type": "int"},
            {"name": "1st", "type": "text"},
            {"name": "kind", "type": "choice"},
            {"label": "无名"},
            {"name": "n", "type": "int"},
        ],
        "steps": [
            {"key": "a", "name": "", "approvers": {"by": "role"}, "mode": "most"},
            {"key": "a", "name": "二", "approvers": {"by": "users", "users": []},
             "mode": "ratio", "ratio": 2},
            {"key": "c", "name": "三", "approvers": {"by": "role", "role": "x", "org": "moon"},
             "deadline_hours": 0, "when": "n > 5000 and nope == 1", "deadline": 3},
            {"key": "d", "name": "四", "approvers": {"by": "group"}, "ratio": "0.5"},
        ],
        "extra": 1,
    }
    with pytest.raises(DefinitionError) as err:
        parse(bad)
    msgs = err.value.messages
    assert set(msgs) >= {
        "fields[0].type", "fields[1].name", "fields[2].name", "fields[3].choices",
        "fields[4].name", "steps[0].name", "steps[0].approvers.role", "steps[0].mode",
        "steps[1].key", "steps[1].approvers.users", "steps[1].ratio", "steps[2].approvers.org",
        "steps[2].deadline_hours", "steps[2].when", "steps[2].deadline",
        "steps[3].approvers.by", "steps[3].ratio", "extra"}, msgs
    assert "nope" in msgs["steps[2].when"] and "第 14 个字符" in msgs["steps[2].when"]
    assert "重复" in msgs["fields[1].name"]


def test_no_steps_and_not_an_object() -> None:
    with pytest.raises(DefinitionError) as err:
        parse({"fields": []})
    assert "steps" in err.value.messages
    with pytest.raises(DefinitionError) as err:
        parse([])  # type: ignore[arg-type]
    assert "" in err.value.messages
