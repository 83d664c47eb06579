"""The dispatcher against local fakes of WeChat, an SMS gateway and an SMTP server: every
WeChat error path, fallback to SMS, quotas and their windows, exactly-once under two
concurrent dispatchers, recovery after a crash, receipts."""

# ruff: noqa: F811  (pytest fixtures imported from tests.support.notify_fixtures)

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from tests.support.notify_fixtures import (  # noqa: F401
    PUSH_TOKEN,
    bind,
    bulk_members,
    by_member_channel,
    configure,
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
from unionhub.notify import clock, dispatch, receipts
from unionhub.notify import service as notify
from unionhub.notify.models import NotifyBinding, NotifyReceipt, NotifyState
from unionhub.notify.wechat import WeChatClient

CTX = {"book": "平凡的世界", "due": "2026-12-01"}


class Killed(BaseException):
    """The worker process dying (not an error the dispatcher could catch)."""


class Clock:
    """Moves the notification service's clock (and only it)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, start: datetime) -> None:
        self.t = start
        monkeypatch.setattr(clock, "now", lambda: self.t)

    def advance(self, **kw: float) -> None:
        self.t += timedelta(**kw)


@pytest.fixture
def frozen(monkeypatch):
    # 2026-11-28 10:00:30 Beijing time
    return Clock(monkeypatch, datetime(2026, 11, 28, 2, 0, 30, tzinfo=UTC))


def people(world, *keys):
    return [world.people[k].member_id for k in keys]


def bind_all(napp, ids):
    for mid in ids:
        bind(napp, mid, openid_of(mid))


def statuses(napp, batch):
    return {k: r.status for k, r in by_member_channel(napp, batch).items()}


# --- WeChat: the happy path ------------------------------------------------------------------


def test_template_messages_are_sent_once(napp, world, fake_wechat):
    m1, m2 = people(world, "m1", "m2")
    bind_all(napp, [m1, m2])
    long_title = "平凡的世界（全三册）\n茅盾文学奖获奖作品典藏版"
    batch = send(napp, "t.reminder", [m1, m2], {"book": long_title, "due": "12月1日"}, "b1")
    counts = run_dispatch(napp)
    assert counts["sent"] == 2
    assert fake_wechat.received() == {openid_of(m1): 1, openid_of(m2): 1}
    msg = fake_wechat.messages[0]
    assert msg["template_id"] == "TPL-NOTICE-1"
    assert msg["url"] == "https://gh.example.cn/library/loans"
    book = msg["data"]["thing1"]["value"]
    assert len(book) == 20 and "\n" not in book and book.endswith("…")
    rows = outbox(napp, batch)
    assert all(r.status == "sent" and r.msgid and r.sent_at for r in rows)
    assert len(fake_wechat.token_calls) == 1
    # again: nothing left, nothing re-sent; re-sending the batch adds nothing
    send(napp, "t.reminder", [m1, m2], CTX, "b1")
    assert run_dispatch(napp)["sent"] == 0
    assert len(fake_wechat.messages) == 2


def test_the_access_token_has_one_holder(napp, world, fake_wechat):
    m1, m2 = people(world, "m1", "m2")
    bind_all(napp, [m1, m2])
    send(napp, "t.reminder", [m1], CTX, "t1")
    run_dispatch(napp)
    with napp.app_context():
        row = db.session().get(NotifyState, f"wechat:token:{fake_wechat.appid}")
        assert row.value == fake_wechat.token and row.expires_at > clock.now()
    # another worker process (a fresh client) reads the stored token instead of asking
    other = WeChatClient(napp.extensions["db"].engine, fake_wechat.url, fake_wechat.appid,
                         fake_wechat.secret)
    assert other.token() == fake_wechat.token
    assert len(fake_wechat.token_calls) == 1
    other.close()


def test_40001_refreshes_once_and_retries(napp, world, fake_wechat):
    (m1,) = people(world, "m1")
    bind_all(napp, [m1])
    send(napp, "t.reminder", [m1], CTX, "warm")
    run_dispatch(napp)
    fake_wechat.fail_token_once = True  # somebody invalidated our token
    batch = send(napp, "t.reminder", [m1], CTX, "t40001")
    run_dispatch(napp)
    assert statuses(napp, batch) == {(m1, "wechat"): "sent"}
    assert [c["force_refresh"] for c in fake_wechat.token_calls] == [False, True]
    assert len(fake_wechat.messages) == 2


def test_42001_expired_token_is_refreshed(napp, world, fake_wechat):
    (m1,) = people(world, "m1")
    bind_all(napp, [m1])
    send(napp, "t.reminder", [m1], CTX, "warm")
    run_dispatch(napp)
    fake_wechat.expired = True
    batch = send(napp, "t.reminder", [m1], CTX, "t42001")
    run_dispatch(napp)
    assert statuses(napp, batch) == {(m1, "wechat"): "sent"}
    assert len(fake_wechat.token_calls) == 2


def test_a_token_refreshed_by_another_worker_is_reused(napp, world, fake_wechat):
    (m1,) = people(world, "m1")
    bind_all(napp, [m1])
    send(napp, "t.reminder", [m1], CTX, "warm")
    run_dispatch(napp)
    other = WeChatClient(napp.extensions["db"].engine, fake_wechat.url, fake_wechat.appid,
                         fake_wechat.secret)
    old = other.token()
    fake_wechat.fail_token_once = True
    send(napp, "t.reminder", [m1], CTX, "refreshed-elsewhere")
    run_dispatch(napp)  # this worker refreshes (forced) and stores the new token
    assert other.refresh(old) == fake_wechat.token  # the other finds it: no second call
    assert len(fake_wechat.token_calls) == 2
    other.close()


# --- fallback to SMS -------------------------------------------------------------------------


def test_unbound_member_falls_back_to_sms_once(napp, world, fake_wechat, fake_sms):
    m1, m3 = people(world, "m1", "m3")
    bind_all(napp, [m1])
    batch = send(napp, "t.reminder", [m1, m3], CTX, "fb")
    counts = run_dispatch(napp)
    assert statuses(napp, batch) == {(m1, "wechat"): "sent", (m3, "wechat"): "fallback",
                                     (m3, "sms"): "sent"}
    assert counts["fallback"] == 1 and counts["sent"] == 2
    rows = by_member_channel(napp, batch)
    assert rows[(m3, "sms")].fallback_of_id == rows[(m3, "wechat")].id
    assert rows[(m3, "wechat")].error == "未绑定微信"
    assert fake_sms.received() == {world.people["m3"].mobile: 1}
    assert fake_sms.messages[0]["content"].startswith("【数字工会】《平凡的世界》即将到期")
    send(napp, "t.reminder", [m1, m3], CTX, "fb")
    run_dispatch(napp)
    assert fake_sms.received() == {world.people["m3"].mobile: 1}


def test_43004_and_40003_fall_back_and_mark_the_binding(napp, world, fake_wechat, fake_sms):
    m1, m2 = people(world, "m1", "m2")
    bind_all(napp, [m1, m2])
    fake_wechat.unfollowed.add(openid_of(m1))
    fake_wechat.invalid.add(openid_of(m2))
    batch = send(napp, "t.reminder", [m1, m2], CTX, "gone")
    run_dispatch(napp)
    rows = by_member_channel(napp, batch)
    assert rows[(m1, "wechat")].status == "fallback" and "43004" in rows[(m1, "wechat")].error
    assert rows[(m2, "wechat")].status == "fallback" and "40003" in rows[(m2, "wechat")].error
    assert rows[(m1, "sms")].status == rows[(m2, "sms")].status == "sent"
    with napp.app_context():
        s = db.session()
        assert notify.binding(s, m1, "wechat").status == "unfollowed"
        assert notify.binding(s, m2, "wechat").status == "invalid"
    # next time they go straight to SMS without calling WeChat
    calls = fake_wechat.send_calls
    batch = send(napp, "t.reminder", [m1, m2], CTX, "gone-2")
    run_dispatch(napp)
    assert fake_wechat.send_calls == calls
    assert all(r.status in ("fallback", "sent") for r in outbox(napp, batch))


def test_member_on_wechat_and_sms_gets_one_sms_on_fallback(napp, world, fake_sms):
    (m3,) = people(world, "m3")  # not bound
    with napp.app_context():
        s = db.session()
        notify.set_preferences(s, m3, {"t.reminder": {"wechat", "sms"}})
        s.commit()
    batch = send(napp, "t.reminder", [m3], CTX, "both")
    run_dispatch(napp)
    assert statuses(napp, batch) == {(m3, "wechat"): "fallback", (m3, "sms"): "sent"}
    assert fake_sms.received() == {world.people["m3"].mobile: 1}


def test_wechat_not_configured_falls_back(napp, world, fake_wechat, fake_sms):
    (m1,) = people(world, "m1")
    bind_all(napp, [m1])
    configure(napp, wechat_appid="")
    batch = send(napp, "t.reminder", [m1], CTX, "nocfg")
    run_dispatch(napp)
    assert statuses(napp, batch) == {(m1, "wechat"): "fallback", (m1, "sms"): "sent"}
    assert fake_wechat.send_calls == 0


# --- retries and quotas ----------------------------------------------------------------------


def test_busy_retries_with_exponential_back_off(napp, world, fake_wechat, frozen):
    (m1,) = people(world, "m1")
    bind_all(napp, [m1])
    fake_wechat.busy_first = 2
    batch = send(napp, "t.reminder", [m1], CTX, "busy")
    run_dispatch(napp)
    (row,) = outbox(napp, batch)
    assert (row.status, row.attempts) == ("deferred", 1)
    assert row.next_attempt_at == frozen.t + timedelta(seconds=30)
    run_dispatch(napp)  # not due yet
    assert fake_wechat.send_calls == 1
    frozen.advance(seconds=31)
    run_dispatch(napp)
    (row,) = outbox(napp, batch)
    assert (row.status, row.attempts) == ("deferred", 2)
    assert row.next_attempt_at == frozen.t + timedelta(seconds=60)
    frozen.advance(seconds=61)
    run_dispatch(napp)
    (row,) = outbox(napp, batch)
    assert (row.status, row.attempts) == ("sent", 3)
    assert len(fake_wechat.messages) == 1


def test_gives_up_after_max_attempts(napp, world, fake_wechat, frozen):
    (m1,) = people(world, "m1")
    bind_all(napp, [m1])
    fake_wechat.busy_first = 100
    batch = send(napp, "t.reminder", [m1], CTX, "give-up")
    for _ in range(6):
        run_dispatch(napp)
        frozen.advance(hours=1)
    (row,) = outbox(napp, batch)
    assert row.status == "failed" and row.attempts == 5 and "已重试 5 次" in row.error


def test_45009_stops_until_beijing_midnight_then_resumes(napp, world, fake_wechat, frozen):
    ids = bulk_members(napp, 6, world.org_id("g1"))
    fake_wechat.quota_after = 2
    batch = send(napp, "t.reminder", ids, CTX, "quota")
    run_dispatch(napp)
    rows = outbox(napp, batch)
    assert sorted(r.status for r in rows) == ["deferred"] * 4 + ["sent"] * 2
    midnight = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)  # 2026-11-29 00:00 Beijing
    assert {r.next_attempt_at for r in rows if r.status == "deferred"} == {midnight}
    with napp.app_context():
        prog = notify.progress(db.session(), batch)
    assert prog["by_status"] == {"sent": 2, "deferred": 4} and not prog["done"]
    calls = fake_wechat.send_calls
    frozen.advance(hours=5)
    run_dispatch(napp)  # the channel is stopped: WeChat is not even asked
    assert fake_wechat.send_calls == calls
    fake_wechat.quota_after = None  # a new day
    frozen.t = midnight + timedelta(seconds=1)
    run_dispatch(napp)
    assert all(r.status == "sent" for r in outbox(napp, batch))
    assert fake_wechat.received() == {openid_of(i): 1 for i in ids}


def test_per_minute_quota_throttles_and_resumes(napp, world, fake_wechat, frozen):
    configure(napp, quota_wechat_per_minute=2)
    ids = bulk_members(napp, 5, world.org_id("g1"))
    batch = send(napp, "t.reminder", ids, CTX, "per-minute")
    counts = run_dispatch(napp)
    assert counts["sent"] == 2 and counts["throttled.minute"] >= 1
    assert sorted(r.status for r in outbox(napp, batch)) == ["pending"] * 3 + ["sent"] * 2
    frozen.advance(seconds=60)
    run_dispatch(napp)
    frozen.advance(seconds=60)
    run_dispatch(napp)
    assert all(r.status == "sent" for r in outbox(napp, batch))
    assert fake_wechat.received() == {openid_of(i): 1 for i in ids}


def test_per_day_quota_defers_to_the_next_day(napp, world, fake_wechat, frozen):
    configure(napp, quota_wechat_per_day=3)
    ids = bulk_members(napp, 5, world.org_id("g1"))
    batch = send(napp, "t.reminder", ids, CTX, "per-day")
    run_dispatch(napp)
    rows = outbox(napp, batch)
    assert sorted(r.status for r in rows) == ["deferred"] * 2 + ["sent"] * 3
    frozen.advance(hours=14)  # past midnight in Beijing
    run_dispatch(napp)
    assert all(r.status == "sent" for r in outbox(napp, batch))
    assert len(fake_wechat.messages) == 5


# --- concurrency, crashes, receipts ----------------------------------------------------------


def test_two_concurrent_dispatchers_send_each_message_once(napp, world, fake_wechat):
    configure(napp, dispatch_batch_size=20, wechat_parallel=2)
    ids = bulk_members(napp, 240, world.org_id("g2"))
    fake_wechat.delay = 0.002
    batch = send(napp, "t.reminder", ids, CTX, "race")
    totals: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            totals.append(run_dispatch(napp)["sent"])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert sum(totals) == 240 and all(totals), totals  # both took part
    assert fake_wechat.received() == {openid_of(i): 1 for i in ids}
    assert all(r.status == "sent" for r in outbox(napp, batch))


def test_crash_between_send_and_record_is_recovered_by_receipt(napp, world, fake_wechat,
                                                                frozen, monkeypatch):
    m1, m2 = people(world, "m1", "m2")
    bind_all(napp, [m1, m2])
    batch = send(napp, "t.reminder", [m1, m2], CTX, "crash")

    def crash(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(dispatch, "record", crash)
    with pytest.raises(Killed):
        run_dispatch(napp)
    monkeypatch.undo()
    monkeypatch.setattr(clock, "now", lambda: frozen.t)
    assert {r.status for r in outbox(napp, batch)} == {"sending"}
    # WeChat's receipt for m1 arrives; the msgid matches no row yet, so it is kept aside
    sent_to_m1 = next(m for m in fake_wechat.messages if m["touser"] == openid_of(m1))
    with napp.app_context():
        s = db.session()
        assert not receipts.record_receipt(s, str(sent_to_m1["msgid"]), "success",
                                           openid_of(m1), frozen.t)
        s.commit()
    frozen.advance(seconds=60)
    run_dispatch(napp)  # too early: the rows may still be in flight
    assert {r.status for r in outbox(napp, batch)} == {"sending"}
    frozen.advance(minutes=11)
    counts = run_dispatch(napp)
    assert counts["recovered.sent"] == 1 and counts["recovered.failed"] == 1
    rows = by_member_channel(napp, batch)
    assert rows[(m1, "wechat")].status == "sent"
    assert rows[(m1, "wechat")].msgid == str(sent_to_m1["msgid"])
    assert rows[(m1, "wechat")].receipt == "success"
    assert rows[(m2, "wechat")].status == "failed"  # at most once: not sent again
    assert "至多一次" in rows[(m2, "wechat")].error
    assert len(fake_wechat.messages) == 2
    with napp.app_context():
        assert db.session().scalars(select(NotifyReceipt)).all() == []


def test_restart_picks_up_where_it_stopped(make_app, napp, world, fake_wechat):
    from tests.support.notify_fixtures import TEST_TYPES
    from tests.support.notify_wiring import wire

    ids = bulk_members(napp, 30, world.org_id("g1"))
    configure(napp, dispatch_batch_size=10)
    batch = send(napp, "t.reminder", ids, CTX, "restart")
    with napp.app_context():
        run = dispatch.Run(napp, dispatch.registry(napp), dispatch.load_config(
            dispatch.registry(napp)))
        assert dispatch.send_batch(run, "wechat") == 10  # then the process dies
    restarted = wire(make_app(), extra_types=TEST_TYPES)
    run_dispatch(restarted)
    assert all(r.status == "sent" for r in outbox(restarted, batch))
    assert fake_wechat.received() == {openid_of(i): 1 for i in ids}


def test_slow_wechat_leaves_the_outcome_to_recovery(napp, world, fake_wechat, frozen):
    (m1,) = people(world, "m1")
    bind_all(napp, [m1])
    send(napp, "t.reminder", [m1], CTX, "warm")
    run_dispatch(napp)  # token fetched while the fake is fast
    configure(napp, wechat_timeout=1)
    fake_wechat.delay = 1.5
    batch = send(napp, "t.reminder", [m1], CTX, "slow")
    counts = run_dispatch(napp)
    assert counts["sending"] == 1
    (row,) = outbox(napp, batch)
    assert row.status == "sending" and "无应答" in row.error
    fake_wechat.delay = 0
    frozen.advance(minutes=11)
    run_dispatch(napp)
    (row,) = outbox(napp, batch)
    assert row.status == "failed"  # no receipt came: at most once
    deadline = time.monotonic() + 5
    while len(fake_wechat.messages) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # the fake finishes the slow request after we gave up
    assert fake_wechat.received()[openid_of(m1)] == 2  # warm-up + the slow one, no resend


def test_receipt_is_recorded_on_the_row(napp, world, fake_wechat):
    (m1,) = people(world, "m1")
    bind_all(napp, [m1])
    batch = send(napp, "t.reminder", [m1], CTX, "receipt")
    run_dispatch(napp)
    (row,) = outbox(napp, batch)
    with napp.app_context():
        s = db.session()
        assert receipts.record_receipt(s, row.msgid, "failed:user block", openid_of(m1),
                                       clock.now())
        s.commit()
    (row,) = outbox(napp, batch)
    assert row.receipt == "failed:user block" and row.receipt_at


def test_early_receipt_is_applied_when_the_msgid_is_recorded(napp, world, fake_wechat):
    (m1,) = people(world, "m1")
    bind_all(napp, [m1])
    with napp.app_context():
        s = db.session()
        receipts.record_receipt(s, "1000", "success", openid_of(m1), clock.now())
        s.commit()
    batch = send(napp, "t.reminder", [m1], CTX, "early")
    run_dispatch(napp)  # the fake's first msgid is 1000
    (row,) = outbox(napp, batch)
    assert (row.msgid, row.receipt) == ("1000", "success")


# --- SMS and e-mail --------------------------------------------------------------------------


def test_sms_refusals_errors_and_quota(napp, world, fake_sms, frozen):
    m1, m2, m3 = people(world, "m1", "m2", "m3")
    fake_sms.refused.add(world.people["m1"].mobile)
    fake_sms.errors_first = 1  # m1's first try meets a 500
    batch = send(napp, "t.security", [m1, m2], {"time": "08:00"}, "sms")
    run_dispatch(napp)
    rows = by_member_channel(napp, batch)
    assert rows[(m1, "sms")].status == "deferred" and "500" in rows[(m1, "sms")].error
    assert rows[(m2, "sms")].status == "sent"
    assert fake_sms.messages[0]["content"] == "【数字工会】您的账号在新设备登录"
    frozen.advance(seconds=31)
    run_dispatch(napp)
    row = by_member_channel(napp, batch)[(m1, "sms")]
    assert row.status == "failed" and "400" in row.error  # refused: permanent
    fake_sms.quota_after = 1
    batch = send(napp, "t.security", [m3], {"time": "09:00"}, "sms-quota")
    run_dispatch(napp)
    (row,) = outbox(napp, batch)
    assert row.status == "deferred"
    assert row.next_attempt_at == frozen.t + timedelta(seconds=120)
    fake_sms.quota_after = None
    frozen.advance(seconds=60)
    run_dispatch(napp)  # still stopped
    assert outbox(napp, batch)[0].status == "deferred"
    frozen.advance(seconds=61)
    run_dispatch(napp)
    assert outbox(napp, batch)[0].status == "sent"
    assert fake_sms.received() == {world.people["m2"].mobile: 1, world.people["m3"].mobile: 1}


def test_member_without_mobile_fails_on_sms(napp, world):
    (m1,) = people(world, "m1")
    with napp.app_context():
        from unionhub.identity.models import Member

        s = db.session()
        s.execute(update(Member).where(Member.id == m1).values(mobile=None))
        s.commit()
    batch = send(napp, "t.security", [m1], {"time": "08:00"}, "nomobile")
    run_dispatch(napp)
    (row,) = outbox(napp, batch)
    assert (row.status, row.error) == ("failed", "无手机号")


def test_email_over_smtp(napp, world, fake_smtp):
    m1, m2 = people(world, "m1", "m2")
    bind(napp, m1, "zhangwei@example.cn", channel="email")
    bind(napp, m2, "lina@example.cn", channel="email")
    fake_smtp.refused.add("lina@example.cn")
    with napp.app_context():
        s = db.session()
        for m in (m1, m2):
            notify.set_preferences(s, m, {"t.reminder": {"email"}})
        s.commit()
    batch = send(napp, "t.reminder", [m1, m2], CTX, "mail")
    run_dispatch(napp)
    rows = by_member_channel(napp, batch)
    assert rows[(m1, "email")].status == "sent"
    assert rows[(m2, "email")].status == "failed" and "550" in rows[(m2, "email")].error
    (got,) = fake_smtp.messages
    assert got.recipients == ["zhangwei@example.cn"] and got.auth == "mailer:pw"
    msg = got.message
    assert msg["Subject"] == "《平凡的世界》即将到期"
    body = msg.get_content()
    assert "请于2026-12-01前归还" in body and "https://gh.example.cn/library/loans" in body


# --- the job and the beat --------------------------------------------------------------------


def test_send_kicks_the_dispatcher_job(napp, world, fake_wechat):
    from unionhub.jobs.models import Job

    (m1,) = people(world, "m1")
    bind_all(napp, [m1])
    batch = send(napp, "t.reminder", [m1], CTX, "job")
    napp.extensions["jobs_transport"].drain()
    assert outbox(napp, batch)[0].status == "sent"
    with napp.app_context():
        job = db.session().scalars(select(Job).where(Job.kind == "core.notify_dispatch")).one()
        assert job.status == "succeeded" and job.result["sent"] == 1


def test_beat_submits_the_dispatcher(napp):
    from unionhub.jobs.transport import submit_beat

    assert napp.extensions["jobs"].beat["core.notify_dispatch"][1].every == 60
    assert submit_beat(napp, "core.notify_dispatch", 3600.0 * 10**6) is not None
    napp.extensions["jobs_transport"].drain()


def test_job_chains_while_work_remains(napp, world, fake_wechat, monkeypatch):
    from unionhub.jobs.models import Job

    ids = bulk_members(napp, 50, world.org_id("g1"))
    configure(napp, dispatch_batch_size=10, dispatch_concurrency=1)
    real = dispatch.dispatch
    monkeypatch.setattr(dispatch, "dispatch", lambda app, seconds=None, on_progress=None:
                        real(app, seconds=0.0, on_progress=on_progress))
    batch = send(napp, "t.reminder", ids, CTX, "chain")
    for _ in range(20):
        napp.extensions["jobs_transport"].drain()
    assert all(r.status == "sent" for r in outbox(napp, batch))
    with napp.app_context():
        jobs = db.session().scalars(select(Job).where(Job.kind == "core.notify_dispatch")).all()
    assert len(jobs) >= 5 and all(j.status == "succeeded" for j in jobs)
    assert fake_wechat.received() == {openid_of(i): 1 for i in ids}


def test_receipt_signature_and_parser():
    import hashlib

    want = hashlib.sha1("".join(sorted([PUSH_TOKEN, "1700000000", "nonce"])).encode())
    assert receipts.signature(PUSH_TOKEN, "1700000000", "nonce") == want.hexdigest()
    assert receipts.parse(b"<xml><MsgID>1</MsgID><Status>success</Status></xml>") == {
        "MsgID": "1", "Status": "success"}
    with pytest.raises(ValueError):
        receipts.parse(b'<!DOCTYPE x [<!ENTITY a "b">]><xml><a>&a;</a></xml>')


def test_binding_marked_by_follow_events(napp, world, client):
    (m1,) = people(world, "m1")
    bind_all(napp, [m1])
    ts, nonce = str(int(time.time())), "n1"
    sig = receipts.signature(PUSH_TOKEN, ts, nonce)
    xml = (f"<xml><ToUserName>gh_1</ToUserName><FromUserName>{openid_of(m1)}</FromUserName>"
           f"<CreateTime>{ts}</CreateTime><MsgType>event</MsgType>"
           f"<Event>unsubscribe</Event></xml>")
    r = client.post(f"/notify/wechat/events?signature={sig}&timestamp={ts}&nonce={nonce}",
                    data=xml, content_type="text/xml")
    assert r.status_code == 200
    with napp.app_context():
        assert db.session().scalars(select(NotifyBinding.status)).one() == "unfollowed"
    r = client.post(f"/notify/wechat/events?signature=bad&timestamp={ts}&nonce={nonce}",
                    data=xml, content_type="text/xml")
    assert r.status_code == 403
