"""Member groups (会员群体): the service, the search tokens a member's groups give, the
back-office pages (create, edit, add by ID or card number with a per-line report, remove,
scope) and the demo's groups."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.core.test_search_support import Store, rebuild_all, titles, wire
from tests.helpers import World, add_member, cli, login, new_id_number, post_form
from unionhub import db
from unionhub.audit.models import AuditLog
from unionhub.groups import service as groups
from unionhub.groups.models import MemberGroup, MemberGroupMember
from unionhub.identity.models import Account, Member, MemberStatus
from unionhub.identity.numbers import mask_card_number, mask_id_number
from unionhub.search.acl import group_token, org_group_token, viewer_tokens
from unionhub.search.service import get_service

URL = "/admin/groups/"


def _members_of(group_id: int) -> set[int]:
    return set(db.session().scalars(select(MemberGroupMember.member_id)
                                    .where(MemberGroupMember.group_id == group_id)))


def _make_group(app: Flask, code: str = "model_worker", name: str = "劳动模范") -> int:
    with app.app_context():
        s = db.session()
        g = groups.create_group(s, code, name)
        s.commit()
        return g.id


def _members(app: Flask, group_id: int) -> set[int]:
    with app.app_context():
        return _members_of(group_id)


# --- service -----------------------------------------------------------------------------

def test_add_members_skips_those_already_in(app: Flask, world: World) -> None:
    m1, m2, m3 = (world.people[k].member_id for k in ("m1", "m2", "m3"))
    with app.app_context():
        s = db.session()
        g = groups.create_group(s, "female", "女职工", "在会女职工")
        assert groups.add_members(s, g, [m1, m2]) == 2
        assert groups.add_members(s, g, [m2, m3, m3]) == 1
        assert _members_of(g.id) == {m1, m2, m3}
        assert groups.groups_of(s, m3) == {g.id}
        assert groups.remove_members(s, g, [m2, m2]) == 1
        assert groups.remove_members(s, g, [m2]) == 0
        assert _members_of(g.id) == {m1, m3}
        in_g = set(s.scalars(select(Member.id).where(groups.in_any_group(Member.id, [g.id]))))
        assert in_g == {m1, m3}


@pytest.mark.parametrize(("code", "name", "description", "field"), [
    ("", "劳动模范", None, "code"),
    ("Model", "劳动模范", None, "code"),
    ("9lives", "劳动模范", None, "code"),
    ("model-worker", "劳动模范", None, "code"),
    ("x" * 33, "劳动模范", None, "code"),
    ("model_worker", "   ", None, "name"),
    ("model_worker", "劳" * 101, None, "name"),
    ("model_worker", "劳动模范", "说" * 301, "description"),
])
def test_create_validation_names_the_field(app: Flask, code: str, name: str,
                                           description: str | None, field: str) -> None:
    with app.app_context():
        s = db.session()
        with pytest.raises(groups.GroupError) as exc:
            groups.create_group(s, code, name, description)
        assert exc.value.field == field and str(exc.value)
        assert s.scalar(select(func.count()).select_from(MemberGroup)) == 0


def test_create_trims_and_refuses_a_duplicate_code(app: Flask) -> None:
    with app.app_context():
        s = db.session()
        g = groups.create_group(s, " youth ", " 青年职工 ", "  ")
        assert (g.code, g.name, g.description) == ("youth", "青年职工", None)
        with pytest.raises(groups.GroupError, match="已存在") as exc:
            groups.create_group(s, "youth", "另一个")
        assert exc.value.field == "code"
        groups.update_group(s, g, "青年职工（35岁以下）", "团员青年")
        assert (g.code, g.name, g.description) == ("youth", "青年职工（35岁以下）", "团员青年")
        with pytest.raises(groups.GroupError):
            groups.update_group(s, g, "", None)


def test_member_counts_follow_the_scope(app: Flask, world: World) -> None:
    from unionhub.orgs.models import Org

    m1, m2, m3 = (world.people[k].member_id for k in ("m1", "m2", "m3"))
    with app.app_context():
        s = db.session()
        g = groups.create_group(s, "hardship", "困难职工")
        empty = groups.create_group(s, "youth", "青年职工")
        groups.add_members(s, g, [m1, m2, m3])
        assert groups.member_counts(s) == {g.id: 3}
        d1 = Org.path.like(world.orgs["d1"].path + "%")
        assert groups.member_counts(s, d1) == {g.id: 2}
        assert empty.id not in groups.member_counts(s, d1)


# --- search tokens -----------------------------------------------------------------------

def _account(world: World, who: str) -> Account:
    acc = db.session().get(Account, world.people[who].account_id)
    assert acc is not None
    return acc


def test_group_members_hold_group_tokens(app: Flask, world: World) -> None:
    d1, g1 = world.orgs["d1"], world.orgs["g1"]
    with app.app_context():
        s = db.session()
        g = groups.create_group(s, "model_worker", "劳动模范")
        groups.add_members(s, g, [world.people["m1"].member_id])
        s.commit()
        held = viewer_tokens(_account(world, "m1"), s)
        assert {group_token(g.id), org_group_token(d1, g.id), org_group_token(g1, g.id)} <= held
        assert org_group_token(world.orgs["d2"], g.id) not in held
        for other in ("m2", "m3"):
            tokens = viewer_tokens(_account(world, other), s)
            assert group_token(g.id) not in tokens
            assert not any(t.endswith("+" + group_token(g.id)) for t in tokens)


def test_document_for_a_group_in_a_district_is_found_by_its_members_only(
        app: Flask, world: World) -> None:
    store = Store()
    with app.app_context():
        wire(app, store)
        s = db.session()
        g = groups.create_group(s, "model_worker", "劳动模范")
        # m1 (g1 under d1) is in G; m2 (d2) is in G but in the other district; m3 (under d1)
        # is not in G.
        groups.add_members(s, g, [world.people["m1"].member_id, world.people["m2"].member_id])
        s.commit()
        d1_id, gid = world.orgs["d1"].id, g.id
    store.put("1", "朝阳区劳模疗休养通知", acl=(org_group_token(d1_id, gid),))
    store.put("2", "全市劳模座谈会通知", acl=(group_token(gid),))
    rebuild_all(app)

    def found(who: str | None) -> set[str]:
        with app.app_context():
            acc = None if who is None else _account(world, who)
            return set(titles(get_service(app).search_as(acc, "通知")))

    assert found("m1") == {"朝阳区劳模疗休养通知", "全市劳模座谈会通知"}
    assert found("m2") == {"全市劳模座谈会通知"}
    assert found("m3") == set()
    assert found(None) == set()


# --- pages -------------------------------------------------------------------------------

def _page(client: FlaskClient, url: str) -> str:
    r = client.get(url)
    assert r.status_code == 200, r.get_data(as_text=True)[:1500]
    return r.get_data(as_text=True)


def _add(client: FlaskClient, group_id: int, lines: str) -> tuple[int, str]:
    r = post_form(client, f"{URL}{group_id}/members", {"lines": lines},
                  form_url=f"{URL}{group_id}")
    return r.status_code, r.get_data(as_text=True)


def test_create_group_page_with_validation(client: FlaskClient, app: Flask,
                                           world: World) -> None:
    login(client, "city")
    html = _page(client, URL)
    assert "新建群体" in html
    r = post_form(client, URL, {"code": "Bad Code", "name": "劳动模范"})
    assert r.status_code == 400 and "群体代码须以小写字母开头" in r.get_data(as_text=True)
    r = post_form(client, URL, {"code": "model_worker", "name": ""})
    assert r.status_code == 400 and "请填写群体名称" in r.get_data(as_text=True)
    r = post_form(client, URL, {"code": "model_worker", "name": "劳动模范",
                                "description": "各级劳动模范"})
    assert r.status_code == 302
    with app.app_context():
        g = db.session().scalar(select(MemberGroup).where(MemberGroup.code == "model_worker"))
        assert g is not None and g.description == "各级劳动模范"
        assert db.session().scalar(select(AuditLog.id).where(AuditLog.action == "group.create"))
    assert r.headers["Location"].endswith(f"{URL}{g.id}")
    r = post_form(client, URL, {"code": "model_worker", "name": "又一个"})
    assert r.status_code == 400 and "已存在" in r.get_data(as_text=True)
    html = _page(client, URL)
    assert "劳动模范" in html and "model_worker" in html


def test_edit_group_page(client: FlaskClient, app: Flask, world: World) -> None:
    gid = _make_group(app)
    login(client, "admin")
    url = f"{URL}{gid}/edit"
    r = post_form(client, url, {"name": "", "description": ""}, form_url=f"{URL}{gid}")
    assert r.status_code == 400 and "请填写群体名称" in r.get_data(as_text=True)
    r = post_form(client, url, {"name": "劳模", "description": "区级以上"},
                  form_url=f"{URL}{gid}")
    assert r.status_code == 302
    with app.app_context():
        g = db.session().get(MemberGroup, gid)
        assert (g.code, g.name, g.description) == ("model_worker", "劳模", "区级以上")


def test_district_officer_keeps_members_but_cannot_create_groups(
        client: FlaskClient, app: Flask, world: World) -> None:
    gid = _make_group(app)
    login(client, "chaoyang")
    html = _page(client, URL)
    assert "劳动模范" in html and "新建群体" not in html
    assert "修改群体" not in _page(client, f"{URL}{gid}")
    r = post_form(client, URL, {"code": "youth", "name": "青年职工"})
    assert r.status_code == 403
    r = post_form(client, f"{URL}{gid}/edit", {"name": "x"}, form_url=f"{URL}{gid}")
    assert r.status_code == 403


def test_pages_need_the_permission(client: FlaskClient, app: Flask, world: World) -> None:
    gid = _make_group(app)
    assert client.get(URL).status_code == 302  # to the login page
    login(client, world.people["m1"].card_number)
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}{gid}").status_code == 403
    clerk = app.test_client()
    login(clerk, "clerk")  # agent clerks do not keep groups
    assert clerk.get(URL).status_code == 403
    client = app.test_client()
    login(client, "g1officer")
    assert client.get(f"{URL}{gid + 100}").status_code == 404


def test_add_by_id_number_and_by_card_and_report_bad_lines(
        client: FlaskClient, app: Flask, world: World) -> None:
    gid = _make_group(app)
    m1, m2, m3 = (world.people[k] for k in ("m1", "m2", "m3"))
    with app.app_context():
        groups.add_members(db.session(), db.session().get(MemberGroup, gid), [m3.member_id])
        db.session().commit()
    unknown = new_id_number(date(1985, 3, 3))  # valid, and nobody holds it
    card_spaced = " ".join(m2.card_number[i:i + 4] for i in range(0, len(m2.card_number), 4))
    wrong = "X" if m1.id_number[17] != "X" else "0"
    broken_id = m1.id_number[:17] + wrong
    lines = "\n".join([
        m1.id_number,                 # 1: by ID number
        "",                           # 2: blank, skipped
        card_spaced,                  # 3: by card, written in groups of four
        f"李娜\t{m2.card_number}",    # 4: the same member again, with a name column
        m3.id_number.lower(),         # 5: already in the group
        broken_id,                    # 6: bad check character
        unknown,                      # 7: nobody
        "张三",                       # 8: not a number
        "13912345678",                # 9: a mobile number is not accepted
    ])
    login(client, "admin")
    status, html = _add(client, gid, lines)
    assert status == 200, html[:1500]
    assert _members(app, gid) == {m1.member_id, m2.member_id, m3.member_id}
    report = html[html.index('id="report"'):]
    stats = re.findall(r"<b>(\d+)</b>", report)
    assert stats[:4] == ["2", "1", "1", "4"]  # added, already, repeated, problem lines
    for line in (6, 7, 8, 9):
        assert f"第 {line} 行" in report
    for line in (1, 3, 4, 5):
        assert f"第 {line} 行" not in report
    assert "身份证号无效" in report and "找不到该会员" in report and "无法识别" in report
    assert mask_id_number(unknown) in report
    assert unknown not in html and broken_id not in html  # masked, never echoed
    assert "已加入 2 名会员" in html
    with app.app_context():
        entry = db.session().scalar(select(AuditLog).where(AuditLog.action == "group.add_members"))
        assert entry is not None and entry.details["added"] == 2
        assert entry.org_path == world.orgs["city"].path  # m1 (d1) and m2 (d2): the city


def test_lines_with_a_name_column_and_a_card_found_by_card(
        client: FlaskClient, app: Flask, world: World) -> None:
    gid = _make_group(app)
    m2 = world.people["m2"]
    login(client, "haidian")
    status, html = _add(client, gid, f"李娜，{m2.card_number}，软件园")
    assert status == 200 and "已加入 1 名会员" in html
    assert _members(app, gid) == {m2.member_id}
    assert mask_card_number(m2.card_number) in html  # the member list shows it masked


def test_officer_of_another_district_cannot_add_or_remove(
        client: FlaskClient, app: Flask, world: World) -> None:
    gid = _make_group(app)
    m1, m2 = world.people["m1"], world.people["m2"]
    login(client, "haidian")  # d2
    status, html = _add(client, gid, f"{m1.id_number}\n{m2.id_number}")
    assert status == 200
    assert _members(app, gid) == {m2.member_id}
    assert "第 1 行" in html and "不在您的管辖范围内" in html and "第 2 行" not in html
    # m1 added by the city; haidian neither sees nor removes m1
    with app.app_context():
        groups.add_members(db.session(), db.session().get(MemberGroup, gid), [m1.member_id])
        db.session().commit()
    html = _page(client, f"{URL}{gid}")
    assert m2.name in html and m1.name not in html
    assert "您管辖范围内 1 人" in html
    r = post_form(client, f"{URL}{gid}/members/{m1.member_id}/remove", {},
                  form_url=f"{URL}{gid}")
    assert r.status_code == 404
    assert _members(app, gid) == {m1.member_id, m2.member_id}
    r = post_form(client, f"{URL}{gid}/members/{m2.member_id}/remove", {},
                  form_url=f"{URL}{gid}")
    assert r.status_code == 302
    assert _members(app, gid) == {m1.member_id}
    with app.app_context():
        entry = db.session().scalar(select(AuditLog)
                                    .where(AuditLog.action == "group.remove_member"))
        assert entry is not None and entry.target_id == str(m2.member_id)
    # the group list counts only haidian's members
    assert re.search(r'data-label="人数">0<', _page(client, URL))


def test_group_page_lists_members_masked_filtered_and_paginated(
        client: FlaskClient, app: Flask, world: World) -> None:
    gid = _make_group(app)
    with app.app_context():
        s = db.session()
        extra = [add_member(world.orgs["g1"], f"孙{i:02d}", password=None).member_id
                 for i in range(23)]
        groups.add_members(s, s.get(MemberGroup, gid), [world.people["m1"].member_id, *extra])
        s.commit()
        page_size = int(app.config["PAGE_SIZE"])
    login(client, "g1officer")
    html = _page(client, f"{URL}{gid}")
    m1 = world.people["m1"]
    assert mask_id_number(m1.id_number) in html and m1.id_number not in html
    assert m1.card_number not in html
    assert html.count('data-label="身份证号"') == min(24, page_size)
    if page_size < 24:
        assert "下一页" in html
        last = _page(client, f"{URL}{gid}?page={-(-24 // page_size)}")
        assert last.count('data-label="身份证号"') == 24 - page_size * (-(-24 // page_size) - 1)
    filtered = _page(client, f"{URL}{gid}?q=孙07")
    assert filtered.count('data-label="身份证号"') == 1 and "孙07" in filtered
    # an ID number typed into the name filter is not used (it would sit in the URL)
    by_id = _page(client, f"{URL}{gid}?q={m1.id_number}")
    assert "这里只按姓名筛选" in by_id


def test_empty_and_oversized_pastes_are_refused(client: FlaskClient, app: Flask,
                                                world: World) -> None:
    gid = _make_group(app)
    login(client, "admin")
    status, html = _add(client, gid, "  \n ")
    assert status == 400 and "请粘贴至少一个" in html
    status, html = _add(client, gid, "\n".join(["110105199001011234"] * (groups.MAX_LINES + 1)))
    assert status == 400 and "一次最多粘贴" in html
    assert _members(app, gid) == set()


# --- demo --------------------------------------------------------------------------------

def test_seed_demo_groups_picks_realistic_shares(app: Flask, world: World) -> None:
    with app.app_context():
        s = db.session()
        today = date(2026, 6, 1)
        people = [add_member(world.orgs["g1"], f"周{i:03d}", password=None,
                             birth=date(1965 + i % 38, 1 + i % 12, 1 + i % 28))
                  for i in range(300)]
        ids = [p.member_id for p in people]
        left = s.get(Member, ids[0])
        left.status = MemberStatus.LEFT
        s.commit()
        added = groups.seed_demo_groups(s, ids, today=today, echo=lambda _m: None)
        s.commit()
        by_code = {g.code: g for g in s.scalars(select(MemberGroup))}
        assert set(by_code) == {c for c, _n, _d in groups.DEMO_GROUPS}
        members = {m.id: m for m in s.scalars(select(Member).where(Member.id.in_(ids)))}
        active = [m for m in members.values() if m.status == MemberStatus.ACTIVE]
        women = [m for m in active if m.sex == "F"]

        def share(code: str, of: list[Member]) -> float:
            got = _members_of(by_code[code].id)
            assert got <= {m.id for m in active}, code  # active demo members only
            assert added[code] == len(got)
            return len(got) / len(of)

        assert 0.01 <= share("model_worker", active) <= 0.04
        assert 0.03 <= share("new_employment", active) <= 0.08
        assert 0.02 <= share("hardship", active) <= 0.05
        assert 0.3 <= share("female", women) <= 0.5
        assert all(members[i].sex == "F" for i in _members_of(by_code["female"].id))
        youth = _members_of(by_code["youth"].id)
        assert youth == {m.id for m in active if m.birth_date > date(1990, 6, 1)}
        assert world.people["m1"].member_id not in set().union(
            *(_members_of(g.id) for g in by_code.values()))  # outside the given ids
        again = groups.seed_demo_groups(s, ids, today=today, echo=lambda _m: None)
        assert set(again.values()) == {0}


def test_demo_command_seeds_the_groups(make_app) -> None:
    app = make_app()
    r = cli(app, "demo", "--members", "150")
    assert r.exit_code == 0, r.output
    assert "会员群体: 劳动模范" in r.output
    with app.app_context():
        s = db.session()
        counts = dict(s.execute(
            select(MemberGroup.code, func.count(MemberGroupMember.member_id))
            .join(MemberGroupMember, MemberGroupMember.group_id == MemberGroup.id)
            .group_by(MemberGroup.code)).all())
        assert set(counts) == {"model_worker", "female", "new_employment", "hardship", "youth"}
        assert counts["female"] > counts["new_employment"] > counts["model_worker"] >= 1
        assert counts["youth"] > counts["hardship"]
    client = app.test_client()
    assert login(client, "chaoyang", "Union12351").status_code == 302
    html = client.get(URL).get_data(as_text=True)
    assert "新就业形态劳动者" in html
