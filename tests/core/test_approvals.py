"""The approval hooks (unionhub.approvals): an engine takes a sign-off and reports how it ended;
without an engine nobody takes it; a plugin disabled at run time neither takes nor hears."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.conftest import AppFactory
from unionhub import hookimpl
from unionhub.contrib import ApprovalDecision, ApprovalRequest


@pytest.fixture
def sample_engine() -> Iterator[object]:
    from unionhub_sample import plugin

    plugin.APPROVALS.clear()
    plugin.DECISIONS.clear()
    yield plugin
    plugin.APPROVALS.clear()
    plugin.DECISIONS.clear()


def _request(subject_id: int = 7) -> ApprovalRequest:
    return ApprovalRequest("sample.note", subject_id, "示例笔记", org_id=None, initiator_id=1,
                           url="/sample/", fields={"作者": "张*"})


def test_no_engine_means_no_reference(app: Flask) -> None:
    from unionhub import approvals

    with app.app_context():
        assert approvals.start(_request()) is None
        # nobody owns "sample." here: the decision is reported as undelivered
        assert approvals.decided(ApprovalDecision("sample.note", 7, "x-1", True)) is False


def test_the_engine_takes_the_request_and_reports_the_decision(
        make_app: AppFactory, sample_engine: object) -> None:
    from unionhub import approvals

    make_app.set_plugin("sample", True)
    app = make_app()
    with app.app_context():
        ref = approvals.start(_request(7))
        assert ref is not None and ref.startswith("sample-")
        assert sample_engine.APPROVALS[ref].subject_id == 7  # type: ignore[attr-defined]
        assert sample_engine.APPROVALS[ref].fields == {"作者": "张*"}  # type: ignore[attr-defined]
        assert sample_engine.decide(ref, False, by_id=3, opinion="请补充")  # type: ignore[attr-defined]
        decisions = sample_engine.DECISIONS  # type: ignore[attr-defined]
        assert [(d.subject_id, d.ref, d.approved, d.by_id, d.opinion) for d in decisions] == [
            (7, ref, False, 3, "请补充")]
        assert ref not in sample_engine.APPROVALS  # type: ignore[attr-defined]


def test_a_plugin_disabled_at_run_time_is_skipped(make_app: AppFactory,
                                                  sample_engine: object) -> None:
    from unionhub import approvals

    make_app.set_plugin("sample", True)
    app = make_app()
    make_app.set_plugin("sample", False)  # no restart: the app still has it loaded
    with app.app_context():
        assert approvals.start(_request()) is None
        assert approvals.decided(ApprovalDecision("sample.note", 7, "sample-9", True)) is False
    assert sample_engine.DECISIONS == []  # type: ignore[attr-defined]


def test_malformed_requests_and_engine_answers_are_refused(app: Flask) -> None:
    from unionhub import approvals

    class BadEngine:
        @hookimpl
        def unionhub_approval_start(self, request: ApprovalRequest) -> object:
            return 42

    with app.app_context():
        with pytest.raises(approvals.ApprovalError):
            approvals.start(ApprovalRequest("no-namespace", 1, "x", None, None))
        with pytest.raises(approvals.ApprovalError):
            approvals.decided(ApprovalDecision("sample.note", 1, "", True))
        with pytest.raises(TypeError):
            approvals.start({"kind": "sample.note"})  # type: ignore[arg-type]
        app.extensions["unionhub"].pm.register(BadEngine(), name="bad_engine")
        with pytest.raises(approvals.ApprovalError, match="bad_engine"):
            approvals.start(_request())


def test_engines_answer_in_load_order_and_none_passes_on(app: Flask) -> None:
    from unionhub import approvals

    class NotMine:
        @hookimpl
        def unionhub_approval_start(self, request: ApprovalRequest) -> str | None:
            return None

    class Engine:
        def __init__(self, prefix: str) -> None:
            self.prefix = prefix

        @hookimpl
        def unionhub_approval_start(self, request: ApprovalRequest) -> str:
            return f"{self.prefix}-{request.subject_id}"

    pm = app.extensions["unionhub"].pm
    pm.register(Engine("z"), name="z_engine")
    pm.register(NotMine(), name="a_not_mine")
    pm.register(Engine("b"), name="b_engine")
    with app.app_context():
        assert approvals.start(_request(5)) == "b-5"
    assert isinstance(pm.hook.unionhub_approval_start(request=_request(5)), str)  # firstresult
