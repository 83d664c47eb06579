"""Plan rules of the mutual-aid programs, held as data.

One :class:`PlanRules` per program code and plan year (a "plan year" may span several calendar
years: ZDJB runs three). Every number is configuration — :func:`demo_rules` seeds plausible values
taken from DOMAIN's real examples. Rules are stored in a JSON column through
:meth:`PlanRules.to_dict` / :meth:`PlanRules.from_dict`; amounts travel as strings (a JSON
float would lose fen), dates as ISO strings. :func:`validate_rules_dict` returns every problem
with the field that has it, e.g. ``benefits[1].ratio: must be > 0 and <= 1, got 1.5``.

Amounts (:class:`Amount`) are fixed, scaled by shares (``per_share``) or looked up by fee tier
(``by_tier``, e.g. YWSH's 26/50/74/100 元 tiers). Benefits are items of one of five kinds:

``reimburse``  (basis − deductible) × ratio — medical bills (basis = 自付), property loss;
``daily``      per-day allowance × payable days of the merged stays (see :mod:`.stays`);
``lump_sum``   sum per share on diagnosis of a catalogue disease (ZDJB, NGTJ);
``fixed``      a fixed sum (accidental death);
``disability`` a sum × the ratio of the disability grade (1 = 100% … 10 = 10%).

Waiting period and reduced band are counted from the start of continuous cover (see
``adjudication.continuous_since``): an event on day ``d`` (0 = first day of cover) with
``d < waiting.days`` is in the waiting period; with ``d < waiting.reduced_band_days`` the benefit
is multiplied by ``waiting.reduced_ratio``. Both apply to illness only unless
``waiting.applies_to_accidents``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from unionhub.money import fmt, money, to_decimal

from .catalogue import CatalogueEntry, DiseaseCatalogue

SCHEMA_VERSION = 1

PROGRAM_NAMES: Mapping[str, str] = {
    "ZYYL": "住院医疗互助保障",
    "ZYJT": "住院津贴互助保障",
    "ZDJB": "重大疾病互助保障",
    "NGTJ": "女工特殊疾病互助保障",
    "YWSH": "意外伤害互助保障",
    "ZNYW": "子女意外伤害互助保障",
    "ECBX": "二次报销（暖·互助）",
    "FGSZH": "非工伤综合互助保障",
}
PROGRAM_CODES: tuple[str, ...] = tuple(PROGRAM_NAMES)


class Funding(StrEnum):
    DUES = "dues"  # paid from union dues: every eligible Jingka holder is covered, no fee
    VOLUNTARY = "voluntary"  # the unit enrolls members and pays a fee per share / tier


class AgeBasis(StrEnum):
    EVENT = "event"  # age on the event date
    ENROLLMENT = "enrollment"  # age on the first day of cover


class Sex(StrEnum):
    FEMALE = "F"
    MALE = "M"


class Insured(StrEnum):
    MEMBER = "member"
    CHILD = "child"  # the member's minor child (ZNYW): age rules apply to the child


class Cause(StrEnum):
    ILLNESS = "illness"
    ACCIDENT = "accident"


class BenefitKind(StrEnum):
    REIMBURSE = "reimburse"
    DAILY = "daily"
    LUMP_SUM = "lump_sum"
    FIXED = "fixed"
    DISABILITY = "disability"


class DeductiblePer(StrEnum):
    EVENT = "event"  # each claim bears the whole deductible
    YEAR = "year"  # one deductible per plan year, consumed across claims (ledger)


STANDARD_GRADE_RATIOS: Mapping[int, Decimal] = {
    grade: Decimal(11 - grade) / 10 for grade in range(1, 11)
}
"""人身保险伤残评定标准: grade 1 pays 100% of the sum, each grade 10 points less, grade 10 10%."""


class RulesError(ValueError):
    """Invalid rules; ``errors`` lists every problem as ``"<field path>: <reason>"``."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(self.errors))


@dataclass(frozen=True, slots=True)
class Amount:
    """An amount of 元: ``base``, or ``by_tier[tier]``; times the shares when ``per_share``."""

    base: Decimal | None = None
    by_tier: Mapping[str, Decimal] = field(default_factory=dict)
    per_share: bool = False

    def resolve(self, shares: int, tier: str | None, base: Decimal | None = None) -> Decimal:
        """The amount for a coverage; ``base`` overrides the configured base (catalogue amounts).

        The tier must be valid (the engine checks it before any calculation).
        """
        if base is None:
            base = self.by_tier[tier or ""] if self.by_tier else self.base
        assert base is not None
        return base * shares if self.per_share else base

    def describe(self, shares: int, tier: str | None, base: Decimal | None = None) -> str:
        """How :meth:`resolve` got its value, for explanations."""
        unit = base
        if unit is None:
            unit = self.by_tier[tier or ""] if self.by_tier else self.base
        assert unit is not None
        note = f"（档次 {tier}）" if self.by_tier and base is None else ""
        if self.per_share:
            return f"{fmt(unit)} 元/份{note} × {shares} 份 = {fmt(unit * shares)} 元"
        return f"{fmt(unit)} 元{note}"


@dataclass(frozen=True, slots=True)
class FundingRules:
    kind: Funding = Funding.VOLUNTARY
    fee_per_share: Decimal | None = None
    fee_by_tier: Mapping[str, Decimal] = field(default_factory=dict)
    min_participation_ratio: Decimal | None = None  # share of the unit's staff that must join


@dataclass(frozen=True, slots=True)
class TermRules:
    start: date
    end: date
    unified_start: bool = True  # every coverage of the plan starts on ``start`` (统一起保日)

    @property
    def days(self) -> int:
        """Length in days, both ends included (366 for 2028)."""
        return (self.end - self.start).days + 1


