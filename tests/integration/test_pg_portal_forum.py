"""Forum races on a real PostgreSQL: one member posting from many devices at once never gets
past the rate limit; many members replying at once leave the topic's reply count exact; one
member reporting a post twice at once files one report."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.portal.conftest import Portal
from tests.portal.test_forum_service import add_board, new_topic, reader_for, set_limit
from unionhub import db

pytestmark = pytest.mark.integration

THREADS = 12


def _race(portal: Portal, work: Any, n: int = THREADS) -> Counter[str]:
    """Run ``work(i)`` in ``n`` threads released together, each in its own app context and
    transaction; count the outcomes by exception class name ("ok" when committed)."""
    barrier = threading.Barrier(n)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def run(i: int) -> None:
        with portal.app.app_context():
            s = db.session()
            barrier.wait()
            try:
                work(i)
                s.commit()
                outcome = "ok"
            except Exception as exc:  # counted, asserted by the caller
                s.rollback()
                outcome = type(exc).__name__
            with lock:
                outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


def test_rate_limit_holds_under_simultaneous_posts(pg_database_url, portal: Portal) -> None:
    from unionhub_portal.forum import service
    from unionhub_portal.forum.models import PortalForumPost

    with portal.app.app_context():
        board = add_board(portal)
        set_limit(5)
        topic_id = new_topic(portal, "m2", board).topic_id
    account_id = portal.world.people["m1"].account_id

    def post(i: int) -> None:
        service.reply(db.session(), reader_for(portal, "m1"), topic_id, f"第{i}条")

    outcomes = _race(portal, post)
    assert outcomes == {"ok": 5, "RateLimited": THREADS - 5}, outcomes
    with portal.app.app_context():
        assert db.session().scalar(select(func.count()).select_from(PortalForumPost).where(
            PortalForumPost.author_id == account_id)) == 5


def test_reply_count_exact_when_many_reply_at_once(pg_database_url, portal: Portal) -> None:
    from tests.helpers import add_member
    from unionhub_portal.forum import service
    from unionhub_portal.forum.models import PortalForumTopic

    with portal.app.app_context():
        board = add_board(portal)
        topic_id = new_topic(portal, "m2", board).topic_id
        org = db.session().merge(portal.world.orgs["g1"])
        people = [add_member(org, f"回帖人{i}") for i in range(THREADS)]
        for i, p in enumerate(people):
            portal.world.people[f"r{i}"] = p

    def post(i: int) -> None:
        service.reply(db.session(), reader_for(portal, f"r{i}"), topic_id, "同意")

    assert _race(portal, post) == {"ok": THREADS}
    with portal.app.app_context():
        topic = db.session().get(PortalForumTopic, topic_id)
        assert topic.reply_count == THREADS


def test_one_report_per_member_under_a_double_submit(pg_database_url, portal: Portal) -> None:
    from unionhub_portal.forum import moderation
    from unionhub_portal.forum.models import PortalForumReport

    with portal.app.app_context():
        board = add_board(portal)
        post_id = new_topic(portal, "m2", board).id

    def report(_i: int) -> None:
        moderation.report(db.session(), reader_for(portal, "m1"), post_id, "广告")

    outcomes = _race(portal, report, 4)
    assert outcomes["ok"] == 1 and sum(outcomes.values()) == 4, outcomes
    with portal.app.app_context():
        assert db.session().scalar(select(func.count()).select_from(PortalForumReport)) == 1
