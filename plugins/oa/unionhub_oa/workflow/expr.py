"""The condition language of workflow steps (``when``): a small, safe expression language of
our own — a tokenizer and a recursive-descent parser; user text is never handed to ``eval``.

Grammar (lowest precedence first)::

    expr    := or
    or      := and (("or" | "||") and)*
    and     := not (("and" | "&&") not)*
    not     := ("not" | "!") not | compare
    compare := primary (("==" | "!=" | "<" | "<=" | ">" | ">=") primary
                        | "in" list | "not" "in" list)?
    primary := NUMBER | STRING | "true" | "false" | "null" | NAME | "(" expr ")" | list
    list    := "[" (literal ("," literal)*)? "]"

Numbers are :class:`~decimal.Decimal` (``-`` allowed before a number), strings are quoted with
``'`` or ``"`` (backslash escapes the quote and itself), names are the request's field names
(Chinese allowed). With the definition's fields given, :func:`compile_expr` refuses unknown
names and comparisons that cannot work (a number field against a string, a date field against
a string that is not a date, a choice field against a value that is not one of its choices).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from unionhub.i18n import _

MAX_LENGTH = 1000
MAX_DEPTH = 40
KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
COMPARE = ("==", "!=", "<=", ">=", "<", ">")
SYMBOLS = ("==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")", "[", "]", ",")
NUMBER_TYPES = frozenset({"int", "decimal"})
STRING_TYPES = frozenset({"text", "textarea", "choice"})


class ExprError(ValueError):
    """A condition that does not parse, names an unknown field or cannot be evaluated.
    ``position`` is the 0-based character offset of the problem."""

    def __init__(self, message: str, position: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return _("第 %(pos)s 个字符处：%(msg)s", pos=self.position + 1, msg=self.message)


class FieldSpec(Protocol):
    """What the checker needs of a field (``definition.FieldDef`` has it)."""

    @property
    def type(self) -> str: ...

    @property
    def choices(self) -> Sequence[str]: ...


# -- tokens ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # "num", "str", "name", "kw", "op", "end"
    value: Any
    pos: int


def _is_name_start(ch: str) -> bool:
    return ch == "_" or ch.isalpha()


def _is_name_char(ch: str) -> bool:
    return ch == "_" or ch.isalnum()


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "'\"":
            start, i = i, i + 1
            chars: list[str] = []
            while True:
                if i >= n:
                    raise ExprError(_("字符串缺少结尾的引号"), start)
                c = text[i]
                if c == "\\" and i + 1 < n and text[i + 1] in ("\\", ch):
                    chars.append(text[i + 1])
                    i += 2
                    continue
                if c == ch:
                    i += 1
                    break
                chars.append(c)
                i += 1
            tokens.append(Token("str", "".join(chars), start))
            continue
        if ch.isdigit() and ch.isascii():
            start = i
            while i < n and text[i].isascii() and text[i].isdigit():
                i += 1
            if i < n and text[i] == "." and i + 1 < n and text[i + 1].isascii() \
                    and text[i + 1].isdigit():
                i += 1
                while i < n and text[i].isascii() and text[i].isdigit():
                    i += 1
            if i < n and _is_name_char(text[i]):
                raise ExprError(_("数字后面不能紧跟字母"), i)
            tokens.append(Token("num", Decimal(text[start:i]), start))
            continue
        if _is_name_start(ch):
            start = i
            while i < n and _is_name_char(text[i]):
                i += 1
            word = text[start:i]
            tokens.append(Token("kw" if word in KEYWORDS else "name", word, start))
            continue
        for sym in SYMBOLS:
            if text.startswith(sym, i):
                tokens.append(Token("op", sym, i))
                i += len(sym)
                break
        else:
            if ch == "-":
                tokens.append(Token("op", "-", i))
                i += 1
                continue
            if ch == "=":
                raise ExprError(_("比较相等请写“==”"), i)
            raise ExprError(_("不认识的字符“%(ch)s”", ch=ch), i)
    tokens.append(Token("end", None, n))
    return tokens


# -- the tree --------------------------------------------------------------------------


class Node:
    pos: int

    def value(self, values: Mapping[str, Any]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class Literal(Node):
    val: Any
    pos: int
    kind: str  # "number", "string", "bool", "null"

    def value(self, values: Mapping[str, Any]) -> Any:
        return self.val


@dataclass
class ListLit(Node):
    items: list[Literal]
    pos: int

    def value(self, values: Mapping[str, Any]) -> Any:
        return [item.val for item in self.items]


@dataclass
class Name(Node):
    name: str
    pos: int

    def value(self, values: Mapping[str, Any]) -> Any:
        return values.get(self.name)


@dataclass
class Not(Node):
    operand: Node
    pos: int

    def value(self, values: Mapping[str, Any]) -> Any:
        return not _truth(self.operand.value(values))


@dataclass
class Logic(Node):
    op: str  # "and" | "or"
    left: Node
    right: Node
    pos: int

    def value(self, values: Mapping[str, Any]) -> Any:
        left = _truth(self.left.value(values))
        if self.op == "and":
            return left and _truth(self.right.value(values))
        return left or _truth(self.right.value(values))


@dataclass
class Compare(Node):
    op: str  # one of COMPARE, "in", "not in"
    left: Node
    right: Node
    pos: int

    def value(self, values: Mapping[str, Any]) -> Any:
        left = self.left.value(values)
        right = self.right.value(values)
        if self.op in ("in", "not in"):
            found = any(_equal(left, item) for item in right)
            return found if self.op == "in" else not found
        if self.op == "==":
            return _equal(left, right)
        if self.op == "!=":
            return not _equal(left, right)
        a, b = _comparable(left, right)
        if a is None or b is None:
            return False  # a missing value satisfies no ordering
        if type(a) is not type(b):
            raise ExprError(_("无法比较“%(a)s”和“%(b)s”", a=left, b=right), self.pos)
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[self.op]


def _truth(value: Any) -> bool:
    return value not in (None, "", 0, False) and value != Decimal(0)


def _comparable(a: Any, b: Any) -> tuple[Any, Any]:
    """Bring two values to one type where that makes sense (numbers to Decimal, an ISO date
    string next to a date to a date)."""
    a, b = _num(a), _num(b)
    if isinstance(a, date) and isinstance(b, str):
        b = _date_or_none(b) or b
    elif isinstance(b, date) and isinstance(a, str):
        a = _date_or_none(a) or a
    return a, b


def _num(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return Decimal(v)
    return v


def _equal(a: Any, b: Any) -> bool:
    a, b = _comparable(a, b)
    if a is None or b is None:
        return a is None and b is None
    if type(a) is not type(b):
        return False
    return bool(a == b)


def _date_or_none(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


# -- the parser ------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def at(self, kind: str, *values: str) -> bool:
        t = self.tok
        return t.kind == kind and (not values or t.value in values)

    def expect_op(self, op: str, message: str) -> Token:
        if not self.at("op", op):
            raise ExprError(message, self.tok.pos)
        return self.take()

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise ExprError(_("条件是空的"), 0)
        node = self.or_()
        if self.tok.kind != "end":
            raise ExprError(_("多余的内容“%(text)s”", text=self.tok.value), self.tok.pos)
        return node

    def _nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(_("条件嵌套太深"), self.tok.pos)

    def or_(self) -> Node:
        node = self.and_()
        while self.at("kw", "or") or self.at("op", "||"):
            t = self.take()
            node = Logic("or", node, self.and_(), t.pos)
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.at("kw", "and") or self.at("op", "&&"):
            t = self.take()
            node = Logic("and", node, self.not_(), t.pos)
        return node

    def not_(self) -> Node:
        if self.at("kw", "not") or self.at("op", "!"):
            t = self.take()
            self._nest()
            node = Not(self.not_(), t.pos)
            self.depth -= 1
            return node
        return self.compare()

    def compare(self) -> Node:
        left = self.primary()
        t = self.tok
        if t.kind == "op" and t.value in COMPARE:
            self.take()
            right = self.primary()
            return Compare(t.value, left, right, t.pos)
        if self.at("kw", "in"):
            self.take()
            return Compare("in", left, self.list_(), t.pos)
        if self.at("kw", "not") and self.tokens[self.i + 1].kind == "kw" \
                and self.tokens[self.i + 1].value == "in":
            self.take()
            self.take()
            return Compare("not in", left, self.list_(), t.pos)
        return left

    def list_(self) -> ListLit:
        start = self.expect_op("[", _("“in”后面应是方括号里的列表，如 ['甲', '乙']"))
        items: list[Literal] = []
        if not self.at("op", "]"):
            while True:
                items.append(self.literal())
                if self.at("op", ","):
                    self.take()
                    continue
                break
        self.expect_op("]", _("列表缺少右方括号“]”"))
        return ListLit(items, start.pos)

    def literal(self) -> Literal:
        t = self.tok
        if t.kind == "num":
            self.take()
            return Literal(t.value, t.pos, "number")
        if t.kind == "str":
            self.take()
            return Literal(t.value, t.pos, "string")
        if self.at("op", "-") and self.tokens[self.i + 1].kind == "num":
            self.take()
            num = self.take()
            return Literal(-num.value, t.pos, "number")
        if self.at("kw", "true", "false"):
            self.take()
            return Literal(t.value == "true", t.pos, "bool")
        if self.at("kw", "null"):
            self.take()
            return Literal(None, t.pos, "null")
        raise ExprError(_("这里应是数字、字符串、true、false 或 null"), t.pos)

    def primary(self) -> Node:
        t = self.tok
        if self.at("op", "("):
            self.take()
            self._nest()
            node = self.or_()
            self.depth -= 1
            self.expect_op(")", _("缺少右括号“)”"))
            return node
        if self.at("op", "["):
            return self.list_()
        if t.kind == "name":
            self.take()
            return Name(t.value, t.pos)
        if t.kind == "end":
            raise ExprError(_("条件不完整"), t.pos)
        if t.kind in ("num", "str") or self.at("op", "-") or self.at("kw", "true", "false",
                                                                     "null"):
            return self.literal()
        raise ExprError(_("这里不能是“%(text)s”", text=t.value), t.pos)


# -- checking against the definition's fields ------------------------------------------


def _kind_of_field(spec: FieldSpec) -> str:
    if spec.type in NUMBER_TYPES:
        return "number"
    if spec.type == "date":
        return "date"
    return "string"


def _check(node: Node, fields: Mapping[str, FieldSpec]) -> str:
    """Type-check ``node``; returns its kind ("number", "string", "date", "bool", "null",
    "list")."""
    if isinstance(node, Literal):
        return node.kind
    if isinstance(node, ListLit):
        return "list"
    if isinstance(node, Name):
        if node.name not in fields:
            raise ExprError(_("没有名为“%(name)s”的字段", name=node.name), node.pos)
        return _kind_of_field(fields[node.name])
    if isinstance(node, Not):
        _check(node.operand, fields)
        return "bool"
    if isinstance(node, Logic):
        _check(node.left, fields)
        _check(node.right, fields)
        return "bool"
    assert isinstance(node, Compare)
    left = _check(node.left, fields)
    if left == "list":
        raise ExprError(_("列表只能出现在“in”的右边"), node.left.pos)
    if isinstance(node.right, ListLit):
        if node.op not in ("in", "not in"):
            raise ExprError(_("列表只能出现在“in”的右边"), node.right.pos)
        for item in node.right.items:
            _check_pair(node.left, left, item, item.kind, "==", fields)
        return "bool"
    right = _check(node.right, fields)
    _check_pair(node.left, left, node.right, right, node.op, fields)
    return "bool"


def _check_pair(a: Node, ka: str, b: Node, kb: str, op: str,
                fields: Mapping[str, FieldSpec]) -> None:
    ordering = op in ("<", "<=", ">", ">=")
    if "null" in (ka, kb):
        if ordering:
            raise ExprError(_("null 只能用 == 或 != 比较"), b.pos if kb == "null" else a.pos)
        return
    if ordering and "bool" in (ka, kb):
        raise ExprError(_("true/false 不能比较大小"), a.pos)
    # a string literal next to a date field must be a date
    for x, kx, y, ky in ((a, ka, b, kb), (b, kb, a, ka)):
        if kx == "date" and ky == "string" and isinstance(y, Literal):
            if _date_or_none(y.val) is None:
                raise ExprError(_("“%(text)s”不是日期（应为 2025-01-31 这样的格式）",
                                  text=y.val), y.pos)
            return
        if isinstance(x, Name) and isinstance(y, Literal) and ky == "string" \
                and fields[x.name].type == "choice" and fields[x.name].choices \
                and y.val not in fields[x.name].choices:
            raise ExprError(_("“%(text)s”不是字段“%(name)s”的选项", text=y.val, name=x.name),
                            y.pos)
    if ka != kb:
        raise ExprError(_("不能把%(a)s和%(b)s相比较", a=_KIND_LABELS[ka], b=_KIND_LABELS[kb]),
                        a.pos)


_KIND_LABELS = {"number": "数字", "string": "文字", "date": "日期", "bool": "true/false",
                "list": "列表", "null": "null"}


def _names(node: Node) -> set[str]:
    if isinstance(node, Name):
        return {node.name}
    if isinstance(node, Not):
        return _names(node.operand)
    if isinstance(node, Logic | Compare):
        return _names(node.left) | _names(node.right)
    return set()


@dataclass(frozen=True)
class Expr:
    """A compiled condition."""

    text: str
    root: Node

    @property
    def names(self) -> frozenset[str]:
        """The field names the condition reads."""
        return frozenset(_names(self.root))

    def evaluate(self, values: Mapping[str, Any]) -> bool:
        """True when the condition holds for ``values`` (field name → typed value; a missing
        field is ``None``). Raises :class:`ExprError` for values that cannot be compared."""
        return _truth(self.root.value(values))


def compile_expr(text: str, fields: Mapping[str, FieldSpec] | None = None) -> Expr:
    """Parse ``text``; with ``fields`` (name → field definition) also refuse unknown names and
    comparisons of mismatched types."""
    if not isinstance(text, str):
        raise ExprError(_("条件应是文字"), 0)
    if len(text) > MAX_LENGTH:
        raise ExprError(_("条件太长（不超过 %(n)s 个字符）", n=MAX_LENGTH), MAX_LENGTH)
    root = _Parser(text).parse()
    if fields is not None:
        _check(root, fields)
    return Expr(text, root)


__all__ = ["Expr", "ExprError", "compile_expr", "tokenize"]
