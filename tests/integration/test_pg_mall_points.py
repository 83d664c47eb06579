"""Points races on a real PostgreSQL: spends at the same moment never overdraw a balance, two
grants at once never both fit under one cap, and expiry running beside a spend never takes
points twice."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.benefits_mall.conftest import Mall
from tests.integration.test_pg_identity import race
from unionhub import db
from unionhub.orgs.models import Org

pytestmark = pytest.mark.integration
TODAY = date(2026, 3, 10)


def _svc() -> Any:
    from unionhub_benefits_mall.points import service

    return service


def _org(mall: Mall, key: str) -> Org:
    org = db.session().get(Org, mall.world.org_id(key))
    assert org is not None
    return org


def _sum(member_id: int) -> int:
    from unionhub_benefits_mall.models import BenefitsMallPointsEntry as E

    return int(db.session().scalar(select(func.coalesce(func.sum(E.points), 0))
                                   .where(E.member_id == member_id)) or 0)


def _setup(mall: Mall, points: int = 100) -> int:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        svc.set_rule(s, _org(mall, "city"), "spring_festival", 200, 200, 1000, 12)
        m1 = mall.world.people["m1"].member_id
        svc.grant(s, org=_org(mall, "g1"), member_ids=[m1], occasion="spring_festival",
                  points=points, year=TODAY.year, account_id=None, batch_key="g", today=TODAY)
        s.commit()
        return int(m1)


def test_concurrent_spends_never_overdraw(pg_database_url: str, mall: Mall) -> None:
    m1 = _setup(mall, 100)
    keys = iter(range(8))
    lock = threading.Lock()

    def spend() -> None:
        with lock:
            i = next(keys)
        _svc().spend(db.session(), m1, 30, batch_key=f"s{i}", today=TODAY)

    results = race(mall.app, spend, n=8)
    assert sum(r is None for r in results) == 3, results
    assert all(isinstance(r, _svc().PointsError) for r in results if r is not None)
    with mall.app.app_context():
        assert _sum(m1) == 10 == _svc().balance(db.session(), m1, TODAY)


def test_retried_spend_is_booked_once(pg_database_url: str, mall: Mall) -> None:
    """The same spend (one batch key) sent twice at once: one entry; the other waits for the
    member's lock, then finds it (or fails on the unique key, never spending twice)."""
    m1 = _setup(mall, 100)

    def spend() -> None:
        _svc().spend(db.session(), m1, 60, batch_key="coupon:7", today=TODAY)

    race(mall.app, spend)
    with mall.app.app_context():
        assert _sum(m1) == 40


def test_two_grants_at_once_share_one_cap(pg_database_url: str, mall: Mall) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        svc.set_rule(s, _org(mall, "city"), "mid_autumn", 150, 200, 1000, 12)
        s.commit()
    keys = iter(["a", "b"])
    lock = threading.Lock()

    def grant() -> None:
        with lock:
            key = next(keys)
        svc.grant(db.session(), org=_org(mall, "d1"), member_ids=None, occasion="mid_autumn",
                  points=150, year=TODAY.year, account_id=None, batch_key=key, today=TODAY)

    results = race(mall.app, grant)
    assert sum(r is None for r in results) == 1, results
    assert isinstance(next(r for r in results if r is not None), svc.PointsError)
    with mall.app.app_context():
        for key in ("m1", "m3"):
            assert _sum(mall.world.people[key].member_id) == 150


def test_expiry_beside_a_spend(pg_database_url: str, mall: Mall) -> None:
    m1 = _setup(mall, 100)
    after = date(2027, 3, 11)
    with mall.app.app_context():
        s = db.session()
        svc = _svc()
        svc.set_rule(s, _org(mall, "city"), "birthday", 100, 100, 1000, 12)
        svc.grant(s, org=_org(mall, "g1"), member_ids=[m1], occasion="birthday", points=50,
                  year=2027, account_id=None, batch_key="b", today=date(2027, 1, 5))
        svc.spend(s, m1, 40, batch_key="early", today=TODAY)
        s.commit()
    kinds = iter(["spend", "expire"])
    lock = threading.Lock()

    def act() -> None:
        with lock:
            kind = next(kinds)
        s = db.session()
        if kind == "spend":
            _svc().spend(s, m1, 50, batch_key="late", today=after)
        else:
            _svc().expire_due(s, after)

    results = race(mall.app, act)
    assert results == [None, None]
    with mall.app.app_context():
        s = db.session()
        from unionhub_benefits_mall.models import BenefitsMallPointsEntry as E

        expired = s.scalars(select(E.points).where(E.member_id == m1, E.kind == "expire")).all()
        assert expired == [-60]  # the spring-festival rest, once
        assert _sum(m1) == 0 == _svc().balance(s, m1, after)