@dataclass(frozen=True, slots=True)
class EligibilityRules:
    min_age: int | None = None  # full years (周岁), inclusive
    max_age: int | None = None  # inclusive: 60 admits a member until the day before turning 61
    age_basis: AgeBasis = AgeBasis.ENROLLMENT
    sexes: frozenset[Sex] = frozenset()  # empty = any
    membership_required: bool = True
    jingka_required: bool = False
    insured: Insured = Insured.MEMBER


@dataclass(frozen=True, slots=True)
class ShareRules:
    min_shares: int = 1
    max_shares: int = 1
    same_per_unit: bool = True  # everyone in a unit takes the same number of shares


@dataclass(frozen=True, slots=True)
class WaitingRules:
    days: int = 0
    reduced_band_days: int = 0  # counted from the start of cover, like ``days``; 0 = no band
    reduced_ratio: Decimal = Decimal(1)
    applies_to_accidents: bool = False


@dataclass(frozen=True, slots=True)
class StayRules:
    merge_gap_days: int = 0  # next admission ≤ discharge + gap → same stay (0: transfer same day)
    same_day_days: int = 1  # what a same-day admission and discharge counts as (0 or 1)


@dataclass(frozen=True, slots=True)
class BenefitItem:
    """One benefit of a program; which fields matter depends on ``kind`` (see module doc)."""

    code: str
    kind: BenefitKind
    name: str
    causes: frozenset[Cause] = frozenset({Cause.ILLNESS, Cause.ACCIDENT})
    amount: Amount | None = None
    # reimburse
    basis_label: str = "自付"
    deductible: Decimal = Decimal("0.00")
    deductible_per: DeductiblePer = DeductiblePer.EVENT
    ratio: Decimal = Decimal(1)
    net_of_other_payments: bool = True
    # caps for this item (the plan's annual / lifetime caps apply on top)
    per_event_cap: Amount | None = None
    annual_cap: Amount | None = None
    cap_group: str | None = None  # items sharing a group share ``annual_cap`` (death+disability)
    # daily
    deductible_days: int = 0
    max_days_per_stay: int | None = None
    annual_day_cap: int | None = None
    # disability
    grade_ratios: Mapping[int, Decimal] = field(default_factory=dict)

    @property
    def group(self) -> str:
        return self.cap_group or self.code


@dataclass(frozen=True)
class PlanRules:
    program: str
    plan_year: int
    term: TermRules
    benefits: tuple[BenefitItem, ...]
    name: str = ""
    version: int = 1
    funding: FundingRules = field(default_factory=FundingRules)
    eligibility: EligibilityRules = field(default_factory=EligibilityRules)
    shares: ShareRules = field(default_factory=ShareRules)
    waiting: WaitingRules = field(default_factory=WaitingRules)
    stays: StayRules = field(default_factory=StayRules)
    renewal_grace_days: int = 0
    claim_deadline_days: int | None = None  # after the event ends (discharge); None = no limit
    ends_cover_on_payout: bool = False
    annual_cap: Amount | None = None
    lifetime_cap: Amount | None = None
    catalogue: DiseaseCatalogue | None = None
    _items: dict[str, BenefitItem] = field(init=False, repr=False, compare=False)
    tiers: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_items", {item.code: item for item in self.benefits})
        object.__setattr__(self, "tiers", frozenset(_tiers(self)))
        problems = self.problems()
        if problems:
            raise RulesError(problems)

    @property
    def display_name(self) -> str:
        return self.name or PROGRAM_NAMES.get(self.program, self.program)

    def benefit(self, code: str | None) -> BenefitItem | None:
        """The item ``code``; ``None`` picks the first (main) benefit."""
        if code is None:
            return self.benefits[0]
        return self._items.get(code)

    def fee(self, shares: int, tier: str | None = None) -> Decimal:
        """Fee for one member and plan period (0 for dues-funded programs)."""
        funding = self.funding
        if funding.kind is Funding.DUES:
            return Decimal("0.00")
        if funding.fee_by_tier:
            return funding.fee_by_tier[tier or ""] * shares
        assert funding.fee_per_share is not None
        return funding.fee_per_share * shares

    def problems(self) -> list[str]:
        """Semantic problems (cross-field checks); empty when the rules are usable."""
        return _problems(self)

    def to_dict(self) -> dict[str, Any]:
        return _rules_to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlanRules:
        """Parse a dict made by :meth:`to_dict` (or by hand); raises :class:`RulesError`."""
        return _rules_from_dict(data)


def validate_rules_dict(data: Any) -> list[str]:
    """Every problem of a rules dict, each naming its field; ``[]`` when valid."""
    try:
        PlanRules.from_dict(data)
    except RulesError as exc:
        return list(exc.errors)
    return []


# -- semantic validation ------------------------------------------------------------------------

_PROGRAM_RE = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")


def _amounts(rules: PlanRules) -> list[tuple[str, Amount]]:
    found = [("annual_cap", rules.annual_cap), ("lifetime_cap", rules.lifetime_cap)]
    for i, item in enumerate(rules.benefits):
        for name in ("amount", "per_event_cap", "annual_cap"):
            found.append((f"benefits[{i}].{name}", getattr(item, name)))
    return [(path, amount) for path, amount in found if amount is not None]


def _tiers(rules: PlanRules) -> set[str]:
    tiers = set(rules.funding.fee_by_tier)
    for _path, amount in _amounts(rules):
        tiers.update(amount.by_tier)
    return tiers


