"""Campaigns through the service: each audience source, narrowing to the officer's subtree
in SQL, channels, sending exactly once, progress with quota use and fall-backs after the
dispatcher ran against local fakes of WeChat and the SMS gateway."""

# ruff: noqa: F811  (pytest fixtures imported from the support modules)

from __future__ import annotations

from sqlalchemy import func, select

from tests.oa.test_campaigns_support import (  # noqa: F401
    TEMPLATE_ID,
    account,
    bind_wechat,
    camp,
    campaign_row,
    make_campaign,
    make_run,
    member_id,
    outbox_rows,
    run_dispatch,
    send_again,
)
from tests.support.notify_fixtures import fake_sms, fake_smtp, fake_wechat, openid_of  # noqa: F401
from unionhub import db


def count(oa, by, key, value):
    from unionhub_oa.campaigns import service

    with oa.app.test_request_context():
        return service.preview_count(db.session(), account(oa, by), key, value)


def choice_values(oa, by, key):
    from unionhub_oa.campaigns import service

    with oa.app.test_request_context():
        return [v for v, _label in service.choices(db.session(), account(oa, by), key)]


def audit_count(oa, action):
    from unionhub.audit.models import AuditLog

    with oa.app.app_context():
        return db.session().scalar(select(func.count()).select_from(AuditLog)
                                   .where(AuditLog.action == action))


# --- audiences -------------------------------------------------------------------------------


def test_the_plugin_contributes_its_sources_through_the_core_hook(oa):
    from unionhub.exchange import audience_sources

    with oa.app.test_request_context():
        sources = audience_sources()
    assert {"oa.org", "oa.run"} <= set(sources)
    assert sources["oa.org"].label == "组织（含下级）的会员"


def test_org_audience_is_narrowed_to_the_officers_subtree(oa):
    city, d1, d2, g1 = (str(oa.world.org_id(k)) for k in ("city", "d1", "d2", "g1"))
    # the whole city: m1 (g1) and m3 (b1, under g1) are Chaoyang's, m2 (g2) is Haidian's
    assert count(oa, "city", "oa.org", city) == 3
    assert count(oa, "chaoyang", "oa.org", city) == 2
    assert count(oa, "haidian", "oa.org", city) == 1
    assert count(oa, "g1officer", "oa.org", d1) == 2
    assert count(oa, "chaoyang", "oa.org", g1) == 2
    assert count(oa, "chaoyang", "oa.org", d2) == 0
    # the district officer is offered its own subtree only: not the orgs above it, not its
    # neighbour
    values = choice_values(oa, "chaoyang", "oa.org")
    assert d1 in values and g1 in values
    assert city not in values
    assert d2 not in values and str(oa.world.org_id("g2")) not in values
    assert city in choice_values(oa, "city", "oa.org")


def test_a_campaign_reaches_its_own_orgs_members_whoever_sends_it(oa):
    """Chaoyang (d1) drafts; the city's officer, whose scope is the whole city, previews and
    sends it: only d1's members (m1, m3) are counted and reached, never Haidian's m2 — even
    for an audience source that is not an org (a run that touched all three) or a draft whose
    stored org value lies above d1."""
    from unionhub_oa.campaigns import service
    from unionhub_oa.campaigns.models import OaCampaign

    m1, m3 = member_id(oa, "m1"), member_id(oa, "m3")
    run = make_run(oa, [("m1", "new"), ("m2", "new"), ("m3", "card_replaced")])
    by_run = make_campaign(oa, "chaoyang", str(run), audience_key="oa.run",
                           channels=("sms",), send=False)
    by_org = make_campaign(oa, "chaoyang", str(oa.world.org_id("d1")), channels=("sms",),
                           send=False)
    city = str(oa.world.org_id("city"))
    with oa.app.test_request_context():
        s = db.session()
        s.get(OaCampaign, by_org).audience_value = city  # as a draft made before the check
        s.commit()
        officer = account(oa, "city")
        for cid in (by_run, by_org):
            campaign = s.get(OaCampaign, cid)
            assert campaign.org_id == oa.world.org_id("d1")
            assert service.reach(s, officer, campaign.audience_key, campaign.audience_value,
                                 campaign.org_path)["total"] == 2
    for cid in (by_run, by_org):
        assert send_again(oa, "city", cid) is True
        assert outbox_rows(oa, cid) == [(m1, "sms", "pending"), (m3, "sms", "pending")]
        assert campaign_row(oa, cid).recipients == 2
    # the city's own campaign to the same run reaches all three
    assert count(oa, "city", "oa.run", str(run)) == 3


