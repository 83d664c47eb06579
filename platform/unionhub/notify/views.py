"""Notification pages: the inbox, channel preferences, WeChat binding, WeChat's event push
(delivery receipts) and the campaign progress for admins."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import delete, select
from wtforms import StringField
from wtforms.validators import DataRequired

from unionhub import db
from unionhub.access import service as access
from unionhub.audit import service as audit
from unionhub.identity import service as identity
from unionhub.identity.models import CardStatus, Member
from unionhub.identity.numbers import InvalidNumber, validate_mobile
from unionhub.notify import clock
from unionhub.notify import service as notify
from unionhub.notify.models import (
    OUTBOX_STATUS_LABELS,
    Notification,
    NotifyBatch,
    NotifyBinding,
    NotifyState,
)
from unionhub.notify.registry import registry
from unionhub.notify.settings import read
from unionhub.notify.types import INBOX
from unionhub.web.pagination import paginate

bp = Blueprint("notify", __name__, url_prefix="/notify")
OPENID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
STATE_TTL = timedelta(minutes=10)
MAX_BIND_FAILURES = 5


class BindForm(FlaskForm):
    card_number = StringField("京卡卡号", validators=[DataRequired()])
    id_number = StringField("身份证号", validators=[DataRequired()])
    mobile = StringField("登记的手机号", validators=[DataRequired()])


def _member() -> Member | None:
    return current_user.member if current_user.is_authenticated else None


def _require_member() -> Member:
    m = _member()
    if m is None:
        abort(403)
    return m


# --- inbox ---------------------------------------------------------------------------------


@bp.route("/")
@login_required
def inbox() -> Any:
    m = _member()
    page = None
    unread = 0
    if m is not None:
        page = paginate(select(Notification).where(Notification.member_id == m.id)
                        .order_by(Notification.id.desc()))
        unread = notify.unread_count(db.session(), m.id)
    return render_template("notify/inbox.html", page=page, unread=unread, form=FlaskForm())


@bp.route("/<int:nid>")
@login_required
def show(nid: int) -> Any:
    m = _require_member()
    s = db.session()
    n = s.scalar(select(Notification).where(Notification.id == nid,
                                            Notification.member_id == m.id))
    if n is None:
        abort(404)
    if n.read_at is None:
        notify.mark_read(s, m.id, [n.id])
        s.commit()
    return render_template("notify/show.html", n=n, form=FlaskForm())


@bp.route("/read", methods=["POST"])
@login_required
def mark_read() -> Any:
    m = _require_member()
    ids = [int(i) for i in request.form.getlist("id") if i.isdigit()]
    s = db.session()
    notify.mark_read(s, m.id, ids or None)
    s.commit()
    return redirect(url_for("notify.inbox"))


# --- preferences ---------------------------------------------------------------------------


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences() -> Any:
    m = _require_member()
    s = db.session()
    reg = registry()
    types = reg.choosable()
    form = FlaskForm()
    if request.method == "POST" and form.validate_on_submit():
        email = request.form.get("email", "").strip()
        if email and not EMAIL.match(email):
            flash(_("电子邮箱格式不正确"), "error")
            return redirect(url_for("notify.preferences"))
        other = s.scalar(select(NotifyBinding.member_id).where(
            NotifyBinding.channel == "email", NotifyBinding.address == email,
            NotifyBinding.member_id != m.id)) if email else None
        if other is not None:
            flash(_("该电子邮箱已被其他会员使用"), "error")
            return redirect(url_for("notify.preferences"))
        notify.set_binding(s, m.id, "email", email or None)
        chosen = {key: {ch for ch in nt.allowed_channels if request.form.get(f"c:{key}:{ch}")}
                  for key, nt in types}
        notify.set_preferences(s, m.id, chosen)
        s.commit()
        flash(_("通知设置已保存"), "success")
        return redirect(url_for("notify.preferences"))
    rows = [(key, nt, set(notify.channels_for(s, m.id, key))) for key, nt in types]
    channels = {k: spec.label for k, (_p, spec) in reg.channels.items()}
    wechat = notify.binding(s, m.id, "wechat")
    email = notify.binding(s, m.id, "email")
    return render_template("notify/preferences.html", rows=rows, channels=channels,
                           inbox=INBOX, wechat=wechat, email=email, form=form)


# --- WeChat binding ------------------------------------------------------------------------


def _state_key(state: str) -> str:
    return "bind:" + hashlib.sha256(state.encode()).hexdigest()[:40]


def _failures_key(member_id: int) -> str:
    return f"bindfail:{member_id}"


def _too_many_failures(member_id: int) -> bool:
    row = db.session().get(NotifyState, _failures_key(member_id))
    return bool(row and row.expires_at and row.expires_at > clock.now()
                and int(row.value or 0) >= MAX_BIND_FAILURES)


def _record_failure(member_id: int) -> None:
    s = db.session()
    row = s.get(NotifyState, _failures_key(member_id))
    now = clock.now()
    if row is None or row.expires_at is None or row.expires_at <= now:
        s.merge(NotifyState(key=_failures_key(member_id), value="1",
                            expires_at=now + timedelta(hours=1), updated_at=now))
    else:
        row.value = str(int(row.value or 0) + 1)
    s.commit()


def _matches(member: Member, form: BindForm) -> bool:
    """Card, ID number and mobile must all belong to the signed-in member."""
    lookup = identity.find_by_card(form.card_number.data or "")
    if lookup is None or lookup.member.id != member.id or lookup.card.status != CardStatus.ACTIVE:
        return False
    by_id = identity.find_by_id_number(form.id_number.data or "")
    if by_id is None or by_id.id != member.id:
        return False
    try:
        return validate_mobile(form.mobile.data or "") == member.mobile
    except InvalidNumber:
        return False


def _callback_url() -> str:
    base = str(read("public_url") or "").rstrip("/")
    path = url_for("notify.wechat_callback")
    return f"{base}{path}" if base else url_for("notify.wechat_callback", _external=True)


@bp.route("/wechat/bind", methods=["GET", "POST"])
@login_required
def wechat_bind() -> Any:
    m = _require_member()
    s = db.session()
    form = BindForm()
    if form.validate_on_submit():
        if _too_many_failures(m.id):
            flash(_("核对失败次数过多，请一小时后再试"), "error")
        elif not _matches(m, form):
            _record_failure(m.id)
            flash(_("京卡卡号、身份证号或手机号与会员档案不符"), "error")
        else:
            state = secrets.token_urlsafe(24)
            s.merge(NotifyState(key=_state_key(state), value=str(m.id),
                                expires_at=clock.now() + STATE_TTL, updated_at=clock.now()))
            s.commit()
            query = urlencode({"appid": str(read("wechat_appid") or ""),
                               "redirect_uri": _callback_url(), "response_type": "code",
                               "scope": "snsapi_base", "state": state})
            return redirect(f"{read('wechat_oauth_url')}?{query}#wechat_redirect")
    return render_template("notify/bind.html", form=form,
                           binding=notify.binding(s, m.id, "wechat"))


@bp.route("/wechat/callback")
@login_required
def wechat_callback() -> Any:
    """WeChat's OAuth redirect: the one-time ``state`` must have been issued to the signed-in
    member in the last 10 minutes; the openid comes from exchanging ``code`` (or, where the
    OAuth front end resolved it already, from ``openid``)."""
    m = _require_member()
    s = db.session()
    state = request.args.get("state", "")
    consumed = s.execute(delete(NotifyState).where(
        NotifyState.key == _state_key(state), NotifyState.value == str(m.id),
        NotifyState.expires_at > clock.now())).rowcount if state else 0
    s.commit()
    if consumed != 1:
        abort(400, description="绑定链接无效或已过期，请重新绑定")
    openid = request.args.get("openid", "")
    code = request.args.get("code", "")
    if code:
        from flask import current_app

        from unionhub.notify.wechat import WeChatError, WeChatTransportError, client_for

        client = client_for(current_app._get_current_object(),  # type: ignore[attr-defined]
                            str(read("wechat_base_url")), str(read("wechat_appid") or ""),
                            str(read("wechat_secret") or ""))
        try:
            openid = client.oauth_openid(code)
        except (WeChatError, WeChatTransportError):
            flash(_("微信授权失败，请重试"), "error")
            return redirect(url_for("notify.wechat_bind"))
    if not OPENID.match(openid):
        abort(400, description="微信授权结果无效")
    taken = s.scalar(select(NotifyBinding.member_id).where(
        NotifyBinding.channel == "wechat", NotifyBinding.address == openid))
    if taken is not None and taken != m.id:
        flash(_("该微信号已绑定其他会员的京卡"), "error")
        return redirect(url_for("notify.wechat_bind"))
    from unionhub.notify.wechat import mask_openid

    notify.set_binding(s, m.id, "wechat", openid)
    audit.record("notify.wechat.bind", target_type="member", target_id=m.id,
                 org_path=m.org.path, details={"openid": mask_openid(openid)}, session=s)
    s.commit()
    flash(_("微信绑定成功，今后的通知将通过公众号发送"), "success")
    return redirect(url_for("notify.preferences"))


@bp.route("/wechat/unbind", methods=["POST"])
@login_required
def wechat_unbind() -> Any:
    m = _require_member()
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    s = db.session()
    notify.set_binding(s, m.id, "wechat", None)
    audit.record("notify.wechat.unbind", target_type="member", target_id=m.id,
                 org_path=m.org.path, session=s)
    s.commit()
    flash(_("已解除微信绑定"), "success")
    return redirect(url_for("notify.preferences"))


@bp.route("/wechat/events", methods=["GET", "POST"])
def wechat_events() -> Any:
    """WeChat's server push (plain-text mode): URL verification and events."""
    from unionhub.notify import receipts

    return receipts.handle(request)


