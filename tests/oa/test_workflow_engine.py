"""The approval engine: starting (fields, conditions, approvers resolved relative to the
initiating org and walking up), every mode, every action, versions, locking, who sees what,
the inbox and notifications."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.helpers import PASSWORD, add_member
from tests.oa.conftest import OA, make_workflow
from unionhub import db
from unionhub.access.models import RoleGrant
from unionhub.identity.admin import create_officer
from unionhub.identity.models import Account
from unionhub.notify.models import Notification
from unionhub.orgs.models import Org
from unionhub_oa.workflow import engine, inbox
from unionhub_oa.workflow.definition import DefinitionError
from unionhub_oa.workflow.models import (
    OaAction,
    OaCc,
    OaRequest,
    OaTask,
    OaWorkflow,
    RequestState,
    TaskState,
)

DISTRICT = {"by": "role", "role": "district_officer", "org": "level:district"}
CITY = {"by": "role", "role": "city_officer", "org": "city"}
GRASSROOTS = {"by": "role", "role": "grassroots_officer", "org": "level:grassroots"}
AMOUNT = {"name": "amount", "label": "金额（元）", "type": "decimal", "required": True}


@pytest.fixture
def ctx(oa: OA) -> Iterator[OA]:
    with oa.app.app_context():
        yield oa


def acc(oa: OA, username: str) -> Account:
    s = db.session()
    account = s.scalar(select(Account).where(Account.username == username))
    assert account is not None
    return account


def org(oa: OA, key: str) -> Org:
    return db.session().get(Org, oa.world.org_id(key))


def officer(oa: OA, username: str, role: str, org_key: str) -> Account:
    s = db.session()
    account = create_officer(s, username, username, PASSWORD, role, org(oa, org_key))
    s.commit()
    return account


def step(key: str, approvers: Mapping[str, Any], mode: str = "any", **kw: Any) -> dict[str, Any]:
    return {"key": key, "name": kw.pop("name", f"环节{key}"), "approvers": dict(approvers),
            "mode": mode, **kw}


def users(*names: str) -> dict[str, Any]:
    return {"by": "users", "users": list(names)}


def wf(code: str, steps: Sequence[Mapping[str, Any]], fields: Sequence[Mapping[str, Any]] = (),
       kind: str = "oa.general") -> OaWorkflow:
    wid = make_workflow(code, kind, steps, fields)
    found = db.session().get(OaWorkflow, wid)
    assert found is not None
    return found


def begin(oa: OA, workflow: OaWorkflow, *, by: str = "g1officer", at: str = "g1",
          fields: Mapping[str, Any] | None = None, title: str = "测试申请",
          subject_id: Any = None) -> OaRequest:
    s = db.session()
    req = engine.start(s, workflow, initiator=acc(oa, by), org=org(oa, at), title=title,
                       fields=fields or {}, subject_id=subject_id)
    s.commit()
    return req


def task_of(req: OaRequest, username: str, oa: OA,
            state: str = TaskState.PENDING) -> OaTask:
    s = db.session()
    found = s.scalars(select(OaTask).where(
        OaTask.request_id == req.id, OaTask.assignee_id == acc(oa, username).id,
        OaTask.state == state).order_by(OaTask.id.desc())).first()
    assert found is not None, f"no {state} task for {username}"
    return found


def tasks(req: OaRequest) -> list[tuple[str, int, str]]:
    """(assignee username, round, state) of every task, in creation order."""
    rows = db.session().execute(
        select(Account.username, OaTask.round, OaTask.state)
        .join(Account, Account.id == OaTask.assignee_id)
        .where(OaTask.request_id == req.id).order_by(OaTask.id)).all()
    return [(u, r, st) for u, r, st in rows]


def actions(req: OaRequest) -> list[str]:
    return [a.action for a in engine.trail(db.session(), req)]


def act(oa: OA, fn: Any, username: str, req: OaRequest, *args: Any, **kw: Any) -> OaRequest:
    """Run an action on ``username``'s pending task and commit."""
    s = db.session()
    out = fn(s, acc(oa, username), task_of(req, username, oa).id, *args, **kw)
    s.commit()
    return out


def refused(fn: Any, *args: Any, exc: type[Exception] = engine.EngineError, **kw: Any
            ) -> Exception:
    s = db.session()
    with pytest.raises(exc) as err:
        fn(s, *args, **kw)
    s.rollback()
    return err.value


# -- starting ------------------------------------------------------------------------------


