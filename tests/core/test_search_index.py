"""Index maintenance: the queue and its single writer, rebuild-and-swap, the CLI."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from tests.core.test_search_support import NOTICE, Store, rebuild_all, titles, wire
from tests.helpers import World, member
from unionhub import db
from unionhub.search.backend import SearchBusy
from unionhub.search.cli import search_cli
from unionhub.search.queue import enqueue, enqueue_select, pending, process_queue
from unionhub.search.service import get_service, rebuild
from unionhub.search.types import SearchDocument
from unionhub.search.whoosh_backend import WhooshBackend


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def search(app: Flask, world: World, store: Store) -> Flask:
    with app.app_context():
        wire(app, store)
    return app


def backend(app: Flask) -> WhooshBackend:
    b = get_service(app).backend
    assert isinstance(b, WhooshBackend)
    return b


def public(app: Flask, q: str) -> list[str]:
    with app.app_context():
        return titles(get_service(app).search_as(None, q))


def queued(app: Flask) -> int:
    with app.app_context():
        return pending(db.session())


def push(app: Flask, ids: Sequence[str], op: str = "upsert", doc_type: str = NOTICE) -> None:
    with app.app_context(), db.transaction() as s:
        enqueue(s, doc_type, ids, op=op)


# ---------------------------------------------------------------- the queue


def test_enqueue_commits_with_the_callers_transaction(search: Flask) -> None:
    with search.app_context():
        s = db.session()
        before = pending(s)  # creating the world's members queued their documents
        enqueue(s, NOTICE, ["1", "2"])
        s.rollback()
        assert pending(s) == before
        enqueue(s, NOTICE, [3])
        s.commit()
        assert pending(s) == before + 1
        with pytest.raises(ValueError, match="op must be"):
            enqueue(s, NOTICE, ["1"], op="merge")


def test_enqueue_select_queues_a_whole_subtree(search: Flask, world: World) -> None:
    from sqlalchemy import select

    from unionhub.identity.models import Member
    from unionhub.orgs.models import Org

    rebuild_all(search)
    d1 = world.orgs["d1"]
    with search.app_context():
        s = db.session()
        in_d1 = select(Member.id).join(Org, Member.org_id == Org.id).where(
            Org.path.like(d1.path + "%"))
        s.execute(Member.__table__.update().values(name=Member.name + "甲"))
        enqueue_select(s, "core.member", in_d1)
        s.commit()
        assert pending(s) == 2  # m1 (g1) and m3 (b1), not m2 (g2)
        with pytest.raises(ValueError, match="op must be"):
            enqueue_select(s, "core.member", in_d1, op="merge")
    assert process_queue(search).upserted == 2
    with search.app_context():
        from unionhub.identity.models import Account

        admin = db.session().get(Account, world.officers["admin"])
        svc = get_service(search)
        assert titles(svc.search_as(admin, world.people["m1"].name + "甲")) == [
            world.people["m1"].name + "甲"]
        assert titles(svc.search_as(admin, world.people["m2"].name + "甲")) == []


def test_queue_upsert_update_and_delete(search: Flask, store: Store) -> None:
    store.put("1", "京卡挂失办法", "携带身份证到代办处办理。")
    push(search, ["1"])
    assert public(search, "京卡") == []  # not applied until the writer runs
    run = process_queue(search)
    assert (run.processed, run.upserted, run.deleted) == (1, 1, 0)
    assert public(search, "京卡") == ["京卡挂失办法"] and queued(search) == 0

    store.put("1", "京卡补卡办法", "携带身份证到代办处办理。")
    push(search, ["1"])
    process_queue(search)
    assert public(search, "补卡") == ["京卡补卡办法"]
    assert public(search, "挂失") == []

    push(search, ["1"], op="delete")
    process_queue(search)
    assert public(search, "京卡") == []


def test_upsert_of_a_vanished_row_deletes_it(search: Flask, store: Store) -> None:
    store.put("1", "京卡挂失办法")
    push(search, ["1"])
    process_queue(search)
    del store.docs["1"]
    push(search, ["1"])
    run = process_queue(search)
    assert run.deleted == 1 and public(search, "京卡") == []


def test_member_changes_reach_the_index(search: Flask, world: World) -> None:
    rebuild_all(search)
    m1 = world.people["m1"]
    with search.app_context():
        s = db.session()
        member(m1.member_id).name = "张卫国"
        enqueue(s, "core.member", [m1.member_id])
        s.commit()
    process_queue(search)
    with search.app_context():
        from unionhub.identity.models import Account

        admin = db.session().get(Account, world.officers["admin"])
        svc = get_service(search)
        assert titles(svc.search_as(admin, "张卫国")) == ["张卫国"]
        assert titles(svc.search_as(admin, "张伟")) == []


def test_a_failing_indexer_keeps_its_entries(search: Flask, store: Store,
                                             world: World) -> None:
    store.fail = True
    push(search, ["1", "2"])
    push(search, [str(world.people["m1"].member_id)], doc_type="core.member")
    run = process_queue(search)
    assert (run.processed, run.failed) == (1, 2)
    assert queued(search) == 2
    store.fail = False
    store.put("1", "京卡挂失办法")
    run = process_queue(search)
    assert run.processed == 2 and queued(search) == 0
    assert public(search, "京卡") == ["京卡挂失办法"]


def test_entries_of_unknown_types_are_dropped_from_the_index(search: Flask) -> None:
    b = backend(search)
    with b.exclusive(1):
        b.apply([("gone.page", SearchDocument("9", "旧页面", "/x", ("public",)))], [])
    push(search, ["9"], doc_type="gone.page")
    run = process_queue(search)
    assert run.deleted == 1 and b.doc_count() == 0


# ---------------------------------------------------------------- one writer


def test_process_queue_respects_the_lock(search: Flask, store: Store) -> None:
    store.put("1", "京卡挂失办法")
    push(search, ["1"])
    runs = []
    with backend(search).exclusive() as held:
        assert held
        t = threading.Thread(target=lambda: runs.append(process_queue(search, timeout=0.2)))
        t.start()
        t.join()
        assert not runs[0].acquired and runs[0].processed == 0
    assert queued(search) == 1
    assert process_queue(search).processed == 1


def test_another_process_cannot_take_the_lock(search: Flask) -> None:
    root = backend(search).root
    code = ("import sys; from unionhub.search.whoosh_backend import WhooshBackend\n"
            "with WhooshBackend(sys.argv[1]).exclusive(0.2) as ok: print(ok)")
    check = [sys.executable, "-c", code, str(root)]
    with backend(search).exclusive() as held:
        assert held
        out = subprocess.run(check, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "False"
    out = subprocess.run(check, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_concurrent_queue_runs_do_not_corrupt_the_index(search: Flask, store: Store) -> None:
    for i in range(120):
        store.put(str(i), f"京卡通知{i}", "互助保障")
    for start in range(0, 120, 10):
        push(search, [str(i) for i in range(start, start + 10)])
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            process_queue(search, batch=7, timeout=30)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert queued(search) == 0
    assert backend(search).doc_count() == 120
    with search.app_context():
        assert get_service(search).search_as(None, "互助保障").total == 120


# ---------------------------------------------------------------- rebuild and swap


def test_rebuild_swaps_in_a_new_directory_and_removes_the_old(search: Flask,
                                                              store: Store) -> None:
    b = backend(search)
    store.put("1", "京卡挂失办法")
    rebuild_all(search)
    first = b.current_generation()
    assert b.generations() == [first]
    store.put("2", "京卡补卡办法")
    assert rebuild_all(search) == 5  # 3 members + 2 notices
    second = b.current_generation()
    assert second != first
    assert b.generations() == [second]
    assert not (b.root / str(first)).exists()
    assert sorted(public(search, "京卡")) == sorted(["京卡挂失办法", "京卡补卡办法"])


def test_searches_keep_working_during_a_rebuild(app: Flask, world: World) -> None:
    started, release = threading.Event(), threading.Event()
    store = Store()
    store.put("old", "京卡旧通知")

    def slow(session: Session, ids: Sequence[str] | None) -> Iterator[SearchDocument]:
        yield SearchDocument("new", "京卡新通知", "/n/new", ("public",))
        started.set()  # the rebuild has written a document and now waits
        release.wait(10)

    with app.app_context():
        wire(app, store)
    rebuild_all(app)
    b = backend(app)
    before = b.current_generation()
    assert public(app, "京卡") == ["京卡旧通知"]

    with app.app_context():
        wire(app, Store(), documents=slow)
    result: list[int] = []
    t = threading.Thread(target=lambda: result.append(rebuild(app, [NOTICE])))
    t.start()
    assert started.wait(10)
    # Mid-rebuild: a second directory exists, the old one still answers.
    assert len(b.generations()) == 2 and b.current_generation() == before
    for _ in range(3):
        assert public(app, "京卡") == ["京卡旧通知"]
    with pytest.raises(SearchBusy):
        app.config["SEARCH_REBUILD_LOCK_TIMEOUT"] = 0.1
        rebuild(app)
    assert not process_queue(app, timeout=0).acquired
    release.set()
    t.join(10)
    assert result == [1]
    assert b.current_generation() != before and b.generations() == [b.current_generation()]
    assert public(app, "京卡") == ["京卡新通知"]


def test_a_failed_rebuild_leaves_the_live_index_alone(search: Flask, store: Store) -> None:
    b = backend(search)
    store.put("1", "京卡挂失办法")
    rebuild_all(search)
    live = b.current_generation()
    store.fail = True
    with pytest.raises(RuntimeError, match="indexer broken"):
        rebuild_all(search)
    assert b.current_generation() == live and b.generations() == [live]
    assert public(search, "京卡") == ["京卡挂失办法"]


def test_rebuilding_one_type_keeps_the_others(search: Flask, store: Store,
                                              world: World) -> None:
    store.put("1", "京卡挂失办法")
    rebuild_all(search)
    with search.app_context():
        member(world.people["m1"].member_id).name = "张卫国"  # not queued on purpose
        db.session().commit()
    store.put("1", "京卡补卡办法")
    assert rebuild(search, [NOTICE]) == 1
    assert public(search, "京卡") == ["京卡补卡办法"]
    assert backend(search).doc_count() == 4
    with pytest.raises(KeyError, match="unknown search type"):
        rebuild(search, ["core.nothing"])


def test_rebuild_reports_progress(search: Flask, store: Store) -> None:
    for i in range(4):
        store.put(str(i), f"京卡通知{i}")
    steps: list[int] = []
    totals: list[int] = []
    written = rebuild(search, progress=steps.append, on_total=totals.append)
    assert written == 7 and sum(steps) == 7 and totals == [7]


def test_index_directory_defaults_under_the_instance(search: Flask) -> None:
    assert backend(search).root == Path(search.instance_path) / "search"


# ---------------------------------------------------------------- CLI


def test_reindex_cli_with_progress(search: Flask, store: Store) -> None:
    store.put("1", "京卡挂失办法")
    runner = search.test_cli_runner()
    res = runner.invoke(search_cli, ["reindex"])
    assert res.exit_code == 0, res.output
    assert "索引中" in res.output and "已索引 4 条" in res.output
    assert public(search, "京卡") == ["京卡挂失办法"]

    res = runner.invoke(search_cli, ["reindex", NOTICE])
    assert res.exit_code == 0 and "已索引 1 条" in res.output

    res = runner.invoke(search_cli, ["reindex", "nope.type"])
    assert res.exit_code == 2 and "unknown search type" in res.output


def test_process_cli(search: Flask, store: Store) -> None:
    store.put("1", "京卡挂失办法")
    push(search, ["1"])
    res = search.test_cli_runner().invoke(search_cli, ["process"])
    assert res.exit_code == 0 and "processed 1" in res.output
    assert public(search, "京卡") == ["京卡挂失办法"]


# ---------------------------------------------------------------- background jobs


class FakeJob:
    """Stands in for unionhub.jobs.context.JobContext: records progress calls."""

    def __init__(self, app: Flask, **params: object) -> None:
        self.app, self.params = app, params
        self.calls: list[tuple[int, int | None]] = []

    def progress(self, done: int, total: int | None = None, message: str | None = None,
                 *, force: bool = False) -> None:
        self.calls.append((done, total))


def test_queue_and_rebuild_jobs(search: Flask, store: Store) -> None:
    from unionhub.search.jobs import SEARCH_BEAT, SEARCH_JOBS, run_queue, run_rebuild

    assert {j.key for j in SEARCH_JOBS} == {"search_queue", "search_rebuild"}
    assert SEARCH_BEAT[0].job == "search_queue"
    store.put("1", "京卡挂失办法")
    push(search, ["1"])
    assert run_queue(FakeJob(search)) == {"acquired": True, "processed": 1, "upserted": 1,
                                          "deleted": 0, "failed": 0}
    assert public(search, "京卡") == ["京卡挂失办法"]

    job = FakeJob(search, doc_types=[NOTICE])
    store.put("2", "京卡补卡办法")
    assert run_rebuild(job) == {"written": 2}
    assert job.calls[0] == (0, 2) and job.calls[-1] == (2, 2)
    assert sorted(public(search, "京卡")) == sorted(["京卡挂失办法", "京卡补卡办法"])
