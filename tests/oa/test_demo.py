"""`unionhub demo` with OA, mutual aid and the portal enabled: the office an officer signs in
to has its workflows, requests in every state with real trails, documents drafted, under
review and issued with numbers and read receipts, one finished data-exchange run with its
accounting snapshot and a campaign to the members it touched — and 交通运输工会's officer
finds the to-dos in the inbox."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from tests.conftest import AppFactory
from tests.helpers import cli, login

DEMO_PASSWORD = "Union12351"
NUMBER = re.compile(r"^京工发〔\d{4}〕\d+号$")


def _demo_app(make_app: AppFactory) -> tuple[Flask, str]:
    for plugin in ("mutualaid", "portal", "oa"):
        make_app.set_plugin(plugin, True)
    app = make_app()
    result = cli(app, "demo", "--members", "200")
    assert result.exit_code == 0, result.output
    return app, result.output


def test_demo_seeds_a_working_office(make_app: AppFactory) -> None:
    from unionhub import db
    from unionhub.access.models import RoleGrant
    from unionhub.db import utcnow
    from unionhub.identity.models import Account
    from unionhub.notify.models import Notification
    from unionhub_oa.accounting.models import OaAccountingSnapshot
    from unionhub_oa.campaigns.models import OaCampaign
    from unionhub_oa.documents.models import OaDocReceipt, OaDocRecipient, OaDocument
    from unionhub_oa.exchange.models import OaRun, OaRunMember
    from unionhub_oa.workflow.models import (
        OaAction,
        OaCc,
        OaRequest,
        OaTask,
        OaWorkflow,
        OaWorkflowVersion,
    )

    app, output = _demo_app(make_app)
    summary = [line for line in output.splitlines() if line.startswith("办公自动化:")]
    assert len(summary) == 1, output
    assert "财务账号 finance" in summary[0]

    with app.app_context():
        s = db.session()
        now = utcnow()
        accounts = {a.username: a for a in s.scalars(select(Account).where(
            Account.username.is_not(None)))}
        assert s.scalar(select(RoleGrant.role).where(
            RoleGrant.account_id == accounts["finance"].id)) == "finance_officer"

        # -- workflows -------------------------------------------------------------------
        workflows = {w.code: w for w in s.scalars(select(OaWorkflow))}
        assert {code: w.kind for code, w in workflows.items()} == {
            "expense": "oa.general", "leave": "oa.general", "doc_review": "oa.document",
            "article_signoff": "portal.article", "exchange_approval": "oa.exchange_run"}
        assert all(w.enabled and w.current_version == 1 for w in workflows.values())
        expense = s.scalar(select(OaWorkflowVersion.definition).where(
            OaWorkflowVersion.workflow_id == workflows["expense"].id))
        assert [f["name"] for f in expense["fields"]] == ["amount", "purpose", "category"]
        assert [st["name"] for st in expense["steps"]] == [
            "区/产业工会审核", "市总财务审核", "市总工会审批"]
        assert expense["steps"][1]["when"] == "amount > 5000"

        # -- requests in every state, with their trails ----------------------------------
        general = list(s.scalars(select(OaRequest).where(OaRequest.kind == "oa.general")))
        states = Counter(r.state for r in general)
        assert states["running"] >= 6 and states["approved"] >= 2
        assert states["rejected"] >= 1 and states["withdrawn"] >= 1
        running_steps = Counter(r.step for r in general if r.state == "running")
        assert running_steps[0] >= 4 and running_steps[1] >= 1 and running_steps[2] >= 1

        def actions(req: OaRequest) -> list[str]:
            return list(s.scalars(select(OaAction.action).where(
                OaAction.request_id == req.id).order_by(OaAction.id)))

        by_title = {r.title: r for r in general}
        approved = by_title["冬季一线职工防寒用品"]
        assert approved.state == "approved" and approved.finished_at is not None
        assert actions(approved).count("approve") == 3
        assert actions(approved)[0] == "start" and actions(approved)[-1] == "finish"
        rejected = by_title["部门团建拓展活动"]
        assert rejected.state == "rejected"
        assert s.scalar(select(OaAction.opinion).where(
            OaAction.request_id == rejected.id, OaAction.action == "reject"))
        returned = by_title["驾驶员心理健康讲座"]
        assert "return" in actions(returned)
        # rounds: the district step, the city step, the district step again
        assert returned.state == "running" and returned.step == 0 and returned.round == 3
        assert "transfer" in actions(by_title["劳模疗休养补贴"])
        aid = by_title["困难职工子女助学金"]
        assert {"delegate", "answer", "cc", "comment"} <= set(actions(aid))
        assert s.scalar(select(OaCc.account_id).where(
            OaCc.request_id == aid.id)) == accounts["finance"].id
        assert actions(by_title["职工摄影比赛奖品（重复提交）"])[-2:] == ["withdraw", "finish"]
        # the trail happened over the last days, in order
        for req in general:
            times = list(s.scalars(select(OaAction.at).where(
                OaAction.request_id == req.id).order_by(OaAction.id)))
            assert times == sorted(times) and times[-1] <= now, req.title
            assert now - req.created_at < timedelta(days=14)
        assert any(now - r.created_at > timedelta(days=5) for r in general)

        # -- to-dos: 交通运输工会 has several, one of them overdue ----------------------------
        jiaotong = accounts["jiaotong"]
        todo = list(s.scalars(select(OaTask).where(OaTask.assignee_id == jiaotong.id,
                                                   OaTask.state == "pending")))
        assert len(todo) >= 5
        overdue = [t for t in todo if t.due_at is not None and t.due_at < now]
        assert len(overdue) == 1 and overdue[0].escalated_at is None
        assert s.scalar(select(func.count()).select_from(OaTask).where(
            OaTask.state == "pending", OaTask.due_at < now)) == 1
        for username in ("city", "finance", "chaoyang"):
            assert s.scalar(select(func.count()).select_from(OaTask).where(
                OaTask.assignee_id == accounts[username].id, OaTask.state == "pending")) >= 1

        # -- documents -------------------------------------------------------------------
        docs = Counter(d.state for d in s.scalars(select(OaDocument)))
        assert docs == {"issued": 2, "reviewing": 1, "draft": 1}
        issued = list(s.scalars(select(OaDocument).where(OaDocument.state == "issued")
                                .order_by(OaDocument.seq)))
        assert [d.seq for d in issued] == [1, 2]
        assert all(d.number and NUMBER.match(d.number) for d in issued)
        for d in issued:
            assert s.scalar(select(func.count()).select_from(OaDocRecipient).where(
                OaDocRecipient.document_id == d.id)) >= 2
            assert s.scalar(select(func.count()).select_from(OaDocReceipt).where(
                OaDocReceipt.document_id == d.id)) >= 1
            # reviewed through doc_review before it was issued
            req = s.get(OaRequest, int(d.approval_ref.removeprefix("oa-")))
            assert req.kind == "oa.document" and req.state == "approved"
        reviewing = s.scalar(select(OaDocument).where(OaDocument.state == "reviewing"))
        req = s.get(OaRequest, int(reviewing.approval_ref.removeprefix("oa-")))
        assert req.state == "running" and req.step == 0
        assert any(t.request_id == req.id for t in todo)

        # -- the data-exchange run, its accounting and the campaign ----------------------
        runs = list(s.scalars(select(OaRun)))
        assert len(runs) == 1
        run = runs[0]
        assert run.state == "done" and run.error is None
        assert all(st["state"] in ("done", "skipped") for st in run.steps)
        preview = run.step("stage")["counts"]
        assert preview["new"] == 20 and preview["cards_replaced"] == 5
        assert preview["left"] == 3 and preview["rejected"] == 2
        touched = Counter(s.scalars(select(OaRunMember.kind).where(OaRunMember.run_id == run.id)))
        assert touched == {"new": 20, "card_replaced": 5, "left": 3}
        snapshot = s.get(OaAccountingSnapshot, run.accounting_snapshot_id)
        assert snapshot is not None and snapshot.run_id == run.id
        assert int(snapshot.totals["headcount"]) > 0
        campaign = s.scalar(select(OaCampaign))
        assert campaign.state in ("queued", "sent") and campaign.audience_key == "oa.run"
        assert campaign.audience_value == str(run.id)
        assert campaign.recipients == s.scalar(select(func.count()).select_from(
            Notification).where(Notification.batch_id == campaign.notify_batch_id)) >= 20

        waiting = [r.title for r in s.scalars(select(OaRequest).join(
            OaTask, OaTask.request_id == OaRequest.id).where(
            OaTask.assignee_id == jiaotong.id, OaTask.state == "pending"))]

    # -- signing in as 交通运输工会's officer: the inbox lists the to-dos --------------------
    client = app.test_client()
    assert login(client, "jiaotong", DEMO_PASSWORD).status_code in (200, 302)
    page = client.get("/oa/inbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for title in waiting:
        assert title in html, title
    assert f'<span class="count">{len(waiting)}</span>' in html
