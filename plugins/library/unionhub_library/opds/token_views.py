"""The "阅读App" page: a reader creates, lists and revokes app tokens for e-reader apps, and
the "我的" panel that links to it."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from markupsafe import Markup

from unionhub import db
from unionhub.access import service as access
from unionhub.i18n import _

from ..web import READ, bp, require_reader
from . import tokens

TEMPLATES = "library/opds"


def _page(issued: tokens.IssuedToken | None = None, error: str | None = None,
          name: str = "", status: int = 200) -> Any:
    account = require_reader()
    rows = tokens.active_tokens(db.session(), account.id)
    return render_template(f"{TEMPLATES}/tokens.html", tokens=rows, issued=issued,
                           error=error, name=name, max_active=tokens.MAX_ACTIVE,
                           opds_url=url_for("library.opds_root", _external=True),
                           active_tab="shelves"), status


@bp.route("/opds-tokens", methods=["GET", "POST"])
@login_required
def app_tokens() -> Any:
    """GET: the tokens and how to set up an app. POST: create one and show it, this once
    (the response is not stored: ``no-store`` for signed-in pages)."""
    account = require_reader()
    if request.method == "GET":
        return _page()
    s = db.session()
    name = request.form.get("name", "")
    try:
        issued = tokens.create(s, account, name)
        s.commit()
    except tokens.TokenError as exc:
        s.rollback()
        return _page(error=str(exc), name=name[:200], status=400)
    return _page(issued=issued)


@bp.route("/opds-tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def app_token_revoke(token_id: int) -> Any:
    account = require_reader()
    s = db.session()
    if tokens.revoke(s, account, token_id):
        s.commit()
        flash(_("令牌已撤销，使用它的阅读App将无法再访问书库"), "success")
    else:
        flash(_("没有找到这个令牌，它可能已被撤销"), "error")
    return redirect(url_for("library.app_tokens"))


def app_panel(member: Any = None, account: Any = None, **_kw: Any) -> Markup | None:
    """阅读App on "我的": how many apps are connected, and the link to set one up."""
    if account is None or not access.can(account, READ):
        return None
    count = len(tokens.active_tokens(db.session(), account.id))
    return Markup(render_template(f"{TEMPLATES}/_panel.html", count=count))
