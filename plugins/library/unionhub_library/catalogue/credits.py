"""Credited names: ``张三、李四 著；王五 译`` ⇄ a list of (name, role)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

#: Credit roles recognised after a name ("张三 译", "李四（编）"), longest first.
ROLES = ("主编", "编著", "编译", "改编", "选编", "校注", "整理", "口述", "编", "著", "译",
         "绘", "校", "注", "撰")
_ROLE_AT_END = re.compile(r"^(.*?)([\s(（\[【]*)(" + "|".join(ROLES) + r")[)）\]】]?$")
_NATIONALITY = re.compile(r"^[\[［【(（〔][^\]］】)）〕]{1,4}[\]］】)）〕]\s*")
_GROUP_SPLIT = re.compile(r"[;；\n]+")
_NAME_SPLIT = re.compile(r"[、,，/／]+")
_TAG_SPLIT = re.compile(r"[,，、;；\n]+")


@dataclass(frozen=True)
class Credit:
    """One credited name and its role (著, 译, 编 …; None when not stated)."""

    name: str
    role: str | None = None


def _clean_name(text: str) -> str:
    return " ".join(_NATIONALITY.sub("", text.strip()).split())


def parse_credits(value: str | Sequence[str | Credit] | None) -> list[Credit]:
    """Credits from text or a list. In text, groups are separated by ``；`` or new lines and
    names inside a group by ``、`` or commas; a role word ending a group applies to every name
    in it (``张三、李四 著；王五 译``). A nationality mark (``[英]``) is dropped from names."""
    if value is None:
        return []
    groups = _GROUP_SPLIT.split(value) if isinstance(value, str) else list(value)
    out: list[Credit] = []
    for group in groups:
        if isinstance(group, Credit):
            out.append(group)
            continue
        text = str(group).strip()
        if not text:
            continue
        role = None
        match = _ROLE_AT_END.match(text)
        # "鲁迅 著", "鲁迅（著）" and "鲁迅著" carry a role; a one-character stem ("王著") is
        # more likely a two-character name than a role.
        if match and match.group(1).strip() and (match.group(2) or len(match.group(1)) > 1):
            text, role = match.group(1), match.group(3)
        for name in _NAME_SPLIT.split(text):
            cleaned = _clean_name(name)
            if cleaned:
                out.append(Credit(cleaned, role))
    return out


def credits_display(credits: Sequence[Credit]) -> str:
    """``张三、李四 著；王五 译`` — consecutive names with the same role share it."""
    parts: list[str] = []
    names: list[str] = []
    role: str | None = None
    for i, credit in enumerate(credits):
        if i and credit.role != role:
            parts.append("、".join(names) + (f" {role}" if role else ""))
            names = []
        names.append(credit.name)
        role = credit.role
    if names:
        parts.append("、".join(names) + (f" {role}" if role else ""))
    return "；".join(parts)


def split_tags(value: str | Sequence[str] | None) -> list[str]:
    """Tags from text (separated by commas, ``、`` or ``；``) or a list, without repeats."""
    if value is None:
        return []
    items = _TAG_SPLIT.split(value) if isinstance(value, str) else [str(v) for v in value]
    out: list[str] = []
    for item in items:
        tag = " ".join(item.split())
        if tag and tag not in out:
            out.append(tag)
    return out