def test_an_officer_may_not_address_an_org_above_them(oa):
    city, d1 = str(oa.world.org_id("city")), str(oa.world.org_id("d1"))
    for by, above in (("chaoyang", city), ("g1officer", city), ("g1officer", d1)):
        errors = errors_of(oa, by=by, audience_value=above)
        assert errors["audience_value"] == "所选发送对象不存在或不在您的管辖范围内", (by, above)
    assert errors_of(oa, by="g1officer", audience_value=str(oa.world.org_id("b1"))) == {}
    assert errors_of(oa, by="city", audience_value=city) == {}
    # the preview of an org above counts nothing outside the officer's campaign org
    assert count(oa, "g1officer", "oa.org", city) == 2


def test_editing_a_draft_keeps_the_audience_within_the_drafts_org(oa):
    """The city officer editing Chaoyang's draft is offered d1's subtree only."""
    from unionhub_oa.campaigns import service
    from unionhub_oa.campaigns.models import OaCampaign

    cid = make_campaign(oa, "chaoyang", str(oa.world.org_id("d1")), send=False)
    with oa.app.test_request_context():
        s = db.session()
        path = s.get(OaCampaign, cid).org_path
        values = [v for v, _label in service.choices(s, account(oa, "city"), "oa.org", path)]
        assert sorted(values) == sorted(str(oa.world.org_id(k)) for k in ("d1", "g1", "b1"))
        with_d2 = {"title": "t", "body": "", "sms": "", "url": "", "audience_key": "oa.org",
                   "audience_value": str(oa.world.org_id("d2")), "channels": ["sms"]}
        try:
            service.validate(s, account(oa, "city"), org_path=path, **with_d2)
        except service.CampaignError as exc:
            assert "audience_value" in exc.errors
        else:  # pragma: no cover - the assertion this test is about
            raise AssertionError("d2 accepted for a d1 draft")


def test_members_who_left_are_not_in_any_audience(oa):
    from unionhub.identity.models import Member

    with oa.app.app_context():
        s = db.session()
        s.get(Member, member_id(oa, "m3")).status = "left"
        s.commit()
    assert count(oa, "city", "oa.org", str(oa.world.org_id("city"))) == 2


def test_run_audience_is_the_members_the_run_touched(oa):
    from unionhub.identity.models import Member

    run = make_run(oa, [("m1", "new"), ("m2", "card_replaced"), ("m3", "left")])
    empty = make_run(oa, [], period="2026-10")
    with oa.app.app_context():
        s = db.session()
        s.get(Member, member_id(oa, "m3")).status = "left"
        s.commit()
    values = choice_values(oa, "chaoyang", "oa.run")
    assert values[:3] == [str(run), f"{run}:new", f"{run}:card_replaced"]
    assert str(empty) not in values  # a run that touched nobody is not offered
    assert count(oa, "city", "oa.run", str(run)) == 2  # m3 left
    assert count(oa, "chaoyang", "oa.run", str(run)) == 1  # m2 is Haidian's
    assert count(oa, "city", "oa.run", f"{run}:card_replaced") == 1
    assert count(oa, "chaoyang", "oa.run", f"{run}:card_replaced") == 0
    assert count(oa, "city", "oa.run", "99999") == 0
    cid = make_campaign(oa, "chaoyang", f"{run}:new", audience_key="oa.run",
                        channels=("sms",))
    assert outbox_rows(oa, cid) == [(member_id(oa, "m1"), "sms", "pending")]
    assert campaign_row(oa, cid).audience_label.startswith(f"数据交换 #{run} 2026-11")


def cover(oa, key, unit, program, year=2026):
    from unionhub.orgs.models import Org
    from unionhub_mutualaid import plans
    from unionhub_mutualaid.models import MutualaidCoverage

    with oa.app.app_context():
        s = db.session()
        plan = plans.current(s, program, year)
        s.add(MutualaidCoverage(member_id=member_id(oa, key), plan_id=plan.id, program=program,
                                plan_year=year, unit_org_id=s.get(Org, oa.world.org_id(unit)).id,
                                start=plan.term_start, end=plan.term_end, status="active"))
        s.commit()


