"""Plan years in the database: seeding, versioned edits, the plans pages and the coverage page."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from tests.helpers import login, post_form
from tests.mutualaid.conftest import MA


def test_eight_programs_seeded_per_plan_year(ma: MA) -> None:
    from unionhub import db
    from unionhub_mutualaid import plans
    from unionhub_mutualaid.rules import PROGRAM_CODES

    with ma.app.app_context():
        s = db.session()
        got = {(p.program, p.plan_year) for p in plans.active_plans(s)}
        assert got == {(c, y) for c in PROGRAM_CODES for y in (2025, 2026)}
        assert plans.seed(s, (2026,)) == []  # seeding again adds nothing
        zyyl = plans.current(s, "ZYYL", 2026)
        assert zyyl is not None and plans.rules_of(zyyl).program == "ZYYL"
        assert plans.covering(s, "ZYYL", date(2026, 3, 1)).id == zyyl.id  # type: ignore[union-attr]


def _claim_on(plan_id: int, member_id: int) -> None:
    from unionhub import db
    from unionhub_mutualaid.models import MutualaidClaim

    s = db.session()
    s.add(MutualaidClaim(number="T-1", member_id=member_id, org_path="/", plan_id=plan_id,
                         program="ZYYL", plan_year=2026, event_date=date(2026, 3, 1),
                         submitted_on=date(2026, 3, 20)))
    s.commit()


def test_edit_in_place_without_claims_new_version_with_claims(ma: MA) -> None:
    from unionhub import db
    from unionhub_mutualaid import plans
    from unionhub_mutualaid.models import MutualaidPlan

    client = ma.app.test_client()
    login(client, "admin")
    with ma.app.app_context():
        plan = plans.current(db.session(), "ZYYL", 2026)
        assert plan is not None
        plan_id, data = plan.id, dict(plan.rules)
    data["claim_deadline_days"] = 200
    r = post_form(client, f"/mutualaid/plans/{plan_id}/edit",
                  {"rules": json.dumps(data, ensure_ascii=False)})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/plans/{plan_id}")
    with ma.app.app_context():
        assert db.session().get(MutualaidPlan, plan_id).rules["claim_deadline_days"] == 200
        _claim_on(plan_id, ma.world.people["m1"].member_id)
    data["claim_deadline_days"] = 365
    r = post_form(client, f"/mutualaid/plans/{plan_id}/edit",
                  {"rules": json.dumps(data, ensure_ascii=False)})
    assert r.status_code == 302
    with ma.app.app_context():
        s = db.session()
        old = s.get(MutualaidPlan, plan_id)
        assert old.status == "superseded" and old.rules["claim_deadline_days"] == 200
        new = plans.current(s, "ZYYL", 2026)
        assert new.id != plan_id and new.version == 2
        assert new.rules["claim_deadline_days"] == 365
        assert plans.rules_of(new).version == 2
        assert s.scalar(select(MutualaidPlan.id).where(MutualaidPlan.id == plan_id)) == plan_id


def test_invalid_rules_are_refused_with_the_field_named(ma: MA) -> None:
    from unionhub import db
    from unionhub_mutualaid import plans

    client = ma.app.test_client()
    login(client, "admin")
    with ma.app.app_context():
        plan = plans.current(db.session(), "ZYYL", 2026)
        plan_id, data = plan.id, dict(plan.rules)  # type: ignore[union-attr]
    data["benefits"] = [dict(data["benefits"][0], ratio="1.5")]
    r = post_form(client, f"/mutualaid/plans/{plan_id}/edit",
                  {"rules": json.dumps(data, ensure_ascii=False)})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "benefits[0].ratio" in html
    r = post_form(client, f"/mutualaid/plans/{plan_id}/edit", {"rules": "{oops"})
    assert "JSON 第 1 行" in r.get_data(as_text=True)


def test_plans_pages_need_the_permission(ma: MA) -> None:
    client = ma.app.test_client()
    login(client, ma.world.people["m1"].card_number)
    assert client.get("/mutualaid/plans").status_code == 403
    client = ma.app.test_client()
    login(client, "chaoyang")
    page = client.get("/mutualaid/plans").get_data(as_text=True)
    assert "住院医疗互助保障" in page and "二次报销" in page
    assert client.get("/mutualaid/plans/1/edit").status_code == 403


def test_member_sees_dues_funded_cover(ma: MA) -> None:
    client = ma.app.test_client()
    login(client, ma.world.people["m1"].card_number)
    html = client.get("/mutualaid/").get_data(as_text=True)
    assert "二次报销" in html and "会费保障" in html
    assert "住院医疗互助保障" not in html  # not enrolled in a voluntary program


def test_second_edit_of_a_superseded_version_is_refused(ma: MA) -> None:
    """Two officers editing the same plan year with claims: the second save is told, not
    turned into a second version 2 (or a 500)."""
    from sqlalchemy.orm import Session

    from unionhub import db
    from unionhub_mutualaid import plans
    from unionhub_mutualaid.models import MutualaidPlan
    from unionhub_mutualaid.rules import RulesError

    with ma.app.app_context():
        s = db.session()
        plan = plans.current(s, "ZYYL", 2026)
        assert plan is not None
        _claim_on(plan.id, ma.world.people["m1"].member_id)
        data = dict(plan.rules, claim_deadline_days=300)
        s.expunge(plan)  # the second officer's copy, loaded while the row was active
        s.commit()
        with Session(db.get_db().engine) as other:  # the first officer saves
            plans.update(other, other.get(MutualaidPlan, plan.id), data)
            other.commit()
        with pytest.raises(RulesError, match="刚被他人修改"):
            plans.update(s, s.merge(plan, load=False), data)
        s.rollback()
        versions = s.scalars(select(MutualaidPlan.version).where(
            MutualaidPlan.program == "ZYYL", MutualaidPlan.plan_year == 2026))
        assert sorted(versions) == [1, 2]


def test_member_page_leaves_out_empty_panels(ma: MA) -> None:
    client = ma.app.test_client()
    login(client, ma.world.people["m2"].card_number)
    html = client.get("/mutualaid/").get_data(as_text=True)
    assert "None" not in html


def test_messages_follow_the_language(ma: MA) -> None:
    """Flash messages made in Python are translated like the pages."""
    from unionhub import db
    from unionhub_mutualaid import plans

    client = ma.app.test_client()
    login(client, "admin")
    with ma.app.app_context():
        plan = plans.current(db.session(), "ZYYL", 2026)
        plan_id, data = plan.id, dict(plan.rules)  # type: ignore[union-attr]
    assert client.get("/lang/en").status_code == 302
    r = post_form(client, f"/mutualaid/plans/{plan_id}/edit",
                  {"rules": json.dumps(data, ensure_ascii=False)}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "Rules saved" in html and "规则已保存" not in html
