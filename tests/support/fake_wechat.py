"""A local stand-in for the WeChat Official Account API (never the real one in tests).

It records every template message it accepts and can be told to fail in each documented
way: 40001 once, 42001 (expired token), 43004 / 40003 for given openids, 45009 after N
messages, -1 for the first K calls, slow responses. Fields over 20 characters or with line
breaks are refused (47003), as WeChat does.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.support.servers import LocalServer


@dataclass
class FakeWeChat:
    appid: str = "wx-test-appid"
    secret: str = "wx-test-secret"
    messages: list[dict[str, Any]] = field(default_factory=list)
    send_calls: int = 0
    token_calls: list[dict[str, Any]] = field(default_factory=list)
    token: str = "TOKEN-1"
    expired: bool = False
    fail_token_once: bool = False
    unfollowed: set[str] = field(default_factory=set)
    invalid: set[str] = field(default_factory=set)
    quota_after: int | None = None
    busy_first: int = 0
    delay: float = 0.0
    oauth_codes: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _seq: Any = field(default_factory=lambda: itertools.count(1000))
    _tokens: Any = field(default_factory=lambda: itertools.count(2))
    server: LocalServer | None = None

    # --- control -------------------------------------------------------------------------

    def start(self) -> FakeWeChat:
        self.server = LocalServer(self.wsgi).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def received(self) -> Counter[str]:
        with self.lock:
            return Counter(m["touser"] for m in self.messages)

    # --- the API -------------------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = Request(environ)
        if req.path == "/cgi-bin/stable_token":
            body = self._stable_token(req.get_json(force=True, silent=True) or {})
        elif req.path == "/cgi-bin/message/template/send":
            body = self._send(req.args.get("access_token", ""),
                              req.get_json(force=True, silent=True) or {})
        elif req.path == "/sns/oauth2/access_token":
            code = req.args.get("code", "")
            openid = self.oauth_codes.pop(code, None)
            body = ({"openid": openid, "access_token": "oauth", "expires_in": 7200}
                    if openid else {"errcode": 40029, "errmsg": "invalid code"})
        else:
            return Response("not found", 404)(environ, start_response)
        resp = Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")
        return resp(environ, start_response)

    def _stable_token(self, data: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.token_calls.append(dict(data))
            if data.get("appid") != self.appid or data.get("secret") != self.secret:
                return {"errcode": 40125, "errmsg": "invalid appsecret"}
            if data.get("force_refresh") or self.expired:
                self.token = f"TOKEN-{next(self._tokens)}"
                self.expired = False
            return {"access_token": self.token, "expires_in": 7200}

    def _send(self, token: str, data: dict[str, Any]) -> dict[str, Any]:
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.send_calls += 1
            if self.fail_token_once:
                self.fail_token_once = False
                self.token = f"TOKEN-{next(self._tokens)}"  # someone invalidated ours
                return {"errcode": 40001, "errmsg": "invalid credential"}
            if token != self.token:
                return {"errcode": 40001, "errmsg": "invalid credential"}
            if self.expired:
                return {"errcode": 42001, "errmsg": "access_token expired"}
            if self.busy_first > 0:
                self.busy_first -= 1
                return {"errcode": -1, "errmsg": "system error"}
            openid = str(data.get("touser", ""))
            if openid in self.invalid:
                return {"errcode": 40003, "errmsg": "invalid openid"}
            if openid in self.unfollowed:
                return {"errcode": 43004, "errmsg": "require subscribe"}
            if self.quota_after is not None and len(self.messages) >= self.quota_after:
                return {"errcode": 45009, "errmsg": "reach max api daily quota limit"}
            for v in (data.get("data") or {}).values():
                value = str(v.get("value", ""))
                if len(value) > 20 or "\n" in value:
                    return {"errcode": 47003, "errmsg": "argument invalid"}
            msgid = next(self._seq)
            self.messages.append({**data, "msgid": msgid})
            return {"errcode": 0, "errmsg": "ok", "msgid": msgid}
