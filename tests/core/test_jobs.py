"""Background jobs: state in our table, dispatch after commit, exactly-once claims,
recovery after a restart, Celery with an embedded worker (no eager mode)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from sqlalchemy import select, update

from tests.helpers import cli, login, post_form
from unionhub import db
from unionhub.db import utcnow
from unionhub.jobs import service as jobs
from unionhub.jobs.models import Job, JobStatus
from unionhub.jobs.transport import CeleryTransport, EmbeddedTransport, submit_beat


@pytest.fixture
def sample_app(make_app, world):
    make_app.set_plugin("sample", True)
    return make_app()


def _submit(app, params=None, **kw) -> int:
    with app.app_context():
        s = db.session()
        job = jobs.submit("sample.count", params or {"n": 3}, session=s, **kw)
        s.commit()
        return job.id


def _job(app, job_id) -> Job:
    with app.app_context():
        return db.session().get(Job, job_id)


def test_dispatch_happens_only_after_commit(sample_app):
    transport: EmbeddedTransport = sample_app.extensions["jobs_transport"]
    with sample_app.app_context():
        s = db.session()
        job = jobs.submit("sample.count", {"n": 2}, session=s)
        assert transport.queue.empty()  # not before commit
        s.rollback()
        assert transport.queue.empty()  # never, when rolled back
        job = jobs.submit("sample.count", {"n": 2}, session=s)
        s.commit()
        assert transport.queue.get_nowait() == job.id


def test_embedded_runner_runs_job_with_progress(sample_app):
    job_id = _submit(sample_app, {"n": 4})
    sample_app.extensions["jobs_transport"].drain()
    job = _job(sample_app, job_id)
    assert job.status == JobStatus.SUCCEEDED
    assert (job.done, job.total, job.percent) == (4, 4, 100)
    assert job.result == {"counted": 4} and job.counts == {"counted": 4}
    assert job.attempts == 1 and job.started_at and job.finished_at


def test_a_job_runs_once_even_if_delivered_twice(sample_app):
    job_id = _submit(sample_app, {"n": 1})
    assert jobs.run_job(sample_app, job_id) == JobStatus.SUCCEEDED
    assert jobs.run_job(sample_app, job_id) == "skipped"
    assert _job(sample_app, job_id).attempts == 1


def test_failure_is_recorded(sample_app):
    job_id = _submit(sample_app, {"n": 1, "fail": True})
    assert jobs.run_job(sample_app, job_id) == JobStatus.FAILED
    job = _job(sample_app, job_id)
    assert "asked to fail" in job.error


def test_jobs_of_a_disabled_plugin_are_refused(make_app, sample_app):
    job_id = _submit(sample_app, {"n": 1})
    make_app.set_plugin("sample", False)
    assert jobs.run_job(sample_app, job_id) == JobStatus.FAILED
    assert "未启用" in _job(sample_app, job_id).error


def test_unknown_kind_is_refused(sample_app):
    with sample_app.app_context(), pytest.raises(jobs.JobError):
        jobs.submit("sample.nope", {}, session=db.session())


def test_dedup_key_creates_one_job(sample_app):
    a = _submit(sample_app, dedup_key="once")
    b = _submit(sample_app, dedup_key="once")
    assert a == b


def test_beat_submits_once_per_slot(sample_app):
    reg = jobs.registry(sample_app)
    assert reg.beat["sample.hourly_count"][1].job == "sample.count"
    now = 1_000_000 * 3600.0
    first = submit_beat(sample_app, "sample.hourly_count", now)
    again = submit_beat(sample_app, "sample.hourly_count", now + 10)
    later = submit_beat(sample_app, "sample.hourly_count", now + 3600)
    assert first == again and later != first


def test_beat_overrides_from_config(make_app, world):
    make_app.set_plugin("sample", True)
    off = make_app(BEAT_OVERRIDES={"sample.hourly_count": {"enabled": False}})
    assert "sample.hourly_count" not in jobs.registry(off).beat
    fast = make_app(BEAT_OVERRIDES={"sample.hourly_count": {"every": 5}})
    assert jobs.registry(fast).beat["sample.hourly_count"][1].every == 5


def test_restart_picks_up_pending_and_stale_jobs(make_app, sample_app):
    pending = _submit(sample_app, {"n": 1})
    stale = _submit(sample_app, {"n": 1})
    with sample_app.app_context():
        s = db.session()
        s.execute(update(Job).where(Job.id == stale).values(
            status=JobStatus.RUNNING, attempts=1, heartbeat_at=utcnow() - timedelta(hours=1)))
        s.commit()
    restarted = make_app()  # the old process and its in-memory queue are gone
    assert sorted(jobs.recover(restarted)) == sorted([pending, stale])
    restarted.extensions["jobs_transport"].drain()
    assert _job(restarted, pending).status == JobStatus.SUCCEEDED
    assert _job(restarted, stale).status == JobStatus.SUCCEEDED


def test_runner_thread_and_cancel(sample_app):
    transport: EmbeddedTransport = sample_app.extensions["jobs_transport"]
    job_id = _submit(sample_app, {"n": 200, "sleep": 0.02})
    transport.start()
    try:
        deadline = time.monotonic() + 10
        while _job(sample_app, job_id).done < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        with sample_app.app_context():
            assert jobs.cancel(db.session(), db.session().get(Job, job_id))
            db.session().commit()
        while _job(sample_app, job_id).status == JobStatus.RUNNING:
            time.sleep(0.05)
            assert time.monotonic() < deadline
    finally:
        transport.stop()
    job = _job(sample_app, job_id)
    assert job.status == JobStatus.CANCELLED and 0 < job.done < 200


def test_celery_with_an_embedded_worker(make_app, world):
    make_app.set_plugin("sample", True)
    app = make_app(BROKER_URL="memory://", CELERY={"result_backend": "cache+memory://"})
    assert isinstance(app.extensions["jobs_transport"], CeleryTransport)
    celery = app.extensions["celery"]
    assert "unionhub.run_job" in celery.tasks and "unionhub.beat" in celery.tasks
    assert celery.conf.beat_schedule["sample.hourly_count"]["schedule"] == 3600
    with start_worker(celery, pool="threads", concurrency=1, perform_ping_check=False,
                      shutdown_timeout=10):
        job_id = _submit(app, {"n": 3})
        deadline = time.monotonic() + 20
        while _job(app, job_id).status != JobStatus.SUCCEEDED:
            assert time.monotonic() < deadline, _job(app, job_id).as_dict()
            time.sleep(0.1)
    assert _job(app, job_id).result == {"counted": 3}


def test_plugin_task_base_refuses_when_plugin_disabled(make_app, world):
    from unionhub.jobs.celery_app import PluginTask

    make_app.set_plugin("sample", True)
    app = make_app(BROKER_URL="memory://")
    celery = app.extensions["celery"]
    calls = []
    base = type("T", (PluginTask,), {"plugin": "sample", "flask_app": app})

    def probe() -> None:
        calls.append(1)

    task = celery.task(name="sample.probe", base=base, shared=False)(probe)
    task()
    make_app.set_plugin("sample", False)
    assert task() == {"refused": "plugin sample disabled"}
    assert calls == [1]


def test_celery_job_of_disabled_plugin_is_recorded_as_refused(make_app, world):
    make_app.set_plugin("sample", True)
    app = make_app(BROKER_URL="memory://")
    job_id = _submit(app, {"n": 1})
    make_app.set_plugin("sample", False)
    assert app.extensions["celery"].tasks["unionhub.run_job"](job_id) == JobStatus.FAILED
    assert "未启用" in _job(app, job_id).error


def test_job_pages_show_progress_to_owner_only(sample_app, world):
    job_id = _submit(sample_app, {"n": 2}, owner_id=world.people["m1"].account_id)
    sample_app.extensions["jobs_transport"].drain()
    owner = sample_app.test_client()
    login(owner, world.people["m1"].card_number)
    page = owner.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "示例计数任务" in page and "100%" in page
    data = owner.get(f"/jobs/{job_id}.json").get_json()
    assert data["status"] == "succeeded" and data["percent"] == 100
    assert "示例计数任务" in owner.get("/jobs/").get_data(as_text=True)
    other = sample_app.test_client()
    login(other, world.people["m2"].card_number)
    assert other.get(f"/jobs/{job_id}").status_code == 404
    assert other.get(f"/jobs/{job_id}.json").status_code == 404
    admin = sample_app.test_client()
    login(admin, "admin")
    assert admin.get(f"/jobs/{job_id}").status_code == 200


def test_owner_cancels_from_the_page(sample_app, world):
    job_id = _submit(sample_app, {"n": 2}, owner_id=world.people["m1"].account_id)
    c = sample_app.test_client()
    login(c, world.people["m1"].card_number)
    r = post_form(c, f"/jobs/{job_id}/cancel", {}, form_url=f"/jobs/{job_id}",
                  follow_redirects=True)
    assert "已取消" in r.get_data(as_text=True)
    assert _job(sample_app, job_id).status == JobStatus.CANCELLED


def test_cli_list_and_watch(sample_app):
    job_id = _submit(sample_app, {"n": 2})
    listing = cli(sample_app, "jobs", "list")
    assert listing.exit_code == 0 and "sample.count" in listing.output
    runner = threading.Thread(target=sample_app.extensions["jobs_transport"].drain)
    runner.start()
    watched = cli(sample_app, "jobs", "watch", str(job_id))
    runner.join()
    assert watched.exit_code == 0, watched.output
    assert "succeeded" in watched.output


def test_claim_is_a_single_conditional_update(sample_app):
    job_id = _submit(sample_app, {"n": 1})
    results = []
    barrier = threading.Barrier(4)

    def grab():
        barrier.wait()
        results.append(jobs.claim(sample_app, job_id))

    threads = [threading.Thread(target=grab) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r is not None for r in results) == 1
    with sample_app.app_context():
        assert db.session().scalar(select(Job.attempts).where(Job.id == job_id)) == 1


def test_recover_job_redispatches_only_long_waiting_jobs(sample_app):
    fresh = _submit(sample_app, {"n": 1})
    old = _submit(sample_app, {"n": 1})
    with sample_app.app_context():
        s = db.session()
        s.execute(update(Job).where(Job.id == old).values(
            created_at=utcnow() - timedelta(hours=1)))
        s.commit()
    transport = sample_app.extensions["jobs_transport"]
    while not transport.queue.empty():
        transport.queue.get_nowait()
    assert "core.recover_jobs" in jobs.registry(sample_app).beat
    rec = _submit_kind(sample_app, "core.recover_jobs")
    assert jobs.run_job(sample_app, rec) == JobStatus.SUCCEEDED
    assert _job(sample_app, rec).result == {"redispatched": 1}
    assert transport.queue.get_nowait() == old
    assert fresh


def _submit_kind(app, kind: str) -> int:
    with app.app_context():
        s = db.session()
        job = jobs.submit(kind, {}, session=s)
        s.commit()
    app.extensions["jobs_transport"].queue.get_nowait()  # its own dispatch
    return job.id
