"""Sign-off of large bank batches through an approval engine (the sample plugin plays the OA
plugin): a batch whose total reaches ``mutualaid.signoff_threshold`` is held — no bank file, no
return file — until the engine decides; approved, it is downloadable; rejected, it is void for
ever and its payouts go back to pending, to be claimed exactly once by a later batch. Without an
engine (or under the threshold) nothing changes."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import AppFactory
from tests.helpers import login, post_form
from tests.mutualaid.conftest import MA, build_ma
from tests.mutualaid.test_payouts import (
    BATCHES,
    _approved_claim,
    _batch,
    _lines,
    _payout,
    _queue,
    _return_csv,
)

KIND = "mutualaid.payout_batch"


@pytest.fixture
def engine() -> Iterator[Any]:
    from unionhub_sample import plugin

    plugin.APPROVALS.clear()
    plugin.DECISIONS.clear()
    yield plugin
    plugin.APPROVALS.clear()
    plugin.DECISIONS.clear()


@pytest.fixture
def with_engine(make_app: AppFactory, engine: Any) -> MA:
    make_app.set_plugin("sample", True)
    return build_ma(make_app)


def _threshold(ma: MA, value: str) -> None:
    from unionhub import db
    from unionhub.settings import service as settings

    with ma.app.app_context():
        settings.put("mutualaid.signoff_threshold", value)
        db.session().commit()


def _officer(ma: MA) -> Any:
    client = ma.app.test_client()
    login(client, "reviewer")
    return client


def _generate(ma: MA, client: Any) -> tuple[int, str]:
    """Generate a batch for the city's subtree through the page: (batch id, page html)."""
    r = post_form(client, BATCHES, {"org_id": str(ma.world.org_id("city")), "program": ""})
    assert r.status_code == 302
    batch_id = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    return batch_id, client.get(r.headers["Location"]).get_data(as_text=True)


def _get_batch(batch_id: int) -> Any:
    from unionhub import db
    from unionhub_mutualaid.payouts.models import MutualaidPayoutBatch

    return db.session().get(MutualaidPayoutBatch, batch_id, populate_existing=True)


def _approval_ref(ma: MA, batch_id: int) -> str:
    with ma.app.app_context():
        ref = _get_batch(batch_id).approval_ref
    assert ref
    return ref


def _decide(ma: MA, engine: Any, ref: str, approved: bool, opinion: str = "") -> None:
    from unionhub import db

    with ma.app.test_request_context():
        assert engine.decide(ref, approved, by_id=ma.world.officers["city"],
                             opinion=opinion) is True
        db.session().commit()


def _deliver(ma: MA, batch_id: int, ref: str, approved: bool) -> None:
    """The same decision reported again (an engine retrying)."""
    from unionhub import approvals, db
    from unionhub.contrib import ApprovalDecision

    with ma.app.test_request_context():
        assert approvals.decided(ApprovalDecision(KIND, batch_id, ref, approved)) is True
        db.session().commit()


def _download(client: Any, batch_id: int, fmt: str = "csv") -> Any:
    return client.get(f"{BATCHES}/{batch_id}/file.{fmt}")


def _upload(client: Any, path: Path) -> str:
    with path.open("rb") as fh:
        r = post_form(client, "/mutualaid/payouts/returns", {"file": (fh, "回盘.csv")},
                      form_url=BATCHES, content_type="multipart/form-data",
                      follow_redirects=True)
    assert r.status_code == 200
    return r.get_data(as_text=True)


def _audit_actions(ma: MA, batch_no: str) -> list[str]:
    from unionhub import db
    from unionhub.audit.models import AuditLog

    with ma.app.app_context():
        return list(db.session().scalars(select(AuditLog.action).where(
            AuditLog.target_type == "mutualaid_payout_batch",
            AuditLog.target_id == batch_no).order_by(AuditLog.id)))


def test_the_setting_defaults_to_half_a_million(with_engine: MA) -> None:
    from unionhub.settings import service as settings
    from unionhub_mutualaid.payouts import signoff

    with with_engine.app.app_context():
        spec = settings.spec("mutualaid.signoff_threshold")
        assert (spec.type, spec.default) == ("decimal", "500000.00")
        assert spec.label == "代发批次需审批的金额下限（元，0 为不需审批）"
        assert signoff.threshold() == Decimal("500000.00")
        assert signoff.needs_signoff(Decimal("499999.99")) is False
        assert signoff.needs_signoff(Decimal("500000.00")) is True


