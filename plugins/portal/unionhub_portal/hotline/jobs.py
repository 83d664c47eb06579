"""The hotline's background job: escalating overdue questions (beat: every 15 minutes)."""

from __future__ import annotations

from typing import Any

from unionhub.db import utcnow

from .service import escalate_overdue

ESCALATE_EVERY_SECONDS = 15 * 60


def escalate_job(ctx: Any) -> dict[str, Any]:
    """Job ``portal.hotline_escalate``: escalate open questions past their deadline. Safe to
    re-run (each question is escalated once: the ``escalated_at IS NULL`` update decides)."""
    from unionhub import db

    s = db.session()
    escalated = escalate_overdue(s, utcnow())
    s.commit()
    counts = {"escalated": escalated}
    ctx.counts.update(counts)
    return counts
