"""Every Chinese text the document pages show has its English in ``i18n/documents.json``: the
literals in ``_()`` calls of the documents' templates and modules, and the labels passed as
data (tabs, states, types, markings, the menu item, the search tab, the notification type)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import unionhub_oa

PACKAGE = Path(unionhub_oa.__file__).resolve().parent
CJK = re.compile(r"[\u3400-\u9fff]")
LITERAL_CALL = re.compile(r"""(?<![\w.])_\(\s*(?P<q>['"])(?P<msg>.*?)(?<!\\)(?P=q)\s*[,)]""",
                          re.S)


def _catalog() -> dict[str, str]:
    return json.loads((PACKAGE / "i18n" / "documents.json").read_text(encoding="utf-8"))


def _python_literals() -> set[str]:
    found: set[str] = set()
    for path in (PACKAGE / "documents").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "_" and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                found.add(node.args[0].value)
    return found


def _template_literals() -> set[str]:
    found: set[str] = set()
    for path in (PACKAGE / "templates" / "oa" / "documents").rglob("*.html"):
        found.update(m.group("msg") for m in LITERAL_CALL.finditer(
            path.read_text(encoding="utf-8")))
    return found


def test_every_document_text_has_its_english() -> None:
    from unionhub_oa.documents import FEATURE, models, views
    from unionhub_oa.documents.notices import TYPES
    from unionhub_oa.documents.search import indexers

    wanted = {m for m in _python_literals() | _template_literals() if CJK.search(m)}
    wanted |= {label for _key, label in views.TABS} | set(views.EMPTY.values())
    wanted |= set(models.STATE_LABELS.values()) | {t.label for t in models.DOC_TYPES.values()}
    wanted |= set(models.URGENCY_LABELS.values()) | set(models.SECRECY_LABELS.values())
    wanted |= {item.label for item in FEATURE.nav} | {i.label for i in indexers()}
    wanted |= {t.label for t in TYPES} | {t.description for t in TYPES}
    catalog = _catalog()
    assert len(wanted) > 80
    assert sorted(wanted - set(catalog)) == []
    for chinese, english in catalog.items():
        assert english and not re.search(r'[<>&"]', english), chinese
        assert sorted(re.findall(r"%\(\w+\)s", chinese)) == \
            sorted(re.findall(r"%\(\w+\)s", english)), chinese
