"""The portal's panels on 我的 link to the surface they are shown on: the PC pages from the
core /me page, the micro-site's pages from /portal/m/me."""

from __future__ import annotations

from tests.helpers import login
from tests.portal.conftest import Portal


def test_panels_link_to_the_surface_they_are_on(portal: Portal) -> None:
    client = portal.app.test_client()
    login(client, portal.world.people["m1"].mobile)
    pc = client.get("/me").get_data(as_text=True)
    mobile = client.get("/portal/m/me").get_data(as_text=True)
    assert 'href="/portal/hotline/ask"' in pc and 'href="/portal/forum/my"' in pc
    assert 'href="/portal/m/hotline/ask"' in mobile and 'href="/portal/m/forum/my"' in mobile
    assert 'href="/portal/hotline/ask"' not in mobile
