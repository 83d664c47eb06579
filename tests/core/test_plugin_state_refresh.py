"""The run-time plugin state is re-read by one thread at a time: a burst of request threads
whose cache expired together must not each open a second connection (that drained the pool
under load)."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Any


def test_one_refresh_at_a_time_under_a_burst_of_threads(make_app) -> None:
    make_app.set_plugin("sample", True)
    app = make_app()
    state = app.extensions["unionhub"].state
    db = app.extensions["db"]
    real_factory = db.factory
    active = 0
    peak = 0
    lock = threading.Lock()

    @contextmanager
    def slow_factory() -> Any:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        try:
            time.sleep(0.05)
            with real_factory() as s:
                yield s
        finally:
            with lock:
                active -= 1

    db.factory = slow_factory
    assert "sample" in state.loaded
    answers: list[bool] = []
    try:
        state.invalidate()
        threads = [threading.Thread(target=lambda: answers.append(state.enabled("sample")))
                   for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        db.factory = real_factory
    assert len(answers) == 16
    assert peak == 1


def test_a_disabled_plugin_is_seen_after_the_ttl(make_app) -> None:
    make_app.set_plugin("sample", True)
    app = make_app()
    state = app.extensions["unionhub"].state
    assert state.enabled("sample")
    make_app.set_plugin("sample", False)
    state.invalidate()
    assert not state.enabled("sample")
