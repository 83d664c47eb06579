"""Audit log (append-only, filterable), settings (typed, editable), error pages."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError

from tests.helpers import login, post_form
from unionhub import db
from unionhub.audit.models import AuditLog
from unionhub.settings import service as settings


def test_audit_log_is_append_only_in_the_database(app, world):
    with app.app_context():
        s = db.session()
        assert s.scalar(select(AuditLog.id).limit(1)) is not None
        with pytest.raises(DatabaseError):
            s.execute(update(AuditLog).values(action="tampered"))
        s.rollback()
        with pytest.raises(DatabaseError):
            s.execute(delete(AuditLog))
        s.rollback()


def test_sign_ins_role_grants_and_card_changes_are_audited(app, world):
    c = app.test_client()
    login(c, "admin")
    login(app.test_client(), "admin", "wrong-password1")
    with app.app_context():
        actions = set(db.session().scalars(select(AuditLog.action)))
    assert {"auth.login", "auth.login_failed", "role.grant", "member.create",
            "org.create"} <= actions


def test_admin_filters_audit_log(app, world):
    c = app.test_client()
    login(c, "admin")
    body = c.get("/admin/audit?action=auth.").get_data(as_text=True)
    assert "auth.login" in body and "org.create" not in body
    body = c.get("/admin/audit?action=role.grant&actor=nobody").get_data(as_text=True)
    assert "没有记录" in body
    assert c.get("/admin/audit?since=2000-01-01&until=2999-12-31").status_code == 200
    assert "日期格式" in c.get("/admin/audit?since=yesterday").get_data(as_text=True)


def test_audit_entries_hold_no_clear_numbers(app, world):
    with app.app_context():
        rows = db.session().execute(text("SELECT details FROM audit_log")).all()
    dump = str(rows)
    for p in world.people.values():
        assert p.id_number not in dump and p.card_number not in dump


def test_officer_sees_audit_of_own_subtree_only(app, world):
    with app.app_context():
        from unionhub.access.models import RolePermission

        db.session().add(RolePermission(role="district_officer", permission="core.audit.view"))
        db.session().commit()
    c = app.test_client()
    login(c, "haidian")
    body = c.get("/admin/audit?action=member.create").get_data(as_text=True)
    assert body.count("mono\">member.create<") == 1  # only 李娜 in 海淀


def test_settings_typed_defaults_env_and_admin_form(app, world, monkeypatch):
    with app.app_context():
        assert settings.get("core.hotline") == "12351"
    c = app.test_client()
    login(c, "admin")
    page = c.get("/admin/settings").get_data(as_text=True)
    assert "core.jingka_bins" in page
    r = post_form(c, "/admin/settings", {"core.hotline": "010-12351",
                                         "core.site_name": "北京数字工会",
                                         "core.jingka_bins": "621468,623111"})
    assert r.status_code == 302
    with app.app_context():
        assert settings.get("core.hotline") == "010-12351"


def test_invalid_setting_saves_nothing(make_app, world):
    make_app.set_plugin("sample", True)
    app = make_app()
    c = app.test_client()
    login(c, "admin")
    r = post_form(c, "/admin/settings", {"core.hotline": "99999", "sample.max_notes": "many",
                                         "sample.greeting": "hi", "core.site_name": "x",
                                         "core.jingka_bins": ""})
    assert r.status_code == 200 and "不是有效的int值" in r.get_data(as_text=True)
    with app.app_context():
        assert settings.get("core.hotline") == "12351"
        assert settings.get("sample.max_notes") == 10


def test_setting_from_environment(make_app, monkeypatch):
    make_app.set_plugin("sample", True)
    app = make_app()
    monkeypatch.setenv("UNIONHUB_SAMPLE_MAX_NOTES", "3")
    with app.app_context():
        assert settings.get("sample.max_notes") == 3


def test_friendly_error_pages(app, world):
    c = app.test_client()
    r = c.get("/no/such/page")
    assert r.status_code == 404 and "页面不存在" in r.get_data(as_text=True)
    r = c.get("/api/v1/nothing")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    login(c, world.people["m1"].card_number)
    r = c.get("/admin/")
    assert r.status_code == 403 and "没有权限" in r.get_data(as_text=True)


def test_server_error_page(app, world):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/boom")
    def boom():
        raise RuntimeError("boom")

    r = app.test_client().get("/boom")
    assert r.status_code == 500 and "服务器出错" in r.get_data(as_text=True)


def test_per_org_setting_nearest_ancestor_wins(make_app, world):
    make_app.set_plugin("sample", True)
    app = make_app()
    c = app.test_client()
    login(c, "admin")
    for org, value in (("d1", "5"), ("g1", "2")):
        r = post_form(c, "/admin/settings/org", {"key": "sample.max_notes", "value": value,
                                                 "org_id": world.org_id(org)},
                      form_url="/admin/settings")
        assert r.status_code == 302
    with app.app_context():
        assert settings.get("sample.max_notes", world.org_id("b1")) == 2  # via g1
        assert settings.get("sample.max_notes", world.org_id("g1")) == 2
        assert settings.get("sample.max_notes", world.org_id("d1")) == 5
        assert settings.get("sample.max_notes", world.org_id("g2")) == 10  # default
        assert settings.get("sample.max_notes") == 10
        with pytest.raises(settings.SettingError):
            settings.put("core.hotline", "1", org_id=world.org_id("g1"))
    page = c.get("/admin/settings").get_data(as_text=True)
    assert "电控工会" in page and "按组织设置" in page
    r = post_form(c, "/admin/settings/org", {"key": "sample.max_notes", "clear": "1",
                                             "org_id": world.org_id("g1")},
                  form_url="/admin/settings")
    with app.app_context():
        assert settings.get("sample.max_notes", world.org_id("b1")) == 5
    bad = post_form(c, "/admin/settings/org", {"key": "sample.max_notes", "value": "many",
                                               "org_id": world.org_id("g1")},
                    form_url="/admin/settings", follow_redirects=True)
    assert "不是有效的int值" in bad.get_data(as_text=True)
    # the member's limit follows their org: 张伟 (g1 → d1: 5 notes)
    m = app.test_client()
    login(m, world.people["m1"].card_number)
    for i in range(5):
        assert post_form(m, "/sample/", {"text": f"n{i}"}).status_code == 200
    assert post_form(m, "/sample/", {"text": "too many"}).status_code == 429
