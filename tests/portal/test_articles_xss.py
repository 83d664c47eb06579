"""Rich text is sanitised on save and again on output: classic XSS payloads saved through the
article service come out inert in the stored body, in the rendered preview, and — for bodies
stored under older, laxer rules — when rendered."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.portal.conftest import Portal
from tests.portal.test_articles_workflow import article_form, officer

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<img src=\"javascript:alert(1)\">",
    "<a href=\"javascript:alert(1)\">点我</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">大小写</a>",
    "<a href=\"jav&#x09;ascript:alert(1)\">编码</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">实体</a>",
    "<svg onload=alert(1)><circle r=10></circle></svg>",
    "<svg><script>alert(1)</script></svg>",
    "<div style=\"width: expression(alert(1))\">IE 表达式</div>",
    "<p style=\"background:url(javascript:alert(1))\">样式</p>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">",
    "<a href=\"data:text/html,<script>alert(1)</script>\">数据</a>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<object data=\"https://evil.example/x.swf\"></object>",
    "<embed src=\"https://evil.example/x.swf\">",
    "<body onload=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<marquee onstart=alert(1)>滚动</marquee>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<img src=x onerror=alert(1)//",
    "<<script>alert(1);//<</script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<a href=\"https://ok.example\" onclick=\"alert(1)\">链接</a>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"https://evil.example/\">",
    "<form action=\"https://evil.example\"><button>提交</button></form>",
    "<table background=\"javascript:alert(1)\"><tr><td>表格</td></tr></table>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    "<textarea><script>alert(1)</script></textarea>",
    "\"><img src=x onerror=alert(1)>",
]
ALLOWED_SCHEMES = ("http:", "https:", "mailto:", "tel:")


class _Audit(HTMLParser):
    """Collects every tag and attribute of a fragment as a browser would parse it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        from unionhub.web.richtext import ARTICLE

        if tag not in ARTICLE.tags:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc", "background", "formaction"):
                self.problems.append(f"attribute {name} on <{tag}>")
            if name in ("href", "src", "action", "data") and value is not None:
                compact = "".join(value.split()).lower()
                if ":" in compact.split("/")[0] and not compact.startswith(ALLOWED_SCHEMES):
                    self.problems.append(f"{name}={value!r} on <{tag}>")

    handle_startendtag = handle_starttag


def inert_problems(fragment: str) -> list[str]:
    audit = _Audit()
    audit.feed(fragment)
    audit.close()
    return audit.problems


def test_the_audit_itself_catches_payloads() -> None:
    """The checker is not vacuous: raw payloads fail it."""
    assert all(inert_problems(p) for p in PAYLOADS[:12])


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_is_inert_when_stored_and_rendered(portal: Portal, payload: str) -> None:
    from unionhub import db
    from unionhub.identity.models import Account
    from unionhub_portal.articles import service

    with portal.app.test_request_context():
        s = db.session()
        account = s.get(Account, portal.world.officers["chaoyang"])
        article = service.create(s, account, article_form(
            portal, title=f"XSS {payload}", summary=payload, body=f"<p>前文</p>{payload}"))
        s.commit()
        aid, stored = article.id, article.body_html
        assert inert_problems(stored) == [], stored
        assert inert_problems(str(service.render_body(article))) == []
    client = officer(portal, "chaoyang")
    page = client.get(f"/portal/admin/articles/{aid}/preview").get_data(as_text=True)
    body = page[page.index('<div class="article-body">'):page.index("</article>")]
    assert inert_problems(body) == [], body
    assert "前文" in body
    # the edit form shows the stored body as text inside the textarea, escaped
    form = client.get(f"/portal/admin/articles/{aid}").get_data(as_text=True)
    textarea = form[form.index('name="body"'):form.index("</textarea>", form.index('name="body"'))]
    assert "<" not in textarea.split(">", 1)[1]


def test_unsaved_preview_and_old_bodies_are_sanitised_on_output(portal: Portal) -> None:
    from tests.helpers import post_form
    from tests.portal.test_articles_workflow import create
    from unionhub import db
    from unionhub_portal.articles import service
    from unionhub_portal.models import PortalArticle

    client = officer(portal, "chaoyang")
    aid = create(client, article_form(portal))
    raw = "".join(PAYLOADS)
    resp = post_form(client, f"/portal/admin/articles/{aid}/preview",
                     {"title": "预览", "body": raw}, form_url=f"/portal/admin/articles/{aid}")
    page = resp.get_data(as_text=True)
    assert inert_problems(page[page.index('<div class="article-body">'):
                               page.index("</article>")]) == []
    with portal.app.test_request_context():
        s = db.session()
        article = s.get(PortalArticle, aid)
        article.body_html = raw  # as if stored under older, laxer rules
        s.commit()
        assert inert_problems(str(service.render_body(article))) == []
    page = client.get(f"/portal/admin/articles/{aid}/preview").get_data(as_text=True)
    assert inert_problems(page[page.index('<div class="article-body">'):
                               page.index("</article>")]) == []
