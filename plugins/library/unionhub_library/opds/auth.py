"""Who is asking, for OPDS feeds and for file downloads made by e-reader apps.

Apps authenticate with HTTP Basic carrying an app token (:mod:`.tokens`); a member signed in
on the web may also look at the feeds in a browser. Basic credentials, when present, are
authoritative: a wrong token is a 401 even for a browser that also has a session.
"""

from __future__ import annotations

from flask import Request, Response, url_for
from flask_login import current_user

from unionhub import db
from unionhub.i18n import _
from unionhub.identity.models import Account

from . import tokens

#: ASCII only: header values are Latin-1, and several apps show the realm verbatim.
REALM = "UnionHub Library OPDS"


def has_basic_auth(request: Request) -> bool:
    """The request carries an ``Authorization: Basic …`` header (well-formed or not)."""
    return request.headers.get("Authorization", "").split(" ", 1)[0].lower() == "basic"


def account_from_basic_auth(request: Request) -> Account | None:
    """The account of the app token sent over HTTP Basic (user name = the token's prefix,
    password = the token), or None when there is none or it is wrong, revoked or its
    account disabled. Never checks a member's password.

    For any endpoint an e-reader app calls (feeds, downloads): call it when
    ``current_user`` is anonymous, and answer ``None`` with :func:`challenge`.
    """
    auth = request.authorization
    if auth is None or auth.type != "basic":
        return None
    return tokens.resolve(db.session(), auth.username or "", auth.password or "")


def request_account(request: Request) -> Account | None:
    """The OPDS viewer: the app token's account if Basic credentials are sent, else the
    signed-in web user, else None."""
    if has_basic_auth(request):
        return account_from_basic_auth(request)
    if current_user.is_authenticated:
        account: Account = current_user._get_current_object()  # type: ignore[attr-defined]
        return account
    return None


def challenge(message: str = "") -> Response:
    """401 asking for Basic credentials (plain text: apps show it as is)."""
    text = message or _("请用“阅读App”页面（%(url)s）创建的令牌登录，不要使用登录密码",
                        url=url_for("library.app_tokens", _external=True))
    resp = Response(text + "\n", status=401, mimetype="text/plain")
    resp.headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    resp.headers["Cache-Control"] = "no-store"
    return resp
