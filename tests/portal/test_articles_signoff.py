"""Sign-off through an approval engine (the sample plugin plays the OA plugin): an article marked
``needs_signoff`` waits for the engine's decision, frozen; approval publishes it (or schedules
it), rejection returns it to draft with the approver's opinion. Without an engine the in-portal
review applies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import AppFactory
from tests.helpers import post_form
from tests.portal.conftest import Portal, build_portal
from tests.portal.test_articles_workflow import (
    act,
    article_form,
    create,
    current,
    officer,
    visible,
)


@pytest.fixture
def engine() -> Iterator[Any]:
    from unionhub_sample import plugin

    plugin.APPROVALS.clear()
    yield plugin
    plugin.APPROVALS.clear()


@pytest.fixture
def with_engine(make_app: AppFactory, engine: Any) -> Portal:
    make_app.set_plugin("sample", True)
    return build_portal(make_app)


def test_signoff_approved_publishes(with_engine: Portal, engine: Any) -> None:
    portal = with_engine
    editor, reviewer = officer(portal, "g1officer"), officer(portal, "chaoyang")
    aid = create(editor, article_form(portal, "g1", title="关于调整会费的通知",
                                      needs_signoff="1"))
    # a sign-off article is not published directly, even by a publisher
    page = reviewer.get(f"/portal/admin/articles/{aid}").get_data(as_text=True)
    assert 'value="publish"' not in page
    resp = act(portal, editor, aid, "submit")
    assert "已提交签批" in editor.get(resp.headers["Location"]).get_data(as_text=True)
    a = current(portal, aid)
    assert a.state == "pending" and a.approval_ref and a.approval_ref.startswith("sample-")
    request = engine.APPROVALS[a.approval_ref]
    assert (request.kind, request.subject_id, request.title, request.org_id,
            request.initiator_id) == ("portal.article", aid, "关于调整会费的通知",
                                      portal.world.org_id("g1"),
                                      portal.world.officers["g1officer"])
    assert request.fields["栏目"] == "工会动态"

    # frozen while the sign-off runs: no edits, no in-portal review
    page = reviewer.get(f"/portal/admin/articles/{aid}").get_data(as_text=True)
    assert "正在签批" in page and 'value="reject"' not in page and 'value="publish"' not in page
    resp = post_form(reviewer, f"/portal/admin/articles/{aid}",
                     article_form(portal, "g1", title="签批中改标题", revision="1"))
    assert resp.status_code == 422 and "签批中" in resp.get_data(as_text=True)
    act(portal, reviewer, aid, "publish")
    assert current(portal, aid).state == "pending"

    with portal.app.test_request_context():
        assert engine.decide(a.approval_ref, True, by_id=portal.world.officers["city"],
                             opinion="同意") is True
        from unionhub import db

        db.session().commit()
    a = current(portal, aid)
    assert a.state == "published" and a.published_at is not None
    assert "关于调整会费的通知" in visible(portal, "m1")

    # the same decision delivered again changes nothing
    from unionhub import approvals
    from unionhub.contrib import ApprovalDecision

    with portal.app.test_request_context():
        approvals.decided(ApprovalDecision("portal.article", aid, a.approval_ref, False))
    assert current(portal, aid).state == "published"


def test_signoff_rejected_returns_to_draft_with_the_opinion(with_engine: Portal,
                                                            engine: Any) -> None:
    from unionhub import db
    from unionhub.audit.models import AuditLog
    from unionhub.db import utcnow
    from unionhub_portal.articles.service import local_input

    portal = with_engine
    editor = officer(portal, "chaoyang")
    later = utcnow() + timedelta(days=1)
    aid = create(editor, article_form(portal, needs_signoff="1",
                                      published_at=local_input(later)))
    act(portal, editor, aid, "submit")
    ref = current(portal, aid).approval_ref
    with portal.app.test_request_context():
        engine.decide(ref, False, by_id=portal.world.officers["city"], opinion="数据需核实")
        db.session().commit()
    a = current(portal, aid)
    assert (a.state, a.review_note) == ("draft", "数据需核实")
    # fixed and resubmitted: a new request; approval schedules it at its publication time
    act(portal, editor, aid, "submit")
    new_ref = current(portal, aid).approval_ref
    assert new_ref and new_ref != ref
    with portal.app.test_request_context():
        engine.decide(new_ref, True, by_id=portal.world.officers["city"])
        db.session().commit()
        actions = list(db.session().scalars(select(AuditLog.action).where(
            AuditLog.target_id == str(aid), AuditLog.target_type == "portal_article")
            .order_by(AuditLog.id)))
    a = current(portal, aid)
    assert a.state == "published" and a.published_at > utcnow()
    assert "朝阳区总工会召开职工代表大会" not in visible(portal, "m1")
    assert actions == ["portal.article.signoff", "portal.article.signoff_rejected",
                       "portal.article.signoff", "portal.article.publish"]


def test_without_an_engine_the_portal_reviews(portal: Portal) -> None:
    editor = officer(portal, "chaoyang")
    aid = create(editor, article_form(portal, needs_signoff="1"))
    act(portal, editor, aid, "publish")
    assert current(portal, aid).state == "draft"  # needs review first
    resp = act(portal, editor, aid, "submit")
    assert "已提交审核" in editor.get(resp.headers["Location"]).get_data(as_text=True)
    a = current(portal, aid)
    assert (a.state, a.approval_ref) == ("pending", None)
    act(portal, editor, aid, "publish")
    assert current(portal, aid).state == "published"


def test_decisions_for_others_or_stale_refs_are_ignored(portal: Portal) -> None:
    from unionhub import db
    from unionhub.contrib import ApprovalDecision
    from unionhub_portal.articles.workflow import on_approval_decided
    from unionhub_portal.models import PortalArticle

    editor = officer(portal, "chaoyang")
    aid = create(editor, article_form(portal, needs_signoff="1"))
    act(portal, editor, aid, "submit")
    with portal.app.test_request_context():
        s = db.session()
        s.get(PortalArticle, aid).approval_ref = "oa-7"  # as if an engine had taken it
        s.commit()
        for decision in (ApprovalDecision("portal.article", aid, "oa-6", True),
                         ApprovalDecision("sample.note", aid, "oa-7", True),
                         ApprovalDecision("portal.article", "not-a-number", "oa-7", True),
                         ApprovalDecision("portal.article", 999999, "oa-7", True)):
            on_approval_decided(decision)
        s.commit()
        assert s.get(PortalArticle, aid).state == "pending"
        on_approval_decided(ApprovalDecision("portal.article", aid, "oa-7", True))
        s.commit()
    assert current(portal, aid).state == "published"
