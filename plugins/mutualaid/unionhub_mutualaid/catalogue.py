"""Versioned disease catalogues (病种目录) matched against ICD-10 diagnosis codes.

An entry lists code prefixes: ``C50`` matches ``C50``, ``C50.9`` and the national extension
``C50.900x001``. Codes are compared without dots, spaces and case (``c50.9`` = ``C509``), so the
prefix ``N18.5`` matches ``N18.500`` but not ``N18.4``. An entry may exclude narrower prefixes
(``C`` minus ``C44``). The lookup table is built once, when the catalogue is constructed: a match
is a handful of dictionary look-ups per diagnosis code.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

_DROP = str.maketrans({".": None, " ": None, "-": None, "\u3000": None, "．": None})


def normalize_code(code: str) -> str:
    """``" c50.9 "`` → ``"C509"``; full-width characters are folded first."""
    if not code.isascii():
        code = unicodedata.normalize("NFKC", code)
    return code.translate(_DROP).upper()


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """One listed disease: a stable ``code`` (what the ledger remembers as paid), a name, the
    ICD-10 prefixes that identify it, optional excluded prefixes, and an optional amount per share
    overriding the benefit's own amount (e.g. NGTJ pays less for carcinoma in situ)."""

    code: str
    name: str
    icd10: tuple[str, ...]
    excludes: tuple[str, ...] = ()
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CatalogueMatch:
    entry: CatalogueEntry
    diagnosis: str
    prefix: str


@dataclass(frozen=True)
class DiseaseCatalogue:
    version: str
    entries: tuple[CatalogueEntry, ...]
    _prefixes: dict[str, tuple[CatalogueEntry, ...]] = field(init=False, repr=False, compare=False)
    _longest: int = field(init=False, repr=False, compare=False)
    _excludes: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        table: dict[str, list[CatalogueEntry]] = {}
        for entry in self.entries:
            for prefix in entry.icd10:
                table.setdefault(normalize_code(prefix), []).append(entry)
        object.__setattr__(self, "_prefixes", {k: tuple(v) for k, v in table.items()})
        object.__setattr__(self, "_longest", max((len(k) for k in table), default=0))
        excludes = {e.code: tuple(normalize_code(x) for x in e.excludes) for e in self.entries}
        object.__setattr__(self, "_excludes", excludes)

    def match(self, diagnoses: Iterable[str]) -> tuple[CatalogueMatch, ...]:
        """Every (entry, diagnosis) pair where a listed prefix matches and no exclusion does.

        Each entry appears once, with the first diagnosis that matched it.
        """
        found: dict[str, CatalogueMatch] = {}
        table = self._prefixes
        for diagnosis in diagnoses:
            code = normalize_code(diagnosis)
            for length in range(1, min(len(code), self._longest) + 1):
                prefix = code[:length]
                entries = table.get(prefix)
                if entries is None:
                    continue
                for entry in entries:
                    if entry.code in found:
                        continue
                    excluded = self._excludes[entry.code]
                    if excluded and code.startswith(excluded):
                        continue
                    found[entry.code] = CatalogueMatch(entry, diagnosis, prefix)
        return tuple(found.values())
