"""Book stylesheets made harmless and scoped to the chapter's container.

A book's CSS is written by a stranger. We keep what typesetting needs and drop the rest:

- at-rules go (``@import``, ``@font-face``, ``@namespace``, ``@page``, ``@keyframes`` …) except
  ``@media``, whose inner rules are cleaned the same way;
- a declaration survives only if its property is on :data:`PROPERTIES` and its value loads
  nothing and escapes nothing (no ``url(``, ``image-set(``, ``expression``, ``behavior``,
  ``-moz-binding``, ``javascript:``, backslash escapes, ``var(``, ``attr(``); ``!important`` is
  removed (the reader's font size and night mode must win); font sizes and line heights must be
  relative (so A−/A+ still work), margins, paddings and indents are bounded and margins not
  negative (nothing is pushed off a 390-px screen or pulled over the page); widths are capped
  by the reader page itself (``max-width: 100% !important`` on everything in the chapter);
- every selector is rewritten under :data:`SCOPE` with the book's class and id names prefixed
  (:data:`PREFIX`, as :mod:`.render` does in the markup); ``html``/``:root`` at the start is
  dropped and ``body`` becomes the chapter's body container ``.bk-body``. A selector starting
  with a combinator, or holding characters that could close the rule, is dropped.

So a book can restyle its own text and nothing of the page around it. The output contains no
``<``, so it can also be put inside a ``<style>`` element.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

SCOPE = ".reader-content"
PREFIX = "bk-"
BODY_CLASS = f"{PREFIX}body"
MAX_CSS_CHARS = 512 * 1024
MAX_SELECTORS = 5000

PROPERTIES = frozenset({
    "color", "background-color", "font-style", "font-weight", "font-variant", "font-size",
    "font-family", "line-height", "letter-spacing", "word-spacing", "text-align",
    "text-align-last", "text-indent", "text-decoration", "text-decoration-line",
    "text-decoration-style", "text-decoration-color", "text-transform", "text-emphasis",
    "text-emphasis-style", "text-emphasis-position", "text-emphasis-color",
    "text-combine-upright", "vertical-align", "white-space", "word-break", "word-wrap",
    "overflow-wrap", "hyphens", "line-break", "margin", "margin-top", "margin-right",
    "margin-bottom", "margin-left", "padding", "padding-top", "padding-right", "padding-bottom",
    "padding-left", "border", "border-top", "border-right", "border-bottom", "border-left",
    "border-width", "border-style", "border-color", "border-top-width", "border-top-style",
    "border-top-color", "border-right-width", "border-right-style", "border-right-color",
    "border-bottom-width", "border-bottom-style", "border-bottom-color", "border-left-width",
    "border-left-style", "border-left-color", "border-radius", "border-collapse",
    "border-spacing", "width", "max-width", "height", "max-height", "min-height",
    "display", "float", "clear", "list-style-type", "list-style-position", "page-break-before",
    "page-break-after", "page-break-inside", "break-before", "break-after", "break-inside",
    "orphans", "widows", "caption-side", "empty-cells", "table-layout", "ruby-position",
    "ruby-align", "font-feature-settings", "font-kerning", "text-shadow",
})

DISPLAY_VALUES = frozenset({
    "block", "inline", "inline-block", "none", "list-item", "table", "table-row",
    "table-cell", "table-caption", "table-header-group", "table-footer-group",
    "table-row-group", "table-column", "table-column-group", "ruby", "ruby-text", "flow-root",
})

FORBIDDEN = ("url(", "image(", "image-set(", "element(", "expression", "behavior", "binding",
             "javascript:", "vbscript:", "var(", "attr(", "env(", "\\", "<", ">", "@", "{", "}",
             "/*", "*/")
SIZE_PROPS = frozenset({"font-size", "line-height"})
BOX_SIZE_PROPS = frozenset({"width", "max-width", "height", "max-height", "min-height"})
SPACING_PROPS = frozenset({"margin", "margin-top", "margin-right", "margin-bottom",
                           "margin-left", "padding", "padding-top", "padding-right",
                           "padding-bottom", "padding-left", "text-indent"})
#: The largest margin, padding or indent kept, per unit (so a block cannot be pushed off a
#: 390-px screen).
SPACING_LIMITS = {"": 0.0, "em": 10.0, "ex": 20.0, "ch": 20.0, "rem": 10.0, "%": 50.0,
                  "px": 64.0, "pt": 48.0}

_COMMENT = re.compile(r"/\*.*?(\*/|$)", re.S)
_IMPORTANT = re.compile(r"!\s*important\s*$", re.I)
_PROPERTY = re.compile(r"^-?[a-z][a-z0-9-]*$")
_NUMBER_UNIT = re.compile(r"(-?\d*\.?\d+)([a-z%]*)", re.I)
_RELATIVE_UNITS = frozenset({"", "em", "%", "ex", "ch"})
_SIZE_WORDS = frozenset({"xx-small", "x-small", "small", "medium", "large", "x-large",
                         "xx-large", "smaller", "larger", "normal", "inherit", "initial",
                         "unset"})
_MEDIA_QUERY = re.compile(r"^[a-zA-Z0-9 ,():.\-]+$")
_BAD_SELECTOR_CHARS = re.compile(r"[{}<;@\\]|/\*")
_LEADING_ROOT = re.compile(r"^(?:html|:root)(?![\w-])\s*(?:>\s*)?", re.I)
_LEADING_BODY = re.compile(r"^body(?![\w-])", re.I)


# -- tokenising --------------------------------------------------------------------------------


def _split_top(text: str, sep: str) -> list[str]:
    """Split ``text`` on ``sep`` outside strings, parentheses and brackets."""
    parts: list[str] = []
    depth, quote, start = 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(depth - 1, 0)
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _blocks(text: str) -> Iterator[tuple[str, str | None]]:
    """Top-level statements as ``(prelude, body)``; ``body`` is None for a statement that
    ends with ``;`` (``@import …;``). Strings are respected; an unterminated block ends the
    sheet."""
    i, n = 0, len(text)
    start = 0
    quote = ""
    while i < n:
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == ";":
            yield text[start:i].strip(), None
            start = i + 1
        elif ch == "{":
            prelude = text[start:i].strip()
            depth, j, q = 1, i + 1, ""
            while j < n and depth:
                c = text[j]
                if q:
                    if c == q:
                        q = ""
                elif c in "\"'":
                    q = c
                elif c == "{":
                    depth += 1
                elif c == "}":
                    depth -= 1
                j += 1
            if depth:
                return
            yield prelude, text[i + 1:j - 1]
            i = start = j
            continue
        elif ch == "}":  # a stray closing brace: skip it
            start = i + 1
        i += 1


# -- declarations ------------------------------------------------------------------------------


def _lengths(value: str) -> list[tuple[float, str]]:
    return [(float(number), unit.lower()) for number, unit in _NUMBER_UNIT.findall(value)]


def _value_ok(prop: str, value: str) -> bool:
    """The rules on sizes (see the module docstring); ``value`` is lower-cased."""
    if prop == "display":
        return value in DISPLAY_VALUES
    if prop in SIZE_PROPS:
        words = set(re.findall(r"[a-z-]+", value)) - _SIZE_WORDS - _RELATIVE_UNITS
        return not words and all(n >= 0 and (u in _RELATIVE_UNITS or n == 0)
                                 for n, u in _lengths(value))
    if prop in BOX_SIZE_PROPS:
        return all(n >= 0 for n, _u in _lengths(value))
    if prop in SPACING_PROPS:
        negative_ok = prop == "text-indent"
        for n, u in _lengths(value):
            if (n < 0 and not negative_ok) or (n != 0 and abs(n) > SPACING_LIMITS.get(u, -1)):
                return False
    return True


def clean_declaration(prop: str, value: str) -> str | None:
    """``prop: value`` as kept, or None when it is dropped."""
    prop = prop.strip().lower()
    value = _IMPORTANT.sub("", value.strip()).strip()
    if not _PROPERTY.match(prop) or prop not in PROPERTIES or not value or len(value) > 300:
        return None
    lowered = value.lower()
    if any(bad in lowered for bad in FORBIDDEN) or any(ord(c) < 32 for c in value):
        return None
    if not _value_ok(prop, lowered):
        return None
    return f"{prop}: {value}"


def clean_declarations(text: str) -> str:
    """A declaration block (a rule's body or a ``style`` attribute) with only what is kept."""
    kept: list[str] = []
    for part in _split_top(_COMMENT.sub(" ", text), ";"):
        prop, colon, value = part.partition(":")
        if not colon:
            continue
        decl = clean_declaration(prop, value)
        if decl is not None:
            kept.append(decl)
    return "; ".join(kept)


# -- selectors ---------------------------------------------------------------------------------


def _prefix_names(selector: str) -> str:
    """``.name`` → ``.bk-name`` and ``#name`` → ``#bk-name`` outside ``[…]`` and strings."""
    out: list[str] = []
    depth, quote = 0, ""
    i, n = 0, len(selector)
    while i < n:
        ch = selector[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(depth - 1, 0)
        elif ch in ".#" and depth == 0 and i + 1 < n and (
                selector[i + 1].isalpha() or selector[i + 1] in "_-"):
            out.append(ch + PREFIX)
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def scope_selector(selector: str) -> str | None:
    """One selector rewritten under :data:`SCOPE`, or None when it is dropped."""
    sel = " ".join(selector.split())
    if not sel or _BAD_SELECTOR_CHARS.search(sel) or len(sel) > 500:
        return None
    sel = _LEADING_ROOT.sub("", sel)
    if not sel:
        return SCOPE
    if _LEADING_BODY.match(sel):
        rest = sel[4:]
        sel = "." + BODY_CLASS + _prefix_names(rest)
    else:
        if sel[0] in ">+~":
            return None
        sel = _prefix_names(sel)
    return f"{SCOPE} {sel}"


# -- sheets ------------------------------------------------------------------------------------


def _rules(text: str, budget: list[int]) -> list[str]:
    out: list[str] = []
    for prelude, body in _blocks(text):
        if body is None or not prelude:
            continue  # @import, @charset, @namespace … and empty preludes
        if prelude.startswith("@"):
            name, _, query = prelude[1:].partition(" ")
            if name.lower() == "media" and _MEDIA_QUERY.match(query.strip() or "all"):
                inner = _rules(body, budget)
                if inner:
                    out.append(f"@media {query.strip()} {{\n" + "\n".join(inner) + "\n}")
            continue
        selectors = [s for s in (scope_selector(p) for p in _split_top(prelude, ","))
                     if s is not None]
        budget[0] -= len(selectors)
        if budget[0] < 0:
            break
        declarations = clean_declarations(body)
        if selectors and declarations:
            out.append(f"{', '.join(selectors)} {{ {declarations} }}")
    return out


def clean_stylesheet(text: str) -> str:
    """A whole stylesheet, cleaned and scoped (see the module docstring)."""
    text = _COMMENT.sub(" ", text[:MAX_CSS_CHARS]).replace("\x00", "")
    return "\n".join(_rules(text, [MAX_SELECTORS])) + "\n"


def decode(data: bytes) -> str:
    """A stylesheet's bytes as text (UTF-8, its BOM removed; undecodable bytes replaced)."""
    return data.decode("utf-8-sig", errors="replace")
