"""Library: the reader — EPUB chapters rendered and sanitised on the server (images and
stylesheets through an authorised endpoint), PDF page by page (each page sent as a PDF of its
own, with its text), TXT page by page; reading progress kept on the server and resumed on any
device; shelves (想读 / 在读 / 读过 and the reader's own) and reading history; one read counted
per reader, book and day. Pages: ``/library/read/…``, ``/library/shelves``; the app API under
``/api/v1/library``; the "在读" panel on "我的" and a "继续阅读" widget on the member home.

Nothing heavy at import: views, services and renderers load lazily.
"""

from __future__ import annotations

from collections.abc import Sequence

from unionhub.contrib import DashboardWidget, NavItem, ProfilePanel
from unionhub_library.features import Feature


def _panels() -> Sequence[ProfilePanel]:
    from .views import reading_panel

    return [ProfilePanel("library_reading", "在读的书", reading_panel, priority=45)]


def _widgets() -> Sequence[DashboardWidget]:
    from .views import continue_widget

    return [DashboardWidget("member", "library_continue", "继续阅读", continue_widget,
                            permission="library.read", priority=45)]


FEATURE = Feature(
    name="reader",
    views=("unionhub_library.reader.views", "unionhub_library.reader.api"),
    nav=(NavItem("member", "shelves", "我的书架", "library.shelves", icon="📖",
                 permission="library.read", priority=41),),
    profile_panels=_panels,
    dashboard_widgets=_widgets,
)