def test_mutual_aid_program_source_is_used_like_the_others(oa_ma, in_late_2026):
    """Mutual aid contributes ``mutualaid.program`` through the same hook; the campaign
    narrows it to the officer's subtree like its own sources."""
    from unionhub.exchange import audience_sources

    oa = oa_ma
    cover(oa, "m1", "g1", "ZYYL")
    cover(oa, "m2", "g2", "ZYYL")
    cover(oa, "m3", "g1", "ZNYW")
    with oa.app.test_request_context():
        assert "mutualaid.program" in audience_sources()
    assert choice_values(oa, "city", "mutualaid.program") == ["ZYYL", "ZNYW"]
    assert count(oa, "city", "mutualaid.program", "ZYYL") == 2
    assert count(oa, "chaoyang", "mutualaid.program", "ZYYL") == 1
    assert count(oa, "haidian", "mutualaid.program", "ZNYW") == 0
    cid = make_campaign(oa, "haidian", "ZYYL", audience_key="mutualaid.program",
                        channels=("sms",))
    assert outbox_rows(oa, cid) == [(member_id(oa, "m2"), "sms", "pending")]


# --- validation ------------------------------------------------------------------------------


def errors_of(oa, by="chaoyang", **overrides):
    from unionhub_oa.campaigns import service

    form = {"title": "通知", "body": "", "sms": "", "url": "", "audience_key": "oa.org",
            "audience_value": str(oa.world.org_id("d1")), "channels": ["wechat"],
            **overrides}
    with oa.app.test_request_context():
        try:
            service.validate(db.session(), account(oa, by), **form)
        except service.CampaignError as exc:
            return exc.errors
    return {}


def test_validation_names_each_bad_field(oa):
    assert errors_of(oa) == {}
    assert "请至少选择一个发送渠道" in errors_of(oa, channels=[])["channels"]
    assert "未知的发送渠道" in errors_of(oa, channels=["fax"])["channels"]
    assert errors_of(oa, title="  ")["title"] == "请填写通知标题"
    assert "200" in errors_of(oa, title="长" * 201)["title"]
    assert "未知的发送对象类型" in errors_of(oa, audience_key="core.everyone")["audience_key"]
    assert errors_of(oa, audience_value="")["audience_value"] == "请选择发送对象"
    out_of_scope = errors_of(oa, audience_value=str(oa.world.org_id("d2")))
    assert "不在您的管辖范围内" in out_of_scope["audience_value"]
    assert "链接" in errors_of(oa, url="javascript:alert(1)")["url"]
    several = errors_of(oa, title="", channels=[])
    assert set(several) == {"title", "channels"}


# --- sending ---------------------------------------------------------------------------------


def test_outbox_rows_only_for_the_chosen_channels(oa):
    m1, m3 = member_id(oa, "m1"), member_id(oa, "m3")
    d1 = str(oa.world.org_id("d1"))
    sms_only = make_campaign(oa, "chaoyang", d1, channels=("sms",))
    assert outbox_rows(oa, sms_only) == [(m1, "sms", "pending"), (m3, "sms", "pending")]
    both = make_campaign(oa, "chaoyang", d1, channels=("email", "wechat"))
    assert outbox_rows(oa, both) == [(m1, "email", "pending"), (m1, "wechat", "pending"),
                                     (m3, "email", "pending"), (m3, "wechat", "pending")]
    row = campaign_row(oa, both)
    assert row.channels == ["wechat", "email"] and row.recipients == 2
    assert row.state == "queued"


def test_sending_twice_adds_nothing(oa):
    from unionhub.notify.models import Notification, NotifyBatch

    cid = make_campaign(oa, "chaoyang", str(oa.world.org_id("d1")), channels=("wechat", "sms"))
    before = outbox_rows(oa, cid)
    assert len(before) == 4
    assert send_again(oa, "chaoyang", cid) is False
    assert send_again(oa, "city", cid) is False  # a broader officer cannot widen it either
    assert outbox_rows(oa, cid) == before
    with oa.app.app_context():
        s = db.session()
        batches = s.scalars(select(NotifyBatch).where(NotifyBatch.type_key == "oa.campaign"))
        assert [b.key for b in batches] == [f"campaign-{cid}"]
        assert s.scalar(select(func.count()).select_from(Notification)) == 2
    assert audit_count(oa, "oa.campaign.send") == 1


def test_a_member_who_switched_a_channel_off_is_not_messaged_there(oa):
    """The campaign type leaves the choice to members (the inbox always gets it)."""
    from unionhub.notify import service as notify

    m1, m3 = member_id(oa, "m1"), member_id(oa, "m3")
    with oa.app.test_request_context():
        s = db.session()
        notify.set_preferences(s, m3, {"oa.campaign": {"wechat"}})  # no SMS for m3
        s.commit()
    cid = make_campaign(oa, "chaoyang", str(oa.world.org_id("d1")), channels=("sms",))
    assert outbox_rows(oa, cid) == [(m1, "sms", "pending")]
    assert campaign_row(oa, cid).recipients == 2  # both have it in their inbox