def test_below_the_threshold_the_batch_is_generated_as_before(with_engine: MA,
                                                              engine: Any) -> None:
    ma = with_engine
    _threshold(ma, "1000.00")
    with ma.app.app_context():
        _queue(ma, "m1", "600.00", 1)
        _queue(ma, "m3", "399.99", 2)
    client = _officer(ma)
    batch_id, page = _generate(ma, client)
    with ma.app.app_context():
        batch = _get_batch(batch_id)
        assert (batch.status, batch.approval_ref, batch.total) == ("generated", None,
                                                                   Decimal("999.99"))
    assert engine.APPROVALS == {}
    assert "审批中（办公系统）" not in page and "file.csv" in page
    assert _download(client, batch_id).status_code == 200


def test_at_the_threshold_the_batch_waits_and_cannot_be_sent(with_engine: MA, engine: Any,
                                                            tmp_path: Path) -> None:
    from unionhub_mutualaid.payouts import bankfiles

    ma = with_engine
    _threshold(ma, "1000.00")
    with ma.app.app_context():
        p1 = _queue(ma, "m1", "600.00", 1)
        p2 = _queue(ma, "m3", "400.00", 2)
    client = _officer(ma)
    r = post_form(client, BATCHES, {"org_id": str(ma.world.org_id("city")), "program": ""},
                  follow_redirects=True)
    assert "已提交办公系统审批" in r.get_data(as_text=True)
    with ma.app.app_context():
        from unionhub import db
        from unionhub_mutualaid.payouts.models import MutualaidPayoutBatch

        batch = db.session().scalar(select(MutualaidPayoutBatch))
        batch_id, batch_no, ref = batch.id, batch.batch_no, batch.approval_ref
        assert batch.status == "awaiting_signoff" and batch.status_label == "待审批"
        assert ref is not None and ref.startswith("sample-")
        assert [_payout(p).status for p in (p1, p2)] == ["batched", "batched"]
        refs = [ln.reference for ln in _lines(batch_id)]
        with pytest.raises(bankfiles.BankFileError, match="审批"):
            bankfiles.to_csv(db.session(), batch)

    request = engine.APPROVALS[ref]
    assert (request.kind, request.subject_id, request.title, request.org_id,
            request.initiator_id, request.url) == (
        KIND, batch_id, f"代发批次 {batch_no}", ma.world.org_id("city"),
        ma.world.officers["reviewer"], f"/mutualaid/payouts/batches/{batch_id}")
    assert dict(request.fields) == {"批次号": batch_no, "笔数": "2", "总金额": "1000.00元",
                                    "项目": "全部项目"}

    page = client.get(f"{BATCHES}/{batch_id}").get_data(as_text=True)
    assert "审批中（办公系统）" in page and ref in page and "待审批" in page
    assert "file.csv" not in page and "file.xlsx" not in page
    assert "导入回盘文件" not in page
    assert "审批中（办公系统）" in client.get(BATCHES).get_data(as_text=True)
    for fmt in ("csv", "xlsx"):
        r = _download(client, batch_id, fmt)
        assert r.status_code == 302
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "正在办公系统审批中，审批通过后才能下载代发文件" in html

    # a return file naming its references is not applied
    path = _return_csv(tmp_path, [(refs[0], "B1", "成功", "", "2026-04-02")])
    html = _upload(client, path)
    assert "成功入账 0 笔" in html and "代发文件未发出" in html
    with ma.app.app_context():
        assert _payout(p1).status == "batched"
        assert [ln.status for ln in _lines(batch_id)] == ["sent", "sent"]
    assert _audit_actions(ma, batch_no) == ["mutualaid.payout.batch_create",
                                            "mutualaid.payout.batch_signoff"]


