"""Bulk import: a zip of book files plus a spreadsheet, as a tracked job. Good rows land, bad
rows are reported by row, column and reason; a hostile outer zip is refused before any job;
importing the same zip again adds nothing."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.helpers import PASSWORD, login, post_form
from tests.library.test_catalogue_files import make_epub, make_pdf, png

MULTIPART = {"content_type": "multipart/form-data"}
HEADER = ["文件名", "书名", "作者", "出版社", "出版年", "ISBN", "分类号", "标签", "简介",
          "授权方式(开放/借阅)", "复本数"]


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name), data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _csv(rows: list[list[str]], encoding: str = "gbk") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


BOOKS = {
    "books/劳动者之歌.epub": make_epub(isbn="9787020002207", cover=png()),
    "books/劳动者之歌.pdf": make_pdf(2),
    "books/坏书.epub": b"PK\x03\x04 broken",
    "books/工会读本.txt": ("工会是职工自愿结合的群众组织。\n" * 50).encode("gbk"),
    "books/另一本.epub": make_epub(title="另一本", authors=("李四",)),
    "books/第三本.epub": make_epub(title="第三本"),
    "books/没列出.epub": make_epub(title="没列出"),
}
ROWS = [
    # line 2: good, metadata from the file, tags and licence from the sheet
    ["劳动者之歌.epub", "", "", "", "", "", "I", "诗歌，劳动", "", "借阅", "2"],
    # line 3: the same ISBN → the PDF is added to the book of line 2
    ["books/劳动者之歌.pdf", "", "", "", "", "978-7-02-000220-7", "", "", "", "", ""],
    # line 4: a broken file
    ["坏书.epub", "坏书", "", "", "", "", "I", "", "", "", ""],
    # line 5: a bad ISBN and a bad year
    ["另一本.epub", "", "", "", "去年", "978-7-02-000220-8", "I", "", "", "", ""],
    # line 6: a file that is not in the zip
    ["不存在.epub", "", "", "", "", "", "I", "", "", "", ""],
    # line 7: an unknown class mark
    ["第三本.epub", "", "", "", "", "", "Y9", "", "", "", ""],
    # line 8: good TXT in GBK, class mark below a top-level class, year "2018年"
    ["工会读本.txt", "工会读本", "王五 编", "工人出版社", "2018年", "", "D412.6", "", "简介",
     "开放", ""],
    # line 9: the same file as line 2 again
    ["劳动者之歌.epub", "", "", "", "", "", "I", "", "", "", ""],
    # line 10: the licence column says something else
    ["另一本.epub", "", "", "", "", "", "I", "", "", "出租", ""],
]


def _start(lib: Any, client: Any, zip_bytes: bytes, sheet: bytes | None,
           sheet_name: str = "books.csv", **form: str) -> Any:
    data: dict[str, Any] = {"zip": (io.BytesIO(zip_bytes), "books.zip"),
                            "owner_org_id": str(lib.world.org_id("city")),
                            "licence": "open", "copies": "0", **form}
    if sheet is not None:
        data["sheet"] = (io.BytesIO(sheet), sheet_name)
    return post_form(client, "/library/admin/import", data, **MULTIPART)


def _run_import(lib: Any, response: Any) -> int:
    from unionhub.jobs.service import run_job

    assert response.status_code == 302, response.get_data(as_text=True)
    job_id = int(re.search(r"/admin/import/(\d+)$", response.headers["Location"]).group(1))
    assert run_job(lib.app, job_id) == "succeeded"
    return job_id


def _result(lib: Any, job_id: int) -> dict[str, Any]:
    from unionhub import db
    from unionhub.jobs.models import Job

    with lib.app.app_context():
        job = db.session().get(Job, job_id)
        return dict(job.result or {})


def tmp_left(lib: Any) -> list[Path]:
    folder = Path(lib.app.instance_path) / "library" / "tmp"
    return list(folder.iterdir()) if folder.exists() else []


@pytest.fixture
def city(library: Any) -> Any:
    client = library.app.test_client()
    login(client, "city")
    return client


def test_bulk_import_reports_bad_rows_and_lands_good_ones(library: Any, city: Any) -> None:
    from unionhub import db
    from unionhub_library.models import LibraryBook, LibraryCategory

    job_id = _run_import(library, _start(library, city, _zip(BOOKS), _csv(ROWS)))
    result = _result(library, job_id)
    assert (result["rows"], result["imported"], result["failed"]) == (9, 3, 6)
    problems = {(e["row"], e["field"]): e["reason"] for e in result["errors"]}
    assert set(problems) == {(4, "文件名"), (5, "ISBN"), (5, "出版年"), (6, "文件名"),
                             (7, "分类号"), (9, "文件名"), (10, "授权方式")}
    assert "无法作为 ZIP 打开" in problems[(4, "文件名")]
    assert "校验位错误" in problems[(5, "ISBN")]
    assert "没有文件“不存在.epub”" in problems[(6, "文件名")]
    assert "Y9" in problems[(7, "分类号")]
    assert "已在馆藏中" in problems[(9, "文件名")]
    assert result["warnings"] == ["压缩包中的文件未在表格中列出，未导入：books/没列出.epub"]
    assert tmp_left(library) == []

    with library.app.app_context():
        s = db.session()
        books = {b.title: b for b in s.scalars(select(LibraryBook))}
        assert set(books) == {"劳动者之歌", "工会读本"}
        song = books["劳动者之歌"]
        assert sorted(f.format for f in song.files) == ["epub", "pdf"]
        assert (song.licence, song.copies, song.tag_list) == ("lent", 2, ["诗歌", "劳动"])
        reader = books["工会读本"]
        assert (reader.authors_display, reader.year) == ("王五 编", 2018)
        assert reader.category_id == library.categories["D"]
        assert s.get(LibraryCategory, library.categories["I"]).book_count == 1
        assert song.owner_org_id == library.world.org_id("city")

    page = city.get(f"/library/admin/import/{job_id}").get_data(as_text=True)
    assert 'data-row="5"' in page and "校验位错误" in page
    assert "逐行" in page  # the page says the import is per row

    # the same zip again adds nothing: every file is already catalogued
    again = _run_import(library, _start(library, city, _zip(BOOKS), _csv(ROWS)))
    result = _result(library, again)
    assert result["imported"] == 0
    with library.app.app_context():
        assert db.session().scalar(select(func.count()).select_from(LibraryBook)) == 2


def test_xlsx_inside_the_zip_and_default_category(library: Any, city: Any) -> None:
    from openpyxl import Workbook

    from unionhub import db
    from unionhub_library.models import LibraryBook

    wb = Workbook()
    ws = wb.active
    ws.append(["文件名", "书名", "ISBN"])
    ws.append(["a.epub", "甲书", 9787020002207])  # a number cell, as Excel keeps ISBNs
    ws.append(["b.epub", "乙书", None])
    sheet = io.BytesIO()
    wb.save(sheet)
    zip_bytes = _zip({"元数据.xlsx": sheet.getvalue(), "a.epub": make_epub(title="a"),
                      "b.epub": make_epub(title="b")})
    job_id = _run_import(library, _start(library, city, zip_bytes, None,
                                         category_id=str(library.categories["K"])))
    result = _result(library, job_id)
    assert (result["imported"], result["failed"]) == (2, 0), result
    with library.app.app_context():
        books = db.session().scalars(select(LibraryBook).order_by(LibraryBook.title)).all()
        assert [(b.title, b.isbn, b.category_id) for b in books] == [
            ("乙书", None, library.categories["K"]),
            ("甲书", "9787020002207", library.categories["K"])]


def test_row_without_class_and_no_default_is_reported(library: Any, city: Any) -> None:
    job_id = _run_import(library, _start(library, city, _zip({"a.epub": make_epub()}),
                                         _csv([["a.epub"] + [""] * 10], "utf-8")))
    [error] = _result(library, job_id)["errors"]
    assert (error["row"], error["field"], error["reason"]) == (2, "分类号", "请选择分类")


def _outer(name: str) -> bytes:
    return _zip({name: make_epub()})


@pytest.mark.parametrize(("zip_bytes", "why"), [
    (_outer("../../escape.epub"), "不安全的路径"),
    (_outer("/abs/escape.epub"), "不安全的路径"),
    (_zip({f"b{i}.txt": b"x" for i in range(2001)}), "文件过多"),
    (_zip({"bomb.txt": b"\0" * (20 * 1024 * 1024)}), "压缩炸弹"),
    (b"PK\x03\x04 not a zip", "不是有效的 ZIP"),
])
def test_hostile_outer_zip_refused_before_any_job(library: Any, city: Any, zip_bytes: bytes,
                                                  why: str) -> None:
    from unionhub import db
    from unionhub.jobs.models import Job

    response = _start(library, city, zip_bytes, _csv([["a.epub"] + [""] * 10]))
    assert response.status_code == 422
    assert why in response.get_data(as_text=True)
    with library.app.app_context():
        assert db.session().scalar(select(func.count()).where(
            Job.kind == "library.catalogue_import")) == 0
    assert tmp_left(library) == []


def test_sheet_problems_refused_up_front(library: Any, city: Any) -> None:
    no_column = _start(library, city, _outer("a.epub"), "书名\n甲\n".encode())
    assert no_column.status_code == 422
    assert "缺少必需的列: 文件名" in no_column.get_data(as_text=True)
    no_sheet = _start(library, city, _outer("a.epub"), None)
    assert "请上传元数据表格" in no_sheet.get_data(as_text=True)
    assert tmp_left(library) == []


def test_import_jobs_are_scoped(library: Any, city: Any) -> None:
    job_id = _run_import(library, _start(library, city, _zip({"a.epub": make_epub()}),
                                         _csv([["a.epub"] + [""] * 5 + ["I"] + [""] * 4])))
    assert city.get(f"/library/admin/import/{job_id}").status_code == 200
    with library.app.app_context():
        from unionhub import db
        from unionhub.identity.admin import create_officer

        create_officer(db.session(), "libd2", "libd2", PASSWORD, "librarian",
                       library.world.orgs["d2"])
        db.session().commit()
    other = library.app.test_client()
    login(other, "libd2")
    assert other.get(f"/library/admin/import/{job_id}").status_code == 404
    assert f"#{job_id}" not in other.get("/library/admin/import").get_data(as_text=True)
