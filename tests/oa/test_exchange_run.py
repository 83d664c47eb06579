"""The data-exchange run (数据交换): preview counts, the members a run touched, approval,
notifications queued once per kind, failures, with and without mutual aid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from tests.core.test_imports import person, write
from tests.helpers import new_card_number
from unionhub import db
from unionhub.identity.models import Account, Member
from unionhub.identity.service import find_by_id_number
from unionhub.imports.members import stage as member_stage
from unionhub.imports.models import BatchStatus, ImportBatch
from unionhub.jobs.models import Job
from unionhub.notify.models import Notification, NotifyBatch, NotifyOutbox
from unionhub_oa.exchange import run as exchange
from unionhub_oa.exchange.models import OaRun, OaRunMember

PERIOD = "2026-11"
YEAR = 2026


def start(app: Any, world: Any, path: Path, *, officer: str = "city", **kw: Any) -> int:
    """Create a run as ``officer`` (committed; its stage job queued)."""
    with app.app_context():
        s = db.session()
        account = s.get(Account, world.officers[officer])
        run = exchange.create_run(s, app, account, period=PERIOD, plan_year=YEAR, path=path,
                                  filename=path.name, **kw)
        s.commit()
        return run.id


def drain(app: Any) -> None:
    app.extensions["jobs_transport"].drain()


def get_run(app: Any, run_id: int) -> OaRun:
    with app.app_context():
        run = db.session().get(OaRun, run_id)
        assert run is not None
        return run


def run_members(app: Any, run_id: int) -> dict[str, set[int]]:
    with app.app_context():
        rows = db.session().execute(select(OaRunMember.kind, OaRunMember.member_id)
                                    .where(OaRunMember.run_id == run_id)).all()
    out: dict[str, set[int]] = {}
    for kind, member_id in rows:
        out.setdefault(kind, set()).add(member_id)
    return out


def member_id(app: Any, id_number: str) -> int | None:
    with app.app_context():
        m = find_by_id_number(id_number)
        return m.id if m is not None else None


def changes_file(world: Any, tmp_path: Path) -> tuple[Path, list[dict[str, str]]]:
    """m1's card replaced, m2 left, m3 renamed with a lost card, two new members and a row
    with an unknown org code."""
    m1, m2, m3 = (world.people[k] for k in ("m1", "m2", "m3"))
    new = [person(姓名="新会员甲", 入会日期=""), person(姓名="新会员乙", 入会日期="")]
    rows = [
        person(姓名=m1.name, 身份证号=m1.id_number, 京卡卡号=new_card_number(), 工会组织代码="G1",
               手机号=m1.mobile, 入会日期=""),
        person(姓名=m2.name, 身份证号=m2.id_number, 京卡卡号=m2.card_number, 工会组织代码="G2",
               手机号=m2.mobile, 入会日期="", 会籍状态="退会"),
        person(姓名="王芳芳", 身份证号=m3.id_number, 京卡卡号=m3.card_number, 工会组织代码="B1",
               手机号=m3.mobile, 入会日期="", 卡状态="挂失"),
        *new,
        person(工会组织代码="NOPE"),
    ]
    return write(tmp_path / "jingka-2026-11.csv", rows), new


def test_preview_counts_then_apply_records_the_members_by_kind(oa, tmp_path):
    app, world = oa.app, oa.world
    path, new = changes_file(world, tmp_path)
    run_id = start(app, world, path)
    assert get_run(app, run_id).state == "uploaded"
    drain(app)
    run = get_run(app, run_id)
    assert run.state == "preview", run.error
    preview = run.step("stage")["counts"]
    assert {k: preview[k] for k in exchange.PREVIEW_LABELS} == {
        "new": 2, "changed": 2, "cards_replaced": 1, "card_status": 1, "left": 1,
        "rejected": 1}
    assert preview["rows"] == 6
    assert run.step("approval")["state"] == "waiting"
    assert run_members(app, run_id) == {}  # nothing applied before the confirmation
    assert member_id(app, new[0]["身份证号"]) is None

    with app.app_context():
        s = db.session()
        run = s.get(OaRun, run_id)
        exchange.confirm(s, run, s.get(Account, world.officers["city"]))
        s.commit()
    drain(app)
    run = get_run(app, run_id)
    assert run.state == "done", run.error
    assert [st["state"] for st in run.steps] == ["done"] * 6
    assert all(st["seconds"] is not None and st["seconds"] >= 0 for st in run.steps)
    new_ids = {member_id(app, p["身份证号"]) for p in new}
    assert None not in new_ids
    assert run_members(app, run_id) == {"new": new_ids, "left": {world.people["m2"].member_id},
                                        "card_replaced": {world.people["m1"].member_id}}
    assert run.result["members"] == {"new": 2, "left": 1, "card_replaced": 1}
    assert run.result["applied"]["created"] == 2
    mine = [r for r in run.result["reactions"] if r["plugin"] == "oa"]
    assert mine == [{"plugin": "oa", "label": "数据交换",
                     "counts": {"new": 2, "left": 1, "card_replaced": 1},
                     "count_labels": {"new": "新入会", "left": "退会/转出",
                                      "card_replaced": "补卡换号"}}]
    with app.app_context():
        batch = db.session().get(ImportBatch, run.import_batch_id)
        assert batch.status == BatchStatus.APPLIED and batch.params["oa_run"] == run_id


def test_an_import_that_is_not_a_run_records_nothing(oa, tmp_path):
    from tests.core.test_imports import apply
    from tests.core.test_imports import run as stage

    app = oa.app
    batch = stage(app, write(tmp_path / "plain.csv", [person(), person()]))
    with app.app_context():
        counts = apply(app, batch.id)
        assert all(r["plugin"] != "oa" for r in counts.get("reactions", []))
        assert db.session().scalar(select(func.count()).select_from(OaRunMember)) == 0


def test_notifications_queued_once_per_kind(oa, tmp_path):
    app, world = oa.app, oa.world
    path, _new = changes_file(world, tmp_path)
    run_id = start(app, world, path, auto_apply=True)
    drain(app)
    run = get_run(app, run_id)
    assert run.state == "done", run.error
    assert run.step("approval")["state"] == "skipped"
    notified = run.result["notify"]
    assert {k: v["members"] for k, v in notified.items()} == {
        "new": 2, "left": 1, "card_replaced": 1}

    def queued() -> dict[str, tuple[int, int]]:
        s = db.session()
        out = {}
        for kind, info in notified.items():
            inbox = s.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.batch_id == info["batch_id"]))
            outbox = s.scalar(select(func.count()).select_from(NotifyOutbox)
                              .where(NotifyOutbox.batch_id == info["batch_id"],
                                     NotifyOutbox.channel == "wechat"))
            out[kind] = (inbox, outbox)
        return out

    with app.app_context():
        s = db.session()
        batches = s.scalars(select(NotifyBatch).where(NotifyBatch.type_key == "oa.member_change",
                                                      NotifyBatch.key.like(f"run-{run_id}-%"))
                            ).all()
        assert sorted(b.key for b in batches) == sorted(
            f"run-{run_id}-{k}" for k in ("new", "left", "card_replaced"))
        first = queued()
        assert first == {"new": (2, 2), "left": (1, 1), "card_replaced": (1, 1)}
        who = dict(s.execute(select(Notification.member_id, Notification.title).where(
            Notification.batch_id.in_([i["batch_id"] for i in notified.values()]))).all())
        assert who[world.people["m1"].member_id] == "京卡已换新卡"
        assert who[world.people["m2"].member_id] == "工会会籍已终止"
        card = s.scalar(select(NotifyBatch).where(
            NotifyBatch.key == f"run-{run_id}-card_replaced"))
        text = str(card.message)
        assert "京卡已换新卡" in card.message["body"]
        assert all(len(v) <= 20 for v in card.message["wechat_fields"].values())
        assert card.message["sms"].startswith("【12351】")
        # neither the new card's number nor its masked form is in the message
        masked = s.get(Member, world.people["m1"].member_id).active_card.number_masked
        assert masked not in text
        assert masked[-4:] not in card.message["title"] + card.message["body"]

        # the notify step again (a retried job): nothing new is queued
        run = s.get(OaRun, run_id)
        again = exchange.notify_members(s, run)
        s.commit()
        assert {k: v["batch_id"] for k, v in again.items()} == {
            k: v["batch_id"] for k, v in notified.items()}
        assert queued() == first
        assert s.scalar(select(func.count()).select_from(NotifyBatch).where(
            NotifyBatch.key.like(f"run-{run_id}-%"))) == 3


def test_without_mutual_aid_the_run_completes_with_an_empty_accounting(oa, tmp_path):
    app, world = oa.app, oa.world
    run_id = start(app, world, write(tmp_path / "m.csv", [person()]), auto_apply=True)
    drain(app)
    run = get_run(app, run_id)
    assert run.state == "done", run.error
    assert run.accounting_snapshot_id is not None
    totals = run.result["accounting"]["totals"]
    assert totals["headcount"] == 0 and totals["due"] == "0.00"
    assert [r["plugin"] for r in run.result["reactions"]] == ["oa"]


def test_with_mutual_aid_its_reaction_and_accounting_appear(oa_ma, tmp_path):
    app, world = oa_ma.app, oa_ma.world
    path, _new = changes_file(world, tmp_path)
    run_id = start(app, world, path, auto_apply=True)
    drain(app)
    run = get_run(app, run_id)
    assert run.state == "done", run.error
    reactions = {r["plugin"]: r for r in run.result["reactions"]}
    assert set(reactions) == {"mutualaid", "oa"}
    assert reactions["mutualaid"]["label"] == "互助保障"
    assert reactions["mutualaid"]["counts"].get("dues_covered_new") == 2
    assert reactions["mutualaid"]["counts"].get("dues_cover_ended") == 1
    totals = run.result["accounting"]["totals"]
    assert totals["headcount"] > 0
    assert run.step("accounting")["counts"] == totals
    with app.app_context():
        from unionhub_oa.accounting.models import OaAccountingSnapshot

        snap = db.session().get(OaAccountingSnapshot, run.accounting_snapshot_id)
        assert snap.run_id == run_id and snap.plan_year == YEAR


def _workflow(app: Any) -> None:
    from tests.oa.conftest import make_workflow

    with app.app_context():
        make_workflow("exchange", "oa.exchange_run", [
            {"key": "city", "name": "市总审核",
             "approvers": {"by": "role", "role": "admin", "org": "city"}, "mode": "any"}])


def _decide(app: Any, world: Any, run_id: int, approved: bool) -> None:
    from unionhub_oa.workflow import engine
    from unionhub_oa.workflow.models import OaTask

    with app.app_context():
        s = db.session()
        run = s.get(OaRun, run_id)
        assert run.approval_ref and run.approval_ref.startswith("oa-")
        admin = s.get(Account, world.officers["admin"])
        task = s.scalar(select(OaTask).where(OaTask.request_id == int(run.approval_ref[3:]),
                                             OaTask.assignee_id == admin.id))
        if approved:
            engine.approve(s, admin, task.id, "同意")
        else:
            engine.reject(s, admin, task.id, "数据有误，请核对")
        s.commit()


def test_approval_approved_then_applied(oa, tmp_path):
    app, world = oa.app, oa.world
    _workflow(app)
    path, new = changes_file(world, tmp_path)
    run_id = start(app, world, path, require_approval=True)
    drain(app)
    run = get_run(app, run_id)
    assert run.state == "awaiting_approval", run.error
    assert run.step("approval")["state"] == "running"
    assert member_id(app, new[0]["身份证号"]) is None
    _decide(app, world, run_id, approved=True)
    drain(app)
    run = get_run(app, run_id)
    assert run.state == "done", run.error
    assert run.step("approval")["state"] == "done" and run.step("approval")["note"] == "审批通过"
    assert member_id(app, new[0]["身份证号"]) is not None
    # the decision delivered again changes nothing
    from unionhub.contrib import ApprovalDecision

    with app.app_context():
        s = db.session()
        jobs_before = s.scalar(select(func.count()).select_from(Job))
        exchange.on_decided(s, ApprovalDecision("oa.exchange_run", run_id, run.approval_ref,
                                                True))
        s.commit()
        assert s.scalar(select(func.count()).select_from(Job)) == jobs_before
        assert s.get(OaRun, run_id).state == "done"


def test_approval_rejected_applies_nothing(oa, tmp_path):
    app, world = oa.app, oa.world
    _workflow(app)
    path, new = changes_file(world, tmp_path)
    with app.app_context():
        members_before = db.session().scalar(select(func.count()).select_from(Member))
    run_id = start(app, world, path, require_approval=True)
    drain(app)
    assert get_run(app, run_id).state == "awaiting_approval"
    _decide(app, world, run_id, approved=False)
    drain(app)
    run = get_run(app, run_id)
    assert run.state == "rejected" and run.finished_at is not None
    assert run.step("approval")["state"] == "rejected"
    assert "数据有误" in run.step("approval")["by"]
    assert run.step("apply")["state"] == "todo"
    with app.app_context():
        s = db.session()
        assert s.get(ImportBatch, run.import_batch_id).status == BatchStatus.DISCARDED
        assert s.scalar(select(func.count()).select_from(Member)) == members_before
        assert s.scalar(select(func.count()).select_from(member_stage).where(
            member_stage.c.import_id == run.import_batch_id)) == 0
        assert s.get(Member, world.people["m2"].member_id).status == "active"
    assert member_id(app, new[0]["身份证号"]) is None
    assert run_members(app, run_id) == {}


def test_approval_asked_without_a_workflow_waits_for_a_confirmation(oa, tmp_path):
    app, world = oa.app, oa.world
    run_id = start(app, world, write(tmp_path / "m.csv", [person()]), require_approval=True)
    drain(app)
    run = get_run(app, run_id)
    assert run.state == "preview" and run.approval_ref is None
    assert run.step("approval")["note"] == "未配置审批流程，请核对预览后确认应用"


def test_a_lost_stage_fails_the_run_which_can_be_discarded_not_retried(oa, tmp_path):
    app, world = oa.app, oa.world
    run_id = start(app, world, write(tmp_path / "m.csv", [person(), person()]))
    drain(app)
    with app.app_context():
        s = db.session()
        run = s.get(OaRun, run_id)
        # what a PostgreSQL crash does to the unlogged staging table
        s.execute(delete(member_stage).where(member_stage.c.import_id == run.import_batch_id))
        exchange.confirm(s, run, None)
        s.commit()
    drain(app)
    run = get_run(app, run_id)
    assert run.state == "failed"
    assert "暂存的数据已不在" in run.error
    assert run.step("apply")["state"] == "failed"
    with app.app_context():
        s = db.session()
        run = s.get(OaRun, run_id)
        assert not exchange.can_retry(s, run)
        assert exchange.can_discard(s, run)
        exchange.discard(s, app, run, None)
        s.commit()
        assert s.get(OaRun, run_id).state == "discarded"


def test_create_run_refuses_bad_input_and_officers_without_the_permission(oa, tmp_path):
    import pytest

    app, world = oa.app, oa.world
    path = write(tmp_path / "m.csv", [person()])
    with app.app_context():
        s = db.session()
        city = s.get(Account, world.officers["city"])
        for kw, field in (({"period": "2026-13"}, "period"), ({"plan_year": 99}, "plan_year"),
                          ({"filename": "m.txt"}, "file")):
            args = {"period": PERIOD, "plan_year": YEAR, "path": path, "filename": "m.csv",
                    **kw}
            with pytest.raises(exchange.RunError) as err:
                exchange.create_run(s, app, city, **args)
            assert err.value.field == field
        with pytest.raises(exchange.RunError):
            exchange.create_run(s, app, s.get(Account, world.officers["haidian"]),
                                period=PERIOD, plan_year=YEAR, path=path, filename="m.csv")
        s.rollback()
        assert s.scalar(select(func.count()).select_from(OaRun)) == 0


def test_a_file_missing_a_required_column_fails_the_run(oa, tmp_path):
    app, world = oa.app, oa.world
    path = tmp_path / "m.csv"
    path.write_text("姓名,身份证号,工会组织代码\n张三,110105199005170011,G1\n", encoding="utf-8")
    run_id = start(app, world, path)
    drain(app)
    run = get_run(app, run_id)
    assert run.state == "failed"
    assert run.error == "缺少必需的列: 京卡卡号"
    assert run.step("stage")["state"] == "failed"
    with app.app_context():
        s = db.session()
        run = s.get(OaRun, run_id)
        assert not exchange.can_retry(s, run) and exchange.can_discard(s, run)


def test_a_cancelled_apply_job_fails_the_run_and_retry_applies_it(oa, tmp_path):
    from unionhub.jobs import service as jobs

    app, world = oa.app, oa.world
    newcomer = person()
    run_id = start(app, world, write(tmp_path / "m.csv", [newcomer]))
    drain(app)
    with app.app_context():
        s = db.session()
        run = s.get(OaRun, run_id)
        exchange.confirm(s, run, None)
        s.commit()
        assert jobs.cancel(s, s.get(Job, run.job_id))  # e.g. on the job's page
        s.commit()
    drain(app)  # the cancelled job does not run
    with app.app_context():
        s = db.session()
        run = s.get(OaRun, run_id)
        assert run.state == "applying"
        assert exchange.reconcile(s, run)  # what the run's page does
        s.commit()
        assert not exchange.reconcile(s, run)
        assert (run.state, run.error) == ("failed", "任务已取消")
        assert exchange.can_retry(s, run)
        exchange.retry(s, run, s.get(Account, world.officers["city"]))
        s.commit()
        assert run.state == "applying" and run.error is None
    drain(app)
    run = get_run(app, run_id)
    assert run.state == "done", run.error
    assert member_id(app, newcomer["身份证号"]) is not None
