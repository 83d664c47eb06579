from dataclasses import replace
from datetime import date
from decimal import Decimal

from unionhub_mutualaid.adjudication import MemberFacts, Reason, age_on, check_enrollment
from unionhub_mutualaid.rules import DEMO_RULES, Sex

WOMAN = MemberFacts(Sex.FEMALE, date(1985, 6, 15))
MAN = MemberFacts(Sex.MALE, date(1980, 5, 5))


def test_ngtj_enrollment_is_for_women_only() -> None:
    ok = check_enrollment(DEMO_RULES["NGTJ"], WOMAN, 2, 2)
    assert (ok.ok, ok.reasons, ok.fee) == (True, (), Decimal("50.00"))
    refused = check_enrollment(DEMO_RULES["NGTJ"], MAN, 2, 2)
    assert (refused.ok, refused.reasons, refused.messages) == (
        False,
        (Reason.SEX,),
        ("本项目仅限女性会员",),
    )
    assert refused.fee is None


def test_share_limits_and_same_shares_per_unit() -> None:
    check = check_enrollment(DEMO_RULES["ZDJB"], MAN, 5, 2)
    assert check.reasons == (Reason.SHARES_OUT_OF_RANGE, Reason.SHARES_DIFFER_IN_UNIT)
    assert check.messages == (
        "份数 5 不在 1–4 份范围内",
        "同一单位须参保相同份数：本单位为 2 份，本人为 5 份",
    )
    assert check_enrollment(DEMO_RULES["ZDJB"], MAN, 4, None).fee == Decimal("360.00")
    assert check_enrollment(DEMO_RULES["ZDJB"], MAN, 0).reasons == (Reason.SHARES_OUT_OF_RANGE,)


def test_children_programme_lets_parents_choose_shares() -> None:
    check = check_enrollment(DEMO_RULES["ZNYW"], MAN, 2, 1)
    assert (check.ok, check.fee) == (True, Decimal("40.00"))


def test_tiers() -> None:
    rules = DEMO_RULES["YWSH"]
    assert check_enrollment(rules, MAN, 1, tier="74").fee == Decimal("74.00")
    check = check_enrollment(rules, MAN, 1, tier="60")
    assert check.reasons == (Reason.UNKNOWN_TIER,)
    assert check.messages == ("保障档次 60 无效，可选档次：26、50、74、100",)
    assert check_enrollment(rules, MAN, 1).messages == (
        "未填写保障档次，可选档次：26、50、74、100",
    )


def test_age_at_cover_start() -> None:
    rules = DEMO_RULES["ZDJB"]  # 16–60, cover starts 2026-01-01
    sixty = MemberFacts(Sex.MALE, date(1965, 1, 2))
    assert check_enrollment(rules, sixty, 1).ok
    sixty_one = MemberFacts(Sex.MALE, date(1965, 1, 1))
    check = check_enrollment(rules, sixty_one, 1)
    assert check.messages == ("被保障人于 2026-01-01 为 61 周岁，不在 16–60 周岁范围内",)
    assert check_enrollment(rules, sixty, 1, on=date(2026, 3, 1)).reasons == (Reason.AGE,)
    fifteen = MemberFacts(Sex.FEMALE, date(2010, 1, 2))
    assert check_enrollment(rules, fifteen, 1).reasons == (Reason.AGE,)


def test_membership_and_jingka() -> None:
    check = check_enrollment(DEMO_RULES["ECBX"], replace(MAN, has_active_jingka=False), 1)
    assert check.reasons == (Reason.NO_JINGKA,)
    check = check_enrollment(DEMO_RULES["ZYYL"], replace(MAN, membership_active=False), 1)
    assert check.messages == ("2026-01-01 会籍不在会，本项目仅保障在会会员",)
    assert check_enrollment(DEMO_RULES["ECBX"], MAN, 1).fee == Decimal("0.00")


def test_member_facts_accept_sex_codes() -> None:
    assert MemberFacts("F", date(1990, 1, 1)).sex is Sex.FEMALE  # type: ignore[arg-type]


def test_age_on() -> None:
    assert age_on(date(1980, 5, 5), date(2026, 5, 4)) == 45
    assert age_on(date(1980, 5, 5), date(2026, 5, 5)) == 46
    assert age_on(date(2008, 2, 29), date(2025, 2, 28)) == 16
    assert age_on(date(2008, 2, 29), date(2025, 3, 1)) == 17
    assert age_on(date(2008, 2, 29), date(2028, 2, 29)) == 20
