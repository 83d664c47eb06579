"""Documents signed off through the approval engine (kind ``oa.document``): submitting starts a
request and freezes the draft; the approver's decision comes back through the hook — approved,
the document waits for an issuer; rejected, it returns to draft with the opinion. Decisions
are applied once (a repeated or stale one changes nothing); a workflow whose conditions skip
every step approves at once; without a workflow a submitted draft is approved directly."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.helpers import post_form
from tests.oa.conftest import make_workflow
from tests.oa.test_documents_support import (
    account,
    client_for,
    issue,
    make_draft,
    set_prefix,
    stored,
    submit,
)

STEPS = [{"key": "city", "name": "市总审核", "approvers": {"by": "users", "users": ["city"]},
          "mode": "single"}]


def workflow(oa: Any, **kwargs: Any) -> int:
    with oa.app.app_context():
        return make_workflow("doc_signoff", "oa.document", kwargs.get("steps", STEPS),
                             kwargs.get("fields", ()))


def task_of(oa: Any, ref: str) -> int:
    from unionhub import db
    from unionhub_oa.workflow.models import OaTask

    with oa.app.app_context():
        task_id = db.session().scalar(select(OaTask.id).where(
            OaTask.request_id == int(ref.removeprefix("oa-")), OaTask.state == "pending"))
        assert task_id is not None
        return int(task_id)


def decide(oa: Any, ref: str, approved: bool, opinion: str = "") -> None:
    from unionhub import db
    from unionhub_oa.workflow import engine

    with oa.app.test_request_context():
        s = db.session()
        city = account(oa, "city")
        if approved:
            engine.approve(s, city, task_of(oa, ref), opinion)
        else:
            engine.reject(s, city, task_of(oa, ref), opinion)
        s.commit()


def test_approved_through_a_workflow(oa: Any) -> None:
    from unionhub import db
    from unionhub_oa.workflow.models import OaRequest

    workflow(oa)
    doc_id = make_draft(oa, by="chaoyang", org="d1")
    ref = submit(oa, doc_id, by="chaoyang")
    assert ref is not None and ref.startswith("oa-")
    doc = stored(oa, doc_id)
    assert (doc.state, doc.approval_ref, doc.number) == ("reviewing", ref, None)
    with oa.app.app_context():
        req = db.session().get(OaRequest, int(ref.removeprefix("oa-")))
        assert (req.kind, req.subject_id, req.org_id, req.url) == (
            "oa.document", str(doc_id), oa.world.org_id("d1"), f"/oa/documents/{doc_id}")
        assert req.fields.get("拟稿单位") == "朝阳区总工会"
    # frozen while the approval runs
    chaoyang = client_for(oa, "chaoyang")
    url = f"/oa/documents/{doc_id}"
    html = chaoyang.get(url).get_data(as_text=True)
    assert 'id="awaiting-approval"' in html and 'id="edit-form"' not in html
    assert f"/oa/requests/{ref.removeprefix('oa-')}" in html
    refused = post_form(chaoyang, url, {"action": "save", "doc_type": "fa", "title": "改",
                                        "body": "x"}, form_url="/oa/documents")
    assert refused.status_code == 422 and stored(oa, doc_id).title != "改"
    decide(oa, ref, True, "同意下发")
    doc = stored(oa, doc_id)
    assert (doc.state, doc.opinion) == ("approved", None)
    set_prefix(oa, "d1", "朝工")
    assert "朝工发" in issue(oa, doc_id, [("g1", False)])


def test_rejected_back_to_draft_with_the_opinion(oa: Any) -> None:
    workflow(oa)
    doc_id = make_draft(oa, by="chaoyang", org="d1")
    first = submit(oa, doc_id, by="chaoyang")
    assert first is not None
    decide(oa, first, False, "第二段表述不准确，请修改")
    doc = stored(oa, doc_id)
    assert (doc.state, doc.opinion, doc.number) == ("draft", "第二段表述不准确，请修改", None)
    html = client_for(oa, "chaoyang").get(f"/oa/documents/{doc_id}").get_data(as_text=True)
    assert 'id="doc-opinion"' in html and "第二段表述不准确" in html and 'id="edit-form"' in html
    # resubmitted: a new request; the opinion is cleared
    second = submit(oa, doc_id, by="chaoyang")
    assert second is not None and second != first
    doc = stored(oa, doc_id)
    assert (doc.state, doc.approval_ref, doc.opinion) == ("reviewing", second, None)
    decide(oa, second, True)
    assert stored(oa, doc_id).state == "approved"


def test_decisions_are_applied_once(oa: Any) -> None:
    from unionhub import db
    from unionhub.contrib import ApprovalDecision
    from unionhub_oa.documents.service import on_decided

    workflow(oa)
    doc_id = make_draft(oa)
    ref = submit(oa, doc_id)
    assert ref is not None

    def deliver(decision: ApprovalDecision) -> None:
        with oa.app.test_request_context():
            on_decided(db.session(), decision)
            db.session().commit()

    stale = ApprovalDecision("oa.document", doc_id, "oa-999999", False, None, "旧的审批")
    deliver(stale)  # another request's decision: ignored
    assert stored(oa, doc_id).state == "reviewing"
    deliver(ApprovalDecision("oa.document", doc_id, ref, True))
    deliver(ApprovalDecision("oa.document", doc_id, ref, True))
    assert stored(oa, doc_id).state == "approved"
    # a late contrary delivery of the same request does not undo it
    deliver(ApprovalDecision("oa.document", doc_id, ref, False, None, "晚到的意见"))
    doc = stored(oa, doc_id)
    assert (doc.state, doc.opinion) == ("approved", None)
    # other kinds and bad ids are not ours
    deliver(ApprovalDecision("oa.general", doc_id, ref, False))
    deliver(ApprovalDecision("oa.document", "x", ref, False))
    assert stored(oa, doc_id).state == "approved"


def test_a_workflow_that_skips_every_step_approves_at_once(oa: Any) -> None:
    steps = [{**STEPS[0], "when": "doctype == '函'"}]
    workflow(oa, steps=steps, fields=[{"name": "doctype", "label": "文种", "type": "text"}])
    plain = make_draft(oa, doc_type="fa")
    ref = submit(oa, plain)
    assert ref is not None  # the engine's request exists (approved with no step)
    doc = stored(oa, plain)
    assert (doc.state, doc.approval_ref) == ("approved", ref)
    letter = make_draft(oa, doc_type="zi", title="一份函")
    assert submit(oa, letter) is not None
    assert stored(oa, letter).state == "reviewing"


def test_without_a_workflow_submitting_approves(oa: Any) -> None:
    doc_id = make_draft(oa, by="chaoyang", org="d1")
    resp = post_form(client_for(oa, "chaoyang"), f"/oa/documents/{doc_id}",
                     {"action": "submit"}, form_url=f"/oa/documents/{doc_id}")
    assert resp.status_code == 302
    doc = stored(oa, doc_id)
    assert (doc.state, doc.approval_ref) == ("approved", None)