def _problems(rules: PlanRules) -> list[str]:
    errors: list[str] = []
    add = errors.append
    if not _PROGRAM_RE.match(rules.program):
        add(f"program: must be an upper-case code such as ZYYL, got {rules.program!r}")
    if not 2000 <= rules.plan_year <= 2100:
        add(f"plan_year: must be between 2000 and 2100, got {rules.plan_year}")
    if rules.version < 1:
        add(f"version: must be >= 1, got {rules.version}")
    if rules.term.end < rules.term.start:
        add(f"term.end: {rules.term.end} is before term.start {rules.term.start}")

    funding = rules.funding
    if funding.kind is Funding.DUES:
        if funding.fee_per_share is not None or funding.fee_by_tier:
            add("funding.fee_per_share: a dues-funded program charges no fee")
    elif funding.fee_per_share is None and not funding.fee_by_tier:
        add("funding.fee_per_share: a voluntary program needs fee_per_share or fee_by_tier")
    elif funding.fee_per_share is not None and funding.fee_by_tier:
        add("funding.fee_by_tier: give either fee_per_share or fee_by_tier, not both")
    for tier, fee in funding.fee_by_tier.items():
        if fee < 0:
            add(f"funding.fee_by_tier.{tier}: must not be negative, got {fee}")
    if funding.fee_per_share is not None and funding.fee_per_share < 0:
        add(f"funding.fee_per_share: must not be negative, got {funding.fee_per_share}")
    ratio = funding.min_participation_ratio
    if ratio is not None and not 0 < ratio <= 1:
        add(f"funding.min_participation_ratio: must be > 0 and <= 1, got {ratio}")

    elig = rules.eligibility
    for name in ("min_age", "max_age"):
        age = getattr(elig, name)
        if age is not None and not 0 <= age <= 120:
            add(f"eligibility.{name}: must be between 0 and 120, got {age}")
    if elig.min_age is not None and elig.max_age is not None and elig.min_age > elig.max_age:
        add(f"eligibility.max_age: {elig.max_age} is below min_age {elig.min_age}")

    shares = rules.shares
    if shares.min_shares < 1:
        add(f"shares.min_shares: must be >= 1, got {shares.min_shares}")
    if shares.max_shares < shares.min_shares:
        add(f"shares.max_shares: {shares.max_shares} is below min_shares {shares.min_shares}")

    waiting = rules.waiting
    if waiting.days < 0:
        add(f"waiting.days: must be >= 0, got {waiting.days}")
    if waiting.reduced_band_days and waiting.reduced_band_days <= waiting.days:
        add(
            f"waiting.reduced_band_days: {waiting.reduced_band_days} must exceed waiting.days "
            f"{waiting.days} (both count from the start of cover), or be 0"
        )
    if not 0 <= waiting.reduced_ratio <= 1:
        add(f"waiting.reduced_ratio: must be between 0 and 1, got {waiting.reduced_ratio}")

    if rules.stays.merge_gap_days < 0:
        add(f"stays.merge_gap_days: must be >= 0, got {rules.stays.merge_gap_days}")
    if rules.stays.same_day_days not in (0, 1):
        add(f"stays.same_day_days: must be 0 or 1, got {rules.stays.same_day_days}")
    if rules.renewal_grace_days < 0:
        add(f"renewal_grace_days: must be >= 0, got {rules.renewal_grace_days}")
    if rules.claim_deadline_days is not None and rules.claim_deadline_days < 1:
        add(f"claim_deadline_days: must be >= 1 or null, got {rules.claim_deadline_days}")

    for path, amount in _amounts(rules):
        _amount_problems(path, amount, rules.tiers, add)

    if not rules.benefits:
        add("benefits: at least one benefit is required")
    daily = [i for i, item in enumerate(rules.benefits) if item.kind is BenefitKind.DAILY]
    if len(daily) > 1:
        add(
            f"benefits[{daily[1]}].kind: at most one daily benefit per plan "
            "(the ledger counts one allowance-day total)"
        )
    seen: set[str] = set()
    for i, item in enumerate(rules.benefits):
        _item_problems(f"benefits[{i}]", item, rules, add)
        if item.code in seen:
            add(f"benefits[{i}].code: duplicate code {item.code!r}")
        seen.add(item.code)

    if rules.catalogue is not None:
        codes: set[str] = set()
        if not rules.catalogue.version:
            add("catalogue.version: required")
        for i, entry in enumerate(rules.catalogue.entries):
            path = f"catalogue.entries[{i}]"
            if entry.code in codes:
                add(f"{path}.code: duplicate code {entry.code!r}")
            codes.add(entry.code)
            if not entry.icd10 or not all(p.strip() for p in entry.icd10):
                add(f"{path}.icd10: at least one non-empty ICD-10 prefix is required")
            if entry.amount is not None and entry.amount < 0:
                add(f"{path}.amount: must not be negative, got {entry.amount}")
    return errors


def _amount_problems(
    path: str, amount: Amount, tiers: frozenset[str], add: Callable[[str], None]
) -> None:
    if amount.by_tier:
        if amount.base is not None:
            add(f"{path}: give either base or by_tier, not both")
        if set(amount.by_tier) != tiers:
            add(
                f"{path}.by_tier: tiers {sorted(amount.by_tier)} differ from the plan's tiers "
                f"{sorted(tiers)}"
            )
        for tier, value in amount.by_tier.items():
            if value < 0:
                add(f"{path}.by_tier.{tier}: must not be negative, got {value}")
    elif amount.base is None:
        add(f"{path}: base or by_tier is required")
    elif amount.base < 0:
        add(f"{path}.base: must not be negative, got {amount.base}")


