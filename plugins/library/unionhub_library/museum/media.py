"""An exhibit's media file: checked, stored under a random name, served only through the
museum's media endpoint (see :mod:`.views`).

Every upload is hostile until proved otherwise. It is streamed into the library's ``tmp``
area (never held whole in memory) and refused above the ``library.upload_max_mb`` setting.

- Images are decoded with Pillow (JPEG, PNG, GIF, WebP, TIFF, BMP), refused above
  :data:`MAX_PIXELS` before anything is decoded, turned upright from their EXIF orientation,
  scaled down to :data:`MAX_SIDE` and **re-encoded** (JPEG, or PNG when the picture has
  transparency): what is served is always our own encoding, with no embedded metadata such as
  GPS positions. A JPEG thumbnail of at most :data:`THUMB_SIDE` pixels is made for the grids.
- Video and audio cannot be re-encoded without external tools, so their first bytes must be
  the signature of the container their extension names (MP4, WebM, Ogg, MP3, WAV, FLAC).

A refused file leaves nothing behind: the temporary file is removed and no stored name is
returned. Files live in ``<instance>/library/museum/media`` and ``…/museum/thumbs``.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

from unionhub.i18n import _
from unionhub.settings import service as settings

from .. import storage

#: Largest image accepted, in pixels (checked from the header, before decoding).
MAX_PIXELS = 60_000_000
#: Longest side of the stored image; larger ones are scaled down.
MAX_SIDE = 6000
#: Longest side of the grid thumbnail.
THUMB_SIDE = 640
JPEG_QUALITY = 88
CHUNK = 1024 * 1024

IMAGE_EXTS = ("jpg", "jpeg", "png", "gif", "webp", "tif", "tiff", "bmp")
IMAGE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP", "MPO")
#: extension → (kind, media type) for time-based media (stored as uploaded).
AV_TYPES: dict[str, tuple[str, str]] = {
    "mp4": ("video", "video/mp4"), "m4v": ("video", "video/mp4"),
    "webm": ("video", "video/webm"), "ogv": ("video", "video/ogg"),
    "mp3": ("audio", "audio/mpeg"), "m4a": ("audio", "audio/mp4"),
    "oga": ("audio", "audio/ogg"), "ogg": ("audio", "audio/ogg"),
    "wav": ("audio", "audio/wav"), "flac": ("audio", "audio/flac"),
}
#: What each kind accepts, for the form's ``accept`` attribute and the messages.
ACCEPT = {
    "image": ",".join(f".{e}" for e in IMAGE_EXTS),
    "video": ",".join(f".{e}" for e, (k, _t) in AV_TYPES.items() if k == "video"),
    "audio": ",".join(f".{e}" for e, (k, _t) in AV_TYPES.items() if k == "audio"),
}
KIND_NAMES = {"image": "图片", "video": "视频", "audio": "音频"}
STORED = re.compile(r"^[0-9a-f]{32}\.[a-z0-9]{2,4}$")


class MediaError(Exception):
    """A refused upload; ``str(e)`` is the message for the uploader."""


@dataclass(frozen=True)
class StoredMedia:
    name: str
    media_type: str
    size: int
    width: int | None = None
    height: int | None = None


def media_dir() -> Path:
    path = storage.area("museum") / "media"
    path.mkdir(exist_ok=True)
    return path


def thumbs_dir() -> Path:
    path = storage.area("museum") / "thumbs"
    path.mkdir(exist_ok=True)
    return path


def media_path(name: str | None) -> Path | None:
    """Where a stored media file lives (None for a name this module never makes)."""
    if not name or not STORED.match(name):
        return None
    return media_dir() / name


def thumb_path(name: str | None) -> Path | None:
    """The grid thumbnail of a stored image (None when the name is not ours)."""
    if not name or not STORED.match(name):
        return None
    return thumbs_dir() / (name.partition(".")[0] + ".jpg")


def remove(name: str | None) -> None:
    """Delete a stored file and its thumbnail (missing files are fine)."""
    for path in (media_path(name), thumb_path(name)):
        if path is not None:
            path.unlink(missing_ok=True)


def max_bytes() -> int:
    return int(settings.get("library.upload_max_mb")) * 1024 * 1024


def extension(filename: str) -> str:
    base = re.split(r"[\\/]", filename or "")[-1]
    return base.rpartition(".")[2].lower() if "." in base else ""


def _allowed_message(kind: str) -> str:
    return _("%(kind)s只能上传这些格式：%(exts)s", kind=_(KIND_NAMES[kind]),
             exts=ACCEPT[kind].replace(",", " "))


def _spool(stream: IO[bytes], filename: str) -> Path:
    """Copy ``stream`` into a fresh temporary file, refusing it above the size limit."""
    limit = max_bytes()
    tmp = storage.area("tmp") / storage.new_name("part")
    written = 0
    try:
        with tmp.open("wb") as out:
            while chunk := stream.read(CHUNK):
                written += len(chunk)
                if written > limit:
                    raise MediaError(_("文件“%(name)s”超过 %(mb)s MB 的上限", name=filename,
                                       mb=limit // (1024 * 1024)))
                out.write(chunk)
        if written == 0:
            raise MediaError(_("文件“%(name)s”是空的", name=filename))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def receive(stream: IO[bytes], filename: str, kind: str) -> StoredMedia:
    """Check an upload meant as an exhibit of ``kind`` and store it; :class:`MediaError`
    says why it was refused (and nothing is left behind)."""
    if kind not in KIND_NAMES:
        raise MediaError(_("展品类型有误"))
    ext = extension(filename)
    wrong = (ext not in IMAGE_EXTS) if kind == "image" else (
        ext not in AV_TYPES or AV_TYPES[ext][0] != kind)
    if wrong:
        raise MediaError(_("“%(name)s”不是可接受的%(kind)s文件。", name=filename,
                           kind=_(KIND_NAMES[kind])) + _allowed_message(kind))
    tmp = _spool(stream, filename)
    try:
        return _store_image(tmp, filename) if kind == "image" else _store_av(tmp, filename, ext)
    finally:
        tmp.unlink(missing_ok=True)


def receive_bytes(data: bytes, filename: str, kind: str) -> StoredMedia:
    """:func:`receive` for bytes already in memory (the demo, the tests)."""
    import io

    return receive(io.BytesIO(data), filename, kind)


def _store_image(src: Path, filename: str) -> StoredMedia:
    not_image = _("文件“%(name)s”不是有效的图片（无法识别或已损坏），请上传 JPEG、PNG、GIF、"
                  "WebP、TIFF 或 BMP 图片", name=filename)
    try:
        with Image.open(src) as im:
            if im.format not in IMAGE_FORMATS:
                raise MediaError(not_image)
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise MediaError(_("图片“%(name)s”有 %(w)s×%(h)s 像素，超过 %(mp)s 百万像素的上限",
                                   name=filename, w=width, h=height,
                                   mp=MAX_PIXELS // 1_000_000))
            im.load()
            picture = ImageOps.exif_transpose(im)
    except MediaError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError,
            ValueError, EOFError) as exc:
        raise MediaError(not_image) from exc
    alpha = picture.mode in ("RGBA", "LA", "PA") or (
        picture.mode == "P" and "transparency" in picture.info)
    picture = picture.convert("RGBA" if alpha else "RGB")
    picture.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    name = storage.new_name("png" if alpha else "jpg")
    target = media_dir() / name
    thumb = thumb_path(name)
    assert thumb is not None
    try:
        if alpha:
            picture.save(target, "PNG", optimize=True)
        else:
            picture.save(target, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
        small = picture.copy()
        small.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
        if alpha:
            flat = Image.new("RGB", small.size, (255, 255, 255))
            flat.paste(small, mask=small.getchannel("A"))
            small = flat
        small.save(thumb, "JPEG", quality=82, optimize=True)
    except BaseException:
        remove(name)
        raise
    return StoredMedia(name, "image/png" if alpha else "image/jpeg", target.stat().st_size,
                       picture.width, picture.height)


def sniff_av(ext: str, head: bytes) -> bool:
    """Whether ``head`` (a file's first bytes) starts the container ``ext`` names."""
    if ext in ("mp4", "m4v", "m4a"):
        return len(head) >= 12 and head[4:8] == b"ftyp"
    if ext == "webm":
        return head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head[:64]
    if ext in ("ogv", "oga", "ogg"):
        return head.startswith(b"OggS")
    if ext == "mp3":
        return head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF
                                           and head[1] & 0xE0 == 0xE0)
    if ext == "wav":
        return len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE"
    if ext == "flac":
        return head.startswith(b"fLaC")
    return False


def _store_av(src: Path, filename: str, ext: str) -> StoredMedia:
    kind, media_type = AV_TYPES[ext]
    with src.open("rb") as f:
        head = f.read(64)
    if not sniff_av(ext, head):
        raise MediaError(_("文件“%(name)s”的内容不是 %(ext)s 格式的%(kind)s，请检查文件是否损坏"
                           "或扩展名是否正确", name=filename, ext=ext.upper(),
                           kind=_(KIND_NAMES[kind])))
    stored_ext = "mp4" if ext == "m4v" else "ogg" if ext == "oga" else ext
    name = storage.new_name(stored_ext)
    target = media_dir() / name
    try:
        os.replace(src, target)
    except OSError:
        shutil.copyfile(src, target)
    return StoredMedia(name, media_type, target.stat().st_size)
