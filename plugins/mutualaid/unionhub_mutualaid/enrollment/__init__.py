"""Mutual aid: the enrollment feature (see :mod:`unionhub_mutualaid.features`)."""

from unionhub_mutualaid.features import Feature

FEATURE = Feature(name="enrollment")
