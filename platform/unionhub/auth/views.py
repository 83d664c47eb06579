"""Sign-in, first sign-in (setting a password), password change, sign-out."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from unionhub import db
from unionhub.audit import service as audit
from unionhub.auth.service import AuthError, authenticate, set_password
from unionhub.identity import service as identity
from unionhub.identity.models import Account, CardStatus, MemberStatus
from unionhub.identity.numbers import InvalidNumber, validate_mobile
from unionhub.security.passwords import password_problem, verify_password
from unionhub.web.urls import safe_next

bp = Blueprint("auth", __name__, url_prefix="/auth")


class LoginForm(FlaskForm):
    identifier = StringField("京卡卡号 / 手机号 / 身份证号", validators=[DataRequired()])
    password = PasswordField("密码", validators=[DataRequired()])


class FirstLoginForm(FlaskForm):
    card_number = StringField("京卡卡号", validators=[DataRequired()])
    id_number = StringField("身份证号", validators=[DataRequired()])
    mobile = StringField("登记的手机号", validators=[DataRequired()])
    password = PasswordField("设置密码", validators=[DataRequired(), Length(min=8, max=128)])
    confirm = PasswordField("确认密码", validators=[EqualTo("password", "两次输入的密码不一致")])


class ChangePasswordForm(FlaskForm):
    current = PasswordField("当前密码", validators=[DataRequired()])
    password = PasswordField("新密码", validators=[DataRequired(), Length(min=8, max=128)])
    confirm = PasswordField("确认新密码", validators=[EqualTo("password", "两次输入的密码不一致")])


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            account = authenticate(db.session(), form.identifier.data or "",
                                   form.password.data or "")
        except AuthError as exc:
            flash(exc.message, "error")
            return render_template("auth/login.html", form=form), 401
        login_user(account)
        return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/first-login", methods=["GET", "POST"])
def first_login() -> Any:
    """A member whose account has no password yet proves who they are with card, ID number
    and the mobile on record, then sets one."""
    form = FirstLoginForm()
    if form.validate_on_submit():
        s = db.session()
        found = identity.find_by_card(form.card_number.data or "", s)
        member = found.member if found and found.card.status == CardStatus.ACTIVE else None
        try:
            mobile = validate_mobile(form.mobile.data or "")
        except InvalidNumber:
            mobile = None
        by_id = identity.find_by_id_number(form.id_number.data or "", s)
        account = (
            s.query(Account).filter_by(member_id=member.id).one_or_none() if member else None
        )
        if (
            member is None
            or by_id is None
            or by_id.id != member.id
            or member.status != MemberStatus.ACTIVE
            or member.mobile != mobile
            or account is None
            or account.password_hash is not None
        ):
            flash(_("信息不匹配，或该账号已设置过密码。请核对后重试，或联系所在工会。"), "error")
            return render_template("auth/first_login.html", form=form), 400
        problem = password_problem(
            form.password.data or "",
            identifiers=(form.card_number.data or "", form.id_number.data or "", mobile or ""),
        )
        if problem:
            form.password.errors = [problem]
            return render_template("auth/first_login.html", form=form), 400
        set_password(s, account, form.password.data or "")
        s.commit()
        login_user(account)
        flash(_("密码已设置，欢迎使用"), "success")
        return redirect(url_for("web.home"))
    return render_template("auth/first_login.html", form=form)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        account: Account = current_user._get_current_object()  # type: ignore[attr-defined]
        if not verify_password(account.password_hash, form.current.data or ""):
            form.current.errors = ["当前密码不正确"]
        elif problem := password_problem(form.password.data or ""):
            form.password.errors = [problem]
        elif form.password.data == form.current.data:
            form.password.errors = ["新密码不能与当前密码相同"]
        else:
            s = db.session()
            set_password(s, account, form.password.data or "")
            s.commit()
            login_user(account)  # the session id carries the new version
            flash(_("密码已修改"), "success")
            return redirect(url_for("web.me"))
    return render_template("auth/password.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    audit.record("auth.logout", target_type="account", target_id=current_user.id)
    db.session().commit()
    logout_user()
    flash(_("已退出登录"), "success")
    return redirect(url_for("auth.login"))
