"""Reading the officers' museum forms: every bad field gets its own message (see
:class:`unionhub.web.fields.FieldReader`); rich text is sanitised with the article policy
before it is stored."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy.orm import Session

from unionhub.i18n import _
from unionhub.web.fields import FieldReader
from unionhub.web.richtext import ARTICLE, clean_typed

from . import dc
from .service import KINDS, RESERVED_SLUGS, SLUG_RE, MuseumError, free_slug

RICH_MAX = 50_000


class MuseumForm(FieldReader):
    error = MuseumError

    def text(self, key: str, label: str, max_len: int, required: bool = False) -> str | None:
        value = self.raw(key)
        if "\x00" in value:
            self.fail(key, _("%(field)s不能包含空字符", field=_(label)))
            return None
        if not value:
            if required:
                self.fail(key, _("请填写%(field)s", field=_(label)))
            return None
        if len(value) > max_len:
            self.fail(key, _("%(field)s不能超过 %(n)s 个字（现有 %(len)s 个字）",
                             field=_(label), n=max_len, len=len(value)))
            return None
        return value

    def rich(self, key: str, label: str, required: bool = False) -> str:
        value = self.text(key, label, RICH_MAX, required)
        return clean_typed(value, ARTICLE) if value else ""

    def number(self, key: str, label: str, default: int = 0) -> int:
        value = self.raw(key)
        if not value:
            return default
        try:
            number = int(value)
        except ValueError:
            self.fail(key, _("%(field)s必须是整数", field=_(label)))
            return default
        if not -1_000_000 <= number <= 1_000_000:
            self.fail(key, _("%(field)s超出范围", field=_(label)))
            return default
        return number

    def pick(self, key: str, label: str, allowed: Collection[int]) -> int | None:
        value = self.raw(key)
        if not value.isdigit() or len(value) > 9 or int(value) not in allowed:
            self.fail(key, _("请选择%(field)s", field=_(label)))
            return None
        return int(value)


def exhibition_data(session: Session, form: Mapping[str, Any], owners: Collection[int],
                    exhibition_id: int | None = None) -> dict[str, Any]:
    """Checked exhibition fields (``slug`` "" when left blank: one is made up)."""
    r = MuseumForm(form)
    title = r.text("title", "展览名称", 200, required=True)
    subtitle = r.text("subtitle", "副标题", 200)
    slug = r.raw("slug").lower()
    if slug:
        if not SLUG_RE.match(slug):
            r.fail("slug", _("网址名称只能用小写字母、数字和“-”，以字母或数字开头和结尾，"
                             "最多 60 个字符"))
        elif slug in RESERVED_SLUGS or slug.isdigit():
            r.fail("slug", _("网址名称“%(slug)s”已被系统使用，请换一个", slug=slug))
        elif not free_slug(session, slug, exhibition_id):
            r.fail("slug", _("网址名称“%(slug)s”已被其他展览使用", slug=slug))
    intro = r.rich("intro", "展览简介")
    owner = r.pick("owner_org_id", "主办工会", owners)
    sort = r.number("sort", "排序")
    r.done()
    return {"title": title, "subtitle": subtitle, "slug": slug, "intro_html": intro,
            "owner_org_id": owner, "sort": sort}


def section_data(form: Mapping[str, Any]) -> dict[str, Any]:
    r = MuseumForm(form)
    title = r.text("title", "单元名称", 200, required=True)
    intro = r.rich("intro", "单元简介")
    r.done()
    return {"title": title, "intro_html": intro}


def item_data(form: Mapping[str, Any], *, kind: str | None, sections: Collection[int],
              has_file: bool) -> dict[str, Any]:
    """Checked item fields. ``kind`` None: a new item, whose kind is read from the form
    (``image``/``video``/``audio`` need a file, ``text`` a body)."""
    r = MuseumForm(form)
    out: dict[str, Any] = {}
    if kind is None:
        chosen = r.raw("kind")
        if chosen not in KINDS:
            r.fail("kind", _("请选择展品类型"))
        else:
            out["kind"] = kind = chosen
            if kind != "text" and not has_file:
                r.fail("file", _("请选择要上传的文件"))
    elif kind == "text" and has_file:
        r.fail("file", _("文字展品不能上传文件"))
    out["title"] = r.text("title", "展品名称", 200, required=True)
    out["body_html"] = r.rich("body", "正文" if kind == "text" else "说明文字",
                              required=kind == "text")
    if "section_id" in form:
        out["section_id"] = r.pick("section_id", "所属单元", sections)
    values: dict[str, str] = {}
    for key, (label, max_len) in dc.ELEMENTS.items():
        value = r.text(f"dc_{key}", label, max_len)
        if value:
            values[key] = value
    out["dc"] = values
    r.done()
    return out
