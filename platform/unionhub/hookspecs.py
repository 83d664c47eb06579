"""Every hook the core calls, with its contract.

Each hook is documented in ``docs/plugins.md`` (a test checks that every hook here is
documented there and exercised by a test). Hooks return data — the dataclasses of
:mod:`unionhub.contrib` — and the core registers it; the order of implementations is never
relied on (contributions carry explicit priorities).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from flask import Flask

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
        MemberChanges,
        NavItem,
        Permission,
        ProfilePanel,
        RoleGrantDefault,
        SettingSpec,
        SlotContribution,
        SlotDecl,
    )
    from unionhub.imports.types import ImportHandler
    from unionhub.jobs.types import BeatEntry, JobSpec
    from unionhub.notify.types import ChannelSpec, NotificationType
    from unionhub.offers.types import OfferProvider
    from unionhub.search.types import SearchIndexer

hookspec = pluggy.HookspecMarker("unionhub")


@hookspec
def unionhub_configure(app: Flask) -> None:
    """Called once per enabled plugin at start-up, after config is loaded and the database
    is bound, before any registry is built. Use it for app-level setup that is not a
    contribution (e.g. Jinja filters). Returns nothing."""


@hookspec
def unionhub_database() -> DatabaseSpec | None:
    """Return the plugin's SQLAlchemy models (import them inside the hook, never at module
    import, so a disabled plugin's tables never register). Tables must be named
    ``<plugin>_*``; foreign keys into core tables must state ``ondelete``. Migrations are
    found through ``Manifest.migrations``, not through this hook."""


@hookspec
def unionhub_blueprints() -> Sequence[BlueprintSpec]:
    """Return the plugin's blueprints, one per surface (web, mobile, api, admin). The core
    enforces the blueprint name and URL prefix and refuses requests when the plugin is
    disabled at run time."""


@hookspec
def unionhub_permissions() -> Sequence[Permission]:
    """Return the permissions the plugin checks; the core prefixes each key with
    ``<plugin>.``. A duplicate key is an error."""


@hookspec
def unionhub_roles() -> Sequence[RoleGrantDefault]:
    """Return default role grants: permissions added to built-in roles, or new roles (with
    a label). Bare permission keys are taken as the plugin's own."""


@hookspec
def unionhub_nav_items() -> Sequence[NavItem]:
    """Return navigation items for the menus ``main``, ``member``, ``officer``, ``admin``.
    Items are sorted by priority, then key; items whose permission the user lacks are
    hidden."""


@hookspec
def unionhub_slots() -> Sequence[SlotDecl]:
    """Declare template slots that this plugin's templates render. A slot rendered in a
    template but declared nowhere is an error in tests."""


@hookspec
def unionhub_slot_contributions() -> Sequence[SlotContribution]:
    """Return contributions to declared slots. Rendering order is priority, then
    ``<plugin>.<key>``; a contribution to an undeclared slot stops start-up."""


@hookspec
def unionhub_profile_panels() -> Sequence[ProfilePanel]:
    """Return panels for the member's "我的" page (the ``member.profile.panels`` slot)."""


@hookspec
def unionhub_dashboard_widgets() -> Sequence[DashboardWidget]:
    """Return widgets for the member home, officer back-office home or admin home."""


@hookspec
def unionhub_settings() -> Sequence[SettingSpec]:
    """Return the plugin's typed settings schema; the admin settings page edits them and
    ``settings.get("<plugin>.<key>")`` reads them."""


@hookspec
def unionhub_cli() -> Sequence[CliGroup]:
    """Return click groups, mounted as ``unionhub <group name>``; the group's name must be
    the plugin's name."""


@hookspec
def unionhub_demo_seeders() -> Sequence[DemoSeeder]:
    """Return demo-data seeders run by ``unionhub demo`` after the core's own seeding."""


# --- core services -----------------------------------------------------------------------
# Contributions to the core services; each service validates and namespaces its own.


@hookspec
def unionhub_jobs() -> Sequence[JobSpec]:
    """Return the plugin's background jobs (``unionhub.jobs.JobSpec``). Kinds are
    namespaced ``<plugin>.<key>``; a job runs in the app context, reports progress to the
    ``job`` table, and is refused while its plugin is disabled. Start one with
    ``unionhub.jobs.submit("<plugin>.<key>", params, session=s, owner_id=...)``."""


@hookspec
def unionhub_beat() -> Sequence[BeatEntry]:
    """Return periodic entries (``unionhub.jobs.BeatEntry``) that submit a job every
    ``every`` seconds (once per time slot across all processes); namespaced
    ``<plugin>.<key>`` and overridable or switched off in config ``BEAT_OVERRIDES``."""


