"""Sign-in, lock-out, first sign-in, password change, sign-out, cookies, CSRF."""

from __future__ import annotations

from sqlalchemy import select

from tests.helpers import PASSWORD, add_member, csrf_token, login, post_form
from unionhub import db
from unionhub.audit.models import AuditLog
from unionhub.identity.models import Account
from unionhub.security.passwords import verify_password


def test_sign_in_by_card_mobile_id_and_username(app, world):
    p = world.people["m1"]
    for ident in (p.card_number, p.mobile, p.id_number, p.id_number.lower(),
                  " ".join([p.card_number[:4], p.card_number[4:]])):
        c = app.test_client()
        assert login(c, ident).status_code == 302, ident
        assert "张伟" in c.get("/me").get_data(as_text=True)
    c = app.test_client()
    assert login(c, "admin").status_code == 302


def test_same_message_for_unknown_user_and_wrong_password(app, world):
    a = login(app.test_client(), world.people["m1"].card_number, "wrong-pass1")
    b = login(app.test_client(), "6214680000000000000", "wrong-pass1")
    c = login(app.test_client(), "nobody", "wrong-pass1")
    msgs = []
    for r in (a, b, c):
        assert r.status_code == 401
        body = r.get_data(as_text=True)
        msgs.append("账号或密码错误" in body)
    assert all(msgs)


def test_lockout_after_repeated_failures(app, world):
    p = world.people["m2"]
    c = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(c, p.card_number, "bad-password1")
    r = login(c, p.card_number, PASSWORD)  # right password, but locked
    assert r.status_code == 401
    assert "尝试次数过多" in r.get_data(as_text=True)
    # unknown identifiers lock the same way, so lock-out reveals nothing
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(c, "ghost-user", "bad-password1")
    assert "尝试次数过多" in login(c, "ghost-user", "x").get_data(as_text=True)
    with app.app_context():
        n = db.session().scalars(select(AuditLog).where(
            AuditLog.action == "auth.login_failed")).all()
        assert len(n) >= app.config["LOGIN_MAX_FAILURES"]


def test_first_login_sets_password_after_identity_check(app, world):
    with app.app_context():
        p = add_member(world.orgs["g1"], "新会员", password=None)
    c = app.test_client()
    assert login(c, p.card_number, "anything1").status_code == 401
    bad = post_form(c, "/auth/first-login", {
        "card_number": p.card_number, "id_number": p.id_number, "mobile": "13000000000",
        "password": "Newpass123", "confirm": "Newpass123"})
    assert bad.status_code == 400 and "信息不匹配" in bad.get_data(as_text=True)
    weak = post_form(c, "/auth/first-login", {
        "card_number": p.card_number, "id_number": p.id_number, "mobile": p.mobile,
        "password": "12345678", "confirm": "12345678"})
    assert weak.status_code == 400
    ok = post_form(c, "/auth/first-login", {
        "card_number": p.card_number, "id_number": p.id_number, "mobile": p.mobile,
        "password": "Newpass123", "confirm": "Newpass123"})
    assert ok.status_code == 302
    assert "新会员" in c.get("/me").get_data(as_text=True)
    # cannot be used again to take over the account
    again = post_form(app.test_client(), "/auth/first-login", {
        "card_number": p.card_number, "id_number": p.id_number, "mobile": p.mobile,
        "password": "Other12345", "confirm": "Other12345"})
    assert again.status_code == 400


def test_password_change_signs_out_other_sessions(app, world):
    p = world.people["m1"]
    a, b = app.test_client(), app.test_client()
    login(a, p.card_number)
    login(b, p.card_number)
    r = post_form(a, "/auth/password", {"current": PASSWORD, "password": "Brandnew123",
                                        "confirm": "Brandnew123"})
    assert r.status_code == 302
    assert a.get("/me").status_code == 200  # this session carries on
    assert b.get("/me").status_code == 302  # the other was signed out
    assert login(app.test_client(), p.card_number, "Brandnew123").status_code == 302
    with app.app_context():
        acc = db.session().get(Account, p.account_id)
        assert verify_password(acc.password_hash, "Brandnew123")
        assert acc.password_hash.startswith("$argon2")


def test_must_change_password_is_enforced(app, world):
    with app.app_context():
        db.session().get(Account, world.officers["clerk"]).must_change_password = True
        db.session().commit()
    c = app.test_client()
    login(c, "clerk")
    r = c.get("/office/")
    assert r.status_code == 302 and "/auth/password" in r.headers["Location"]


def test_logout_requires_post_with_csrf(app, world):
    c = app.test_client()
    login(c, "admin")
    assert c.post("/auth/logout").status_code == 400  # no CSRF token
    assert c.get("/me").status_code == 200
    token = csrf_token(c, "/me")
    assert c.post("/auth/logout", data={"csrf_token": token}).status_code == 302
    assert c.get("/me").status_code == 302


def test_forms_without_csrf_token_are_refused(app, world):
    c = app.test_client()
    r = c.post("/auth/login", data={"identifier": "admin", "password": PASSWORD})
    assert r.status_code == 400


def test_session_cookie_flags(app, world):
    c = app.test_client()
    r = login(c, "admin")
    cookie = next(h for h in r.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_open_redirect_refused(app, world):
    c = app.test_client()
    token = csrf_token(c, "/auth/login")
    r = c.post("/auth/login?next=https://evil.example/x",
               data={"csrf_token": token, "identifier": "admin", "password": PASSWORD})
    assert r.status_code == 302 and "evil" not in r.headers["Location"]
