"""The Chinese analyzer, phrase queries against the stock analyzer, highlighting."""

from __future__ import annotations

from pathlib import Path

import pytest
from markupsafe import Markup
from whoosh import fields, index
from whoosh.qparser import QueryParser

from unionhub.search import analysis, highlight, query
from unionhub.search.analysis import ChineseWordAnalyzer, leaves_of, words
from unionhub.search.whoosh_rank import SearcherCache

TEXT = "拨打职工服务热线12351，咨询京卡互助服务卡二次报销。北京市总工会"


def index_tokens(text: str) -> list[tuple[str, int]]:
    return [(t.text, t.pos) for t in ChineseWordAnalyzer()(text, positions=True,
                                                           mode="index")]


def leaf_tokens(text: str) -> list[tuple[str, int, int, int]]:
    return [(t.text, t.pos, t.startchar, t.endchar)
            for t in ChineseWordAnalyzer()(text, positions=True, chars=True)]


def test_user_dictionary_words_stay_whole() -> None:
    cut = [w for w, _s, _e in words(TEXT)]
    for word in ("职工服务热线", "12351", "京卡互助服务卡", "二次报销"):
        assert word in cut, cut
    assert "，" not in cut and "。" not in cut


def test_two_character_words_are_tokens() -> None:
    tokens = {t for t, _p in index_tokens(TEXT)}
    # 京卡 is inside 京卡互助服务卡 and 工会 inside 北京市总工会: both must be findable.
    assert {"京卡", "工会", "职工", "热线", "互助"} <= tokens


def test_leaf_positions_are_sequential_with_character_offsets() -> None:
    toks = leaf_tokens(TEXT)
    assert [p for _t, p, _s, _e in toks] == list(range(len(toks)))
    for text, _p, start, end in toks:
        assert TEXT[start:end] == text
    assert [t for t, *_ in toks][:5] == ["拨打", "职工", "服务", "热线", "12351"]


def test_index_mode_puts_a_word_at_its_first_leaf() -> None:
    toks = index_tokens("拨打职工服务热线")
    assert toks == [("拨打", 0), ("职工服务热线", 1), ("职工", 1), ("服务", 2), ("热线", 3)]


def test_latin_is_lowercased() -> None:
    assert [w for w, _s, _e in words("APP 下载")] == ["app", "下载"]


def test_leaves_decompose_compounds() -> None:
    assert leaves_of("职工服务热线") == ["职工", "服务", "热线"]
    assert "工会" in leaves_of("北京市总工会")


def test_query_parsing_quotes() -> None:
    parts = query.parse('“职工服务热线” 京卡 "二次报销" 「互助」 "unclosed')
    assert [(p.text, p.phrase) for p in parts] == [
        ("职工服务热线", True), ("京卡", False), ("二次报销", True), ("互助", True),
        ("unclosed", False)]


def test_single_characters_are_matched_as_a_phrase() -> None:
    plan = query.plan("张伟")
    assert [r.leaves for r in plan.required] == [("张", "伟")]
    assert plan.required[0].word is None


def _two_indexes(tmp_path: Path, docs: list[str]) -> tuple[index.Index, index.Index]:
    from jieba.analyse.analyzer import ChineseAnalyzer

    out = []
    for name, an in (("ours", ChineseWordAnalyzer()), ("stock", ChineseAnalyzer())):
        d = tmp_path / name
        d.mkdir()
        ix = index.create_in(str(d), fields.Schema(
            id=fields.ID(stored=True), title=fields.TEXT(analyzer=an),
            body=fields.TEXT(analyzer=an)))
        w = ix.writer()
        for i, body in enumerate(docs):
            w.add_document(id=str(i), body=body)
        w.commit()
        out.append(ix)
    return out[0], out[1]


@pytest.mark.parametrize("phrase", ["职工服务热线", "二次报销", "互助服务卡", "市总工会"])
def test_quoted_phrase_found_by_ours_not_by_the_stock_analyzer(tmp_path: Path,
                                                              phrase: str) -> None:
    docs = [f"如有疑问请拨打职工服务热线12351，{phrase}已开通。", "职工食堂今日供应饺子。"]
    ours, stock = _two_indexes(tmp_path, docs)
    with ours.searcher() as s:
        docs = SearcherCache(s).matching(query.plan(f'"{phrase}"'))
        hits = [s.stored_fields(d)["id"] for d in docs]
    assert hits == ["0"]
    with stock.searcher() as s:
        stock_q = QueryParser("body", stock.schema).parse(f'"{phrase}"')
        assert len(s.search(stock_q, limit=None)) == 0


def test_snippet_escapes_html_and_marks_matches() -> None:
    body = '<script>alert("x")</script> 电控工会<img src=x onerror=1>召开职工代表大会'
    seqs = query.plan("工会").highlight_sequences()
    html = highlight.snippet(body, seqs)
    assert isinstance(html, Markup)
    assert "<script" not in html and "<img" not in html
    assert "&lt;/script&gt;" in html and "&lt;img" in html
    assert "<b>工会</b>" in html
    assert str(html).replace("<b>", "").replace("</b>", "").count("<") == 0


def test_snippet_marks_a_phrase_only_where_adjacent() -> None:
    seqs = query.plan('"服务热线"').highlight_sequences()
    html = highlight.snippet("热线服务很好。拨打服务热线", seqs)
    assert str(html) == "热线服务很好。拨打<b>服务热线</b>"


def test_title_highlight() -> None:
    seqs = query.plan("京卡").highlight_sequences()
    assert str(highlight.title_html("京卡 & <互助>", seqs)) == "<b>京卡</b> &amp; &lt;互助&gt;"


def test_configure_sets_the_cache_directory(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.setattr(analysis, "_segmenter", None)
    monkeypatch.setattr(analysis, "_config", analysis._Config())
    analysis.configure(cache_dir=tmp_path / "search")
    assert analysis._config.cache_dir == tmp_path / "search"


def test_segmenter_writes_its_cache_where_told(tmp_path: Path) -> None:
    seg = analysis.Segmenter(tmp_path, analysis.USERDICT, prefer_rjieba=False)
    assert (tmp_path / "jieba.cache").is_file()
    assert seg.engine == "jieba"
    assert [w for w in seg.cut("拨打职工服务热线") if w.strip()] == ["拨打", "职工服务热线"]


def test_rjieba_and_jieba_cut_alike() -> None:
    pytest.importorskip("rjieba")
    fast = analysis.segmenter()
    assert fast.engine == "rjieba"
    slow = analysis.Segmenter(analysis._config.cache_dir or analysis._default_cache_dir(),
                              analysis.USERDICT, prefer_rjieba=False)
    for text in (TEXT, "朝阳区总工会开展女职工疗休养活动，会员可凭京卡报名。"):
        assert fast.cut(text) == slow.cut(text)
