"""Entry point module: the manifest and hook implementations, nothing heavy at import."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from unionhub import hookimpl
from unionhub.contrib import (
    AccountingLine,
    ApprovalDecision,
    ApprovalRequest,
    AudienceSource,
    BlueprintSpec,
    ChangeReaction,
    CliGroup,
    DashboardWidget,
    DatabaseSpec,
    DemoSeeder,
    Manifest,
    MemberChanges,
    NavItem,
    Permission,
    ProfilePanel,
    RoleGrantDefault,
    SettingSpec,
    SlotContribution,
    SlotDecl,
)
from unionhub.imports import ImportHandler
from unionhub.jobs import BeatEntry, JobSpec
from unionhub.notify.types import ChannelSpec, NotificationType, Sent, Template
from unionhub.offers import OfferCard, OfferProvider
from unionhub.search.types import SearchIndexer

MANIFEST = Manifest(
    name="sample",
    title="示例插件",
    requires_core=">=0.1,<1",
    migrations="unionhub_sample:migrations",
    description="Shows every kind of contribution a plugin can make.",
)

CONFIGURED: list[str] = []


@hookimpl
def unionhub_configure(app) -> None:  # type: ignore[no-untyped-def]
    CONFIGURED.append(app.import_name)
    app.jinja_env.filters["sample_shout"] = lambda s: f"{s}!"


@hookimpl
def unionhub_database() -> DatabaseSpec:
    from unionhub_sample.models import SampleNote

    return DatabaseSpec(models=(SampleNote,))


@hookimpl
def unionhub_blueprints() -> Sequence[BlueprintSpec]:
    from unionhub_sample.views import api, web

    return [BlueprintSpec("web", web), BlueprintSpec("api", api)]


@hookimpl
def unionhub_permissions() -> Sequence[Permission]:
    return [Permission("notes.write", "写示例笔记")]


@hookimpl
def unionhub_roles() -> Sequence[RoleGrantDefault]:
    return [
        RoleGrantDefault("member", ("notes.write",)),
        RoleGrantDefault("sample_editor", ("notes.write",), label="示例编辑"),
    ]


@hookimpl
def unionhub_nav_items() -> Sequence[NavItem]:
    return [NavItem("main", "notes", "示例笔记", "sample.index", icon="📝", priority=50,
                    badge=_my_notes)]


def _my_notes() -> int | None:
    """The signed-in member's note count, shown next to the menu item."""
    from flask_login import current_user
    from sqlalchemy import func, select

    from unionhub import db
    from unionhub_sample.models import SampleNote

    if not current_user.is_authenticated or current_user.member_id is None:
        return None
    return db.session().scalar(select(func.count()).select_from(SampleNote).where(
        SampleNote.member_id == current_user.member_id))


@hookimpl
def unionhub_slots() -> Sequence[SlotDecl]:
    return [SlotDecl("sample.page.footer", "Below the sample page")]


@hookimpl
def unionhub_slot_contributions() -> Sequence[SlotContribution]:
    from markupsafe import Markup

    return [
        SlotContribution("home.main", "teaser",
                         lambda **_: Markup('<section class="card" id="sample-teaser">'
                                            "示例插件的首页区块</section>")),
        SlotContribution("sample.page.footer", "footer", lambda **_: "footer-from-slot"),
    ]


@hookimpl
def unionhub_profile_panels() -> Sequence[ProfilePanel]:
    return [ProfilePanel("notes", "我的示例笔记",
                         lambda member=None, account=None, **_: f"sample-panel:{account.id}")]


@hookimpl
def unionhub_dashboard_widgets() -> Sequence[DashboardWidget]:
    return [DashboardWidget("officer", "notes", "示例统计", lambda **_: "sample-widget",
                            permission="core.office")]


@hookimpl
def unionhub_settings() -> Sequence[SettingSpec]:
    return [
        SettingSpec("greeting", "问候语", default="你好"),
        SettingSpec("max_notes", "每人笔记上限", type="int", default=10,
                    env="UNIONHUB_SAMPLE_MAX_NOTES", per_org=True),
    ]


@hookimpl
def unionhub_cli() -> Sequence[CliGroup]:
    from unionhub_sample.cli import sample

    return [CliGroup(sample)]


@hookimpl
def unionhub_jobs() -> Sequence[JobSpec]:
    from unionhub_sample.jobs import count

    return [JobSpec("count", "示例计数任务", count, permission="sample.notes.write")]


@hookimpl
def unionhub_beat() -> Sequence[BeatEntry]:
    return [BeatEntry("hourly_count", "count", every=3600, params={"n": 1})]


@hookimpl
def unionhub_import_handlers() -> Sequence[ImportHandler]:
    from unionhub_sample.imports import HANDLER

    return [HANDLER]


SENT_BY_FAX: list[int] = []


