"""The plugin system, proven with the sample plugin installed from tests/sample_plugin."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import inspect, select

from tests.helpers import cli, login, post_form
from unionhub import db
from unionhub.contrib import Manifest
from unionhub.plugins import discovery
from unionhub.plugins.discovery import Discovered, PluginError, load_order
from unionhub.plugins.models import PluginRecord


def test_sample_is_discovered_through_its_entry_point_and_starts_disabled(app):
    ext = app.extensions["unionhub"]
    assert "sample" in ext.installed
    item = ext.installed["sample"]
    assert item.ok and item.version == "1.2.0" and item.distribution == "unionhub-sample"
    assert ext.loaded == []
    with app.app_context():
        rec = db.session().get(PluginRecord, "sample")
        assert rec is not None and rec.enabled is False


def _enabled_app(make_app):
    make_app()
    make_app.set_plugin("sample", True)
    return make_app()  # restart


def test_enabled_plugin_contributes_everything(make_app, world):
    app = _enabled_app(make_app)
    ext = app.extensions["unionhub"]
    assert ext.loaded == ["sample"]
    reg = ext.registries
    # permission namespaced, role extended and a new role declared
    assert "sample.notes.write" in reg.permissions
    assert "sample.notes.write" in reg.roles["member"].permissions
    assert reg.roles["sample_editor"].declared_by == "sample"
    assert "sample.greeting" in reg.settings
    assert [g.name for _p, g in reg.cli] == ["sample"]
    assert any(p == "sample" for p, _s in reg.seeders)
    assert "sample.page.footer" in reg.slots
    assert "sample_note" in {m.__tablename__ for m in reg.models["sample"]}
    # configure hook ran against this app
    assert app.jinja_env.filters["sample_shout"]("x") == "x!"

    client = app.test_client()
    login(client, world.people["m1"].card_number)
    home = client.get("/").get_data(as_text=True)
    assert 'id="sample-teaser"' in home  # slot contribution
    assert "示例笔记" in home  # nav item
    page = client.get("/sample/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "你好!" in body and "footer-from-slot" in body
    me = client.get("/me").get_data(as_text=True)
    assert f"sample-panel:{world.people['m1'].account_id}" in me  # profile panel
    assert 'class="badge"' not in body  # no notes yet: no count next to the menu item
    r = post_form(client, "/sample/", {"text": "第一条"})
    assert r.status_code == 200 and "第一条" in r.get_data(as_text=True)
    assert re.search(r'示例笔记 <span class="badge"[^>]*>1</span>', r.get_data(as_text=True))
    assert client.get("/api/v1/sample/ping").get_json() == {"ok": True}

    officer = app.test_client()
    login(officer, "g1officer")
    assert "sample-widget" in officer.get("/office/").get_data(as_text=True)


def test_disabled_plugin_contributes_nothing(make_app, world):
    app = make_app()
    reg = app.extensions["unionhub"].registries
    assert "sample.notes.write" not in reg.permissions
    assert "sample_editor" not in reg.roles
    assert not any(k.startswith("sample.") for k in reg.settings)
    assert reg.cli == [] and reg.seeders == []
    assert "sample.page.footer" not in reg.slots
    client = app.test_client()
    login(client, world.people["m1"].card_number)
    assert client.get("/sample/").status_code == 404
    assert client.get("/api/v1/sample/ping").status_code == 404
    home = client.get("/").get_data(as_text=True)
    assert "sample-teaser" not in home and "示例笔记" not in home
    assert "sample-panel" not in client.get("/me").get_data(as_text=True)
    result = cli(app, "sample", "count")
    assert result.exit_code != 0


def test_disabling_at_run_time_refuses_requests_before_restart(make_app, world):
    app = _enabled_app(make_app)
    client = app.test_client()
    login(client, world.people["m1"].card_number)
    assert client.get("/sample/").status_code == 200
    make_app.set_plugin("sample", False)
    assert client.get("/sample/").status_code == 404
    assert "sample-teaser" not in client.get("/").get_data(as_text=True)
    # and after a restart it is gone entirely; its data is untouched
    app2 = make_app()
    assert app2.extensions["unionhub"].loaded == []
    with app2.app_context():
        assert inspect(db.get_db().engine).has_table("sample_note")


def test_admin_page_enables_and_says_restart(make_app, world):
    app = make_app()
    client = app.test_client()
    login(client, "admin")
    r = post_form(client, "/admin/plugins/sample/enable", {}, form_url="/admin/plugins",
                  follow_redirects=True)
    body = r.get_data(as_text=True)
    assert "重启" in body
    with app.app_context():
        assert db.session().get(PluginRecord, "sample").enabled is True
    # an officer without core.plugins.manage cannot
    other = app.test_client()
    login(other, "chaoyang")
    assert other.get("/admin/plugins").status_code == 403


def test_plugin_cli_command_available_when_enabled(make_app, world):
    app = _enabled_app(make_app)
    result = cli(app, "sample", "count")
    assert result.exit_code == 0, result.output
    assert "notes: 0" in result.output


def _fake(name: str, **kw) -> Discovered:
    return Discovered(name, "1.0", f"unionhub-{name}", module=object(),  # type: ignore[arg-type]
                      manifest=Manifest(name=name, title=name, **kw))


def test_load_order_follows_depends_and_uses():
    items = {
        "mall": _fake("mall", depends=("core_x",), uses=("portal",)),
        "core_x": _fake("core_x"),
        "portal": _fake("portal", uses=("library",)),
        "library": _fake("library"),
    }
    order = load_order(items, items)
    assert order.index("core_x") < order.index("mall")
    assert order.index("portal") < order.index("mall")
    assert order.index("library") < order.index("portal")


def test_missing_or_disabled_dependency_stops_startup_naming_the_plugin():
    mall = _fake("mall", depends=("portal",))
    with pytest.raises(PluginError, match=r"mall.*portal"):
        load_order({"mall": mall}, {"mall": mall})
    portal = _fake("portal")
    with pytest.raises(PluginError, match="未启用"):
        load_order({"mall": mall}, {"mall": mall, "portal": portal})


def test_incompatible_core_version_stops_startup():
    old = _fake("old", requires_core=">=2.0")
    with pytest.raises(PluginError, match="old"):
        load_order({"old": old}, {"old": old})


def test_dependency_cycle_is_reported():
    a, b = _fake("aa", depends=("bb",)), _fake("bb", depends=("aa",))
    with pytest.raises(PluginError, match="成环"):
        load_order({"aa": a, "bb": b}, {"aa": a, "bb": b})


def test_enabling_requires_dependencies_and_disabling_respects_dependents(app, monkeypatch):
    from unionhub.plugins import state

    found = {"base": _fake("base"), "top": _fake("top", depends=("base",))}
    with app.app_context():
        s = db.session()
        with pytest.raises(PluginError, match="base"):
            state.set_enabled(s, found, "top", True)
        state.set_enabled(s, found, "base", True)
        state.set_enabled(s, found, "top", True)
        with pytest.raises(PluginError, match="top"):
            state.set_enabled(s, found, "base", False)


def test_broken_plugin_is_reported_not_skipped(monkeypatch):
    class EP:
        name = "broken"
        dist = type("D", (), {"version": "0.1", "name": "unionhub-broken"})()

        def load(self):
            raise ImportError("no module named unionhub_broken.views")

    monkeypatch.setattr(discovery, "entry_points", lambda group: [EP()])
    found = discovery.discover()
    assert not found["broken"].ok
    assert "ImportError" in (found["broken"].error or "")


def test_enabled_broken_plugin_stops_startup(make_app, monkeypatch):
    make_app()
    make_app.set_plugin("sample", True)

    def broken(group):
        class EP:
            name = "sample"
            dist = type("D", (), {"version": "1.2.0", "name": "unionhub-sample"})()

            def load(self):
                raise RuntimeError("boom")

        return [EP()]

    monkeypatch.setattr(discovery, "entry_points", broken)
    with pytest.raises(PluginError, match="sample"):
        make_app()


def test_uninstall_keeps_data_unless_purge(make_app, world):
    app = make_app()
    r = cli(app, "plugins", "uninstall", "sample")
    assert r.exit_code == 0, r.output
    assert "data kept" in r.output
    with app.app_context():
        assert db.session().get(PluginRecord, "sample") is None
        assert inspect(db.get_db().engine).has_table("sample_note")
    app2 = make_app()  # rediscovered on restart, disabled again
    r = cli(app2, "plugins", "uninstall", "sample", "--purge", "--yes")
    assert r.exit_code == 0, r.output
    assert "sample_note" in r.output  # says what it drops
    with app2.app_context():
        insp = inspect(db.get_db().engine)
        assert not insp.has_table("sample_note")
        assert not insp.has_table("alembic_version_sample")


def test_uninstall_refuses_an_enabled_plugin(make_app):
    make_app()
    make_app.set_plugin("sample", True)
    app = make_app()
    r = cli(app, "plugins", "uninstall", "sample")
    assert r.exit_code != 0 and "disable" in r.output


def test_cli_list_enable_disable(make_app):
    app = make_app()
    out = cli(app, "plugins", "list").output
    assert "sample" in out and "1.2.0" in out and "disabled" in out and "slot_contributions" in out
    assert cli(app, "plugins", "enable", "sample").exit_code == 0
    out = cli(app, "plugins", "list").output
    assert "enabled (restart to load)" in out
    assert cli(app, "plugins", "disable", "sample").exit_code == 0
    with app.app_context():
        actions = list(db.session().scalars(select(db_audit_action())))
    assert "plugin.enable" in actions and "plugin.disable" in actions
    bad = cli(app, "plugins", "enable", "nosuch")
    assert bad.exit_code != 0 and "nosuch" in bad.output


def db_audit_action():
    from unionhub.audit.models import AuditLog

    return AuditLog.action


def test_admin_page_uninstalls_and_purges_only_when_confirmed(make_app, world):
    app = make_app()
    c = app.test_client()
    login(c, "admin")
    r = post_form(c, "/admin/plugins/sample/uninstall", {"purge": "on", "confirm": "wrong"},
                  form_url="/admin/plugins", follow_redirects=True)
    assert "输入插件名" in r.get_data(as_text=True)
    with app.app_context():
        assert inspect(db.get_db().engine).has_table("sample_note")
        assert db.session().get(PluginRecord, "sample") is not None
    r = post_form(c, "/admin/plugins/sample/uninstall", {"purge": "on", "confirm": "sample"},
                  form_url="/admin/plugins", follow_redirects=True)
    assert "sample_note" in r.get_data(as_text=True)
    with app.app_context():
        assert not inspect(db.get_db().engine).has_table("sample_note")


def test_offer_providers_of_enabled_plugins_only(make_app):
    from unionhub.offers.service import categories, offers_for

    app = make_app()
    with app.test_request_context():
        assert offers_for(None) == [] and categories() == []
    make_app.set_plugin("sample", True)
    app = make_app()
    with app.test_request_context():
        assert [c.title for c in offers_for(None)] == ["示例优惠：公开"]
        assert categories() == [("sample", "示例")]
        assert offers_for(None, category="other") == []
        make_app.set_plugin("sample", False)
        app.extensions["unionhub"].state.invalidate()
        assert offers_for(None) == []


def test_nav_item_visible_callable_hides_it_per_request(app):
    from unionhub.contrib import NavItem
    from unionhub.web import nav_items

    shown = {"flag": False}
    reg = app.extensions["unionhub"].registries
    reg.nav["main"].append(("sample", NavItem("main", "merchant", "商户工作台", "auth.login",
                                              visible=lambda: shown["flag"])))
    with app.test_request_context():
        assert "merchant" not in [i.key for i in nav_items("main")]
        shown["flag"] = True
        assert "merchant" in [i.key for i in nav_items("main")]
