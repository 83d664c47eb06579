"""Public and member pages: home, 我的, language switch."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, make_response, redirect, render_template, request
from flask_login import current_user, login_required

from unionhub.web.urls import safe_next

bp = Blueprint("web", __name__)


@bp.route("/")
def home() -> Any:
    return render_template("home.html")


@bp.route("/me")
@login_required
def me() -> Any:
    return render_template("me.html", member=current_user.member, account=current_user)


@bp.route("/lang/<code>")
def set_language(code: str) -> Any:
    from flask import current_app

    resp = make_response(redirect(safe_next(request.referrer)))
    if code in current_app.config["LANGUAGES"]:
        resp.set_cookie("lang", code, max_age=365 * 86400, samesite="Lax", httponly=True)
    return resp
