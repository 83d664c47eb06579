"""Builders shared by the campaign tests (no tests here): the OA app with every notification
channel pointed at a local fake, campaigns made and sent through the service, a run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.helpers import login
from tests.support.notify_fixtures import configure, openid_of
from tests.support.notify_fixtures import run_dispatch as run_dispatch
from unionhub import db

TEMPLATE_ID = "TPL-OA-NOTICE"


@pytest.fixture
def camp(oa: Any, fake_wechat: Any, fake_sms: Any, fake_smtp: Any) -> Any:
    """The OA app with WeChat, SMS and e-mail pointed at local fakes and the campaign's
    WeChat template configured."""
    from unionhub.settings import service as settings

    configure(oa.app, public_url="https://gh.example.cn", wechat_base_url=fake_wechat.url,
              wechat_appid=fake_wechat.appid, wechat_secret=fake_wechat.secret,
              wechat_parallel=1, sms_url=fake_sms.url, sms_key=fake_sms.key,
              sms_sign="数字工会", smtp_host="127.0.0.1", smtp_port=fake_smtp.port,
              smtp_security="none", smtp_user="mailer", smtp_password="pw",
              smtp_from="noreply@gh.example.cn")
    with oa.app.app_context():
        settings.put("oa.wechat_template_notice", TEMPLATE_ID)
        db.session().commit()
    return oa


def client_for(oa: Any, username: str) -> FlaskClient:
    client = oa.app.test_client()
    login(client, username)
    return client


def account(oa: Any, username: str) -> Any:
    from unionhub.identity.models import Account

    return db.session().get(Account, oa.world.officers[username])


def member_id(oa: Any, key: str) -> int:
    return int(oa.world.people[key].member_id)


def bind_wechat(oa: Any, *keys: str) -> None:
    from unionhub.notify import service as notify

    with oa.app.app_context():
        s = db.session()
        for key in keys:
            mid = member_id(oa, key)
            notify.set_binding(s, mid, "wechat", openid_of(mid))
        s.commit()


TITLE = "关于开展职工健步走活动的通知"
BODY = "请各基层工会组织会员报名。"


def make_campaign(oa: Any, by: str, audience_value: str, *, audience_key: str = "oa.org",
                  channels: Sequence[str] = ("wechat",), title: str = TITLE, body: str = BODY,
                  sms: str = "", send: bool = True) -> int:
    """A campaign of officer ``by`` (validated like the form), sent unless ``send`` is False."""
    from unionhub_oa.campaigns import service

    with oa.app.test_request_context():
        s = db.session()
        acc = account(oa, by)
        data = service.validate(s, acc, title=title, body=body, sms=sms, url="",
                                audience_key=audience_key, audience_value=audience_value,
                                channels=channels)
        campaign = service.create_campaign(s, acc, data)
        if send:
            assert service.send(s, acc, campaign)
        s.commit()
        return int(campaign.id)


def send_again(oa: Any, by: str, campaign_id: int) -> bool:
    from unionhub_oa.campaigns import service
    from unionhub_oa.campaigns.models import OaCampaign

    with oa.app.test_request_context():
        s = db.session()
        sent = service.send(s, account(oa, by), s.get(OaCampaign, campaign_id))
        s.commit()
        return sent


def campaign_row(oa: Any, campaign_id: int) -> Any:
    from unionhub_oa.campaigns.models import OaCampaign

    with oa.app.app_context():
        s = db.session()
        row = s.get(OaCampaign, campaign_id)
        s.expunge(row)
        return row


def outbox_rows(oa: Any, campaign_id: int) -> list[tuple[int, str, str]]:
    """(member id, channel, status) of the campaign's outbox, sorted."""
    from sqlalchemy import select

    from unionhub.notify.models import NotifyOutbox

    batch_id = campaign_row(oa, campaign_id).notify_batch_id
    with oa.app.app_context():
        rows = db.session().execute(select(
            NotifyOutbox.member_id, NotifyOutbox.channel, NotifyOutbox.status,
        ).where(NotifyOutbox.batch_id == batch_id)).all()
    return sorted((int(m), str(c), str(st)) for m, c, st in rows)


def make_run(oa: Any, touched: Sequence[tuple[str, str]], *, period: str = "2026-11") -> int:
    """A finished data-exchange run that touched members (``(person key, kind)``)."""
    from unionhub.orgs.models import Org
    from unionhub_oa.exchange.models import OaRun, OaRunMember

    with oa.app.app_context():
        s = db.session()
        city = s.get(Org, oa.world.org_id("city"))
        run = OaRun(period=period, plan_year=2026, org_id=city.id, org_path=city.path,
                    state="done", steps=[], result={})
        s.add(run)
        s.flush()
        for key, kind in touched:
            s.add(OaRunMember(run_id=run.id, member_id=member_id(oa, key), kind=kind))
        s.commit()
        return int(run.id)
