"""Helpers for the reader's tests (no tests here): books stored through the catalogue's
ingest, a small PDF writer (text pages, optionally with a script-carrying link annotation),
signed-in web clients and app tokens."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.helpers import PASSWORD, login
from tests.library.conftest import Library

HOSTILE_CHAPTER = "\n".join((
    '<p onclick="alert(1)">正文<a href="javascript:alert(1)">脚本链接</a>',
    '<a href="JaVaScRiPt:alert(2)">大写脚本</a>',
    '<a href="data:text/html,&lt;script&gt;x&lt;/script&gt;">数据</a></p>',
    '<script>alert("xss")</script>',
    '<img src="../images/pic.png" onerror="alert(3)" alt="插图"/>',
    '<img src="http://evil.example/track.png" alt="外站"/>',
    '<img src="../../../../etc/passwd" alt="逃逸"/>',
    '<a href="ch001.xhtml#s1">回到第一章第一节</a>',
    '<a href="#here">本章锚点</a>',
    '<a href="https://example.org/ok">外部链接</a>',
    '<div id="here" class="note x" style="color: red; '
    'background: url(http://evil.example/bg.png); width: expression(alert(4))">带样式</div>',
    '<iframe src="http://evil.example/"></iframe>',
    '<object data="http://evil.example/x.swf"></object>',
    '<form action="http://evil.example/"><input name="q"/></form>',
    '<style>p { color: #333; background: url(http://evil.example/a.png) } '
    '@import url(http://evil.example/x.css);</style>',
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
    '<image xlink:href="../images/pic.png"/><script>alert(5)</script></svg>',
    '<section><p>章节<ruby>工<rt>gōng</rt></ruby>会</p></section>',
))



def png_1px() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1, 1), (200, 22, 29)).save(out, "PNG")
    return out.getvalue()


def epub_bytes(title: str = "工会史话", chapters: int = 3, *, hostile: bool = False,
               css: str | None = None) -> bytes:
    """An EPUB 3 with ``chapters`` chapters (the first has two sections); with ``hostile``
    the second chapter is :data:`HOSTILE_CHAPTER`; ``css`` replaces the book's stylesheet."""
    import io
    import zipfile

    from unionhub_library.epubgen import make_epub

    bodies = [("第一章 起源", "## 第一节\n工会的起源。\n## 第二节\n早期的组织。")]
    for i in range(2, chapters + 1):
        text = HOSTILE_CHAPTER if hostile and i == 2 else "\n".join(
            f"第{i}章的第{n}段文字，讲述职工与工会的故事。" for n in range(1, 40))
        bodies.append((f"第{i}章", text))
    data = make_epub(title, ["张三"], bodies, images={"pic.png": png_1px()}, isbn=None)
    if css is None:
        return data
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = css.encode() if info.filename.endswith("style.css") else src.read(info)
            dst.writestr(info, body)
    return out.getvalue()


def _pdf_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_bytes(pages: list[str], *, script_link: bool = False) -> bytes:
    """A PDF with one line of text (ASCII) per page; ``script_link`` adds a link annotation
    running JavaScript to every page."""
    objects: list[str] = []
    n = len(pages)
    font_id = 3 + 3 * n
    kids = " ".join(f"{3 + 3 * i} 0 R" for i in range(n))
    objects.append("<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>")
    for i, text in enumerate(pages):
        content_id, annot_id = 4 + 3 * i, 5 + 3 * i
        annots = f" /Annots [{annot_id} 0 R]" if script_link else ""
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] "
                       f"/Resources << /Font << /F1 {font_id} 0 R >> >> "
                       f"/Contents {content_id} 0 R{annots} >>")
        stream = f"BT /F1 18 Tf 20 200 Td ({_pdf_string(text)}) Tj ET"
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
        objects.append("<< /Type /Annot /Subtype /Link /Rect [0 0 300 300] "
                       "/A << /S /JavaScript /JS (app.alert\\(1\\)) >> >>")
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n"
            "%%EOF\n").encode()
    return out


def store(library: Library, data: bytes, filename: str, *, licence: str = "open",
          copies: int = 0, title: str | None = None) -> int:
    """Catalogue ``data`` through the catalogue's ingest; returns the book id."""
    from unionhub import db
    from unionhub_library.catalogue.ingest import ingest_bytes

    with library.app.app_context():
        s = db.session()
        book = ingest_bytes(s, data, filename, owner_org_id=library.world.org_id("city"),
                            account_id=None, category_id=library.categories["D"],
                            overrides={"title": title} if title else None, licence=licence,
                            copies=copies)
        s.commit()
        return book.id


def signed_in(library: Library, who: str, *, user_agent: str | None = None) -> FlaskClient:
    """A web client signed in as member ``m1``… or officer ``admin``…."""
    client = library.app.test_client()
    if user_agent:
        client.environ_base["HTTP_USER_AGENT"] = user_agent
    person = library.world.people.get(who)
    ident = person.card_number if person else who
    r = login(client, ident)
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    return client


def token(library: Library, who: str, device: str = "iPhone") -> dict[str, str]:
    """Bearer headers for ``who`` on the app API."""
    client = library.app.test_client()
    person = library.world.people.get(who)
    r = client.post("/api/v1/auth/token", json={
        "identifier": person.card_number if person else who, "password": PASSWORD,
        "device": device})
    assert r.status_code == 201, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def csrf_of(client: FlaskClient, url: str) -> str:
    """The CSRF token the reader page gives its script."""
    import re

    html = client.get(url).get_data(as_text=True)
    found = re.search(r'data-csrf="([^"]+)"', html)
    assert found, f"no data-csrf on {url}"
    return found.group(1)


def lend_to(library: Library, who: str, book_id: int) -> None:
    """An active loan of ``book_id`` for ``who`` (inserted directly)."""
    from datetime import timedelta

    from unionhub import db
    from unionhub.db import utcnow
    from unionhub_library.models import LibraryLoan

    with library.app.app_context():
        s = db.session()
        s.add(LibraryLoan(account_id=library.world.people[who].account_id, book_id=book_id,
                          due_at=utcnow() + timedelta(days=14)))
        s.commit()
