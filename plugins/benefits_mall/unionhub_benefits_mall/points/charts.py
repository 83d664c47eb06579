"""A small server-rendered SVG chart for the points report (the same approach as the mutual-aid
office dashboard: no JavaScript, nothing from a CDN, ``role="img"`` with a title and a
description, scaled to the phone's width, the numbers repeated in a table under it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from markupsafe import Markup, escape

PALETTE = ("#c8102e", "#2f7ebc", "#8a8f98", "#3a9d5d", "#e8833a")
_MUTED = "#6b6f76"


def _n(value: Decimal | int) -> str:
    return str(Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Group:
    """One org's bars: one value per series."""

    label: str
    values: Sequence[int]


def grouped_bars(key: str, title: str, desc: str, series: Sequence[str],
                 groups: Sequence[Group]) -> Markup:
    """Horizontal bars grouped by org (label above each group), one colour per series, with a
    legend; ``series`` and labels are already translated."""
    def head(w: int, h: int) -> str:  # org names may hold braces: no str.format over them
        return (f'<svg class="chart" role="img" viewBox="0 0 {w} {h}" width="100%" '
                f'preserveAspectRatio="xMidYMid meet" aria-labelledby="{key}-t {key}-d" '
                f'xmlns="http://www.w3.org/2000/svg" font-size="12" '
                f'style="max-width:640px;height:auto;display:block">'
                f'<title id="{key}-t">{escape(title)}</title>'
                f'<desc id="{key}-d">{escape(desc)}</desc>')
    top = max((v for g in groups for v in g.values), default=0)
    width = 320
    if not groups or top <= 0:
        return Markup(head(width, 60) + f'<text x="160" y="35" text-anchor="middle" '
                      f'fill="{_MUTED}">{escape(_("暂无数据"))}</text></svg>')
    bar, gap, label_h, left, right = 10, 2, 16, 4, 64
    group_h = label_h + len(series) * (bar + gap) + 8
    legend_y = group_h * len(groups) + 4
    height = legend_y + 18
    span = Decimal(width - left - right)
    parts = [head(width, height)]
    for i, g in enumerate(groups):
        y = i * group_h
        parts.append(f'<text x="{left}" y="{y + 12}" fill="#222">{escape(g.label)}</text>')
        for j, value in enumerate(g.values):
            by = y + label_h + j * (bar + gap)
            length = span * Decimal(max(value, 0)) / top
            parts.append(
                f'<rect x="{left}" y="{by}" width="{_n(max(length, Decimal(1)))}" '
                f'height="{bar}" rx="2" fill="{PALETTE[j % len(PALETTE)]}">'
                f'<title>{escape(g.label)} {escape(series[j])}: {value}</title></rect>'
                f'<text x="{_n(left + length + 4)}" y="{by + 9}" fill="{_MUTED}" '
                f'font-size="10">{value}</text>')
    for j, name in enumerate(series):
        lx = 4 + j * 78
        parts.append(f'<rect x="{lx}" y="{legend_y}" width="10" height="10" '
                     f'fill="{PALETTE[j % len(PALETTE)]}"/>'
                     f'<text x="{lx + 14}" y="{legend_y + 9}" font-size="11">'
                     f'{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