def test_a_request_climbs_the_hierarchy(ctx: OA) -> None:
    w = wf("climb", [step("g", GRASSROOTS, name="基层审核", deadline_hours=24),
                     step("d", DISTRICT, name="区工会审核"),
                     step("c", CITY, name="市总签批")], [AMOUNT])
    req = begin(ctx, w, by="g1officer", at="b1", fields={"amount": "1,234.5"})
    assert req.state == RequestState.RUNNING and req.step == 0 and req.round == 1
    assert req.fields == {"amount": "1234.5"} and req.org_path == org(ctx, "b1").path
    t = task_of(req, "g1officer", ctx)
    assert t.org_id == ctx.world.org_id("g1") and t.due_at is not None
    assert (t.due_at - t.created_at).total_seconds() == 24 * 3600
    act(ctx, engine.approve, "g1officer", req, "同意")
    assert req.step == 1 and task_of(req, "chaoyang", ctx).org_id == ctx.world.org_id("d1")
    act(ctx, engine.approve, "chaoyang", req)
    assert req.step == 2
    act(ctx, engine.approve, "city", req, "同意上报")
    assert req.state == RequestState.APPROVED and req.step is None
    assert req.finished_at is not None and req.touched
    assert actions(req) == ["start", "step", "approve", "step", "approve", "step", "approve",
                            "finish"]
    finish = engine.trail(db.session(), req)[-1]
    assert finish.actor_id == acc(ctx, "city").id and finish.opinion == "同意上报"
    assert [st.state for st in engine.steps_view(db.session(), req)] == ["done"] * 3


def test_fields_are_checked_and_nothing_is_written(ctx: OA) -> None:
    w = wf("fields", [step("d", DISTRICT)], [
        AMOUNT, {"name": "人数", "type": "int"}, {"name": "day", "label": "日期", "type": "date"},
        {"name": "kind", "label": "类别", "type": "choice", "choices": ["慰问", "培训"]}])
    err = refused(engine.start, w, initiator=acc(ctx, "g1officer"), org=org(ctx, "g1"),
                  title=" ", fields={"amount": "十元", "人数": "2.5", "day": "2025-02-30",
                                     "kind": "奖励", "unknown": "x"},
                  exc=engine.FieldErrors)
    assert isinstance(err, engine.FieldErrors)
    assert set(err.errors) == {"amount", "人数", "day", "kind", "title"}
    assert "金额（元）" in err.errors["amount"] and "慰问" in err.errors["kind"]
    assert err.messages == err.errors
    err = refused(engine.start, w, initiator=None, org=org(ctx, "g1"), title="t", fields={},
                  exc=engine.FieldErrors)
    assert set(err.errors) == {"amount"} and "请填写金额（元）" in err.errors["amount"]
    assert db.session().scalar(select(func.count()).select_from(OaRequest)) == 0
    req = begin(ctx, w, fields={"amount": Decimal("5.10"), "人数": "3", "day": "2025-02-28",
                                "kind": "培训", "unknown": "x"})
    assert req.fields == {"amount": "5.10", "人数": 3, "day": "2025-02-28", "kind": "培训"}


def test_nobody_for_the_first_step_is_an_error_naming_it(ctx: OA) -> None:
    w = wf("nobody", [step("f", {"by": "role", "role": "finance_officer", "org": "initiator"},
                           name="财务审核")])
    err = refused(engine.start, w, initiator=acc(ctx, "g1officer"), org=org(ctx, "g1"),
                  title="t", fields={})
    assert "财务审核" in str(err) and "电控工会" in str(err)
    w2 = wf("nobody2", [step("u", users("clerk"), name="指定人审核")])
    acc(ctx, "clerk").is_active = False
    db.session().commit()
    assert "指定人审核" in str(refused(engine.start, w2, initiator=None, org=org(ctx, "g1"),
                                       title="t", fields={}))
    assert db.session().scalar(select(func.count()).select_from(OaRequest)) == 0


def test_approvers_are_found_by_walking_up(ctx: OA) -> None:
    w = wf("walk", [step("d", {"by": "role", "role": "district_officer", "org": "initiator"})])
    req = begin(ctx, w, at="b1")
    assert tasks(req) == [("chaoyang", 1, "pending")]
    entry = next(a for a in engine.trail(db.session(), req) if a.action == "step")
    assert entry.details["org"] == "京东方分会"
    assert entry.details["walked"] == ["京东方分会", "电控工会"]
    assert entry.details["found_at"] == "朝阳区总工会"
    assert entry.details["approvers"] == ["chaoyang"]


def test_a_later_step_with_nobody_goes_to_the_city_admins(ctx: OA) -> None:
    w = wf("later", [step("d", DISTRICT),
                     step("f", {"by": "role", "role": "finance_officer", "org": "initiator"})])
    req = begin(ctx, w)
    act(ctx, engine.approve, "chaoyang", req)
    assert tasks(req)[-1] == ("admin", 2, "pending")
    entry = [a for a in engine.trail(db.session(), req) if a.action == "step"][-1]
    assert entry.details["fallback"] == "city_admins"
    assert entry.details["walked"] == ["电控工会", "朝阳区总工会", "北京市总工会"]


