"""The catalogue's write side: category and author counts of active books through create,
edit, hide and unhide; ISBN uniqueness on edit; covers checked and thumbnails made by an
idempotent job."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from tests.library.test_catalogue_files import png


@pytest.fixture
def ctx(library: Any) -> Iterator[Any]:
    with library.app.app_context():
        yield library


def _create(lib: Any, title: str, category: str = "I", **values: Any) -> Any:
    from unionhub import db
    from unionhub_library.catalogue.service import create_book

    book = create_book(db.session(), {"title": title, "category_id": lib.categories[category],
                                      **values},
                       owner_org_id=lib.world.org_id("city"), account_id=None)
    db.session().commit()
    return book


def category_counts(lib: Any, *codes: str) -> list[int]:
    from unionhub import db
    from unionhub_library.models import LibraryCategory

    s = db.session()
    return [s.scalar(select(LibraryCategory.book_count)
                     .where(LibraryCategory.id == lib.categories[c])) for c in codes]


def author_counts() -> dict[str, int]:
    from unionhub import db
    from unionhub_library.models import LibraryAuthor

    return {name: n for name, n in db.session().execute(
        select(LibraryAuthor.name, LibraryAuthor.book_count))}


def test_counts_follow_hide_unhide_and_category_change(ctx: Any) -> None:
    from unionhub import db
    from unionhub_library.catalogue.service import recount, set_state, update_book

    s = db.session()
    a = _create(ctx, "甲", "I", authors="张三、李四 著")
    _create(ctx, "乙", "I", authors="张三")
    assert category_counts(ctx, "I", "K") == [2, 0]
    assert author_counts() == {"张三": 2, "李四": 1}

    assert set_state(s, a, "hidden") is True
    s.commit()
    assert a.state == "hidden"
    assert category_counts(ctx, "I") == [1]
    assert author_counts() == {"张三": 1, "李四": 0}
    assert set_state(s, a, "hidden") is False  # hiding twice moves nothing
    s.commit()
    assert category_counts(ctx, "I") == [1]

    # a hidden book changing class and credits counts nowhere until it is back
    update_book(s, a, {"category_id": str(ctx.categories["K"]), "authors": "王五"},
                partial=True)
    s.commit()
    assert category_counts(ctx, "I", "K") == [1, 0]
    assert author_counts() == {"张三": 1, "李四": 0, "王五": 0}
    set_state(s, a, "active")
    s.commit()
    assert category_counts(ctx, "I", "K") == [1, 1]
    assert author_counts() == {"张三": 1, "李四": 0, "王五": 1}

    # an active book moving class and credits moves the counts at once
    update_book(s, a, {"category_id": ctx.categories["I"], "authors": "张三 著；李四 译"},
                partial=True)
    s.commit()
    assert category_counts(ctx, "I", "K") == [2, 0]
    assert author_counts() == {"张三": 2, "李四": 1, "王五": 0}
    assert a.authors_display == "张三 著；李四 译"

    before = (category_counts(ctx, "I", "K"), author_counts())
    recount(s)
    s.commit()
    assert (category_counts(ctx, "I", "K"), author_counts()) == before


def test_update_checks_every_field_and_changes_nothing_when_refused(ctx: Any) -> None:
    from unionhub import db
    from unionhub_library.catalogue.errors import CatalogueError
    from unionhub_library.catalogue.service import update_book

    s = db.session()
    _create(ctx, "甲", isbn="9787020002207")
    b = _create(ctx, "乙", licence="lent", copies="2")
    b.copies_out = 2
    s.commit()
    with pytest.raises(CatalogueError) as err:
        update_book(s, b, {"title": "", "isbn": "7-02-000220-X", "category_id": ""},
                    partial=True)
    assert set(err.value.errors) == {"title", "category_id"}
    s.rollback()
    with pytest.raises(CatalogueError) as err:
        update_book(s, b, {"isbn": "7-02-000220-X"}, partial=True)
    assert "已被馆藏图书《甲》" in err.value.errors["isbn"]
    s.rollback()
    with pytest.raises(CatalogueError) as err:
        update_book(s, b, {"copies": "1"}, partial=True)
    assert err.value.errors == {"copies": "复本数不能少于当前借出的 2 册"}
    s.rollback()
    with pytest.raises(CatalogueError) as err:
        update_book(s, b, {"category_id": "99999"}, partial=True)
    assert err.value.errors == {"category_id": "所选分类不存在"}
    s.rollback()
    fresh = s.get(type(b), b.id)
    assert (fresh.title, fresh.isbn, fresh.copies) == ("乙", None, 2)


def test_credits_are_parsed_and_shown() -> None:
    from unionhub_library.catalogue.credits import Credit, credits_display, parse_credits

    credits = parse_credits("[英] 狄更斯 著；张三、李四（译）\n王著")
    assert credits == [Credit("狄更斯", "著"), Credit("张三", "译"), Credit("李四", "译"),
                       Credit("王著", None)]
    assert credits_display(credits) == "狄更斯 著；张三、李四 译；王著"
    assert parse_credits("鲁迅著") == [Credit("鲁迅", "著")]
    assert parse_credits("毛泽东主编") == [Credit("毛泽东", "主编")]


# -- covers and thumbnails ---------------------------------------------------------------------


def _stored(app: Any, area: str) -> list[Path]:
    folder = Path(app.instance_path) / "library" / area
    return sorted(p for p in folder.glob("*") if p.is_file()) if folder.exists() else []


def _run_thumb(app: Any, book_id: int) -> dict[str, Any]:
    from unionhub_library.catalogue.covers import thumbnail_job

    return thumbnail_job(SimpleNamespace(params={"book_id": book_id}, counts={}, app=app))


def test_thumbnail_job_is_idempotent(ctx: Any) -> None:
    from unionhub import db
    from unionhub.jobs import service as jobs
    from unionhub.jobs.models import Job
    from unionhub_library.catalogue.service import set_cover
    from unionhub_library.models import LibraryBook

    s = db.session()
    book = _create(ctx, "甲")
    rgba = io.BytesIO()
    Image.new("RGBA", (900, 1200), (0, 0, 255, 128)).save(rgba, "PNG")
    set_cover(s, book, rgba.getvalue())
    s.commit()
    [job] = s.scalars(select(Job).where(Job.kind == "library.catalogue_thumbnail")).all()
    assert jobs.run_job(ctx.app, job.id) == "succeeded"
    s.expire_all()
    book = s.get(LibraryBook, book.id)
    assert book.thumb_name == book.cover_name
    [thumb] = _stored(ctx.app, "thumbs")
    with Image.open(thumb) as img:
        assert img.format == "JPEG" and img.size == (240, 320)
    first = thumb.read_bytes()
    assert _run_thumb(ctx.app, book.id) == {"made": 1, "thumb": book.cover_name}
    assert _stored(ctx.app, "thumbs") == [thumb] and thumb.read_bytes() == first

    # a new cover: the old cover and thumbnail go once that commits; its own job follows
    old_cover = _stored(ctx.app, "covers")
    set_cover(s, book, png(480, 640, "green"))
    s.commit()
    assert book.thumb_name is None
    assert _stored(ctx.app, "thumbs") == [] and len(_stored(ctx.app, "covers")) == 1
    assert _stored(ctx.app, "covers") != old_cover
    assert _run_thumb(ctx.app, book.id)["made"] == 1
    s.expire_all()
    assert s.get(LibraryBook, book.id).thumb_name == book.cover_name
    [thumb] = _stored(ctx.app, "thumbs")
    with Image.open(thumb) as img:
        assert img.size == (240, 320)


def test_a_book_without_cover_gets_no_thumbnail(ctx: Any) -> None:
    book = _create(ctx, "甲")
    assert _run_thumb(ctx.app, book.id) == {"made": 0, "reason": "no cover"}


@pytest.mark.parametrize(("data", "why"), [
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "不是有效的图片"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "不是有效的图片"),
    (b"", "是空的"),
])
def test_bad_covers_refused(ctx: Any, data: bytes, why: str) -> None:
    from unionhub import db
    from unionhub_library.catalogue.errors import CatalogueError
    from unionhub_library.catalogue.service import set_cover

    book = _create(ctx, "甲")
    with pytest.raises(CatalogueError) as err:
        set_cover(db.session(), book, data)
    assert why in err.value.errors["cover"]
    db.session().rollback()
    assert _stored(ctx.app, "covers") == []


def test_decompression_bomb_cover_refused_before_decoding(ctx: Any) -> None:
    from unionhub import db
    from unionhub_library.catalogue.errors import CatalogueError
    from unionhub_library.catalogue.service import set_cover

    bomb = io.BytesIO()
    Image.new("1", (12000, 12000)).save(bomb, "PNG")  # 144 megapixels in a few KB
    assert len(bomb.getvalue()) < 100_000
    book = _create(ctx, "甲")
    with pytest.raises(CatalogueError) as err:
        set_cover(db.session(), book, bomb.getvalue())
    assert "尺寸过大" in err.value.errors["cover"]
