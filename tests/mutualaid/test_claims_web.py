"""Claims on the web and the API: submission, materials, review, service level."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from tests.helpers import PASSWORD, login, post_form
from tests.mutualaid.conftest import MA
from tests.mutualaid.test_claims_service import cover

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n%demo\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64

ZYYL_FORM = {"program": "ZYYL", "cause": "illness", "event_date": "2026-03-01",
             "admitted_1": "2026-03-01", "discharged_1": "2026-03-08",
             "hospital": "北京协和医院", "total_amount": "20,000.00",
             "out_of_pocket": "8000.00", "diagnoses": "K35.8", "diagnosis_text": "阑尾炎"}


def _login_member(ma: MA, person: str) -> Any:
    client = ma.app.test_client()
    r = login(client, ma.world.people[person].mobile)
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    return client


def _login_officer(ma: MA, username: str) -> Any:
    client = ma.app.test_client()
    assert login(client, username).status_code == 302
    return client


def _bearer(client: Any, identifier: str) -> str:
    r = client.post("/api/v1/auth/token",
                    json={"identifier": identifier, "password": PASSWORD, "device": "test"})
    assert r.status_code == 201, r.get_json()
    return f"Bearer {r.get_json()['token']}"


def _submit(client: Any, data: dict[str, Any], url: str = "/mutualaid/claims/new") -> Any:
    return post_form(client, url, data, content_type="multipart/form-data")


def _claim_id(r: Any) -> int:
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    m = re.search(r"/mutualaid/claims/(\d+)$", r.headers["Location"])
    assert m, r.headers["Location"]
    return int(m.group(1))


def _claim(ma: MA, claim_id: int) -> Any:
    from unionhub import db
    from unionhub_mutualaid.models import MutualaidClaim

    with ma.app.app_context():
        s = db.session()
        claim = s.get(MutualaidClaim, claim_id)
        s.expunge(claim)
        return claim


def _upload(client: Any, claim_id: int, kind: str, data: bytes, name: str) -> Any:
    return post_form(client, f"/mutualaid/claims/{claim_id}/files",
                     {"kind": kind, "file": (io.BytesIO(data), name)},
                     form_url=f"/mutualaid/claims/{claim_id}",
                     content_type="multipart/form-data")


def _full_claim(ma: MA, person: str = "m1") -> tuple[Any, int]:
    """A member's ZYYL claim with the whole checklist uploaded (clock started)."""
    client = _login_member(ma, person)
    cid = _claim_id(_submit(client, {
        **ZYYL_FORM, "file_discharge_summary": (io.BytesIO(PNG), "小结.png"),
        "file_invoice": (io.BytesIO(PDF), "发票.pdf"),
        "file_insurance_statement": (io.BytesIO(PNG), "结算单.png")}))
    return client, cid


def test_member_submits_with_photo_and_sees_explanation(ma: MA) -> None:
    with ma.app.app_context():
        cover(ma, "m1")
    client = _login_member(ma, "m1")
    r = _submit(client, {**ZYYL_FORM, "file_discharge_summary": (io.BytesIO(PNG), "a.png")})
    cid = _claim_id(r)
    claim = _claim(ma, cid)
    assert claim.status == "submitted" and claim.number.startswith("LP")
    assert claim.total_amount == claim.total_amount.__class__("20000.00")
    assert claim.org_path == ma.world.orgs["g1"].path
    assert claim.complete_on is None  # 2 of 3 checklist items missing
    page = client.get(f"/mutualaid/claims/{cid}").get_data(as_text=True)
    assert "核定赔付金额" in page and "费用明细或发票" in page and "a.png" in page
    assert _upload(client, cid, "invoice", PDF, "b.pdf").status_code == 302
    assert _upload(client, cid, "insurance_statement", PNG, "c.png").status_code == 302
    claim = _claim(ma, cid)
    from unionhub.workdays.service import add_working_days

    with ma.app.app_context():
        assert claim.complete_on == date.today()
        assert claim.due_on == add_working_days(date.today(), 10)
    assert "我的理赔" in client.get("/mutualaid/").get_data(as_text=True)
    assert claim.number in client.get("/mutualaid/claims").get_data(as_text=True)
    me = client.get("/me").get_data(as_text=True)
    assert "我的理赔" in me and claim.number in me