def _item_problems(
    path: str, item: BenefitItem, rules: PlanRules, add: Callable[[str], None]
) -> None:
    if not item.code:
        add(f"{path}.code: required")
    if not item.causes:
        add(f"{path}.causes: at least one of illness, accident")
    kind = item.kind
    needs_amount = kind in (BenefitKind.DAILY, BenefitKind.FIXED, BenefitKind.DISABILITY)
    if kind is BenefitKind.LUMP_SUM:
        if rules.catalogue is None:
            add(f"{path}.kind: a lump_sum benefit needs the plan's disease catalogue")
        elif item.amount is None and any(e.amount is None for e in rules.catalogue.entries):
            add(f"{path}.amount: required unless every catalogue entry has an amount")
    if needs_amount and item.amount is None:
        add(f"{path}.amount: required for a {kind} benefit")
    if kind is BenefitKind.REIMBURSE and item.amount is not None:
        add(f"{path}.amount: a reimburse benefit pays from the bill; use per_event_cap")
    if not 0 < item.ratio <= 1:
        add(f"{path}.ratio: must be > 0 and <= 1, got {item.ratio}")
    if item.deductible < 0:
        add(f"{path}.deductible: must not be negative, got {item.deductible}")
    if item.deductible_days < 0:
        add(f"{path}.deductible_days: must be >= 0, got {item.deductible_days}")
    for name in ("max_days_per_stay", "annual_day_cap"):
        value = getattr(item, name)
        if value is not None and value < 1:
            add(f"{path}.{name}: must be >= 1 or null, got {value}")
    if kind is BenefitKind.DISABILITY and not item.grade_ratios:
        add(f"{path}.grade_ratios: required for a disability benefit")
    for grade, ratio in item.grade_ratios.items():
        if not 1 <= grade <= 10:
            add(f"{path}.grade_ratios.{grade}: grades run from 1 to 10")
        if not 0 < ratio <= 1:
            add(f"{path}.grade_ratios.{grade}: must be > 0 and <= 1, got {ratio}")
    if item.annual_cap is not None:
        for other in rules.benefits:
            shared = other.group == item.group and other is not item
            if shared and other.annual_cap != item.annual_cap:
                add(f"{path}.annual_cap: items of cap group {item.group!r} must share one cap")
                break


# -- JSON ---------------------------------------------------------------------------------------


def _dec_str(value: Decimal) -> str:
    return str(value)


def _amount_to_json(amount: Amount | None) -> Any:
    if amount is None:
        return None
    if not amount.by_tier and not amount.per_share:
        return _dec_str(amount.base) if amount.base is not None else None
    result: dict[str, Any] = {"per_share": amount.per_share}
    if amount.by_tier:
        result["by_tier"] = {k: _dec_str(v) for k, v in amount.by_tier.items()}
    else:
        result["base"] = _dec_str(amount.base) if amount.base is not None else None
    return result


def _rules_to_dict(rules: PlanRules) -> dict[str, Any]:
    f, t, e, s, w = rules.funding, rules.term, rules.eligibility, rules.shares, rules.waiting
    catalogue = None
    if rules.catalogue is not None:
        catalogue = {
            "version": rules.catalogue.version,
            "entries": [
                {
                    "code": entry.code,
                    "name": entry.name,
                    "icd10": list(entry.icd10),
                    "excludes": list(entry.excludes),
                    "amount": None if entry.amount is None else _dec_str(entry.amount),
                }
                for entry in rules.catalogue.entries
            ],
        }
    return {
        "schema": SCHEMA_VERSION,
        "program": rules.program,
        "plan_year": rules.plan_year,
        "version": rules.version,
        "name": rules.name,
        "funding": {
            "kind": f.kind.value,
            "fee_per_share": None if f.fee_per_share is None else _dec_str(f.fee_per_share),
            "fee_by_tier": {k: _dec_str(v) for k, v in f.fee_by_tier.items()},
            "min_participation_ratio": (
                None if f.min_participation_ratio is None else _dec_str(f.min_participation_ratio)
            ),
        },
        "term": {
            "start": t.start.isoformat(),
            "end": t.end.isoformat(),
            "unified_start": t.unified_start,
        },
        "eligibility": {
            "min_age": e.min_age,
            "max_age": e.max_age,
            "age_basis": e.age_basis.value,
            "sexes": sorted(sex.value for sex in e.sexes),
            "membership_required": e.membership_required,
            "jingka_required": e.jingka_required,
            "insured": e.insured.value,
        },
        "shares": {
            "min_shares": s.min_shares,
            "max_shares": s.max_shares,
            "same_per_unit": s.same_per_unit,
        },
        "waiting": {
            "days": w.days,
            "reduced_band_days": w.reduced_band_days,
            "reduced_ratio": _dec_str(w.reduced_ratio),
            "applies_to_accidents": w.applies_to_accidents,
        },
        "stays": {
            "merge_gap_days": rules.stays.merge_gap_days,
            "same_day_days": rules.stays.same_day_days,
        },
        "renewal_grace_days": rules.renewal_grace_days,
        "claim_deadline_days": rules.claim_deadline_days,
        "ends_cover_on_payout": rules.ends_cover_on_payout,
        "annual_cap": _amount_to_json(rules.annual_cap),
        "lifetime_cap": _amount_to_json(rules.lifetime_cap),
        "catalogue": catalogue,
        "benefits": [_item_to_dict(item) for item in rules.benefits],
    }


def _item_to_dict(item: BenefitItem) -> dict[str, Any]:
    return {
        "code": item.code,
        "kind": item.kind.value,
        "name": item.name,
        "causes": sorted(cause.value for cause in item.causes),
        "amount": _amount_to_json(item.amount),
        "basis_label": item.basis_label,
        "deductible": _dec_str(item.deductible),
        "deductible_per": item.deductible_per.value,
        "ratio": _dec_str(item.ratio),
        "net_of_other_payments": item.net_of_other_payments,
        "per_event_cap": _amount_to_json(item.per_event_cap),
        "annual_cap": _amount_to_json(item.annual_cap),
        "cap_group": item.cap_group,
        "deductible_days": item.deductible_days,
        "max_days_per_stay": item.max_days_per_stay,
        "annual_day_cap": item.annual_day_cap,
        "grade_ratios": {str(k): _dec_str(v) for k, v in sorted(item.grade_ratios.items())},
    }


_T = TypeVar("_T")
_E = TypeVar("_E", bound=StrEnum)
_REQUIRED: Any = object()


