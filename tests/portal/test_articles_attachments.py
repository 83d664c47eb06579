"""Attachments: type checked by extension and magic bytes, the size limit, storage, cover,
delete; the download is audience-checked (404 for readers outside the audience, for anonymous
visitors of targeted articles, for drafts), counted for readers but not for officers'
previews, and served with the original name and nosniff."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.helpers import PASSWORD, login, post_form
from tests.portal.conftest import Portal
from tests.portal.test_articles_workflow import act, article_form, create, current, officer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)
GIF = b"GIF89a" + bytes(32)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(32)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64)


def _zip(*names: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in names:
            z.writestr(name, "<x/>")
    return buf.getvalue()


def upload(client: FlaskClient, aid: int, name: str, data: bytes) -> str:
    """Upload one file; the flashed messages of the page it lands on."""
    resp = post_form(client, f"/portal/admin/articles/{aid}/attachments",
                     {"file": (io.BytesIO(data), name)},
                     form_url=f"/portal/admin/articles/{aid}")
    assert resp.status_code == 302
    return client.get(resp.headers["Location"]).get_data(as_text=True)


def attachments_of(portal: Portal, aid: int) -> list[Any]:
    from unionhub import db
    from unionhub_portal.models import PortalAttachment

    with portal.app.app_context():
        return list(db.session().scalars(select(PortalAttachment).where(
            PortalAttachment.article_id == aid).order_by(PortalAttachment.id)))


def stored_path(portal: Portal, stored_name: str) -> Path:
    return Path(portal.app.instance_path) / "portal" / "attachments" / stored_name


def member_client(portal: Portal, person: str) -> FlaskClient:
    client = portal.app.test_client()
    login(client, portal.world.people[person].mobile)
    return client


def test_types_are_checked_by_extension_and_magic_bytes(portal: Portal) -> None:
    client = officer(portal, "chaoyang")
    aid = create(client, article_form(portal))
    good = [("照片.png", PNG), ("a.jpg", JPEG), ("b.JPEG", JPEG), ("c.gif", GIF),
            ("d.webp", WEBP), ("通知.pdf", PDF), ("旧表.xls", DOC), ("e.doc", DOC),
            ("f.docx", _zip("[Content_Types].xml", "word/document.xml")),
            ("g.xlsx", _zip("[Content_Types].xml", "xl/workbook.xml")),
            ("h.pptx", _zip("[Content_Types].xml", "ppt/presentation.xml")),
            ("i.zip", _zip("readme.txt")), ("说明.txt", "第一行\n第二行".encode())]
    for name, data in good:
        assert "已上传 1 个附件" in upload(client, aid, name, data), name
    bad = [("伪装.png", PDF, "内容与扩展名 .png 不符"),
           ("page.pdf", b"<html><script>alert(1)</script></html>", "不符"),
           ("x.jpg", b"<svg onload=alert(1)>", "不符"),
           ("report.docx", _zip("readme.txt"), "不符"),
           ("macro.xlsx", DOC, "不符"),
           ("binary.txt", b"MZ\x90\x00\x03\x00\x00\x00", "不符"),
           ("evil.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "不支持的文件类型"),
           ("run.exe", b"MZ\x90\x00", "不支持的文件类型"),
           ("page.html", b"<html></html>", "不支持的文件类型"),
           ("noext", PNG, "不支持的文件类型"),
           ("empty.png", b"", "是空的")]
    for name, data, message in bad:
        assert message in upload(client, aid, name, data), name
    rows = attachments_of(portal, aid)
    assert len(rows) == len(good)
    by_name = {r.filename: r for r in rows}
    png = by_name["照片.png"]
    assert (png.kind, png.content_type, png.size) == ("image", "image/png", len(PNG))
    assert by_name["通知.pdf"].kind == "file"
    import hashlib

    assert png.sha256 == hashlib.sha256(PNG).hexdigest()
    assert png.stored_name != png.filename and png.stored_name.endswith(".png")
    assert stored_path(portal, png.stored_name).read_bytes() == PNG


def test_the_size_limit_comes_from_the_setting(portal: Portal) -> None:
    from unionhub.settings import service as settings

    with portal.app.app_context():
        settings.put("portal.attachment_max_mb", 1)
        from unionhub import db

        db.session().commit()
    client = officer(portal, "chaoyang")
    aid = create(client, article_form(portal))
    too_big = PDF + bytes(1024 * 1024)
    assert "超过 1 MB 的上限" in upload(client, aid, "big.pdf", too_big)
    assert "已上传" in upload(client, aid, "ok.pdf", PDF + bytes(1024 * 1024 - len(PDF)))
    assert [r.filename for r in attachments_of(portal, aid)] == ["ok.pdf"]


def test_downloads_follow_the_audience_and_are_counted(portal: Portal) -> None:
    w = portal.world
    editor = officer(portal, "chaoyang")
    aid = create(editor, article_form(portal, audience_org_id=str(w.org_id("d1")),
                                      platforms=["pc"]))
    upload(editor, aid, "职工疗休养名单（2025）.pdf", PDF)
    upload(editor, aid, "现场.png", PNG)
    pdf, png = attachments_of(portal, aid)
    url = f"/portal/attachments/{pdf.id}"
    m1, m2 = member_client(portal, "m1"), member_client(portal, "m2")
    anonymous = portal.app.test_client()

    # a draft: only officers of the owner's subtree (a preview, not counted)
    assert editor.get(url).status_code == 200
    assert m1.get(url).status_code == 404
    assert officer(portal, "haidian").get(url).status_code == 404
    act(portal, editor, aid, "publish")

    resp = m1.get(url)
    assert resp.status_code == 200 and resp.data == PDF
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Type"] == "application/pdf"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('职工疗休养名单（2025）.pdf')}" in disposition
    image = m1.get(f"/portal/attachments/{png.id}")
    assert image.status_code == 200 and image.headers["Content-Disposition"].startswith("inline")
    assert m2.get(url).status_code == 404  # another district
    assert anonymous.get(url).status_code == 404  # targeted: nothing for visitors
    assert m1.get(url + "?m=1").status_code == 404  # not on the mobile site
    assert editor.get(url).status_code == 200  # officer preview
    assert m1.get(url).status_code == 200
    assert {r.filename: r.downloads for r in attachments_of(portal, aid)} == {
        "职工疗休养名单（2025）.pdf": 2, "现场.png": 1}
    assert m1.get("/portal/attachments/999999").status_code == 404
    # a viewer reading in ranges counts once, for the first part
    part = m1.get(url, headers={"Range": "bytes=5-9"})
    assert part.status_code == 206 and part.data == PDF[5:10]
    assert m1.get(url, headers={"Range": "bytes=0-4"}).status_code == 206
    assert attachments_of(portal, aid)[0].downloads == 3

    act(portal, editor, aid, "offline")
    assert m1.get(url).status_code == 404


def test_untargeted_articles_serve_visitors_and_the_mobile_site(portal: Portal) -> None:
    editor = officer(portal, "chaoyang")
    aid = create(editor, article_form(portal, platforms=["mobile"]))
    upload(editor, aid, "a.pdf", PDF)
    act(portal, editor, aid, "publish")
    (pdf,) = attachments_of(portal, aid)
    anonymous = portal.app.test_client()
    assert anonymous.get(f"/portal/attachments/{pdf.id}").status_code == 404  # not on PC
    assert anonymous.get(f"/portal/attachments/{pdf.id}?m=1").status_code == 200


def test_cover_and_delete(portal: Portal) -> None:
    from unionhub import db
    from unionhub_portal.articles import service

    client = officer(portal, "chaoyang")
    aid = create(client, article_form(portal))
    upload(client, aid, "封面.png", PNG)
    upload(client, aid, "文件.pdf", PDF)
    png, pdf = attachments_of(portal, aid)
    base = f"/portal/admin/articles/{aid}/attachments"
    resp = post_form(client, f"{base}/{pdf.id}/cover", {"revision": "1"},
                     form_url=f"/portal/admin/articles/{aid}")
    assert "只有本文的图片可以设为封面" in client.get(resp.headers["Location"]).get_data(
        as_text=True)
    post_form(client, f"{base}/{png.id}/cover", {"revision": "1"},
              form_url=f"/portal/admin/articles/{aid}")
    a = current(portal, aid)
    assert (a.cover_id, a.revision) == (png.id, 2)
    page = client.get(f"/portal/admin/articles/{aid}").get_data(as_text=True)
    assert f'&lt;img src="/portal/attachments/{png.id}" alt=""&gt;' in page
    # another officer's district cannot touch them
    other = officer(portal, "haidian")
    assert post_form(other, f"{base}/{png.id}/delete", {"revision": "2"},
                     form_url="/portal/admin/articles").status_code == 404
    resp = post_form(client, f"{base}/{png.id}/delete", {"revision": "2"},
                     form_url=f"/portal/admin/articles/{aid}")
    assert "已删除附件" in client.get(resp.headers["Location"]).get_data(as_text=True)
    a = current(portal, aid)
    assert (a.cover_id, a.revision) == (None, 3)
    assert [r.id for r in attachments_of(portal, aid)] == [pdf.id]
    assert not stored_path(portal, png.stored_name).exists()
    with portal.app.test_request_context():
        s = db.session()
        new, old = service.revisions(s, aid)[:2]
        assert [c.label for c in service.diff(s, old, new).fields] == ["封面"]


def test_the_app_downloads_by_token_with_the_app_rule(portal: Portal) -> None:
    w = portal.world
    editor = officer(portal, "chaoyang")
    aid = create(editor, article_form(portal, audience_org_id=str(w.org_id("d1")),
                                      platforms=["app"]))
    upload(editor, aid, "a.pdf", PDF)
    act(portal, editor, aid, "publish")
    (pdf,) = attachments_of(portal, aid)
    api = portal.app.test_client()

    def token(person: str) -> str:
        r = api.post("/api/v1/auth/token", json={
            "identifier": w.people[person].card_number, "password": PASSWORD})
        return str(r.get_json()["token"])

    url = f"/api/v1/portal/attachments/{pdf.id}"
    ok = api.get(url, headers={"Authorization": f"Bearer {token('m1')}"})
    assert ok.status_code == 200 and ok.data == PDF
    assert ok.headers["X-Content-Type-Options"] == "nosniff"
    other = api.get(url, headers={"Authorization": f"Bearer {token('m2')}"})
    assert other.status_code == 404 and other.get_json()["error"]["code"] == "not_found"
    assert api.get(url).status_code == 404  # anonymous: targeted
    assert member_client(portal, "m1").get(f"/portal/attachments/{pdf.id}").status_code == 404
    detail = api.get(f"/api/v1/portal/articles/{aid}",
                     headers={"Authorization": f"Bearer {token('m1')}"}).get_json()
    assert detail["attachments"][0]["url"] == url
    assert attachments_of(portal, aid)[0].downloads == 1
