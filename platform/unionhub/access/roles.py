"""Built-in roles and the core's own permissions."""

from __future__ import annotations

from unionhub.contrib import Permission, RoleGrantDefault

BUILTIN_ROLES: dict[str, str] = {
    "member": "会员",
    "agent_clerk": "代办员",
    "grassroots_officer": "基层工会干部",
    "district_officer": "区县/产业工会干部",
    "city_officer": "市总工会干部",
    "admin": "平台管理员",
}

#: Roles a member account holds implicitly within its own org.
IMPLICIT_MEMBER_ROLE = "member"

CORE_PERMISSIONS = [
    Permission("core.office", "进入工会后台"),
    Permission("core.members.view", "查看会员"),
    Permission("core.members.edit", "编辑会员信息"),
    Permission("core.members.export", "导出会员"),
    Permission("core.members.import", "导入会员数据"),
    Permission("core.cards.manage", "京卡挂失与补卡"),
    Permission("core.orgs.view", "查看工会组织"),
    Permission("core.orgs.manage", "管理工会组织"),
    Permission("core.roles.manage", "授予角色"),
    Permission("core.audit.view", "查看审计日志"),
    Permission("core.plugins.manage", "管理插件"),
    Permission("core.settings.manage", "管理设置"),
    Permission("core.groups.manage", "新建和修改会员群体"),
    Permission("core.groups.members", "维护会员群体成员（本级及下级工会）"),
]

_OFFICER = ("core.office", "core.members.view", "core.orgs.view")
CORE_ROLE_DEFAULTS = [
    RoleGrantDefault("agent_clerk", _OFFICER),
    RoleGrantDefault(
        "grassroots_officer", (*_OFFICER, "core.members.edit", "core.cards.manage",
                               "core.groups.members")
    ),
    RoleGrantDefault(
        "district_officer",
        (*_OFFICER, "core.members.edit", "core.cards.manage", "core.members.export",
         "core.members.import", "core.orgs.manage", "core.groups.members"),
    ),
    RoleGrantDefault(
        "city_officer",
        (*_OFFICER, "core.members.edit", "core.cards.manage", "core.members.export",
         "core.members.import", "core.orgs.manage", "core.roles.manage", "core.audit.view",
         "core.groups.manage", "core.groups.members"),
    ),
    RoleGrantDefault("admin", tuple(p.key for p in CORE_PERMISSIONS)),
]
