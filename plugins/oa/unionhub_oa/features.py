"""The OA plugin's feature packages (see :mod:`unionhub.features`): each exports ``FEATURE``,
and :mod:`.plugin` answers the hooks from :data:`FEATURES`. The approval engine comes first:
documents and the data-exchange run ask it for sign-off; ``demo``, last, seeds on all of them."""

from __future__ import annotations

from unionhub.features import Feature, FeatureSet

__all__ = ["FEATURES", "Feature"]

FEATURES = FeatureSet((
    "unionhub_oa.workflow",
    "unionhub_oa.documents",
    "unionhub_oa.accounting",
    "unionhub_oa.exchange",
    "unionhub_oa.campaigns",
    "unionhub_oa.demo",
))
