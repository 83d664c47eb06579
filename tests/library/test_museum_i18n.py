"""Every Chinese text the museum shows has its English in ``i18n/museum.json``: the literals
in ``_()`` calls of its templates and modules, and the labels passed as data (Dublin Core
elements, item kinds, form field labels, the menu item and the search tab)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import unionhub_library

PACKAGE = Path(unionhub_library.__file__).resolve().parent
CJK = re.compile(r"[\u3400-\u9fff]")
LITERAL_CALL = re.compile(r"""(?<![\w.])_\(\s*(?P<q>['"])(?P<msg>.*?)(?<!\\)(?P=q)\s*[,)]""",
                          re.S)
#: FieldReader labels (``r.text("title", "展览名称", …)``) are translated with ``_(label)``.
READER_CALL = re.compile(r"""r\.(?:text|rich|number|pick)\(\s*"[^"]+",\s*"([^"]+)\"""")


def _catalog() -> dict[str, str]:
    return json.loads((PACKAGE / "i18n" / "museum.json").read_text(encoding="utf-8"))


def _python_literals() -> set[str]:
    found: set[str] = set()
    for path in (PACKAGE / "museum").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "_" and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                found.add(node.args[0].value)
        found.update(READER_CALL.findall(path.read_text(encoding="utf-8")))
    return found


def _template_literals() -> set[str]:
    found: set[str] = set()
    for path in (PACKAGE / "templates" / "library" / "museum").rglob("*.html"):
        found.update(m.group("msg") for m in LITERAL_CALL.finditer(
            path.read_text(encoding="utf-8")))
    return found


def test_every_museum_text_has_its_english() -> None:
    from unionhub_library.museum import FEATURE, dc, service
    from unionhub_library.museum.search import indexers

    wanted = {m for m in _python_literals() | _template_literals() if CJK.search(m)}
    wanted |= {label for label, _n in dc.ELEMENTS.values()}
    wanted |= set(service.KIND_LABELS.values())
    wanted |= {item.label for item in FEATURE.nav}
    wanted |= {i.label for i in indexers()}
    wanted |= {"正文", "说明文字"}  # the item form's body label, chosen by kind
    catalog = _catalog()
    assert len(wanted) > 100
    assert sorted(wanted - set(catalog)) == []
    for chinese, english in catalog.items():
        assert english and not re.search(r'[<>&"]', english), chinese
        assert sorted(re.findall(r"%\(\w+\)s", chinese)) == \
            sorted(re.findall(r"%\(\w+\)s", english)), chinese
