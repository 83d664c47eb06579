"""SMS: a provider interface and an HTTP provider.

The HTTP contract (an SMS gateway or a thin adapter in front of a vendor's SDK):
``POST <sms_url>`` with ``Authorization: Bearer <sms_key>`` and JSON
``{"mobile": "13800000000", "content": "【签名】text", "sign": "签名"}``. HTTP 200 with
``{"id": "..."}`` is sent; 400/422 is permanent (bad number, refused content); 429 is the
provider's quota (``Retry-After`` seconds, else until tomorrow); 5xx or no answer is retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx


class SmsError(Exception):
    def __init__(self, reason: str, *, permanent: bool = False, quota: bool = False,
                 retry_after: float | None = None, maybe_sent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.quota = quota
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent


class SmsProvider(Protocol):
    def send(self, mobile: str, text: str) -> str:
        """Send one SMS; return the provider's message id or raise :class:`SmsError`."""


@dataclass
class HttpSmsProvider:
    url: str
    key: str
    sign: str
    http: httpx.Client

    def send(self, mobile: str, text: str) -> str:
        content = f"【{self.sign}】{text}" if self.sign else text
        try:
            r = self.http.post(self.url, json={"mobile": mobile, "content": content,
                                               "sign": self.sign},
                               headers={"Authorization": f"Bearer {self.key}"})
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise SmsError(exc.__class__.__name__) from exc
        except httpx.HTTPError as exc:
            raise SmsError(exc.__class__.__name__, maybe_sent=True) from exc
        if r.status_code == 200:
            try:
                return str(r.json().get("id", ""))
            except ValueError:
                return ""
        reason = f"HTTP {r.status_code}: {r.text[:100]}"
        if r.status_code == 429:
            after = r.headers.get("Retry-After")
            raise SmsError(reason, quota=True,
                           retry_after=float(after) if after and after.isdigit() else None)
        if r.status_code in (400, 403, 404, 422):
            raise SmsError(reason, permanent=True)
        raise SmsError(reason)
