"""Library: the catalogue — books, their authors, files (EPUB, PDF, TXT) and covers.

Officers holding ``library.catalogue.manage`` upload one book or import many (a zip of files
plus a metadata spreadsheet, as a tracked job), edit metadata and covers, add files in other
formats, hide and put back books — only for books owned by unions in their subtree.

Public entry points: :func:`.ingest.ingest_bytes` (one file → a book), the write side in
:mod:`.service` (``create_book``, ``update_book``, ``set_state``, ``add_file``,
``set_cover``, ``recount``), :func:`.isbn.normalise_isbn`, and :data:`.formats.TXT_PAGE_CHARS`
/ :func:`.formats.txt_pages` for the reader. Nothing heavy at import.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unionhub.contrib import NavItem
from unionhub_library.features import Feature


def _jobs() -> Sequence[Any]:
    from unionhub.jobs import JobSpec

    from .bulk import import_job
    from .covers import thumbnail_job

    return [
        JobSpec("catalogue_thumbnail", "生成图书封面缩略图", thumbnail_job, max_attempts=3),
        # Rows already imported are committed; a re-run would report them as duplicates.
        JobSpec("catalogue_import", "批量导入图书", import_job,
                permission="library.catalogue.manage", max_attempts=1),
    ]


FEATURE = Feature(
    name="catalogue",
    views=("unionhub_library.catalogue.views",),
    nav=(
        NavItem("officer", "library_books", "图书管理", "library.admin_books",
                permission="library.catalogue.manage", priority=60),
    ),
    jobs=_jobs,
)
