"""Small inline SVG charts rendered on the server: no JavaScript, nothing from a CDN.

Each chart is an ``<svg role="img">`` with ``<title>`` and ``<desc>`` (read by screen readers),
a ``viewBox`` and ``width="100%"`` so it scales to a phone's width; the page shows the same
numbers in a table under every chart. Callers pass labels already translated (``_()``).
Geometry is computed with :class:`~decimal.Decimal` so amounts never pass through float.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from markupsafe import Markup, escape

PALETTE = ("#c8102e", "#e8833a", "#2f7ebc", "#3a9d5d", "#8a8f98", "#7b4ea3", "#d4a017",
           "#1f9e9e")
_MUTED = "#6b6f76"
_GRID = "#e4e0dc"


def _n(value: Decimal | int) -> str:
    """A coordinate with one decimal."""
    return str(Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _open(key: str, width: int, height: int, title: str, desc: str) -> str:
    return (f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
            f'preserveAspectRatio="xMidYMid meet" aria-labelledby="{key}-t {key}-d" '
            f'xmlns="http://www.w3.org/2000/svg" font-size="12" '
            f'style="max-width:{width * 2}px;height:auto;display:block">'
            f'<title id="{key}-t">{escape(title)}</title><desc id="{key}-d">{escape(desc)}</desc>')


def _empty(key: str, title: str, desc: str) -> Markup:
    return Markup(_open(key, 320, 60, title, desc)
                  + f'<text x="160" y="35" text-anchor="middle" fill="{_MUTED}">'
                  + f'{escape(_("暂无数据"))}</text></svg>')


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal | int
    shown: str = ""  # the text printed at the bar's end (default: the value)


def bar_chart(key: str, title: str, desc: str, bars: Sequence[Bar]) -> Markup:
    """Horizontal bars, label above each bar: long Chinese names stay readable on a phone."""
    if not bars or all(Decimal(b.value) <= 0 for b in bars):
        return _empty(key, title, desc)
    width, row, left, right = 320, 34, 4, 64
    span = Decimal(width - left - right)
    top = max(Decimal(b.value) for b in bars)
    height = row * len(bars) + 6
    parts = [_open(key, width, height, title, desc)]
    for i, b in enumerate(bars):
        y = i * row
        length = span * Decimal(b.value) / top if Decimal(b.value) > 0 else Decimal(0)
        colour = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<text x="{left}" y="{y + 12}" fill="#222">{escape(b.label)}</text>'
            f'<rect x="{left}" y="{y + 16}" width="{_n(max(length, Decimal(1)))}" height="12" '
            f'rx="2" fill="{colour}"/>'
            f'<text x="{_n(left + length + 4)}" y="{y + 26}" fill="{_MUTED}">'
            f'{escape(b.shown or str(b.value))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[int]


def stacked_columns(key: str, title: str, desc: str, categories: Sequence[str],
                    series: Sequence[Series]) -> Markup:
    """Vertical columns (one per category, e.g. month), each stacked by series, with a legend."""
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    if not categories or not any(totals):
        return _empty(key, title, desc)
    width, plot_top, plot_h, left = 360, 10, 150, 28
    col_w = Decimal(width - left - 4) / len(categories)
    top = max(totals)
    legend_rows = (len(series) + 2) // 3
    height = plot_top + plot_h + 22 + legend_rows * 18
    base = plot_top + plot_h
    parts = [_open(key, width, height, title, desc)]
    for frac, label in ((Decimal(0), "0"), (Decimal(1), str(top))):
        y = base - plot_h * frac
        parts.append(f'<line x1="{left}" x2="{width - 4}" y1="{_n(y)}" y2="{_n(y)}" '
                     f'stroke="{_GRID}"/><text x="{left - 4}" y="{_n(y + 4)}" '
                     f'text-anchor="end" fill="{_MUTED}" font-size="10">{label}</text>')
    for i, cat in enumerate(categories):
        x = left + col_w * i + col_w / 8
        w = col_w * 3 / 4
        y = Decimal(base)
        for j, s in enumerate(series):
            v = s.values[i]
            if v <= 0:
                continue
            h = Decimal(plot_h) * v / top
            y -= h
            parts.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" '
                         f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(cat)} '
                         f'{escape(s.label)}: {v}</title></rect>')
        parts.append(f'<text x="{_n(x + w / 2)}" y="{base + 14}" text-anchor="middle" '
                     f'fill="{_MUTED}" font-size="10">{escape(cat)}</text>')
    for j, s in enumerate(series):
        lx = 4 + (j % 3) * 118
        ly = base + 24 + (j // 3) * 18
        parts.append(f'<rect x="{lx}" y="{ly}" width="10" height="10" '
                     f'fill="{PALETTE[j % len(PALETTE)]}"/>'
                     f'<text x="{lx + 14}" y="{ly + 9}" font-size="11">{escape(s.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def gauge(key: str, title: str, desc: str, percent: Decimal | None, caption: str) -> Markup:
    """A donut showing one percentage (``None``: no data yet) with ``caption`` under it."""
    # r = 100 / 2π: the circumference is 100, so stroke-dasharray takes the percentage itself.
    r = "15.9155"
    parts = [_open(key, 120, 130, title, desc),
             f'<g transform="translate(60 56) scale(2.6)">'
             f'<circle r="{r}" fill="none" stroke="{_GRID}" stroke-width="4"/>']
    if percent is not None:
        shown = min(max(percent, Decimal(0)), Decimal(100))
        parts.append(f'<circle r="{r}" fill="none" stroke="{PALETTE[3]}" stroke-width="4" '
                     f'stroke-dasharray="{_n(shown)} {_n(100 - shown)}" '
                     f'transform="rotate(-90)"/>')
    parts.append("</g>")
    text = f"{percent}%" if percent is not None else "—"
    parts.append(f'<text x="60" y="62" text-anchor="middle" font-size="18" font-weight="bold" '
                 f'fill="#222">{escape(text)}</text>'
                 f'<text x="60" y="124" text-anchor="middle" fill="{_MUTED}" font-size="11">'
                 f'{escape(caption)}</text></svg>')
    return Markup("".join(parts))
