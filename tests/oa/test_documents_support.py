"""Builders shared by the document tests (no tests here): drafts made, submitted and issued
through the documents' own services, each step committed in its own app context."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask.testing import FlaskClient

from tests.helpers import PASSWORD, login

BODY = "<p>各区总工会：</p><p>现将有关事项通知如下。</p>"


def client_for(oa: Any, username: str) -> FlaskClient:
    client = oa.app.test_client()
    login(client, username)
    return client


def account(oa: Any, username: str) -> Any:
    """The officer's account in the current session (inside an app context)."""
    from unionhub import db
    from unionhub.identity.models import Account

    return db.session().get(Account, oa.world.officers[username])


def make_draft(oa: Any, *, by: str = "city", org: str = "city", doc_type: str = "fa",
               title: str = "关于做好年度工作的通知", body: str = BODY) -> int:
    from unionhub import db
    from unionhub_oa.documents import service

    with oa.app.test_request_context():
        s = db.session()
        doc = service.create(s, account(oa, by), {
            "org_id": str(oa.world.org_id(org)), "doc_type": doc_type, "title": title,
            "body": body})
        s.commit()
        return int(doc.id)


def submit(oa: Any, doc_id: int, *, by: str = "city") -> str | None:
    from unionhub import db
    from unionhub_oa.documents import service
    from unionhub_oa.documents.models import OaDocument

    with oa.app.test_request_context():
        s = db.session()
        ref = service.submit(s, account(oa, by), s.get(OaDocument, doc_id))
        s.commit()
        return ref


def issue(oa: Any, doc_id: int, recipients: Iterable[tuple[str, bool]] = (("d1", True),), *,
          by: str = "city", now: datetime | None = None) -> str:
    from unionhub import db
    from unionhub_oa.documents import service
    from unionhub_oa.documents.models import OaDocument

    with oa.app.test_request_context():
        s = db.session()
        number = service.issue(s, account(oa, by), s.get(OaDocument, doc_id),
                               [(oa.world.org_id(k), sub) for k, sub in recipients], now=now)
        s.commit()
        return number


def approved(oa: Any, **kwargs: Any) -> int:
    """A draft submitted with no workflow for ``oa.document``: approved at once."""
    by = kwargs.get("by", "city")
    doc_id = make_draft(oa, **kwargs)
    assert submit(oa, doc_id, by=by) is None
    return doc_id


def issued(oa: Any, recipients: Iterable[tuple[str, bool]] = (("d1", True),), *,
           issuer: str = "city", **kwargs: Any) -> tuple[int, str]:
    doc_id = approved(oa, **kwargs)
    return doc_id, issue(oa, doc_id, recipients, by=issuer)


def stored(oa: Any, doc_id: int) -> Any:
    from unionhub import db
    from unionhub_oa.documents.models import OaDocument

    with oa.app.app_context():
        doc = db.session().get(OaDocument, doc_id)
        assert doc is not None
        db.session().expunge(doc)
        return doc


def add_officer(oa: Any, username: str, role: str, org: str) -> int:
    from unionhub import db
    from unionhub.identity.admin import create_officer

    with oa.app.app_context():
        s = db.session()
        acc = create_officer(s, username, username, PASSWORD, role, oa.world.orgs[org])
        s.commit()
        return int(acc.id)


def set_prefix(oa: Any, org: str, prefix: str) -> None:
    """Give ``org`` its own 机关代字 (every org but the city needs one to issue)."""
    from unionhub import db
    from unionhub_oa.documents import service

    with oa.app.app_context():
        s = db.session()
        service.set_prefix(s, oa.world.orgs[org], prefix)
        s.commit()
