"""Forum Markdown comes out inert: raw HTML is text, dangerous links and foreign images are
dropped, links get rel=nofollow, stored HTML is cleaned again when shown."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from unionhub_portal.forum.markdown import excerpt, render, shown

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    '![x](javascript:alert(1))',
    '![x](/portal/forum/images/1" onerror="alert(1))',
    "<svg onload=alert(1)>",
    "<iframe src=//evil.example></iframe>",
    "<details open ontoggle=alert(1)>",
    '<div style="position:fixed;top:0">overlay</div>',
    "`<script>`\n\n```html\n<script>alert(1)</script>\n```",
    "> <b onclick=alert(1)>quoted</b>",
]
ALLOWED_TAGS = {"p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol",
                "li", "a", "img", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr",
                "th", "td"}


class _Elements(HTMLParser):
    """Every element and attribute of an HTML fragment (text stays text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.found


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_come_out_inert(payload: str) -> None:
    for tag, attrs in elements(render(payload)):
        assert tag in ALLOWED_TAGS, (payload, tag)
        assert not any(name.startswith("on") or name == "style" for name in attrs), payload
        for name in ("href", "src"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), payload
        if tag == "img":
            assert re.fullmatch(r"/portal/forum/images/\d+", attrs.get("src") or "/portal/"
                                "forum/images/1"), payload


def test_markdown_features_and_rules() -> None:
    html = render("# 标题\n\n**粗体** _斜体_ ~~删除~~\n\n- 一\n- 二\n\n"
                  "[工会](https://www.bjzgh.org)\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<h3>标题</h3>" in html and "<strong>粗体</strong>" in html
    assert "<em>斜体</em>" in html and "<s>删除</s>" in html and "<li>一</li>" in html
    assert 'rel="noopener noreferrer nofollow"' in html and "<table>" in html


def test_images_only_from_forum_image_urls() -> None:
    html = render("![ok](/portal/forum/images/12) ![no](https://evil.example/x.png) "
                  "![no](/static/x.png) ![no](//evil.example/portal/forum/images/1)")
    assert '<img src="/portal/forum/images/12" alt="ok">' in html
    assert "evil.example" not in html and "/static/x.png" not in html


def test_stored_html_is_cleaned_again_when_shown() -> None:
    stored = '<p>ok</p><script>alert(1)</script><img src="https://evil.example/a.png">'
    out = str(shown(stored))
    assert "<script" not in out and "evil.example" not in out and "<p>ok</p>" in out
    assert str(shown(None)) == ""


def test_excerpt_is_plain_text() -> None:
    assert excerpt("<p>你好 <b>世界</b></p>") == "你好 世界"
    assert excerpt("<p>" + "长" * 200 + "</p>", 10) == "长" * 9 + "…"
