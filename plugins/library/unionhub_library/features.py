"""The library's feature packages (see :mod:`unionhub.features`): each exports ``FEATURE``, and
:mod:`.plugin` answers the hooks from :data:`FEATURES`. The museum seeds its exhibitions;
the ``demo`` package, last, seeds the catalogue and reading history and loans on it."""

from __future__ import annotations

from unionhub.features import Feature, FeatureSet

__all__ = ["FEATURES", "Feature"]

FEATURES = FeatureSet((
    "unionhub_library.catalogue",
    "unionhub_library.browse",
    "unionhub_library.reader",
    "unionhub_library.loans",
    "unionhub_library.stats",
    "unionhub_library.opds",
    "unionhub_library.museum",
    "unionhub_library.demo",
))
