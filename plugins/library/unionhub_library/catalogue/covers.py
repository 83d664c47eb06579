"""Cover images: checked and re-encoded on arrival, thumbnails made by a background job.

An uploaded (or EPUB-embedded) cover must be a real raster image Pillow can decode, with a
bounded pixel count (checked from the header, before decoding: no decompression bomb); it is
re-encoded to a JPEG of at most :data:`COVER_MAX_SIDE` pixels, so that nothing the uploader
wrote (scripts in SVG, EXIF data, polyglot files) is ever served back.

The thumbnail (:data:`THUMB_WIDTH` pixels wide) has the cover's stored name in the
``thumbs`` area, so running the job twice for the same cover writes the same file and
changes nothing.
"""

from __future__ import annotations

import io
import logging
import os
import warnings
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select, update

from unionhub.i18n import _

from .. import storage
from ..models import LibraryBook
from .errors import CatalogueError

log = logging.getLogger(__name__)

COVER_MAX_PIXELS = 40_000_000
COVER_MAX_BYTES = 20 * 1024 * 1024
COVER_MAX_SIDE = 1600
COVER_MIN_SIDE = 16
THUMB_WIDTH = 240
#: A thumbnail is never taller than this (a strip-shaped "cover" stays small).
THUMB_MAX_HEIGHT = 720
JPEG_QUALITY = 85
FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP")
THUMB_JOB = "library.catalogue_thumbnail"


def _flatten(img: Image.Image) -> Image.Image:
    """RGB on white (transparency, palettes and CMYK become plain RGB)."""
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return img.convert("RGB")


def _encode(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def cover_jpeg(data: bytes) -> bytes:
    """``data`` checked and re-encoded as a JPEG cover; :class:`CatalogueError` (``cover``)
    when it is not an acceptable image."""
    if not data:
        raise CatalogueError({"cover": _("封面图片是空的")})
    if len(data) > COVER_MAX_BYTES:
        raise CatalogueError({"cover": _("封面图片超过 %(mb)s MB 的上限",
                                         mb=COVER_MAX_BYTES // (1024 * 1024))})
    too_big = CatalogueError({"cover": _("封面图片尺寸过大，请缩小后再上传")})
    try:
        with warnings.catch_warnings():
            # The pixel count is checked below, from the header, before anything is decoded.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
        with img:
            if img.format not in FORMATS:
                raise CatalogueError({"cover": _("封面只支持 JPEG、PNG、GIF、WebP 或 BMP 图片")})
            width, height = img.size
            if width * height > COVER_MAX_PIXELS:
                raise too_big
            if min(width, height) < COVER_MIN_SIDE:
                raise CatalogueError({"cover": _("封面图片太小（%(w)s×%(h)s 像素）",
                                                 w=width, h=height)})
            img.load()
            picture = _flatten(ImageOps.exif_transpose(img) or img)
    except CatalogueError:
        raise
    except Image.DecompressionBombError:
        raise too_big from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        log.info("cover refused: %s: %s", exc.__class__.__name__, exc)
        raise CatalogueError({"cover": _("封面不是有效的图片文件，或图片已损坏")}) from None
    picture.thumbnail((COVER_MAX_SIDE, COVER_MAX_SIDE), Image.Resampling.LANCZOS)
    return _encode(picture)


def thumbnail_jpeg(cover: bytes) -> bytes:
    """A :data:`THUMB_WIDTH`-pixel-wide JPEG of a stored (already checked) cover."""
    with Image.open(io.BytesIO(cover)) as img:
        img.load()
        picture = _flatten(img)
    width, height = picture.size
    new_height = max(1, min(THUMB_MAX_HEIGHT, round(height * THUMB_WIDTH / width)))
    return _encode(picture.resize((THUMB_WIDTH, new_height), Image.Resampling.LANCZOS))


def write_atomically(area: str, stored_name: str, data: bytes) -> None:
    """Write a stored file so that a reader never sees half of it."""
    target = storage.path_of(area, stored_name)
    if target is None:
        raise ValueError(f"not a stored name: {stored_name!r}")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def thumbnail_job(ctx: Any) -> dict[str, Any]:
    """Job ``library.catalogue_thumbnail`` (params ``book_id``): make the thumbnail of the
    book's current cover and set ``thumb_name``. Idempotent: the thumbnail of a cover has
    the cover's name, and the row is updated only while that cover is still the book's."""
    from unionhub import db

    s = db.session()
    book_id = int(ctx.params["book_id"])
    row = s.execute(select(LibraryBook.cover_name, LibraryBook.thumb_name)
                    .where(LibraryBook.id == book_id)).first()
    if row is None or row.cover_name is None:
        return {"made": 0, "reason": "no cover"}
    cover_name, old_thumb = row
    source = storage.path_of("covers", cover_name)
    if source is None or not source.is_file():
        return {"made": 0, "reason": "cover file missing"}
    write_atomically("thumbs", cover_name, thumbnail_jpeg(source.read_bytes()))
    changed = s.execute(update(LibraryBook)
                        .where(LibraryBook.id == book_id, LibraryBook.cover_name == cover_name)
                        .values(thumb_name=cover_name)
                        .execution_options(synchronize_session=False)).rowcount
    s.commit()
    if not changed:  # the cover was replaced meanwhile: its own job makes its thumbnail
        stale = storage.path_of("thumbs", cover_name)
        if stale is not None:
            stale.unlink(missing_ok=True)
        return {"made": 0, "reason": "cover replaced"}
    if old_thumb and old_thumb != cover_name:
        old = storage.path_of("thumbs", old_thumb)
        if old is not None:
            old.unlink(missing_ok=True)
    ctx.counts.update({"made": 1})
    return {"made": 1, "thumb": cover_name}
