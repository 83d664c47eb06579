"""Library: stats (filled in by its feature package)."""

from __future__ import annotations

from unionhub_library.features import Feature

FEATURE = Feature(name="stats")
