"""Integration tests run on PostgreSQL (required with CI=true; skipped otherwise)."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def pg_database_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        msg = ("integration tests need PostgreSQL: set UNIONHUB_TEST_DATABASE_URL "
               "(scripts/test.sh does so with CI=true)")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return database_url
