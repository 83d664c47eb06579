from datetime import date

import pytest

from unionhub_mutualaid.stays import Stay, merge_stays, payable_days


def stay(a: str, b: str) -> Stay:
    return Stay(date.fromisoformat(a), date.fromisoformat(b))


def test_discharge_before_admission_is_refused() -> None:
    with pytest.raises(ValueError, match="stays: discharge 2026-03-01 is before admission"):
        stay("2026-03-05", "2026-03-01")


def test_overlapping_stays_merge_into_one_episode() -> None:
    (episode,) = merge_stays([stay("2026-03-08", "2026-03-12"), stay("2026-03-01", "2026-03-10")])
    assert (episode.admitted, episode.discharged) == (date(2026, 3, 1), date(2026, 3, 12))
    assert episode.days() == 11  # not 9 + 4
    assert len(episode.segments) == 2


def test_transfer_on_discharge_day_is_one_stay() -> None:
    (episode,) = merge_stays([stay("2026-03-01", "2026-03-10"), stay("2026-03-10", "2026-03-15")])
    assert episode.days() == 14


def test_admission_next_day_is_a_new_stay_unless_gap_allows() -> None:
    stays = [stay("2026-03-01", "2026-03-10"), stay("2026-03-11", "2026-03-15")]
    assert len(merge_stays(stays)) == 2
    (episode,) = merge_stays(stays, gap_days=1)
    assert episode.days() == 14


def test_contained_stay_does_not_shorten_the_episode() -> None:
    (episode,) = merge_stays([stay("2026-03-01", "2026-03-20"), stay("2026-03-05", "2026-03-06")])
    assert episode.discharged == date(2026, 3, 20)
    assert episode.days() == 19


def test_same_day_stay_counts_as_configured() -> None:
    (episode,) = merge_stays([stay("2026-03-01", "2026-03-01")])
    assert episode.days() == 1
    assert episode.days(same_day_days=0) == 0


def test_payable_days_apply_deductible_days_per_episode_and_stay_limit() -> None:
    episodes = merge_stays(
        [
            stay("2026-01-01", "2026-01-11"),  # 10 days
            stay("2026-02-01", "2026-02-03"),  # 2 days: below deductible
            stay("2026-05-01", "2026-07-30"),  # 90 days
        ]
    )
    assert payable_days(episodes, deductible_days=3) == 7 + 0 + 87
    assert payable_days(episodes, deductible_days=3, max_days_per_stay=30) == 7 + 30
    assert merge_stays([]) == ()


def test_leap_day_is_a_hospital_day() -> None:
    (leap,) = merge_stays([stay("2028-02-27", "2028-03-02")])
    (common,) = merge_stays([stay("2027-02-27", "2027-03-02")])
    assert (leap.days(), common.days()) == (4, 3)
