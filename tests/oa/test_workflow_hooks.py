"""The OA plugin as the platform's approval engine: another plugin's sign-off starts a
request (its fields mapped onto the definition's, the rest kept for display); the decision
reaches the plugin owning the kind — or is kept and redelivered by the timers when that
plugin was not listening; OA's own kinds go to the handler registered for them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import AppFactory
from tests.helpers import World, build_world
from tests.oa.conftest import OA
from tests.oa.test_workflow_engine import DISTRICT, acc, act, org, step, tasks, wf
from unionhub import approvals, db
from unionhub.contrib import ApprovalDecision, ApprovalRequest
from unionhub_oa.workflow import engine, hooks
from unionhub_oa.workflow.models import OaRequest, RequestState
from unionhub_oa.workflow.timers import run_timers

CALLS: list[tuple[Any, ApprovalDecision]] = []


def record_handler(session: Any, decision: ApprovalDecision) -> None:
    """A handler for a test kind (registered in hooks.HANDLERS by the tests)."""
    CALLS.append((session, decision))


@pytest.fixture
def ctx(oa: OA) -> Iterator[OA]:
    with oa.app.app_context():
        yield oa


@pytest.fixture
def with_sample(make_app: AppFactory) -> Iterator[tuple[Flask, World, Any]]:
    """OA and the sample plugin (which records decisions on "sample.*" kinds)."""
    from unionhub_sample import plugin

    make_app.set_plugin("oa", True)
    make_app.set_plugin("sample", True)
    app = make_app()
    with app.app_context():
        world = build_world()
    plugin.APPROVALS.clear()
    plugin.DECISIONS.clear()
    yield app, world, plugin
    plugin.APPROVALS.clear()
    plugin.DECISIONS.clear()


def test_a_plugin_sign_off_starts_a_request(ctx: OA) -> None:
    wf("notes", [step("d", DISTRICT)], [
        {"name": "author", "label": "作者", "type": "text", "required": True},
        {"name": "pages", "label": "页数", "type": "int"}], kind="sample.note")
    s = db.session()
    ref = approvals.start(ApprovalRequest(
        "sample.note", 42, "一篇笔记", org_id=ctx.world.org_id("g1"),
        initiator_id=acc(ctx, "g1officer").id, url="/sample/42",
        fields={"作者": "张*", "pages": "12", "栏目": "通知公告"}))
    s.commit()
    assert ref is not None and ref.startswith("oa-")
    req = s.get(OaRequest, int(ref[3:]))
    assert req is not None and req.ref == ref
    assert (req.kind, req.subject_id, req.title, req.url) == ("sample.note", "42", "一篇笔记",
                                                              "/sample/42")
    assert req.fields == {"author": "张*", "pages": 12, "栏目": "通知公告"}
    assert engine.shown_fields(s, req) == [("作者", "张*"), ("页数", "12"), ("栏目", "通知公告")]
    assert tasks(req) == [("chaoyang", 1, "pending")]
    # no workflow for a kind: no reference (the asking plugin reviews on its own)
    assert approvals.start(ApprovalRequest("sample.other", 1, "x", None, None)) is None


def test_a_sign_off_without_an_org_goes_to_the_city(ctx: OA) -> None:
    wf("cityonly", [step("c", {"by": "role", "role": "city_officer", "org": "initiator"})],
       kind="sample.note")
    ref = hooks.approval_start(ApprovalRequest("sample.note", "n-1", "无单位", None, None))
    req = db.session().get(OaRequest, int(ref[3:]))  # type: ignore[index]
    assert req is not None and req.org_id == ctx.world.org_id("city")
    assert req.initiator_id is None and tasks(req) == [("city", 1, "pending")]


def test_a_sign_off_nobody_can_approve_is_refused(ctx: OA) -> None:
    wf("nobody", [step("f", {"by": "role", "role": "finance_officer", "org": "initiator"},
                       name="财务审核")], kind="sample.note")
    with pytest.raises(approvals.ApprovalError, match="财务审核"):
        approvals.start(ApprovalRequest("sample.note", 1, "x", ctx.world.org_id("g1"), None))
    with pytest.raises(approvals.ApprovalError, match="作者"):
        wf("strict", [step("d", DISTRICT)], [{"name": "author", "label": "作者",
                                               "required": True}], kind="sample.strict")
        approvals.start(ApprovalRequest("sample.strict", 1, "x", ctx.world.org_id("g1"), None))
    db.session().rollback()


def test_the_decision_reaches_the_owning_plugin(with_sample: tuple[Flask, World, Any]) -> None:
    app, world, sample = with_sample
    oa = OA(app, world)
    with app.app_context():
        w = wf("notes", [step("d", DISTRICT)], kind="sample.note")
        s = db.session()
        req = engine.start(s, w, initiator=acc(oa, "g1officer"), org=org(oa, "g1"),
                           title="笔记", fields={}, subject_id=7)
        s.commit()
        act(oa, engine.reject, "chaoyang", req, "请补充")
        assert [(d.kind, d.subject_id, d.ref, d.approved, d.by_id, d.opinion)
                for d in sample.DECISIONS] == [
            ("sample.note", 7, req.ref, False, acc(oa, "chaoyang").id, "请补充")]
        assert req.undelivered is False
        general = engine.start(s, wf("gen", [step("d", DISTRICT)]), initiator=None,
                               org=org(oa, "g1"), title="一般", fields={})
        s.commit()
        act(oa, engine.approve, "chaoyang", general)
        assert len(sample.DECISIONS) == 1 and general.undelivered is False


def test_an_unheard_decision_is_redelivered(make_app: AppFactory,
                                            with_sample: tuple[Flask, World, Any]) -> None:
    app, world, sample = with_sample
    oa = OA(app, world)
    with app.app_context():
        w = wf("notes", [step("d", DISTRICT)], kind="sample.note")
        s = db.session()
        req = engine.start(s, w, initiator=acc(oa, "g1officer"), org=org(oa, "g1"),
                           title="笔记", fields={}, subject_id="abc")
        s.commit()
    make_app.set_plugin("sample", False)  # switched off at run time: nobody listens
    with app.app_context():
        act(oa, engine.approve, "chaoyang", db.session().get(OaRequest, req.id), "同意")
        req = db.session().get(OaRequest, req.id)
        assert req.state == RequestState.APPROVED and req.undelivered is True
        assert run_timers(db.session())["redelivered"] == 0  # still off
        db.session().commit()
        assert sample.DECISIONS == []
    make_app.set_plugin("sample", True)
    with app.app_context():
        s = db.session()
        assert run_timers(s)["redelivered"] == 1
        s.commit()
        assert [(d.subject_id, d.approved, d.opinion) for d in sample.DECISIONS] == [
            ("abc", True, "同意")]
        assert s.get(OaRequest, req.id).undelivered is False  # type: ignore[union-attr]
        assert run_timers(s)["redelivered"] == 0


def test_own_kinds_go_to_their_handler(ctx: OA, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(hooks.HANDLERS, "oa.test_kind",
                        "tests.oa.test_workflow_hooks:record_handler")
    monkeypatch.setitem(hooks.HANDLERS, "oa.not_there",
                        "unionhub_oa.no_such_feature.service:on_decided")
    CALLS.clear()
    decision = ApprovalDecision("oa.test_kind", 5, "oa-1", True, None, "")
    assert approvals.decided(decision) is True  # OA owns "oa." kinds
    assert [(db.session(), decision)] == CALLS
    hooks.approval_decided(ApprovalDecision("oa.not_there", 5, "oa-1", True))  # not yet there
    hooks.approval_decided(ApprovalDecision("portal.article", 5, "oa-1", True))  # not ours
    assert len(CALLS) == 1
    w = wf("own", [step("d", DISTRICT)], kind="oa.test_kind")
    s = db.session()
    req = engine.start(s, w, initiator=None, org=org(ctx, "g1"), title="自有", fields={},
                       subject_id=9)
    s.commit()
    act(ctx, engine.approve, "chaoyang", req, "好")
    assert [(d.kind, d.subject_id, d.ref, d.approved, d.opinion) for _s, d in CALLS[1:]] == [
        ("oa.test_kind", 9, req.ref, True, "好")]
    assert s.scalar(select(OaRequest.undelivered).where(OaRequest.id == req.id)) is False
    CALLS.clear()
