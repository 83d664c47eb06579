"""Critical-illness screening: flagging from settlement diagnoses, who sees the list, visits."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from tests.helpers import login, post_form
from tests.mutualaid.conftest import MA

_serial = itertools.count(1)
DISEASE_TEXT = ("乳腺癌", "恶性肿瘤", "C50", "乳腺恶性肿瘤")


def _settle(member_id: int | None, codes: str, on: date, *, hospital: str = "协和医院",
            names: str = "乳腺恶性肿瘤") -> int:
    from unionhub import db
    from unionhub_mutualaid.models import MutualaidSettlement

    s = db.session()
    n = next(_serial)
    row = MutualaidSettlement(
        serial=f"JS{n:08d}", member_id=member_id, id_hash=f"h{n}", name="某人",
        visit_type="inpatient", hospital=hospital, settled_on=on,
        quarter=f"{on.year}Q{(on.month - 1) // 3 + 1}", total=Decimal("1000.00"),
        pooled=Decimal("600.00"), self_pay_1=Decimal("400.00"), diagnosis_codes=codes,
        diagnosis_names=names)
    s.add(row)
    s.commit()
    return row.id


def _set_sex(member_id: int, sex: str) -> None:
    from unionhub import db
    from unionhub.identity.models import Member

    s = db.session()
    m = s.get(Member, member_id)
    assert m is not None
    m.sex = sex
    s.commit()


def _flags(member_id: int | None = None) -> dict[tuple[int, str], Any]:
    from unionhub import db
    from unionhub_mutualaid.screening.models import MutualaidScreeningFlag

    stmt = select(MutualaidScreeningFlag)
    if member_id is not None:
        stmt = stmt.where(MutualaidScreeningFlag.member_id == member_id)
    return {(f.member_id, f.disease_code): f for f in db.session().scalars(stmt)}


def _ids(ma: MA) -> tuple[int, int, int]:
    p = ma.world.people
    return p["m1"].member_id, p["m2"].member_id, p["m3"].member_id


def test_flags_catalogue_diseases_once_per_member_and_disease(ma: MA) -> None:
    from unionhub import db
    from unionhub_mutualaid.screening import service

    m1, m2, m3 = _ids(ma)
    with ma.app.app_context():
        _set_sex(m1, "F")
        _set_sex(m2, "M")
        _set_sex(m3, "M")
        first = _settle(m1, "I10;C50.9", date(2026, 3, 2), hospital="协和医院")
        excluded = _settle(m2, "C44.1", date(2026, 3, 2))  # skin cancer: excluded from "C"
        stranger = _settle(None, "C50.9", date(2026, 3, 2))  # not a member: set aside
        man = _settle(m3, "c50.9", date(2026, 3, 3))  # NGTJ is the women's program
        counts = service.flag(db.session(), settlement_ids=[first, excluded, stranger, man])
        db.session().commit()
        assert counts == {"records": 3, "matched": 2, "flagged": 3, "updated": 0}
        flags = _flags()
        assert set(flags) == {(m1, "breast_cancer"), (m1, "malignant_tumour"),
                              (m3, "malignant_tumour")}
        breast = flags[(m1, "breast_cancer")]
        assert breast.disease_name == "乳腺癌" and breast.catalogue_version == "NGTJ 2026.1"
        assert breast.diagnosis_code == "C50.9" and breast.status == "new"
        assert breast.first_settlement_id == first and breast.hospital == "协和医院"
        assert flags[(m1, "malignant_tumour")].catalogue_version == "ZDJB 2026.1"
        assert breast.org_path == ma.world.orgs["g1"].path

        # the same disease again, later: no second flag, last_seen moves on
        again = _settle(m1, "C50.1", date(2026, 6, 1), hospital="肿瘤医院")
        counts = service.flag(db.session(), settlement_ids=[again])
        db.session().commit()
        assert counts["flagged"] == 0 and counts["updated"] == 2
        flags = _flags(m1)
        assert len(flags) == 2
        breast = flags[(m1, "breast_cancer")]
        assert breast.last_seen == date(2026, 6, 1)
        assert breast.first_settled_on == date(2026, 3, 2) and breast.hospital == "协和医院"

        # a full rescan changes nothing
        assert service.flag(db.session())["flagged"] == 0
        db.session().commit()
        assert len(_flags()) == 3


def test_no_flag_without_a_covering_catalogue_plan(ma: MA) -> None:
    from unionhub import db
    from unionhub_mutualaid.screening import service

    m1, _m2, _m3 = _ids(ma)
    with ma.app.app_context():
        old = _settle(m1, "C50.9", date(2020, 5, 1))  # before any plan year
        none = _settle(m1, "", date(2026, 5, 1))
        counts = service.flag(db.session(), settlement_ids=[old, none])
        assert counts["flagged"] == 0 and _flags() == {}


def test_scan_job_rescans_since_a_date(ma: MA) -> None:
    from unionhub.jobs.context import JobContext
    from unionhub_mutualaid.screening import service

    m1, m2, _m3 = _ids(ma)
    with ma.app.app_context():
        _settle(m1, "I21.0", date(2026, 1, 10))
        _settle(m2, "N18.5", date(2026, 4, 10))
        ctx = JobContext(app=ma.app, job_id=0, kind="mutualaid.screening_scan",
                         params={"since": "2026-03-01"}, owner_id=None)
        result = service.scan_job(ctx)
        assert result["flagged"] == 1 and set(_flags()) == {(m2, "end_stage_renal")}
        ctx = JobContext(app=ma.app, job_id=0, kind="mutualaid.screening_scan", params={},
                         owner_id=None)
        assert service.scan_job(ctx)["flagged"] == 1
        assert set(_flags()) == {(m2, "end_stage_renal"), (m1, "myocardial_infarction")}
        assert "mutualaid.screening_scan" in ma.app.extensions["jobs"].specs


def _seed_three(ma: MA) -> dict[str, int]:
    """Breast cancer for m1 (g1), m2 (g2) and m3 (b1, under g1); returns flag ids by person."""
    from unionhub import db
    from unionhub_mutualaid.screening import service

    ids = dict(zip(("m1", "m2", "m3"), _ids(ma), strict=True))
    with ma.app.app_context():
        for mid in ids.values():
            _set_sex(mid, "F")
            _settle(mid, "C50.9", date(2026, 3, 2))
        service.flag(db.session())
        db.session().commit()
        flags = _flags()
        return {k: flags[(mid, "breast_cancer")].id for k, mid in ids.items()}


def test_grassroots_officer_sees_own_union_subtree_only(ma: MA) -> None:
    fid = _seed_three(ma)
    client = ma.app.test_client()
    login(client, "g1officer")
    html = client.get("/mutualaid/screening").get_data(as_text=True)
    assert "张伟" in html and "王芳" in html and "李娜" not in html
    assert "乳腺癌" in html
    assert client.get(f"/mutualaid/screening/{fid['m1']}").status_code == 200
    assert client.get(f"/mutualaid/screening/{fid['m3']}").status_code == 200
    assert client.get(f"/mutualaid/screening/{fid['m2']}").status_code == 404
    r = post_form(client, f"/mutualaid/screening/{fid['m2']}/visit",
                  {"visited_on": "2026-03-10", "aid_amount": "100"},
                  form_url=f"/mutualaid/screening/{fid['m1']}")
    assert r.status_code == 404
    # status filter
    html = client.get("/mutualaid/screening?status=visited").get_data(as_text=True)
    assert "张伟" not in html
    # the officer board widget: a count, no diagnosis
    home = client.get("/office/").get_data(as_text=True)
    assert "重疾筛查" in home and "<b>4</b><span>待走访</span>" in home  # 2 each for m1, m3
    assert not any(t in home for t in DISEASE_TEXT)


def test_a_transferred_member_leaves_the_old_unions_list(ma: MA) -> None:
    """Scope follows the member's current union, not the org copied onto the flag."""
    from unionhub import db
    from unionhub.identity.models import Member

    fid = _seed_three(ma)
    with ma.app.app_context():
        s = db.session()
        s.get(Member, ma.world.people["m1"].member_id).org_id = ma.world.org_id("g2")
        s.commit()
    client = ma.app.test_client()
    login(client, "g1officer")
    html = client.get("/mutualaid/screening").get_data(as_text=True)
    assert "张伟" not in html and "王芳" in html
    assert client.get(f"/mutualaid/screening/{fid['m1']}").status_code == 404


