"""Notification pages: inbox, preferences, the WeChat binding flow, receipts, campaigns."""

# ruff: noqa: F811  (pytest fixtures imported from tests.support.notify_fixtures)

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from tests.helpers import login, post_form
from tests.support.notify_fixtures import (  # noqa: F401
    PUSH_TOKEN,
    bind,
    fake_sms,
    fake_smtp,
    fake_wechat,
    napp,
    openid_of,
    outbox,
    run_dispatch,
    send,
)
from unionhub import db
from unionhub.audit.models import AuditLog
from unionhub.notify import receipts
from unionhub.notify import service as notify
from unionhub.notify.models import Notification, NotifyBinding

CTX = {"book": "平凡的世界", "due": "2026-12-01"}


def member_client(napp, world, who="m1"):
    client = napp.test_client()
    r = login(client, world.people[who].card_number)
    assert r.status_code == 302, r.get_data(as_text=True)
    return client


# --- inbox -----------------------------------------------------------------------------------


def test_inbox_lists_marks_read_and_all_read(napp, world):
    m1 = world.people["m1"].member_id
    for i in range(3):
        send(napp, "core.notice", [m1], {"title": f"工会通知{i}", "body": f"内容{i}",
                                         "url": "/me"}, f"inbox-{i}")
    send(napp, "core.notice", [world.people["m2"].member_id], {"title": "别人的通知"}, "other")
    client = member_client(napp, world)
    html = client.get("/notify/").get_data(as_text=True)
    assert "工会通知0" in html and "工会通知2" in html and "别人的通知" not in html
    assert '<span class="badge unread">3</span>' in html
    with napp.app_context():
        nid = db.session().scalars(select(Notification.id).where(
            Notification.member_id == m1).order_by(Notification.id)).first()
    html = client.get(f"/notify/{nid}").get_data(as_text=True)
    assert "内容0" in html and 'href="/me"' in html
    assert '<span class="badge unread">2</span>' in client.get("/notify/").get_data(as_text=True)
    r = post_form(client, "/notify/read", {}, form_url="/notify/")
    assert r.status_code == 302
    with napp.app_context():
        assert notify.unread_count(db.session(), m1) == 0


def test_someone_elses_notification_is_not_found(napp, world):
    send(napp, "core.notice", [world.people["m2"].member_id], {"title": "李娜的通知"}, "x")
    with napp.app_context():
        nid = db.session().scalars(select(Notification.id)).one()
    client = member_client(napp, world, "m1")
    assert client.get(f"/notify/{nid}").status_code == 404
    assert napp.test_client().get("/notify/").status_code == 302  # signed out: to login


def test_officer_without_member_record_sees_an_empty_inbox(napp, world):
    client = napp.test_client()
    login(client, "g1officer")
    r = client.get("/notify/")
    assert r.status_code == 200 and "只有会员账号才会收到消息" in r.get_data(as_text=True)


# --- preferences -----------------------------------------------------------------------------


def test_preferences_page_saves_choices_and_email(napp, world):
    m1 = world.people["m1"].member_id
    client = member_client(napp, world)
    html = client.get("/notify/preferences").get_data(as_text=True)
    assert "借阅到期提醒" in html and "账号安全提醒" not in html  # not choosable
    assert 'name="c:t.reminder:wechat" value="1" checked' in html
    r = post_form(client, "/notify/preferences", {"c:t.reminder:sms": "1",
                                                   "c:core.notice:email": "1",
                                                   "email": "zw@example.cn"})
    assert r.status_code == 302
    with napp.app_context():
        s = db.session()
        assert notify.channels_for(s, m1, "t.reminder") == ["inbox", "sms"]
        assert notify.channels_for(s, m1, "core.notice") == ["inbox", "email"]
        assert notify.binding(s, m1, "email").address == "zw@example.cn"
    r = post_form(client, "/notify/preferences", {"email": "not-an-address"})
    assert "电子邮箱格式不正确" in client.get("/notify/preferences").get_data(as_text=True)
    with napp.app_context():
        assert notify.binding(db.session(), m1, "email").address == "zw@example.cn"


def test_preferences_need_csrf(napp, world):
    client = member_client(napp, world)
    assert client.post("/notify/preferences", data={"email": "a@b.cn"}).status_code == 400


# --- WeChat binding --------------------------------------------------------------------------


def start_binding(client, person, **override):
    data = {"card_number": person.card_number, "id_number": person.id_number,
            "mobile": person.mobile, **override}
    return post_form(client, "/notify/wechat/bind", data)


def state_of(response) -> str:
    location = response.headers["Location"]
    assert location.startswith("https://open.weixin.qq.com/connect/oauth2/authorize?")
    query = parse_qs(urlsplit(location).query)
    assert query["scope"] == ["snsapi_base"] and query["appid"] == ["wx-test-appid"]
    assert query["redirect_uri"] == ["https://gh.example.cn/notify/wechat/callback"]
    assert location.endswith("#wechat_redirect")
    return query["state"][0]


def test_binding_checks_card_id_and_mobile(napp, world):
    p1, p2 = world.people["m1"], world.people["m2"]
    client = member_client(napp, world)
    for wrong in ({"id_number": p2.id_number}, {"mobile": p2.mobile},
                  {"card_number": p2.card_number}, {"mobile": "12"}):
        r = start_binding(client, p1, **wrong)
        assert r.status_code == 200
        assert "与会员档案不符" in r.get_data(as_text=True)
    r = start_binding(client, p1)
    state = state_of(r)
    r = client.get(f"/notify/wechat/callback?state={state}&openid=oAbCdEf123456")
    assert r.status_code == 302
    with napp.app_context():
        s = db.session()
        b = notify.binding(s, p1.member_id, "wechat")
        assert (b.address, b.status) == ("oAbCdEf123456", "active")
        entry = s.scalars(select(AuditLog).where(AuditLog.action == "notify.wechat.bind")).one()
        assert entry.details == {"openid": "oAbC****3456"}
    # the state is single-use
    again = client.get(f"/notify/wechat/callback?state={state}&openid=oOTHER0000001")
    assert again.status_code == 400


