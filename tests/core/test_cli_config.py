"""The command line and configuration layering."""

from __future__ import annotations

import os
import stat

from sqlalchemy import func, select

from tests.helpers import cli, login
from unionhub import db
from unionhub.config import load_config
from unionhub.identity.models import CardStatus, JingkaCard, Member


def test_secrets_generated_once_into_instance(tmp_path, monkeypatch):
    for k in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "FIELD_HASH_KEY"):
        monkeypatch.delenv(f"UNIONHUB_{k}", raising=False)
    a = load_config({"INSTANCE_PATH": str(tmp_path)})
    b = load_config({"INSTANCE_PATH": str(tmp_path)})
    secrets_file = tmp_path / "secrets.toml"
    assert secrets_file.exists()
    assert stat.S_IMODE(os.stat(secrets_file).st_mode) == 0o600
    assert a["FIELD_ENCRYPTION_KEY"] == b["FIELD_ENCRYPTION_KEY"]
    assert a["FIELD_ENCRYPTION_KEY"] != a["FIELD_HASH_KEY"]
    assert a["DATABASE_URL"] == f"sqlite:///{tmp_path / 'unionhub.db'}"


def test_config_layers_defaults_file_env_overrides(tmp_path, monkeypatch):
    (tmp_path / "unionhub.toml").write_text('page_size = 50\nport = 8000\n')
    monkeypatch.setenv("UNIONHUB_PORT", "9000")
    monkeypatch.setenv("UNIONHUB_SESSION_COOKIE_SECURE", "true")
    cfg = load_config({"INSTANCE_PATH": str(tmp_path), "LOGIN_MAX_FAILURES": 3})
    assert cfg["PAGE_SIZE"] == 50  # file over default
    assert cfg["PORT"] == 9000  # environment over file
    assert cfg["SESSION_COOKIE_SECURE"] is True
    assert cfg["LOGIN_MAX_FAILURES"] == 3  # explicit over all


def test_create_admin(make_app, world):
    app = make_app()
    r = cli(app, "create-admin", "--username", "root2", "--password", "Adm1n-pass")
    assert r.exit_code == 0, r.output
    assert login(app.test_client(), "root2", "Adm1n-pass").status_code == 302
    weak = cli(app, "create-admin", "--username", "root3", "--password", "short")
    assert weak.exit_code != 0
    dup = cli(app, "create-admin", "--username", "root2", "--password", "Adm1n-pass")
    assert dup.exit_code != 0 and "已存在" in dup.output


def test_create_admin_needs_an_org(make_app):
    app = make_app()
    r = cli(app, "create-admin", "--username", "root", "--password", "Adm1n-pass")
    assert r.exit_code != 0 and "orgs import" in r.output


def test_demo_seeds_a_believable_system_once(make_app):
    make_app.set_plugin("sample", True)
    app = make_app()
    r = cli(app, "demo", "--members", "120")
    assert r.exit_code == 0, r.output
    assert "Union12351" in r.output and "admin" in r.output and "示例插件" in r.output
    with app.app_context():
        s = db.session()
        assert s.scalar(select(func.count()).select_from(Member)) == 120
        replaced = s.scalar(select(func.count()).select_from(JingkaCard).where(
            JingkaCard.status == CardStatus.REPLACED))
        assert replaced >= 1
    # a printed member card number signs in
    card = next(line.split("京卡 ")[1].split()[0] for line in r.output.splitlines()
                if "京卡 " in line)
    assert login(app.test_client(), card, "Union12351").status_code == 302
    assert login(app.test_client(), "chaoyang", "Union12351").status_code == 302
    again = cli(app, "demo")
    assert again.exit_code != 0
    skip = cli(app, "demo", "--if-empty")
    assert skip.exit_code == 0 and "跳过" in skip.output


def test_db_status_and_upgrade_are_idempotent(make_app):
    app = make_app()
    r = cli(app, "db", "upgrade")
    assert r.exit_code == 0 and "core" in r.output and "sample" in r.output
    status = cli(app, "db", "status")
    assert status.exit_code == 0 and "needs upgrade" not in status.output
