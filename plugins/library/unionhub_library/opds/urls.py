"""Absolute URLs the feeds point at (several OPDS apps do not resolve relative links).

The pages and files served by the other library features are named here, in one place:
the web book page and the public cover and thumbnail (browse), the file download (loans).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import Any

from flask import current_app, url_for

from ..browse.covers import image_url
from ..models import LibraryBook


def external(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


def book_page(book_id: int) -> str:
    return external("library.book", book_id=book_id)


def cover(book: LibraryBook) -> str | None:
    """The cover's versioned address (cacheable; it changes with the image), None without
    a cover."""
    return image_url(book, thumb=False, external=True)


def thumbnail(book: LibraryBook) -> str | None:
    """The thumbnail's address (the cover until the background job has made it)."""
    return image_url(book, thumb=True, external=True)


def download(book_id: int, fmt: str) -> str:
    return external("library.download", book_id=book_id, fmt=fmt)


def _namespace() -> uuid.UUID:
    """A UUID namespace of this installation (keyed by the secret key through HMAC, which
    does not reveal it): ids stay the same whatever host name an app uses."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return uuid.UUID(bytes=hmac.new(key, b"unionhub-library-opds", hashlib.sha256).digest()[:16])


def urn(kind: str, key: object) -> str:
    """A stable ``urn:uuid:`` for a book (``kind="book"``) or a feed."""
    return f"urn:uuid:{uuid.uuid5(_namespace(), f'{kind}:{key}')}"
