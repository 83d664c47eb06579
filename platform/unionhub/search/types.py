"""What plugins return from ``unionhub_search_indexers()``: indexers and their documents.

Kept free of whoosh and jieba imports: plugins import this module at start-up.

A document names its audience with **access tokens** (``acl``); a viewer holds a set of
tokens (:func:`unionhub.search.acl.viewer_tokens`) and sees a document only when the two
share one. Build tokens with the helpers in :mod:`unionhub.search.acl`:

- ``PUBLIC`` — everyone, signed in or not;
- ``MEMBER`` — any signed-in active member;
- ``org_token(org)`` — members of that org's subtree (content targeted at an org);
- ``officer_tokens(permission, org)`` — accounts holding ``permission`` on ``org`` (a role
  granted at the org or at one of its ancestors).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

DOC_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_.:+\-]+$")
PUBLISHED = "published"


@dataclass(frozen=True)
class SearchDocument:
    """One searchable thing. ``doc_id`` is unique within its indexer's ``doc_type``.

    Never put clear ID, card or mobile numbers in ``title`` or ``body``: the index is a
    plain file; use the masked forms.
    """

    doc_id: str
    title: str
    url: str
    acl: tuple[str, ...]
    body: str = ""
    status: str = PUBLISHED
    #: Hidden until this moment (scheduled publishing); ``None`` = always.
    published_at: datetime | None = None
    #: Hidden from this moment on; ``None`` = never.
    expires_at: datetime | None = None
    updated_at: datetime | None = None
    #: Extra keywords to filter on, e.g. ``("section:notice",)``.
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.doc_id or not isinstance(self.doc_id, str):
            raise ValueError("SearchDocument.doc_id must be a non-empty string")
        if not self.acl:
            raise ValueError(f"document {self.doc_id}: acl is empty (name its audience)")
        for token in (*self.acl, *self.tags):
            if not TOKEN_RE.match(token):
                raise ValueError(f"document {self.doc_id}: bad token {token!r}")
        for when in (self.published_at, self.expires_at, self.updated_at):
            if when is not None and when.tzinfo is None:
                raise ValueError(f"document {self.doc_id}: naive datetime")


#: ``documents(session, ids)``: every document when ``ids`` is None, else those of the
#: given ids that still exist (a missing id means "delete it from the index").
DocumentsFn = Callable[["Session", Sequence[str] | None], Iterable[SearchDocument]]


@dataclass(frozen=True)
class SearchIndexer:
    """A kind of searchable content, shown as one tab of the search page."""

    #: ``"<plugin>.<type>"``; the core uses ``"core."``.
    doc_type: str
    #: Tab title (Simplified Chinese; translated with the UI).
    label: str
    documents: DocumentsFn
    #: Number of documents a full rebuild will yield (for progress bars); optional.
    count: Callable[[Session], int] | None = None
    #: Statuses a viewer may find (anything else — drafts, withdrawn — never shows).
    visible_statuses: tuple[str, ...] = (PUBLISHED,)
    #: Tab order: lower first.
    priority: int = 100

    def __post_init__(self) -> None:
        if not DOC_TYPE_RE.match(self.doc_type):
            raise ValueError(f"doc_type {self.doc_type!r} must look like 'plugin.type'")
        if not self.visible_statuses:
            raise ValueError(f"indexer {self.doc_type}: visible_statuses is empty")

    @property
    def plugin(self) -> str:
        return self.doc_type.split(".", 1)[0]
