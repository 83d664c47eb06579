"""Redirect targets that never leave the site."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request, url_for


def safe_next(target: str | None, default: str = "web.home") -> str:
    if target:
        parts = urlsplit(target)
        same_host = parts.netloc in ("", request.host)
        if same_host and parts.scheme in ("", request.scheme) and not target.startswith("//"):
            path = parts.path or "/"
            return path + (f"?{parts.query}" if parts.query else "")
    return url_for(default)
