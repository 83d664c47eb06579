"""The campaign pages: permission, compose with the two-step form (no JavaScript needed),
preview, send once even when the form is submitted twice, drafts, validation messages,
templates, the progress page with the fall-back to SMS, scoping of lists and pages."""

# ruff: noqa: F811  (pytest fixtures imported from the support modules)

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.helpers import CSRF_RE, login, post_form
from tests.oa.test_campaigns_support import (  # noqa: F401
    bind_wechat,
    camp,
    campaign_row,
    client_for,
    make_campaign,
    make_run,
    member_id,
    outbox_rows,
    run_dispatch,
)
from tests.support.notify_fixtures import fake_sms, fake_smtp, fake_wechat  # noqa: F401
from unionhub import db

NEW = "/oa/campaigns/new"
FORM_KEY = re.compile(r'name="form_key" value="([0-9a-f]+)"')


def campaigns_count(oa):
    from unionhub_oa.campaigns.models import OaCampaign

    with oa.app.app_context():
        return db.session().scalar(select(func.count()).select_from(OaCampaign))


def compose(oa, client, **overrides):
    """A complete compose form for Chaoyang's subtree, with a fresh form key."""
    html = client.get(NEW).get_data(as_text=True)
    form = {"form_key": FORM_KEY.search(html).group(1), "audience_key": "oa.org",
            "audience_value": str(oa.world.org_id("d1")), "title": "关于开展职工健步走活动的通知",
            "body": "请各基层工会组织会员报名。", "sms": "", "url": "", "channels": ["wechat"],
            "template_id": "", "csrf_token": CSRF_RE.search(html).group(1)}
    form.update(overrides)
    return form


def test_pages_need_the_campaign_permission(oa):
    anonymous = oa.app.test_client()
    assert anonymous.get("/oa/campaigns").status_code == 302
    clerk = client_for(oa, "clerk")
    assert clerk.get("/oa/campaigns").status_code == 403
    assert clerk.get(NEW).status_code == 403
    member = oa.app.test_client()
    login(member, oa.world.people["m1"].card_number)
    assert member.get("/oa/campaigns").status_code == 403
    officer = client_for(oa, "g1officer")
    html = officer.get("/oa/campaigns").get_data(as_text=True)
    assert "通知群发" in html and "还没有群发通知" in html


def test_the_form_switches_the_audience_source_without_javascript(oa):
    run = make_run(oa, [("m1", "new")])
    client = client_for(oa, "chaoyang")
    html = client.get(NEW).get_data(as_text=True)
    assert 'value="oa.org" selected' in html and "朝阳区总工会" in html
    assert "海淀区总工会" not in html  # not in Chaoyang's subtree nor above it
    form = compose(oa, client, action="source", audience_key="oa.run", title="留着")
    r = client.post(NEW, data=form)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert f'<option value="{run}:new"' in html and "数据交换 #" in html
    assert 'value="留着"' in html  # what was typed stays
    assert campaigns_count(oa) == 0


def test_preview_then_send_then_the_same_form_again(oa):
    client = client_for(oa, "chaoyang")
    form = compose(oa, client, action="preview")
    html = client.post(NEW, data=form).get_data(as_text=True)
    assert "预计接收人数：2 人" in html
    assert 'value="send"' in html
    assert campaigns_count(oa) == 0  # a preview stores nothing

    r = client.post(NEW, data={**form, "action": "send"})
    assert r.status_code == 302
    cid = int(r.headers["Location"].rsplit("/", 1)[1])
    first = outbox_rows(oa, cid)
    assert first == [(member_id(oa, "m1"), "wechat", "pending"),
                     (member_id(oa, "m3"), "wechat", "pending")]
    # the same form submitted again (a double click, a resubmitted page): nothing new
    r = client.post(NEW, data={**form, "action": "send"}, follow_redirects=True)
    assert "该通知已发送，未重复发送" in r.get_data(as_text=True)
    assert campaigns_count(oa) == 1
    assert outbox_rows(oa, cid) == first
    row = campaign_row(oa, cid)
    assert (row.state, row.recipients, row.audience_label) == ("queued", 2, "朝阳区总工会")


