"""The library's feature packages (see :mod:`unionhub.features`): each exports ``FEATURE``, and
:mod:`.plugin` answers the hooks from :data:`FEATURES`. The order is the demo's: the catalogue
is seeded first, then reading history and loans on it, then the museum."""

from __future__ import annotations

from unionhub.features import Feature, FeatureSet

__all__ = ["FEATURES", "Feature"]

FEATURES = FeatureSet((
    "unionhub_library.catalogue",
    "unionhub_library.reader",
    "unionhub_library.loans",
    "unionhub_library.opds",
    "unionhub_library.museum",
))
