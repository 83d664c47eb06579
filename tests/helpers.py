"""Test data builders and HTTP helpers (no fixtures here; see conftest.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from flask.testing import FlaskClient

from unionhub import db
from unionhub.identity import service as identity
from unionhub.identity.admin import create_officer
from unionhub.identity.models import Account, Member
from unionhub.identity.numbers import make_card_number, make_id_number
from unionhub.orgs.models import Org, OrgLevel
from unionhub.orgs.service import create_org
from unionhub.security.passwords import hash_password

PASSWORD = "Passw0rd-test"
_seq = iter(range(1, 10**6))


def new_id_number(birth: date = date(1990, 5, 17), region: str = "110105") -> str:
    return make_id_number(region, birth, next(_seq) % 1000)


def new_card_number(bin_: str = "621468") -> str:
    return make_card_number(bin_, 5_000_000 + next(_seq))


@dataclass
class Person:
    member_id: int
    name: str
    id_number: str
    card_number: str
    mobile: str
    account_id: int


@dataclass
class World:
    orgs: dict[str, Org] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    officers: dict[str, int] = field(default_factory=dict)

    def org_id(self, key: str) -> int:
        return self.orgs[key].id


def add_member(org: Org, name: str, *, password: str | None = PASSWORD,
               mobile: str | None = None, birth: date = date(1990, 5, 17)) -> Person:
    s = db.session()
    idn = new_id_number(birth)
    card = new_card_number()
    mobile = mobile or f"139{next(_seq):08d}"
    m = identity.create_member(s, name=name, id_number=idn, org=org, mobile=mobile,
                               card_number=card)
    s.flush()
    acc = s.query(Account).filter_by(member_id=m.id).one()
    if password:
        acc.password_hash = hash_password(password)
    s.commit()
    return Person(m.id, name, idn, card, mobile, acc.id)


def build_world() -> World:
    s = db.session()
    w = World()
    w.orgs["city"] = create_org(s, code="C", name="北京市总工会", level=OrgLevel.CITY,
                                parent=None)
    w.orgs["d1"] = create_org(s, code="D1", name="朝阳区总工会", level=OrgLevel.DISTRICT,
                              parent=w.orgs["city"])
    w.orgs["d2"] = create_org(s, code="D2", name="海淀区总工会", level=OrgLevel.DISTRICT,
                              parent=w.orgs["city"])
    w.orgs["g1"] = create_org(s, code="G1", name="电控工会", level=OrgLevel.GRASSROOTS,
                              parent=w.orgs["d1"], agent_office=True)
    w.orgs["g2"] = create_org(s, code="G2", name="软件园工会", level=OrgLevel.GRASSROOTS,
                              parent=w.orgs["d2"])
    w.orgs["b1"] = create_org(s, code="B1", name="京东方分会", level=OrgLevel.BRANCH,
                              parent=w.orgs["g1"])
    s.commit()
    w.people["m1"] = add_member(w.orgs["g1"], "张伟")
    w.people["m2"] = add_member(w.orgs["g2"], "李娜")
    w.people["m3"] = add_member(w.orgs["b1"], "王芳")
    for username, role, org in (
        ("admin", "admin", "city"),
        ("city", "city_officer", "city"),
        ("chaoyang", "district_officer", "d1"),
        ("haidian", "district_officer", "d2"),
        ("g1officer", "grassroots_officer", "g1"),
        ("clerk", "agent_clerk", "g1"),
    ):
        acc = create_officer(s, username, username, PASSWORD, role, w.orgs[org])
        s.flush()
        w.officers[username] = acc.id
    s.commit()
    return w


def member(member_id: int) -> Member:
    m = db.session().get(Member, member_id)
    assert m is not None
    return m


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    m = CSRF_RE.search(html)
    assert m, f"no CSRF token on {url}"
    return m.group(1)


def post_form(client: FlaskClient, url: str, data: dict[str, Any], *, form_url: str | None = None,
              **kw: Any) -> Any:
    token = csrf_token(client, form_url or url)
    return client.post(url, data={"csrf_token": token, **data}, **kw)


def login(client: FlaskClient, identifier: str, password: str = PASSWORD) -> Any:
    return post_form(client, "/auth/login", {"identifier": identifier, "password": password})


def cli(app: Any, *args: str) -> Any:
    """Run the ``unionhub`` command against ``app`` (core and plugin commands)."""
    from unionhub.cli import main

    return app.test_cli_runner().invoke(main, args=list(args))


def beijing_today() -> date:
    """Today in Beijing: the calendar the mall's dates are in (CI machines run in UTC, so
    ``date.today()`` is yesterday there from 16:00 UTC on)."""
    return datetime.now(timezone(timedelta(hours=8))).date()