def test_validation_messages_and_nothing_stored(oa):
    client = client_for(oa, "chaoyang")
    cases = [
        ({"channels": []}, "请至少选择一个发送渠道（微信、短信或邮件）"),
        ({"title": ""}, "请填写通知标题"),
        ({"audience_key": "oa.nobody"}, None),
        ({"audience_value": str(oa.world.org_id("d2"))}, "所选发送对象不存在或不在您的管辖范围内"),
        ({"url": "ftp://x"}, "链接须以 http://、https:// 或 / 开头"),
    ]
    for overrides, message in cases:
        for action in ("preview", "send"):
            r = client.post(NEW, data=compose(oa, client, action=action, **overrides))
            html = r.get_data(as_text=True)
            assert r.status_code == 422, (overrides, action)
            assert "请修改标红的内容" in html
            if message:
                assert message in html, overrides
    assert campaigns_count(oa) == 0


def test_an_unknown_audience_source_is_named(oa):
    """The form falls back to a known source when re-shown; the message names the bad one."""
    client = client_for(oa, "chaoyang")
    r = client.post(NEW, data=compose(oa, client, action="preview", audience_key="oa.nobody"))
    assert r.status_code == 422
    assert "未知的发送对象类型：oa.nobody" in r.get_data(as_text=True)


def test_templates_are_managed_and_fill_the_form(oa):
    client = client_for(oa, "chaoyang")
    r = post_form(client, "/oa/campaigns/templates",
                  {"name": "", "title": "", "body": "", "sms": ""}, form_url="/oa/campaigns")
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "请填写模板名称" in html and "请填写通知标题" in html
    r = post_form(client, "/oa/campaigns/templates",
                  {"name": "会费通知", "title": "关于缴纳工会会费的通知", "body": "请按时缴纳。",
                   "sms": "请按时缴纳工会会费。"}, form_url="/oa/campaigns")
    assert r.status_code == 302
    from unionhub_oa.campaigns.models import OaMessageTemplate

    with oa.app.app_context():
        tpl = db.session().scalar(select(OaMessageTemplate))
        assert (tpl.org_id, tpl.created_by) == (oa.world.org_id("d1"),
                                               oa.world.officers["chaoyang"])
        tpl_id = tpl.id
    r = post_form(client, "/oa/campaigns/templates",
                  {"name": "会费通知", "title": "x"}, form_url="/oa/campaigns")
    assert "已有同名模板：会费通知" in r.get_data(as_text=True)
    form = compose(oa, client, action="template", template_id=str(tpl_id), title="")
    html = client.post(NEW, data=form).get_data(as_text=True)
    assert 'value="关于缴纳工会会费的通知"' in html and "请按时缴纳工会会费。</textarea>" in html
    # Chaoyang's template is offered to Chaoyang's grassroots officer, not to Haidian
    assert "会费通知" in client_for(oa, "g1officer").get(NEW).get_data(as_text=True)
    assert "会费通知" not in client_for(oa, "haidian").get(NEW).get_data(as_text=True)
    haidian = client_for(oa, "haidian")
    r = post_form(haidian, f"/oa/campaigns/templates/{tpl_id}/delete", {},
                  form_url="/oa/campaigns", follow_redirects=True)
    assert "模板不存在或不在您的管辖范围内" in r.get_data(as_text=True)
    post_form(client, f"/oa/campaigns/templates/{tpl_id}/delete", {}, form_url="/oa/campaigns")
    with oa.app.app_context():
        assert db.session().scalar(select(func.count()).select_from(OaMessageTemplate)) == 0


