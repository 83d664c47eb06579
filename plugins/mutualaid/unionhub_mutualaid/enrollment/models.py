"""The enrollment feature's own table: the import staging table ``mutualaid_enroll_stage``
(a plain ``Table`` on the shared metadata, defined with its handler in :mod:`.importer`).
Coverage and fee statements are the plugin's shared tables (:mod:`unionhub_mutualaid.models`)."""

from __future__ import annotations

from .importer import stage

__all__ = ["models", "stage"]


def models() -> tuple[type, ...]:
    """No ORM classes: importing this module registers the staging table on the metadata."""
    return ()