def test_form_errors_name_the_field(ma: MA) -> None:
    with ma.app.app_context():
        cover(ma, "m1")
    client = _login_member(ma, "m1")
    r = _submit(client, {**ZYYL_FORM, "out_of_pocket": "abc", "discharged_1": "2026-02-01"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "个人自付金额应为不小于 0 的金额" in html and "出院日期早于入院日期" in html
    r = _submit(client, {**ZYYL_FORM, "program": "ZDJB", "diagnoses": "C50.9"})
    assert r.status_code == 422 and "未参加" in r.get_data(as_text=True)
    from unionhub import db
    from unionhub_mutualaid.models import MutualaidClaim

    with ma.app.app_context():
        assert db.session().scalar(select(func.count()).select_from(MutualaidClaim)) == 0


def test_bad_files_refused(ma: MA) -> None:
    from unionhub import db
    from unionhub.settings import service as settings

    with ma.app.app_context():
        cover(ma, "m1")
    client = _login_member(ma, "m1")
    cid = _claim_id(_submit(client, ZYYL_FORM))
    r = _upload(client, cid, "invoice", EXE, "invoice.jpg")
    assert "只接受 JPEG、PNG、WebP 图片或 PDF" in client.get(r.headers["Location"]).get_data(
        as_text=True)
    with ma.app.app_context():
        settings.put("mutualaid.claim_file_max_mb", "1")
        db.session().commit()
    big = PNG + b"\x00" * (1024 * 1024)
    r = _upload(client, cid, "invoice", big, "big.png")
    assert "超过 1 MB" in client.get(r.headers["Location"]).get_data(as_text=True)
    from unionhub_mutualaid.claims.models import MutualaidClaimFile

    with ma.app.app_context():
        assert db.session().scalar(select(func.count()).select_from(MutualaidClaimFile)) == 0


def test_file_visibility(ma: MA) -> None:
    from unionhub import db
    from unionhub_mutualaid.claims.models import MutualaidClaimFile

    with ma.app.app_context():
        cover(ma, "m1")
    owner, cid = _full_claim(ma)
    with ma.app.app_context():
        fid = db.session().scalar(select(MutualaidClaimFile.id).where(
            MutualaidClaimFile.kind == "discharge_summary"))
    url = f"/mutualaid/claims/{cid}/files/{fid}"
    r = owner.get(url)
    assert r.status_code == 200 and r.data == PNG and r.mimetype == "image/png"
    assert _login_member(ma, "m2").get(url).status_code == 404
    assert _login_member(ma, "m2").get(f"/mutualaid/claims/{cid}").status_code == 404
    assert _login_officer(ma, "haidian").get(url).status_code == 404
    assert _login_officer(ma, "chaoyang").get(url).status_code == 200
    assert _login_officer(ma, "reviewer").get(url).status_code == 200


def test_clerk_submits_for_member_in_scope_only(ma: MA) -> None:
    with ma.app.app_context():
        cover(ma, "m3")
        cover(ma, "m2", unit="g2")
    clerk = _login_officer(ma, "clerk")
    url = "/mutualaid/claims/agent/new"
    r = _submit(clerk, {**ZYYL_FORM, "identifier": ma.world.people["m2"].id_number}, url)
    assert r.status_code == 422 and "不在您的办理范围内" in r.get_data(as_text=True)
    assert ma.world.people["m2"].id_number not in r.get_data(as_text=True)
    r = _submit(clerk, {**ZYYL_FORM, "identifier": ma.world.people["m3"].card_number}, url)
    cid = _claim_id(r)
    claim = _claim(ma, cid)
    assert claim.member_id == ma.world.people["m3"].member_id and claim.source == "clerk"
    assert claim.org_path == ma.world.orgs["b1"].path
    assert claim.number in clerk.get("/mutualaid/claims/office").get_data(as_text=True)


def test_return_add_file_resubmit_then_approve_pays_once(ma: MA) -> None:
    from unionhub import db
    from unionhub.audit.models import AuditLog
    from unionhub.notify.models import Notification
    from unionhub_mutualaid.models import MutualaidPayout

    with ma.app.app_context():
        cover(ma, "m1")
    member, cid = _full_claim(ma)
    reviewer = _login_officer(ma, "reviewer")
    assert _claim(ma, cid).number in reviewer.get("/mutualaid/claims/review").get_data(
        as_text=True)
    detail = f"/mutualaid/claims/{cid}"
    r = post_form(reviewer, f"{detail}/review", {"action": "return", "note": "发票不清晰"},
                  form_url=detail)
    assert r.status_code == 302 and _claim(ma, cid).status == "returned"
    assert _upload(member, cid, "invoice", PNG, "清晰发票.png").status_code == 302
    r = post_form(member, f"{detail}/resubmit", {}, form_url=detail)
    claim = _claim(ma, cid)
    assert claim.status == "submitted" and claim.complete_on == date.today()
    r = post_form(reviewer, f"{detail}/review", {"action": "approve"}, form_url=detail)
    claim = _claim(ma, cid)
    assert claim.status == "approved" and claim.amount > 0
    # a second approval (another reviewer's stale page) changes nothing
    token_page = detail
    r = post_form(reviewer, f"{detail}/review", {"action": "approve"}, form_url=token_page)
    assert "已被他人处理" in reviewer.get(detail).get_data(as_text=True)
    with ma.app.app_context():
        s = db.session()
        payouts = list(s.scalars(select(MutualaidPayout)))
        assert len(payouts) == 1 and payouts[0].amount == claim.amount
        actions = set(s.scalars(select(AuditLog.action)))
        assert {"mutualaid.claim.return", "mutualaid.claim.approve"} <= actions
        titles = [n.type_key for n in s.scalars(select(Notification))]
        assert "mutualaid.claim_returned" in titles and "mutualaid.claim_approved" in titles
    page = member.get(detail).get_data(as_text=True)
    assert "退回补充材料" in page and "重新提交" in page and "审核通过" in page


def test_reject_needs_reason_and_note_for_other(ma: MA) -> None:
    from unionhub import db
    from unionhub.audit.models import AuditLog

    with ma.app.app_context():
        cover(ma, "m1")
    _, cid = _full_claim(ma)
    reviewer = _login_officer(ma, "reviewer")
    detail = f"/mutualaid/claims/{cid}"
    post_form(reviewer, f"{detail}/review", {"action": "reject", "reason": "other"},
              form_url=detail)
    assert _claim(ma, cid).status == "submitted"
    post_form(reviewer, f"{detail}/review", {"action": "reject", "reason": "duplicate"},
              form_url=detail)
    claim = _claim(ma, cid)
    assert claim.status == "rejected" and claim.reason_code == "duplicate"
    assert "重复申请" in reviewer.get(detail).get_data(as_text=True)
    with ma.app.app_context():
        assert "mutualaid.claim.reject" in set(db.session().scalars(select(AuditLog.action)))
    # a district officer (claims.view only) cannot review
    assert _login_officer(ma, "chaoyang").get("/mutualaid/claims/review").status_code == 403


def test_overdue_list_counts_working_days(ma: MA) -> None:
    from unionhub import db
    from unionhub.identity.models import Account
    from unionhub.workdays.service import add_working_days, working_days_between
    from unionhub_mutualaid.claims import service
    from unionhub_mutualaid.claims.views import overdue_statement
    from unionhub_mutualaid.models import MutualaidClaim

    with ma.app.app_context():
        cover(ma, "m1")
    _, late = _full_claim(ma)
    _, soon = _full_claim(ma)
    _, later = _full_claim(ma)
    today = date.today()
    with ma.app.app_context():
        s = db.session()
        # complete 12 working days ago → due 2 working days ago
        service.set_complete(s.get(MutualaidClaim, late), add_working_days(today, -12))
        service.set_complete(s.get(MutualaidClaim, soon), add_working_days(today, -9))
        s.commit()
        due = s.get(MutualaidClaim, late).due_on
        assert working_days_between(due, today) == 2
        with ma.app.test_request_context():
            acc = s.get(Account, ma.world.officers["chaoyang"])
            ids = [c.id for c in s.scalars(overdue_statement(acc, today))]
            assert ids == [late, soon]
            acc = s.get(Account, ma.world.officers["haidian"])
            assert list(s.scalars(overdue_statement(acc, today))) == []
    officer = _login_officer(ma, "chaoyang")
    page = officer.get("/mutualaid/claims/overdue").get_data(as_text=True)
    assert "逾期 2" in page and _claim(ma, later).number not in page
    page = officer.get("/mutualaid/claims/office").get_data(as_text=True)
    assert "逾期 2 个工作日" in page and _claim(ma, later).number in page


def test_api_list_detail_submit_upload(ma: MA) -> None:
    with ma.app.app_context():
        cover(ma, "m1")
    client = ma.app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = _bearer(client, ma.world.people["m1"].mobile)
    body = {"program": "ZYYL", "event_date": "2026-03-01",
            "stays": [["2026-03-01", "2026-03-08"]], "total_amount": "20000.00",
            "out_of_pocket": "8000.00", "diagnoses": ["K35.8"]}
    r = client.post("/api/v1/mutualaid/claims", json={**body, "out_of_pocket": "x"})
    assert r.status_code == 422 and "out_of_pocket" in r.json["error"]["fields"]
    r = client.post("/api/v1/mutualaid/claims", json=body)
    assert r.status_code == 201, r.json
    cid = r.json["id"]
    assert r.json["explanation"][-1].startswith("核定赔付金额")
    assert r.json["missing"] == ["出院小结", "费用明细或发票", "医保结算单"]
    r = client.post(f"/api/v1/mutualaid/claims/{cid}/files",
                    data={"kind": "invoice", "file": (io.BytesIO(EXE), "x.jpg")},
                    content_type="multipart/form-data")
    assert r.status_code == 422
    r = client.post(f"/api/v1/mutualaid/claims/{cid}/files",
                    data={"kind": "invoice", "file": (io.BytesIO(PDF), "x.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 201 and r.json["files"][0]["content_type"] == "application/pdf"
    r = client.get("/api/v1/mutualaid/claims")
    assert r.status_code == 200 and r.json["total"] == 1 and r.json["items"][0]["id"] == cid
    assert client.get(f"/api/v1/mutualaid/claims/{cid}").json["number"].startswith("LP")
    other = ma.app.test_client()
    other.environ_base["HTTP_AUTHORIZATION"] = _bearer(other, ma.world.people["m2"].mobile)
    assert other.get("/api/v1/mutualaid/claims").json["total"] == 0
    assert other.get(f"/api/v1/mutualaid/claims/{cid}").status_code == 404


ZDJB_FORM = {"program": "ZDJB", "cause": "illness", "event_date": "2026-03-01",
             "diagnoses": "C50.9", "diagnosis_text": "乳腺恶性肿瘤"}


def test_diagnoses_only_for_member_and_reviewer(ma: MA) -> None:
    from unionhub import db
    from unionhub_mutualaid.claims.service import create_fast_claim
    from unionhub_mutualaid.models import MutualaidClaim

    with ma.app.app_context():
        cover(ma, "m1")
        cover(ma, "m1", "ZDJB")
    member = _login_member(ma, "m1")
    cid = _claim_id(_submit(member, ZDJB_FORM))
    with ma.app.app_context():
        s = db.session()
        from unionhub.identity.models import Member

        fast = create_fast_claim(
            s, member=s.get(Member, ma.world.people["m1"].member_id), program="ZYYL",
            benefit=None, serial="S-DIAG-0001", stays=[(date(2026, 3, 1), date(2026, 3, 8))],
            hospital="北京协和医院", total=Decimal("20000.00"), out_of_pocket=Decimal("8000.00"),
            diagnoses=["K35.8"], submitted_on=date(2026, 3, 20))
        assert isinstance(fast, MutualaidClaim)
        fid = fast.id
        s.commit()
    secrets = ("C50.9", "乳腺恶性肿瘤", "K35.8")
    for who in ("clerk", "chaoyang", "city"):
        officer = _login_officer(ma, who)
        for claim_id in (cid, fid):
            r = officer.get(f"/mutualaid/claims/{claim_id}")
            assert r.status_code == 200, who
            page = r.get_data(as_text=True)
            assert "（已隐藏）" in page, who
            assert not any(x in page for x in secrets), (who, claim_id)
        assert "病种目录" not in officer.get(f"/mutualaid/claims/{cid}").get_data(as_text=True)
    reviewer = _login_officer(ma, "reviewer")
    page = reviewer.get(f"/mutualaid/claims/{cid}").get_data(as_text=True)
    assert "C50.9" in page and "乳腺恶性肿瘤" in page and "病种目录" in page
    assert "K35.8" in reviewer.get(f"/mutualaid/claims/{fid}").get_data(as_text=True)
    page = member.get(f"/mutualaid/claims/{cid}").get_data(as_text=True)
    assert "C50.9" in page and "乳腺恶性肿瘤" in page and "（已隐藏）" not in page
    assert "K35.8" in member.get(f"/mutualaid/claims/{fid}").get_data(as_text=True)
    api = ma.app.test_client()
    api.environ_base["HTTP_AUTHORIZATION"] = _bearer(api, ma.world.people["m1"].mobile)
    body = api.get(f"/api/v1/mutualaid/claims/{fid}").json
    assert body["diagnoses"] == ["K35.8"] and body["diagnosis_text"] is None
    body = api.get(f"/api/v1/mutualaid/claims/{cid}").json
    assert body["diagnoses"] == ["C50.9"] and body["diagnosis_text"] == "乳腺恶性肿瘤"


def test_bad_numbers_are_422_on_form_and_api(ma: MA) -> None:
    from unionhub import db
    from unionhub_mutualaid.models import MutualaidClaim

    with ma.app.app_context():
        cover(ma, "m1")
    client = _login_member(ma, "m1")
    for key, value, message in (("total_amount", "Infinity", "医疗费总额应为不小于 0 的金额"),
                                ("out_of_pocket", "sNaN", "个人自付金额应为不小于 0 的金额"),
                                ("total_amount", "1e30", "医疗费总额应为不小于 0 的金额"),
                                ("total_amount", "1e17", "医疗费总额不能超过 100,000,000 元"),
                                ("disability_grade", "²", "伤残等级应为 1 到 10 级")):
        r = _submit(client, {**ZYYL_FORM, key: value})
        assert r.status_code == 422, (key, value)
        assert message in r.get_data(as_text=True), (key, value)
    api = ma.app.test_client()
    api.environ_base["HTTP_AUTHORIZATION"] = _bearer(api, ma.world.people["m1"].mobile)
    body = {"program": "ZYYL", "event_date": "2026-03-01",
            "stays": [["2026-03-01", "2026-03-08"]], "total_amount": "20000.00",
            "out_of_pocket": "8000.00", "diagnoses": ["K35.8"]}
    for key, value in (("total_amount", "Infinity"), ("total_amount", "1e30"),
                       ("out_of_pocket", "sNaN"), ("already_reimbursed", "1e17"),
                       ("disability_grade", 10 ** 20)):
        r = api.post("/api/v1/mutualaid/claims", json={**body, key: value})
        assert r.status_code == 422, (key, value, r.json)
        assert key in r.json["error"]["fields"], (key, r.json)
    with ma.app.app_context():
        assert db.session().scalar(select(func.count()).select_from(MutualaidClaim)) == 0


def test_tables_label_every_cell(ma: MA) -> None:
    with ma.app.app_context():
        cover(ma, "m1")
    member, cid = _full_claim(ma)
    officer = _login_officer(ma, "chaoyang")
    reviewer = _login_officer(ma, "reviewer")
    pages = [member.get("/mutualaid/claims"), officer.get("/mutualaid/claims/office"),
             reviewer.get("/mutualaid/claims/review")]
    for r in pages:
        html = r.get_data(as_text=True)
        cells = re.findall(r"<td\b[^>]*>", html)
        assert cells and all('data-label="' in c for c in cells), cells
    # overdue list: make the claim due and check its table too
    from unionhub import db
    from unionhub.workdays.service import add_working_days
    from unionhub_mutualaid.claims import service
    from unionhub_mutualaid.models import MutualaidClaim

    with ma.app.app_context():
        s = db.session()
        service.set_complete(s.get(MutualaidClaim, cid), add_working_days(date.today(), -12))
        s.commit()
    html = officer.get("/mutualaid/claims/overdue").get_data(as_text=True)
    cells = re.findall(r"<td\b[^>]*>", html)
    assert cells and all('data-label="' in c for c in cells), cells


def test_review_queue_filters(ma: MA) -> None:
    from unionhub import db
    from unionhub_mutualaid.models import MutualaidClaim

    with ma.app.app_context():
        cover(ma, "m1")
        cover(ma, "m3")
        cover(ma, "m1", "ZDJB")
    a = _claim_id(_submit(_login_member(ma, "m1"), ZYYL_FORM))
    b = _claim_id(_submit(_login_member(ma, "m3"), ZYYL_FORM))
    c = _claim_id(_submit(_login_member(ma, "m1"), ZDJB_FORM))
    na, nb, nc = (_claim(ma, i).number for i in (a, b, c))
    m1, m3 = ma.world.people["m1"], ma.world.people["m3"]
    with ma.app.app_context():
        s = db.session()
        name1 = s.get(MutualaidClaim, a).member.name
        name3 = s.get(MutualaidClaim, b).member.name
    reviewer = _login_officer(ma, "reviewer")

    def shown(url: str) -> set[str]:
        r = reviewer.get(url)
        assert r.status_code == 200
        html = r.get_data(as_text=True)
        return {n for n in (na, nb, nc) if n in html}

    assert shown("/mutualaid/claims/review") == {na, nb, nc}
    assert shown(f"/mutualaid/claims/review?number={na}") == {na}
    assert shown(f"/mutualaid/claims/review?number={na.lower()}") == {na}
    assert shown(f"/mutualaid/claims/review?name={name3}") == {nb}
    assert shown(f"/mutualaid/claims/review?name={name1[0]}") >= {na, nc}
    assert nb not in shown(f"/mutualaid/claims/review?name={name1}")
    assert shown("/mutualaid/claims/review?program=ZDJB") == {nc}
    assert shown(f"/mutualaid/claims/review?program=ZYYL&name={name1}") == {na}
    assert shown("/mutualaid/claims/review?name=%25") == set()  # LIKE wildcards are literal
    # an ID or card number typed into a filter is refused, never echoed or applied
    for key, value in (("name", m1.id_number), ("number", m3.card_number)):
        r = reviewer.get(f"/mutualaid/claims/review?{key}={value}")
        html = r.get_data(as_text=True)
        assert value not in html.replace(f"{key}={value}", "")
        assert "不要输入证件号或卡号" in html or "理赔编号以 LP 开头" in html
    # the officers' search: status + filters, and the pager keeps the filters
    officer = _login_officer(ma, "chaoyang")
    html = officer.get(f"/mutualaid/claims/office?status=submitted&name={name1}").get_data(
        as_text=True)
    assert na in html and nc in html and nb not in html
    html = officer.get("/mutualaid/claims/office?status=paid").get_data(as_text=True)
    assert na not in html
    ma.app.config["PAGE_SIZE"] = 1
    try:
        html = reviewer.get(f"/mutualaid/claims/review?name={name1}").get_data(as_text=True)
        assert "page=2" in html and "name=" in html.split("page=2")[0].rsplit("href", 1)[-1]
        pages = [reviewer.get(f"/mutualaid/claims/review?name={name1}&page={p}").get_data(
            as_text=True) for p in (1, 2)]
        assert [{n for n in (na, nc) if n in p} for p in pages] == [{na}, {nc}]
    finally:
        ma.app.config["PAGE_SIZE"] = 20


def test_file_sizes_are_readable(ma: MA) -> None:
    from unionhub_mutualaid.claims.views import size_text

    assert size_text(0) == "0 B" and size_text(80) == "80 B" and size_text(1023) == "1023 B"
    assert size_text(1024) == "1.0 KB" and size_text(1536) == "1.5 KB"
    assert size_text(1024 * 1024 - 1) == "1024.0 KB"
    assert size_text(1024 * 1024) == "1.0 MB" and size_text(5 * 1024 * 1024) == "5.0 MB"
    with ma.app.app_context():
        cover(ma, "m1")
    member, cid = _full_claim(ma)
    html = member.get(f"/mutualaid/claims/{cid}").get_data(as_text=True)
    assert f"{len(PNG)} B" in html and f"{len(PDF)} B" in html and "0 KB" not in html
