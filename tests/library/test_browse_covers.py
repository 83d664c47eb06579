"""Covers and thumbnails: the stored image of an active book for anyone, of a hidden one for
catalogue managers only; the thumbnail falls back to the cover until it is made; conditional
GET; ``nosniff``; a versioned address may be cached, others revalidate."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from tests.helpers import login
from tests.library.conftest import Library, add_book


def _jpeg(colour: str, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def _store(area: str, data: bytes, ext: str = "jpg") -> str:
    from unionhub_library import storage

    name = storage.new_name(ext)
    path = storage.path_of(area, name)
    assert path is not None
    path.write_bytes(data)
    return name


def _set(book_id: int, **fields: Any) -> None:
    from unionhub import db
    from unionhub_library.models import LibraryBook

    s = db.session()
    book = s.get(LibraryBook, book_id)
    assert book is not None
    for key, value in fields.items():
        setattr(book, key, value)
    s.commit()


def test_cover_and_thumbnail_of_an_active_book(library: Library) -> None:
    cover, small = _jpeg("red", (300, 400)), _jpeg("blue", (60, 80))
    with library.app.app_context():
        book = add_book(library.categories["I"], "有封面",
                        owner_org_id=library.world.org_id("city"))
        cover_name = _store("covers", cover)
        _set(book, cover_name=cover_name)
    c = library.app.test_client()
    r = c.get(f"/library/book/{book}/cover")
    assert r.status_code == 200 and r.data == cover
    assert r.mimetype == "image/jpeg"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-cache" in r.headers["Cache-Control"]
    etag = r.headers["ETag"]
    again = c.get(f"/library/book/{book}/cover", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    # no thumbnail made yet: the thumbnail address serves the cover
    fallback = c.get(f"/library/book/{book}/thumb")
    assert fallback.status_code == 200 and fallback.data == cover

    with library.app.app_context():
        thumb_name = _store("thumbs", small)
        _set(book, thumb_name=thumb_name)
    r = c.get(f"/library/book/{book}/thumb")
    assert r.status_code == 200 and r.data == small
    # the address pages use carries the image's version and may be cached
    versioned = c.get(f"/library/book/{book}/thumb?v={thumb_name[:8]}")
    assert "public" in versioned.headers["Cache-Control"]
    assert "max-age=86400" in versioned.headers["Cache-Control"]
    html = c.get(f"/library/book/{book}").get_data(as_text=True)
    assert f'src="/library/book/{book}/cover?v={cover_name[:8]}"' in html
    listed = c.get("/library/new").get_data(as_text=True)
    assert f'src="/library/book/{book}/thumb?v={thumb_name[:8]}"' in listed
    stale = c.get(f"/library/book/{book}/thumb?v={cover_name[:8]}")
    assert "public" not in stale.headers["Cache-Control"]


def test_no_cover_or_a_bad_stored_name_is_a_404(library: Library) -> None:
    with library.app.app_context():
        city = library.world.org_id("city")
        bare = add_book(library.categories["I"], "没封面", owner_org_id=city)
        odd = add_book(library.categories["I"], "怪名字", owner_org_id=city,
                       cover_name="../../etc/passwd")
        gone = add_book(library.categories["I"], "文件没了", owner_org_id=city,
                        cover_name="0" * 32 + ".jpg")
        svg = add_book(library.categories["I"], "矢量图", owner_org_id=city)
        _set(svg, cover_name=_store("covers", b"<svg onload=alert(1)>", "svg"))
    c = library.app.test_client()
    for book in (bare, odd, gone, svg):
        for kind in ("cover", "thumb"):
            assert c.get(f"/library/book/{book}/{kind}").status_code == 404, (book, kind)
    assert c.get("/library/book/999999/cover").status_code == 404
    html = c.get(f"/library/book/{bare}").get_data(as_text=True)
    assert f"/library/book/{bare}/cover" not in html and 'class="nocover"' in html


def test_hidden_books_images_only_for_managers(library: Library) -> None:
    with library.app.app_context():
        book = add_book(library.categories["I"], "下架", owner_org_id=library.world.org_id("city"),
                        state="hidden")
        _set(book, cover_name=_store("covers", _jpeg("green", (30, 40))))
    visitor = library.app.test_client()
    member = library.app.test_client()
    login(member, library.world.people["m1"].card_number)
    for client in (visitor, member):
        for kind in ("cover", "thumb"):
            assert client.get(f"/library/book/{book}/{kind}").status_code == 404
    admin = library.app.test_client()
    login(admin, "admin")
    r = admin.get(f"/library/book/{book}/cover")
    assert r.status_code == 200 and r.mimetype == "image/jpeg"
    assert "private" in r.headers["Cache-Control"]
    assert admin.get(f"/library/book/{book}/thumb").status_code == 200