def test_an_absurd_aid_amount_is_refused_not_a_crash(ma: MA) -> None:
    fid = _seed_three(ma)
    client = ma.app.test_client()
    login(client, "g1officer")
    for amount in ("1e30", "Infinity", "sNaN"):
        r = post_form(client, f"/mutualaid/screening/{fid['m1']}/visit",
                      {"visited_on": "2026-03-10", "aid_amount": amount},
                      form_url=f"/mutualaid/screening/{fid['m1']}")
        assert r.status_code == 400, amount


def test_nobody_else_sees_diagnoses(ma: MA) -> None:
    fid = _seed_three(ma)
    for who in ("chaoyang", "city", "clerk", "reviewer", "admin", "haidian"):
        client = ma.app.test_client()
        login(client, who)
        assert client.get("/mutualaid/screening").status_code == 403, who
        assert client.get(f"/mutualaid/screening/{fid['m1']}").status_code == 403, who
        pages = [client.get(url) for url in ("/office/", "/mutualaid/plans", "/mutualaid/",
                                              "/")]
        for r in pages:
            text = r.get_data(as_text=True)
            assert not any(t in text for t in DISEASE_TEXT), (who, r.request.path)
            assert "/mutualaid/screening" not in text, (who, r.request.path)
    member = ma.app.test_client()
    login(member, ma.world.people["m1"].mobile)
    assert member.get("/mutualaid/screening").status_code == 403


