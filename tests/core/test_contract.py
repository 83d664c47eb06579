"""The plugin contract stays honest: every hook documented and tested, every slot declared,
migrations matching the models."""

from __future__ import annotations

import re
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from unionhub import db, hookspecs
from unionhub.core_hooks import CORE_SLOTS

ROOT = Path(__file__).resolve().parents[2]
HOOKS = sorted(n for n in dir(hookspecs) if n.startswith("unionhub_"))
SLOT_CALL = re.compile(r"""slot\(\s*["']([\w.]+)["']""")


def test_every_hook_is_documented_with_an_example():
    doc = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    missing = [h for h in HOOKS if f"### `{h}`" not in doc]
    assert not missing, f"hooks missing from docs/plugins.md: {missing}"
    sections = re.split(r"^### ", doc, flags=re.M)
    for h in HOOKS:
        section = next(s for s in sections if s.startswith(f"`{h}`"))
        assert "```python" in section, f"{h} has no example in docs/plugins.md"


def test_every_hook_has_a_test():
    sample = (ROOT / "tests" / "sample_plugin" / "unionhub_sample" / "plugin.py").read_text()
    untested = [h for h in HOOKS if f"def {h}(" not in sample]
    assert not untested, f"the sample plugin (exercised by tests) lacks: {untested}"


def test_every_hookspec_has_a_docstring():
    for h in HOOKS:
        assert (getattr(hookspecs, h).__doc__ or "").strip(), h


def _templates() -> list[Path]:
    return [*ROOT.glob("platform/unionhub/templates/**/*.html"),
            *ROOT.glob("plugins/*/unionhub_*/templates/**/*.html"),
            *ROOT.glob("tests/sample_plugin/unionhub_sample/templates/**/*.html")]


def test_every_slot_used_in_a_template_is_declared(make_app):
    # the bundled plugins declare the slots their own templates render
    for plugin in ("sample", "mutualaid", "benefits_mall", "portal", "library", "oa"):
        make_app.set_plugin(plugin, True)
    app = make_app()
    declared = set(app.extensions["unionhub"].registries.slots)
    used = {(p.name, name) for p in _templates() for name in SLOT_CALL.findall(p.read_text())}
    assert used, "no slot() calls found: the scan is broken"
    undeclared = sorted((f, n) for f, n in used if n not in declared)
    assert not undeclared, undeclared
    assert {s.name for s in CORE_SLOTS} <= declared


def test_undeclared_slot_raises(app):
    from unionhub.web import SlotError, render_slot

    with app.test_request_context("/"):
        try:
            render_slot("no.such.slot")
        except SlotError as exc:
            assert "no.such.slot" in str(exc)
        else:
            raise AssertionError("an undeclared slot rendered silently")


def test_migrations_match_the_models(make_app):
    from unionhub.plugins import discovery

    for name in discovery.discover():
        make_app.set_plugin(name, True)
    app = make_app()  # loads every installed plugin's models too
    from unionhub import models  # noqa: F401

    with app.app_context(), db.get_db().engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, db.Base.metadata)
    diff = [d for d in diff if not (isinstance(d, tuple) and d[0] == "remove_table"
                                    and str(d[1].name).startswith("alembic_version"))]
    assert diff == [], diff


def test_plugin_history_has_its_own_version_table(app):
    from sqlalchemy import inspect

    with app.app_context():
        tables = set(inspect(db.get_db().engine).get_table_names())
    assert {"alembic_version", "alembic_version_sample", "sample_note"} <= tables


def test_every_foreign_key_into_core_states_ondelete(make_app):
    make_app.set_plugin("sample", True)
    app = make_app()
    core_tables = {"org", "member", "jingka_card", "account", "role_grant", "setting"}
    for table in db.Base.metadata.tables.values():
        for fk in table.foreign_keys:
            if fk.column.table.name in core_tables:
                assert fk.ondelete, f"{table.name}.{fk.parent.name} has no ondelete"
    assert app


def test_no_platform_package_shadows_the_stdlib():
    assert not (ROOT / "platform" / "__init__.py").exists()
    import platform

    assert hasattr(platform, "python_version")