def test_a_draft_is_saved_edited_and_sent_once(oa):
    client = client_for(oa, "chaoyang")
    r = client.post(NEW, data=compose(oa, client, action="save", channels=["sms"]))
    assert r.status_code == 302
    detail = r.headers["Location"]
    cid = int(detail.rsplit("/", 1)[1])
    html = client.get(detail).get_data(as_text=True)
    assert "草稿" in html and "预计接收人数：2 人" in html
    edit = f"/oa/campaigns/{cid}/edit"
    r = post_form(client, edit, {"action": "save", "audience_key": "oa.org",
                                 "audience_value": str(oa.world.org_id("g1")),
                                 "title": "改过的标题", "channels": ["sms", "email"]})
    assert r.status_code == 302
    row = campaign_row(oa, cid)
    assert (row.title, row.channels, row.state) == ("改过的标题", ["sms", "email"], "draft")
    send = f"/oa/campaigns/{cid}/send"
    assert post_form(client, send, {}, form_url=detail).status_code == 302
    assert len(outbox_rows(oa, cid)) == 4
    r = post_form(client, send, {}, form_url=detail, follow_redirects=True)
    assert "该通知已发送，未重复发送" in r.get_data(as_text=True)
    assert len(outbox_rows(oa, cid)) == 4
    assert client.get(edit).status_code == 302  # a sent campaign is not edited
    r = post_form(client, f"/oa/campaigns/{cid}/delete", {}, form_url=detail,
                  follow_redirects=True)
    assert "该通知已发送，不能删除" in r.get_data(as_text=True)
    from unionhub.audit.models import AuditLog

    with oa.app.app_context():
        entry = db.session().scalar(select(AuditLog).where(AuditLog.action == "oa.campaign.send"))
        assert entry.target_id == str(cid) and entry.details["recipients"] == 2
        assert entry.actor_id == oa.world.officers["chaoyang"]


def test_lists_and_pages_are_scoped(oa):
    chaoyang = make_campaign(oa, "chaoyang", str(oa.world.org_id("d1")), title="朝阳的通知")
    haidian = make_campaign(oa, "haidian", str(oa.world.org_id("d2")), title="海淀的通知")
    html = client_for(oa, "chaoyang").get("/oa/campaigns").get_data(as_text=True)
    assert "朝阳的通知" in html and "海淀的通知" not in html
    html = client_for(oa, "city").get("/oa/campaigns").get_data(as_text=True)
    assert html.index("海淀的通知") < html.index("朝阳的通知")  # newest first
    client = client_for(oa, "chaoyang")
    assert client.get(f"/oa/campaigns/{haidian}").status_code == 404
    assert client.get(f"/oa/campaigns/{haidian}/progress.json").status_code == 404
    assert client.get(f"/oa/campaigns/{chaoyang}/progress.json").json["recipients"] == 2


def test_the_campaign_page_shows_progress_quota_and_the_fallback(camp):
    oa = camp
    bind_wechat(oa, "m1")
    cid = make_campaign(oa, "chaoyang", str(oa.world.org_id("d1")))
    client = client_for(oa, "chaoyang")
    html = client.get(f"/oa/campaigns/{cid}").get_data(as_text=True)
    assert "发送中" in html and "排队中 2" in html
    run_dispatch(oa.app)
    html = client.get(f"/oa/campaigns/{cid}").get_data(as_text=True)
    assert 'id="state">已发送</span>' in html
    assert "已发送 1" in html and "已转短信 1" in html
    fallbacks = html[html.index('id="fallbacks"'):html.index('id="content"')]
    assert "王芳" in fallbacks and "未绑定微信" in fallbacks and "短信" in fallbacks
    assert "张伟" not in fallbacks
    quota = html[html.index('id="quota"'):html.index('id="fallbacks"')]
    assert "2 / 100000" in quota and "1 / 20000" in quota
    assert 'id="refresh"' in html
    listing = client.get("/oa/campaigns").get_data(as_text=True)
    assert "已发送" in listing
    data = client.get(f"/oa/campaigns/{cid}/progress.json").json
    assert data["state"] == "sent" and data["fallbacks"]["count"] == 1


def test_a_bad_template_id_is_a_field_message_not_a_server_error(oa):
    client = client_for(oa, "chaoyang")
    for raw in ("²", "99999999999999999999", "-1", "abc"):
        r = client.post(NEW, data=compose(oa, client, action="template", template_id=raw))
        assert r.status_code == 422, raw
        assert "请选择要套用的模板" in r.get_data(as_text=True)
    assert campaigns_count(oa) == 0