def test_org_rules(ctx: OA) -> None:
    officer(ctx, "g2officer", "grassroots_officer", "g2")
    officer(ctx, "parentd2", "city_officer", "d2")
    w = wf("rules", [step("p", {"by": "role", "role": "city_officer", "org": "parent"}),
                     step("c", {"by": "role", "role": "district_officer", "org": "code:D2"}),
                     step("g", GRASSROOTS)])
    req = begin(ctx, w, by="g2officer", at="g2")
    assert tasks(req) == [("parentd2", 1, "pending")]  # the parent of G2 is D2
    act(ctx, engine.approve, "parentd2", req)
    assert tasks(req)[-1] == ("haidian", 2, "pending")
    act(ctx, engine.approve, "haidian", req)
    assert tasks(req)[-1] == ("g2officer", 3, "pending")


# -- modes ---------------------------------------------------------------------------------


def test_any_mode_first_decision_decides(ctx: OA) -> None:
    officer(ctx, "chaoyang2", "district_officer", "d1")
    w = wf("any", [step("d", DISTRICT, "any"), step("c", CITY)])
    req = begin(ctx, w)
    assert sorted(u for u, _r, _s in tasks(req)) == ["chaoyang", "chaoyang2"]
    stale = task_of(req, "chaoyang", ctx)
    act(ctx, engine.approve, "chaoyang2", req)
    assert ("chaoyang", 1, "cancelled") in tasks(req) and req.step == 1
    refused(engine.approve, acc(ctx, "chaoyang"), stale.id, exc=engine.Conflict)
    req2 = begin(ctx, w, title="第二件")
    act(ctx, engine.reject, "chaoyang", req2, "材料不全")
    assert req2.state == RequestState.REJECTED
    assert ("chaoyang2", 1, "cancelled") in tasks(req2)


def test_all_mode_needs_everyone(ctx: OA) -> None:
    officer(ctx, "chaoyang2", "district_officer", "d1")
    w = wf("all", [step("d", DISTRICT, "all")])
    req = begin(ctx, w)
    act(ctx, engine.approve, "chaoyang", req)
    assert req.state == RequestState.RUNNING
    act(ctx, engine.approve, "chaoyang2", req)
    assert req.state == RequestState.APPROVED
    req2 = begin(ctx, w, title="第二件")
    act(ctx, engine.approve, "chaoyang", req2)
    act(ctx, engine.reject, "chaoyang2", req2, "不同意")
    assert req2.state == RequestState.REJECTED


def test_ratio_mode(ctx: OA) -> None:
    for name in ("city2", "city3"):
        officer(ctx, name, "city_officer", "city")
    w = wf("ratio", [step("c", CITY, "ratio", ratio="0.6")])
    req = begin(ctx, w)
    act(ctx, engine.approve, "city", req)
    assert req.state == RequestState.RUNNING  # 1/3
    act(ctx, engine.reject, "city2", req, "再议")
    assert req.state == RequestState.RUNNING  # 2/3 still reachable
    act(ctx, engine.approve, "city3", req)
    assert req.state == RequestState.APPROVED  # 2/3 >= 0.6
    req2 = begin(ctx, w, title="第二件")
    act(ctx, engine.reject, "city", req2, "不同意")
    assert req2.state == RequestState.RUNNING
    act(ctx, engine.reject, "city3", req2, "不同意")
    assert req2.state == RequestState.REJECTED  # at most 1/3 now
    assert ("city2", 1, "cancelled") in tasks(req2)
    req3 = begin(ctx, wf("ratio_all", [step("c", CITY, "ratio", ratio="0.5")]), title="三")
    act(ctx, engine.approve, "city2", req3)
    act(ctx, engine.approve, "city3", req3)
    assert req3.state == RequestState.APPROVED and ("city", 1, "cancelled") in tasks(req3)


def test_sequential_mode_one_after_another(ctx: OA) -> None:
    for name in ("city2", "city3"):
        officer(ctx, name, "city_officer", "city")
    w = wf("seq", [step("c", users("city3", "city", "city2"), "sequential",
                        deadline_hours=8)])
    req = begin(ctx, w)
    assert tasks(req) == [("city3", 1, "pending"), ("city", 1, "waiting"),
                          ("city2", 1, "waiting")]
    waiting = task_of(req, "city", ctx, TaskState.WAITING)
    assert waiting.due_at is None and waiting.seq == 1
    refused(engine.approve, acc(ctx, "city"), waiting.id, exc=engine.Conflict)
    act(ctx, engine.approve, "city3", req)
    assert tasks(req)[1] == ("city", 1, "pending")
    assert task_of(req, "city", ctx).due_at is not None
    act(ctx, engine.approve, "city", req)
    act(ctx, engine.approve, "city2", req)
    assert req.state == RequestState.APPROVED
    req2 = begin(ctx, w, title="第二件")
    act(ctx, engine.approve, "city3", req2)
    act(ctx, engine.reject, "city", req2, "不行")
    assert req2.state == RequestState.REJECTED and tasks(req2)[2] == ("city2", 1, "cancelled")


def test_single_mode_takes_the_first(ctx: OA) -> None:
    w = wf("single", [step("u", users("haidian", "chaoyang"), "single")])
    req = begin(ctx, w)
    assert tasks(req) == [("haidian", 1, "pending")]
    act(ctx, engine.approve, "haidian", req)
    assert req.state == RequestState.APPROVED


