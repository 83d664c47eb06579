"""Reading a book's fields — from the edit form, a spreadsheet row or a file's metadata —
into the model's values, every bad field with its own message (:class:`CatalogueError`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from unionhub.i18n import _
from unionhub.web.fields import FieldReader

from ..models import BookState, Licence
from .credits import Credit, parse_credits, split_tags
from .errors import CatalogueError
from .isbn import IsbnError, normalise_isbn

LICENCE_LABELS: Mapping[str, str] = {Licence.OPEN: "开放阅读", Licence.LENT: "借阅"}
STATE_LABELS: Mapping[str, str] = {BookState.ACTIVE: "在架", BookState.HIDDEN: "已下架"}
#: Field → label, for messages and for the bulk import's per-row report.
FIELD_LABELS: Mapping[str, str] = {
    "title": "书名", "subtitle": "副书名", "authors": "作者", "publisher": "出版社",
    "year": "出版年", "isbn": "ISBN", "language": "语种", "category_id": "分类",
    "tags": "标签", "summary": "简介", "licence": "授权方式", "copies": "复本数",
    "loan_days": "借期（天）", "file": "文件", "cover": "封面", "owner_org_id": "所属工会"}
BOOK_FIELDS = ("title", "subtitle", "authors", "publisher", "year", "isbn", "language",
               "category_id", "tags", "summary", "licence", "copies", "loan_days")

MAX_TITLE = 300
MAX_PUBLISHER = 200
MAX_AUTHOR = 120
MAX_AUTHORS = 20
MAX_TAGS_TEXT = 300
MAX_TAG = 30
MAX_SUMMARY = 5000
MAX_COPIES = 9999
MAX_LOAN_DAYS = 365
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BookFields(FieldReader):
    """Reads a book's fields (form text, spreadsheet text or typed values)."""

    error = CatalogueError

    def value(self, key: str) -> Any:
        return self.data.get(key)

    def text(self, key: str, max_len: int, *, required: bool = False) -> str | None:
        value = self.raw(key)
        label = _(FIELD_LABELS[key])
        if _CONTROL.search(value):
            self.fail(key, _("%(field)s含有不允许的控制字符", field=label))
            return None
        if not value:
            if required:
                self.fail(key, _("请填写%(field)s", field=label))
            return None
        if len(value) > max_len:
            self.fail(key, _("%(field)s不能超过 %(n)s 个字（现有 %(len)s 个字）",
                             field=label, n=max_len, len=len(value)))
            return None
        return value

    def integer(self, key: str, low: int, high: int) -> int | None:
        raw = self.value(key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        text = str(raw).strip()
        label = _(FIELD_LABELS[key])
        if isinstance(raw, bool) or not re.fullmatch(r"-?\d{1,9}", text):
            self.fail(key, _("%(field)s应为整数（现为「%(value)s」）", field=label,
                             value=text[:20]))
            return None
        number = int(text)
        if not low <= number <= high:
            self.fail(key, _("%(field)s应在 %(low)s 到 %(high)s 之间", field=label, low=low,
                             high=high))
            return None
        return number

    def credits(self) -> list[Credit]:
        value = self.value("authors")
        if isinstance(value, str) and _CONTROL.search(value):
            self.fail("authors", _("%(field)s含有不允许的控制字符", field=_("作者")))
            return []
        credits = parse_credits(value)
        if len(credits) > MAX_AUTHORS:
            self.fail("authors", _("作者最多 %(n)s 位", n=MAX_AUTHORS))
            return []
        for credit in credits:
            if len(credit.name) > MAX_AUTHOR:
                self.fail("authors", _("作者名「%(name)s…」超过 %(n)s 个字",
                                       name=credit.name[:20], n=MAX_AUTHOR))
                return []
        return credits

    def tags(self) -> str | None:
        tags = split_tags(self.value("tags"))
        for tag in tags:
            if len(tag) > MAX_TAG:
                self.fail("tags", _("标签「%(tag)s…」超过 %(n)s 个字", tag=tag[:10], n=MAX_TAG))
                return None
        text = ",".join(tags)
        if len(text) > MAX_TAGS_TEXT:
            self.fail("tags", _("标签合计不能超过 %(n)s 个字", n=MAX_TAGS_TEXT))
            return None
        return text or None

    def isbn(self) -> str | None:
        raw = self.raw("isbn")
        if not raw:
            return None
        try:
            return normalise_isbn(raw)
        except IsbnError as exc:
            self.fail("isbn", str(exc))
            return None

    def language(self) -> str:
        raw = self.raw("language")
        if not raw:
            return "zh"
        if not LANGUAGE.match(raw) or len(raw) > 16:
            self.fail("language", _("语种应为语言代码，如 zh、zh-CN、en（现为「%(value)s」）",
                                    value=raw[:20]))
            return "zh"
        return raw

    def licence(self) -> str:
        raw = self.raw("licence")
        by_label = {"开放": Licence.OPEN, "开放阅读": Licence.OPEN, "借阅": Licence.LENT}
        if not raw:
            return Licence.OPEN
        if raw in (Licence.OPEN, Licence.LENT):
            return raw
        if raw in by_label:
            return by_label[raw]
        self.fail("licence", _("授权方式应为“开放”或“借阅”（现为「%(value)s」）", value=raw[:20]))
        return Licence.OPEN


def read_book(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Check a book's fields; return the model's values (``authors`` as :class:`Credit`
    list). With ``partial``, only the keys present in ``data`` are read (and none is
    required). :class:`CatalogueError` names every bad field."""
    r = BookFields(data)
    present = set(data) if partial else set(BOOK_FIELDS)
    out: dict[str, Any] = {}
    if "title" in present:
        out["title"] = r.text("title", MAX_TITLE, required=True)
    if "subtitle" in present:
        out["subtitle"] = r.text("subtitle", MAX_TITLE)
    if "authors" in present:
        out["authors"] = r.credits()
    if "publisher" in present:
        out["publisher"] = r.text("publisher", MAX_PUBLISHER)
    if "year" in present:
        out["year"] = r.integer("year", 1000, date.today().year + 1)
    if "isbn" in present:
        out["isbn"] = r.isbn()
    if "language" in present:
        out["language"] = r.language()
    if "category_id" in present:
        out["category_id"] = r.integer("category_id", 1, 10**9)
        if out["category_id"] is None and "category_id" not in r.errors:
            r.fail("category_id", _("请选择分类"))
    if "tags" in present:
        out["tags"] = r.tags()
    if "summary" in present:
        summary = r.raw("summary").replace("\r\n", "\n")
        if len(summary) > MAX_SUMMARY:
            r.fail("summary", _("%(field)s不能超过 %(n)s 个字（现有 %(len)s 个字）",
                                field=_("简介"), n=MAX_SUMMARY, len=len(summary)))
        elif "\x00" in summary:
            r.fail("summary", _("%(field)s含有不允许的控制字符", field=_("简介")))
        out["summary"] = summary or None
    if "licence" in present:
        out["licence"] = r.licence()
    if "copies" in present:
        out["copies"] = r.integer("copies", 0, MAX_COPIES) or 0
    if "loan_days" in present:
        out["loan_days"] = r.integer("loan_days", 1, MAX_LOAN_DAYS) or 14
    r.done()
    if out.get("licence") == Licence.LENT and "copies" in out and out["copies"] < 1:
        raise CatalogueError({"copies": _("借阅图书的复本数至少为 1")})
    return out
