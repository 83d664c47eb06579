"""Small inline SVG charts drawn on the server: no JavaScript, nothing fetched from a CDN.

Shared by the plugins' dashboards (a plugin must not import another plugin, so this lives in
the core). Every chart is an ``<svg role="img">`` whose ``<title>`` and ``<desc>`` (ids made
from ``key``) are read by screen readers; a ``viewBox`` with ``width="100%"`` lets it shrink to
a phone's width. Pages repeat the same figures in a table next to every chart, so a chart never
has to be the only way to read them.

Labels arrive already translated (``_()``) and are data: org and merchant names may hold
``<``, ``&`` or braces. Every piece of text is passed through :func:`markupsafe.escape` and
placed with f-strings; ``str.format`` is never run over text. Geometry is computed with
:class:`~decimal.Decimal`, so amounts never pass through float.

The functions:

* :func:`bars` — horizontal bars, the label above each bar (long Chinese names stay readable);
* :func:`grouped_bars` — the same, one bar per series in each group, with a legend;
* :func:`columns` — vertical columns over categories (days, months), stacked or side by side,
  with a legend;
* :func:`gauge` — a donut showing one percentage.

Each of them returns :func:`no_data` (a small chart saying 暂无数据) when there is nothing to
draw. :func:`svg_open`, :func:`coord`, :func:`figure` and the colours are public so that a
plugin can draw a chart of its own in the same style.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeAlias

from flask_babel import gettext as _
from markupsafe import Markup, escape

Number: TypeAlias = Decimal | int

#: Series colours, in the order they are handed out.
PALETTE = ("#c8102e", "#2f7ebc", "#e8833a", "#3a9d5d", "#7b4ea3", "#d4a017", "#1f9e9e",
           "#8a8f98")
#: Labels and texts.
INK = "#222"
#: Values, axis labels and the 暂无数据 text.
MUTED = "#6b6f76"
#: Axis lines and the gauge's track.
GRID = "#e4e0dc"
#: The gauge's arc.
GAUGE = "#3a9d5d"

#: Width of one legend entry: three entries (six Chinese characters each) fit in 320.
_LEGEND_SLOT = 104
_LEGEND_ROW = 18


def colour(index: int) -> str:
    """The palette colour of the ``index``-th series (the palette repeats)."""
    return PALETTE[index % len(PALETTE)]


def coord(value: Number) -> str:
    """A coordinate or length with one decimal (half up)."""
    return str(Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def figure(value: Number) -> str:
    """A value as printed on a chart: as given, never in exponent notation."""
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def svg_open(key: str, width: int, height: int, title: str, desc: str) -> str:
    """The ``<svg role="img">`` start tag with its ``<title>`` and ``<desc>``.

    Returns escaped markup as a plain ``str``, to be joined with the chart's other pieces and
    ``</svg>`` and wrapped in :class:`~markupsafe.Markup` once: a ``Markup`` here would escape
    the plain strings concatenated to it. ``max-width`` keeps a small chart from growing past
    twice its drawn size on a wide screen.
    """
    k = escape(key)
    return (f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
            f'preserveAspectRatio="xMidYMid meet" aria-labelledby="{k}-t {k}-d" '
            f'xmlns="http://www.w3.org/2000/svg" font-size="12" '
            f'style="max-width:{width * 2}px;height:auto;display:block">'
            f'<title id="{k}-t">{escape(title)}</title><desc id="{k}-d">{escape(desc)}</desc>')


def no_data(key: str, title: str, desc: str) -> Markup:
    """A small chart saying 暂无数据, keeping the title and description for screen readers."""
    return Markup(svg_open(key, 320, 60, title, desc)
                  + f'<text x="160" y="35" text-anchor="middle" fill="{MUTED}">'
                  + f'{escape(_("暂无数据"))}</text></svg>')


def _legend(names: Sequence[str], top: int, width: int) -> tuple[list[str], int]:
    """Legend keys wrapped to ``width``, starting at ``top``; with the number of rows."""
    per_row = max(1, (width - 4) // _LEGEND_SLOT)
    parts = []
    for j, name in enumerate(names):
        x = 4 + (j % per_row) * _LEGEND_SLOT
        y = top + (j // per_row) * _LEGEND_ROW
        parts.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{colour(j)}"/>'
                     f'<text x="{x + 14}" y="{y + 9}" font-size="11">{escape(name)}</text>')
    return parts, (len(names) + per_row - 1) // per_row


@dataclass(frozen=True)
class Bar:
    """One bar of :func:`bars`; ``unit`` is printed after the value (e.g. 张)."""

    label: str
    value: Number
    unit: str = ""


def bars(key: str, title: str, desc: str, items: Sequence[Bar]) -> Markup:
    """Horizontal bars, one colour each, the label above each bar and the value at its end.

    Lengths are proportional to the values, the largest spanning the plot; a bar at zero (or
    below) is drawn one unit long so that its row is still visible.
    """
    top = max((Decimal(b.value) for b in items), default=Decimal(0))
    if top <= 0:
        return no_data(key, title, desc)
    width, row, left, right = 320, 34, 4, 70
    span = Decimal(width - left - right)
    parts = [svg_open(key, width, row * len(items) + 6, title, desc)]
    for i, b in enumerate(items):
        y = i * row
        length = span * max(Decimal(b.value), Decimal(0)) / top
        parts.append(
            f'<text x="{left}" y="{y + 12}" fill="{INK}">{escape(b.label)}</text>'
            f'<rect x="{left}" y="{y + 16}" width="{coord(max(length, Decimal(1)))}" '
            f'height="12" rx="2" fill="{colour(i)}"/>'
            f'<text x="{coord(left + length + 4)}" y="{y + 26}" fill="{MUTED}">'
            f'{escape(figure(b.value) + b.unit)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Group:
    """One group of :func:`grouped_bars` (e.g. an org): one value per series."""

    label: str
    values: Sequence[Number]


def grouped_bars(key: str, title: str, desc: str, series: Sequence[str],
                 groups: Sequence[Group]) -> Markup:
    """Horizontal bars grouped under each group's label, one colour per series (named in
    ``series``, shown in a legend under the chart); every group has one value per series.

    All bars share one scale: the largest value in the chart spans the plot.
    """
    top = max((Decimal(v) for g in groups for v in g.values), default=Decimal(0))
    if top <= 0:
        return no_data(key, title, desc)
    width, bar, gap, label_h, left, right = 320, 10, 2, 16, 4, 64
    group_h = label_h + len(series) * (bar + gap) + 8
    legend_top = group_h * len(groups) + 4
    legend, rows = _legend(series, legend_top, width)
    span = Decimal(width - left - right)
    parts = [svg_open(key, width, legend_top + rows * _LEGEND_ROW, title, desc)]
    for i, g in enumerate(groups):
        y = i * group_h
        parts.append(f'<text x="{left}" y="{y + 12}" fill="{INK}">{escape(g.label)}</text>')
        for j, value in enumerate(g.values):
            by = y + label_h + j * (bar + gap)
            length = span * max(Decimal(value), Decimal(0)) / top
            parts.append(
                f'<rect x="{left}" y="{by}" width="{coord(max(length, Decimal(1)))}" '
                f'height="{bar}" rx="2" fill="{colour(j)}">'
                f'<title>{escape(g.label)} {escape(series[j])}: {escape(figure(value))}</title>'
                f'</rect><text x="{coord(left + length + 4)}" y="{by + 9}" fill="{MUTED}" '
                f'font-size="10">{escape(figure(value))}</text>')
    parts.extend(legend)
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Series:
    """One series of :func:`columns`: a name and one value per category."""

    label: str
    values: Sequence[Number]


def columns(key: str, title: str, desc: str, categories: Sequence[str],
            series: Sequence[Series], *, stacked: bool = False, label_every: int = 1) -> Markup:
    """Vertical columns, one slot per category (e.g. a month or a day), with a legend.

    With ``stacked`` each slot holds one column made of the series' segments (the scale's top
    is the largest total); otherwise the series stand side by side (the top is the largest
    value). Every ``label_every``-th category is named under the axis, and always the last,
    so that thirty days do not overlap on a phone; each segment's own ``<title>`` names it.
    """
    if stacked:
        top = max((sum((Decimal(s.values[i]) for s in series), Decimal(0))
                   for i in range(len(categories))), default=Decimal(0))
    else:
        top = max((Decimal(v) for s in series for v in s.values), default=Decimal(0))
    if not categories or top <= 0:
        return no_data(key, title, desc)
    width, plot_top, plot_h, left = 360, 10, 150, 28
    base = plot_top + plot_h
    slot = Decimal(width - left - 4) / len(categories)
    legend, rows = _legend([s.label for s in series], base + 24, width)
    parts = [svg_open(key, width, base + 22 + rows * _LEGEND_ROW, title, desc)]
    for frac, text in ((Decimal(0), "0"), (Decimal(1), figure(top))):
        y = base - plot_h * frac
        parts.append(f'<line x1="{left}" x2="{width - 4}" y1="{coord(y)}" y2="{coord(y)}" '
                     f'stroke="{GRID}"/><text x="{left - 4}" y="{coord(y + 4)}" '
                     f'text-anchor="end" fill="{MUTED}" font-size="10">{escape(text)}</text>')
    bar_w = slot * 3 / 4 if stacked else slot * 4 / 5 / len(series)
    for i, cat in enumerate(categories):
        x0 = left + slot * i + (slot - (bar_w if stacked else bar_w * len(series))) / 2
        y = Decimal(base)
        for j, s in enumerate(series):
            v = Decimal(s.values[i])
            if v <= 0:
                continue
            h = plot_h * v / top
            if stacked:
                y -= h
                x = x0
            else:
                y = base - h
                x = x0 + bar_w * j
            parts.append(f'<rect x="{coord(x)}" y="{coord(y)}" width="{coord(bar_w)}" '
                         f'height="{coord(h)}" fill="{colour(j)}"><title>{escape(cat)} '
                         f'{escape(s.label)}: {escape(figure(s.values[i]))}</title></rect>')
        if i % label_every == 0 or i == len(categories) - 1:
            parts.append(f'<text x="{coord(left + slot * i + slot / 2)}" y="{base + 14}" '
                         f'text-anchor="middle" fill="{MUTED}" font-size="10">'
                         f'{escape(cat)}</text>')
    parts.extend(legend)
    parts.append("</svg>")
    return Markup("".join(parts))


def gauge(key: str, title: str, desc: str, percent: Decimal | None, caption: str) -> Markup:
    """A donut showing one percentage, printed in its middle, with ``caption`` under it.

    ``None`` means no data yet (a bare track and a dash), not zero; values outside 0–100 are
    printed as given but drawn clamped.
    """
    # r = 100 / 2π: the circumference is 100, so stroke-dasharray takes the percentage itself.
    r = "15.9155"
    parts = [svg_open(key, 120, 130, title, desc),
             f'<g transform="translate(60 56) scale(2.6)">'
             f'<circle r="{r}" fill="none" stroke="{GRID}" stroke-width="4"/>']
    if percent is not None:
        shown = min(max(percent, Decimal(0)), Decimal(100))
        parts.append(f'<circle r="{r}" fill="none" stroke="{GAUGE}" stroke-width="4" '
                     f'stroke-dasharray="{coord(shown)} {coord(100 - shown)}" '
                     f'transform="rotate(-90)"/>')
    parts.append("</g>")
    text = f"{figure(percent)}%" if percent is not None else "—"
    parts.append(f'<text x="60" y="62" text-anchor="middle" font-size="18" font-weight="bold" '
                 f'fill="{INK}">{escape(text)}</text>'
                 f'<text x="60" y="124" text-anchor="middle" fill="{MUTED}" font-size="11">'
                 f'{escape(caption)}</text></svg>')
    return Markup("".join(parts))