def test_binding_state_cannot_be_forged_or_used_by_another_member(napp, world):
    client = member_client(napp, world, "m1")
    state = state_of(start_binding(client, world.people["m1"]))
    other = member_client(napp, world, "m2")
    assert other.get(f"/notify/wechat/callback?state={state}&openid=oEVIL0000001"
                     ).status_code == 400
    assert client.get("/notify/wechat/callback?state=made-up&openid=oEVIL0000001"
                      ).status_code == 400
    assert client.get("/notify/wechat/callback?openid=oEVIL0000001").status_code == 400
    anonymous = napp.test_client()
    assert anonymous.get(f"/notify/wechat/callback?state={state}&openid=oEVIL0000001"
                         ).status_code == 302  # to the login page
    with napp.app_context():
        assert db.session().scalars(select(NotifyBinding)).all() == []


def test_binding_with_an_oauth_code(napp, world, fake_wechat):
    fake_wechat.oauth_codes["CODE123"] = "oFROMCODE00001"
    client = member_client(napp, world)
    state = state_of(start_binding(client, world.people["m1"]))
    r = client.get(f"/notify/wechat/callback?state={state}&code=CODE123")
    assert r.status_code == 302
    with napp.app_context():
        assert notify.binding(db.session(), world.people["m1"].member_id,
                              "wechat").address == "oFROMCODE00001"


def test_an_openid_binds_one_member(napp, world):
    bind(napp, world.people["m2"].member_id, "oSHARED000001")
    client = member_client(napp, world)
    state = state_of(start_binding(client, world.people["m1"]))
    client.get(f"/notify/wechat/callback?state={state}&openid=oSHARED000001")
    html = client.get("/notify/wechat/bind").get_data(as_text=True)
    assert "该微信号已绑定其他会员的京卡" in html


def test_too_many_failed_checks_lock_binding(napp, world):
    p1 = world.people["m1"]
    client = member_client(napp, world)
    for _ in range(5):
        start_binding(client, p1, mobile=world.people["m2"].mobile)
    r = start_binding(client, p1)  # right data, but locked for an hour
    assert r.status_code == 200 and "次数过多" in r.get_data(as_text=True)


def test_unbind(napp, world):
    m1 = world.people["m1"].member_id
    bind(napp, m1, "oTOBEREMOVED01")
    client = member_client(napp, world)
    assert "已绑定微信" in client.get("/notify/preferences").get_data(as_text=True)
    r = post_form(client, "/notify/wechat/unbind", {}, form_url="/notify/preferences")
    assert r.status_code == 302
    with napp.app_context():
        assert notify.binding(db.session(), m1, "wechat") is None


# --- WeChat's event push ---------------------------------------------------------------------


def signed(path: str, **extra: str) -> str:
    ts, nonce = str(int(time.time())), "nonce42"
    sig = receipts.signature(PUSH_TOKEN, ts, nonce)
    query = "&".join(f"{k}={v}" for k, v in extra.items())
    return f"{path}?signature={sig}&timestamp={ts}&nonce={nonce}" + (f"&{query}" if query
                                                                       else "")


def test_push_url_verification(napp, client):
    r = client.get(signed("/notify/wechat/events", echostr="hello123"))
    assert r.status_code == 200 and r.get_data(as_text=True) == "hello123"
    assert client.get("/notify/wechat/events?signature=x&timestamp=1&nonce=2&echostr=e"
                      ).status_code == 403


def test_delivery_receipt_is_recorded(napp, world, fake_wechat, client):
    m1 = world.people["m1"].member_id
    bind(napp, m1, openid_of(m1))
    batch = send(napp, "t.reminder", [m1], CTX, "receipt-web")
    run_dispatch(napp)
    (row,) = outbox(napp, batch)
    xml = (f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName>"
           f"<FromUserName><![CDATA[{openid_of(m1)}]]></FromUserName>"
           f"<CreateTime>1764300000</CreateTime><MsgType><![CDATA[event]]></MsgType>"
           f"<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>{row.msgid}</MsgID>"
           f"<Status><![CDATA[success]]></Status></xml>")
    r = client.post(signed("/notify/wechat/events"), data=xml, content_type="text/xml")
    assert r.status_code == 200 and r.get_data(as_text=True) == "success"
    (row,) = outbox(napp, batch)
    assert row.receipt == "success" and row.receipt_at.year == 2025
    bad = client.post(signed("/notify/wechat/events"), data=b"<xml><oops",
                      content_type="text/xml")
    assert bad.status_code == 400


# --- campaigns -------------------------------------------------------------------------------


def test_campaign_progress_for_admins_only(napp, world, fake_wechat):
    m1, m3 = world.people["m1"].member_id, world.people["m3"].member_id
    bind(napp, m1, openid_of(m1))
    batch = send(napp, "t.reminder", [m1, m3], CTX, "campaign")
    run_dispatch(napp)
    admin = napp.test_client()
    login(admin, "admin")
    html = admin.get("/notify/batches").get_data(as_text=True)
    assert "借阅到期提醒" in html and "已发送" in html and "已转短信" in html
    data = admin.get(f"/notify/batches/{batch}.json").get_json()
    assert data["by_channel"] == {"wechat": {"sent": 1, "fallback": 1}, "sms": {"sent": 1}}
    assert data["inbox"] == 2 and data["done"] is True
    assert member_client(napp, world).get("/notify/batches").status_code == 403
