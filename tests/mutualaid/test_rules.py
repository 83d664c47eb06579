import copy
import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from unionhub_mutualaid.catalogue import (
    CatalogueEntry,
    DiseaseCatalogue,
    normalize_code,
)
from unionhub_mutualaid.rules import (
    DEMO_RULES,
    PROGRAM_CODES,
    Amount,
    BenefitKind,
    Funding,
    PlanRules,
    RulesError,
    Sex,
    WaitingRules,
    demo_rules,
    validate_rules_dict,
)


def test_demo_rules_cover_all_eight_programs() -> None:
    assert tuple(DEMO_RULES) == PROGRAM_CODES
    assert PROGRAM_CODES == ("ZYYL", "ZYJT", "ZDJB", "NGTJ", "YWSH", "ZNYW", "ECBX", "FGSZH")
    for rules in DEMO_RULES.values():
        assert rules.problems() == []
        assert rules.plan_year == 2026


def test_demo_rules_carry_domain_examples() -> None:
    zdjb = DEMO_RULES["ZDJB"]
    assert zdjb.shares.max_shares == 4
    assert zdjb.waiting.days == 30
    assert zdjb.ends_cover_on_payout is True
    assert (zdjb.term.start, zdjb.term.end) == (date(2026, 1, 1), date(2028, 12, 31))
    assert zdjb.benefits[0].amount == Amount(Decimal("10000.00"), per_share=True)
    ngtj = DEMO_RULES["NGTJ"]
    assert ngtj.eligibility.sexes == {Sex.FEMALE}
    assert ngtj.funding.fee_per_share == Decimal("25.00")
    assert max(e.amount for e in ngtj.catalogue.entries if e.amount) == Decimal("15000.00")
    assert DEMO_RULES["YWSH"].tiers == {"26", "50", "74", "100"}
    assert DEMO_RULES["YWSH"].waiting.days == 0
    assert DEMO_RULES["ECBX"].lifetime_cap == Amount(Decimal("200653.00"))
    assert DEMO_RULES["ECBX"].funding.kind is Funding.DUES
    assert DEMO_RULES["ZYJT"].benefits[0].annual_day_cap == 180


def test_fees() -> None:
    assert DEMO_RULES["YWSH"].fee(1, "74") == Decimal("74.00")
    assert DEMO_RULES["ZDJB"].fee(4) == Decimal("360.00")
    assert DEMO_RULES["ECBX"].fee(1) == Decimal("0.00")


@pytest.mark.parametrize("program", PROGRAM_CODES)
def test_json_round_trip(program: str) -> None:
    rules = DEMO_RULES[program]
    text = json.dumps(rules.to_dict(), ensure_ascii=False)
    restored = PlanRules.from_dict(json.loads(text))
    assert restored == rules
    assert restored.to_dict() == rules.to_dict()
    assert restored.tiers == rules.tiers


def test_amounts_are_strings_in_json() -> None:
    data = DEMO_RULES["ZYYL"].to_dict()
    assert data["annual_cap"] == "20000.00"
    assert data["benefits"][0]["deductible"] == "1000.00"
    assert data["benefits"][0]["ratio"] == "0.5"
    assert DEMO_RULES["ZYJT"].to_dict()["benefits"][0]["amount"] == {
        "per_share": True,
        "base": "20.00",
    }
    ywsh = DEMO_RULES["YWSH"].to_dict()
    assert ywsh["benefits"][0]["amount"]["by_tier"]["100"] == "80000.00"
    assert ywsh["benefits"][1]["grade_ratios"]["5"] == "0.6"


def test_minimal_dict_gets_defaults() -> None:
    rules = PlanRules.from_dict(
        {
            "program": "ECBX",
            "plan_year": 2027,
            "funding": {"kind": "dues"},
            "term": {"start": "2027-01-01", "end": "2027-12-31"},
            "benefits": [
                {"code": "secondary", "kind": "reimburse", "name": "二次报销", "ratio": "0.5"}
            ],
        }
    )
    assert rules.version == 1
    assert rules.display_name == "二次报销（暖·互助）"
    assert rules.eligibility.membership_required is True
    assert rules.benefit(None).deductible == Decimal("0.00")
    assert rules.claim_deadline_days is None


def _zyyl() -> dict[str, Any]:
    return copy.deepcopy(DEMO_RULES["ZYYL"].to_dict())


def test_validation_names_the_field() -> None:
    data = _zyyl()
    data["benefits"][0]["ratio"] = "1.5"
    assert validate_rules_dict(data) == ["benefits[0].ratio: must be > 0 and <= 1, got 1.5"]


def test_validation_collects_every_problem() -> None:
    data = _zyyl()
    data["benefits"][0]["deductible"] = 1000.5
    data["term"]["start"] = "2026-13-01"
    data["funding"]["kind"] = "gift"
    data["eligibility"]["minimum_age"] = 16
    del data["plan_year"]
    errors = validate_rules_dict(data)
    assert errors == [
        "plan_year: required",
        "funding.kind: must be one of dues, voluntary, got 'gift'",
        "term.start: must be a date like 2026-01-01, got '2026-13-01'",
        "eligibility.minimum_age: unknown field",
        'benefits[0].deductible: write amounts as strings (e.g. "10000.00"), got float 1000.5',
    ]