def test_a_posted_form_key_that_this_page_did_not_make_is_replaced(oa):
    """The key is a 32-character hex string; anything else (too long for the column, odd
    characters) is replaced by a fresh one instead of reaching the database."""
    client = client_for(oa, "chaoyang")
    for bad in ("a" * 200, "ABCDEF" * 6, "x" * 32, ""):
        r = client.post(NEW, data=compose(oa, client, action="save", form_key=bad))
        assert r.status_code == 302, bad
    with oa.app.app_context():
        from unionhub_oa.campaigns.models import OaCampaign

        keys = list(db.session().scalars(select(OaCampaign.form_key)))
    assert len(keys) == 4 and len(set(keys)) == 4
    assert all(re.fullmatch(r"[0-9a-f]{32}", k) for k in keys)
    # a re-shown form carries a valid key too
    html = client.post(NEW, data=compose(oa, client, action="preview", form_key="z" * 99)) \
        .get_data(as_text=True)
    assert re.fullmatch(r"[0-9a-f]{32}", FORM_KEY.search(html).group(1))


def test_the_city_sending_a_districts_draft_reaches_the_district_only(oa):
    """朝阳 drafts to a run that touched members of both districts; the city's officer opens
    the draft (its preview counts 朝阳's members) and sends it: 朝阳's members only."""
    run = make_run(oa, [("m1", "new"), ("m2", "new"), ("m3", "new")])
    chaoyang = client_for(oa, "chaoyang")
    r = chaoyang.post(NEW, data=compose(oa, chaoyang, action="save", audience_key="oa.run",
                                        audience_value=str(run), channels=["sms"]))
    assert r.status_code == 302
    detail = r.headers["Location"]
    cid = int(detail.rsplit("/", 1)[1])
    city = client_for(oa, "city")
    assert "预计接收人数：2 人" in city.get(detail).get_data(as_text=True)
    r = post_form(city, f"/oa/campaigns/{cid}/send", {}, form_url=detail,
                  follow_redirects=True)
    assert "已提交发送，共 2 名会员" in r.get_data(as_text=True)
    assert outbox_rows(oa, cid) == [(member_id(oa, "m1"), "sms", "pending"),
                                    (member_id(oa, "m3"), "sms", "pending")]
    # the city's officer is not offered an org above 朝阳 when editing 朝阳's draft either
    draft = make_campaign(oa, "chaoyang", str(oa.world.org_id("d1")), send=False)
    html = city.get(f"/oa/campaigns/{draft}/edit").get_data(as_text=True)
    assert f'<option value="{oa.world.org_id("city")}"' not in html
    assert f'<option value="{oa.world.org_id("d2")}"' not in html
    assert f'<option value="{oa.world.org_id("g1")}"' in html


def test_run_labels_are_translated_when_shown(oa, monkeypatch):
    """The run's label is rebuilt from the stored key and value and passed through _() each
    time it is shown (the page, the list), not frozen in the language it was saved in."""
    from unionhub_oa.campaigns import audiences

    run = make_run(oa, [("m1", "new")])
    cid = make_campaign(oa, "chaoyang", f"{run}:new", audience_key="oa.run", send=False)
    with oa.app.app_context():
        from unionhub_oa.campaigns.models import OaCampaign

        s = db.session()
        s.get(OaCampaign, cid).audience_label = "旧的标签"
        s.commit()

    def marked(message, **values):
        return "EN<" + (message % values if values else message) + ">"

    monkeypatch.setattr(audiences, "_", marked)
    client = client_for(oa, "chaoyang")
    for url in (f"/oa/campaigns/{cid}", "/oa/campaigns"):
        html = client.get(url).get_data(as_text=True)
        assert f"EN&lt;数据交换 #{run} 2026-11" in html, url
        assert "EN&lt;新入会&gt;" in html and "旧的标签" not in html, url
    html = client.post(NEW, data=compose(oa, client, action="source",
                                         audience_key="oa.run")).get_data(as_text=True)
    assert "EN&lt;补卡换号&gt;" in html
