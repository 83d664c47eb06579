"""Tests for unionhub.web.charts: server-rendered inline SVG charts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal as D

import pytest
from flask import Flask
from flask_babel import Babel

from unionhub.web import charts


@pytest.fixture()
def request_context() -> Iterator[None]:
    """A bare app: the empty chart translates 暂无数据, which needs a request."""
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        yield


def widths(svg: str) -> list[D]:
    """The drawn bars' widths, in order (the legend keys are 10 wide and have no ``rx``)."""
    return [D(w) for w in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" '
                                     r'height="\d+" rx=', svg)]


def heights(svg: str) -> list[D]:
    """The heights of the columns' segments (those carrying their own ``<title>``)."""
    return [D(h) for h in re.findall(r'height="([\d.]+)" fill="#[0-9a-f]{6}"><title>', svg)]


def assert_accessible(svg: str, key: str) -> None:
    assert svg.startswith('<svg class="chart" role="img" ') and svg.endswith("</svg>")
    assert f'aria-labelledby="{key}-t {key}-d"' in svg
    assert f'<title id="{key}-t">' in svg and f'<desc id="{key}-d">' in svg
    assert 'viewBox="0 0 ' in svg and 'width="100%"' in svg
    assert "<script" not in svg


@pytest.mark.usefixtures("request_context")
@pytest.mark.parametrize("render", [
    lambda: charts.bars("e", "标题", "说明", []),
    lambda: charts.bars("e", "标题", "说明", [charts.Bar("甲", 0), charts.Bar("乙", -2)]),
    lambda: charts.grouped_bars("e", "标题", "说明", ["发放"], []),
    lambda: charts.grouped_bars("e", "标题", "说明", ["发放"], [charts.Group("甲", [0])]),
    lambda: charts.columns("e", "标题", "说明", [], [charts.Series("a", [])]),
    lambda: charts.columns("e", "标题", "说明", ["1月"], [charts.Series("a", [0])]),
    lambda: charts.columns("e", "标题", "说明", ["1月"], [charts.Series("a", [0])], stacked=True),
    lambda: charts.no_data("e", "标题", "说明"),
])
def test_nothing_to_draw_gives_the_empty_chart(render) -> None:
    svg = str(render())
    assert_accessible(svg, "e")
    assert "暂无数据" in svg and "<rect" not in svg
    assert '<title id="e-t">标题</title><desc id="e-d">说明</desc>' in svg


def test_empty_chart_is_translated() -> None:
    from tests.core.test_i18n import EN_MO, TRANSLATIONS, compile_if_stale

    compile_if_stale()
    assert EN_MO.exists()
    app = Flask(__name__)
    Babel(app, default_locale="en", default_translation_directories=str(TRANSLATIONS))
    with app.test_request_context():
        svg = str(charts.bars("e", "t", "d", []))
    assert "No data yet" in svg and "暂无数据" not in svg


def test_text_is_escaped_everywhere(request_context: None) -> None:
    nasty = '<script>alert("x")</script> & Co'
    rendered = [
        charts.bars("k", nasty, nasty, [charts.Bar(nasty, 3, nasty)]),
        charts.grouped_bars("k", nasty, nasty, [nasty], [charts.Group(nasty, [2])]),
        charts.columns("k", nasty, nasty, [nasty], [charts.Series(nasty, [1])]),
        charts.columns("k", nasty, nasty, [nasty], [charts.Series(nasty, [1])], stacked=True),
        charts.gauge("k", nasty, nasty, D("50"), nasty),
        charts.no_data("k", nasty, nasty),
        charts.bars('k"><script>', "t", "d", [charts.Bar("a", 1)]),
    ]
    for chart in rendered:
        svg = str(chart)
        assert "<script" not in svg and 'alert("x")' not in svg
        assert "&lt;script&gt;" in svg
        assert " & " not in svg


def test_braces_in_labels_are_kept_as_text() -> None:
    """Org names are data: braces must not be taken for format fields (no request needed)."""
    rendered = [
        charts.bars("k", "标题{x}", "说明{0}", [charts.Bar("工会{y}", 5, "{}张")]),
        charts.grouped_bars("k", "标题{x}", "说明{0}", ["发放{}"], [charts.Group("工会{y}", [5])]),
        charts.columns("k", "标题{x}", "说明{0}", ["工会{y}"], [charts.Series("发放{}", [5])]),
        charts.gauge("k", "标题{x}", "说明{0}", D("5"), "率{0}"),
    ]
    for chart in rendered:
        svg = str(chart)
        assert "标题{x}" in svg and "说明{0}" in svg
    assert "工会{y}" in str(rendered[0]) and "5{}张" in str(rendered[0])
    assert "发放{}" in str(rendered[1]) and "工会{y}" in str(rendered[2])
    assert "率{0}" in str(rendered[3])