def test_validation_semantic_checks() -> None:
    data = _zyyl()
    data["term"]["end"] = "2025-12-31"
    data["eligibility"]["min_age"] = 70
    data["shares"]["max_shares"] = 0
    data["waiting"]["reduced_band_days"] = 20
    data["funding"]["fee_per_share"] = None
    errors = validate_rules_dict(data)
    assert errors == [
        "term.end: 2025-12-31 is before term.start 2026-01-01",
        "funding.fee_per_share: a voluntary program needs fee_per_share or fee_by_tier",
        "eligibility.max_age: 65 is below min_age 70",
        "shares.max_shares: 0 is below min_shares 1",
        "waiting.reduced_band_days: 20 must exceed waiting.days 30 (both count from the start "
        "of cover), or be 0",
    ]


def test_validation_of_tiers_and_kinds() -> None:
    data = copy.deepcopy(DEMO_RULES["YWSH"].to_dict())
    del data["benefits"][0]["amount"]["by_tier"]["100"]
    data["benefits"][1]["grade_ratios"] = {"11": "0.05"}
    data["benefits"].append(dict(data["benefits"][2], code="allowance2"))
    errors = validate_rules_dict(data)
    assert errors == [
        "benefits[0].amount.by_tier: tiers ['26', '50', '74'] differ from the plan's tiers "
        "['100', '26', '50', '74']",
        "benefits[3].kind: at most one daily benefit per plan (the ledger counts one "
        "allowance-day total)",
        "benefits[1].grade_ratios.11: grades run from 1 to 10",
    ]


def test_lump_sum_needs_a_catalogue_and_dues_charge_no_fee() -> None:
    data = copy.deepcopy(DEMO_RULES["ZDJB"].to_dict())
    data["catalogue"] = None
    assert validate_rules_dict(data) == [
        "benefits[0].kind: a lump_sum benefit needs the plan's disease catalogue"
    ]
    data = copy.deepcopy(DEMO_RULES["ECBX"].to_dict())
    data["funding"]["fee_per_share"] = "10"
    assert validate_rules_dict(data) == [
        "funding.fee_per_share: a dues-funded program charges no fee"
    ]


def test_not_an_object() -> None:
    assert validate_rules_dict([1]) == ["rules: must be an object"]
    data = _zyyl()
    data["benefits"] = []
    assert validate_rules_dict(data) == ["benefits: must be a non-empty list"]


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(RulesError) as info:
        replace(DEMO_RULES["ZYYL"], waiting=WaitingRules(days=-1))
    assert info.value.errors == ("waiting.days: must be >= 0, got -1",)


def test_benefit_lookup() -> None:
    ywsh = DEMO_RULES["YWSH"]
    assert ywsh.benefit(None).code == "death"
    assert ywsh.benefit("disability").kind is BenefitKind.DISABILITY
    assert ywsh.benefit("nope") is None


def test_plan_year_term_in_leap_year() -> None:
    assert demo_rules(2028)["ZYYL"].term.days == 366
    assert demo_rules(2027)["ZYYL"].term.days == 365
    assert demo_rules(2028)["ZDJB"].catalogue.version == "2028.1"


def test_amount_resolution() -> None:
    assert Amount(Decimal("20"), per_share=True).resolve(3, None) == Decimal("60")
    tiered = Amount(by_tier={"26": Decimal("20000"), "50": Decimal("40000")})
    assert tiered.resolve(2, "50") == Decimal("40000")
    assert tiered.describe(1, "50") == "40,000.00 元（档次 50）"
    per_share = Amount(Decimal("15000"), per_share=True)
    assert per_share.describe(2, None, Decimal("5000")) == "5,000.00 元/份 × 2 份 = 10,000.00 元"


# -- catalogue ----------------------------------------------------------------------------------


def test_normalize_code() -> None:
    assert normalize_code(" c50.9 ") == "C509"
    assert normalize_code("Ｃ５０．９") == "C509"
    assert normalize_code("C50.900x001") == "C50900X001"


def _catalogue() -> DiseaseCatalogue:
    return DiseaseCatalogue(
        "2026.1",
        (
            CatalogueEntry("breast", "乳腺癌", ("C50",)),
            CatalogueEntry("renal", "终末期肾病", ("N18.5",)),
            CatalogueEntry("cancer", "恶性肿瘤", ("C",), excludes=("C44", "C50")),
        ),
    )


def test_prefix_matching() -> None:
    catalogue = _catalogue()
    codes = lambda *dx: [m.entry.code for m in catalogue.match(dx)]  # noqa: E731
    assert codes("C50.9") == ["breast"]
    assert codes("c50.900x001") == ["breast"]
    assert codes("N18.500") == ["renal"]
    assert codes("N18.4") == []
    assert codes("C44.3") == []  # excluded from the broad cancer entry
    assert codes("C34.9") == ["cancer"]
    assert codes("J18.9", "C34.9", "C50.1") == ["cancer", "breast"]
    assert codes("C5") == ["cancer"]  # a shorter code is not C50
    match = catalogue.match(["J18.9", "N18.501"])[0]
    assert (match.diagnosis, match.entry.name) == ("N18.501", "终末期肾病")
