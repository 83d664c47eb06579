"""Two 二次报销 runs of one quarter at the same moment, on a real PostgreSQL: the second waits
for the first (advisory lock of the quarter) and then owes nothing new — paid once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.integration.test_pg_identity import race
from tests.mutualaid.conftest import MA
from tests.mutualaid.test_ecbx import owed, settle
from unionhub import db

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("in_late_2026")]


def test_two_runs_of_one_quarter_at_once_pay_once(pg_database_url, ma: MA):
    from unionhub_mutualaid.models import MutualaidPayout
    from unionhub_mutualaid.settlement import ecbx
    from unionhub_mutualaid.settlement.models import MutualaidEcbxBatch, MutualaidEcbxLine

    with ma.app.app_context():
        for key in ("m1", "m2"):
            settle(ma, key, "3000.00", date(2026, 2, 2))
    batches: list[object] = []

    def run() -> None:
        batches.append(ecbx.run_quarter(db.session(), "2026Q1"))

    # neither run fails: the second waits for the first, then finds nothing new
    assert race(ma.app, run) == [None, None]
    assert sum(b is not None for b in batches) == 1
    assert race(ma.app, run) == [None, None]  # and again: nothing new for either
    assert sum(b is not None for b in batches) == 1
    with ma.app.app_context():
        s = db.session()
        assert s.scalar(select(func.count()).select_from(MutualaidEcbxBatch)) == 1
        assert s.scalar(select(func.count()).select_from(MutualaidEcbxLine)) == 2
        assert s.scalar(select(func.count()).select_from(MutualaidPayout)) == 2
        for key in ("m1", "m2"):
            assert owed(ma.world.people[key].member_id) == Decimal("1000.00")
