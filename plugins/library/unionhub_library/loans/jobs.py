"""The loans' beat job ``library.loans_expire`` (every 5 minutes): loans past ``due_at`` are
returned automatically, reservations past ``expires_at`` lapse, and every freed copy goes to
the next waiting reader, who is notified.

Set-based and idempotent: each loan or hold changes state in one conditional ``UPDATE``
(rows another run holds are skipped, never counted twice), so a second run — or two workers
at once — changes nothing more.
"""

from __future__ import annotations

from typing import Any

from .service import sweep

EXPIRE_EVERY_SECONDS = 5 * 60


def expire_job(ctx: Any) -> dict[str, Any]:
    """Job ``library.loans_expire``."""
    from unionhub import db

    s = db.session()
    result = sweep(s, step=s.commit).as_dict()
    s.commit()
    ctx.counts.update(result)
    return result