@hookimpl
def unionhub_notification_types() -> Sequence[NotificationType]:
    return [NotificationType("reminder", "示例提醒", Template(title="{title}", body="{body}"),
                             default_channels=("fax",), allowed_channels=("fax", "sms"))]


@hookimpl
def unionhub_notification_channels() -> Sequence[ChannelSpec]:
    def fax(items):  # type: ignore[no-untyped-def]
        SENT_BY_FAX.extend(item.member_id for item in items)
        return [Sent(ref=f"fax-{item.id}") for item in items]

    return [ChannelSpec("fax", "传真", sender=fax)]


@hookimpl
def unionhub_search_indexers() -> Sequence[SearchIndexer]:
    from unionhub_sample.search import documents

    return [SearchIndexer("sample.note", "示例笔记", documents)]


@hookimpl
def unionhub_offer_providers() -> Sequence[OfferProvider]:
    def listing(viewer, limit, category):  # type: ignore[no-untyped-def]
        if category not in (None, "sample"):
            return []
        signed_in = viewer is not None and getattr(viewer, "is_authenticated", False)
        cards = [OfferCard("示例优惠：公开", "/sample/offers/1", "示例商户", "示例")]
        if signed_in:
            cards.append(OfferCard("示例优惠：会员专享", "/sample/offers/2", "示例商户", "示例",
                                   member_price="¥9.90", tags=("京卡专享",)))
        return cards[:limit]

    return [OfferProvider("deals", "示例优惠", listing, lambda: [("sample", "示例")])]


@hookimpl
def unionhub_demo_seeders() -> Sequence[DemoSeeder]:
    def seed(session, ctx) -> None:  # type: ignore[no-untyped-def]
        from unionhub_sample.models import SampleNote

        session.add(SampleNote(member_id=ctx.member_ids[0], text="演示笔记"))
        ctx.lines.append("示例插件: 1 条演示笔记")

    return [DemoSeeder("notes", seed)]


#: The sample approval engine's open requests (reference → request) and the decisions it
#: reported back for its own kind ("sample.note"), kept in memory for the tests.
APPROVALS: dict[str, ApprovalRequest] = {}
DECISIONS: list[ApprovalDecision] = []
_REFS = itertools.count(1)


@hookimpl
def unionhub_approval_start(request: ApprovalRequest) -> str | None:
    ref = f"sample-{next(_REFS)}"
    APPROVALS[ref] = request
    return ref


def decide(ref: str, approved: bool, by_id: int | None = None, opinion: str = "") -> bool:
    """End an open request (what an approver's click does in a real engine) and report it."""
    from unionhub import approvals

    request = APPROVALS.pop(ref)
    return approvals.decided(ApprovalDecision(request.kind, request.subject_id, ref, approved,
                                              by_id, opinion))


@hookimpl
def unionhub_approval_decided(decision: ApprovalDecision) -> None:
    if decision.kind.startswith("sample."):
        DECISIONS.append(decision)


#: What the sample plugin was told about applied member imports (import id → new member ids).
CHANGES: dict[int, dict[str, list[int]]] = {}


@hookimpl
def unionhub_members_changed(changes: MemberChanges) -> ChangeReaction | None:
    s = changes.session
    seen = {kind: sorted(s.scalars(getattr(changes, kind)))
            for kind in ("new", "left", "cards_replaced")}
    CHANGES[changes.import_id] = seen
    if not any(seen.values()):
        return None
    return ChangeReaction("示例插件", {k: len(v) for k, v in seen.items()},
                          {"new": "新会员", "left": "离会", "cards_replaced": "换卡"})


@hookimpl
def unionhub_accounting_lines(plan_year: int) -> Sequence[AccountingLine]:
    """One line per org with notes: a note costs 1.50 元, the first is paid."""
    from decimal import Decimal

    from sqlalchemy import func, select

    from unionhub import db
    from unionhub.identity.models import Member
    from unionhub_sample.models import SampleNote

    rows = db.session().execute(
        select(Member.org_id, func.count(SampleNote.id), func.count(func.distinct(Member.id)))
        .join(Member, Member.id == SampleNote.member_id).group_by(Member.org_id)
        .order_by(Member.org_id)).all()
    return [AccountingLine(org_id, "NOTE", f"示例笔记 {plan_year}", people, notes,
                           Decimal("1.50") * notes, Decimal("1.50") * notes, Decimal("1.50"))
            for org_id, notes, people in rows]


@hookimpl
def unionhub_audiences() -> Sequence[AudienceSource]:
    from sqlalchemy import select

    from unionhub_sample.models import SampleNote

    return [AudienceSource(
        "note_writers", "写过示例笔记的会员", lambda session: [("any", "全部")],
        lambda session, value: select(SampleNote.member_id).where(SampleNote.text != ""))]
