"""Mutual aid: the screening feature (see :mod:`unionhub_mutualaid.features`)."""

from unionhub_mutualaid.features import Feature

FEATURE = Feature(name="screening")
