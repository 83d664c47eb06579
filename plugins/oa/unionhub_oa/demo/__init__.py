"""OA: demo data — the finance officer, the approval workflows, requests in every state (with
real trails: made through the engine's own actions), documents drafted, under review and
issued with read receipts, one finished data-exchange run with its accounting and a
notification campaign to the members it touched (see :mod:`.seed`). Runs last among the OA
features, so everything it uses is there."""

from __future__ import annotations

from typing import Any

from unionhub_oa.features import Feature


def _seed(session: Any, ctx: Any) -> None:
    from .seed import seed

    seed(session, ctx)


FEATURE = Feature(name="demo", demo=_seed)
