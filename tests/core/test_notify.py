"""Notifications: the outbox is filled once per (batch, member, channel), set-based, in the
caller's transaction; preferences decide the channels; the inbox is written at once; the
migration matches the models."""

# ruff: noqa: F811  (pytest fixtures imported from tests.support.notify_fixtures)

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select

from tests.support.notify_fixtures import (  # noqa: F401
    REMINDER,
    bind,
    bulk_members,
    by_member_channel,
    fake_sms,
    fake_smtp,
    fake_wechat,
    napp,
    outbox,
    send,
)
from tests.support.notify_wiring import wire
from unionhub import db
from unionhub.identity.models import Member
from unionhub.notify import service as notify
from unionhub.notify.models import MODELS, Notification, NotifyBatch
from unionhub.notify.registry import build
from unionhub.notify.types import ChannelSpec, Message, NotificationType, Template
from unionhub.notify.wechat import clean_field, mask_openid
from unionhub.plugins.discovery import PluginError

CTX = {"book": "平凡的世界", "due": "2026-12-01"}


def test_send_writes_inbox_and_outbox_once(napp, world):
    m1, m2 = world.people["m1"].member_id, world.people["m2"].member_id
    first = send(napp, "t.reminder", [m1, m2, m2], CTX, "loan-42")
    again = send(napp, "t.reminder", [m1, m2], CTX, "loan-42")
    assert first == again
    rows = outbox(napp, first)
    assert sorted((r.member_id, r.channel, r.status) for r in rows) == [
        (m1, "wechat", "pending"), (m2, "wechat", "pending")]
    m3 = world.people["m3"].member_id
    send(napp, "t.reminder", [m1, m2, m3], CTX, "loan-42")  # only m3 is new
    assert len(outbox(napp, first)) == 3
    with napp.app_context():
        s = db.session()
        inbox = s.scalars(select(Notification).where(Notification.batch_id == first)).all()
        assert sorted(n.member_id for n in inbox) == sorted([m1, m2, m3])
        n = inbox[0]
        assert (n.title, n.body, n.url) == ("《平凡的世界》即将到期",
                                            "请于2026-12-01前归还《平凡的世界》。",
                                            "/library/loans")
        batch = s.get(NotifyBatch, first)
        assert batch.context == CTX and batch.message["wechat_template_id"] == "TPL-NOTICE-1"


def test_nothing_is_queued_when_the_caller_rolls_back(napp, world):
    with napp.app_context():
        s = db.session()
        notify.send(s, "t.reminder", [world.people["m1"].member_id], CTX, "rolled-back")
        s.rollback()
        assert s.scalar(select(func.count()).select_from(NotifyBatch)) == 0
        assert s.scalar(select(func.count()).select_from(Notification)) == 0
    assert napp.extensions["jobs_transport"].queue.empty()


def test_audience_query_is_set_based(napp, world):
    ids = bulk_members(napp, 300, world.org_id("g2"))
    audience = select(Member.id).where(Member.org_id == world.org_id("g2"))
    batch = send(napp, "core.notice", audience, {"title": "会员大会", "body": "周五召开"},
                 "assembly-1")
    rows = outbox(napp, batch)
    assert len(rows) == 301  # m2 and the 300
    assert {r.member_id for r in rows} == {*ids, world.people["m2"].member_id}
    with napp.app_context():
        assert notify.progress(db.session(), batch)["by_status"] == {"pending": 301}


def test_large_id_lists_are_chunked(napp, world, monkeypatch):
    monkeypatch.setattr(notify, "ID_CHUNK", 7)
    ids = bulk_members(napp, 30, world.org_id("g1"))
    batch = send(napp, "t.reminder", [*ids, 999_999], CTX, "chunked")  # unknown ids drop out
    assert sorted(r.member_id for r in outbox(napp, batch)) == ids


def test_preferences_choose_channels(napp, world):
    m1, m2 = world.people["m1"].member_id, world.people["m2"].member_id
    with napp.app_context():
        s = db.session()
        notify.set_preferences(s, m1, {"t.reminder": {"sms", "email"}})
        s.commit()
        assert notify.channels_for(s, m1, "t.reminder") == ["inbox", "sms", "email"]
        assert notify.channels_for(s, m2, "t.reminder") == ["inbox", "wechat"]
        # a type members may not choose keeps its defaults
        notify.set_preferences(s, m1, {"t.security": set()})
        s.commit()
        assert notify.channels_for(s, m1, "t.security") == ["inbox", "sms"]
    batch = send(napp, "t.reminder", [m1, m2], CTX, "prefs")
    assert set(by_member_channel(napp, batch)) == {(m1, "sms"), (m1, "email"), (m2, "wechat")}
    batch = send(napp, "t.security", [m1, m2], {"time": "08:00"}, "sec")
    assert set(by_member_channel(napp, batch)) == {(m1, "sms"), (m2, "sms")}


def test_switching_everything_off_leaves_the_inbox(napp, world):
    m1 = world.people["m1"].member_id
    with napp.app_context():
        s = db.session()
        notify.set_preferences(s, m1, {"t.reminder": set()})
        s.commit()
    batch = send(napp, "t.reminder", [m1], CTX, "off")
    assert outbox(napp, batch) == []
    with napp.app_context():
        assert notify.unread_count(db.session(), m1) == 1


