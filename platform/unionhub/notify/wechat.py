"""A small client for the WeChat Official Account API (template messages, OAuth openid).

Our own because ``wechatpy`` is unmaintained and hard-codes its URLs: the base URL is a
setting, so tests and benchmarks talk to a local fake.

The access token has one holder: the ``notify_state`` row ``wechat:token:<appid>``, shared
by every worker. It is obtained with ``POST /cgi-bin/stable_token`` (which hands every caller
the same token while it is valid, so two workers refreshing at once do not invalidate each
other). A process keeps a copy until it expires or WeChat rejects it; on 40001/40014/42001 it
first looks whether another worker already stored a newer token, refreshes only if not, and
retries the send once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from unionhub.notify import clock
from unionhub.notify.models import NotifyState

log = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
NOT_FOLLOWING = 43004
BAD_OPENID = 40003
QUOTA = 45009
BUSY = -1
FIELD_MAX = 20
#: Refresh this long before WeChat's own expiry, so a token never dies mid-request.
TOKEN_MARGIN = timedelta(minutes=5)


class WeChatError(Exception):
    def __init__(self, errcode: int, errmsg: str = "") -> None:
        super().__init__(f"{errcode} {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatTransportError(Exception):
    """No answer. ``maybe_sent`` is False when the request never left (connection
    refused/timed out), True when WeChat may have processed it (read timeout, dropped
    connection)."""

    def __init__(self, message: str, maybe_sent: bool) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


def mask_openid(openid: str | None) -> str:
    if not openid:
        return "-"
    return openid[:4] + "****" + openid[-4:] if len(openid) > 8 else "****"


def clean_field(value: Any) -> str:
    """A template field as WeChat accepts it: one line, at most 20 characters."""
    text = " ".join(str(value if value is not None else "").split())
    return text if len(text) <= FIELD_MAX else text[:FIELD_MAX - 1] + "…"


@dataclass
class _Cached:
    token: str
    expires_at: datetime


class WeChatClient:
    def __init__(self, engine: Engine, base_url: str, appid: str, secret: str, *,
                 timeout: float = 10.0, max_connections: int = 16) -> None:
        self.engine = engine
        self.base_url = base_url.rstrip("/")
        self.appid = appid
        self.secret = secret
        self.http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            limits=httpx.Limits(max_connections=max_connections,
                                max_keepalive_connections=max_connections))
        self._lock = threading.Lock()
        self._cached: _Cached | None = None

    @property
    def token_key(self) -> str:
        return f"wechat:token:{self.appid}"[:100]

    def close(self) -> None:
        self.http.close()

    # --- HTTP --------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        try:
            r = self.http.request(method, self.base_url + path, **kw)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise WeChatTransportError(f"{exc.__class__.__name__}", maybe_sent=False) from exc
        except httpx.HTTPError as exc:
            raise WeChatTransportError(f"{exc.__class__.__name__}", maybe_sent=True) from exc
        if r.status_code >= 500:
            raise WeChatTransportError(f"HTTP {r.status_code}", maybe_sent=True)
        try:
            data = r.json()
        except ValueError as exc:
            raise WeChatTransportError(f"HTTP {r.status_code}: not JSON",
                                       maybe_sent=True) from exc
        return data if isinstance(data, dict) else {}

    # --- the access token --------------------------------------------------------------

    def _stored(self) -> _Cached | None:
        with Session(self.engine) as s:
            row = s.execute(select(NotifyState.value, NotifyState.expires_at)
                            .where(NotifyState.key == self.token_key)).first()
        if row is None or not row[0] or row[1] is None or row[1] <= clock.now():
            return None
        return _Cached(row[0], row[1])

    def _store(self, token: str, expires_at: datetime) -> None:
        from unionhub.notify.service import dialect_insert

        with Session(self.engine) as s, s.begin():
            stmt = dialect_insert(s, NotifyState).values(
                key=self.token_key, value=token, expires_at=expires_at,
                updated_at=clock.now())
            s.execute(stmt.on_conflict_do_update(
                index_elements=["key"],
                set_={"value": token, "expires_at": expires_at, "updated_at": clock.now()}))

    def token(self) -> str:
        cached = self._cached
        if cached is not None and cached.expires_at > clock.now():
            return cached.token
        with self._lock:
            cached = self._stored()
            if cached is None:
                return self._refresh(force=False)
            self._cached = cached
            return cached.token

    def refresh(self, rejected: str) -> str:
        """Called when WeChat rejected ``rejected``: use a newer stored token if another
        worker already refreshed, else obtain a new one (forced: the old one is dead)."""
        with self._lock:
            stored = self._stored()
            if stored is not None and stored.token != rejected:
                self._cached = stored
                return stored.token
            return self._refresh(force=True)

    def _refresh(self, force: bool) -> str:
        data = self._call("POST", "/cgi-bin/stable_token", json={
            "grant_type": "client_credential", "appid": self.appid, "secret": self.secret,
            "force_refresh": force})
        if data.get("errcode") or not data.get("access_token"):
            raise WeChatError(int(data.get("errcode") or -2), str(data.get("errmsg", "")))
        expires_in = int(data.get("expires_in") or 7200)
        expires_at = clock.now() + timedelta(seconds=expires_in) - TOKEN_MARGIN
        token = str(data["access_token"])
        self._store(token, expires_at)
        self._cached = _Cached(token, expires_at)
        log.info("wechat access token refreshed (force=%s)", force)
        return token

    # --- API calls ---------------------------------------------------------------------

    def send_template(self, openid: str, template_id: str, fields: Mapping[str, Any],
                      url: str | None = None) -> str:
        """Send one template message; returns WeChat's msgid or raises WeChatError."""
        payload: dict[str, Any] = {
            "touser": openid, "template_id": template_id,
            "data": {k: {"value": clean_field(v)} for k, v in fields.items()},
        }
        if url:
            payload["url"] = url
        token = self.token()
        for attempt in (1, 2):
            data = self._call("POST", "/cgi-bin/message/template/send",
                              params={"access_token": token}, json=payload)
            code = int(data.get("errcode") or 0)
            if code == 0:
                return str(data.get("msgid", ""))
            if code in TOKEN_ERRORS and attempt == 1:
                token = self.refresh(token)
                continue
            raise WeChatError(code, str(data.get("errmsg", "")))
        raise AssertionError("unreachable")

    def oauth_openid(self, code: str) -> str:
        """Exchange an OAuth ``code`` (snsapi_base) for the member's openid."""
        data = self._call("GET", "/sns/oauth2/access_token", params={
            "appid": self.appid, "secret": self.secret, "code": code,
            "grant_type": "authorization_code"})
        if data.get("errcode") or not data.get("openid"):
            raise WeChatError(int(data.get("errcode") or -2), str(data.get("errmsg", "")))
        return str(data["openid"])


def client_for(app: Flask, base_url: str, appid: str, secret: str, timeout: float = 10.0,
               max_connections: int = 16) -> WeChatClient:
    """One client (and connection pool) per app and configuration."""
    clients: dict[tuple[str, str, str, float], WeChatClient] = app.extensions.setdefault(
        "notify_wechat_clients", {})
    key = (base_url, appid, secret, timeout)
    with _clients_lock:
        c = clients.get(key)
        if c is None:
            c = clients[key] = WeChatClient(app.extensions["db"].engine, base_url, appid,
                                            secret, timeout=timeout,
                                            max_connections=max_connections)
        return c


_clients_lock = threading.Lock()
