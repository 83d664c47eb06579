"""Where the library keeps files: ``<instance>/library/{files,covers,thumbs,tmp}`` and the
museum's ``<instance>/library/museum``. Stored names are random (32 hex + a known extension);
an upload's own name is kept only as data, never as a path."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import current_app

AREAS = ("files", "covers", "thumbs", "tmp", "museum")


def area(name: str) -> Path:
    """The directory of one area (created on first use)."""
    if name not in AREAS:
        raise ValueError(f"unknown storage area {name!r}")
    path = Path(current_app.instance_path) / "library" / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_name(ext: str) -> str:
    """A fresh stored name with extension ``ext`` (``"epub"``, ``"jpg"`` …)."""
    ext = ext.lower().lstrip(".")
    if not ext.isalnum() or len(ext) > 8:
        raise ValueError(f"bad extension {ext!r}")
    return f"{secrets.token_hex(16)}.{ext}"


def path_of(area_name: str, stored_name: str | None) -> Path | None:
    """The path of a stored file, or None when the name is not one of ours."""
    if not stored_name:
        return None
    stem, _, ext = stored_name.partition(".")
    if len(stem) != 32 or not all(c in "0123456789abcdef" for c in stem) or not ext.isalnum():
        return None
    return area(area_name) / stored_name