class _Reader:
    """Reads a nested dict, collecting every error with its path (not stopping at the first)."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def section(self, data: Mapping[str, Any], key: str, path: str, allowed: set[str]) -> dict:
        full = _join(path, key)
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.errors.append(f"{full}: must be an object")
            return {}
        self.known(value, full, allowed)
        return dict(value)

    def known(self, data: Mapping[str, Any], path: str, allowed: set[str]) -> None:
        for key in data:
            if key not in allowed:
                self.errors.append(f"{_join(path, str(key))}: unknown field")

    def get(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        parse: Callable[[Any, str], _T],
        default: Any = _REQUIRED,
    ) -> _T:
        full = _join(path, key)
        if key not in data or (data[key] is None and default is not _REQUIRED):
            if default is _REQUIRED:
                self.errors.append(f"{full}: required")
                return None  # type: ignore[return-value]
            return default
        try:
            return parse(data[key], full)
        except (TypeError, ValueError) as exc:
            self.errors.append(str(exc))
            return default if default is not _REQUIRED else None  # type: ignore[return-value]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _p_int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{path}: must be a whole number, got {value!r}")
    return value


def _p_bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{path}: must be true or false, got {value!r}")
    return value


def _p_str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{path}: must be a string, got {value!r}")
    return value.strip()


def _p_date(value: Any, path: str) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise TypeError(f"{path}: must be a date like 2026-01-01, got {value!r}")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{path}: must be a date like 2026-01-01, got {value!r}") from None


def _p_money(value: Any, path: str) -> Decimal:
    if isinstance(value, float):
        raise TypeError(f'{path}: write amounts as strings (e.g. "10000.00"), got float {value!r}')
    return money(value, field=path)


def _p_ratio(value: Any, path: str) -> Decimal:
    if isinstance(value, float):
        raise TypeError(f'{path}: write ratios as strings (e.g. "0.5"), got float {value!r}')
    return to_decimal(value, field=path)


def _p_enum(enum: type[_E]) -> Callable[[Any, str], _E]:
    def parse(value: Any, path: str) -> _E:
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(member.value for member in enum)
            raise ValueError(f"{path}: must be one of {allowed}, got {value!r}") from None

    return parse


def _p_money_map(value: Any, path: str) -> dict[str, Decimal]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{path}: must be an object of tier → amount")
    result: dict[str, Decimal] = {}
    for key, amount in value.items():
        result[str(key)] = _p_money(amount, f"{path}.{key}")
    return result


def _p_amount(value: Any, path: str) -> Amount:
    if isinstance(value, Mapping):
        extra = set(value) - {"base", "by_tier", "per_share"}
        if extra:
            raise ValueError(f"{path}.{sorted(extra)[0]}: unknown field")
        base = value.get("base")
        return Amount(
            base=None if base is None else _p_money(base, f"{path}.base"),
            by_tier=_p_money_map(value.get("by_tier") or {}, f"{path}.by_tier"),
            per_share=_p_bool(value.get("per_share", False), f"{path}.per_share"),
        )
    return Amount(base=_p_money(value, path))


def _p_list(parse: Callable[[Any, str], _T]) -> Callable[[Any, str], tuple[_T, ...]]:
    def parse_list(value: Any, path: str) -> tuple[_T, ...]:
        if not isinstance(value, list | tuple):
            raise TypeError(f"{path}: must be a list")
        return tuple(parse(item, f"{path}[{i}]") for i, item in enumerate(value))

    return parse_list


def _p_grades(value: Any, path: str) -> dict[int, Decimal]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{path}: must be an object of grade → ratio")
    result: dict[int, Decimal] = {}
    for key, ratio in value.items():
        try:
            grade = int(str(key))
        except ValueError:
            raise ValueError(f"{path}.{key}: grades are whole numbers 1–10") from None
        result[grade] = _p_ratio(ratio, f"{path}.{key}")
    return result


_TOP = {
    "schema", "program", "plan_year", "version", "name", "funding", "term", "eligibility",
    "shares", "waiting", "stays", "renewal_grace_days", "claim_deadline_days",
    "ends_cover_on_payout", "annual_cap", "lifetime_cap", "catalogue", "benefits",
}  # fmt: skip
_ITEM = {
    "code", "kind", "name", "causes", "amount", "basis_label", "deductible", "deductible_per",
    "ratio", "net_of_other_payments", "per_event_cap", "annual_cap", "cap_group",
    "deductible_days", "max_days_per_stay", "annual_day_cap", "grade_ratios",
}  # fmt: skip


def _rules_from_dict(data: Mapping[str, Any]) -> PlanRules:
    if not isinstance(data, Mapping):
        raise RulesError(["rules: must be an object"])
    r = _Reader()
    r.known(data, "", _TOP)
    schema = r.get(data, "schema", "", _p_int, SCHEMA_VERSION)
    if schema != SCHEMA_VERSION:
        r.errors.append(f"schema: version {schema} is not supported (expected {SCHEMA_VERSION})")
    program = r.get(data, "program", "", _p_str)
    plan_year = r.get(data, "plan_year", "", _p_int)
    version = r.get(data, "version", "", _p_int, 1)
    name = r.get(data, "name", "", _p_str, "")

    fd = r.section(data, "funding", "", {"kind", "fee_per_share", "fee_by_tier",
                                         "min_participation_ratio"})  # fmt: skip
    funding = FundingRules(
        kind=r.get(fd, "kind", "funding", _p_enum(Funding), Funding.VOLUNTARY),
        fee_per_share=r.get(fd, "fee_per_share", "funding", _p_money, None),
        fee_by_tier=r.get(fd, "fee_by_tier", "funding", _p_money_map, {}),
        min_participation_ratio=r.get(fd, "min_participation_ratio", "funding", _p_ratio, None),
    )
    td = r.section(data, "term", "", {"start", "end", "unified_start"})
    start = r.get(td, "start", "term", _p_date)
    end = r.get(td, "end", "term", _p_date)
    unified = r.get(td, "unified_start", "term", _p_bool, True)

    ed = r.section(data, "eligibility", "", {"min_age", "max_age", "age_basis", "sexes",
                                             "membership_required", "jingka_required",
                                             "insured"})  # fmt: skip
    sexes = r.get(ed, "sexes", "eligibility", _p_list(_p_enum(Sex)), ())
    eligibility = EligibilityRules(
        min_age=r.get(ed, "min_age", "eligibility", _p_int, None),
        max_age=r.get(ed, "max_age", "eligibility", _p_int, None),
        age_basis=r.get(ed, "age_basis", "eligibility", _p_enum(AgeBasis), AgeBasis.ENROLLMENT),
        sexes=frozenset(sexes or ()),
        membership_required=r.get(ed, "membership_required", "eligibility", _p_bool, True),
        jingka_required=r.get(ed, "jingka_required", "eligibility", _p_bool, False),
        insured=r.get(ed, "insured", "eligibility", _p_enum(Insured), Insured.MEMBER),
    )
    sd = r.section(data, "shares", "", {"min_shares", "max_shares", "same_per_unit"})
    shares = ShareRules(
        min_shares=r.get(sd, "min_shares", "shares", _p_int, 1),
        max_shares=r.get(sd, "max_shares", "shares", _p_int, 1),
        same_per_unit=r.get(sd, "same_per_unit", "shares", _p_bool, True),
    )
    wd = r.section(data, "waiting", "", {"days", "reduced_band_days", "reduced_ratio",
                                         "applies_to_accidents"})  # fmt: skip
    waiting = WaitingRules(
        days=r.get(wd, "days", "waiting", _p_int, 0),
        reduced_band_days=r.get(wd, "reduced_band_days", "waiting", _p_int, 0),
        reduced_ratio=r.get(wd, "reduced_ratio", "waiting", _p_ratio, Decimal(1)),
        applies_to_accidents=r.get(wd, "applies_to_accidents", "waiting", _p_bool, False),
    )
    std = r.section(data, "stays", "", {"merge_gap_days", "same_day_days"})
    stays = StayRules(
        merge_gap_days=r.get(std, "merge_gap_days", "stays", _p_int, 0),
        same_day_days=r.get(std, "same_day_days", "stays", _p_int, 1),
    )
    catalogue = _catalogue_from(r, data)
    benefits: list[BenefitItem] = []
    raw_items = data.get("benefits")
    if not isinstance(raw_items, list) or not raw_items:
        r.errors.append("benefits: must be a non-empty list")
        raw_items = []
    for i, raw in enumerate(raw_items):
        item = _item_from(r, raw, f"benefits[{i}]")
        if item is not None:
            benefits.append(item)
    rest = {
        "renewal_grace_days": r.get(data, "renewal_grace_days", "", _p_int, 0),
        "claim_deadline_days": r.get(data, "claim_deadline_days", "", _p_int, None),
        "ends_cover_on_payout": r.get(data, "ends_cover_on_payout", "", _p_bool, False),
        "annual_cap": r.get(data, "annual_cap", "", _p_amount, None),
        "lifetime_cap": r.get(data, "lifetime_cap", "", _p_amount, None),
    }
    if r.errors:
        raise RulesError(r.errors)
    return PlanRules(
        program=program,
        plan_year=plan_year,
        version=version,
        name=name,
        term=TermRules(start, end, unified),
        funding=funding,
        eligibility=eligibility,
        shares=shares,
        waiting=waiting,
        stays=stays,
        catalogue=catalogue,
        benefits=tuple(benefits),
        **rest,
    )


def _catalogue_from(r: _Reader, data: Mapping[str, Any]) -> DiseaseCatalogue | None:
    cd = r.section(data, "catalogue", "", {"version", "entries"})
    if not cd:
        return None
    version = r.get(cd, "version", "catalogue", _p_str)
    entries: list[CatalogueEntry] = []
    raw_entries = cd.get("entries")
    if not isinstance(raw_entries, list):
        r.errors.append("catalogue.entries: must be a list")
        raw_entries = []
    for i, raw in enumerate(raw_entries):
        path = f"catalogue.entries[{i}]"
        if not isinstance(raw, Mapping):
            r.errors.append(f"{path}: must be an object")
            continue
        r.known(raw, path, {"code", "name", "icd10", "excludes", "amount"})
        entries.append(
            CatalogueEntry(
                code=r.get(raw, "code", path, _p_str),
                name=r.get(raw, "name", path, _p_str),
                icd10=r.get(raw, "icd10", path, _p_list(_p_str)),
                excludes=r.get(raw, "excludes", path, _p_list(_p_str), ()),
                amount=r.get(raw, "amount", path, _p_money, None),
            )
        )
    if r.errors:
        return None
    return DiseaseCatalogue(version, tuple(entries))


def _item_from(r: _Reader, raw: Any, path: str) -> BenefitItem | None:
    if not isinstance(raw, Mapping):
        r.errors.append(f"{path}: must be an object")
        return None
    r.known(raw, path, _ITEM)
    causes = r.get(raw, "causes", path, _p_list(_p_enum(Cause)), None)
    return BenefitItem(
        code=r.get(raw, "code", path, _p_str),
        kind=r.get(raw, "kind", path, _p_enum(BenefitKind)),
        name=r.get(raw, "name", path, _p_str),
        causes=frozenset(causes) if causes is not None else frozenset(Cause),
        amount=r.get(raw, "amount", path, _p_amount, None),
        basis_label=r.get(raw, "basis_label", path, _p_str, "自付"),
        deductible=r.get(raw, "deductible", path, _p_money, Decimal("0.00")),
        deductible_per=r.get(
            raw, "deductible_per", path, _p_enum(DeductiblePer), DeductiblePer.EVENT
        ),
        ratio=r.get(raw, "ratio", path, _p_ratio, Decimal(1)),
        net_of_other_payments=r.get(raw, "net_of_other_payments", path, _p_bool, True),
        per_event_cap=r.get(raw, "per_event_cap", path, _p_amount, None),
        annual_cap=r.get(raw, "annual_cap", path, _p_amount, None),
        cap_group=r.get(raw, "cap_group", path, _p_str, None),
        deductible_days=r.get(raw, "deductible_days", path, _p_int, 0),
        max_days_per_stay=r.get(raw, "max_days_per_stay", path, _p_int, None),
        annual_day_cap=r.get(raw, "annual_day_cap", path, _p_int, None),
        grade_ratios=r.get(raw, "grade_ratios", path, _p_grades, {}),
    )


# -- demo rules ---------------------------------------------------------------------------------


def _m(value: str) -> Decimal:
    return money(value)


def _tiers_of(*pairs: tuple[str, str]) -> dict[str, Decimal]:
    return {tier: _m(value) for tier, value in pairs}


def demo_rules(plan_year: int = 2026) -> dict[str, PlanRules]:
    """Plausible rules for all eight programs (numbers from DOMAIN's real examples)."""
    year_start, year_end = date(plan_year, 1, 1), date(plan_year, 12, 31)
    one_year = TermRules(year_start, year_end)
    member_16_65 = EligibilityRules(min_age=16, max_age=65)
    illness_only = frozenset({Cause.ILLNESS})
    accident_only = frozenset({Cause.ACCIDENT})
    ywsh_tiers = ("26", "50", "74", "100")

    def by_tier(*values: str) -> Amount:
        return Amount(by_tier=dict(zip(ywsh_tiers, map(_m, values), strict=True)))

    zdjb_catalogue = DiseaseCatalogue(
        f"{plan_year}.1",
        (
            CatalogueEntry("malignant_tumour", "恶性肿瘤", ("C",), excludes=("C44",)),
            CatalogueEntry("myocardial_infarction", "急性心肌梗死", ("I21", "I22")),
            CatalogueEntry("stroke", "脑中风后遗症", ("I60", "I61", "I63", "I69")),
            CatalogueEntry("end_stage_renal", "终末期肾病", ("N18.5", "N18.6")),
            CatalogueEntry("aplastic_anaemia", "重型再生障碍性贫血", ("D61",)),
            CatalogueEntry("organ_transplant", "重大器官移植术", ("Z94",)),
            CatalogueEntry("alzheimer", "严重阿尔茨海默病", ("G30",)),
            CatalogueEntry("parkinson", "严重原发性帕金森病", ("G20",)),
            CatalogueEntry("paralysis", "瘫痪", ("G81", "G82", "G83")),
        ),
    )
    ngtj_catalogue = DiseaseCatalogue(
        f"{plan_year}.1",
        (
            CatalogueEntry("breast_cancer", "乳腺癌", ("C50",), amount=_m("15000")),
            CatalogueEntry("cervical_cancer", "宫颈癌", ("C53",), amount=_m("15000")),
            CatalogueEntry("uterine_cancer", "子宫体癌", ("C54", "C55"), amount=_m("15000")),
            CatalogueEntry("ovarian_cancer", "卵巢癌", ("C56",), amount=_m("15000")),
            CatalogueEntry("breast_in_situ", "乳腺原位癌", ("D05",), amount=_m("5000")),
            CatalogueEntry("cervix_in_situ", "宫颈原位癌", ("D06",), amount=_m("5000")),
        ),
    )
    rules = [
        PlanRules(
            program="ZYYL",
            plan_year=plan_year,
            name=PROGRAM_NAMES["ZYYL"],
            term=one_year,
            funding=FundingRules(fee_per_share=_m("60"), min_participation_ratio=Decimal("0.8")),
            eligibility=member_16_65,
            waiting=WaitingRules(days=30),
            renewal_grace_days=30,
            claim_deadline_days=365,
            annual_cap=Amount(_m("20000")),
            benefits=(
                BenefitItem(
                    "medical",
                    BenefitKind.REIMBURSE,
                    "住院医疗费用",
                    deductible=_m("1000"),
                    ratio=Decimal("0.5"),
                    per_event_cap=Amount(_m("10000")),
                ),
            ),
        ),
        PlanRules(
            program="ZYJT",
            plan_year=plan_year,
            name=PROGRAM_NAMES["ZYJT"],
            term=one_year,
            funding=FundingRules(fee_per_share=_m("30"), min_participation_ratio=Decimal("0.8")),
            eligibility=member_16_65,
            shares=ShareRules(max_shares=2),
            waiting=WaitingRules(days=30),
            renewal_grace_days=30,
            claim_deadline_days=365,
            benefits=(
                BenefitItem(
                    "allowance",
                    BenefitKind.DAILY,
                    "住院津贴",
                    amount=Amount(_m("20"), per_share=True),
                    deductible_days=3,
                    annual_day_cap=180,
                ),
            ),
        ),
        PlanRules(
            program="ZDJB",
            plan_year=plan_year,
            name=PROGRAM_NAMES["ZDJB"],
            term=TermRules(year_start, date(plan_year + 2, 12, 31)),
            funding=FundingRules(fee_per_share=_m("90"), min_participation_ratio=Decimal("0.8")),
            eligibility=EligibilityRules(min_age=16, max_age=60),
            shares=ShareRules(max_shares=4),
            waiting=WaitingRules(days=30),
            renewal_grace_days=30,
            claim_deadline_days=730,
            ends_cover_on_payout=True,
            catalogue=zdjb_catalogue,
            benefits=(
                BenefitItem(
                    "critical_illness",
                    BenefitKind.LUMP_SUM,
                    "重大疾病保障金",
                    amount=Amount(_m("10000"), per_share=True),
                ),
            ),
        ),
        PlanRules(
            program="NGTJ",
            plan_year=plan_year,
            name=PROGRAM_NAMES["NGTJ"],
            term=one_year,
            funding=FundingRules(fee_per_share=_m("25"), min_participation_ratio=Decimal("0.8")),
            eligibility=EligibilityRules(min_age=16, max_age=60, sexes=frozenset({Sex.FEMALE})),
            shares=ShareRules(max_shares=3),
            waiting=WaitingRules(days=60, reduced_band_days=180, reduced_ratio=Decimal("0.5")),
            renewal_grace_days=30,
            claim_deadline_days=365,
            catalogue=ngtj_catalogue,
            benefits=(
                BenefitItem(
                    "special_disease",
                    BenefitKind.LUMP_SUM,
                    "女工特殊疾病保障金",
                    causes=illness_only,
                    amount=Amount(_m("15000"), per_share=True),
                ),
            ),
        ),
        PlanRules(
            program="YWSH",
            plan_year=plan_year,
            name=PROGRAM_NAMES["YWSH"],
            term=one_year,
            funding=FundingRules(fee_by_tier=_tiers_of(*[(t, t) for t in ywsh_tiers])),
            eligibility=EligibilityRules(min_age=16, max_age=60, age_basis=AgeBasis.EVENT),
            renewal_grace_days=30,
            claim_deadline_days=365,
            benefits=(
                BenefitItem(
                    "death",
                    BenefitKind.FIXED,
                    "意外身故",
                    causes=accident_only,
                    amount=by_tier("20000", "40000", "60000", "80000"),
                    annual_cap=by_tier("20000", "40000", "60000", "80000"),
                    cap_group="death_disability",
                ),
                BenefitItem(
                    "disability",
                    BenefitKind.DISABILITY,
                    "意外伤残",
                    causes=accident_only,
                    amount=by_tier("20000", "40000", "60000", "80000"),
                    annual_cap=by_tier("20000", "40000", "60000", "80000"),
                    cap_group="death_disability",
                    grade_ratios=dict(STANDARD_GRADE_RATIOS),
                ),
                BenefitItem(
                    "allowance",
                    BenefitKind.DAILY,
                    "意外住院津贴",
                    causes=accident_only,
                    amount=by_tier("20", "40", "60", "80"),
                    annual_day_cap=180,
                ),
            ),
        ),
        PlanRules(
            program="ZNYW",
            plan_year=plan_year,
            name=PROGRAM_NAMES["ZNYW"],
            term=one_year,
            funding=FundingRules(fee_per_share=_m("20")),
            eligibility=EligibilityRules(
                min_age=0, max_age=17, age_basis=AgeBasis.EVENT, insured=Insured.CHILD
            ),
            shares=ShareRules(max_shares=2, same_per_unit=False),
            renewal_grace_days=30,
            claim_deadline_days=365,
            benefits=(
                BenefitItem(
                    "medical",
                    BenefitKind.REIMBURSE,
                    "子女意外医疗",
                    causes=accident_only,
                    deductible=_m("100"),
                    ratio=Decimal("0.8"),
                    per_event_cap=Amount(_m("2000"), per_share=True),
                ),
                BenefitItem(
                    "death",
                    BenefitKind.FIXED,
                    "子女意外身故",
                    causes=accident_only,
                    amount=Amount(_m("10000"), per_share=True),
                ),
                BenefitItem(
                    "disability",
                    BenefitKind.DISABILITY,
                    "子女意外伤残",
                    causes=accident_only,
                    amount=Amount(_m("10000"), per_share=True),
                    grade_ratios=dict(STANDARD_GRADE_RATIOS),
                ),
            ),
        ),
        PlanRules(
            program="ECBX",
            plan_year=plan_year,
            name=PROGRAM_NAMES["ECBX"],
            term=one_year,
            funding=FundingRules(kind=Funding.DUES),
            eligibility=EligibilityRules(jingka_required=True),
            lifetime_cap=Amount(_m("200653")),
            benefits=(
                BenefitItem(
                    "secondary",
                    BenefitKind.REIMBURSE,
                    "二次报销",
                    basis_label="自付一",
                    deductible=_m("1000"),
                    deductible_per=DeductiblePer.YEAR,
                    ratio=Decimal("0.5"),
                ),
            ),
        ),
        PlanRules(
            program="FGSZH",
            plan_year=plan_year,
            name=PROGRAM_NAMES["FGSZH"],
            term=one_year,
            funding=FundingRules(kind=Funding.DUES),
            eligibility=EligibilityRules(jingka_required=True),
            claim_deadline_days=365,
            benefits=(
                BenefitItem(
                    "death",
                    BenefitKind.FIXED,
                    "非因工意外身故",
                    causes=accident_only,
                    amount=Amount(_m("10000")),
                    annual_cap=Amount(_m("10000")),
                    cap_group="death_disability",
                ),
                BenefitItem(
                    "disability",
                    BenefitKind.DISABILITY,
                    "非因工意外伤残",
                    causes=accident_only,
                    amount=Amount(_m("10000")),
                    annual_cap=Amount(_m("10000")),
                    cap_group="death_disability",
                    grade_ratios=dict(STANDARD_GRADE_RATIOS),
                ),
                BenefitItem(
                    "property",
                    BenefitKind.REIMBURSE,
                    "家庭财产损失（火灾）",
                    causes=accident_only,
                    basis_label="财产损失",
                    per_event_cap=Amount(_m("10000")),
                    annual_cap=Amount(_m("10000")),
                ),
            ),
        ),
    ]
    return {rule.program: rule for rule in rules}


DEMO_RULES: Mapping[str, PlanRules] = demo_rules(2026)
"""The 2026 demo rules of all eight programs, keyed by program code."""