# -- conditions and versions ---------------------------------------------------------------


def test_conditions_choose_the_steps(ctx: OA) -> None:
    w = wf("cond", [step("d", DISTRICT, when="amount > 5000"),
                    step("c", CITY, when="amount > 100")], [AMOUNT])
    small = begin(ctx, w, fields={"amount": "3000"})
    assert small.step == 1 and tasks(small) == [("city", 1, "pending")]
    skipped = next(a for a in engine.trail(db.session(), small) if a.action == "step")
    assert skipped.details == {"skipped": True, "name": "环节d", "when": "amount > 5000"}
    assert [v.state for v in engine.steps_view(db.session(), small)] == ["skipped", "active"]
    big = begin(ctx, w, fields={"amount": "6000"})
    assert big.step == 0 and tasks(big) == [("chaoyang", 1, "pending")]
    assert [v.state for v in engine.steps_view(db.session(), big)] == ["active", "todo"]
    tiny = begin(ctx, w, fields={"amount": "50"})
    assert tiny.state == RequestState.APPROVED and tasks(tiny) == []
    assert actions(tiny) == ["start", "step", "step", "finish"]


def test_a_request_keeps_its_version(ctx: OA) -> None:
    w = wf("ver", [step("d", DISTRICT)])
    old = begin(ctx, w)
    s = db.session()
    v2 = engine.new_version(s, w, {"steps": [step("c", CITY), step("d", DISTRICT)]},
                            by_id=acc(ctx, "admin").id)
    s.commit()
    assert v2.version == 2 and w.current_version == 2
    new = begin(ctx, w, title="新版")
    assert tasks(new) == [("city", 1, "pending")]
    act(ctx, engine.approve, "chaoyang", old)
    assert old.state == RequestState.APPROVED  # version 1 had one step
    assert [v.name for v in engine.steps_view(db.session(), old)] == ["环节d"]
    err = refused(engine.new_version, w, {"steps": [
        step("x", {"by": "role", "role": "no_such_role"}),
        step("y", users("ghost")),
        step("z", {"by": "role", "role": "city_officer", "org": "code:NOPE"}, when="x > 1"),
    ]}, exc=DefinitionError)
    assert isinstance(err, DefinitionError)
    assert set(err.messages) == {"steps[2].when"}  # the parse errors come first
    err = refused(engine.new_version, w, {"steps": [
        step("x", {"by": "role", "role": "no_such_role"}),
        step("y", users("ghost", "city")),
        step("z", {"by": "role", "role": "city_officer", "org": "code:NOPE"}),
    ]}, exc=DefinitionError)
    assert set(err.messages) == {"steps[0].approvers.role", "steps[1].approvers.users",
                                 "steps[2].approvers.org"}
    assert "ghost" in err.messages["steps[1].approvers.users"]
    assert w.current_version == 2


def test_creating_workflows_checks_everything(ctx: OA) -> None:
    s = db.session()
    with pytest.raises(DefinitionError) as err:
        engine.create_workflow(s, code="Bad Code", name="", kind="general",
                               definition={"steps": []})
    assert set(err.value.messages) == {"code", "name", "kind", "steps"}
    s.rollback()
    wf("dup", [step("d", DISTRICT)])
    with pytest.raises(DefinitionError) as err:
        engine.create_workflow(s, code="dup", name="重复", kind="oa.general",
                               definition={"steps": [step("d", DISTRICT)]})
    assert set(err.value.messages) == {"code"}
    s.rollback()
    w = wf("portal", [step("d", DISTRICT)], kind="portal.article")
    assert engine.workflow_for_kind(s, "portal.article") is w
    engine.update_workflow(s, w, enabled=False)
    assert engine.workflow_for_kind(s, "portal.article") is None
    with pytest.raises(engine.EngineError):
        engine.start(s, w, initiator=None, org=org(ctx, "g1"), title="t", fields={})


# -- actions -------------------------------------------------------------------------------


def test_only_the_assignee_acts_and_opinions_are_required(ctx: OA) -> None:
    w = wf("who", [step("d", DISTRICT), step("c", CITY)])
    req = begin(ctx, w)
    t = task_of(req, "chaoyang", ctx)
    refused(engine.approve, acc(ctx, "haidian"), t.id, exc=engine.Forbidden)
    refused(engine.approve, acc(ctx, "admin"), t.id, exc=engine.Forbidden)
    err = refused(engine.reject, acc(ctx, "chaoyang"), t.id, "  ")
    assert err.errors == {"opinion": "不同意时请填写意见"}
    refused(engine.return_to, acc(ctx, "chaoyang"), t.id, 0, "")
    refused(engine.approve, acc(ctx, "chaoyang"), t.id, "x" * 2001)
    refused(engine.approve, acc(ctx, "chaoyang"), 999999)
    assert req.state == RequestState.RUNNING and actions(req) == ["start", "step"]


