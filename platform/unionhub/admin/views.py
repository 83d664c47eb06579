"""Admin pages: home, plugins, orgs, roles and grants, audit log, settings."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired

from unionhub import db
from unionhub.access import service as access
from unionhub.access.models import RoleGrant
from unionhub.audit import service as audit
from unionhub.audit.models import AuditLog
from unionhub.identity.models import Account
from unionhub.orgs import service as orgs
from unionhub.orgs.models import LEVEL_LABELS, Org, OrgLevel
from unionhub.plugins import state as plugin_state
from unionhub.plugins.discovery import PluginError
from unionhub.settings import service as settings
from unionhub.web.formatting import SHANGHAI
from unionhub.web.pagination import paginate

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _signed_in() -> None:
    return None


@bp.route("/")
def home() -> Any:
    access.require("core.plugins.manage")
    return render_template("admin/home.html")


# --- plugins -----------------------------------------------------------------------------

class EmptyForm(FlaskForm):
    pass


@bp.route("/plugins")
def plugins() -> Any:
    access.require("core.plugins.manage")
    ext = current_app.extensions["unionhub"]
    s = db.session()
    records = {r.name: r for r in s.scalars(select(plugin_state.PluginRecord))}
    return render_template("admin/plugins.html", installed=ext.installed, records=records,
                           loaded=set(ext.loaded),
                           form=EmptyForm())


@bp.route("/plugins/<name>/<action>", methods=["POST"])
def plugin_action(name: str, action: str) -> Any:
    access.require("core.plugins.manage")
    if action not in ("enable", "disable") or not EmptyForm().validate_on_submit():
        abort(400)
    ext = current_app.extensions["unionhub"]
    s = db.session()
    try:
        change = plugin_state.set_enabled(s, ext.installed, name, action == "enable")
    except PluginError as exc:
        s.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.plugins"))
    audit.record(f"plugin.{action}", target_type="plugin", target_id=name)
    s.commit()
    ext.state.invalidate()
    if change.message == "unchanged":
        flash(_("插件 %(name)s 状态未变", name=name), "info")
    elif change.enabled:
        flash(_("插件 %(name)s 已启用，重启平台后完全生效", name=name), "success")
    else:
        flash(_("插件 %(name)s 已停用，重启平台后完全生效", name=name), "success")
    return redirect(url_for("admin.plugins"))


@bp.route("/plugins/<name>/uninstall", methods=["POST"])
def plugin_uninstall(name: str) -> Any:
    """Forget a disabled plugin; with ``purge`` (and the confirmation box) drop its data."""
    from unionhub.plugins import uninstall

    access.require("core.plugins.manage")
    if not EmptyForm().validate_on_submit():
        abort(400)
    purge = request.form.get("purge") == "on"
    if purge and request.form.get("confirm") != name:
        flash(_("删除数据需要在确认框中输入插件名 %(name)s", name=name), "error")
        return redirect(url_for("admin.plugins"))
    ext = current_app.extensions["unionhub"]
    # End this request's read transaction first: dropping a plugin's tables needs exclusive
    # locks on the core tables they reference, which an open transaction here would hold.
    db.session().commit()
    try:
        p = uninstall.plan(db.get_db().engine, ext.installed, name, purge)
        uninstall.execute(db.get_db(), p)
    except (uninstall.UninstallError, PluginError) as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.plugins"))
    ext.state.invalidate()
    flash(_("%(steps)s。已完成", steps="；".join(p.describe())), "success")
    return redirect(url_for("admin.plugins"))


# --- orgs --------------------------------------------------------------------------------

class OrgForm(FlaskForm):
    code = StringField("工会组织代码", validators=[DataRequired()])
    name = StringField("工会组织名称", validators=[DataRequired()])
    level = SelectField("层级", choices=[(k.value, v) for k, v in LEVEL_LABELS.items()])
    parent_id = SelectField("上级组织", coerce=int)
    agent_office = BooleanField("设有代办处")
    address = StringField("地址")
    contact = StringField("联系人")
    phone = StringField("联系电话")


class MoveForm(FlaskForm):
    parent_id = SelectField("新的上级组织", coerce=int)


def _orgs_in_scope(permission: str) -> list[Org]:
    return list(db.session().scalars(
        select(Org).where(access.scope_filter(current_user, permission, Org.path))
        .order_by(Org.path)))


@bp.route("/orgs", methods=["GET", "POST"], endpoint="orgs")
def orgs_page() -> Any:
    access.require("core.orgs.view")
    may_manage = access.can(current_user, "core.orgs.manage")
    tree = _orgs_in_scope("core.orgs.view")
    form = OrgForm()
    managed = _orgs_in_scope("core.orgs.manage") if may_manage else []
    form.parent_id.choices = [(0, "（无：市总工会）")] + [
        (o.id, f"{'　' * o.depth}{o.name}") for o in managed]
    if request.method == "POST":
        access.require("core.orgs.manage")
        if form.validate_on_submit():
            parent = (access.scoped_org(current_user, form.parent_id.data, "core.orgs.manage")
                      if form.parent_id.data else None)
            if parent is None and not access.can(current_user, "core.plugins.manage"):
                abort(403)  # only platform admins create a root
            s = db.session()
            try:
                orgs.create_org(s, code=form.code.data or "", name=form.name.data or "",
                                level=OrgLevel(form.level.data), parent=parent,
                                agent_office=form.agent_office.data,
                                address=form.address.data or None,
                                contact=form.contact.data or None, phone=form.phone.data or None)
                s.commit()
                flash(_("组织已创建"), "success")
                return redirect(url_for("admin.orgs"))
            except orgs.OrgError as exc:
                s.rollback()
                flash(str(exc), "error")
    return render_template("admin/orgs.html", tree=tree, form=form, may_manage=may_manage,
                           import_form=EmptyForm())



@bp.route("/orgs/<int:org_id>/move", methods=["GET", "POST"])
def move_org(org_id: int) -> Any:
    access.require("core.orgs.manage")
    org = access.scoped_org(current_user, org_id, "core.orgs.manage")
    form = MoveForm()
    form.parent_id.choices = [(o.id, f"{'　' * o.depth}{o.name}")
                              for o in _orgs_in_scope("core.orgs.manage")
                              if not o.path.startswith(org.path)]
    if form.validate_on_submit():
        parent = access.scoped_org(current_user, form.parent_id.data, "core.orgs.manage")
        s = db.session()
        try:
            orgs.move_org(s, org, parent)
            s.commit()
            flash(_("组织已移动，其下级组织一并移动"), "success")
            return redirect(url_for("admin.orgs"))
        except orgs.OrgError as exc:
            s.rollback()
            flash(str(exc), "error")
    return render_template("admin/org_move.html", org=org, form=form)


@bp.route("/orgs/import", methods=["POST"])
def import_orgs() -> Any:
    access.require("core.plugins.manage")
    if not EmptyForm().validate_on_submit():
        abort(400)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("请选择文件"), "error")
        return redirect(url_for("admin.orgs"))
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        flash(_("只支持 CSV 或 XLSX 文件"), "error")
        return redirect(url_for("admin.orgs"))
    s = db.session()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"orgs{suffix}"
        upload.save(path)
        result = orgs.import_orgs(s, path)
    if result.ok:
        audit.record("org.import", details={"created": result.created,
                                            "updated": result.updated, "moved": result.moved})
        s.commit()
    else:
        s.rollback()
    return render_template("admin/org_import.html", result=result)


# --- roles and grants --------------------------------------------------------------------

class GrantForm(FlaskForm):
    account = StringField("账号（用户名、卡号、手机号或身份证号）", validators=[DataRequired()])
    role = SelectField("角色")
    org_id = SelectField("在组织（含下级）", coerce=int)


@bp.route("/roles", methods=["GET", "POST"])
def roles() -> Any:
    access.require("core.roles.manage")
    reg = current_app.extensions["unionhub"].registries
    form = GrantForm()
    grantable = {n: r for n, r in reg.roles.items() if n != "member"}
    if not access.can(current_user, "core.plugins.manage"):
        grantable.pop("admin", None)  # only platform admins make admins
    form.role.choices = [(n, r.label) for n, r in grantable.items()]
    form.org_id.choices = [(o.id, f"{'　' * o.depth}{o.name}")
                           for o in _orgs_in_scope("core.roles.manage")]
    s = db.session()
    if form.validate_on_submit():
        from unionhub.auth.service import find_account

        org = access.scoped_org(current_user, form.org_id.data, "core.roles.manage")
        target = find_account(s, form.account.data or "")
        if target is None:
            flash(_("找不到该账号"), "error")
        elif s.scalar(select(RoleGrant.id).where(RoleGrant.account_id == target.id,
                                                 RoleGrant.role == form.role.data,
                                                 RoleGrant.org_id == org.id)):
            flash(_("该授权已存在"), "info")
        else:
            s.add(RoleGrant(account_id=target.id, role=form.role.data, org_id=org.id,
                            granted_by=current_user.id))
            audit.record("role.grant", target_type="account", target_id=target.id,
                         org_path=org.path, details={"role": form.role.data, "org": org.code})
            s.commit()
            flash(_("已授权"), "success")
            return redirect(url_for("admin.roles"))
    stmt = (select(RoleGrant, Account).join(Account, Account.id == RoleGrant.account_id)
            .join(Org, Org.id == RoleGrant.org_id)
            .where(access.scope_filter(current_user, "core.roles.manage", Org.path))
            .order_by(Org.path, RoleGrant.role))
    page = paginate(stmt, scalars=False)
    return render_template("admin/roles.html", roles=reg.roles, permissions=reg.permissions,
                           form=form, page=page, revoke_form=EmptyForm())


@bp.route("/roles/grants/<int:grant_id>/revoke", methods=["POST"])
def revoke(grant_id: int) -> Any:
    access.require("core.roles.manage")
    if not EmptyForm().validate_on_submit():
        abort(400)
    s = db.session()
    grant = s.scalar(select(RoleGrant).join(Org, Org.id == RoleGrant.org_id).where(
        RoleGrant.id == grant_id,
        access.scope_filter(current_user, "core.roles.manage", Org.path)))
    if grant is None:
        abort(404)
    if grant.account_id == current_user.id and grant.role == "admin":
        flash(_("不能撤销自己的管理员角色"), "error")
        return redirect(url_for("admin.roles"))
    audit.record("role.revoke", target_type="account", target_id=grant.account_id,
                 org_path=grant.org.path, details={"role": grant.role, "org": grant.org.code})
    s.delete(grant)
    s.commit()
    flash(_("已撤销授权"), "success")
    return redirect(url_for("admin.roles"))


# --- audit -------------------------------------------------------------------------------

@bp.route("/audit", endpoint="audit")
def audit_log() -> Any:
    access.require("core.audit.view")
    visible = access.scope_filter(current_user, "core.audit.view", AuditLog.org_path)
    if access.can(current_user, "core.plugins.manage"):
        visible = or_(visible, AuditLog.org_path.is_(None))  # platform-wide entries
    stmt = select(AuditLog).where(visible)
    action = request.args.get("action", "").strip()
    if action:
        stmt = stmt.where(AuditLog.action.startswith(action, autoescape=True))
    actor = request.args.get("actor", "").strip()
    if actor:
        stmt = stmt.where(AuditLog.actor_name.contains(actor, autoescape=True))
    for arg, op in (("since", ">="), ("until", "<")):
        raw = request.args.get(arg, "").strip()
        if raw:
            try:
                day = datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=SHANGHAI)
            except ValueError:
                flash(_("日期格式应为 YYYY-MM-DD: %(value)s", value=raw), "error")
                continue
            if op == ">=":
                stmt = stmt.where(AuditLog.at >= day)
            else:
                stmt = stmt.where(AuditLog.at < day + timedelta(days=1))
    page = paginate(stmt.order_by(AuditLog.id.desc()), per_page=50)
    return render_template("admin/audit.html", page=page, args=request.args)


# --- settings ----------------------------------------------------------------------------

@bp.route("/settings", methods=["GET", "POST"], endpoint="settings")
def settings_page() -> Any:
    access.require("core.settings.manage")
    reg = current_app.extensions["unionhub"].registries
    form = EmptyForm()
    errors: dict[str, str] = {}
    if request.method == "POST" and form.validate_on_submit():
        s = db.session()
        changed = []
        for key, (_plugin, sp) in reg.settings.items():
            if sp.type == "secret" and not request.form.get(key):
                continue  # blank secret field keeps the stored value
            raw: Any = (key in request.form) if sp.type == "bool" else request.form.get(key)
            if raw is None:
                continue
            try:
                if settings.get(key) != settings.coerce(sp, raw):
                    settings.put(key, raw)
                    changed.append(key)
            except settings.SettingError as exc:
                errors[key] = str(exc)
        if errors:
            s.rollback()
            flash(_("有设置未通过校验，未保存任何修改"), "error")
        else:
            if changed:
                audit.record("settings.update", details={"keys": changed})
            s.commit()
            flash(_("设置已保存") if changed else _("没有修改"), "success")
            return redirect(url_for("admin.settings"))
    values = {key: settings.get(key) for key in reg.settings}
    per_org = {key: sp for key, (_p, sp) in reg.settings.items() if sp.per_org}
    org_rows = []
    if per_org:
        names = dict(db.session().execute(select(Org.id, Org.name)).all())
        for key in per_org:
            org_rows += [(key, oid, names.get(oid, oid), v)
                         for oid, v in settings.overrides(key).items()]
    groups: dict[str, list[Any]] = {}
    for key, (plugin, sp) in reg.settings.items():
        groups.setdefault(plugin, []).append((key, sp))
    ext = current_app.extensions["unionhub"]
    titles = {"core": "平台", **{n: d.title for n, d in ext.installed.items()}}
    return render_template("admin/settings.html", groups=groups, titles=titles, values=values,
                           errors=errors, form=form, per_org=per_org, org_rows=org_rows,
                           orgs=_orgs_in_scope("core.settings.manage"))


@bp.route("/settings/org", methods=["POST"])
def org_setting() -> Any:
    """Set (or with ``clear``, remove) one org's override of a per-org setting."""
    access.require("core.settings.manage")
    if not EmptyForm().validate_on_submit():
        abort(400)
    reg = current_app.extensions["unionhub"].registries
    key = request.form.get("key", "")
    if key not in reg.settings or not reg.settings[key][1].per_org:
        abort(400)
    org = access.scoped_org(current_user, int(request.form.get("org_id", 0) or 0),
                            "core.settings.manage")
    s = db.session()
    if request.form.get("clear"):
        settings.clear(key, org.id)
        audit.record("settings.org_clear", org_path=org.path, details={"key": key})
        s.commit()
        flash(_("已删除该组织的设置，恢复使用上级或全站设置"), "success")
        return redirect(url_for("admin.settings"))
    try:
        settings.put(key, request.form.get("value", ""), org_id=org.id)
    except settings.SettingError as exc:
        s.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.settings"))
    audit.record("settings.org_update", org_path=org.path, details={"key": key})
    s.commit()
    flash(_("已为 %(org)s 保存设置", org=org.name), "success")
    return redirect(url_for("admin.settings"))