@hookspec
def unionhub_import_handlers() -> Sequence[ImportHandler]:
    """Return file import handlers (``unionhub.imports.ImportHandler``): code (namespaced
    ``<plugin>.<code>``), label, permission, required/optional Chinese columns, row
    validation (run in worker processes), a staging table, the SQL review that yields the
    preview counts, and the set-based apply."""


@hookspec
def unionhub_notification_types() -> Sequence[NotificationType]:
    """Return the plugin's notification types (``unionhub.notify.types.NotificationType``),
    namespaced ``<plugin>.<key>``: label, default and allowed channels, whether members may
    choose, and how to render the message. Send with ``unionhub.notify.send(session,
    "<plugin>.<key>", member_ids_or_query, context, batch_key)``."""


@hookspec
def unionhub_notification_channels() -> Sequence[ChannelSpec]:
    """Return delivery channels (``unionhub.notify.types.ChannelSpec``): a sender taking a
    batch of outbox items and returning one result per item. The core contributes the inbox,
    WeChat, SMS and e-mail; a plugin's channel keys are namespaced ``<plugin>.<key>``."""


@hookspec
def unionhub_search_indexers() -> Sequence[SearchIndexer]:
    """Return search indexers (``unionhub.search.types.SearchIndexer``): a document type
    ``<plugin>.<type>``, a tab label, and ``documents(session, ids)`` yielding
    ``SearchDocument``s whose ``acl`` tokens say who may see them (``unionhub.search.acl``).
    Queue changes with ``unionhub.search.queue.enqueue(session, doc_type, ids)`` in the same
    transaction as the change; one writer applies the queue."""


@hookspec
def unionhub_offer_providers() -> Sequence[OfferProvider]:
    """Return sources of member offers (``unionhub.offers.OfferProvider``): the welfare
    mall's Jingka discounts, listed by other plugins (the portal's 京卡优惠 section, home-page
    slots) through ``unionhub.offers.service.offers_for(viewer, limit=…)`` without importing
    the provider. Each provider filters for the viewer itself; a disabled plugin's providers
    are skipped."""


# --- approvals ---------------------------------------------------------------------------
# A sign-off between plugins that do not import each other: a plugin that owns something to
# sign off (an article) asks through ``unionhub.approvals.start``; an approval engine (the OA
# plugin) answers with its reference and, when the request ends, reports through
# ``unionhub.approvals.decided``.


@hookspec(firstresult=True)
def unionhub_approval_start(request: ApprovalRequest) -> str | None:
    """An approval engine starts a sign-off for ``request`` (``unionhub.contrib.
    ApprovalRequest``) and returns its reference (a non-empty string of at most 64
    characters); ``None`` means "not mine / no engine". The first engine in load order that
    returns a reference owns the request; when none does, the asking plugin applies its own
    review. Runs in the caller's transaction: write, do not commit."""


@hookspec
def unionhub_approval_decided(decision: ApprovalDecision) -> None:
    """Called (through ``unionhub.approvals.decided``) when an engine's request ends, with
    ``decision`` (``unionhub.contrib.ApprovalDecision``). The plugin that owns
    ``decision.kind`` (its ``<plugin>.`` prefix) acts on it — publishes, or returns the subject
    to its author with the opinion — and every other implementation ignores it. It must be
    idempotent (a decision delivered twice, or for a subject no longer waiting under
    ``decision.ref``, changes nothing). Runs in the caller's transaction: write, do not
    commit."""


# --- member data exchange, accounting, audiences ---------------------------------------------
# Called through ``unionhub.exchange`` (in the plugins' load order, disabled plugins skipped).


@hookspec
def unionhub_members_changed(changes: MemberChanges) -> ChangeReaction | None:
    """Called when a member/Jingka import is applied, inside its transaction, after the
    members and cards are written and before its staged rows are dropped. ``changes``
    (``unionhub.contrib.MemberChanges``) gives SELECTs of the new, left and card-replaced
    members' ids; ``changes.session`` is the import's session — write through it, set-based,
    and do not commit. Return a ``unionhub.contrib.ChangeReaction`` describing what was done,
    or ``None``. An exception rolls the whole import back."""


@hookspec
def unionhub_accounting_lines(plan_year: int) -> Sequence[AccountingLine]:
    """Return this plugin's figures for ``plan_year`` per unit and item
    (``unionhub.contrib.AccountingLine``): headcount, shares, amounts due, billed and received.
    Computed set-based (one GROUP BY, not per member); the accounting service rolls units up
    the org hierarchy. Read-only."""


@hookspec
def unionhub_audiences() -> Sequence[AudienceSource]:
    """Return ways to choose members for a notification campaign
    (``unionhub.contrib.AudienceSource``), such as "members covered by a mutual-aid program".
    Listed through ``unionhub.exchange.audience_sources()``."""
