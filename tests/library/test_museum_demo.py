"""The museum's demo seeder: two published exhibitions with sections, drawn images (stored
and measured), an audio and text exhibits with Dublin Core metadata; pages render; a second
run adds nothing."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import select

from tests.library.test_museum_support import stored_files


def _seed(library: Any) -> list[str]:
    from unionhub import db
    from unionhub.demo import DemoContext
    from unionhub_library.museum.demo import seed

    with library.app.app_context():
        s = db.session()
        ctx = DemoContext(rng=random.Random(7), orgs={"110000": library.world.orgs["city"]},
                          member_ids=[], officers={})
        s.add(library.world.orgs["city"])
        seed(s, ctx)
        s.commit()
        return ctx.lines


def test_demo_exhibitions(library: Any) -> None:
    from unionhub import db
    from unionhub_library.models import MuseumExhibition
    from unionhub_library.museum.media import media_path, thumb_path

    lines = _seed(library)
    assert any("数字博物馆" in line for line in lines)
    with library.app.app_context():
        shows = list(db.session().scalars(select(MuseumExhibition).order_by(MuseumExhibition.sort)))
        assert [e.title for e in shows] == ["北京工人运动史展", "劳模风采展"]
        for ex in shows:
            assert ex.published and ex.owner_org_id == library.world.org_id("city")
            assert 2 <= len(ex.sections) <= 3
            items = [i for section in ex.sections for i in section.items]
            assert 6 <= len(items) <= 10
            kinds = {i.kind for i in items}
            assert {"image", "text"} <= kinds
            for item in items:
                assert item.dc.get("creator") and item.dc.get("description")
                assert item.dc.get("rights") and item.dc.get("identifier")
                if item.kind == "image":
                    assert item.width and item.height and item.media_type == "image/jpeg"
                    path, thumb = media_path(item.media_name), thumb_path(item.media_name)
                    assert path is not None and path.is_file()
                    assert thumb is not None and thumb.is_file()
                elif item.kind == "text":
                    assert item.body_html and item.media_name is None
        audio = [i for e in shows for s in e.sections for i in s.items if i.kind == "audio"]
        assert audio and audio[0].media_type == "audio/wav"
        slugs = [e.slug for e in shows]
        first_image = next(i.id for s in shows[0].sections for i in s.items if i.kind == "image")
    client = library.app.test_client()
    home = client.get("/library/museum/").get_data(as_text=True)
    assert "北京工人运动史展" in home and "劳模风采展" in home
    for slug in slugs:
        assert client.get(f"/library/museum/{slug}").status_code == 200
    item_page = client.get(f"/library/museum/item/{first_image}").get_data(as_text=True)
    assert "data-viewer" in item_page
    assert client.get(f"/library/museum/media/{first_image}").status_code == 200

    files = stored_files(library.app)
    assert _seed(library) == []  # already there: nothing added
    with library.app.app_context():
        assert len(list(db.session().scalars(select(MuseumExhibition.id)))) == 2
    assert stored_files(library.app) == files


def test_cjk_font_is_found_here() -> None:
    """This machine has a Chinese font (the captions are drawn with it, not as boxes)."""
    import shutil

    from unionhub_library.fonts import cjk_font_path, font

    if shutil.which("fc-list") is None:
        return
    path = cjk_font_path()
    assert path is not None
    drawn = font(40)
    assert drawn.getbbox("劳")[2] > 20  # a real glyph, not a narrow fallback box
