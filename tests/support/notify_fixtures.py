"""Fixtures and helpers for the notification tests (imported by tests/core/test_notify*.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import insert, select

from tests.support.fake_sms import FakeSms
from tests.support.fake_smtp import FakeSmtp
from tests.support.fake_wechat import FakeWeChat
from tests.support.notify_wiring import wire
from unionhub import db
from unionhub.db import utcnow
from unionhub.identity.models import Member
from unionhub.notify import service as notify
from unionhub.notify.models import NotifyBinding, NotifyOutbox
from unionhub.notify.types import NotificationType, Template
from unionhub.settings import service as settings

PUSH_TOKEN = "push-token-test"
TEMPLATE_ID = "TPL-NOTICE-1"

REMINDER = NotificationType(
    "reminder", "借阅到期提醒",
    Template(title="《{book}》即将到期", body="请于{due}前归还《{book}》。", url="/library/loans",
             wechat_template_setting="core.wechat_template_notice",
             wechat_fields={"thing1": "{book}", "time2": "{due}"}),
    default_channels=("wechat",), allowed_channels=("wechat", "sms", "email"))
SECURITY = NotificationType(
    "security", "账号安全提醒",
    Template(title="账号安全提醒", body="您的账号于{time}在新设备登录。",
             sms="您的账号在新设备登录"),
    default_channels=("sms",), allowed_channels=("sms",), member_choice=False)
TEST_TYPES = [("t", REMINDER), ("t", SECURITY)]


@pytest.fixture
def fake_wechat() -> Iterator[FakeWeChat]:
    fake = FakeWeChat().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_sms() -> Iterator[FakeSms]:
    fake = FakeSms().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_smtp() -> Iterator[FakeSmtp]:
    fake = FakeSmtp().start()
    yield fake
    fake.stop()


def configure(app: Flask, **values: Any) -> None:
    with app.app_context():
        for key, value in values.items():
            settings.put(f"core.{key}", value)
        db.session().commit()


@pytest.fixture
def napp(app: Flask, world: Any, fake_wechat: FakeWeChat, fake_sms: FakeSms,
         fake_smtp: FakeSmtp) -> Flask:
    """The app with notifications wired and every channel pointed at a local fake."""
    wire(app, extra_types=TEST_TYPES)
    configure(app, public_url="https://gh.example.cn", wechat_base_url=fake_wechat.url,
              wechat_appid=fake_wechat.appid, wechat_secret=fake_wechat.secret,
              wechat_token=PUSH_TOKEN, wechat_template_notice=TEMPLATE_ID, wechat_parallel=4,
              sms_url=fake_sms.url, sms_key=fake_sms.key, sms_sign="数字工会",
              smtp_host="127.0.0.1", smtp_port=fake_smtp.port, smtp_security="none",
              smtp_user="mailer", smtp_password="pw", smtp_from="noreply@gh.example.cn")
    return app


def bind(app: Flask, member_id: int, openid: str, channel: str = "wechat") -> None:
    with app.app_context():
        s = db.session()
        notify.set_binding(s, member_id, channel, openid)
        s.commit()


def openid_of(member_id: int) -> str:
    return f"oTEST{member_id:08d}"


def bulk_members(app: Flask, n: int, org_id: int, *, bound: bool = True) -> list[int]:
    """``n`` members inserted directly (numbers are placeholders), bound to WeChat."""
    tag = uuid.uuid4().hex[:8]
    now = utcnow()
    rows = [{"name": f"会员{i}", "sex": "M", "id_number_enc": "-",
             "id_number_hash": f"{tag}{i:010d}", "id_number_masked": "*" * 18,
             "birth_date": date(1990, 1, 1), "mobile": f"137{i:08d}", "org_id": org_id,
             "status": "active", "created_at": now, "updated_at": now} for i in range(n)]
    with app.app_context():
        s = db.session()
        s.execute(insert(Member), rows)
        ids = list(s.scalars(select(Member.id).where(Member.id_number_hash.like(f"{tag}%"))
                             .order_by(Member.id)))
        if bound:
            s.execute(insert(NotifyBinding), [
                {"member_id": mid, "channel": "wechat", "address": openid_of(mid),
                 "status": "active", "created_at": now, "updated_at": now} for mid in ids])
        s.commit()
    return ids


def send(app: Flask, type_key: str, members: Sequence[int] | Any, context: dict[str, Any],
         key: str, **kw: Any) -> int:
    with app.app_context():
        s = db.session()
        batch = notify.send(s, type_key, members, context, key, **kw)
        s.commit()
        return batch.id


def outbox(app: Flask, batch_id: int | None = None) -> list[NotifyOutbox]:
    with app.app_context():
        stmt = select(NotifyOutbox).order_by(NotifyOutbox.id)
        if batch_id is not None:
            stmt = stmt.where(NotifyOutbox.batch_id == batch_id)
        return list(db.session().scalars(stmt))


def by_member_channel(app: Flask, batch_id: int) -> dict[tuple[int, str], NotifyOutbox]:
    return {(r.member_id, r.channel): r for r in outbox(app, batch_id)}


def run_dispatch(app: Flask, seconds: float = 30.0) -> Any:
    from unionhub.notify.dispatch import dispatch

    with app.app_context():
        counts, _more = dispatch(app, seconds=seconds)
        return counts
