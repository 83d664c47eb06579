"""Mutual aid: the office feature (see :mod:`unionhub_mutualaid.features`)."""

from unionhub_mutualaid.features import Feature

FEATURE = Feature(name="office")
