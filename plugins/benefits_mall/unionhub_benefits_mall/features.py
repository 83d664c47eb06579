"""The welfare mall's feature packages (see :mod:`unionhub.features`): each exports
``FEATURE``, and :mod:`.plugin` answers the hooks from :data:`FEATURES`. The order is the demo's:
the coupons seeder finds the catalogue's merchants and offers and the channels."""

from __future__ import annotations

from unionhub.features import Feature, FeatureSet

__all__ = ["FEATURES", "Feature"]

FEATURES = FeatureSet((
    "unionhub_benefits_mall.catalogue",
    "unionhub_benefits_mall.channels",
    "unionhub_benefits_mall.points",
    "unionhub_benefits_mall.coupons",
    "unionhub_benefits_mall.bookings",
    "unionhub_benefits_mall.reports",
))
