"""The portal's feature packages (see :mod:`unionhub.features`): each exports ``FEATURE``, and
:mod:`.plugin` answers the hooks from :data:`FEATURES`. The order is the demo's: articles are
seeded into the sections, the hotline and the forum after them."""

from __future__ import annotations

from unionhub.features import Feature, FeatureSet

__all__ = ["FEATURES", "Feature"]

FEATURES = FeatureSet((
    "unionhub_portal.sections",
    "unionhub_portal.articles",
    "unionhub_portal.site",
    "unionhub_portal.hotline",
    "unionhub_portal.forum",
))
