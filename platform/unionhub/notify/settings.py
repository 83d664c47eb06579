"""The notification settings (the core namespaces them as ``core.<key>``)."""

from __future__ import annotations

from typing import Any

from unionhub.contrib import SettingSpec

NOTIFY_SETTINGS = [
    SettingSpec("public_url", "站点对外地址", default="",
                help="用于微信、短信和邮件中的链接，例如 https://gh.example.cn"),
    SettingSpec("wechat_base_url", "微信接口地址", default="https://api.weixin.qq.com"),
    SettingSpec("wechat_oauth_url", "微信网页授权地址",
                default="https://open.weixin.qq.com/connect/oauth2/authorize"),
    SettingSpec("wechat_appid", "微信公众号 AppID", default="", env="UNIONHUB_WECHAT_APPID"),
    SettingSpec("wechat_secret", "微信公众号 AppSecret", type="secret",
                env="UNIONHUB_WECHAT_SECRET"),
    SettingSpec("wechat_token", "微信消息推送令牌", type="secret",
                env="UNIONHUB_WECHAT_TOKEN"),
    SettingSpec("wechat_template_notice", "工会通知的微信模板ID", default=""),
    SettingSpec("wechat_parallel", "微信并发请求数", type="int", default=8),
    SettingSpec("wechat_timeout", "微信接口超时（秒）", type="int", default=10),
    SettingSpec("quota_wechat_per_minute", "微信每分钟发送上限", type="int", default=3000,
                help="0 表示不限"),
    SettingSpec("quota_wechat_per_day", "微信每日发送上限", type="int", default=100000),
    SettingSpec("quota_sms_per_minute", "短信每分钟发送上限", type="int", default=300),
    SettingSpec("quota_sms_per_day", "短信每日发送上限", type="int", default=20000),
    SettingSpec("quota_email_per_minute", "邮件每分钟发送上限", type="int", default=60),
    SettingSpec("quota_email_per_day", "邮件每日发送上限", type="int", default=2000),
    SettingSpec("sms_url", "短信接口地址", default=""),
    SettingSpec("sms_key", "短信接口密钥", type="secret", env="UNIONHUB_SMS_KEY"),
    SettingSpec("sms_sign", "短信签名", default="数字工会"),
    SettingSpec("smtp_host", "SMTP 服务器", default=""),
    SettingSpec("smtp_port", "SMTP 端口", type="int", default=465),
    SettingSpec("smtp_security", "SMTP 加密方式", default="ssl",
                choices=("ssl", "starttls", "none")),
    SettingSpec("smtp_user", "SMTP 用户名", default=""),
    SettingSpec("smtp_password", "SMTP 密码", type="secret", env="UNIONHUB_SMTP_PASSWORD"),
    SettingSpec("smtp_from", "发件人地址", default=""),
    SettingSpec("dispatch_batch_size", "每批发送条数", type="int", default=100),
    SettingSpec("dispatch_concurrency", "同时运行的发送任务数", type="int", default=2),
    SettingSpec("dispatch_seconds", "每个发送任务最长运行（秒）", type="int", default=50),
    SettingSpec("sending_timeout", "发送中断判定时间（秒）", type="int", default=600),
]


def read(key: str) -> Any:
    """``core.<key>``, or the spec's default while the settings are not registered."""
    from unionhub.settings import service as settings

    try:
        return settings.get(f"core.{key}")
    except KeyError:
        spec = next((s for s in NOTIFY_SETTINGS if s.key == key), None)
        return spec.default if spec else None
