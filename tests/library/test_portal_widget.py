"""The library's new books on the portal's home page: an optional contribution, so the library
starts without the portal and shows up on the portal's home when both are enabled."""

from __future__ import annotations

from typing import Any

from tests.conftest import AppFactory
from tests.library.conftest import add_book


def test_library_starts_without_the_portal_and_fills_its_home_with_it(
        library: Any, make_app: AppFactory) -> None:
    app = library.app
    assert "portal.home.widgets" not in app.extensions["unionhub"].registries.slots
    with app.app_context():
        add_book(library.categories["I"], "铁人精神读本",
                 owner_org_id=library.world.orgs["city"].id)
    make_app.set_plugin("portal", True)
    both = make_app()
    contribs = both.extensions["unionhub"].registries.slot_contribs["portal.home.widgets"]
    assert [c.key for _plugin, c in contribs] == ["library_new_books"]
    html = both.test_client().get("/portal/").get_data(as_text=True)
    assert "铁人精神读本" in html
