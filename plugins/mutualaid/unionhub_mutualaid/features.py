"""The mutual-aid plugin's feature packages (see :mod:`unionhub.features`): each exports
``FEATURE``, and :mod:`.plugin` answers the hooks from :data:`FEATURES`."""

from __future__ import annotations

from unionhub.features import Feature, FeatureSet

__all__ = ["FEATURES", "Feature"]

FEATURES = FeatureSet((
    "unionhub_mutualaid.enrollment",
    "unionhub_mutualaid.claims",
    "unionhub_mutualaid.settlement",
    "unionhub_mutualaid.payouts",
    "unionhub_mutualaid.screening",
    "unionhub_mutualaid.office",
))
