"""PDF and TXT books, one page at a time.

A PDF page is sent as a PDF of its own (pypdf copies that one page into a new document), so
the reader never hands out the whole file; the copy leaves out the page's annotations and
actions (links, form fields and any script they carry). The page's text, as pypdf extracts
it, is offered next to it for screen readers and small screens.

A TXT book is decoded with the encoding found at ingest and cut with the catalogue's
:func:`~unionhub_library.catalogue.formats.txt_pages`, the same function that counted its
pages; the pages of the last few books read are kept in memory.
"""

from __future__ import annotations

import io
import logging
import threading
from collections import OrderedDict
from pathlib import Path

from unionhub.i18n import _

log = logging.getLogger(__name__)
TXT_CACHE_SIZE = 4
_txt_cache: OrderedDict[str, list[str]] = OrderedDict()
_txt_lock = threading.Lock()


class PageError(ValueError):
    """The page cannot be produced; ``str(error)`` says why (for the reader)."""


def _pdf_reader(path: Path) -> object:
    from pypdf import PdfReader

    return PdfReader(str(path), strict=False)


def pdf_page(path: Path, index: int) -> bytes:
    """Page ``index`` (0-based) of the PDF at ``path`` as a one-page PDF."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject

    try:
        reader = _pdf_reader(path)
        pages = reader.pages  # type: ignore[attr-defined]
        if not 0 <= index < len(pages):
            raise PageError(_("没有这一页"))
        page = pages[index]
        for key in ("/Annots", "/AA"):  # dropped before copying, so nothing they hold is
            if NameObject(key) in page:  # written either
                del page[NameObject(key)]
        writer = PdfWriter()
        writer.add_page(page)
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()
    except PageError:
        raise
    # pypdf raises many kinds of exception on a damaged file; all mean the same here.
    except Exception as exc:
        log.info("PDF page %s of %s failed: %s", index, path.name, exc)
        raise PageError(_("这一页无法显示（PDF 文件已损坏）")) from None


def pdf_text(path: Path, index: int) -> str:
    """The text of page ``index`` (empty for a scanned page without a text layer)."""
    try:
        pages = _pdf_reader(path).pages  # type: ignore[attr-defined]
        if not 0 <= index < len(pages):
            raise PageError(_("没有这一页"))
        return str(pages[index].extract_text() or "").strip()
    except PageError:
        raise
    except Exception as exc:
        log.info("PDF text of page %s of %s failed: %s", index, path.name, exc)
        return ""


def _txt_pages(path: Path, stored_name: str, encoding: str | None) -> list[str]:
    with _txt_lock:
        hit = _txt_cache.get(stored_name)
        if hit is not None:
            _txt_cache.move_to_end(stored_name)
            return hit
    from unionhub_library.catalogue.errors import IngestError
    from unionhub_library.catalogue.formats import decode_txt, txt_pages

    try:
        text, _enc = decode_txt(path.read_bytes(), encoding)
    except (OSError, IngestError) as exc:
        raise PageError(_("这本书无法打开：%(reason)s", reason=str(exc))) from None
    pages = txt_pages(text)
    with _txt_lock:
        _txt_cache[stored_name] = pages
        while len(_txt_cache) > TXT_CACHE_SIZE:
            _txt_cache.popitem(last=False)
    return pages


def txt_page(path: Path, stored_name: str, encoding: str | None, index: int) -> str:
    """Page ``index`` (0-based) of the TXT book at ``path``."""
    pages = _txt_pages(path, stored_name, encoding)
    if not 0 <= index < len(pages):
        raise PageError(_("没有这一页"))
    return pages[index]
