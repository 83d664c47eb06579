"""OA: automatic accounting of mutual aid (互助核算) per plan year — per unit and program the
headcount, shares, fees due, billed and received and the difference, rolled up grassroots →
district/industry → city, the reconciliation, an Excel workbook and charts.

The figures come from the plugins' ``unionhub_accounting_lines`` (mutual aid answers it; the OA
plugin never imports mutual aid): without such a plugin a snapshot is empty.

Public entry points: :func:`.compute.compute` (``compute(session, plan_year, *, run_id=None,
by_id=None) -> OaAccountingSnapshot``, writes, does not commit), :mod:`.report` (scoped
reading), :func:`.excel.workbook`. Nothing heavy at import.
"""

from __future__ import annotations

from collections.abc import Sequence

from unionhub.contrib import NavItem
from unionhub_oa.features import Feature


def _models() -> Sequence[type]:
    from .models import MODELS

    return MODELS


FEATURE = Feature(
    name="accounting",
    views=("unionhub_oa.accounting.views",),
    models=_models,
    nav=(
        NavItem("officer", "oa_accounting", "互助核算", "oa.accounting",
                permission="oa.accounting.view", priority=30),
    ),
)
