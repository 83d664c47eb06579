"""A book's cover and thumbnail (``/library/book/<id>/cover`` and ``/thumb``).

The images are the stored files the catalogue made (never an upload's own bytes or name),
served to anyone for an active book and to catalogue managers for a hidden one. A page links
them with ``?v=`` and the first characters of the stored name: that address changes when the
image does, so a response to it may be cached for a day; any other request revalidates
(conditional GET on the file's ETag and date).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Response, abort, request, send_file, url_for
from flask_login import current_user

from unionhub import db

from .. import storage
from ..access import can_see
from ..models import BookState, LibraryBook
from ..web import bp

IMAGE_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png",
               "webp": "image/webp", "gif": "image/gif"}
#: Seconds a versioned image of an active book may be cached.
CACHE_SECONDS = 86400
VERSION_CHARS = 8


def version(stored_name: str | None) -> str:
    """The ``v`` of an image's address (empty when there is no image)."""
    return (stored_name or "")[:VERSION_CHARS]


def image_name(book: LibraryBook, thumb: bool) -> str | None:
    """The stored name a thumbnail request serves: the thumbnail, else (not made yet) the
    cover. The address's ``v`` uses the same name."""
    return (book.thumb_name or book.cover_name) if thumb else book.cover_name


@bp.app_template_global("library_image_url")
def image_url(book: LibraryBook, thumb: bool = True, external: bool = False) -> str | None:
    """The versioned address of a book's thumbnail (or cover), None when it has none."""
    name = image_name(book, thumb)
    if not name:
        return None
    return url_for("library.thumb" if thumb else "library.cover", book_id=book.id,
                   v=version(name), _external=external)


def _file(book: LibraryBook, thumb: bool) -> tuple[Path, str] | None:
    candidates = [("thumbs", book.thumb_name)] if thumb else []
    candidates.append(("covers", book.cover_name))
    for area, name in candidates:
        path = storage.path_of(area, name)
        if path is not None and path.is_file():
            return path, str(name)
    return None


def _serve(book_id: int, thumb: bool) -> Response:
    book = db.session().get(LibraryBook, book_id)
    if book is None or not can_see(current_user, book):
        abort(404)
    found = _file(book, thumb)
    if found is None:
        abort(404)
    path, name = found
    mimetype = IMAGE_TYPES.get(path.suffix.lower().lstrip("."))
    if mimetype is None:
        abort(404)
    resp = send_file(path, mimetype=mimetype, conditional=True, max_age=0, etag=True)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if book.state == BookState.ACTIVE and request.args.get("v") == version(name):
        resp.cache_control.public = True
        resp.cache_control.max_age = CACHE_SECONDS
    else:
        resp.cache_control.public = False
        resp.cache_control.private = book.state != BookState.ACTIVE
        resp.cache_control.no_cache = True
        resp.cache_control.max_age = 0
    return resp


@bp.route("/book/<int:book_id>/cover")
def cover(book_id: int) -> Any:
    return _serve(book_id, thumb=False)


@bp.route("/book/<int:book_id>/thumb")
def thumb(book_id: int) -> Any:
    return _serve(book_id, thumb=True)