def test_wechat_fields_are_cut_to_twenty_characters(oa):
    from unionhub_oa.campaigns.notices import render

    title = "关于做好二〇二六年度职工互助保障\n续保工作的紧急通知（请各单位务必周知）"
    with oa.app.app_context():
        msg = render({"title": title, "body": "正文", "sms": "", "url": "",
                      "org": "朝阳区总工会", "date": "2026-11-28 10:00"})
        assert render({"title": "T", "sms": "短信"}).sms == "短信"
    assert all(len(v) <= 20 and "\n" not in v for v in msg.wechat_fields.values())
    assert msg.wechat_fields["thing1"].endswith("…")
    assert msg.wechat_fields["thing2"] == "朝阳区总工会"
    assert msg.sms is None and msg.sms_text.startswith("关于做好")  # empty: title and body


# --- progress --------------------------------------------------------------------------------


def progress_of(oa, cid):
    from unionhub_oa.campaigns import service
    from unionhub_oa.campaigns.models import OaCampaign

    with oa.app.test_request_context():
        s = db.session()
        campaign = s.get(OaCampaign, cid)
        service.settle(s, [campaign])
        s.commit()
        return campaign.state, service.progress(s, campaign)


def test_progress_quota_and_fallback_after_dispatching(camp, fake_wechat, fake_sms):
    from unionhub.notify import service as notify

    oa = camp
    m1, m3 = member_id(oa, "m1"), member_id(oa, "m3")
    bind_wechat(oa, "m1")  # m3 has no WeChat binding: falls back to SMS
    title = "关于开展二〇二六年度职工健步走活动暨迎新春系列活动的通知"
    cid = make_campaign(oa, "chaoyang", str(oa.world.org_id("d1")), title=title,
                        sms="健步走活动报名开始，详见工会通知。")
    state, p = progress_of(oa, cid)
    assert state == "queued" and p["by_status"] == {"pending": 2} and not p["done"]

    counts = run_dispatch(oa.app)
    assert counts["sent"] == 2 and counts["fallback"] == 1
    assert fake_wechat.received() == {openid_of(m1): 1}
    sent = fake_wechat.messages[0]
    assert sent["template_id"] == TEMPLATE_ID
    assert sent["data"]["thing1"]["value"] == title[:19] + "…"
    assert sent["data"]["thing2"]["value"] == "朝阳区总工会"  # the sending org
    sms_mobile = oa.world.people["m3"].mobile
    assert fake_sms.received() == {sms_mobile: 1}
    assert fake_sms.messages[0]["content"] == "【数字工会】健步走活动报名开始，详见工会通知。"

    with oa.app.test_request_context():
        s = db.session()
        notify.mark_read(s, m1)
        s.commit()
    state, p = progress_of(oa, cid)
    assert state == "sent" and p["done"]
    assert p["recipients"] == 2 and p["inbox"] == 2 and p["read"] == 1
    assert p["by_channel"] == {"wechat": {"sent": 1, "fallback": 1}, "sms": {"sent": 1}}
    assert p["channels"] == ["wechat", "sms"]
    fb = p["fallbacks"]
    assert fb["count"] == 1 and fb["by_status"] == {"sent": 1}
    assert fb["reasons"] == {"未绑定微信": 1}
    assert fb["rows"] == [{"member": "王芳", "org": "京东方分会", "channel": "wechat",
                           "reason": "未绑定微信", "to_channel": "sms", "to_status": "sent",
                           "to_error": ""}]
    quota = {q["channel"]: q for q in p["quota"]}
    # both WeChat rows were claimed against today's WeChat quota, one SMS against SMS's
    assert (quota["wechat"]["day_used"], quota["wechat"]["day_limit"]) == (2, 100000)
    assert (quota["sms"]["day_used"], quota["sms"]["day_limit"]) == (1, 20000)
    assert quota["wechat"]["stopped_until"] is None
    assert m3 not in fake_wechat.received()


def test_a_campaign_that_chose_sms_too_needs_no_second_sms(camp, fake_sms):
    oa = camp
    bind_wechat(oa, "m1")
    cid = make_campaign(oa, "chaoyang", str(oa.world.org_id("d1")), channels=("wechat", "sms"))
    run_dispatch(oa.app)
    assert sorted(fake_sms.received().values()) == [1, 1]  # m1 and m3 once each
    _state, p = progress_of(oa, cid)
    assert p["fallbacks"]["count"] == 1 and p["fallbacks"]["by_status"] == {}
    assert p["fallbacks"]["rows"][0]["to_channel"] is None
