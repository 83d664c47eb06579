"""Every core model, imported in one place (Alembic and tests import this module)."""

from unionhub.access.models import RoleGrant, RolePermission
from unionhub.api.models import ApiToken
from unionhub.audit.models import AuditLog
from unionhub.groups.models import MemberGroup, MemberGroupMember
from unionhub.identity.models import Account, JingkaCard, LoginThrottle, Member
from unionhub.imports.members import stage as import_member_stage
from unionhub.imports.models import ImportBatch
from unionhub.jobs.models import Job
from unionhub.notify.models import (
    Notification,
    NotifyBatch,
    NotifyBinding,
    NotifyOutbox,
    NotifyPreference,
    NotifyQuota,
    NotifyReceipt,
    NotifyState,
)
from unionhub.orgs.models import Org
from unionhub.plugins.models import PluginRecord
from unionhub.search.models import SearchQueue
from unionhub.settings.models import SettingValue
from unionhub.workdays.models import WorkdayOverride, WorkdayYear

__all__ = [
    "Account",
    "ApiToken",
    "AuditLog",
    "ImportBatch",
    "JingkaCard",
    "Job",
    "LoginThrottle",
    "Member",
    "MemberGroup",
    "MemberGroupMember",
    "Notification",
    "NotifyBatch",
    "NotifyBinding",
    "NotifyOutbox",
    "NotifyPreference",
    "NotifyQuota",
    "NotifyReceipt",
    "NotifyState",
    "Org",
    "PluginRecord",
    "RoleGrant",
    "RolePermission",
    "SearchQueue",
    "SettingValue",
    "WorkdayOverride",
    "WorkdayYear",
]

#: The tables the core's own migration history owns (plugin tables are "<plugin>_*").
CORE_TABLES = frozenset(
    {globals()[name].__tablename__ for name in __all__} | {import_member_stage.name}
)
