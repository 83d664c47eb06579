"""Welfare mall: the catalogue feature (placeholder until its package lands)."""

from unionhub_benefits_mall.features import Feature

FEATURE = Feature(name="catalogue")
