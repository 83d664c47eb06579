"""Welfare mall: the channels feature (placeholder until its package lands)."""

from unionhub_benefits_mall.features import Feature

FEATURE = Feature(name="channels")
