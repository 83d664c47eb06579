"""Titles and snippets with the matched words in ``<b>``, as safe Markup.

Matching is done on the same leaves the index uses (so 工会 is marked inside 总工会 and a
phrase is marked only where its words are adjacent). Everything that is not a ``<b>`` tag
we add is escaped: documents may contain HTML.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from unionhub.search.analysis import segmenter, words

SNIPPET_CHARS = 120
LEAD_CHARS = 24


def _leaf_spans(text: str) -> list[tuple[str, int, int]]:
    leaves = segmenter().leaves
    out: list[tuple[str, int, int]] = []
    for word, start, _end in words(text):
        for leaf in leaves(word):
            out.append((leaf, start, start + len(leaf)))
            start += len(leaf)
    return out


def match_ranges(text: str, sequences: Sequence[tuple[str, ...]]) -> list[tuple[int, int]]:
    """Character ranges of ``text`` where one of the leaf ``sequences`` occurs, merged."""
    if not text or not sequences:
        return []
    spans = _leaf_spans(text)
    leaves = [s[0] for s in spans]
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for seq in sequences:
        if seq:
            by_first.setdefault(seq[0], []).append(seq)
    ranges: list[tuple[int, int]] = []
    for i, leaf in enumerate(leaves):
        for seq in by_first.get(leaf, ()):
            n = len(seq)
            if tuple(leaves[i:i + n]) == seq:
                ranges.append((spans[i][1], spans[i + n - 1][2]))
                break
    ranges.sort()
    merged: list[tuple[int, int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def mark(text: str, ranges: Sequence[tuple[int, int]], start: int = 0,
         end: int | None = None) -> Markup:
    """``text[start:end]`` escaped, with ``ranges`` wrapped in ``<b>``."""
    end = len(text) if end is None else end
    out: list[Markup] = []
    pos = start
    for a, b in ranges:
        a, b = max(a, start), min(b, end)
        if a >= b:
            continue
        out.append(escape(text[pos:a]))
        out.append(Markup("<b>{}</b>").format(text[a:b]))
        pos = b
    out.append(escape(text[pos:end]))
    return Markup("").join(out)


def title_html(title: str, sequences: Sequence[tuple[str, ...]]) -> Markup:
    return mark(title, match_ranges(title, sequences))


def snippet(body: str, sequences: Sequence[tuple[str, ...]],
            length: int = SNIPPET_CHARS) -> Markup:
    """The window of ``body`` holding the most matches (its start when none)."""
    body = " ".join(body.split())
    ranges = match_ranges(body, sequences)
    start = 0
    if ranges:
        best = -1
        for a, _b in ranges:
            cand = max(0, a - LEAD_CHARS)
            n = sum(1 for x, y in ranges if x >= cand and y <= cand + length)
            if n > best:
                best, start = n, cand
    end = min(len(body), start + length)
    html = mark(body, ranges, start, end)
    if start > 0:
        html = Markup("…") + html
    if end < len(body):
        html = html + Markup("…")
    return html
