"""Portal: the hotline feature (being built)."""

from __future__ import annotations

from unionhub_portal.features import Feature

FEATURE = Feature(name="hotline")