def test_approved_batch_is_downloadable_and_paid_once(with_engine: MA, engine: Any,
                                                     tmp_path: Path) -> None:
    ma = with_engine
    _threshold(ma, "100.00")
    with ma.app.app_context():
        p1 = _queue(ma, "m1", "150.00", 1)
    client = _officer(ma)
    batch_id, _page = _generate(ma, client)
    with ma.app.app_context():
        batch = _get_batch(batch_id)
        ref, batch_no = batch.approval_ref, batch.batch_no
        reference = _lines(batch_id)[0].reference
    _decide(ma, engine, ref, True, "同意")
    with ma.app.app_context():
        batch = _get_batch(batch_id)
        assert (batch.status, batch.approval_ref) == ("generated", ref)
    page = client.get(f"{BATCHES}/{batch_id}").get_data(as_text=True)
    assert "已审批通过" in page and ref in page and "file.csv" in page
    r = _download(client, batch_id)
    assert r.status_code == 200 and batch_no in r.data.decode("gbk")

    # the decision delivered again (even contradicting itself) changes nothing
    _deliver(ma, batch_id, ref, True)
    _deliver(ma, batch_id, ref, False)
    with ma.app.app_context():
        assert _get_batch(batch_id).status == "generated"
        assert (_payout(p1).status, _payout(p1).attempts) == ("batched", 1)

    html = _upload(client, _return_csv(tmp_path, [(reference, "B1", "成功", "", "2026-04-02")]))
    assert "成功入账 1 笔" in html
    with ma.app.app_context():
        payout = _payout(p1)
        assert (payout.status, payout.paid_first_batch) == ("paid", True)
        assert _get_batch(batch_id).status == "returned"
    assert _audit_actions(ma, batch_no) == [
        "mutualaid.payout.batch_create", "mutualaid.payout.batch_signoff",
        "mutualaid.payout.batch_signoff_approved", "mutualaid.payout.bank_file"]


def test_rejected_batch_is_void_and_a_new_batch_takes_the_payouts_once(
        with_engine: MA, engine: Any, tmp_path: Path) -> None:
    from unionhub import db
    from unionhub.audit.models import AuditLog
    from unionhub_mutualaid.payouts import bankfiles
    from unionhub_mutualaid.payouts.models import MutualaidPayoutLine

    ma = with_engine
    _threshold(ma, "100.00")
    with ma.app.app_context():
        p1 = _queue(ma, "m1", "80.00", 1)
        p2 = _queue(ma, "m3", "20.00", 2)
    client = _officer(ma)
    first_id, _page = _generate(ma, client)
    with ma.app.app_context():
        first = _get_batch(first_id)
        ref, first_no = first.approval_ref, first.batch_no
        old_refs = [ln.reference for ln in _lines(first_id)]
    _decide(ma, engine, ref, False, "金额需复核")

    with ma.app.app_context():
        s = db.session()
        first = _get_batch(first_id)
        assert (first.status, first.status_label) == ("rejected", "审批未通过")
        assert [(ln.status, ln.failure) for ln in _lines(first_id)] == [
            ("void", "审批未通过：金额需复核"), ("void", "审批未通过：金额需复核")]
        assert [(_payout(p).status, _payout(p).attempts) for p in (p1, p2)] == [
            ("pending", 0), ("pending", 0)]
        with pytest.raises(bankfiles.BankFileError, match="作废"):
            bankfiles.to_csv(s, first)
        log = s.scalar(select(AuditLog).where(
            AuditLog.action == "mutualaid.payout.batch_signoff_rejected"))
        assert log is not None and log.details["payouts_requeued"] == 2
        assert log.details["opinion"] == "金额需复核"
        assert log.actor_id == ma.world.officers["city"]
    page = client.get(f"{BATCHES}/{first_id}").get_data(as_text=True)
    assert "审批未通过" in page and "已作废" in page and "file.csv" not in page
    r = _download(client, first_id)
    assert r.status_code == 302
    assert "审批未通过，已作废" in client.get(r.headers["Location"]).get_data(as_text=True)

    # the rejection delivered again changes nothing (no second decrement, no second re-queue)
    _deliver(ma, first_id, ref, False)
    _deliver(ma, first_id, ref, True)
    with ma.app.app_context():
        assert _get_batch(first_id).status == "rejected"
        assert [_payout(p).attempts for p in (p1, p2)] == [0, 0]

    # a later batch claims each payout exactly once (and is itself signed off)
    second_id, _page = _generate(ma, client)
    assert second_id != first_id
    with ma.app.app_context():
        second = _get_batch(second_id)
        assert second.status == "awaiting_signoff" and second.approval_ref != ref
        new_refs = [ln.reference for ln in _lines(second_id)]
        assert not set(new_refs) & set(old_refs)
        assert _batch(ma).batch is None  # nothing pending any more
    _decide(ma, engine, _approval_ref(ma, second_id), True)
    assert _download(client, second_id).status_code == 200
    with ma.app.app_context():
        s = db.session()
        live = s.execute(select(MutualaidPayoutLine.payout_id, func.count())
                         .where(MutualaidPayoutLine.status != "void")
                         .group_by(MutualaidPayoutLine.payout_id)).all()
        assert sorted(live) == [(p1, 1), (p2, 1)]
        assert [(_payout(p).status, _payout(p).attempts) for p in (p1, p2)] == [
            ("batched", 1), ("batched", 1)]

    # the bank's results: the void batch's references are refused, the new ones paid once
    html = _upload(client, _return_csv(tmp_path, [
        (old_refs[0], "B0", "成功", "", "2026-04-02"),
        (new_refs[0], "B1", "成功", "", "2026-04-02"),
        (new_refs[1], "B2", "成功", "", "2026-04-02")]))
    assert "成功入账 2 笔" in html and "审批未通过" in html
    with ma.app.app_context():
        assert [(_payout(p).status, _payout(p).paid_first_batch) for p in (p1, p2)] == [
            ("paid", True), ("paid", True)]
        assert [ln.status for ln in _lines(first_id)] == ["void", "void"]
        assert _get_batch(first_id).status == "rejected"
    assert _audit_actions(ma, first_no) == [
        "mutualaid.payout.batch_create", "mutualaid.payout.batch_signoff",
        "mutualaid.payout.batch_signoff_rejected"]


