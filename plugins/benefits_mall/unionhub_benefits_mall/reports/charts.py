"""Inline SVG charts drawn on the server: no script, nothing fetched at run time.

Each chart is an ``<svg role="img">`` with a ``<title>`` and ``<desc>`` for screen readers,
a ``viewBox`` and ``width="100%"`` so it shrinks to a phone's width; pages show the same
figures in a table next to every chart. Labels arrive already translated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from markupsafe import Markup, escape

COLOURS = ("#c8102e", "#2f7ebc", "#e8833a", "#3a9d5d", "#7b4ea3", "#d4a017", "#1f9e9e",
           "#8a8f98")
MUTED = "#6b6f76"
GRID = "#e4e0dc"


def _n(value: Decimal | int) -> str:
    return str(Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _svg(key: str, width: int, height: int, title: str, desc: str) -> str:
    return (f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
            f'aria-labelledby="{key}-t {key}-d" xmlns="http://www.w3.org/2000/svg" '
            f'font-size="12" style="max-width:{width * 2}px;height:auto;display:block">'
            f'<title id="{key}-t">{escape(title)}</title>'
            f'<desc id="{key}-d">{escape(desc)}</desc>')


def _nothing(key: str, title: str, desc: str) -> Markup:
    return Markup(_svg(key, 320, 50, title, desc)
                  + f'<text x="160" y="30" text-anchor="middle" fill="{MUTED}">'
                  + f'{escape(_("暂无数据"))}</text></svg>')


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    note: str = ""  # printed after the value


def bars(key: str, title: str, desc: str, items: Sequence[Bar]) -> Markup:
    """Horizontal bars with the label above each bar (long names stay readable on a phone)."""
    if not items or max(b.value for b in items) <= 0:
        return _nothing(key, title, desc)
    width, row, left, right = 320, 32, 4, 70
    span = Decimal(width - left - right)
    top = max(b.value for b in items)
    out = [_svg(key, width, row * len(items) + 4, title, desc)]
    for i, b in enumerate(items):
        y = i * row
        length = span * max(b.value, 0) / top
        shown = f"{b.value}{b.note}"
        out.append(
            f'<text x="{left}" y="{y + 11}" fill="#222">{escape(b.label)}</text>'
            f'<rect x="{left}" y="{y + 15}" width="{_n(max(length, Decimal(1)))}" height="11" '
            f'rx="2" fill="{COLOURS[i % len(COLOURS)]}"/>'
            f'<text x="{_n(left + length + 4)}" y="{y + 25}" fill="{MUTED}">'
            f'{escape(shown)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[int]


def columns(key: str, title: str, desc: str, labels: Sequence[str], series: Sequence[Series],
            every: int = 5) -> Markup:
    """Side-by-side columns per label (e.g. one per day) for each series, with a legend;
    every ``every``-th label is printed under the axis, the last one always."""
    top = max((v for s in series for v in s.values), default=0)
    if not labels or top <= 0:
        return _nothing(key, title, desc)
    width, plot_top, plot_h, left = 360, 8, 140, 26
    base = plot_top + plot_h
    slot = Decimal(width - left - 4) / len(labels)
    bar_w = slot * Decimal("0.8") / len(series)
    out = [_svg(key, width, base + 40, title, desc)]
    for frac, text in ((Decimal(0), "0"), (Decimal(1), str(top))):
        y = base - plot_h * frac
        out.append(f'<line x1="{left}" x2="{width - 4}" y1="{_n(y)}" y2="{_n(y)}" '
                   f'stroke="{GRID}"/><text x="{left - 3}" y="{_n(y + 4)}" '
                   f'text-anchor="end" fill="{MUTED}" font-size="10">{text}</text>')
    for i, label in enumerate(labels):
        x0 = left + slot * i + slot / 10
        for j, s in enumerate(series):
            v = s.values[i]
            if v <= 0:
                continue
            h = Decimal(plot_h) * v / top
            out.append(f'<rect x="{_n(x0 + bar_w * j)}" y="{_n(base - h)}" '
                       f'width="{_n(bar_w)}" height="{_n(h)}" '
                       f'fill="{COLOURS[j % len(COLOURS)]}"><title>{escape(label)} '
                       f'{escape(s.label)}: {v}</title></rect>')
        if i % every == 0 or i == len(labels) - 1:
            out.append(f'<text x="{_n(left + slot * i + slot / 2)}" y="{base + 13}" '
                       f'text-anchor="middle" fill="{MUTED}" font-size="10">'
                       f'{escape(label)}</text>')
    for j, s in enumerate(series):
        x = 4 + j * 120
        out.append(f'<rect x="{x}" y="{base + 24}" width="10" height="10" '
                   f'fill="{COLOURS[j % len(COLOURS)]}"/><text x="{x + 14}" y="{base + 33}" '
                   f'font-size="11">{escape(s.label)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