def test_record_visit_with_aid_then_close(ma: MA) -> None:
    from unionhub import db
    from unionhub.audit.models import AuditLog
    from unionhub_mutualaid.screening.models import MutualaidScreeningFlag, MutualaidScreeningVisit

    fid = _seed_three(ma)["m1"]
    url = f"/mutualaid/screening/{fid}"
    client = ma.app.test_client()
    login(client, "g1officer")

    def visits() -> int:
        with ma.app.app_context():
            return db.session().scalar(select(func.count()).select_from(
                MutualaidScreeningVisit)) or 0

    for bad, message in (("-5", "慰问金额不能为负数"), ("abc", "不是有效的金额"),
                         ("1.234", "最多两位小数"), ("9999999", "不能超过")):
        r = post_form(client, url + "/visit",
                      {"visited_on": "2026-03-10", "aid_amount": bad, "note": "x"},
                      form_url=url)
        assert r.status_code == 400 and message in r.get_data(as_text=True), bad
    r = post_form(client, url + "/visit", {"visited_on": "2999-01-01", "aid_amount": "1"},
                  form_url=url)
    assert r.status_code == 400 and "晚于今天" in r.get_data(as_text=True)
    assert visits() == 0
    with ma.app.app_context():
        assert db.session().get(MutualaidScreeningFlag, fid).status == "new"

    r = post_form(client, url + "/visit",
                  {"visited_on": "2026-03-10", "aid_amount": "2,000.50", "note": "已送慰问金"},
                  form_url=url)
    assert r.status_code == 302
    with ma.app.app_context():
        s = db.session()
        flag = s.get(MutualaidScreeningFlag, fid)
        assert flag.status == "visited"
        visit = s.scalars(select(MutualaidScreeningVisit)).one()
        assert visit.aid_amount == Decimal("2000.50") and visit.visitor == \
            ma.world.officers["g1officer"] and visit.visited_on == date(2026, 3, 10)
        entry = s.scalars(select(AuditLog).where(
            AuditLog.action == "mutualaid.screening.visit")).one()
        assert entry.details["aid_amount"] == "2000.50"
        assert entry.actor_id == ma.world.officers["g1officer"]
        assert not any(t in str(entry.details) for t in DISEASE_TEXT)
    html = client.get(url).get_data(as_text=True)
    assert "2000.50" in html and "已送慰问金" in html

    r = post_form(client, url + "/close", {}, form_url=url)
    assert r.status_code == 302
    with ma.app.app_context():
        assert db.session().get(MutualaidScreeningFlag, fid).status == "closed"
    # a closed flag takes no more visits (the form is gone; a replayed post is refused)
    token_page = f"/mutualaid/screening/{_seed_flag_id(ma, 'm3')}"
    r = post_form(client, url + "/visit", {"visited_on": "2026-03-11", "aid_amount": "1"},
                  form_url=token_page)
    assert r.status_code == 400 and "已关闭" in r.get_data(as_text=True)
    assert visits() == 1


def _seed_flag_id(ma: MA, person: str) -> int:
    with ma.app.app_context():
        flags = _flags(ma.world.people[person].member_id)
        return next(iter(flags.values())).id


def test_demo_flags_existing_records(ma: MA) -> None:
    from unionhub import db
    from unionhub_mutualaid.screening import FEATURE

    m1, _m2, _m3 = _ids(ma)
    with ma.app.app_context():
        _settle(m1, "G30.1", date(2026, 2, 1))
        assert FEATURE.demo is not None
        FEATURE.demo(db.session(), None)
        assert set(_flags()) == {(m1, "alzheimer")}
