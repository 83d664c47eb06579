"""Attachments of a document (through the engine's attachment store): added to a draft by
those who may edit it, refused for a file that is not what it claims to be or once the
document is no longer a draft, and downloaded by everyone who may see the document."""

from __future__ import annotations

import io
from typing import Any

from flask.testing import FlaskClient

from tests.helpers import csrf_token
from tests.oa.test_documents_support import (
    account,
    approved,
    client_for,
    issue,
    make_draft,
    set_prefix,
    stored,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def upload(client: FlaskClient, doc_id: int, name: str, data: bytes,
           content_type: str = "application/pdf") -> Any:
    url = f"/oa/documents/{doc_id}"
    return client.post(url, data={"csrf_token": csrf_token(client, url), "action": "attach",
                                  "file": (io.BytesIO(data), name, content_type)},
                       content_type="multipart/form-data")


def attachment_ids(oa: Any, doc_id: int) -> list[int]:
    from unionhub import db
    from unionhub_oa.workflow import attachments

    with oa.app.app_context():
        return [a.id for a in attachments.list_for(db.session(), "document", doc_id)]


def test_attach_to_a_draft_and_download_after_issue(oa: Any) -> None:
    doc_id = make_draft(oa, by="chaoyang", org="d1")
    chaoyang = client_for(oa, "chaoyang")
    assert upload(chaoyang, doc_id, "实施方案.pdf", PDF).status_code == 302
    [att] = attachment_ids(oa, doc_id)
    html = chaoyang.get(f"/oa/documents/{doc_id}").get_data(as_text=True)
    assert "实施方案.pdf" in html and f'data-attachment="{att}"' in html
    # a renamed page is refused, with the reason, and nothing stored
    bad = upload(chaoyang, doc_id, "通知.pdf", b"<html><script>x</script></html>")
    assert bad.status_code == 422 and "通知.pdf" in bad.get_data(as_text=True)
    assert attachment_ids(oa, doc_id) == [att]
    # another district cannot reach the draft at all
    assert upload(client_for(oa, "haidian"), doc_id, "x.pdf", PDF).status_code == 404

    from unionhub import db
    from unionhub_oa.documents import service
    from unionhub_oa.documents.models import OaDocument

    with oa.app.test_request_context():
        s = db.session()
        service.submit(s, account(oa, "chaoyang"), s.get(OaDocument, doc_id))
        s.commit()
    set_prefix(oa, "d1", "朝工")
    issue(oa, doc_id, [("g1", False)])
    g1 = client_for(oa, "g1officer")
    file_url = f"/oa/documents/{doc_id}/files/{att}"
    got = g1.get(file_url)
    assert got.status_code == 200 and got.data == PDF
    assert got.headers["Content-Type"] == "application/octet-stream"
    assert "attachment" in got.headers["Content-Disposition"]
    assert client_for(oa, "haidian").get(file_url).status_code == 404
    assert g1.get(f"/oa/documents/{doc_id}/files/{att + 1}").status_code == 404
    # issued: no more attachments
    late = upload(chaoyang, doc_id, "补充.pdf", PDF)
    assert late.status_code == 422 and attachment_ids(oa, doc_id) == [att]


def test_an_attachment_belongs_to_its_document(oa: Any) -> None:
    one = make_draft(oa)
    other = approved(oa, title="另一份")
    city = client_for(oa, "city")
    assert upload(city, one, "a.pdf", PDF).status_code == 302
    [att] = attachment_ids(oa, one)
    assert city.get(f"/oa/documents/{one}/files/{att}").status_code == 200
    assert city.get(f"/oa/documents/{other}/files/{att}").status_code == 404
    assert stored(oa, other).state == "approved"