def test_a_stale_lock_is_a_conflict(ctx: OA) -> None:
    w = wf("lock", [step("d", DISTRICT), step("c", CITY)])
    req = begin(ctx, w)
    seen = req.lock
    s = db.session()
    engine.approve(s, acc(ctx, "chaoyang"), task_of(req, "chaoyang", ctx).id, lock=seen)
    s.commit()
    assert req.lock > seen
    refused(engine.approve, acc(ctx, "city"), task_of(req, "city", ctx).id, lock=seen,
            exc=engine.Conflict)
    assert str(engine.Conflict()) == "该审批已被他人处理，请刷新后重试"
    engine.approve(s, acc(ctx, "city"), task_of(req, "city", ctx).id, lock=req.lock)
    s.commit()
    assert req.state == RequestState.APPROVED
    assert actions(req).count("approve") == 2


def test_return_to_an_earlier_step(ctx: OA) -> None:
    w = wf("ret", [step("g", GRASSROOTS, name="基层"), step("d", DISTRICT, name="区"),
                   step("c", CITY, name="市")])
    req = begin(ctx, w, by="clerk")
    act(ctx, engine.approve, "g1officer", req)
    act(ctx, engine.approve, "chaoyang", req)
    av = engine.available(db.session(), acc(ctx, "city"), req)
    assert "return" in av.actions and av.return_steps == [(0, "基层"), (1, "区")]
    err = refused(engine.return_to, acc(ctx, "city"), task_of(req, "city", ctx).id, 2, "回去")
    assert "step" in err.errors
    act(ctx, engine.return_to, "city", req, 0, "请补充材料")
    assert req.step == 0 and req.round == 4 and req.state == RequestState.RUNNING
    assert tasks(req)[-2:] == [("city", 3, "returned"), ("g1officer", 4, "pending")]
    entry = next(a for a in engine.trail(db.session(), req) if a.action == "return")
    assert entry.opinion == "请补充材料" and entry.details["to_name"] == "基层"
    views = engine.steps_view(db.session(), req)
    assert [v.state for v in views] == ["active", "todo", "todo"]
    assert [t.round for t in views[0].tasks] == [4]
    act(ctx, engine.approve, "g1officer", req)
    act(ctx, engine.approve, "chaoyang", req)
    act(ctx, engine.approve, "city", req)
    assert req.state == RequestState.APPROVED


def test_withdraw_only_by_the_initiator_while_untouched(ctx: OA) -> None:
    w = wf("wd", [step("d", DISTRICT), step("c", CITY)])
    req = begin(ctx, w)
    refused(engine.withdraw, acc(ctx, "chaoyang"), req.id, exc=engine.Forbidden)
    assert "withdraw" in engine.available(db.session(), acc(ctx, "g1officer"), req).actions
    s = db.session()
    engine.withdraw(s, acc(ctx, "g1officer"), req.id, lock=req.lock)
    s.commit()
    assert req.state == RequestState.WITHDRAWN and req.finished_at is not None
    assert tasks(req) == [("chaoyang", 1, "cancelled")]
    assert actions(req)[-2:] == ["withdraw", "finish"]
    refused(engine.withdraw, acc(ctx, "g1officer"), req.id)
    req2 = begin(ctx, w, title="二")
    act(ctx, engine.approve, "chaoyang", req2)
    assert "withdraw" not in engine.available(db.session(), acc(ctx, "g1officer"), req2).actions
    err = refused(engine.withdraw, acc(ctx, "g1officer"), req2.id)
    assert "不能撤回" in str(err)


def test_transfer(ctx: OA) -> None:
    w = wf("tr", [step("d", DISTRICT, deadline_hours=10), step("c", CITY)])
    req = begin(ctx, w)
    t = task_of(req, "chaoyang", ctx)
    member = ctx.world.people["m1"].account_id
    refused(engine.transfer, acc(ctx, "chaoyang"), t.id, member)  # not an officer
    refused(engine.transfer, acc(ctx, "chaoyang"), t.id, acc(ctx, "chaoyang").id)
    act(ctx, engine.transfer, "chaoyang", req, acc(ctx, "haidian").id, "请海淀代办")
    assert tasks(req) == [("chaoyang", 1, "transferred"), ("haidian", 1, "pending")]
    new = task_of(req, "haidian", ctx)
    assert new.added_by_id == acc(ctx, "chaoyang").id and new.due_at == t.due_at
    assert new.org_id == t.org_id
    act(ctx, engine.approve, "haidian", req)
    assert req.step == 1


