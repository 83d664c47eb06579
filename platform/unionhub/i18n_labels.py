"""Chinese labels that are declared as data and translated only when rendered.

Nav items, permissions, roles, settings, member/card status labels, org level labels and
form field labels are plain Chinese strings in the modules that declare them; templates
translate them at render time with ``_(item.label)``, ``_(role.label)``, ``_(sp.label)``,
``_(m.status_label)``, ``_(o.level_label)``, ``_(f.label.text)`` and so on. ``pybabel
extract`` only finds string literals inside marker calls, so this module repeats those
labels wrapped in ``_l`` to put them into ``translations/messages.pot``.

Nothing imports this module at run time. When you add or rename such a label, add it here
too and update the catalogs (see ``babel.cfg``); ``tests/core/test_i18n.py`` checks that
the core's registered labels are all in the catalog.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

#: NavItem labels (unionhub.core_hooks).
NAV = [
    _l("会员群体"),
    _l("首页"),
    _l("我的"),
    _l("个人信息"),
    _l("修改密码"),
    _l("后台首页"),
    _l("会员管理"),
    _l("工会组织"),
    _l("管理首页"),
    _l("插件"),
    _l("会员"),
    _l("角色与授权"),
    _l("审计日志"),
    _l("设置"),
    _l("数据导入"),
    _l("后台任务"),
    _l("工作日历"),
]

#: Permission labels (unionhub.access.roles.CORE_PERMISSIONS).
PERMISSIONS = [
    _l("新建和修改会员群体"),
    _l("维护会员群体成员（本级及下级工会）"),
    _l("进入工会后台"),
    _l("查看会员"),
    _l("编辑会员信息"),
    _l("导入会员数据"),
    _l("导出会员"),
    _l("京卡挂失与补卡"),
    _l("查看工会组织"),
    _l("管理工会组织"),
    _l("授予角色"),
    _l("查看审计日志"),
    _l("管理插件"),
    _l("管理设置"),
]

#: Built-in role labels (unionhub.access.roles.BUILTIN_ROLES).
ROLES = [
    _l("会员"),
    _l("代办员"),
    _l("基层工会干部"),
    _l("区县/产业工会干部"),
    _l("市总工会干部"),
    _l("平台管理员"),
]

#: SettingSpec labels and help texts (unionhub.core_hooks).
SETTINGS = [
    _l("平台名称"),
    _l("职工服务热线"),
    _l("京卡发卡行BIN（逗号分隔）"),
    _l("只接受以这些数字开头的京卡卡号；留空表示不检查 BIN"),
]

#: MEMBER_STATUS_LABELS and CARD_STATUS_LABELS (unionhub.identity.models).
STATUSES = [
    _l("在会"),
    _l("转出"),
    _l("退会"),
    _l("正常"),
    _l("已挂失"),
    _l("已换卡"),
    _l("注销"),
]

#: LEVEL_LABELS (unionhub.orgs.models).
LEVELS = [
    _l("市总"),
    _l("区县"),
    _l("产业"),
    _l("基层"),
    _l("分会"),
]

#: WTForms field labels, rendered by the ``field`` macro as ``_(f.label.text)``.
FORM_LABELS = [
    _l("群体代码"),
    _l("群体名称"),
    _l("说明"),
    _l("身份证号或京卡卡号，每行一个"),
    # unionhub.auth.views
    _l("京卡卡号 / 手机号 / 身份证号"),
    _l("密码"),
    _l("京卡卡号"),
    _l("身份证号"),
    _l("登记的手机号"),
    _l("设置密码"),
    _l("确认密码"),
    _l("当前密码"),
    _l("新密码"),
    _l("确认新密码"),
    # unionhub.admin.views
    _l("工会组织代码"),
    _l("工会组织名称"),
    _l("层级"),
    _l("上级组织"),
    _l("设有代办处"),
    _l("地址"),
    _l("联系人"),
    _l("联系电话"),
    _l("新的上级组织"),
    _l("账号（用户名、卡号、手机号或身份证号）"),
    _l("角色"),
    _l("在组织（含下级）"),
    # unionhub.web.office
    _l("姓名"),
    _l("手机号"),
    _l("会籍状态"),
    _l("新卡号"),
]

#: DashboardWidget titles (unionhub.web.widgets) and the core's settings group title.
TITLES = [
    _l("我的京卡"),
    _l("会员概况"),
    _l("插件状态"),
    _l("平台"),
    _l("工作日历提醒"),
]

#: Working-day calendar labels (unionhub.workdays).
WORKDAYS = [
    _l("已录入完整"),
    _l("放假"),
    _l("调休上班"),
    _l("内置数据"),
    _l("管理员录入（已完整）"),
    _l("录入未完成"),
    _l("缺失"),
]

#: Notification labels (unionhub.notify): channels, types, states, settings, nav.
NOTIFY = [
    _l("短信"),
    _l("电子邮件"),
    _l("工会通知"),
    _l("发送中"),
    _l("已发送"),
    _l("已转短信"),
    _l("延后发送"),
    _l("站点对外地址"),
    _l("用于微信、短信和邮件中的链接，例如 https://gh.example.cn"),
    _l("微信接口地址"),
    _l("微信网页授权地址"),
    _l("微信公众号 AppID"),
    _l("微信公众号 AppSecret"),
    _l("微信消息推送令牌"),
    _l("工会通知的微信模板ID"),
    _l("微信并发请求数"),
    _l("微信接口超时（秒）"),
    _l("微信每分钟发送上限"),
    _l("0 表示不限"),
    _l("微信每日发送上限"),
    _l("短信每分钟发送上限"),
    _l("短信每日发送上限"),
    _l("邮件每分钟发送上限"),
    _l("邮件每日发送上限"),
    _l("短信接口地址"),
    _l("短信接口密钥"),
    _l("短信签名"),
    _l("SMTP 服务器"),
    _l("SMTP 端口"),
    _l("SMTP 加密方式"),
    _l("SMTP 用户名"),
    _l("SMTP 密码"),
    _l("发件人地址"),
    _l("每批发送条数"),
    _l("同时运行的发送任务数"),
    _l("每个发送任务最长运行（秒）"),
    _l("发送中断判定时间（秒）"),
    _l("发送通知"),
]

#: Job kinds, job and import states, import handlers and their preview counts.
JOBS_AND_IMPORTS = [
    _l("校验导入文件"),
    _l("应用搜索索引更新"),
    _l("重建搜索索引"),
    _l("恢复中断的任务"),
    _l("导入数据"),
    _l("排队中"),
    _l("进行中"),
    _l("已完成"),
    _l("失败"),
    _l("已取消"),
    _l("校验中"),
    _l("待确认导入"),
    _l("导入中"),
    _l("已导入"),
    _l("已放弃"),
    _l("市总京卡会员数据"),
    _l("新会员"),
    _l("信息变更"),
    _l("补卡换号"),
    _l("卡状态变更"),
    _l("退会/转出"),
    _l("无变化"),
    _l("错误行"),
    _l("已新增"),
    _l("已更新"),
]

LABELS = [*NAV, *PERMISSIONS, *ROLES, *SETTINGS, *STATUSES, *LEVELS, *FORM_LABELS, *TITLES,
          *JOBS_AND_IMPORTS, *WORKDAYS,
          *NOTIFY]