def test_inbox_read_and_unread(napp, world):
    m1 = world.people["m1"].member_id
    for i in range(3):
        send(napp, "core.notice", [m1], {"title": f"通知{i}", "body": "…"}, f"n{i}")
    with napp.app_context():
        s = db.session()
        assert notify.unread_count(s, m1) == 3
        first = s.scalars(select(Notification.id).where(Notification.member_id == m1)).first()
        assert notify.mark_read(s, m1, [first]) == 1
        assert notify.mark_read(s, world.people["m2"].member_id, None) == 0
        s.commit()
        assert notify.unread_count(s, m1) == 2
        assert notify.mark_read(s, m1) == 2
        s.commit()
        assert notify.unread_count(s, m1) == 0


def test_send_submits_the_dispatcher_after_commit(napp, world):
    transport = napp.extensions["jobs_transport"]
    with napp.app_context():
        s = db.session()
        notify.send(s, "t.reminder", [world.people["m1"].member_id], CTX, "kick")
        assert transport.queue.empty()
        s.commit()
    assert not transport.queue.empty()


def test_unknown_type_is_refused(napp, world):
    from unionhub.notify.registry import NotifyError

    with napp.app_context(), pytest.raises(NotifyError):
        notify.send(db.session(), "t.nope", [world.people["m1"].member_id], {}, "x")


def test_registry_validates_contributions():
    from unionhub.notify.channels import CORE_CHANNELS

    core = {"unionhub_notification_channels": [("core", c) for c in CORE_CHANNELS]}
    bad_channel = NotificationType("x", "X", Template("t"), default_channels=("fax",),
                                   allowed_channels=("fax",))
    with pytest.raises(PluginError, match="unknown channel fax"):
        build(core, [("lib", bad_channel)])
    with pytest.raises(PluginError, match=r"duplicate notification type lib\.reminder"):
        build(core, [("lib", REMINDER), ("lib", REMINDER)])
    not_allowed = NotificationType("y", "Y", Template("t"), default_channels=("sms",),
                                   allowed_channels=("wechat",))
    with pytest.raises(PluginError, match="must be allowed"):
        build(core, [("lib", not_allowed)])
    with pytest.raises(PluginError, match="has no sender"):
        build(core, extra_channels=[("lib", ChannelSpec("fax", "传真"))])

    def fax(items):
        return []

    reg = build(core, [("lib", NotificationType("z", "Z", Template("t"),
                                                default_channels=("fax",),
                                                allowed_channels=("fax", "sms")))],
                [("lib", ChannelSpec("fax", "传真", sender=fax))])
    assert reg.type("lib.z").allowed_channels == ("lib.fax", "sms")
    assert reg.external == ["email", "lib.fax", "sms", "wechat"]


def test_template_and_message(napp):
    with napp.app_context():
        msg = REMINDER.render({"book": "三体"})
    assert msg.wechat_template_id == "TPL-NOTICE-1"
    assert msg.title == "《三体》即将到期" and msg.body == "请于前归还《三体》。"
    assert Message.from_json(msg.as_json()) == msg
    assert Message("标题", "第一行\n第二行").sms_text == "标题：第一行 第二行"
    assert len(Message("标题", "长" * 300).sms_text) == 120
    assert clean_field("第一行\r\n第二行") == "第一行 第二行"
    twenty_one = "一二三四五六七八九十" * 2 + "一"
    assert clean_field(twenty_one) == twenty_one[:19] + "…"
    assert len(clean_field("x" * 50)) == 20
    assert mask_openid("oABCDEFGHIJKLMNOP") == "oABC****MNOP"


def test_wiring_twice_is_harmless(napp):
    wire(napp)
    assert "core.notify_dispatch" in napp.extensions["jobs"].specs
    assert "core.notify_dispatch" in napp.extensions["jobs"].beat


def test_migration_matches_the_models(napp):
    names = {m.__tablename__ for m in MODELS}

    def ours(obj, name, kind, reflected, compare_to):
        table = obj if kind == "table" else getattr(obj, "table", None)
        return table is not None and table.name in names

    with napp.app_context(), db.get_db().engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True,
                                                     "include_object": ours})
        diff = compare_metadata(ctx, db.Base.metadata)
    assert diff == [], diff


def test_binding_helpers(napp, world):
    m1 = world.people["m1"].member_id
    bind(napp, m1, "oFIRST000001")
    bind(napp, m1, "oSECOND00002")
    with napp.app_context():
        s = db.session()
        assert notify.binding(s, m1, "wechat").address == "oSECOND00002"
        notify.set_binding(s, m1, "wechat", None)
        s.commit()
        assert notify.binding(s, m1, "wechat") is None


def test_plugin_type_and_channel_deliver(make_app, world):
    from unionhub_sample import plugin as sample

    make_app.set_plugin("sample", True)
    app = make_app()
    sample.SENT_BY_FAX.clear()
    ids = [world.people["m1"].member_id, world.people["m2"].member_id]
    with app.app_context():
        s = db.session()
        notify.send(s, "sample.reminder", ids, {"title": "到期", "body": "请还书"},
                            "sample-1")
        s.commit()
    app.extensions["jobs_transport"].drain()
    assert sorted(sample.SENT_BY_FAX) == sorted(ids)
    with app.app_context():
        titles = db.session().scalars(select(Notification.title)).all()
    assert titles.count("到期") == 2  # the inbox always gets it too