def test_bar_lengths_are_proportional() -> None:
    svg = str(charts.bars("k", "t", "d", [charts.Bar("a", 4), charts.Bar("b", 2),
                                          charts.Bar("c", D("1")), charts.Bar("d", 0)]))
    assert_accessible(svg, "k")
    longest, half, quarter, zero = widths(svg)
    assert half * 2 == longest and quarter * 4 == longest
    assert zero == 1  # a zero still shows a sliver, so its row does not look missing
    assert "a</text>" in svg and ">4</text>" in svg and ">0</text>" in svg
    assert len(set(re.findall(r'fill="(#[0-9a-f]{6})"/>', svg))) == 4  # one colour a bar


def test_bar_values_are_printed_with_their_unit() -> None:
    svg = str(charts.bars("k", "t", "d", [charts.Bar("a", 12, "张"),
                                          charts.Bar("b", D("1E+2"), "元")]))
    assert ">12张</text>" in svg and ">100元</text>" in svg


def test_grouped_bars_share_one_scale_and_have_a_legend() -> None:
    svg = str(charts.grouped_bars("k", "t", "d", ["发放", "使用", "过期"],
                                  [charts.Group("甲", [8, 4, 0]), charts.Group("乙", [2, 8, 6])]))
    assert_accessible(svg, "k")
    w = widths(svg)
    assert w[0] == w[4] and w[1] * 2 == w[0] and w[3] * 4 == w[0] and w[5] * 4 == w[0] * 3
    assert w[2] == 1
    assert "<title>乙 过期: 6</title>" in svg
    for name in ("发放", "使用", "过期"):
        assert f'font-size="11">{name}</text>' in svg


def test_stacked_columns_sum_to_the_tallest_total() -> None:
    svg = str(charts.columns("c", "t", "d", ["1月", "2月", "3月"],
                             [charts.Series("a", [1, 0, 3]), charts.Series("b", [2, 0, 1])],
                             stacked=True))
    assert_accessible(svg, "c")
    first_a, first_b, third_a, third_b = heights(svg)
    assert third_a + third_b == 150 and first_a + first_b == D("112.5")
    assert first_b == first_a * 2
    assert ">4</text>" in svg  # the axis' top is the largest total
    assert svg.count("<rect") == 4 + 2  # no segment for zeros; two legend keys
    assert all(f">{m}</text>" in svg for m in ("1月", "2月", "3月"))


def test_side_by_side_columns_and_sparse_labels() -> None:
    days = [f"{d}日" for d in range(1, 13)]
    svg = str(charts.columns("c", "t", "d", days,
                             [charts.Series("领取", list(range(1, 13))),
                              charts.Series("核销", [6] * 12)], label_every=5))
    assert_accessible(svg, "c")
    h = heights(svg)
    assert h[-2] == 150 and h[-1] == 75 and h[0] * 12 == h[-2]
    assert ">12</text>" in svg  # the axis' top is the largest value
    shown = re.findall(r'font-size="10">(\d+日)</text>', svg)
    assert shown == ["1日", "6日", "11日", "12日"]  # every fifth, and always the last
    assert "<title>2日 核销: 6</title>" in svg


@pytest.mark.parametrize(("percent", "dash", "text"), [
    (D("0"), "0.0 100.0", "0%"),
    (D("0.0"), "0.0 100.0", "0.0%"),
    (D("100"), "100.0 0.0", "100%"),
    (D("66.7"), "66.7 33.3", "66.7%"),
    (D("120"), "100.0 0.0", "120%"),  # drawn clamped, printed as given
])
def test_gauge(percent: D, dash: str, text: str) -> None:
    svg = str(charts.gauge("g", "t", "d", percent, "按时赔付率"))
    assert_accessible(svg, "g")
    assert f'stroke-dasharray="{dash}"' in svg and f">{text}</text>" in svg
    assert ">按时赔付率</text>" in svg


def test_gauge_without_data_shows_only_the_track() -> None:
    svg = str(charts.gauge("g", "t", "d", None, "率"))
    assert "stroke-dasharray" not in svg and ">—</text>" in svg
    assert svg.count("<circle") == 1


def test_coord_and_figure() -> None:
    assert charts.coord(D("1.25")) == "1.3" and charts.coord(3) == "3.0"
    assert charts.figure(D("1E+3")) == "1000" and charts.figure(7) == "7"
    assert charts.colour(0) == charts.colour(len(charts.PALETTE))
