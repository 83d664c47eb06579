"""Hotline races on a real PostgreSQL: two officers answering one question at once — one
answer, one notification; two managers assigning at once — one assignment; eight escalation
runs at once over 60 overdue questions — each escalated exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.integration.test_pg_identity import race
from tests.portal.conftest import Portal
from unionhub import db
from unionhub.db import utcnow
from unionhub.identity.models import Account
from unionhub.notify.models import Notification
from unionhub_portal.hotline import service
from unionhub_portal.hotline.models import (
    HotlineEventKind,
    PortalHotlineEvent,
    PortalHotlineQuestion,
)

pytestmark = pytest.mark.integration


def _ask(portal: Portal, key: str = "m1", **kw: object) -> int:
    with portal.app.app_context():
        s = db.session()
        acc = s.get(Account, portal.world.people[key].account_id)
        q = service.ask(s, acc, category="wages", subject="并发测试",
                        body="公司拖欠工资两个月怎么办？", **kw)  # type: ignore[arg-type]
        s.commit()
        return q.id


def _events(question_id: int, kind: str) -> int:
    return int(db.session().scalar(select(func.count()).select_from(PortalHotlineEvent).where(
        PortalHotlineEvent.question_id == question_id, PortalHotlineEvent.kind == kind)) or 0)


def test_two_officers_answering_at_once(pg_database_url, portal: Portal) -> None:
    qid = _ask(portal)
    officers = iter(["g1officer", "chaoyang"])
    lock = threading.Lock()

    def work() -> None:
        with lock:
            username = next(officers)
        s = db.session()
        officer = s.get(Account, portal.world.officers[username])
        q = s.get(PortalHotlineQuestion, qid)
        service.answer(s, q, officer, f"{username} 的答复：可以向劳动保障监察机构投诉。")

    results = race(portal.app, work)
    assert sum(r is None for r in results) == 1
    assert [type(r) for r in results if r is not None] == [service.HotlineError]
    with portal.app.app_context():
        assert _events(qid, HotlineEventKind.ANSWERED) == 1
        assert db.session().scalar(select(func.count()).select_from(Notification).where(
            Notification.type_key == service.ANSWERED_TYPE)) == 1
        q = db.session().get(PortalHotlineQuestion, qid)
        assert q.state == "answered" and q.answer.startswith(
            "g1officer" if q.answered_by == portal.world.officers["g1officer"] else "chaoyang")


def test_two_managers_assigning_at_once(pg_database_url, portal: Portal) -> None:
    qid = _ask(portal)
    w = portal.world
    targets = iter([w.officers["g1officer"], w.officers["city"]])
    lock = threading.Lock()

    def work() -> None:
        with lock:
            assignee = next(targets)
        s = db.session()
        q = s.get(PortalHotlineQuestion, qid)
        service.assign(s, q, assignee, s.get(Account, w.officers["chaoyang"]))

    results = race(portal.app, work)
    assert sum(r is None for r in results) == 1
    with portal.app.app_context():
        s = db.session()
        assert _events(qid, HotlineEventKind.ASSIGNED) == 1
        assert _events(qid, HotlineEventKind.REASSIGNED) == 0
        event = s.scalar(select(PortalHotlineEvent).where(
            PortalHotlineEvent.question_id == qid, PortalHotlineEvent.kind == "assigned"))
        assert s.get(PortalHotlineQuestion, qid).assignee_id == event.detail["assignee_id"]


def test_overlapping_escalation_runs_escalate_each_question_once(
        pg_database_url, portal: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "ESCALATE_BATCH", 5)  # many small batches: runs interleave
    past = utcnow() - timedelta(days=12)
    ids = [_ask(portal, ("m1", "m2", "m3")[i % 3], now=past - timedelta(minutes=i))
           for i in range(30)]  # 10 per member stays under the daily limit
    ids += [_ask(portal, ("m1", "m2", "m3")[i % 3], now=past - timedelta(days=2, minutes=i))
            for i in range(30)]
    totals: Counter[int] = Counter()
    lock = threading.Lock()

    def work() -> None:
        n = service.escalate_overdue(db.session())
        with lock:
            totals[n] += 1

    results = race(portal.app, work, n=8)
    assert results == [None] * 8
    assert sum(n * k for n, k in totals.items()) == 60
    with portal.app.app_context():
        s = db.session()
        per_question = Counter(s.scalars(select(PortalHotlineEvent.question_id).where(
            PortalHotlineEvent.kind == HotlineEventKind.ESCALATED)))
        assert set(per_question) == set(ids) and set(per_question.values()) == {1}
        assert service.escalate_overdue(s) == 0
