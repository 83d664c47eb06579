"""Every core model, imported in one place (Alembic and tests import this module)."""

from unionhub.access.models import RoleGrant, RolePermission
from unionhub.audit.models import AuditLog
from unionhub.identity.models import Account, JingkaCard, LoginThrottle, Member
from unionhub.jobs.models import Job
from unionhub.orgs.models import Org
from unionhub.plugins.models import PluginRecord
from unionhub.settings.models import SettingValue

__all__ = [
    "Account",
    "AuditLog",
    "JingkaCard",
    "Job",
    "LoginThrottle",
    "Member",
    "Org",
    "PluginRecord",
    "RoleGrant",
    "RolePermission",
    "SettingValue",
]
