"""Anonymous visitors' list pages (a class, an author, new, popular) kept in the process's
memory for a few seconds.

The catalogue's lists are public and the layout shows an anonymous visitor nothing of their
own, so every anonymous visitor gets the same page for the same address, language and host.
A kept page is served only while:

- it is younger than ``LIBRARY_LIST_CACHE_SECONDS`` (config; default :data:`SECONDS`;
  0 turns the cache off);
- the catalogue's *version* the view passes is unchanged — the class tree's kept counts for
  the class, new and popular pages, the author's kept count for an author's page. Adding,
  hiding, showing, moving or deleting a book moves those counts, so such a change shows at
  once;
- every book on it is still active (one primary-key query per hit): a book hidden a moment
  ago is never listed, even when another change put the counts back where they were.

Edits in place — a title, summary or cover, the free copies of a lent title, read counts
(the popular order) — show on a kept page up to ``LIBRARY_LIST_CACHE_SECONDS`` late.
Never kept: a signed-in viewer's page (their name and menu; a catalogue manager may see
more) and a page for a visitor with a message waiting to be flashed (it is theirs, once).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from threading import Lock

from flask import current_app, request, session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import bindparam, func, select

from unionhub import db

from ..models import LibraryBook
from .queries import active

#: Seconds a kept page lives (config ``LIBRARY_LIST_CACHE_SECONDS``).
SECONDS = 10.0
#: Pages kept at most per app; the oldest is dropped first (addresses and the Host header
#: are the client's: the memory stays bounded whatever they send).
MAX_PAGES = 256

_lock = Lock()
#: How many of the books ``ids`` are active (built once; primary-key lookups).
_ACTIVE_AMONG = select(func.count()).select_from(LibraryBook).where(
    LibraryBook.id.in_(bindparam("ids", expanding=True)), active())


@dataclass(frozen=True)
class Kept:
    expires: float
    version: Hashable
    book_ids: tuple[int, ...]
    html: str


def _ttl() -> float:
    return float(current_app.config.get("LIBRARY_LIST_CACHE_SECONDS", SECONDS))


def _all_active(ids: Sequence[int]) -> bool:
    if not ids:
        return True
    found = db.session().scalar(_ACTIVE_AMONG, {"ids": list(set(ids))})
    return found == len(set(ids))


def cached_list(version: Hashable, render: Callable[[], tuple[str, Sequence[int]]]) -> str:
    """The page at this address: kept for an anonymous visitor (see the module), else
    ``render()`` — which returns (HTML, the ids of the books it lists)."""
    ttl = _ttl()
    if ttl <= 0 or current_user.is_authenticated or session.get("_flashes"):
        return render()[0]
    cache: dict[tuple[str, ...], Kept] = current_app.extensions.setdefault(
        "library_list_cache", {})
    key = (request.full_path, str(get_locale()), request.host_url, request.script_root)
    now = time.monotonic()
    hit = cache.get(key)
    if (hit is not None and hit.expires > now and hit.version == version
            and _all_active(hit.book_ids)):
        return hit.html
    html, ids = render()
    with _lock:
        cache.pop(key, None)
        while len(cache) >= MAX_PAGES:
            cache.pop(next(iter(cache)))
        cache[key] = Kept(now + ttl, version, tuple(ids), html)
    return html
