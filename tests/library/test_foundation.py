"""The plugin loads, migrates and seeds the 22 top-level 中图法 classes."""

from __future__ import annotations

from typing import Any


def test_top_level_classes_seeded(library: Any) -> None:
    assert len(library.categories) == 22
    assert {"A", "I", "T", "Z"} <= set(library.categories)
