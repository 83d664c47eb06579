"""The bookings job: pending bookings past their hold expire (on beat every five minutes)."""

from __future__ import annotations

from typing import Any

from . import service


def expire_job(ctx: Any) -> dict[str, Any]:
    """``bookings_expire``: expire unconfirmed bookings past ``hold_until`` and give their
    stock and quota back. Safe to re-run: only pending bookings are touched."""
    from unionhub import db

    s = db.session()
    expired = service.expire_holds(s)
    s.commit()
    ctx.counts.update({"失效预约": expired})
    return {"expired": expired}
