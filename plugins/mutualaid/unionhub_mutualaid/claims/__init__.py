"""Mutual aid: the claims feature (see :mod:`unionhub_mutualaid.features`)."""

from unionhub_mutualaid.features import Feature

FEATURE = Feature(name="claims")
