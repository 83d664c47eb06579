"""The adjudication benchmark runs and is deterministic; its speed is printed, never asserted."""

from collections import Counter

import pytest

from unionhub_mutualaid import _bench_adjudication as bench


def test_benchmark_runs_and_prints_claims_per_second(capsys: pytest.CaptureFixture[str]) -> None:
    rate = bench.main(["3000"])
    out = capsys.readouterr().out
    assert rate > 0
    assert out.startswith("adjudicated 3,000 claims in ")
    assert "claims/s (target >= 2,000)" in out


def test_benchmark_mix_exercises_every_outcome() -> None:
    cases = bench.build_cases(4000, members=300)
    assert {plan.program for plan, *_ in cases} == {
        "ZYYL", "ZYJT", "ZDJB", "NGTJ", "YWSH", "ZNYW", "ECBX", "FGSZH",
    }  # fmt: skip
    _seconds, statuses, paid = bench.run(cases)
    assert sum(statuses.values()) == 4000
    assert set(statuses) == {"approved", "partially_approved", "rejected"}
    assert min(statuses.values()) > 200
    _again, statuses_again, paid_again = bench.run(bench.build_cases(4000, members=300))
    assert (statuses_again, paid_again) == (Counter(statuses), paid)
