"""What hooks return: small frozen dataclasses that the core validates and registers.

Plugins build these; the core namespaces them by plugin, rejects duplicates and builds
its registries once at start-up (see :mod:`unionhub.plugins.registry`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import click
from flask import Blueprint
from markupsafe import Markup

Surface = Literal["web", "mobile", "api", "admin"]
SURFACES: tuple[Surface, ...] = ("web", "mobile", "api", "admin")
Menu = Literal["main", "member", "officer", "admin"]
MENUS: tuple[Menu, ...] = ("main", "member", "officer", "admin")
SettingType = Literal["str", "int", "bool", "decimal", "secret"]


@dataclass(frozen=True)
class Manifest:
    """A plugin's manifest, exported as ``MANIFEST`` by the module its entry point names.

    ``requires_core`` is a version specifier such as ``">=0.1,<1"``. ``depends`` are hard
    dependencies (the platform refuses to start without them); ``uses`` are soft ones that
    only influence load order. ``migrations`` names the Alembic script directory as
    ``"package:folder"`` so the core can upgrade a plugin without importing its models.
    """

    name: str
    title: str
    requires_core: str = ">=0.1"
    depends: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()
    migrations: str | None = None
    description: str = ""


@dataclass(frozen=True)
class BlueprintSpec:
    """A blueprint on one surface. The core sets the name and URL prefix:

    web ``/<plugin>``, mobile ``/m/<plugin>``, api ``/api/v1/<plugin>``, admin ``/admin/<plugin>``;
    the blueprint must be named ``<plugin>`` (web) or ``<plugin>_<surface>``.
    """

    surface: Surface
    blueprint: Blueprint


@dataclass(frozen=True)
class NavItem:
    """A link in one menu. ``endpoint`` is a Flask endpoint; ``permission`` hides the item
    from users who hold that permission nowhere; ``visible`` (called per request, in the
    request context) hides it when it returns False — for audiences that are not roles, such
    as a partner merchant's staff."""

    menu: Menu
    key: str
    label: str
    endpoint: str
    icon: str = ""
    permission: str | None = None
    priority: int = 100
    visible: Callable[[], bool] | None = None
    #: Called per request for a count shown next to the label (a to-do count); 0/None: none.
    badge: Callable[[], int | None] | None = None


@dataclass(frozen=True)
class Permission:
    """A permission; the core prefixes ``key`` with the plugin name (``library.borrow``)."""

    key: str
    label: str


@dataclass(frozen=True)
class RoleGrantDefault:
    """Adds permissions (already namespaced, or the plugin's own bare keys) to a role.

    ``role`` is a built-in role (``member``, ``agent_clerk``, ``grassroots_officer``,
    ``district_officer``, ``city_officer``, ``admin``) or a new role the plugin declares
    with ``label`` set.
    """

    role: str
    permissions: tuple[str, ...]
    label: str | None = None


@dataclass(frozen=True)
class SlotDecl:
    """Declares a template slot that templates may render with ``slot(name, **ctx)``."""

    name: str
    description: str


@dataclass(frozen=True)
class SlotContribution:
    """Renders into a slot. ``render`` receives the slot's context as keyword arguments and
    returns markup (or None to render nothing for this context). Lower priority renders first.
    ``optional``: the slot belongs to another plugin that may be disabled — the contribution
    is dropped when nobody declares the slot, instead of refusing to start."""

    slot: str
    key: str
    render: Callable[..., Markup | str | None]
    priority: int = 100
    optional: bool = False


@dataclass(frozen=True)
class ProfilePanel:
    """A panel on the member's "我的" page; ``render(member=..., account=...)``."""

    key: str
    title: str
    render: Callable[..., Markup | str | None]
    priority: int = 100


@dataclass(frozen=True)
class DashboardWidget:
    """A widget on the member home, officer back-office home or admin home."""

    board: Literal["member", "officer", "admin"]
    key: str
    title: str
    render: Callable[..., Markup | str | None]
    permission: str | None = None
    priority: int = 100


