"""The web shell: sessions, CSRF, i18n, template helpers, error pages and blueprints."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, abort, jsonify, redirect, render_template, request, url_for
from flask_babel import Babel, get_locale
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from unionhub import db
from unionhub.access import service as access
from unionhub.identity.models import Account
from unionhub.plugins.discovery import PluginError
from unionhub.plugins.registry import CORE
from unionhub.web.pagination import page_url

log = logging.getLogger(__name__)
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录"
login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(user_id: str) -> Account | None:
    if request.path.startswith("/api/"):
        return None  # the API authenticates by bearer token only, never by cookie
    try:
        account_id, version = (int(p) for p in user_id.split(":"))
    except ValueError:
        return None
    acc = db.session().get(Account, account_id)
    if acc is None or not acc.is_active or acc.session_version != version:
        return None
    return acc


@login_manager.request_loader
def _load_user_from_token(req: Any) -> Account | None:
    if not req.path.startswith("/api/"):
        return None
    scheme, _, token = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    from unionhub.api.tokens import resolve

    return resolve(db.session(), token.strip())


def select_locale() -> str:
    from flask import current_app

    lang = request.cookies.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


class SlotError(LookupError):
    pass


def render_slot(name: str, **ctx: Any) -> Markup:
    """Render every contribution to a declared slot, in priority order."""
    from flask import current_app

    reg = current_app.extensions["unionhub"].registries
    if name not in reg.slots:
        raise SlotError(f"template slot {name!r} is declared by no plugin")
    parts: list[str] = []
    for plugin, contrib in reg.slot_contribs.get(name, []):
        if plugin != CORE and not current_app.extensions["unionhub"].state.enabled(plugin):
            continue
        try:
            out = contrib.render(**ctx)
        except Exception:
            if current_app.config.get("TESTING"):
                raise
            log.exception("slot %s: contribution %s.%s failed", name, plugin, contrib.key)
            continue
        if out:
            parts.append(out if isinstance(out, Markup) else Markup.escape(out))
    return Markup("\n").join(parts)


def nav_items(menu: str) -> list[Any]:
    from flask import current_app

    reg = current_app.extensions["unionhub"].registries
    perms = access.permissions_of(current_user) if current_user.is_authenticated else set()
    out = []
    for _plugin, item in reg.nav.get(menu, []):
        if item.permission and item.permission not in perms:
            continue
        if item.permission is None and menu != "main" and not current_user.is_authenticated:
            continue
        if item.visible is not None and not item.visible():
            continue
        out.append(item)
    return out


def can(permission: str, org: Any = None) -> bool:
    return current_user.is_authenticated and access.can(current_user, permission, org)


class BoundedInt(IntegerConverter):
    """``<int:…>`` limited to what a database integer holds: a larger id is a 404, not an
    overflow deep in the driver. Primary keys are ``INTEGER`` (32-bit on PostgreSQL)."""

    MAX = 2**31 - 1

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", self.MAX)
        super().__init__(map, *args, **kwargs)


def id_arg(raw: str | None) -> int | None:
    """A form or query value as a database id (1 … :attr:`BoundedInt.MAX`), or None: only
    ASCII digits (``str.isdigit`` also accepts ``²``, which ``int`` refuses) and nothing a
    database integer cannot hold."""
    raw = (raw or "").strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        return None
    value = int(raw)
    return value if 0 < value <= BoundedInt.MAX else None


def init_web(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedInt
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    Babel(app, locale_selector=select_locale)
    csrf.init_app(app)
    login_manager.init_app(app)

    from unionhub.web import formatting

    formatting.register(app)
    app.jinja_env.globals.update(slot=render_slot, nav_items=nav_items, can=can,
                                  get_locale=get_locale, page_url=page_url)
    ext = app.extensions["unionhub"]

    @app.before_request
    def _guard() -> Any:
        bp = request.blueprint
        owner = ext.registries.blueprint_owner.get(bp or "")
        if owner is not None and not ext.state.enabled(owner):
            abort(404)
        if (
            current_user.is_authenticated
            and current_user.must_change_password
            and request.endpoint not in {"auth.change_password", "auth.logout", "static",
                                         "web.set_language"}
        ):
            return redirect(url_for("auth.change_password"))
        return None

    @app.after_request
    def _headers(resp: Any) -> Any:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if current_user.is_authenticated:
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    def _error(exc: HTTPException) -> Any:
        code = exc.code or 500
        if request.path.startswith("/api/"):
            name = (exc.name or "error").lower().replace(" ", "_")
            return jsonify(error={"code": name, "message": exc.description}), code
        return render_template("errors/error.html", code=code, error=exc), code

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        return render_template("errors/error.html", code=400, error=exc,
                               message="页面已过期，请刷新后重试"), 400

    for code in (400, 401, 403, 404, 405, 413, 415, 429):
        app.register_error_handler(code, _error)

    @app.errorhandler(500)
    def _server_error(exc: Any) -> Any:
        db.session().rollback()
        if request.path.startswith("/api/"):
            return jsonify(error={"code": "server_error", "message": "服务器出错"}), 500
        return render_template("errors/error.html", code=500, error=exc), 500

    from unionhub.admin.views import bp as admin_bp
    from unionhub.api.views import bp as api_bp
    from unionhub.auth.views import bp as auth_bp
    from unionhub.groups.views import bp as groups_bp
    from unionhub.imports.views import bp as imports_bp
    from unionhub.jobs.views import bp as jobs_bp
    from unionhub.notify.views import bp as notify_bp
    from unionhub.search.views import search_bp
    from unionhub.web.office import bp as office_bp
    from unionhub.web.views import bp as web_bp
    from unionhub.workdays.views import bp as workdays_bp

    for bp in (web_bp, auth_bp, office_bp, admin_bp, jobs_bp, imports_bp, api_bp,
               workdays_bp, search_bp, notify_bp, groups_bp):
        app.register_blueprint(bp)
    csrf.exempt(api_bp)  # token-authenticated; cookies are ignored under /api/
    for _plugin, prefix, bp in ext.registries.blueprints:
        app.register_blueprint(bp, url_prefix=prefix)
        if prefix.startswith("/api/"):
            csrf.exempt(bp)
    endpoints = set(app.view_functions)
    for items in ext.registries.nav.values():
        for plugin, item in items:
            if item.endpoint not in endpoints:
                raise PluginError(f"插件 {plugin}: nav item {item.key} points to unknown "
                                  f"endpoint {item.endpoint}")
