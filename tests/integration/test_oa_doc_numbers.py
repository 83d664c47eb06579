"""Document numbers on a real PostgreSQL: many officers issuing documents of the same org,
year and type at the same moment get consecutive numbers 1..N — no gap, no duplicate —
including when some of the issuing transactions roll back after taking their number."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from tests.integration.test_pg_identity import race
from tests.oa.test_documents_support import approved
from unionhub import db
from unionhub.identity.models import Account
from unionhub_oa.documents import service
from unionhub_oa.documents.models import OaDocNumber, OaDocument

pytestmark = pytest.mark.integration

WHEN = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


class Abandoned(Exception):
    """An issue rolled back after it took its number."""


def _issue_all(oa: Any, n: int, abandon: set[int]) -> list[BaseException | None]:
    docs = iter([approved(oa, title=f"并发下发{i}") for i in range(n)])
    slots = iter(range(n))
    lock = threading.Lock()

    def work() -> None:
        with lock:
            doc_id = next(docs)
            slot = next(slots)
        s = db.session()
        city = s.get(Account, oa.world.officers["city"])
        service.issue(s, city, s.get(OaDocument, doc_id), [(oa.world.org_id("d1"), True)],
                      now=WHEN)
        s.flush()
        if slot in abandon:
            raise Abandoned(slot)

    return race(oa.app, work, n=n)


def _numbers(oa: Any) -> tuple[list[int], list[str], int | None]:
    with oa.app.app_context():
        s = db.session()
        rows = s.execute(select(OaDocument.seq, OaDocument.number)
                         .where(OaDocument.state == "issued").order_by(OaDocument.seq)).all()
        last = s.scalar(select(OaDocNumber.last).where(
            OaDocNumber.org_id == oa.world.org_id("city"), OaDocNumber.year == 2026,
            OaDocNumber.doc_type == "fa"))
    return [r[0] for r in rows], [r[1] for r in rows], last


def test_concurrent_issuers_get_consecutive_numbers(pg_database_url: str, oa: Any) -> None:
    n = 16
    results = _issue_all(oa, n, abandon=set())
    assert results == [None] * n, results
    seqs, numbers, last = _numbers(oa)
    assert seqs == list(range(1, n + 1))
    assert numbers == [f"京工发〔2026〕{i}号" for i in range(1, n + 1)]
    assert last == n


def test_rolled_back_issuers_leave_no_gap(pg_database_url: str, oa: Any) -> None:
    n = 16
    abandon = {0, 5, 6, 11}
    results = _issue_all(oa, n, abandon=abandon)
    assert sum(isinstance(r, Abandoned) for r in results) == len(abandon), results
    assert sum(r is None for r in results) == n - len(abandon), results
    seqs, numbers, last = _numbers(oa)
    assert seqs == list(range(1, n - len(abandon) + 1))
    assert len(set(numbers)) == len(numbers)
    assert last == n - len(abandon)
    with oa.app.app_context():
        left = db.session().scalars(select(OaDocument.state).where(
            OaDocument.state != "issued")).all()
    assert left == ["approved"] * len(abandon)


def test_two_orgs_with_the_same_prefix_issuing_at_once(pg_database_url: str, oa: Any) -> None:
    """The city and 朝阳 — given the same 机关代字 by mistake — issue their first document of
    the year at the same moment: neither sees the other's uncommitted number, so the unique
    constraint on the number text decides. One is issued; the other is refused with the
    message (not a raw database error) and keeps no number."""
    from tests.oa.test_documents_support import set_prefix

    set_prefix(oa, "d1", "京工")
    docs = [approved(oa, title="市总的文"), approved(oa, by="chaoyang", org="d1",
                                                      title="朝阳的文")]
    slots = iter(range(2))
    lock = threading.Lock()

    def work() -> None:
        with lock:
            doc_id = docs[next(slots)]
        s = db.session()
        city = s.get(Account, oa.world.officers["city"])
        service.issue(s, city, s.get(OaDocument, doc_id), [(oa.world.org_id("g1"), False)],
                      now=WHEN)
        s.flush()

    results = race(oa.app, work, n=2)
    assert sum(r is None for r in results) == 1, results
    [refused] = [r for r in results if r is not None]
    assert isinstance(refused, service.DocumentError), refused
    assert "京工发〔2026〕1号" in refused.errors["prefix"]
    with oa.app.app_context():
        numbers = db.session().scalars(select(OaDocument.number)
                                       .where(OaDocument.number.is_not(None))).all()
    assert numbers == ["京工发〔2026〕1号"]
