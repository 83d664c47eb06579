"""Atom/OPDS 1.2 documents built with lxml (every value escaped by the serializer; text
that XML 1.0 cannot carry — control characters from a stranger's EPUB — is dropped)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"
OPDS = "http://opds-spec.org/2010/catalog"
DC = "http://purl.org/dc/terms/"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
THR = "http://purl.org/syndication/thread/1.0"
NSMAP = {None: ATOM, "opds": OPDS, "dc": DC, "opensearch": OPENSEARCH, "thr": THR}

NAVIGATION = "application/atom+xml;profile=opds-catalog;kind=navigation"
ACQUISITION = "application/atom+xml;profile=opds-catalog;kind=acquisition"
ENTRY = "application/atom+xml;type=entry;profile=opds-catalog"
OPENSEARCH_TYPE = "application/opensearchdescription+xml"

REL_ACQUISITION = "http://opds-spec.org/acquisition"
REL_BORROW = "http://opds-spec.org/acquisition/borrow"
REL_IMAGE = "http://opds-spec.org/image"
REL_THUMBNAIL = "http://opds-spec.org/image/thumbnail"
REL_NEW = "http://opds-spec.org/sort/new"
REL_POPULAR = "http://opds-spec.org/sort/popular"
REL_SHELF = "http://opds-spec.org/shelf"

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: Any) -> str:
    """``value`` as text XML 1.0 can hold."""
    return _NOT_XML.sub("", str(value))


def timestamp(when: datetime | None) -> str:
    """RFC 3339 in UTC (``2024-05-01T08:00:00Z``)."""
    when = (when or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def sub(parent: etree._Element, ns: str, tag: str, text: Any = None,
        **attrs: Any) -> etree._Element:
    """Append ``<ns:tag attrs>text</ns:tag>``; attributes whose value is None are left out."""
    el = etree.SubElement(parent, q(ns, tag))
    for key, value in attrs.items():
        if value is not None:
            el.set(q(THR, "count") if key == "thr_count" else key, xml_text(value))
    if text is not None:
        el.text = xml_text(text)
    return el


def link(parent: etree._Element, rel: str, href: str, type_: str | None = None,
         **attrs: Any) -> etree._Element:
    return sub(parent, ATOM, "link", rel=rel, href=href, type=type_, **attrs)


class Feed:
    """One Atom feed document (a navigation or an acquisition feed)."""

    def __init__(self, *, id_: str, title: str, kind: str, updated: datetime | None = None,
                 author: str = "", author_uri: str | None = None) -> None:
        self.kind = kind
        self.root = etree.Element(q(ATOM, "feed"), nsmap=NSMAP)
        sub(self.root, ATOM, "id", id_)
        sub(self.root, ATOM, "title", title)
        sub(self.root, ATOM, "updated", timestamp(updated))
        if author:
            who = sub(self.root, ATOM, "author")
            sub(who, ATOM, "name", author)
            if author_uri:
                sub(who, ATOM, "uri", author_uri)

    def link(self, rel: str, href: str, type_: str | None = None,
             **attrs: Any) -> etree._Element:
        return link(self.root, rel, href, type_, **attrs)

    def entry(self, *, id_: str, title: str, updated: datetime | None) -> etree._Element:
        return entry_head(sub(self.root, ATOM, "entry"), id_=id_, title=title,
                          updated=updated)

    def to_bytes(self) -> bytes:
        return serialize(self.root)


def entry_head(el: etree._Element, *, id_: str, title: str,
               updated: datetime | None) -> etree._Element:
    """Give an ``<entry>`` its required title, id and updated."""
    sub(el, ATOM, "title", title)
    sub(el, ATOM, "id", id_)
    sub(el, ATOM, "updated", timestamp(updated))
    return el


def standalone_entry(*, id_: str, title: str, updated: datetime | None) -> etree._Element:
    """The root of a single-entry document (``ENTRY`` media type)."""
    return entry_head(etree.Element(q(ATOM, "entry"), nsmap=NSMAP), id_=id_, title=title,
                      updated=updated)


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
