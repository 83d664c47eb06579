"""Builders shared by the museum tests (no tests here): museum officers scoped to d1 and d2,
media bytes made with Pillow and the standard library, and an exhibition built through the
museum's own services (files go through the same checks as an upload)."""

from __future__ import annotations

import io
import math
import wave
from array import array
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from tests.helpers import PASSWORD


def image_bytes(size: tuple[int, int] = (800, 600), fmt: str = "PNG",
                color: tuple[int, ...] = (200, 30, 40), mode: str = "RGB") -> bytes:
    img = Image.new(mode, size, color)
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def wav_bytes(seconds: float = 0.5, rate: int = 8000) -> bytes:
    samples = array("h", (int(8000 * math.sin(2 * math.pi * 440 * i / rate))
                          for i in range(int(seconds * rate))))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return buf.getvalue()


def mp4_bytes(size: int = 4096) -> bytes:
    """An ISO BMFF file start (``ftyp`` box) padded with an ``mdat`` box."""
    ftyp = (24).to_bytes(4, "big") + b"ftypisom" + b"\x00\x00\x02\x00" + b"isomiso2"
    mdat = (size - 24).to_bytes(4, "big") + b"mdat" + bytes(range(256)) * ((size - 32) // 256)
    return ftyp + mdat


def add_museum_officer(username: str, org_key: str, world: Any,
                       role: str = "librarian") -> int:
    """An officer holding ``library.museum.manage`` on ``org_key``'s subtree."""
    from unionhub import db
    from unionhub.identity.admin import create_officer

    s = db.session()
    acc = create_officer(s, username, username, PASSWORD, role, world.orgs[org_key])
    s.commit()
    return int(acc.id)


@dataclass
class Built:
    exhibition_id: int
    slug: str
    section_ids: list[int] = field(default_factory=list)
    #: title → item id
    items: dict[str, int] = field(default_factory=dict)


def build_exhibition(world: Any, *, owner: str = "city", slug: str = "labour-history",
                     title: str = "北京工人运动史展", published: bool = True,
                     prefix: str = "") -> Built:
    """An exhibition with two sections: an image, a text and an audio item, then a second
    image (inside an app context). Committed, search entries queued."""
    from unionhub import db
    from unionhub.web.richtext import ARTICLE, clean_typed
    from unionhub_library.museum import media, service

    s = db.session()
    ex = service.create_exhibition(s, {
        "slug": slug, "title": title, "subtitle": "百年工运", "owner_org_id":
        world.org_id(owner), "sort": 0,
        "intro_html": "<p>从长辛店出发的百年历程</p>"})
    built = Built(ex.id, ex.slug)
    first = service.add_section(s, ex, {"title": prefix + "星火初燃", "intro_html": ""})
    second = service.add_section(s, ex, {"title": prefix + "改革奋进", "intro_html": ""})
    built.section_ids = [first.id, second.id]
    specs: list[tuple[Any, str, str, dict[str, str], bytes | None, str, str]] = [
        (first, "image", prefix + "长辛店机车厂", {
            "creator": "王铁生", "date": "1921", "subject": "铁路工人",
            "description": "蒸汽机车与工人合影", "rights": "演示"}, image_bytes(), "a.png", ""),
        (first, "text", prefix + "罢工宣言", {"creator": "京汉铁路总工会"}, None, "",
         "<p>我们要求承认工会，改善待遇。</p><script>alert(1)</script>"),
        (first, "audio", prefix + "劳动号子", {"creator": "合成"}, wav_bytes(), "song.wav", ""),
        (second, "image", prefix + "京卡互助服务卡", {"creator": "北京市总工会",
                                                     "subject": "会员服务"},
         image_bytes((640, 400), "JPEG", (240, 160, 60)), "card.jpg", ""),
    ]
    for section, kind, name, meta, data, filename, body in specs:
        stored = media.receive_bytes(data, filename, kind) if data is not None else None
        item = service.add_item(s, section, {"kind": kind, "title": name, "dc": meta,
                                             "body_html": clean_typed(body, ARTICLE)}, stored)
        built.items[name] = item.id
    if published:
        service.set_published(s, ex, True)
    s.commit()
    return built


def stored_files(app: Any) -> set[str]:
    """Every file under the museum's and the temporary upload areas."""
    from pathlib import Path

    root = Path(app.instance_path) / "library"
    return {str(p.relative_to(root)) for area in ("museum", "tmp")
            for p in (root / area).rglob("*") if p.is_file()}
