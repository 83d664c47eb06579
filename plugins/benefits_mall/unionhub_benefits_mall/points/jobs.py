"""Points jobs: the nightly expiry and large grants run as tracked jobs with progress."""

from __future__ import annotations

from typing import Any

from unionhub.orgs.models import Org

from . import service

EXPIRE_JOB = "benefits_mall.points_expire"
GRANT_JOB = "benefits_mall.points_grant"


def expire_job(ctx: Any) -> dict[str, Any]:
    """``points_expire``: expire the unspent remainder of every lot past its date (optional
    ``today`` parameter, ``YYYY-MM-DD``). Each chunk of members is committed before its
    progress is reported (the chunks are independent, and re-running adds nothing)."""
    from datetime import date

    from unionhub import db

    raw = ctx.params.get("today")
    today = date.fromisoformat(str(raw)) if raw else service.beijing_today()
    s = db.session()

    def progress(done: int, total: int) -> None:
        s.commit()  # release the members' locks (and SQLite's writer lock) first
        ctx.progress(done, total, f"{done}/{total}")

    expired = service.expire_due(s, today, progress=progress)
    s.commit()
    ctx.counts.update({"过期批次": expired})
    return {"expired": expired, "today": today.isoformat()}


def grant_job(ctx: Any) -> dict[str, Any]:
    """``points_grant``: one grant of the officer's form (parameters: ``org_id``,
    ``occasion``, ``points``, ``year``, ``batch_key``, ``group_ids``, ``note``,
    ``account_id``). All or nothing in one transaction: a refused grant fails the job with
    the reason and writes nothing; a job retried after a crash skips members already granted.

    Progress is reported per chunk on PostgreSQL; on SQLite the grant's open transaction holds
    the database's only writer lock, so the job page shows progress only when it ends."""
    from unionhub import db

    p = ctx.params
    s = db.session()
    org = s.get(Org, int(p["org_id"]))
    if org is None:
        raise service.PointsError("发放单位不存在")
    ctx.progress(0, None, "正在核对积分上限", force=True)
    live = s.get_bind().dialect.name != "sqlite"

    def progress(done: int, total: int) -> None:
        if live:
            ctx.progress(done, total, f"{done}/{total}", force=done == total)

    result = service.grant(
        s, org=org, member_ids=None, occasion=str(p["occasion"]), points=int(p["points"]),
        year=int(p["year"]), account_id=p.get("account_id"), batch_key=str(p["batch_key"]),
        note=str(p.get("note") or ""), group_ids=[int(g) for g in p.get("group_ids") or []],
        progress=progress)
    s.commit()
    ctx.counts.update({"发放人数": result.granted, "此前已发放": result.already})
    return {"granted": result.granted, "already": result.already,
            "expires_on": result.expires_on.isoformat()}
