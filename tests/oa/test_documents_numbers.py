"""Document numbers (文号): assigned at issue only, formatted 京工发〔2026〕12号, one sequence per
org, year (Beijing time) and type; every org but the root numbers with a 机关代字 of its own
(an inherited one would print another org's numbers); a refused issue takes no number, a
rolled-back issue gives its number back, and the same number text is refused twice — by the
issue with a message, by the unique constraint as the last guard."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from tests.oa.test_documents_support import (
    account,
    add_officer,
    approved,
    issue,
    issued,
    make_draft,
    set_prefix,
    stored,
    submit,
)
from unionhub.web.formatting import SHANGHAI

Y2025 = datetime(2025, 6, 1, 4, 0, tzinfo=UTC)


def counter(oa: Any, org: str, year: int, doc_type: str) -> int | None:
    from unionhub import db
    from unionhub_oa.documents.models import OaDocNumber

    with oa.app.app_context():
        return db.session().scalar(select(OaDocNumber.last).where(
            OaDocNumber.org_id == oa.world.org_id(org), OaDocNumber.year == year,
            OaDocNumber.doc_type == doc_type))


def test_no_number_before_issue(oa: Any) -> None:
    doc_id = make_draft(oa)
    doc = stored(oa, doc_id)
    assert (doc.state, doc.year, doc.seq, doc.number) == ("draft", None, None, None)
    assert submit(oa, doc_id) is None  # no workflow for oa.document: approved at once
    doc = stored(oa, doc_id)
    assert (doc.state, doc.seq, doc.number) == ("approved", None, None)
    assert counter(oa, "city", datetime.now(UTC).year, "fa") is None


def test_format_and_sequences_per_org_year_and_type(oa: Any) -> None:
    a = approved(oa, title="第一份")
    b = approved(oa, title="第二份")
    letter = approved(oa, doc_type="zi", title="一份函")
    office = approved(oa, doc_type="ban", title="办公室文件")
    district = approved(oa, by="chaoyang", org="d1", title="区总工会的文")
    older = approved(oa, title="去年的文")
    set_prefix(oa, "d1", "朝工")
    year = datetime.now(UTC).astimezone(SHANGHAI).year
    assert issue(oa, a) == f"京工发〔{year}〕1号"
    assert issue(oa, b) == f"京工发〔{year}〕2号"
    assert issue(oa, letter) == f"京工字〔{year}〕1号"
    assert issue(oa, office) == f"京工办〔{year}〕1号"
    # the district's own sequence and prefix (issued by the city officer, who may issue in
    # its scope): never the same text as the city's 1号
    assert issue(oa, district, [("g1", False)]) == f"朝工发〔{year}〕1号"
    assert issue(oa, older, now=Y2025) == "京工发〔2025〕1号"
    docs = {i: stored(oa, i) for i in (a, b, district, older)}
    assert (docs[a].year, docs[a].seq, docs[b].seq) == (year, 1, 2)
    assert docs[district].org_id == oa.world.org_id("d1") and docs[district].seq == 1
    assert (docs[older].year, docs[older].seq) == (2025, 1)
    assert counter(oa, "city", year, "fa") == 2
    assert counter(oa, "d1", year, "fa") == 1


def test_year_is_beijing_time(oa: Any) -> None:
    doc_id = approved(oa)
    # 17:30 UTC on 31 December is 01:30 on 1 January in Beijing
    assert issue(oa, doc_id, now=datetime(2025, 12, 31, 17, 30, tzinfo=UTC)) \
        == "京工发〔2026〕1号"


def test_prefix_comes_from_the_setting(oa: Any) -> None:
    from unionhub import db
    from unionhub.settings import service as settings

    with oa.app.app_context():
        settings.put("oa.doc_prefix", "京总工")
        db.session().commit()
    doc_id = approved(oa)
    assert issue(oa, doc_id, now=Y2025) == "京总工发〔2025〕1号"


def test_refused_issue_takes_no_number(oa: Any) -> None:
    from unionhub import db
    from unionhub_oa.documents import service
    from unionhub_oa.documents.models import OaDocument

    doc_id = approved(oa)
    with oa.app.test_request_context():
        s = db.session()
        doc = s.get(OaDocument, doc_id)
        with pytest.raises(service.DocumentError) as exc:
            service.issue(s, account(oa, "city"), doc, [], now=Y2025)
        assert "recipients" in exc.value.errors
        # a district officer may draft but not issue
        with pytest.raises(service.DocumentError) as exc:
            service.issue(s, account(oa, "chaoyang"), doc, [(oa.world.org_id("g1"), False)],
                          now=Y2025)
        assert "state" in exc.value.errors
        s.rollback()
    draft = make_draft(oa)
    with oa.app.test_request_context(), pytest.raises(service.DocumentError):
        s = db.session()
        service.issue(s, account(oa, "city"), s.get(OaDocument, draft),
                      [(oa.world.org_id("d1"), False)], now=Y2025)
    assert counter(oa, "city", 2025, "fa") is None
    assert stored(oa, doc_id).state == "approved"
    assert issue(oa, doc_id, now=Y2025) == "京工发〔2025〕1号"


def test_recipients_outside_the_issuers_scope_are_refused(oa: Any) -> None:
    from unionhub import db
    from unionhub.identity.models import Account
    from unionhub_oa.documents import service
    from unionhub_oa.documents.models import OaDocument

    # an admin of d2 only (admins hold oa.docs.issue) may not send d2's document to d1
    d2admin = add_officer(oa, "d2admin", "admin", "d2")
    doc_id = approved(oa, by="haidian", org="d2")
    with oa.app.test_request_context():
        s = db.session()
        with pytest.raises(service.DocumentError) as exc:
            service.issue(s, s.get(Account, d2admin), s.get(OaDocument, doc_id),
                          [(oa.world.org_id("g2"), False), (oa.world.org_id("d1"), True)])
        assert str(oa.world.org_id("d1")) in exc.value.errors["recipients"]
        s.rollback()
    assert stored(oa, doc_id).state == "approved"
    assert counter(oa, "d2", datetime.now(UTC).year, "fa") is None


def test_rolled_back_issue_gives_its_number_back(oa: Any) -> None:
    from unionhub import db
    from unionhub_oa.documents import service
    from unionhub_oa.documents.models import OaDocument

    first = approved(oa, title="撤回的一份")
    second = approved(oa, title="下发的一份")
    with oa.app.test_request_context():
        s = db.session()
        number = service.issue(s, account(oa, "city"), s.get(OaDocument, first),
                               [(oa.world.org_id("d1"), False)], now=Y2025)
        assert number == "京工发〔2025〕1号"
        s.rollback()
    assert stored(oa, first).state == "approved" and stored(oa, first).number is None
    assert counter(oa, "city", 2025, "fa") is None  # the counter row went with it
    assert issue(oa, second, now=Y2025) == "京工发〔2025〕1号"
    assert issue(oa, first, now=Y2025) == "京工发〔2025〕2号"


def test_a_counter_set_back_is_refused_with_a_message(oa: Any) -> None:
    from unionhub import db
    from unionhub_oa.documents import service
    from unionhub_oa.documents.models import OaDocNumber, OaDocument

    one = approved(oa)
    two = approved(oa)
    assert issue(oa, one, now=Y2025) == "京工发〔2025〕1号"
    with oa.app.test_request_context():
        s = db.session()
        s.execute(update(OaDocNumber).values(last=0))  # a counter set back by hand
        with pytest.raises(service.DocumentError) as exc:
            service.issue(s, account(oa, "city"), s.get(OaDocument, two),
                          [(oa.world.org_id("d1"), False)], now=Y2025)
        assert "京工发〔2025〕1号" in exc.value.errors["prefix"]
        s.rollback()
    assert stored(oa, two).number is None and stored(oa, two).state == "approved"


def test_the_unique_constraints_are_the_last_guard(oa: Any) -> None:
    """The database itself refuses a second document with the same number text (whatever
    its org) or with the same org, year, type and sequence."""
    from unionhub import db
    from unionhub_oa.documents.models import OaDocument

    one, number = issued(oa)
    first = stored(oa, one)
    two = approved(oa, by="chaoyang", org="d1")
    same_text = {"number": number}
    same_seq = {"org_id": first.org_id, "year": first.year, "doc_type": first.doc_type,
                "seq": first.seq, "number": "另一个文号"}
    for values in (same_text, same_seq):
        with oa.app.app_context():
            s = db.session()
            with pytest.raises(IntegrityError):
                s.execute(update(OaDocument).where(OaDocument.id == two).values(**values))
            s.rollback()
    assert stored(oa, two).number is None


def test_an_org_without_a_prefix_of_its_own_may_not_number(oa: Any) -> None:
    """d1 would inherit the site-wide 京工 and print the city's numbers: refused with the
    reason, no number taken; once d1 has its own prefix it numbers with it. g1 under d1
    still has none of its own (d1's is inherited, not its own)."""
    from unionhub import db
    from unionhub.orgs.models import Org
    from unionhub_oa.documents import service
    from unionhub_oa.documents.models import OaDocument

    doc_id = approved(oa, by="chaoyang", org="d1")
    with oa.app.test_request_context():
        s = db.session()
        with pytest.raises(service.DocumentError) as exc:
            service.issue(s, account(oa, "city"), s.get(OaDocument, doc_id),
                          [(oa.world.org_id("g1"), False)], now=Y2025)
        assert exc.value.errors == {
            "prefix": "本单位尚未设置公文机关代字，请管理员在 设置 中为本单位设置后再编号"}
        s.rollback()
    assert stored(oa, doc_id).state == "approved"
    assert counter(oa, "d1", 2025, "fa") is None
    set_prefix(oa, "d1", "朝工")
    assert issue(oa, doc_id, [("g1", False)], now=Y2025) == "朝工发〔2025〕1号"
    with oa.app.test_request_context():
        s = db.session()
        g1 = s.get(Org, oa.world.org_id("g1"))
        assert service.own_prefix(s, g1) is None
        with pytest.raises(service.DocumentError) as exc:
            service.prefix_for(s, g1)
        assert "prefix" in exc.value.errors
    # the root needs none of its own: the site-wide value (or its own, when set)
    assert issue(oa, approved(oa), now=Y2025) == "京工发〔2025〕1号"
    set_prefix(oa, "city", "京总工")
    assert issue(oa, approved(oa), now=Y2025) == "京总工发〔2025〕2号"


def test_two_orgs_given_the_same_prefix_cannot_print_the_same_number(oa: Any) -> None:
    from unionhub import db
    from unionhub_oa.documents import service
    from unionhub_oa.documents.models import OaDocument

    city_doc = approved(oa, title="市")
    district_doc = approved(oa, by="chaoyang", org="d1", title="区")
    assert issue(oa, city_doc, now=Y2025) == "京工发〔2025〕1号"
    set_prefix(oa, "d1", "京工")  # an administrator's slip
    with oa.app.test_request_context():
        s = db.session()
        with pytest.raises(service.DocumentError) as exc:
            service.issue(s, account(oa, "city"), s.get(OaDocument, district_doc),
                          [(oa.world.org_id("g1"), False)], now=Y2025)
        assert "京工发〔2025〕1号" in exc.value.errors["prefix"]
        s.rollback()
    assert stored(oa, district_doc).number is None
    assert counter(oa, "d1", 2025, "fa") is None


def test_set_prefix_checks_and_clears(oa: Any) -> None:
    from unionhub import db
    from unionhub.settings import service as settings
    from unionhub_oa.documents import service

    with oa.app.test_request_context():
        s = db.session()
        d1 = oa.world.orgs["d1"]
        for bad in ("朝 工", "长" * 21):
            with pytest.raises(service.DocumentError) as exc:
                service.set_prefix(s, d1, bad)
            assert "prefix" in exc.value.errors
        assert service.set_prefix(s, d1, " 朝工 ") == "朝工"
        assert settings.get("oa.doc_prefix", oa.world.org_id("g1")) == "朝工"  # inherited
        assert service.own_prefix(s, d1) == "朝工"
        assert service.own_prefix(s, oa.world.orgs["g1"]) is None
        assert service.set_prefix(s, d1, "") == ""
        assert service.own_prefix(s, d1) is None
        s.rollback()


def test_issuing_twice_is_refused(oa: Any) -> None:
    from unionhub import db
    from unionhub_oa.documents import service
    from unionhub_oa.documents.models import OaDocument

    doc_id, number = issued(oa)
    with oa.app.test_request_context():
        s = db.session()
        with pytest.raises(service.DocumentError):
            service.issue(s, account(oa, "city"), s.get(OaDocument, doc_id),
                          [(oa.world.org_id("d2"), False)])
        s.rollback()
    assert stored(oa, doc_id).number == number
