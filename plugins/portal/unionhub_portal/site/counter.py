"""Article views, counted in memory and written in batches.

A page view used to cost an ``UPDATE`` and a commit of its own — a third of the article
page's database round trips, and a write on every read. Now each process keeps the views it
served (article id → views, per app) and adds them to ``view_count`` in one transaction
(:func:`.service.add_views`, additive, so processes never overwrite each other):

* by a flusher thread every :data:`FLUSH_SECONDS` (config ``PORTAL_VIEW_FLUSH_SECONDS``)
  while views wait — it starts with the first view and ends when none wait;
* at once when :data:`MAX_PENDING` distinct articles wait;
* when the process exits normally (gunicorn's graceful stop and restart, ``unionhub serve``);
* whenever :func:`flush_views` is called (tests, the benchmark).

A batch that fails to be written is put back and written with the next one, so no view is
lost while the process lives. Pages show the stored count plus the views this process still
holds (:func:`pending_views`); other processes' waiting views appear within the interval.
A process killed outright (``SIGKILL``, a crash) loses the views it had not yet written — at
most :data:`FLUSH_SECONDS` of its traffic. ``PORTAL_VIEW_FLUSH_SECONDS = 0`` writes every
view in the request, as before (one ``UPDATE`` and commit per view).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from collections import Counter
from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy.orm import Session

from . import service

log = logging.getLogger(__name__)

#: Seconds a view waits in memory at most before it is written (config
#: ``PORTAL_VIEW_FLUSH_SECONDS``; 0 writes each view in its request).
FLUSH_SECONDS = 5.0
#: Distinct articles waiting that make the flusher write at once.
MAX_PENDING = 5000
#: Failed writes in a row after which the flusher thread rests until the next view.
MAX_FAILURES = 3


class ViewCounter:
    """The views one process has served for one app and not yet written."""

    def __init__(self, factory: Callable[[], Session], interval: float) -> None:
        self.factory = factory
        self.interval = interval
        self._lock = threading.Lock()
        #: Held while a batch is written: one batch at a time, and the exit's flush waits
        #: for the flusher thread's batch (a daemon thread is stopped dead at exit).
        self._writing = threading.Lock()
        self._counts: Counter[int] = Counter()
        self._pid = os.getpid()
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()

    def add(self, article_id: int) -> None:
        """One view of ``article_id`` (written within :attr:`interval` seconds)."""
        with self._lock:
            self._own()
            self._counts[article_id] += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="portal-views",
                                                daemon=True)
                self._thread.start()
            if len(self._counts) >= MAX_PENDING:
                self._wake.set()

    def _own(self) -> None:
        """In a forked child, forget the parent's views (the parent writes them) and its
        thread (not inherited). Called with the lock held."""
        if self._pid != os.getpid():
            self._counts = Counter()
            self._thread, self._pid = None, os.getpid()

    def pending(self, article_id: int) -> int:
        """Views of ``article_id`` this process holds, not yet written."""
        if self._pid != os.getpid():
            return 0
        return self._counts.get(article_id, 0)

    def flush(self) -> int:
        """Write the waiting views in one transaction; returns how many were written. On
        failure they wait again (and the error is raised)."""
        with self._writing:
            with self._lock:
                self._own()
                batch, self._counts = self._counts, Counter()
            if not batch:
                return 0
            try:
                with self.factory() as session:
                    service.add_views(session, batch)
                    session.commit()
            except BaseException:
                with self._lock:
                    self._counts.update(batch)
                raise
            return sum(batch.values())

    def _run(self) -> None:
        """Write the waiting views every :attr:`interval` seconds until none wait."""
        failures = 0
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush()
                failures = 0
            except Exception:
                failures += 1
                log.warning("portal: writing article views failed (%d in a row)", failures,
                            exc_info=True)
            with self._lock:
                if not self._counts or failures >= MAX_FAILURES:
                    self._thread = None  # the next view starts a new flusher
                    return


#: Every counter of this process, written once more when it exits.
_COUNTERS: weakref.WeakSet[ViewCounter] = weakref.WeakSet()
_CREATE = threading.Lock()


def _counter(app: Flask) -> ViewCounter:
    found: ViewCounter | None = app.extensions.get("portal_views")
    if found is None:
        with _CREATE:
            found = app.extensions.get("portal_views")
            if found is None:
                interval = float(app.config.get("PORTAL_VIEW_FLUSH_SECONDS", FLUSH_SECONDS))
                found = ViewCounter(app.extensions["db"].factory, interval)
                app.extensions["portal_views"] = found
                _COUNTERS.add(found)
    return found


def count_view(session: Session, article_id: int) -> None:
    """One view of ``article_id`` in this request: kept for the next batch, or — with
    ``PORTAL_VIEW_FLUSH_SECONDS = 0`` — written now with the request's ``session`` (the
    caller commits)."""
    counter = _counter(current_app)
    if counter.interval <= 0:
        service.add_views(session, {article_id: 1})
    else:
        counter.add(article_id)


def pending_views(article_id: int) -> int:
    """Views of ``article_id`` served by this process and not yet written."""
    return _counter(current_app).pending(article_id)


def flush_views(app: Flask) -> int:
    """Write ``app``'s waiting views now; returns how many."""
    return _counter(app).flush()


@atexit.register
def _flush_at_exit() -> None:
    for counter in list(_COUNTERS):
        try:
            counter.flush()
        except Exception:
            log.warning("portal: article views not written at exit", exc_info=True)