# --- campaigns (admins) --------------------------------------------------------------------


def _require_admin() -> None:
    if not current_user.is_authenticated or not access.can(current_user,
                                                           "core.plugins.manage"):
        abort(403)


@bp.route("/batches")
@login_required
def batches() -> Any:
    _require_admin()
    page = paginate(select(NotifyBatch).order_by(NotifyBatch.id.desc()))
    s = db.session()
    progress = {b.id: notify.progress(s, b.id) for b in page.items}
    reg = registry()
    labels = {k: nt.label for k, (_p, nt) in reg.types.items()}
    channels = {k: spec.label for k, (_p, spec) in reg.channels.items()}
    return render_template("notify/batches.html", page=page, progress=progress, labels=labels,
                           channels=channels, status_labels=OUTBOX_STATUS_LABELS)


@bp.route("/batches/<int:batch_id>.json")
@login_required
def batch_json(batch_id: int) -> Any:
    _require_admin()
    s = db.session()
    if s.get(NotifyBatch, batch_id) is None:
        abort(404)
    return jsonify(notify.progress(s, batch_id))


def _exempt_from_csrf() -> None:
    from unionhub.web import csrf

    csrf.exempt(wechat_events)  # WeChat's servers post here, signed with the shared token


_exempt_from_csrf()
