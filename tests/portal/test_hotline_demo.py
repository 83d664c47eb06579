"""The hotline's demo seeder: about 60 questions in every state, the published ones redacted
and public, the overdue ones escalated, all answered by officers of the right union."""

from __future__ import annotations

import random
from collections import Counter

from sqlalchemy import select

from tests.portal.conftest import Portal
from unionhub import db
from unionhub.demo import DemoContext
from unionhub.identity.models import Account
from unionhub_portal.hotline import demo, service
from unionhub_portal.hotline.models import (
    HotlineEventKind,
    PortalHotlineEvent,
    PortalHotlineQuestion,
)


def test_demo_hotline(portal: Portal) -> None:
    w = portal.world
    with portal.app.app_context():  # as `unionhub demo` runs it: no request
        s = db.session()
        ctx = DemoContext(rng=random.Random(7),
                          orgs={o.code: s.merge(o) for o in w.orgs.values()},
                          member_ids=[p.member_id for p in w.people.values()], officers={})
        demo.seed(s, ctx)
        s.commit()
        questions = list(s.scalars(select(PortalHotlineQuestion)))
        assert len(questions) == 60
        states = Counter(q.state for q in questions)
        assert states == {"published": 30, "answered": 5, "closed": 5, "new": 10,
                          "assigned": 10}
        assert {q.category for q in questions} >= set(service.CATEGORIES) - {"other"}
        names = {p.name for p in w.people.values()}
        for q in questions:
            if q.state == "published":
                text = f"{q.public_subject}{q.public_question}{q.public_answer}"
                assert not any(n in text for n in names), q.id
                assert "6214 6800" not in text
                assert q.answered_at is not None and q.asked_at < q.answered_at
                assert q.answered_at <= q.published_at
            # every answer came from an officer who may answer for the question's org
            if q.answered_by is not None:
                officer = s.get(Account, q.answered_by)
                assert service.scoped_question(s, officer, q.id) is not None
        overdue = [q for q in questions if q.is_open and q.escalated_at is not None]
        assert len(overdue) == 8
        escalated = Counter(s.scalars(select(PortalHotlineEvent.question_id).where(
            PortalHotlineEvent.kind == HotlineEventKind.ESCALATED)))
        assert set(escalated) == {q.id for q in overdue} and set(escalated.values()) == {1}
        assert any("职工热线: 60 个问题" in line for line in ctx.lines)
        latest = s.scalars(service.published().limit(3)).all()
        subjects = [q.public_subject for q in latest]
    anon = portal.app.test_client()
    html = anon.get("/portal/hotline").get_data(as_text=True)
    assert all(subject in html for subject in subjects)
    assert anon.get("/api/v1/portal/hotline").get_json()["total"] == 30
