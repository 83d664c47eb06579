"""Media: the endpoint's headers, conditional requests and ranges; what uploads are accepted,
how images are re-encoded and bounded, and that a refused upload stores nothing."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from tests.helpers import login
from tests.library.test_museum_support import (
    build_exhibition,
    image_bytes,
    mp4_bytes,
    stored_files,
    wav_bytes,
)


def _build(library: Any, **kw: Any) -> Any:
    with library.app.app_context():
        return build_exhibition(library.world, **kw)


def test_image_headers_conditional_get_and_range(library: Any) -> None:
    built = _build(library)
    client = library.app.test_client()
    image = built.items["长辛店机车厂"]
    whole = client.get(f"/library/museum/media/{image}")
    assert whole.status_code == 200
    assert whole.headers["Content-Type"] == "image/jpeg"
    assert whole.headers["X-Content-Type-Options"] == "nosniff"
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert "public" not in whole.headers["Cache-Control"]
    body = whole.get_data()
    assert body.startswith(b"\xff\xd8\xff")  # our own JPEG encoding of the uploaded PNG
    assert Image.open(io.BytesIO(body)).size == (800, 600)
    etag = whole.headers["ETag"]
    again = client.get(f"/library/museum/media/{image}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.get_data()
    part = client.get(f"/library/museum/media/{image}", headers={"Range": "bytes=10-109"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 10-109/{len(body)}"
    assert part.get_data() == body[10:110]
    beyond = client.get(f"/library/museum/media/{image}",
                        headers={"Range": f"bytes={len(body) + 10}-"})
    assert beyond.status_code == 416


def test_audio_is_served_with_its_type_and_seekable(library: Any) -> None:
    built = _build(library)
    client = library.app.test_client()
    audio = built.items["劳动号子"]
    whole = client.get(f"/library/museum/media/{audio}")
    assert whole.headers["Content-Type"] == "audio/wav"
    assert whole.get_data() == wav_bytes()  # time-based media are stored as uploaded
    tail = client.get(f"/library/museum/media/{audio}", headers={"Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.get_data() == wav_bytes()[-100:]
    # only images have thumbnails; a text item has no media at all
    assert client.get(f"/library/museum/media/{audio}/thumb").status_code == 404
    assert client.get(f"/library/museum/media/{built.items['罢工宣言']}").status_code == 404


def _upload(library: Any, section_id: int, kind: str, filename: str, data: bytes,
            **fields: str) -> Any:
    client = library.app.test_client()
    login(client, "city")
    url = f"/library/museum/admin/sections/{section_id}/items/new"
    from tests.helpers import csrf_token

    token = csrf_token(client, url)
    form = {"csrf_token": token, "kind": kind, "title": fields.pop("title", "新展品"),
            **fields, "file": (io.BytesIO(data), filename)}
    return client.post(url, data=form, content_type="multipart/form-data")


def _item_titles(library: Any) -> set[str]:
    from sqlalchemy import select

    from unionhub import db
    from unionhub_library.models import MuseumItem

    with library.app.app_context():
        return set(db.session().scalars(select(MuseumItem.title)))


@pytest.mark.parametrize(("kind", "filename", "data", "message"), [
    ("image", "photo.jpg", b"this is not an image at all" * 20, "不是有效的图片"),
    ("image", "photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 300, "不是有效的图片"),
    ("image", "clip.mp4", mp4_bytes(), "不是可接受的图片文件"),
    ("video", "clip.mp4", b"<html><script>alert(1)</script></html>" * 10, "不是 MP4 格式的视频"),
    ("video", "song.mp3", b"ID3" + b"\x00" * 100, "不是可接受的视频文件"),
    ("audio", "song.wav", image_bytes(), "不是 WAV 格式的音频"),
    ("audio", "empty.mp3", b"", "是空的"),
])
def test_refused_upload_has_a_clear_message_and_stores_nothing(
        library: Any, kind: str, filename: str, data: bytes, message: str) -> None:
    built = _build(library)
    before_files = stored_files(library.app)
    before_items = _item_titles(library)
    resp = _upload(library, built.section_ids[0], kind, filename, data, title="坏文件")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert message in html and f"“{filename}”" in html
    assert _item_titles(library) == before_items
    assert stored_files(library.app) == before_files


def test_image_upload_is_reencoded_bounded_and_measured(library: Any) -> None:
    built = _build(library)
    wide = Image.new("RGB", (7000, 700), (10, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    buf = io.BytesIO()
    wide.save(buf, "JPEG", exif=exif.tobytes())
    resp = _upload(library, built.section_ids[1], "image", "wide.jpeg", buf.getvalue(),
                   title="全景照片", dc_creator="摄影组", dc_subject="城市")
    assert resp.status_code == 302
    from sqlalchemy import select

    from unionhub import db
    from unionhub_library.models import MuseumItem
    from unionhub_library.museum.media import MAX_SIDE, media_path, thumb_path

    with library.app.app_context():
        item = db.session().scalar(select(MuseumItem).where(MuseumItem.title == "全景照片"))
        assert item is not None
        # turned upright (700×7000), then scaled so that the longest side is MAX_SIDE
        assert (item.width, item.height) == (600, MAX_SIDE)
        assert item.media_type == "image/jpeg"
        assert item.dc == {"creator": "摄影组", "subject": "城市"}
        path = media_path(item.media_name)
        assert path is not None
        with Image.open(path) as stored:
            assert stored.size == (600, MAX_SIDE)
            assert not stored.getexif()  # nothing of the upload's metadata is kept
        thumb = thumb_path(item.media_name)
        assert thumb is not None
        with Image.open(thumb) as small:
            assert max(small.size) == 640


def test_transparent_image_is_kept_as_png(library: Any) -> None:
    built = _build(library)
    data = image_bytes((300, 200), "PNG", (0, 0, 0, 0), mode="RGBA")
    assert _upload(library, built.section_ids[0], "image", "logo.png", data,
                   title="徽标").status_code == 302
    client = library.app.test_client()
    from sqlalchemy import select

    from unionhub import db
    from unionhub_library.models import MuseumItem

    with library.app.app_context():
        item_id = db.session().scalar(select(MuseumItem.id).where(MuseumItem.title == "徽标"))
    resp = client.get(f"/library/museum/media/{item_id}")
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.get_data().startswith(b"\x89PNG")


def test_too_many_pixels_refused_before_decoding(library: Any) -> None:
    built = _build(library)
    huge = Image.new("1", (9000, 7000))  # 63 million pixels, a tiny file
    buf = io.BytesIO()
    huge.save(buf, "PNG")
    before = stored_files(library.app)
    resp = _upload(library, built.section_ids[0], "image", "huge.png", buf.getvalue())
    assert resp.status_code == 422
    assert "9000×7000" in resp.get_data(as_text=True)
    assert stored_files(library.app) == before


def test_size_limit_setting(library: Any) -> None:
    built = _build(library)
    with library.app.app_context():
        from unionhub import db
        from unionhub.settings import service as settings

        settings.put("library.upload_max_mb", 1)
        db.session().commit()
    before = stored_files(library.app)
    resp = _upload(library, built.section_ids[0], "video", "big.mp4",
                   mp4_bytes(1024 * 1024 + 4096))
    assert resp.status_code == 422
    assert "超过 1 MB 的上限" in resp.get_data(as_text=True)
    assert stored_files(library.app) == before
    ok = _upload(library, built.section_ids[0], "video", "small.mp4", mp4_bytes(),
                 title="短片")
    assert ok.status_code == 302
    assert "短片" in _item_titles(library)


def test_video_item_page_and_media(library: Any) -> None:
    built = _build(library)
    assert _upload(library, built.section_ids[0], "video", "clip.m4v", mp4_bytes(),
                   title="纪录片").status_code == 302
    from sqlalchemy import select

    from unionhub import db
    from unionhub_library.models import MuseumItem

    with library.app.app_context():
        item_id = db.session().scalar(select(MuseumItem.id).where(MuseumItem.title == "纪录片"))
    client = library.app.test_client()
    page = client.get(f"/library/museum/item/{item_id}").get_data(as_text=True)
    assert f'<video controls preload="metadata" playsinline src="/library/museum/media/{item_id}"' \
        in page
    resp = client.get(f"/library/museum/media/{item_id}", headers={"Range": "bytes=0-23"})
    assert resp.status_code == 206
    assert resp.headers["Content-Type"] == "video/mp4"
    assert resp.get_data()[4:8] == b"ftyp"
