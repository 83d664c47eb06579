"""阅读统计 pages: officers only, charts drawn (inline SVG with their tables), the figures on the
page those of the officer's own subtree, an org outside it a 404, a bad date range flashed
with the default shown, the officer nav item and the dashboard widget."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask.testing import FlaskClient

from tests.helpers import login
from tests.library.conftest import Library
from tests.library.test_stats_service import seed
from unionhub import db
from unionhub_library.models import LibraryRead
from unionhub_library.stats import service

URL = "/library/stats?start=2025-01-01&end=2025-12-31"


def officer(lib: Library, username: str) -> FlaskClient:
    client = lib.app.test_client()
    assert login(client, username).status_code == 302
    return client


def figure(html: str, key: str) -> int:
    m = re.search(rf'id="stat-{key}">(\d+)<', html)
    assert m, key
    return int(m.group(1))


def test_officers_see_their_subtree_with_charts(library: Library) -> None:
    with library.app.app_context():
        data = seed(library)
        w = library.world
        d1 = {w.org_id(k) for k in ("d1", "g1", "b1")}
        d1_reads = [r for r in data.reads if r[2] in d1 and r[3].year == 2025]
    html = officer(library, "chaoyang").get(URL).get_data(as_text=True)
    assert figure(html, "reads") == len(d1_reads)
    assert figure(html, "readers") == len({r[0] for r in d1_reads})
    for key in ("reads", "loans", "titles", "unions"):
        assert f'aria-labelledby="lib-{key}-t lib-{key}-d"' in html, key
    assert html.count('<svg class="chart"') == 4
    assert "暂无数据" not in html
    assert "戊书" not in html  # read in d2 only
    assert "电控工会" in html and "软件园工会" not in html
    assert 'id="table-months"' in html and "<td data-label=\"月份\">2025-12</td>" in html

    haidian = officer(library, "haidian").get(URL).get_data(as_text=True)
    assert "戊书" in haidian and "电控工会" not in haidian
    assert figure(haidian, "reads") == len(
        [r for r in data.reads if r[2] == w.org_id("g2") and r[3].year == 2025])


def test_org_filter_and_scope(library: Library) -> None:
    with library.app.app_context():
        seed(library)
        w = library.world
        g1, g2 = w.org_id("g1"), w.org_id("g2")
    client = officer(library, "chaoyang")
    html = client.get(f"{URL}&org_id={g1}").get_data(as_text=True)
    assert "阅读统计 · 电控工会" in html and "京东方分会" in html
    assert client.get(f"{URL}&org_id={g2}").status_code == 404
    assert client.get(f"{URL}&org_id=abc").status_code == 404


def test_bad_range_is_flashed_and_the_default_shown(library: Library) -> None:
    client = officer(library, "chaoyang")
    html = client.get("/library/stats?start=2025-05-01&end=2025-04-01").get_data(as_text=True)
    assert "结束日期不能早于开始日期" in html
    start, end = service.default_range(service.beijing_today())
    assert f'value="{start.isoformat()}"' in html and f'value="{end.isoformat()}"' in html
    html = client.get("/library/stats?start=2025-02-30").get_data(as_text=True)
    assert "开始日期：请按 YYYY-MM-DD 填写日期" in html
    # No data yet: the charts say so.
    assert html.count("暂无数据") >= 4


def test_members_are_refused_and_officers_have_the_nav_and_widget(library: Library) -> None:
    member = library.app.test_client()
    assert login(member, library.world.people["m1"].mobile).status_code == 302
    assert member.get("/library/stats").status_code == 403
    with library.app.app_context():
        s = db.session()
        today = service.beijing_today()
        s.add(LibraryRead(account_id=library.world.people["m3"].account_id,
                          book_id=seed_book(library), org_id=library.world.org_id("b1"),
                          read_on=today, last_at=datetime.now(UTC)))
        s.commit()
    client = officer(library, "g1officer")
    home = client.get("/office/").get_data(as_text=True)
    assert 'href="/library/stats"' in home and "阅读统计" in home
    m = re.search(r'id="reading-reads">(\d+)<', home)
    assert m and m.group(1) == "1"
    assert re.search(r'id="reading-readers">1<', home)
    # The d2 officer's widget does not count a d1 read.
    home = officer(library, "haidian").get("/office/").get_data(as_text=True)
    assert re.search(r'id="reading-reads">0<', home)


def seed_book(lib: Library) -> int:
    from tests.library.conftest import add_book

    return add_book(lib.categories["I"], "本月书", owner_org_id=lib.world.org_id("city"))