def test_delegate_comes_back(ctx: OA) -> None:
    w = wf("dl", [step("d", DISTRICT), step("c", CITY)])
    req = begin(ctx, w)
    act(ctx, engine.delegate, "chaoyang", req, acc(ctx, "haidian").id, "请帮忙看看")
    assert tasks(req) == [("chaoyang", 1, "delegated"), ("haidian", 1, "pending")]
    d = task_of(req, "haidian", ctx)
    assert d.delegated_from_id == task_of(req, "chaoyang", ctx, TaskState.DELEGATED).id
    av = engine.available(db.session(), acc(ctx, "haidian"), req)
    assert av.actions >= {"answer"} and "approve" not in av.actions and av.delegated
    refused(engine.approve, acc(ctx, "haidian"), d.id)
    refused(engine.reject, acc(ctx, "haidian"), d.id, "不行")
    refused(engine.answer, acc(ctx, "haidian"), d.id, "")
    assert engine.available(db.session(), acc(ctx, "chaoyang"), req).task is None
    assert req.state == RequestState.RUNNING and req.step == 0
    act(ctx, engine.answer, "haidian", req, "材料齐全，建议同意")
    assert tasks(req) == [("chaoyang", 1, "pending"), ("haidian", 1, "answered")]
    back = task_of(req, "chaoyang", ctx)
    assert back.acted_at is None
    refused(engine.answer, acc(ctx, "chaoyang"), back.id, "x")  # not a delegate's task
    act(ctx, engine.approve, "chaoyang", req)
    assert req.step == 1
    assert actions(req)[2:5] == ["delegate", "answer", "approve"]


def test_add_signer(ctx: OA) -> None:
    w = wf("add", [step("d", DISTRICT, "single"), step("c", CITY)])
    req = begin(ctx, w)
    act(ctx, engine.add_signer, "chaoyang", req, acc(ctx, "haidian").id, "请海淀会签")
    assert tasks(req) == [("chaoyang", 1, "pending"), ("haidian", 1, "pending")]
    refused(engine.add_signer, acc(ctx, "chaoyang"), task_of(req, "chaoyang", ctx).id,
            acc(ctx, "haidian").id)  # already on the step
    act(ctx, engine.approve, "chaoyang", req)
    assert req.step == 0  # the added signer must agree too
    act(ctx, engine.approve, "haidian", req)
    assert req.step == 1
    officer(ctx, "city2", "city_officer", "city")
    seq = wf("addseq", [step("c", users("city", "city2"), "sequential")])
    req2 = begin(ctx, seq, title="二")
    act(ctx, engine.add_signer, "city", req2, acc(ctx, "admin").id)
    rows = db.session().execute(select(Account.username, OaTask.seq, OaTask.state).join(
        Account, Account.id == OaTask.assignee_id).where(OaTask.request_id == req2.id)
        .order_by(OaTask.seq)).all()
    assert [tuple(r) for r in rows] == [("city", 0, "pending"), ("city2", 1, "waiting"),
                                        ("admin", 2, "waiting")]
    act(ctx, engine.approve, "city", req2)
    act(ctx, engine.approve, "city2", req2)
    assert req2.state == RequestState.RUNNING
    act(ctx, engine.approve, "admin", req2)
    assert req2.state == RequestState.APPROVED


def test_cc_and_comments(ctx: OA) -> None:
    w = wf("cc", [step("d", DISTRICT, cc={"by": "role", "role": "city_officer",
                                           "org": "city"})])
    req = begin(ctx, w)
    s = db.session()
    assert [c.account_id for c in s.scalars(select(OaCc).where(OaCc.request_id == req.id))] \
        == [acc(ctx, "city").id]
    haidian = acc(ctx, "haidian")
    assert not engine.can_view(s, haidian, req)
    refused(engine.comment, haidian, req.id, "看看", exc=engine.Forbidden)
    added = engine.cc(s, acc(ctx, "chaoyang"), req.id, [haidian.id, acc(ctx, "city").id])
    s.commit()
    assert [c.account_id for c in added] == [haidian.id]  # city already copied
    assert engine.can_view(s, haidian, req)
    assert engine.available(s, haidian, req).actions == {"comment", "cc", "attach"}
    refused(engine.cc, acc(ctx, "chaoyang"), req.id, [])
    refused(engine.cc, acc(ctx, "chaoyang"), req.id, [999999])
    entry = engine.comment(s, haidian, req.id, "  已阅  ")
    s.commit()
    assert entry.opinion == "已阅" and entry.actor_id == haidian.id
    refused(engine.comment, haidian, req.id, " ")
    assert actions(req) == ["start", "step", "cc", "cc", "comment"]
    assert req.touched is False  # copies and comments are not an approver's decision
    counts = inbox.counts(s, haidian)
    assert counts["cc"] == 1 and counts["cc_unread"] == 1
    inbox.mark_cc_read(s, haidian, req.id)
    s.commit()
    assert inbox.counts(s, haidian)["cc_unread"] == 0


