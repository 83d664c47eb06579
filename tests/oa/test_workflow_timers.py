"""The approval timers: reminders before the deadline (once), escalation of overdue tasks to
the parent org's holder of the step's role (walking up, at the top the city admins; once per
task), nothing to do twice, and the job committing its work. Time is moved by passing ``now``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tests.helpers import add_member
from tests.oa.conftest import OA
from tests.oa.test_workflow_engine import (
    DISTRICT,
    GRASSROOTS,
    acc,
    act,
    actions,
    begin,
    officer,
    org,
    step,
    task_of,
    tasks,
    users,
    wf,
)
from unionhub import db
from unionhub.access.models import RoleGrant
from unionhub.db import utcnow
from unionhub.notify.models import Notification
from unionhub.settings import service as settings
from unionhub_oa.workflow import engine
from unionhub_oa.workflow.models import OaAction, OaTask, RequestState, TaskState
from unionhub_oa.workflow.timers import run_timers, timers_job


@pytest.fixture
def ctx(oa: OA) -> Iterator[OA]:
    with oa.app.app_context():
        yield oa


def run(hours: float) -> dict[str, int]:
    s = db.session()
    result = run_timers(s, utcnow() + timedelta(hours=hours))
    s.commit()
    return result


def test_reminders_come_once_within_the_window(ctx: OA) -> None:
    s = db.session()
    person = add_member(org(ctx, "d1"), "孙干事")
    s.add(RoleGrant(account_id=person.account_id, role="district_officer",
                    org_id=ctx.world.org_id("d1")))
    s.commit()
    w = wf("remind", [step("d", DISTRICT, "all", deadline_hours=10)])
    req = begin(ctx, w, title="采购申请")
    assert run(5) == {"reminded": 0, "escalated": 0, "redelivered": 0}  # due in 5 h > 4 h
    assert run(7)["reminded"] == 2  # due in 3 h: both approvers
    assert run(8)["reminded"] == 0  # once
    assert all(t.reminded_at is not None for t in s.scalars(select(OaTask)))
    assert actions(req).count("remind") == 2
    note = s.scalar(select(Notification).where(Notification.member_id == person.member_id,
                                               Notification.type_key == "oa.remind"))
    assert note is not None and note.title == "审批即将超时：采购申请"
    settings.put("oa.remind_before_hours", 1)
    s.commit()
    req2 = begin(ctx, w, title="二")
    assert run(7)["reminded"] == 0  # due in 3 h > 1 h now
    assert run(9.5)["reminded"] == 2
    assert req2.state == RequestState.RUNNING


def test_overdue_tasks_climb_one_level_at_a_time(ctx: OA) -> None:
    officer(ctx, "d1grass", "grassroots_officer", "d1")
    w = wf("esc", [step("g", GRASSROOTS, deadline_hours=24), step("d", DISTRICT)])
    req = begin(ctx, w, by="clerk")
    first = task_of(req, "g1officer", ctx)
    assert run(23) == {"reminded": 1, "escalated": 0, "redelivered": 0}
    assert run(25)["escalated"] == 1
    assert tasks(req) == [("g1officer", 1, "transferred"), ("d1grass", 1, "pending")]
    s = db.session()
    s.refresh(first)
    assert first.escalated_at is not None and first.acted_at is None
    second = task_of(req, "d1grass", ctx)
    assert second.org_id == ctx.world.org_id("d1")
    assert second.due_at is not None and second.due_at > first.due_at  # a new deadline
    entry = s.scalars(select(OaAction).where(OaAction.request_id == req.id,
                                             OaAction.action == "escalate")).one()
    assert entry.details["from"] == "g1officer" and entry.details["to"] == "d1grass"
    assert run(26)["escalated"] == 0  # the new task is not overdue yet
    # nobody holds grassroots_officer above D1: the city admins take it
    assert run(25 + 25)["escalated"] == 1
    assert tasks(req)[-1] == ("admin", 1, "pending")
    assert req.touched is False  # escalation is not an approver's decision
    act(ctx, engine.approve, "admin", req)
    assert req.step == 1


def test_nobody_above_leaves_the_task_and_stops_trying(ctx: OA) -> None:
    w = wf("top", [step("a", users("admin"), deadline_hours=1)])
    req = begin(ctx, w)
    assert run(2)["escalated"] == 0
    t = task_of(req, "admin", ctx)
    assert t.escalated_at is not None and t.state == TaskState.PENDING
    entry = db.session().scalars(select(OaAction).where(OaAction.action == "escalate")).one()
    assert entry.details["to"] is None
    assert run(3)["escalated"] == 0
    assert len(db.session().scalars(select(OaAction).where(
        OaAction.action == "escalate")).all()) == 1


def test_delegates_and_decided_tasks_are_left_alone(ctx: OA) -> None:
    w = wf("left", [step("d", DISTRICT, deadline_hours=2)])
    req = begin(ctx, w)
    act(ctx, engine.delegate, "chaoyang", req, acc(ctx, "haidian").id)
    assert run(3)["escalated"] == 0  # the delegate's task is not escalated
    act(ctx, engine.answer, "haidian", req, "同意")
    act(ctx, engine.approve, "chaoyang", req)
    assert req.state == RequestState.APPROVED
    assert run(30) == {"reminded": 0, "escalated": 0, "redelivered": 0}


def test_the_job_commits(ctx: OA) -> None:
    w = wf("job", [step("d", DISTRICT, deadline_hours=1)])
    req = begin(ctx, w)
    s = db.session()
    task = task_of(req, "chaoyang", ctx)
    task.due_at = utcnow() - timedelta(minutes=5)
    s.commit()
    job = SimpleNamespace(counts={})
    assert timers_job(job) == {"reminded": 0, "escalated": 1, "redelivered": 0}
    assert job.counts["escalated"] == 1
    s.rollback()  # what the job wrote was committed
    assert tasks(req)[0] == ("chaoyang", 1, "transferred")
    assert tasks(req)[-1][0] == "admin"  # no district_officer at the city: its admins
