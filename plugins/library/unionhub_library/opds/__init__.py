"""Library: OPDS — an OPDS 1.2 catalogue (``/library/opds/``) for e-reader apps: navigation
and acquisition feeds (new, popular, classes, the reader's loans and shelves), search
through an OpenSearch description, covers; signed in with per-member app tokens over HTTP
Basic (never the member's password), with file and borrow links as licences and loans allow.

The "阅读App" page (``/library/opds-tokens``) makes and revokes the tokens; a "我的" panel
links to it. :func:`.auth.account_from_basic_auth` lets other endpoints an app calls (the
file download) accept the same tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

from unionhub.contrib import ProfilePanel
from unionhub_library.features import Feature


def _panels() -> Sequence[ProfilePanel]:
    from .token_views import app_panel

    return [ProfilePanel("library_apps", "阅读App", app_panel, priority=75)]


FEATURE = Feature(
    name="opds",
    views=("unionhub_library.opds.views", "unionhub_library.opds.borrow",
           "unionhub_library.opds.token_views"),
    profile_panels=_panels,
)