def test_who_sees_a_request(ctx: OA) -> None:
    w = wf("see", [step("d", DISTRICT)])
    req = begin(ctx, w)
    s = db.session()
    seen = {name: engine.can_view(s, acc(ctx, name), req)
            for name in ("g1officer", "chaoyang", "haidian", "city", "admin", "clerk")}
    # initiator, assignee, and the city officers managing workflows over the city
    assert seen == {"g1officer": True, "chaoyang": True, "haidian": False, "city": True,
                    "admin": True, "clerk": False}
    listed = set(s.scalars(select(OaRequest.id).where(engine.visible(acc(ctx, "haidian")))))
    assert listed == set()
    assert engine.available(s, acc(ctx, "haidian"), req).actions == frozenset()
    city = engine.available(s, acc(ctx, "city"), req)
    assert city.task is None and city.actions == {"comment", "cc", "attach"}
    mine = engine.available(s, acc(ctx, "chaoyang"), req)
    assert mine.task is not None and mine.lock == req.lock
    assert mine.actions == {"approve", "reject", "transfer", "delegate", "add_signer",
                            "comment", "cc", "attach"}
    acc(ctx, "chaoyang").is_active = False
    s.commit()
    assert not engine.can_view(s, acc(ctx, "chaoyang"), req)


# -- inbox, notifications ------------------------------------------------------------------


def test_inbox_counts_and_pages(ctx: OA) -> None:
    w = wf("box", [step("d", DISTRICT), step("c", CITY)])
    reqs = [begin(ctx, w, title=f"申请{i}") for i in range(3)]
    s = db.session()
    chaoyang = acc(ctx, "chaoyang")
    assert inbox.counts(s, chaoyang) == {"todo": 3, "done": 0, "mine": 0, "cc": 0,
                                         "cc_unread": 0}
    act(ctx, engine.approve, "chaoyang", reqs[0])
    act(ctx, engine.reject, "chaoyang", reqs[1], "不行")
    assert inbox.counts(s, chaoyang)["todo"] == 1 and inbox.counts(s, chaoyang)["done"] == 2
    rows, total = inbox.query(s, chaoyang, "todo", 1)
    assert total == 1 and rows[0].request is reqs[2] and rows[0].task is not None
    assert rows[0].title == "申请2" and rows[0].workflow_name == "box"
    assert rows[0].org_name == "电控工会" and rows[0].step_name == "环节d"
    rows, total = inbox.query(s, chaoyang, "done", 1, per_page=1)
    assert total == 2 and [r.id for r in rows] == [reqs[1].id]
    rows, total = inbox.query(s, chaoyang, "done", 2, per_page=1)
    assert [r.id for r in rows] == [reqs[0].id] and rows[0].at is not None
    rows, total = inbox.query(s, acc(ctx, "g1officer"), "mine", 1)
    assert total == 3 and [r.id for r in rows] == [r.id for r in reversed(reqs)]
    assert inbox.query(s, acc(ctx, "city"), "todo", 1)[1] == 1
    assert inbox.query(s, acc(ctx, "city"), "cc", 1) == ([], 0)
    with pytest.raises(ValueError):
        inbox.query(s, chaoyang, "all", 1)


def test_todo_badge_and_widget(ctx: OA) -> None:
    from flask_login import login_user

    w = wf("badge", [step("d", DISTRICT)])
    req = begin(ctx, w, title="<b>加粗</b>")
    with ctx.app.test_request_context("/"):
        assert inbox.todo_badge() is None  # a visitor
        assert inbox.officer_widget() is None
    with ctx.app.test_request_context("/"):
        login_user(acc(ctx, "chaoyang"))
        assert inbox.todo_badge() == 1
        html = str(inbox.officer_widget())
        assert f"/oa/requests/{req.id}" in html and "&lt;b&gt;加粗" in html
    with ctx.app.test_request_context("/"):
        login_user(db.session().get(Account, ctx.world.people["m1"].account_id))
        assert inbox.todo_badge() is None  # a member without oa.use


def test_notifications_reach_officers_with_a_member_record(ctx: OA) -> None:
    s = db.session()
    person = add_member(org(ctx, "d1"), "赵干事")
    s.add(RoleGrant(account_id=person.account_id, role="district_officer",
                    org_id=ctx.world.org_id("d1")))
    initiator = add_member(org(ctx, "g1"), "钱主席")
    s.add(RoleGrant(account_id=initiator.account_id, role="grassroots_officer",
                    org_id=ctx.world.org_id("g1")))
    s.commit()
    w = wf("notify", [step("d", DISTRICT, "all")])
    req = engine.start(s, w, initiator=s.get(Account, initiator.account_id), org=org(ctx, "g1"),
                       title="慰问金申请", fields={})
    s.commit()

    def notes(member_id: int) -> list[tuple[str, str]]:
        return [(n.type_key, n.title) for n in s.scalars(select(Notification).where(
            Notification.member_id == member_id).order_by(Notification.id))]

    assert notes(person.member_id) == [("oa.todo", "待办审批：慰问金申请")]
    url = s.scalar(select(Notification.url).where(Notification.member_id == person.member_id))
    assert url == f"/oa/requests/{req.id}"
    act(ctx, engine.approve, "chaoyang", req)
    t = s.scalar(select(OaTask).where(OaTask.assignee_id == person.account_id))
    engine.approve(s, s.get(Account, person.account_id), t.id)
    s.commit()
    assert req.state == RequestState.APPROVED
    assert notes(initiator.member_id) == [("oa.result", "审批已通过：慰问金申请")]


