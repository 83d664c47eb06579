"""The museum's public pages: home with covers, the exhibition page, the item page (viewer,
players, text, Dublin Core table, previous/next), and drafts that only their managers see."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers import login
from tests.library.test_museum_support import add_museum_officer, build_exhibition


def _build(library: Any, **kw: Any) -> Any:
    with library.app.app_context():
        return build_exhibition(library.world, **kw)


def test_home_lists_published_exhibitions_with_covers(library: Any) -> None:
    shown = _build(library)
    draft = _build(library, slug="draft-show", title="筹备中的展览", published=False)
    client = library.app.test_client()
    html = client.get("/library/museum/").get_data(as_text=True)
    assert "北京工人运动史展" in html and "筹备中的展览" not in html
    assert f'href="/library/museum/{shown.slug}"' in html
    assert f'href="/library/museum/{draft.slug}"' not in html
    # the cover is the first image's thumbnail, and it is served
    cover = shown.items["长辛店机车厂"]
    assert f"/library/museum/media/{cover}/thumb" in html
    thumb = client.get(f"/library/museum/media/{cover}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert 'name="viewport"' in html
    assert "4 件展品" in html


def test_exhibition_page_shows_intro_sections_and_items(library: Any) -> None:
    built = _build(library)
    with library.app.app_context():
        from unionhub import db
        from unionhub_library.models import MuseumExhibition

        s = db.session()
        s.get(MuseumExhibition, built.exhibition_id).intro_html = (
            "<p>从长辛店出发</p><script>alert('x')</script><img src=x onerror=alert(1)>")
        s.commit()
    html = library.app.test_client().get(f"/library/museum/{built.slug}").get_data(as_text=True)
    assert "从长辛店出发" in html
    assert "<script>alert" not in html and "onerror" not in html
    assert html.index("星火初燃") < html.index("改革奋进")
    for title, item_id in built.items.items():
        assert title in html
        assert f'href="/library/museum/item/{item_id}"' in html
    # the strip/grid of items and its phone rule
    assert 'class="mu-items"' in html and "scroll-snap-type" in html


def test_image_item_page_has_viewer_metadata_and_neighbours(library: Any) -> None:
    built = _build(library)
    image = built.items["长辛店机车厂"]
    html = library.app.test_client().get(f"/library/museum/item/{image}").get_data(as_text=True)
    assert "data-viewer" in html and 'class="mu-stage"' in html
    assert "/library/static/museum/viewer.js" in html
    assert f'src="/library/museum/media/{image}"' in html
    for button in ("in", "out", "reset", "full"):
        assert f'data-zoom="{button}"' in html
    assert 'width="800" height="600"' in html
    table = html[html.index('id="dc"'):]
    for label, value in (("创作者", "王铁生"), ("日期", "1921"), ("主题", "铁路工人"),
                         ("描述", "蒸汽机车与工人合影"), ("权利", "演示"),
                         ("格式", "image/jpeg, 800×600"), ("类型", "StillImage")):
        assert re.search(rf"{label}<small>dc:\w+</small></th><td>{re.escape(value)}</td>",
                         table), label
    # first item: no previous, next is the text
    assert 'rel="prev"' not in html
    assert f'rel="next" href="/library/museum/item/{built.items["罢工宣言"]}"' in html
    assert "1 / 4" in html


def test_text_audio_items_and_last_neighbour(library: Any) -> None:
    built = _build(library)
    client = library.app.test_client()
    text = client.get(f"/library/museum/item/{built.items['罢工宣言']}").get_data(as_text=True)
    assert "我们要求承认工会" in text and "<script>alert(1)" not in text
    assert "data-viewer" not in text
    audio_id = built.items["劳动号子"]
    audio = client.get(f"/library/museum/item/{audio_id}").get_data(as_text=True)
    assert re.search(rf'<audio controls preload="metadata" src="/library/museum/media/{audio_id}"',
                     audio)
    assert "audio/wav" in audio  # dc:format derived from the file
    last = client.get(f"/library/museum/item/{built.items['京卡互助服务卡']}"
                      ).get_data(as_text=True)
    assert 'rel="next"' not in last
    assert f'rel="prev" href="/library/museum/item/{audio_id}"' in last  # across sections
    assert "4 / 4" in last


def test_unknown_pages_are_404(library: Any) -> None:
    client = library.app.test_client()
    assert client.get("/library/museum/no-such-show").status_code == 404
    assert client.get("/library/museum/item/999999").status_code == 404
    assert client.get("/library/museum/media/999999").status_code == 404


@pytest.mark.parametrize("who", [None, "m1", "haidian", "mu_d2"])
def test_draft_hidden_from_visitors_members_and_other_subtrees(library: Any,
                                                               who: str | None) -> None:
    with library.app.app_context():
        add_museum_officer("mu_d2", "d2", library.world)
    built = _build(library, owner="d1", published=False)
    client = library.app.test_client()
    if who == "m1":
        login(client, library.world.people["m1"].card_number)
    elif who:
        login(client, who)
    image = built.items["长辛店机车厂"]
    assert client.get(f"/library/museum/{built.slug}").status_code == 404
    assert client.get(f"/library/museum/item/{image}").status_code == 404
    assert client.get(f"/library/museum/media/{image}").status_code == 404
    assert client.get(f"/library/museum/media/{image}/thumb").status_code == 404
    assert client.get(f"/library/museum/media/{built.items['劳动号子']}").status_code == 404
    assert "北京工人运动史展" not in client.get("/library/museum/").get_data(as_text=True)


@pytest.mark.parametrize("who", ["mu_d1", "city"])
def test_draft_shown_to_its_managers(library: Any, who: str) -> None:
    with library.app.app_context():
        add_museum_officer("mu_d1", "d1", library.world)
    built = _build(library, owner="d1", published=False)
    client = library.app.test_client()
    login(client, who)
    page = client.get(f"/library/museum/{built.slug}")
    assert page.status_code == 200
    assert "尚未发布" in page.get_data(as_text=True)
    image = built.items["长辛店机车厂"]
    assert client.get(f"/library/museum/item/{image}").status_code == 200
    assert client.get(f"/library/museum/media/{image}").status_code == 200


def test_viewer_script_is_local_and_fetches_nothing(library: Any) -> None:
    resp = library.app.test_client().get("/library/static/museum/viewer.js")
    assert resp.status_code == 200
    assert "javascript" in resp.mimetype
    js = resp.get_data(as_text=True)
    for forbidden in ("http://", "https://", "fetch(", "XMLHttpRequest", "import(", "//cdn"):
        assert forbidden not in js
    for feature in ("wheel", "pointerdown", "dblclick", "keydown", "requestFullscreen"):
        assert feature in js
