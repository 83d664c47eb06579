"""App tokens for e-reader apps: made on the 阅读App page, shown once, stored as SHA-256 only,
revocable; OPDS accepts them over HTTP Basic and never the member's password."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from typing import Any

import time_machine
from sqlalchemy import select

from tests.helpers import PASSWORD, csrf_token, login, post_form

ROOT = "/library/opds/"
PAGE = "/library/opds-tokens"


def basic(username: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def issue_token(app: Any, account_id: int, name: str = "Kindle") -> tuple[str, str]:
    """(user name, password) of a new token of ``account_id``."""
    from unionhub import db
    from unionhub.identity.models import Account
    from unionhub_library.opds import tokens

    with app.app_context():
        s = db.session()
        issued = tokens.create(s, s.get(Account, account_id), name)
        s.commit()
        return issued.username, issued.password


def _token_rows(app: Any, account_id: int) -> list[Any]:
    from unionhub import db
    from unionhub_library.models import LibraryAppToken

    with app.app_context():
        rows = db.session().scalars(select(LibraryAppToken).where(
            LibraryAppToken.account_id == account_id).order_by(LibraryAppToken.id)).all()
        db.session().expunge_all()
        return list(rows)


def _shown(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}">') + len(element_id) + 6
    return html[start:html.index("<", start)]


def test_created_token_is_shown_once_and_stored_hashed(library: Any) -> None:
    m1 = library.world.people["m1"]
    client = library.app.test_client()
    login(client, m1.mobile)
    r = post_form(client, PAGE, {"name": "  我的 Kindle  "})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    username, password = _shown(html, "opds-username"), _shown(html, "opds-password")
    assert _shown(html, "opds-url") == "http://localhost/library/opds/"
    assert len(username) == 8 and len(password.replace("-", "")) == 26
    assert "no-store" in r.headers["Cache-Control"]

    [row] = _token_rows(library.app, m1.account_id)
    assert row.name == "我的 Kindle" and row.prefix == username
    plain = password.replace("-", "")
    assert row.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert plain not in {str(v) for v in vars(row).values()}

    again = client.get(PAGE).get_data(as_text=True)
    assert username in again and "我的 Kindle" in again  # listed …
    assert password not in again and plain not in again  # … but never shown again
    assert 'id="opds-issued"' not in again

    app_client = library.app.test_client()
    assert app_client.get(ROOT, headers=basic(username, password)).status_code == 200
    # what members type: upper case, spaces instead of hyphens
    assert app_client.get(ROOT, headers=basic(username.upper(),
                                              password.upper().replace("-", " "))
                          ).status_code == 200


def test_page_needs_a_reader_and_is_linked_from_my_page(library: Any) -> None:
    client = library.app.test_client()
    assert client.get(PAGE).status_code in (302, 401)
    login(client, "clerk")  # an agent-office clerk holds no library.read
    assert client.get(PAGE).status_code == 403

    member = library.app.test_client()
    login(member, library.world.people["m2"].mobile)
    me = member.get("/me").get_data(as_text=True)
    assert 'id="opds-panel-link"' in me and f'href="{PAGE}"' in me


def test_bad_names_are_refused_with_a_reason(library: Any) -> None:
    m1 = library.world.people["m1"]
    client = library.app.test_client()
    login(client, m1.mobile)
    r = post_form(client, PAGE, {"name": "   "})
    assert r.status_code == 400 and "请填写名称" in r.get_data(as_text=True)
    r = post_form(client, PAGE, {"name": "长" * 61})
    assert r.status_code == 400 and "不能超过 60 个字" in r.get_data(as_text=True)
    assert _token_rows(library.app, m1.account_id) == []


def test_active_tokens_are_limited(library: Any) -> None:
    from unionhub_library.opds.tokens import MAX_ACTIVE

    m1 = library.world.people["m1"]
    for n in range(MAX_ACTIVE):
        issue_token(library.app, m1.account_id, f"设备{n}")
    client = library.app.test_client()
    login(client, m1.mobile)
    r = post_form(client, PAGE, {"name": "再来一个"})
    assert r.status_code == 400 and "请先撤销" in r.get_data(as_text=True)
    assert len(_token_rows(library.app, m1.account_id)) == MAX_ACTIVE


def test_wrong_or_missing_credentials_get_a_basic_challenge(library: Any) -> None:
    m1 = library.world.people["m1"]
    username, password = issue_token(library.app, m1.account_id)
    client = library.app.test_client()
    for headers in ({}, basic(username, password[:-1] + ("a" if password[-1] != "a" else "b")),
                    basic("zzzzzzzz", password), basic(username, ""),
                    {"Authorization": "Basic !!!not-base64"},
                    {"Authorization": "Bearer " + password}):
        r = client.get(ROOT, headers=headers)
        assert r.status_code == 401, headers
        assert r.headers["WWW-Authenticate"].startswith('Basic realm="')
        assert r.mimetype == "text/plain" and "/library/opds-tokens" in r.get_data(as_text=True)


def test_the_members_password_is_never_accepted(library: Any) -> None:
    m1 = library.world.people["m1"]
    username, _password = issue_token(library.app, m1.account_id)
    client = library.app.test_client()
    for user in (m1.mobile, m1.card_number, m1.id_number, username):
        assert client.get(ROOT, headers=basic(user, PASSWORD)).status_code == 401
    assert client.get(ROOT, headers=basic("admin", PASSWORD)).status_code == 401


def test_wrong_basic_credentials_win_over_a_browser_session(library: Any) -> None:
    client = library.app.test_client()
    login(client, library.world.people["m1"].mobile)
    assert client.get(ROOT).status_code == 200  # the member looks at the feed in a browser
    assert client.get(ROOT, headers=basic("zzzzzzzz", "x" * 26)).status_code == 401


def test_revoked_token_stops_working_and_only_the_owner_revokes(library: Any) -> None:
    w = library.world
    mine = issue_token(library.app, w.people["m1"].account_id, "手机")
    theirs = issue_token(library.app, w.people["m2"].account_id, "平板")
    [my_row] = _token_rows(library.app, w.people["m1"].account_id)
    [their_row] = _token_rows(library.app, w.people["m2"].account_id)
    app_client = library.app.test_client()
    assert app_client.get(ROOT, headers=basic(*mine)).status_code == 200

    client = library.app.test_client()
    login(client, w.people["m1"].mobile)
    token = csrf_token(client, PAGE)
    r = client.post(f"{PAGE}/{their_row.id}/revoke", data={"csrf_token": token},
                    follow_redirects=True)
    assert "没有找到这个令牌" in r.get_data(as_text=True)
    assert app_client.get(ROOT, headers=basic(*theirs)).status_code == 200

    r = client.post(f"{PAGE}/{my_row.id}/revoke", data={"csrf_token": token},
                    follow_redirects=True)
    assert "令牌已撤销" in r.get_data(as_text=True)
    assert app_client.get(ROOT, headers=basic(*mine)).status_code == 401
    assert _token_rows(library.app, w.people["m1"].account_id)[0].revoked_at is not None
    assert mine[0] not in client.get(PAGE).get_data(as_text=True)


def test_disabled_account_token_is_refused(library: Any) -> None:
    from unionhub import db
    from unionhub.identity.models import Account

    m1 = library.world.people["m1"]
    creds = issue_token(library.app, m1.account_id)
    with library.app.app_context():
        db.session().get(Account, m1.account_id).is_active = False
        db.session().commit()
    assert library.app.test_client().get(ROOT, headers=basic(*creds)).status_code == 401


def test_last_use_is_recorded_at_most_once_a_minute(library: Any) -> None:
    m1 = library.world.people["m1"]
    creds = issue_token(library.app, m1.account_id)
    client = library.app.test_client()
    assert _token_rows(library.app, m1.account_id)[0].last_used_at is None
    client.get(ROOT, headers=basic(*creds))
    first = _token_rows(library.app, m1.account_id)[0].last_used_at
    assert first is not None
    with time_machine.travel(first + timedelta(seconds=30), tick=False):
        client.get(ROOT, headers=basic(*creds))
    assert _token_rows(library.app, m1.account_id)[0].last_used_at == first
    later = first + timedelta(seconds=90)
    with time_machine.travel(later, tick=False):
        client.get(ROOT, headers=basic(*creds))
    assert _token_rows(library.app, m1.account_id)[0].last_used_at == later
