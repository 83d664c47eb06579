"""The OA plugin's own audience sources (``unionhub_audiences``; the core names them
``oa.org`` and ``oa.run``).

* ``org`` — the members of an org's subtree (``value``: the org id).
* ``run`` — the members a data-exchange run touched: new, left or with a replaced card
  (``value``: the run id; the exchange feature's tables, imported when called).

Each returns a SELECT of member ids; the campaign narrows it to active members of its own
org's subtree within the officer's scope (:func:`unionhub_oa.campaigns.service.audience`),
and the campaign offers an officer only the orgs of its own subtree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from unionhub.contrib import AudienceSource
from unionhub.i18n import _
from unionhub.identity.models import Member, MemberStatus
from unionhub.orgs.models import Org
from unionhub.web import id_arg

#: How many of the latest runs the run source offers.
RECENT_RUNS = 30
#: Indentation of an org in the list, per level below the root (a full-width space).
INDENT = "\u3000"


def org_choices(session: Session) -> list[tuple[str, str]]:
    """Every org as (id, name), in tree order, indented by depth."""
    rows = session.execute(select(Org.id, Org.name, Org.depth).order_by(Org.path)).all()
    return [(str(oid), INDENT * int(depth or 0) + name) for oid, name, depth in rows]


def org_members(session: Session, value: str) -> Select[Any]:
    """Active members of the org ``value``'s subtree (none for a value that is no org)."""
    path = select(Org.path).where(Org.id == _int(value)).scalar_subquery()
    return (select(Member.id).join(Org, Org.id == Member.org_id)
            .where(Member.status == MemberStatus.ACTIVE, Org.path.like(path.concat("%"))))


def run_choices(session: Session) -> list[tuple[str, str]]:
    """The latest data-exchange runs that touched members, newest first: every member the run
    touched (value ``<run id>``), and only its new members or those whose card was replaced
    (``<run id>:new``, ``<run id>:card_replaced``). Labels in the viewer's language."""
    from unionhub_oa.exchange.models import OaRun, OaRunMember

    runs = session.scalars(select(OaRun).where(
        select(OaRunMember.run_id).where(OaRunMember.run_id == OaRun.id).exists(),
    ).order_by(OaRun.id.desc()).limit(RECENT_RUNS))
    out = []
    for run in runs:
        out.append((str(run.id), run_label(run)))
        out.extend((f"{run.id}:{kind}", run_label(run, kind)) for kind in KINDS)
    return out


#: The kinds of touched members a campaign may address alone (members who left are not
#: active any more, so a campaign would reach none of them); labels translated at display.
KINDS = {"new": "新入会", "card_replaced": "补卡换号"}


def run_label(run: Any, kind: str = "") -> str:
    """"数据交换 #12 2026-11（2026-11-28）" (· 新入会): the run's number, period and day, and
    the kind of touched members, in the viewer's language (translated when shown, never
    stored translated: the campaign keeps the source key and value)."""
    from unionhub.web.formatting import local_time

    label = _("数据交换 #%(id)s %(period)s（%(day)s）", id=run.id, period=run.period,
              day=local_time(run.created_at, "%Y-%m-%d"))
    if kind in KINDS:
        label = f"{label} · {_(KINDS[kind])}"
    return label


def run_value_label(session: Session, value: str) -> str | None:
    """The label of a run source value (``<run id>`` or ``<run id>:<kind>``), None when the
    run is gone or the value is no run's."""
    from unionhub_oa.exchange.models import OaRun

    run_id, _sep, kind = str(value).partition(":")
    rid = _int(run_id)
    run = session.get(OaRun, rid) if rid > 0 else None
    if run is None or (kind and kind not in KINDS):
        return None
    return run_label(run, kind)


def run_members(session: Session, value: str) -> Select[Any]:
    """The members the run touched (``<run id>``: all of them; ``<run id>:<kind>``: those
    of one kind)."""
    from unionhub_oa.exchange.models import OaRunMember

    run, _sep, kind = str(value).partition(":")
    stmt = select(OaRunMember.member_id).where(OaRunMember.run_id == _int(run))
    if kind:
        stmt = stmt.where(OaRunMember.kind == kind)
    return stmt


def _int(value: str) -> int:
    """An id from a source value (-1: none; ASCII digits in a database integer only)."""
    return id_arg(str(value)) or -1


def own_sources() -> list[AudienceSource]:
    return [
        AudienceSource("org", "组织（含下级）的会员", org_choices, org_members),
        AudienceSource("run", "数据交换涉及的会员", run_choices, run_members),
    ]