@dataclass(frozen=True)
class SettingSpec:
    """A typed setting. Values come from the admin form (stored in ``setting``), else the
    environment variable ``env`` (always for secrets, if set), else ``default``. With
    ``per_org`` an org (and its subtree) may override the site-wide value; the nearest
    ancestor's override wins."""

    key: str
    label: str
    type: SettingType = "str"
    default: Any = None
    env: str | None = None
    help: str = ""
    choices: Sequence[str] | None = None
    per_org: bool = False


@dataclass(frozen=True)
class DatabaseSpec:
    """The plugin's models (imported by the hook, so a disabled plugin's models never load)."""

    models: tuple[type, ...] = ()


@dataclass(frozen=True)
class CliGroup:
    """A click group mounted as ``unionhub <plugin> ...``."""

    group: click.Group


@dataclass(frozen=True)
class DemoSeeder:
    """Seeds demo data; ``seed(session, ctx)`` runs after the core's seeder, in plugin load order.

    ``ctx`` is a :class:`unionhub.demo.DemoContext` with the orgs and members already seeded.
    """

    key: str
    seed: Callable[..., None]
    priority: int = 100


@dataclass(frozen=True)
class ApprovalRequest:
    """A sign-off asked of an approval engine (``unionhub_approval_start``).

    ``kind`` names what is signed off, namespaced by the plugin that owns it and acts on the
    decision (``"portal.article"``); ``subject_id`` is that plugin's row id. ``org_id`` is the
    org whose approvers decide, ``initiator_id`` the account asking, ``url`` a path where an
    approver reads the subject, ``fields`` short labelled values the engine shows on its form
    (``{"栏目": "通知公告", …}``)."""

    kind: str
    subject_id: int | str
    title: str
    org_id: int | None
    initiator_id: int | None
    url: str = ""
    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ApprovalDecision:
    """How a sign-off ended (``unionhub_approval_decided``): ``ref`` is what the engine returned
    from ``unionhub_approval_start``; ``by_id`` the deciding account; ``opinion`` its comment."""

    kind: str
    subject_id: int | str
    ref: str
    approved: bool
    by_id: int | None = None
    opinion: str = ""


@dataclass(frozen=True)
class MemberChanges:
    """What an applied member/Jingka import changed (``unionhub_members_changed``).

    ``new``, ``left`` and ``cards_replaced`` are SELECTs of member ids (one column), valid only
    during the hook call: they read the import's staged rows inside its still-open
    transaction. ``left`` are members active before the import who left or transferred out;
    ``cards_replaced`` existing members whose card was replaced by a new number. ``params``
    are the import's own parameters (an OA data-exchange run puts its run id there).
    ``session`` is the import's session: write through it (the import may run outside any
    request, and on SQLite another session would wait for the import's write lock)."""

    session: Any
    import_id: int
    owner_id: int | None
    new: Any
    left: Any
    cards_replaced: Any
    counts: Mapping[str, int] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChangeReaction:
    """What a plugin did about a member import (shown on the import's and the run's result):
    ``counts`` by key, labelled by ``count_labels``."""

    label: str
    counts: Mapping[str, int]
    count_labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountingLine:
    """One unit's figures for one item (a mutual-aid program) in a plan year
    (``unionhub_accounting_lines``). Money in 元 as ``Decimal`` with 2 places: ``due`` is what
    the unit's enrolments cost, ``billed`` what its fee statement asks, ``received`` what was
    recorded as paid."""

    unit_org_id: int
    item: str
    item_label: str
    headcount: int
    shares: int
    due: Any
    billed: Any
    received: Any


@dataclass(frozen=True)
class AudienceSource:
    """A way to choose members for a notification campaign (``unionhub_audiences``); the core
    namespaces ``key`` as ``<plugin>.<key>``. ``choices(session)`` lists the values an officer
    picks from as ``(value, label)``; ``members(session, value)`` returns a SELECT of member
    ids for one value (the caller narrows it to the officer's org subtree)."""

    key: str
    label: str
    choices: Callable[..., Sequence[tuple[str, str]]]
    members: Callable[..., Any]