def test_without_an_engine_nothing_changes(ma: MA) -> None:
    _threshold(ma, "1.00")
    with ma.app.app_context():
        _queue(ma, "m1", "600.00", 1)
    client = _officer(ma)
    batch_id, page = _generate(ma, client)
    with ma.app.app_context():
        batch = _get_batch(batch_id)
        assert (batch.status, batch.approval_ref) == ("generated", None)
    assert "审批中（办公系统）" not in page and "审批编号" not in page and "file.csv" in page
    assert _download(client, batch_id).status_code == 200


def test_a_zero_threshold_turns_signoff_off(with_engine: MA, engine: Any) -> None:
    ma = with_engine
    _threshold(ma, "0")
    with ma.app.app_context():
        _queue(ma, "m1", "600000.00", 1)
        batch = _batch(ma).batch
        assert (batch.status, batch.approval_ref) == ("generated", None)
    assert engine.APPROVALS == {}


def test_decisions_for_others_or_stale_refs_are_ignored(with_engine: MA, engine: Any) -> None:
    from unionhub import db
    from unionhub.contrib import ApprovalDecision
    from unionhub_mutualaid.payouts.signoff import approval_decided

    ma = with_engine
    _threshold(ma, "10.00")
    with ma.app.app_context():
        p1 = _queue(ma, "m1", "50.00", 1)
        batch_id = _batch(ma).batch.id
        ref = _get_batch(batch_id).approval_ref
        for decision in (ApprovalDecision(KIND, batch_id, "sample-999999", False),
                         ApprovalDecision("portal.article", batch_id, ref, False),
                         ApprovalDecision(KIND, "not-a-number", ref, False),
                         ApprovalDecision(KIND, 999999, ref, False)):
            approval_decided(decision)
        db.session().commit()
        assert _get_batch(batch_id).status == "awaiting_signoff"
        assert _payout(p1).status == "batched"


def test_demo_leaves_a_held_batch_waiting(with_engine: MA, engine: Any) -> None:
    from types import SimpleNamespace

    from unionhub import db
    from unionhub_mutualaid.models import MutualaidPayout
    from unionhub_mutualaid.payouts import FEATURE

    ma = with_engine
    _threshold(ma, "100.00")
    with ma.app.app_context():
        for n in range(3):
            _approved_claim(ma, ("m1", "m2", "m3")[n], f"{100 + n}.00", n)
        s = db.session()
        ctx = SimpleNamespace(lines=[])
        assert FEATURE.demo is not None
        FEATURE.demo(s, ctx)
        s.commit()
        assert sorted(s.scalars(select(MutualaidPayout.status))) == ["batched"] * 3
        assert "待审批" in ctx.lines[0]