def test_the_trail_is_append_only_and_complete(ctx: OA) -> None:
    w = wf("trail", [step("d", DISTRICT), step("c", CITY)])
    req = begin(ctx, w)
    s = db.session()
    act(ctx, engine.transfer, "chaoyang", req, acc(ctx, "haidian").id)
    act(ctx, engine.approve, "haidian", req, "可以")
    act(ctx, engine.reject, "city", req, "预算不足")
    rows = s.scalars(select(OaAction).where(OaAction.request_id == req.id)
                     .order_by(OaAction.id)).all()
    assert [(a.action, a.step) for a in rows] == [
        ("start", None), ("step", 0), ("transfer", 0), ("approve", 0), ("step", 1),
        ("reject", 1), ("finish", 1)]
    assert rows[-1].details == {"state": "rejected"} and rows[-1].opinion == "预算不足"
    people = engine.people(s, req)
    assert set(people.values()) >= {"g1officer", "chaoyang", "haidian", "city"}
    assert engine.shown_fields(s, req) == []


# -- attachments ---------------------------------------------------------------------------

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_attachments_are_checked_and_stored_by_content(ctx: OA) -> None:
    from unionhub.settings import service as settings
    from unionhub_oa.workflow import attachments

    w = wf("files", [step("d", DISTRICT)])
    req = begin(ctx, w)
    s = db.session()
    me = acc(ctx, "g1officer")
    att = attachments.add(s, me, "request", req.id, "..\\..\\预算 表<1>.PDF", PDF,
                          "application/pdf")
    s.commit()
    assert att.filename == "预算 表_1_.pdf" and att.content_type == "application/pdf"
    path = attachments.path_of(ctx.app, att)
    assert path.read_bytes() == PDF and path.name == att.sha256 and att.size == len(PDF)
    assert path.parent.parent.name == "files" and path.parent.name == att.sha256[:2]
    again = attachments.add(s, acc(ctx, "chaoyang"), "request", req.id, "照片.png", PNG,
                            "application/octet-stream")
    same = attachments.add(s, me, "request", req.id, "副本.pdf", PDF, "")
    s.commit()
    assert again.content_type == "image/png" and same.sha256 == att.sha256
    assert [a.id for a in attachments.list_for(s, "request", req.id)] == [att.id, again.id,
                                                                          same.id]
    assert attachments.find(s, "request", req.id, att.id) is att
    assert attachments.find(s, "document", req.id, att.id) is None
    assert actions(req).count("attach") == 3

    def bad(name: str, data: bytes, ctype: str = "", who: str = "g1officer") -> str:
        err = refused(attachments.add, acc(ctx, who), "request", req.id, name, data, ctype)
        return err.errors.get("file", str(err))

    assert "不支持" in bad("setup.exe", b"MZ\x90\x00")
    assert "不是 .pdf" in bad("setup.pdf", b"MZ\x90\x00")  # renamed executable
    assert "不是 .png" in bad("page.png", b"<html><script>", "image/png")
    assert "不符" in bad("a.pdf", PDF, "text/html")
    assert "空" in bad("a.pdf", b"")
    settings.put("oa.attachment_max_mb", 1)
    s.commit()
    assert "1 MB" in bad("big.pdf", PDF + b"0" * (1024 * 1024))
    refused(attachments.add, acc(ctx, "haidian"), "request", req.id, "a.pdf", PDF, "",
            exc=engine.Forbidden)
    act(ctx, engine.approve, "chaoyang", req)
    assert "结束" in bad("late.pdf", PDF)
    assert len(attachments.list_for(s, "request", req.id)) == 3
    doc = attachments.add(s, me, "document", 77, "公文.docx", b"PK\x03\x04rest",
                          "application/zip")
    assert doc.content_type.endswith("wordprocessingml.document") and doc.owner_id == 77
    with pytest.raises(ValueError):
        attachments.add(s, me, "member", 1, "a.pdf", PDF, "")


def test_a_level_step_is_skipped_when_the_request_starts_above_that_level(ctx: OA) -> None:
    """A city officer's request has no district union above it: the district step is skipped
    (recorded), the city step runs; from a grassroots union both run."""
    flow = wf("above", [step("d", DISTRICT), step("c", CITY)])
    s = db.session()
    req = engine.start(s, flow, initiator=acc(ctx, "city"), org=org(ctx, "city"),
                       title="市总的申请", fields={})
    s.commit()
    assert req.step == 1
    skipped = s.scalars(select(OaAction).where(OaAction.request_id == req.id,
                                               OaAction.action == "step")).all()
    assert [(a.step, a.details.get("skipped", False)) for a in skipped] == [(0, True),
                                                                             (1, False)]
    assert [v.state for v in engine.steps_view(s, req)] == ["skipped", "active"]
    low = engine.start(s, flow, initiator=acc(ctx, "g1officer"), org=org(ctx, "g1"),
                       title="基层的申请", fields={})
    s.commit()
    assert low.step == 0
