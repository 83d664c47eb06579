"""Ingest: good EPUB 2 / EPUB 3 / PDF / TXT files become books; hostile and broken files are
refused with a clear message and leave nothing behind — no row, no file on disk."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.library.test_catalogue_files import (
    CONTAINER,
    epub_entries,
    make_epub,
    make_pdf,
    png,
    zip_of,
)


@pytest.fixture
def ctx(library: Any) -> Iterator[Any]:
    with library.app.app_context():
        yield library


def _ingest(lib: Any, data: bytes, name: str, **kw: Any) -> Any:
    from unionhub import db
    from unionhub_library.catalogue.ingest import ingest_bytes

    kw.setdefault("category_id", lib.categories["I"])
    book = ingest_bytes(db.session(), data, name, owner_org_id=lib.world.org_id("city"),
                        account_id=lib.world.officers["city"], **kw)
    db.session().commit()
    return book


def stored(app: Any, area: str) -> list[Path]:
    folder = Path(app.instance_path) / "library" / area
    return sorted(p for p in folder.glob("*") if p.is_file()) if folder.exists() else []


def assert_nothing_stored(lib: Any) -> None:
    from unionhub import db
    from unionhub.jobs.models import Job
    from unionhub.search.models import SearchQueue
    from unionhub_library.models import LibraryAuthor, LibraryBook, LibraryFile

    s = db.session()
    for model in (LibraryBook, LibraryFile, LibraryAuthor):
        assert s.scalar(select(func.count()).select_from(model)) == 0, model.__name__
    assert s.scalar(select(func.count()).where(Job.kind.like("library.%"))) == 0
    assert s.scalar(select(func.count()).where(SearchQueue.doc_type == "library.book")) == 0
    for area in ("files", "covers", "thumbs"):
        assert stored(lib.app, area) == [], area


@pytest.mark.parametrize("version", [2, 3])
def test_good_epub(ctx: Any, version: int) -> None:
    from unionhub import db
    from unionhub.jobs.models import Job
    from unionhub.search.models import SearchQueue
    from unionhub_library.models import LibraryAuthor, LibraryCategory

    data = make_epub(version=version, authors=("[英] 狄更斯 著", "张三 译"),
                     isbn="978-7-02-000220-7", subjects=("小说", "外国文学"),
                     description="&lt;p&gt;伦敦的&lt;b&gt;故事&lt;/b&gt;。&lt;/p&gt;",
                     cover=png(600, 800))
    book = _ingest(ctx, data, "双城记.epub")
    s = db.session()
    assert book.title == "劳动者之歌"
    assert book.authors_display == "狄更斯 著；张三 译"
    assert (book.publisher, book.year, book.language) == ("工人出版社", 2019, "zh")
    assert book.isbn == "9787020002207"
    assert book.summary == "伦敦的 故事 。"
    assert book.tag_list == ["小说", "外国文学"]
    assert book.state == "active" and book.licence == "open"
    [file] = book.files
    assert file.format == "epub" and file.original_name == "双城记.epub"
    assert file.size == len(data)
    assert [x["title"] for x in file.meta["toc"]] == ["第一章", "第二章"]
    assert [p.name for p in stored(ctx.app, "files")] == [file.stored_name]
    # the cover was checked, re-encoded as JPEG and its thumbnail queued
    assert book.cover_name and book.cover_name.endswith(".jpg")
    [cover] = stored(ctx.app, "covers")
    assert cover.read_bytes().startswith(b"\xff\xd8\xff")
    job = s.scalar(select(Job))
    assert job is not None and job.kind == "library.catalogue_thumbnail"
    assert job.params == {"book_id": book.id}
    assert s.scalar(select(SearchQueue.doc_id).where(SearchQueue.doc_type == "library.book")) \
        == str(book.id)
    assert s.get(LibraryCategory, ctx.categories["I"]).book_count == 1
    counts = dict(s.execute(select(LibraryAuthor.name, LibraryAuthor.book_count)).all())
    assert counts == {"狄更斯": 1, "张三": 1}


def test_overrides_win_over_the_file(ctx: Any) -> None:
    data = make_epub(isbn="9787020002207")
    book = _ingest(ctx, data, "a.epub", overrides={
        "title": "新书名", "authors": "李四、王五 编", "isbn": "", "year": "2021",
        "tags": "工会，劳动", "licence": "借阅", "copies": "3"})
    assert book.title == "新书名"
    assert book.authors_display == "李四、王五 编"
    assert book.isbn == "9787020002207"  # an empty override keeps the file's value
    assert book.year == 2021 and book.tag_list == ["工会", "劳动"]
    assert (book.licence, book.copies) == ("lent", 3)


def test_pdf_and_txt(ctx: Any) -> None:
    pdf = _ingest(ctx, make_pdf(5), "讲义.pdf", licence="lent", copies=2)
    assert pdf.title == "劳动法讲义" and pdf.authors_display == "王五"
    assert pdf.files[0].meta == {"pages": 5}
    assert (pdf.licence, pdf.copies) == ("lent", 2)
    assert pdf.cover_name is None
    text = ("第一回 宴桃园豪杰三结义\n"
            + "话说天下大势，分久必合，合久必分。\n" * 300).encode("gbk")
    txt = _ingest(ctx, text, "三国演义.txt", overrides={"authors": "罗贯中 著"})
    assert txt.title == "三国演义"
    assert txt.files[0].meta["encoding"] == "gb18030" and txt.files[0].meta["pages"] > 1
    assert txt.authors_display == "罗贯中 著"


def test_add_a_file_in_another_format(ctx: Any) -> None:
    from unionhub import db
    from unionhub_library.catalogue.errors import IngestError
    from unionhub_library.catalogue.service import add_file

    book = _ingest(ctx, make_epub(), "a.epub")
    s = db.session()
    add_file(s, book, make_pdf(2), "a.pdf")
    s.commit()
    assert sorted(f.format for f in book.files) == ["epub", "pdf"]
    with pytest.raises(IngestError) as err:
        add_file(s, book, make_pdf(3), "b.pdf")
    assert "已有 PDF 文件" in str(err.value)
    s.rollback()
    assert len(stored(ctx.app, "files")) == 2
    add_file(s, book, make_pdf(3), "b.pdf", replace=True)
    s.commit()
    pdf = next(f for f in book.files if f.format == "pdf")
    assert pdf.meta == {"pages": 3} and pdf.original_name == "b.pdf"
    assert len(stored(ctx.app, "files")) == 2  # the replaced file was deleted after commit


def test_duplicate_isbn_and_duplicate_file(ctx: Any) -> None:
    from unionhub import db
    from unionhub_library.catalogue.errors import IngestError
    from unionhub_library.models import LibraryBook

    first = _ingest(ctx, make_epub(isbn="9787020002207"), "one.epub")
    files_before = stored(ctx.app, "files")
    with pytest.raises(IngestError) as err:
        _ingest(ctx, make_epub(isbn="7-02-000220-X", title="另一本"), "two.epub")
    assert set(err.value.errors) == {"isbn"}
    assert "9787020002207" in str(err.value) and "《劳动者之歌》" in str(err.value)
    with pytest.raises(IngestError) as err:  # typed in the form: same answer
        _ingest(ctx, make_pdf(1), "x.pdf", overrides={"isbn": "978-7-02-000220-7"})
    assert "已被馆藏图书《劳动者之歌》" in err.value.errors["isbn"]
    with pytest.raises(IngestError) as err:  # the very same file again
        _ingest(ctx, make_epub(isbn="9787020002207"), "copy.epub")
    db.session().rollback()
    assert stored(ctx.app, "files") == files_before
    assert db.session().scalar(select(func.count()).select_from(LibraryBook)) == 1
    assert first.isbn == "9787020002207"


def test_bad_overrides_name_every_field(ctx: Any) -> None:
    from unionhub_library.catalogue.errors import IngestError

    with pytest.raises(IngestError) as err:
        _ingest(ctx, make_epub(), "a.epub", overrides={
            "isbn": "978-7-02-000220-8", "year": "二〇一九", "licence": "租借",
            "language": "中文"})
    assert set(err.value.errors) == {"isbn", "year", "licence", "language"}
    assert "校验位错误" in err.value.errors["isbn"]
    with pytest.raises(IngestError) as err:
        _ingest(ctx, make_epub(), "a.epub", category_id=None)
    assert err.value.errors == {"category_id": "请选择分类"}
    assert_nothing_stored(ctx)


def _bomb() -> bytes:
    entries = epub_entries()
    entries["OEBPS/text/c1.xhtml"] = b"<p>" + b"\0" * (30 * 1024 * 1024) + b"</p>"
    return zip_of(entries)


def _many() -> bytes:
    entries = epub_entries()
    entries.update({f"OEBPS/x/{i}.css": "p{}" for i in range(3001)})
    return zip_of(entries)


def _named(name: str) -> bytes:
    entries = epub_entries()
    entries[name] = "<p>escape</p>"
    return zip_of(entries)


def _replace(name: str, text: str) -> bytes:
    entries = epub_entries()
    entries[name] = text
    return zip_of(entries)


LAUGHS = ('<?xml version="1.0"?><!DOCTYPE package [<!ENTITY lol "lol">'
          '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
          '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
          '<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata '
          'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>&lol3;</dc:title></metadata>'
          '<manifest/><spine/></package>')


@pytest.mark.parametrize(("make", "why"), [
    (_bomb, "压缩炸弹"),
    (_many, "文件过多"),
    (lambda: _named("../../evil.xhtml"), "不安全的路径"),
    (lambda: _named("/etc/evil.xhtml"), "不安全的路径"),
    (lambda: _named("C:/evil.xhtml"), "不安全的路径"),
    (lambda: _replace("META-INF/container.xml", "<container><rootfiles>"), "container.xml"),
    (lambda: _replace("OEBPS/content.opf", "<package><metadata>"), "OPF"),
    (lambda: _replace("OEBPS/content.opf", LAUGHS), "实体声明"),
    (lambda: zip_of({k: v for k, v in epub_entries().items()
                     if k != "META-INF/container.xml"}), "container.xml"),
    (lambda: b"PK\x03\x04" + b"\0" * 200, "ZIP"),
    (lambda: make_epub()[:-200], "ZIP"),
])
def test_hostile_epub_refused_and_nothing_stored(ctx: Any, make: Any, why: str) -> None:
    from unionhub import db
    from unionhub_library.catalogue.errors import IngestError

    with pytest.raises(IngestError) as err:
        _ingest(ctx, make(), "hostile.epub")
    assert why in err.value.errors["file"], err.value.errors
    db.session().rollback()
    assert_nothing_stored(ctx)


def test_failure_after_files_were_written_removes_them(ctx: Any, monkeypatch: Any) -> None:
    """A failure late in ingest (after the file and cover were written) takes back the
    stored files as well as the rows."""
    from unionhub import db
    from unionhub_library.catalogue import ingest

    original = ingest.try_file_cover

    def cover_then_fail(*a: Any, **k: Any) -> bool:
        assert original(*a, **k)
        assert stored(ctx.app, "files") and stored(ctx.app, "covers")  # on disk by now
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingest, "try_file_cover", cover_then_fail)
    with pytest.raises(RuntimeError):
        _ingest(ctx, make_epub(cover=png()), "a.epub")
    db.session().rollback()
    assert_nothing_stored(ctx)


def test_rollback_by_the_caller_removes_stored_files(ctx: Any) -> None:
    from unionhub import db
    from unionhub_library.catalogue.ingest import ingest_bytes

    s = db.session()
    ingest_bytes(s, make_epub(cover=png()), "a.epub", owner_org_id=ctx.world.org_id("city"),
                 account_id=None, category_id=ctx.categories["I"])
    assert stored(ctx.app, "files") and stored(ctx.app, "covers")
    s.rollback()
    assert_nothing_stored(ctx)


def test_upload_limit_setting(ctx: Any) -> None:
    from unionhub import db
    from unionhub.settings import service as settings
    from unionhub_library.catalogue.errors import IngestError

    settings.put("library.upload_max_mb", 1)
    db.session().commit()
    with pytest.raises(IngestError) as err:
        _ingest(ctx, ("字" * 400_000).encode(), "big.txt")
    assert "超过 1 MB" in err.value.errors["file"]
    assert_nothing_stored(ctx)


def test_broken_cover_inside_a_good_epub_is_skipped(ctx: Any) -> None:
    book = _ingest(ctx, make_epub(cover=b"\x89PNG\r\n\x1a\nnot really"), "a.epub")
    assert book.cover_name is None and book.files
    assert stored(ctx.app, "covers") == []


def test_zip_helper_writes_unsafe_names_verbatim() -> None:
    """The hostile names above really are in the archive (zipfile keeps them)."""
    names = zipfile.ZipFile(io.BytesIO(_named("../../evil.xhtml"))).namelist()
    assert "../../evil.xhtml" in names
    assert "/etc/evil.xhtml" in zipfile.ZipFile(io.BytesIO(_named("/etc/evil.xhtml"))).namelist()
    assert CONTAINER.startswith("<?xml")
