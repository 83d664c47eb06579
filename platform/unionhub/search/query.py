"""From what a user typed to what must match, independent of the index implementation.

- ``"职工服务热线"`` (ASCII, Chinese “…” or 「…」 quotes): those words, adjacent, in order.
- anything else: every word must occur (in the title or the body); a compound word also
  matches its own parts adjacent (职工服务热线 ≈ 职工 服务 热线), and a long one (4+
  characters) its parts anywhere — so the scattered words are found too, but the exact
  phrase scores more: it matches every alternative, plus an adjacency boost.
- a run of single characters (a name jieba does not know, 李 娜) is matched as a phrase.

Whole words only (no overlapping sub-words): that keeps common-word queries fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from unionhub.search.analysis import leaves_of, segmenter, words

QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”|「([^」]+)」|(\S+)')
STRAY_QUOTES = '"“”「」'
MAX_CHARS = 100
MAX_TERMS = 12


@dataclass(frozen=True)
class QueryPart:
    text: str
    phrase: bool


def parse(text: str) -> list[QueryPart]:
    """Split the query into quoted phrases and plain chunks (at most ``MAX_CHARS``)."""
    parts: list[QueryPart] = []
    for m in QUOTED.finditer(text[:MAX_CHARS]):
        quoted = m.group(1) or m.group(2) or m.group(3)
        if quoted is not None:
            if quoted.strip():
                parts.append(QueryPart(quoted.strip(), True))
        else:
            chunk = m.group(4).strip(STRAY_QUOTES)
            if chunk:
                parts.append(QueryPart(chunk, False))
    return parts


@dataclass(frozen=True)
class Requirement:
    """One thing every hit must contain. ``word`` is None for a phrase requirement."""

    leaves: tuple[str, ...]
    word: str | None = None
    #: Parts (2+ characters) of a long word that may also occur apart.
    scattered: tuple[str, ...] = ()


@dataclass
class QueryPlan:
    required: list[Requirement] = field(default_factory=list)
    #: Leaf sequences whose adjacency earns a bonus (all unquoted words, in order).
    boosts: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.required

    def highlight_sequences(self) -> list[tuple[str, ...]]:
        """Leaf sequences to mark in titles and snippets."""
        seqs = {r.leaves for r in self.required}
        seqs.update((s,) for r in self.required for s in r.scattered)
        return sorted(seqs, key=len, reverse=True)


def _requirements(chunk: str) -> list[Requirement]:
    seg = segmenter()
    out: list[Requirement] = []
    singles: list[str] = []

    def flush() -> None:
        if singles:
            out.append(Requirement(tuple(singles)) if len(singles) > 1
                       else Requirement((singles[0],), singles[0]))
            singles.clear()

    for word, _start, _end in words(chunk):
        if len(word) == 1 and not word.isascii():
            singles.append(word)
            continue
        flush()
        leaves = seg.leaves(word)
        long_parts = tuple(p for p in leaves if len(p) > 1)
        scattered = long_parts if len(word) >= 4 and len(long_parts) > 1 else ()
        out.append(Requirement(leaves, word, scattered))
    flush()
    return out


def plan(text: str) -> QueryPlan:
    """What to match for ``text``; an empty plan when nothing searchable is left."""
    result = QueryPlan()
    plain: list[Requirement] = []
    for part in parse(text):
        if part.phrase:
            leaves = tuple(leaves_of(part.text))
            if leaves:
                result.required.append(Requirement(leaves))
            continue
        reqs = _requirements(part.text)
        result.required.extend(reqs)
        plain.extend(reqs)
    if len(plain) > 1:
        # The unquoted words in the order typed, adjacent: the "exact phrase" bonus.
        result.boosts.append(tuple(leaf for r in plain for leaf in r.leaves))
    result.required = result.required[:MAX_TERMS]
    return result
