"""Approvers racing on a real PostgreSQL: two approvers of one any-of step acting at the same
moment (one wins, the other gets Conflict, the trail has one approval), the same approver
clicking twice, an approval racing the initiator's withdrawal, and the timers escalating a
task while its approver approves it."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.integration.test_pg_identity import race
from tests.oa.conftest import OA
from tests.oa.test_workflow_engine import DISTRICT, acc, begin, officer, step, task_of, wf
from unionhub import db
from unionhub.db import utcnow
from unionhub.identity.models import Account
from unionhub_oa.workflow import engine
from unionhub_oa.workflow.models import OaAction, OaRequest, OaTask, RequestState, TaskState
from unionhub_oa.workflow.timers import run_timers

pytestmark = pytest.mark.integration


def _approvals(request_id: int) -> int:
    return len(db.session().scalars(select(OaAction).where(
        OaAction.request_id == request_id, OaAction.action == "approve")).all())


@pytest.mark.parametrize("with_lock", [True, False])
def test_two_approvers_of_an_any_step_at_once(pg_database_url: str, oa: OA,
                                              with_lock: bool) -> None:
    with oa.app.app_context():
        officer(oa, "chaoyang2", "district_officer", "d1")
        w = wf("race", [step("d", DISTRICT, "any"), step("c", {"by": "role",
                                                              "role": "city_officer",
                                                              "org": "city"})])
        req = begin(oa, w)
        rid, lock = req.id, req.lock
        jobs = [(acc(oa, name).id, task_of(req, name, oa).id)
                for name in ("chaoyang", "chaoyang2")]
    queue = iter(jobs)
    mutex = threading.Lock()

    def work() -> None:
        with mutex:
            account_id, task_id = next(queue)
        s = db.session()
        engine.approve(s, s.get(Account, account_id), task_id, "同意",
                       lock=lock if with_lock else None)

    results = race(oa.app, work, n=2)
    assert sum(r is None for r in results) == 1, results
    loser = next(r for r in results if r is not None)
    assert isinstance(loser, engine.Conflict), repr(loser)
    assert str(loser) == "该审批已被他人处理，请刷新后重试"
    with oa.app.app_context():
        s = db.session()
        req = s.get(OaRequest, rid)
        assert req is not None and req.step == 1 and req.state == RequestState.RUNNING
        assert _approvals(rid) == 1
        states = sorted(s.scalars(select(OaTask.state).where(OaTask.request_id == rid,
                                                             OaTask.step == 0)))
        assert states == [TaskState.APPROVED, TaskState.CANCELLED]
        assert len(s.scalars(select(OaTask).where(OaTask.request_id == rid,
                                                  OaTask.step == 1)).all()) == 1


def test_the_same_approver_clicking_twice(pg_database_url: str, oa: OA) -> None:
    with oa.app.app_context():
        w = wf("twice", [step("d", DISTRICT), step("c", {"by": "role", "role": "city_officer",
                                                         "org": "city"})])
        req = begin(oa, w)
        rid = req.id
        account_id, task_id = acc(oa, "chaoyang").id, task_of(req, "chaoyang", oa).id

    def work() -> None:
        s = db.session()
        engine.approve(s, s.get(Account, account_id), task_id)

    results = race(oa.app, work, n=4)
    assert sum(r is None for r in results) == 1, results
    assert all(isinstance(r, engine.Conflict) for r in results if r is not None), results
    with oa.app.app_context():
        assert _approvals(rid) == 1
        assert len(db.session().scalars(select(OaTask).where(
            OaTask.request_id == rid, OaTask.step == 1)).all()) == 1


def test_an_approval_racing_the_withdrawal(pg_database_url: str, oa: OA) -> None:
    with oa.app.app_context():
        w = wf("wd", [step("d", DISTRICT)])
        req = begin(oa, w)
        rid = req.id
        approver, task_id = acc(oa, "chaoyang").id, task_of(req, "chaoyang", oa).id
        initiator = acc(oa, "g1officer").id
    turns = iter(["approve", "withdraw"])
    mutex = threading.Lock()

    def work() -> None:
        with mutex:
            what = next(turns)
        s = db.session()
        if what == "approve":
            engine.approve(s, s.get(Account, approver), task_id)
        else:
            engine.withdraw(s, s.get(Account, initiator), rid)

    results = race(oa.app, work, n=2)
    assert sum(r is None for r in results) == 1, results
    loser: Any = next(r for r in results if r is not None)
    assert isinstance(loser, engine.EngineError), repr(loser)
    with oa.app.app_context():
        req = db.session().get(OaRequest, rid)
        assert req is not None
        assert req.state in (RequestState.APPROVED, RequestState.WITHDRAWN)
        finishes = db.session().scalars(select(OaAction).where(
            OaAction.request_id == rid, OaAction.action == "finish")).all()
        assert len(finishes) == 1


def test_escalation_racing_an_approval(pg_database_url: str, oa: OA) -> None:
    with oa.app.app_context():
        w = wf("esc", [step("d", DISTRICT, deadline_hours=1)])
        req = begin(oa, w)
        rid = req.id
        approver, task_id = acc(oa, "chaoyang").id, task_of(req, "chaoyang", oa).id
    turns = iter(["approve", "timers"])
    mutex = threading.Lock()
    counts: list[dict[str, int]] = []

    def work() -> None:
        with mutex:
            what = next(turns)
        s = db.session()
        if what == "approve":
            engine.approve(s, s.get(Account, approver), task_id)
        else:
            counts.append(run_timers(s, utcnow() + timedelta(hours=2)))

    results = race(oa.app, work, n=2)
    assert all(r is None or isinstance(r, engine.Conflict) for r in results), results
    with oa.app.app_context():
        s = db.session()
        req = s.get(OaRequest, rid)
        assert req is not None
        tasks = s.scalars(select(OaTask).where(OaTask.request_id == rid)
                          .order_by(OaTask.id)).all()
        if req.state == RequestState.APPROVED:  # the approval came first (or alone)
            assert tasks[0].state == TaskState.APPROVED
            assert tasks[0].escalated_at is None and len(tasks) == 1
        else:  # the escalation came first: the approver lost the task
            assert isinstance(results[0] or results[1], engine.Conflict)
            assert [t.state for t in tasks] == [TaskState.TRANSFERRED, TaskState.PENDING]
            assert _approvals(rid) == 0
