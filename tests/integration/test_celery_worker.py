"""A real ``celery worker`` process against Redis and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from tests.conftest import TEST_KEYS
from unionhub import db
from unionhub.jobs import service as jobs
from unionhub.jobs.models import Job, JobStatus

pytestmark = pytest.mark.integration
REDIS_URL = os.environ.get("UNIONHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")


@pytest.fixture
def redis_url() -> str:
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
        client.flushdb()
    except redis.RedisError as exc:
        msg = f"integration tests need Redis at {REDIS_URL}: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return REDIS_URL


@pytest.fixture
def worker(pg_database_url, redis_url, make_app, tmp_path: Path):
    make_app.set_plugin("sample", True)
    env = {
        **os.environ,
        "UNIONHUB_DATABASE_URL": pg_database_url,
        "UNIONHUB_BROKER_URL": redis_url,
        "UNIONHUB_INSTANCE_PATH": str(tmp_path / "worker"),
        **{f"UNIONHUB_{k}": v for k, v in TEST_KEYS.items()},
    }
    celery_bin = Path(sys.executable).with_name("celery")
    log = (tmp_path / "worker.log").open("w")
    proc = subprocess.Popen(
        [str(celery_bin), "-A", "unionhub.jobs.worker", "worker", "--pool", "threads",
         "--concurrency", "2", "--queues", "default", "--loglevel", "INFO",
         "--without-heartbeat", "--without-gossip", "--without-mingle"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    yield proc
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def wait_for(app, ids: list[int], timeout: float = 60.0) -> list[Job]:
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            rows = db.session().scalars(select(Job).where(Job.id.in_(ids))).all()
        if all(j.status in (JobStatus.SUCCEEDED, JobStatus.FAILED) for j in rows):
            return list(rows)
        if time.monotonic() > deadline:
            raise AssertionError([j.as_dict() for j in rows])
        time.sleep(0.2)


def test_real_worker_runs_jobs_once(worker, make_app, redis_url, world):
    app = make_app(BROKER_URL=redis_url)
    ids = []
    with app.app_context():
        s = db.session()
        for n in range(1, 21):
            ids.append(jobs.submit("sample.count", {"n": n % 4 + 1}, session=s).id)
        s.commit()
    done = wait_for(app, ids)
    assert all(j.status == JobStatus.SUCCEEDED for j in done), [j.error for j in done]
    assert all(j.attempts == 1 for j in done)
    assert worker.poll() is None


def test_real_worker_refuses_a_disabled_plugins_job(worker, make_app, redis_url, world):
    app = make_app(BROKER_URL=redis_url)
    with app.app_context():
        s = db.session()
        job_id = jobs.submit("sample.count", {"n": 1}, session=s).id
        make_app.set_plugin("sample", False)
        s.commit()
    (job,) = wait_for(app, [job_id])
    assert job.status == JobStatus.FAILED and "未启用" in (job.error or "")
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(Job)) == 1
