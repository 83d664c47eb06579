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



def _second_waits_for_first(portal: Portal, first: Any, second: Any) -> str:
    """Run ``first(session)`` here and keep its transaction open; start ``second(session)`` in
    a thread, wait until PostgreSQL shows it blocked on a lock ``first`` holds, then commit
    ``first``. Returns the outcome of ``second`` ("ok" or its exception's class name)."""
    from sqlalchemy import text

    outcome: dict[str, str] = {}
    with portal.app.app_context():
        s = db.session()
        first(s)
        s.flush()
        engine = s.get_bind()

        def run() -> None:
            with portal.app.app_context():
                s2 = db.session()
                try:
                    second(s2)
                    s2.commit()
                    outcome["second"] = "ok"
                except Exception as exc:  # reported to the caller
                    s2.rollback()
                    outcome["second"] = type(exc).__name__

        thread = threading.Thread(target=run)
        thread.start()
        waited = False
        for _poll in range(1000):
            with engine.connect() as probe:
                waited = bool(probe.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()")))
            if waited or not thread.is_alive():
                break
            threading.Event().wait(0.01)
        s.commit()
        thread.join(60)
    assert waited, f"the second action never waited for the first one's lock: {outcome}"
    return outcome["second"]


def _pending_reply(portal: Portal) -> tuple[int, int]:
    """A premoderated board of 朝阳 (moderated by ``city`` and ``chaoyang``) with a topic by
    ``m1`` and a reply by ``m3`` waiting for review: (topic id, reply id)."""
    from unionhub_portal.forum import moderation, service

    board = add_board(portal, "朝阳职工", org="d1", premoderated=True)
    first = new_topic(portal, "m1", board)
    s = db.session()
    moderation.approve(s, reader_for(portal, "chaoyang"), first.id)
    s.commit()
    post = service.reply(s, reader_for(portal, "m3"), first.topic_id, "待审核的回复")
    s.commit()
    return first.topic_id, post.id


def test_second_moderator_cannot_approve_a_post_rejected_meanwhile(pg_database_url,
                                                                   portal: Portal) -> None:
    """One moderator rejects a pending reply while another approves it: the approval, which
    read the post before the rejection committed, is refused once it gets the topic's lock —
    the post stays rejected and nobody is told about a reply that is not there."""
    from unionhub_portal.forum import moderation
    from unionhub_portal.forum.models import PortalForumLog, PortalForumPost

    with portal.app.app_context():
        _topic_id, post_id = _pending_reply(portal)

    outcome = _second_waits_for_first(
        portal,
        lambda s: moderation.reject(s, reader_for(portal, "chaoyang"), post_id, "不合适"),
        lambda s: moderation.approve(s, reader_for(portal, "city"), post_id))
    assert outcome == "ForumError"
    with portal.app.app_context():
        s = db.session()
        assert s.get(PortalForumPost, post_id).state == "deleted"
        assert list(s.scalars(select(PortalForumLog.action).where(
            PortalForumLog.post_id == post_id))) == ["reject"]


def test_author_edit_does_not_bring_back_a_post_deleted_meanwhile(pg_database_url,
                                                                  portal: Portal) -> None:
    """A moderator deletes a reply while its author saves an edit that would send it back to
    review (a sensitive word): the edit is refused and the reply stays deleted."""
    from tests.portal.test_forum_service import add_word
    from unionhub_portal.forum import moderation, service
    from unionhub_portal.forum.models import PortalForumPost

    with portal.app.app_context():
        board = add_board(portal, "朝阳职工", org="d1")
        add_word(portal, "罢工", "review")
        topic_id = new_topic(portal, "m1", board).topic_id
        post_id = service.reply(db.session(), reader_for(portal, "m3"), topic_id, "原文").id
        db.session().commit()

    outcome = _second_waits_for_first(
        portal,
        lambda s: moderation.set_post_state(s, reader_for(portal, "chaoyang"), post_id,
                                            "delete"),
        lambda s: service.edit(s, reader_for(portal, "m3"), post_id, "改过的内容：罢工"))
    assert outcome == "ForumError"
    with portal.app.app_context():
        post = db.session().get(PortalForumPost, post_id)
        assert (post.state, post.body_md) == ("deleted", "原文")


def test_a_report_is_closed_once_when_two_moderators_close_it_at_once(pg_database_url,
                                                                      portal: Portal) -> None:
    from unionhub_portal.forum import moderation
    from unionhub_portal.forum.models import PortalForumLog, PortalForumReport

    with portal.app.app_context():
        board = add_board(portal, "朝阳职工", org="d1")
        post_id = new_topic(portal, "m1", board).id
        s = db.session()
        report_id = moderation.report(s, reader_for(portal, "m3"), post_id, "广告").id
        s.commit()

    outcome = _second_waits_for_first(
        portal,
        lambda s: moderation.close_report(s, reader_for(portal, "chaoyang"), report_id,
                                          "dismiss", "没有问题"),
        lambda s: moderation.close_report(s, reader_for(portal, "city"), report_id,
                                          "resolve", "已隐藏", hide_post=True))
    assert outcome == "ForumError"
    with portal.app.app_context():
        s = db.session()
        assert s.get(PortalForumReport, report_id).state == "dismissed"
        assert list(s.scalars(select(PortalForumLog.action).where(
            PortalForumLog.report_id == report_id))) == ["dismiss"]
