"""UnionHub (数字工会平台): the core platform.

The public face is deliberately small: ``create_app`` builds the Flask application and
``hookimpl`` marks a plugin's hook implementations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("unionhub")

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application (see :mod:`unionhub.app`)."""
    from unionhub.app import create_app as _create_app

    return _create_app(config)


__all__ = ["__version__", "create_app", "hookimpl"]
