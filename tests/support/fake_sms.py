"""A local SMS gateway speaking the contract of :mod:`unionhub.notify.sms`."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.support.servers import LocalServer


@dataclass
class FakeSms:
    key: str = "sms-test-key"
    messages: list[dict[str, Any]] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)  # mobiles answered 400
    quota_after: int | None = None  # 429 once this many were accepted
    errors_first: int = 0  # 500 for the first K calls
    lock: threading.Lock = field(default_factory=threading.Lock)
    _seq: Any = field(default_factory=lambda: itertools.count(1))
    server: LocalServer | None = None

    def start(self) -> FakeSms:
        self.server = LocalServer(self.wsgi).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url + "/sms/send"

    def received(self) -> Counter[str]:
        with self.lock:
            return Counter(m["mobile"] for m in self.messages)

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = Request(environ)
        data = req.get_json(force=True, silent=True) or {}
        with self.lock:
            if req.headers.get("Authorization") != f"Bearer {self.key}":
                resp = Response("bad key", 403)
            elif self.errors_first > 0:
                self.errors_first -= 1
                resp = Response("busy", 500)
            elif data.get("mobile") in self.refused:
                resp = Response('{"error": "invalid mobile"}', 400)
            elif self.quota_after is not None and len(self.messages) >= self.quota_after:
                resp = Response('{"error": "quota"}', 429, headers={"Retry-After": "120"})
            else:
                self.messages.append(dict(data))
                resp = Response(f'{{"id": "sms-{next(self._seq)}"}}',
                                mimetype="application/json")
        return resp(environ, start_response)
