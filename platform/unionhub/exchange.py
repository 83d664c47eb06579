"""Member data exchange between plugins that do not import each other.

* :func:`members_changed` — the core's member/Jingka import hands what it changed to every
  enabled plugin's ``unionhub_members_changed`` (mutual aid re-routes payouts to new cards,
  the OA plugin records the members its data-exchange run touched) and keeps their reactions.
* :func:`accounting_lines` — every plugin's per-unit figures for a plan year
  (``unionhub_accounting_lines``), for the OA plugin's automatic accounting.
* :func:`audience_sources` — ways to choose members for a campaign (``unionhub_audiences``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Flask

from unionhub.contrib import AccountingLine, AudienceSource, ChangeReaction, MemberChanges
from unionhub.plugins.calls import call_each

CHANGED = "unionhub_members_changed"
ACCOUNTING = "unionhub_accounting_lines"
AUDIENCES = "unionhub_audiences"
CENT = Decimal("0.01")


class ExchangeError(ValueError):
    """A plugin answered one of these hooks out of contract."""


def members_changed(app: Flask, changes: MemberChanges) -> list[dict[str, Any]]:
    """Run the reactions to an applied import (in its transaction, ``changes.session``);
    JSON-able summaries ``{"plugin", "label", "counts", "count_labels"}`` in load order."""
    out = []
    for plugin, reaction in call_each(CHANGED, app=app, changes=changes):
        if reaction is None:
            continue
        if not isinstance(reaction, ChangeReaction):
            raise ExchangeError(f"插件 {plugin}: {CHANGED} must return a ChangeReaction")
        out.append({"plugin": plugin, "label": reaction.label,
                    "counts": {k: int(v) for k, v in reaction.counts.items()},
                    "count_labels": dict(reaction.count_labels)})
    return out


@dataclass(frozen=True)
class SourcedLine:
    """An accounting line with the plugin it came from."""

    plugin: str
    line: AccountingLine


def _money(plugin: str, value: Any) -> Decimal:
    if not isinstance(value, Decimal) or value != value.quantize(CENT):
        raise ExchangeError(f"插件 {plugin}: {ACCOUNTING} amounts must be Decimal with 2 "
                            f"places, not {value!r}")
    return value


def accounting_lines(plan_year: int) -> list[SourcedLine]:
    """Every enabled plugin's accounting lines for ``plan_year`` (amounts checked)."""
    out = []
    for plugin, lines in call_each(ACCOUNTING, plan_year=plan_year):
        for line in lines or ():
            if not isinstance(line, AccountingLine):
                raise ExchangeError(f"插件 {plugin}: {ACCOUNTING} must return AccountingLine")
            for amount in (line.due, line.billed, line.received):
                _money(plugin, amount)
            out.append(SourcedLine(plugin, line))
    return out


def audience_sources() -> dict[str, AudienceSource]:
    """Audience sources by ``<plugin>.<key>``."""
    out: dict[str, AudienceSource] = {}
    for plugin, sources in call_each(AUDIENCES):
        for src in sources or ():
            if not isinstance(src, AudienceSource):
                raise ExchangeError(f"插件 {plugin}: {AUDIENCES} must return AudienceSource")
            key = f"{plugin}.{src.key}"
            if key in out:
                raise ExchangeError(f"duplicate audience source {key}")
            out[key] = src
    return out


__all__ = ["ExchangeError", "SourcedLine", "accounting_lines", "audience_sources",
           "members_changed"]
