"""Mutual aid: the payouts feature (see :mod:`unionhub_mutualaid.features`)."""

from unionhub_mutualaid.features import Feature

FEATURE = Feature(name="payouts")
