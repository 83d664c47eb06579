"""The English catalog: complete, covering every template string, and used by the app.

The compiled ``.mo`` is not in git (``*.mo`` is ignored); the setup step runs
``pybabel compile``. So that these tests also pass on a clean checkout, this module compiles
the English catalog itself when the ``.mo`` is missing or older than the ``.po``.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from wtforms.fields.core import UnboundField

import unionhub
from tests.helpers import login, post_form

PACKAGE = Path(unionhub.__file__).resolve().parent
TEMPLATES = PACKAGE / "templates"
TRANSLATIONS = PACKAGE / "translations"
EN_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
EN_MO = EN_PO.with_suffix(".mo")

#: ``_('…')`` / ``_("…")`` with a literal first argument (not ``x._(`` or ``foo_(``).
LITERAL_CALL = re.compile(r"""(?<![\w.])_\(\s*(?P<q>['"])(?P<msg>.*?)(?<!\\)(?P=q)\s*[,)]""",
                          re.S)
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def _read_catalog(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale="en")


def compile_if_stale(po: Path = EN_PO, mo: Path = EN_MO) -> None:
    """Write ``mo`` from ``po`` unless it is already newer (atomic, safe under xdist)."""
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        return
    catalog = _read_catalog(po)
    fd, tmp = tempfile.mkstemp(dir=mo.parent, prefix=".messages-", suffix=".mo")
    try:
        with os.fdopen(fd, "wb") as f:
            write_mo(f, catalog)
        os.replace(tmp, mo)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


compile_if_stale()
CATALOG = _read_catalog(EN_PO)
MSGIDS = {m.id for m in CATALOG if m.id}


#: The bundled plugins' templates share the core catalog (babel.cfg extracts plugins/** too).
PLUGIN_TEMPLATES = sorted(
    Path(__file__).resolve().parents[2].glob("plugins/*/unionhub_*/templates"))


def template_literals() -> dict[str, set[str]]:
    """Every literal passed to ``_()`` in the core's and the bundled plugins' templates, with
    the files using it."""
    found: dict[str, set[str]] = {}
    for root in (TEMPLATES, *PLUGIN_TEMPLATES):
        for path in sorted(root.rglob("*.html")):
            for m in LITERAL_CALL.finditer(path.read_text(encoding="utf-8")):
                msg = m.group("msg").replace("\\" + m.group("q"), m.group("q"))
                found.setdefault(msg, set()).add(str(path.relative_to(root)))
    return found


def english(client) -> None:
    r = client.get("/lang/en")
    assert r.status_code == 302
    assert "lang=en" in r.headers.get("Set-Cookie", "")


def cjk_outside(html: str, allowed: tuple[str, ...]) -> list[str]:
    """CJK text left in ``html`` once the ``allowed`` strings (data, not UI) are removed."""
    for text in allowed:
        html = html.replace(text, "")
    return sorted(set(CJK.findall(html)))


# -- the catalog -------------------------------------------------------------------------


def test_every_msgid_translated_and_none_fuzzy():
    assert not CATALOG.fuzzy, "the .po header is marked fuzzy"
    assert len(MSGIDS) > 100
    untranslated = [m.id for m in CATALOG if m.id and not (m.string or "").strip()]
    fuzzy = [m.id for m in CATALOG if m.id and m.fuzzy]
    assert not untranslated, f"untranslated msgids in {EN_PO.name}: {untranslated}"
    assert not fuzzy, f"fuzzy entries in {EN_PO.name}: {fuzzy}"


def test_translations_need_no_escaping():
    # Jinja's i18n extension marks translated strings safe under autoescape, and templates
    # put them inside double-quoted attributes (placeholder="{{ _('…') }}").
    unsafe = [(m.id, m.string) for m in CATALOG if m.id and re.search(r'[<>&"]', m.string)]
    assert not unsafe, f"msgstrs must not contain < > & or a double quote: {unsafe}"


def test_catalog_passes_babel_checks():
    problems = [(m.id, [str(e) for e in errs]) for m, errs in CATALOG.check() if errs]
    assert not problems


def test_template_strings_all_in_catalog():
    literals = template_literals()
    assert "登录" in literals and len(literals) > 80, "template scan found too little"
    missing = {msg: sorted(files) for msg, files in literals.items() if msg not in MSGIDS}
    assert not missing, (
        "template strings missing from the catalog; run pybabel extract/update (see "
        f"babel.cfg) and translate them: {missing}"
    )


def test_pot_matches_po():
    with (TRANSLATIONS / "messages.pot").open("rb") as f:
        pot_ids = {m.id for m in read_po(f) if m.id}
    assert pot_ids == MSGIDS, {"only in .pot": pot_ids - MSGIDS, "only in .po": MSGIDS - pot_ids}


def test_compiled_catalog_is_current():
    assert EN_MO.exists() and EN_MO.stat().st_mtime >= EN_PO.stat().st_mtime


# -- labels declared as data, translated with _(x.label) at render time ------------------


def _form_labels() -> set[str]:
    from flask_wtf import FlaskForm

    import unionhub.admin.views
    import unionhub.auth.views
    import unionhub.web.office  # noqa: F401  (imported for their form classes)

    labels: set[str] = set()
    todo = list(FlaskForm.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if not cls.__module__.startswith("unionhub."):
            continue
        for value in vars(cls).values():
            if isinstance(value, UnboundField):
                label = value.kwargs.get("label") or (value.args[0] if value.args else None)
                if isinstance(label, str) and label:
                    labels.add(label)
    return labels


def test_core_data_labels_in_catalog(app):
    from unionhub.identity.models import CARD_STATUS_LABELS, MEMBER_STATUS_LABELS
    from unionhub.orgs.models import LEVEL_LABELS
    from unionhub.plugins.registry import CORE

    reg = app.extensions["unionhub"].registries
    labels = {
        "nav": {i.label for items in reg.nav.values() for p, i in items if p == CORE},
        "permissions": {perm.label for p, perm in reg.permissions.values() if p == CORE},
        "roles": {r.label for r in reg.roles.values() if r.declared_by == CORE},
        "settings": {t for p, s in reg.settings.values() if p == CORE for t in (s.label, s.help)
                     if t},
        "statuses": {*MEMBER_STATUS_LABELS.values(), *CARD_STATUS_LABELS.values()},
        "levels": set(LEVEL_LABELS.values()),
        "form labels": _form_labels(),
    }
    assert all(labels.values()), labels
    missing = {kind: sorted(s - MSGIDS) for kind, s in labels.items() if s - MSGIDS}
    assert not missing, (
        f"add these to platform/unionhub/i18n_labels.py and update the catalogs: {missing}"
    )


def _plugin_labels(app: Any, plugin: str) -> dict[str, set[str]]:
    """Labels ``plugin`` registers: menus, permissions, roles, settings, notification types."""
    from unionhub.notify.registry import registry

    reg = app.extensions["unionhub"].registries
    return {
        "nav": {i.label for items in reg.nav.values() for p, i in items if p == plugin},
        "permissions": {perm.label for p, perm in reg.permissions.values() if p == plugin},
        "roles": {r.label for r in reg.roles.values() if r.declared_by == plugin},
        "settings": {t for p, s in reg.settings.values() if p == plugin
                     for t in (s.label, s.help) if t},
        "notification types": {t.label for p, t in registry(app).types.values() if p == plugin},
    }


def test_bundled_plugin_labels_in_catalog(ma):
    """Labels the mutual-aid plugin registers are translated like the core's."""
    labels = _plugin_labels(ma.app, "mutualaid")
    assert all(labels.values()), labels
    missing = {kind: sorted(s - MSGIDS) for kind, s in labels.items() if s - MSGIDS}
    assert not missing, f"add these to unionhub_mutualaid/i18n_labels.py: {missing}"


def test_mall_labels_in_catalog(mall):
    """Labels the welfare mall registers, its 16 category names and its search and offer
    tabs are translated like the core's."""
    from unionhub_benefits_mall.categories import CATEGORIES

    labels = _plugin_labels(mall.app, "benefits_mall")
    assert all(labels.values()), labels
    labels["categories"] = {name for _code, name, _icon in CATEGORIES}
    labels["search and offers"] = {"福利优惠", "京卡优惠"}
    missing = {kind: sorted(s - MSGIDS) for kind, s in labels.items() if s - MSGIDS}
    assert not missing, f"add these to unionhub_benefits_mall i18n JSON and merge: {missing}"


def test_library_labels_in_catalog(library):
    """Labels the library registers, the 22 top-level 中图法 classes its migration seeds and
    its search tabs are translated like the core's."""
    from sqlalchemy import select

    from unionhub_library.models import LibraryCategory

    labels = _plugin_labels(library.app, "library")
    assert all(labels.values()), labels
    with library.app.app_context():
        from unionhub import db

        labels["classes"] = set(db.session().scalars(select(LibraryCategory.name)))
    assert len(labels["classes"]) == 22
    labels["search"] = {"图书", "数字博物馆"}
    missing = {kind: sorted(s - MSGIDS) for kind, s in labels.items() if s - MSGIDS}
    assert not missing, f"add these to unionhub_library i18n JSON and merge: {missing}"


def test_oa_labels_in_catalog(oa):
    """Labels the OA plugin registers, and the states, modes and actions its pages show from
    data, are translated like the core's."""
    from unionhub_oa.workflow.definition import MODE_LABELS
    from unionhub_oa.workflow.models import ACTION_LABELS, REQUEST_STATE_LABELS, TASK_STATE_LABELS

    labels = _plugin_labels(oa.app, "oa")
    assert all(labels.values()), labels
    labels["states and actions"] = {*REQUEST_STATE_LABELS.values(), *TASK_STATE_LABELS.values(),
                                    *ACTION_LABELS.values(), *MODE_LABELS.values()}
    missing = {kind: sorted(s - MSGIDS) for kind, s in labels.items() if s - MSGIDS}
    assert not missing, f"add these to unionhub_oa i18n JSON and merge: {missing}"


# -- the running app ---------------------------------------------------------------------


def test_login_page_defaults_to_chinese(client, world):
    html = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "<h1>登录</h1>" in html
    assert "Sign in" not in html


def test_login_page_in_english(client, world):
    english(client)
    html = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "<h1>Sign in</h1>" in html
    assert "<title>Sign in · Digital Union</title>" in html
    assert "Jingka card number / mobile number / ID number" in html
    assert "登录" not in html
    # only the switch back to Chinese and the logo glyph stay in Chinese
    assert cjk_outside(html, ("中文", '<span class="logo">工</span>')) == []


@pytest.mark.parametrize("code", ["zh_Hans_CN", "xx"])
def test_switch_back_or_unknown_language(client, world, code):
    english(client)
    client.get(f"/lang/{code}")
    html = client.get("/auth/login").get_data(as_text=True)
    if code == "xx":  # unknown codes leave the cookie alone
        assert "<h1>Sign in</h1>" in html
    else:
        assert "<h1>登录</h1>" in html


def test_admin_pages_in_english(client, world):
    english(client)
    r = login(client, "admin")
    assert r.status_code == 302, r.get_data(as_text=True)

    html = client.get("/admin/plugins").get_data(as_text=True)
    for text in ("<h1>Plugins</h1>", "Implemented hooks", "Sign out", "Roles and access",
                 "Audit log", "Back office", "Workers' service hotline"):
        assert text in html, text
    for text in ("实现的钩子", "<th>插件</th>", "退出", "审计日志"):
        assert text not in html, text

    html = client.get("/admin/roles").get_data(as_text=True)
    for text in ("Platform administrator", "City federation officer", "Grant roles",
                 "Manage plugins", "Account (username, card number, mobile number or ID number)"):
        assert text in html, text
    for text in ("<b>平台管理员</b>", "管理插件", "授予角色"):
        assert text not in html, text

    html = client.get("/admin/orgs").get_data(as_text=True)
    for text in ("City federation", "Grassroots", "Agent office", "Parent organization"):
        assert text in html, text

    html = client.get("/admin/settings").get_data(as_text=True)
    assert "Jingka card issuer BINs (comma-separated)" in html
    assert "京卡发卡行" not in html


def test_flash_messages_follow_the_language(client, world):
    """Messages made in Python (flashes) are translated like the pages."""
    login(client, world.people["m1"].card_number)
    english(client)
    r = post_form(client, "/auth/logout", {}, form_url="/me", follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "You have been logged out" in html and "已退出登录" not in html


def test_portal_labels_in_catalog(portal):
    """Labels the portal registers, its seeded section names, its search tabs and its section
    kinds are translated like the core's."""
    from unionhub_portal.sections.catalog import SECTIONS

    labels = _plugin_labels(portal.app, "portal")
    assert all(labels.values()), labels
    labels["sections"] = {name for _code, name, *_rest in SECTIONS}
    labels["search"] = {"文章资讯"}
    missing = {kind: sorted(s - MSGIDS) for kind, s in labels.items() if s - MSGIDS}
    assert not missing, f"add these to unionhub_portal i18n JSON and merge: {missing}"
