"""The access matrix: officers see their subtree only, members see themselves only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.helpers import login, new_card_number, post_form
from unionhub import db
from unionhub.access import service as access
from unionhub.access.models import RoleGrant, RolePermission
from unionhub.identity.models import Account, Member
from unionhub.orgs.models import Org

# who → which members (by World key) they may see
VISIBLE = {
    "admin": {"m1", "m2", "m3"},
    "city": {"m1", "m2", "m3"},
    "chaoyang": {"m1", "m3"},  # d1 → g1 → b1
    "haidian": {"m2"},
    "g1officer": {"m1", "m3"},
    "clerk": {"m1", "m3"},
}


@pytest.mark.parametrize("officer", sorted(VISIBLE))
def test_list_shows_exactly_the_subtree(app, world, officer):
    c = app.test_client()
    login(c, officer)
    body = c.get("/office/members").get_data(as_text=True)
    for key, person in world.people.items():
        assert (person.name in body) == (key in VISIBLE[officer]), (officer, key)


@pytest.mark.parametrize("officer", sorted(VISIBLE))
def test_detail_edit_and_card_actions_by_guessed_id(app, world, officer):
    c = app.test_client()
    login(c, officer)
    for key, person in world.people.items():
        url = f"/office/members/{person.member_id}"
        r = c.get(url)
        if key in VISIBLE[officer]:
            assert r.status_code == 200 and person.name in r.get_data(as_text=True)
        else:
            assert r.status_code == 404, (officer, key)
            assert person.name not in r.get_data(as_text=True)
            assert c.get(url + "/edit").status_code in (403, 404)
            r = post_form(c, url + "/cards/1/lost", {}, form_url="/office/members")
            assert r.status_code == 404


def test_out_of_scope_search_by_number_finds_nothing(app, world):
    c = app.test_client()
    login(c, "haidian")
    r = post_form(c, "/office/members", {"q": world.people["m1"].card_number},
                  follow_redirects=True)
    body = r.get_data(as_text=True)
    assert "没有找到会员" in body and "张伟" not in body


def test_export_is_scoped_masked_and_permissioned(app, world):
    c = app.test_client()
    login(c, "chaoyang")
    r = c.get("/office/members/export.csv")
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    assert "张伟" in text and "王芳" in text and "李娜" not in text
    for p in world.people.values():
        assert p.id_number not in text and p.card_number not in text and p.mobile not in text
    clerk = app.test_client()
    login(clerk, "clerk")  # agent clerks may view but not export
    assert clerk.get("/office/members/export.csv").status_code == 403


def test_officer_cannot_move_member_into_another_district(app, world):
    c = app.test_client()
    login(c, "chaoyang")
    p = world.people["m1"]
    url = f"/office/members/{p.member_id}/edit"
    r = post_form(c, url, {"name": "张伟", "mobile": p.mobile, "org_id": world.org_id("g2"),
                           "status": "active"})
    assert r.status_code in (400, 404)  # the other district's org is not a valid choice
    with app.app_context():
        assert db.session().get(Member, p.member_id).org_id == world.org_id("g1")
    r = post_form(c, url, {"name": "张伟", "mobile": p.mobile, "org_id": world.org_id("b1"),
                           "status": "active"})
    assert r.status_code == 302
    with app.app_context():
        assert db.session().get(Member, p.member_id).org_id == world.org_id("b1")


def test_member_sees_only_themselves(app, world):
    c = app.test_client()
    login(c, world.people["m1"].card_number)
    assert c.get("/office/").status_code == 403
    assert c.get("/office/members").status_code == 403
    assert c.get(f"/office/members/{world.people['m2'].member_id}").status_code == 403
    assert c.get("/admin/").status_code == 403
    me = c.get("/me").get_data(as_text=True)
    assert "张伟" in me and "李娜" not in me


def test_admin_pages_need_their_permission(app, world):
    c = app.test_client()
    login(c, "chaoyang")
    for url in ("/admin/", "/admin/plugins", "/admin/roles", "/admin/audit", "/admin/settings"):
        assert c.get(url).status_code == 403, url
    assert c.get("/admin/orgs").status_code == 200  # district officers manage their orgs


def test_anonymous_is_sent_to_login(client, world):
    for url in ("/me", "/office/", "/admin/", f"/office/members/{world.people['m1'].member_id}"):
        r = client.get(url)
        assert r.status_code == 302 and "/auth/login" in r.headers["Location"], url


def test_scope_filter_is_one_sql_statement(app, world):
    from sqlalchemy import event

    with app.app_context():
        acc = db.session().get(Account, world.officers["chaoyang"])
        access.roles_with("core.members.view")  # role table read separately, once
        stmts: list[str] = []
        engine = db.get_db().engine
        listener = lambda *a: stmts.append(a[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            names = db.session().scalars(
                select(Member.name).join(Org, Member.org_id == Org.id)
                .where(access.scope_filter(acc, "core.members.view", Org.path))).all()
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert sorted(names) == ["张伟", "王芳"]
        member_selects = [s for s in stmts if "FROM member" in s]
        assert len(member_selects) == 1 and "EXISTS" in member_selects[0].upper()


def test_can_answers_per_org(app, world):
    with app.app_context():
        s = db.session()
        acc = s.get(Account, world.officers["chaoyang"])
        assert access.can(acc, "core.members.edit", world.orgs["b1"])
        assert not access.can(acc, "core.members.edit", world.orgs["g2"])
        assert not access.can(acc, "core.members.edit", world.orgs["city"])
        assert not access.can(acc, "core.plugins.manage")


def test_admin_added_role_permission_takes_effect(app, world):
    with app.app_context():
        s = db.session()
        s.add(RolePermission(role="agent_clerk", permission="core.members.export"))
        s.commit()
    c = app.test_client()
    login(c, "clerk")
    assert c.get("/office/members/export.csv").status_code == 200


def test_grant_and_revoke_through_the_roles_page(app, world):
    c = app.test_client()
    login(c, "admin")
    p = world.people["m2"]
    r = post_form(c, "/admin/roles", {"account": p.card_number, "role": "agent_clerk",
                                      "org_id": world.org_id("g2")})
    assert r.status_code == 302
    m = app.test_client()
    login(m, p.card_number)
    assert m.get("/office/").status_code == 200
    with app.app_context():
        grant = db.session().scalar(select(RoleGrant).where(
            RoleGrant.account_id == p.account_id))
        gid = grant.id
    r = post_form(c, f"/admin/roles/grants/{gid}/revoke", {}, form_url="/admin/roles")
    assert r.status_code == 302
    assert m.get("/office/").status_code == 403


def test_district_officer_cannot_make_admins_or_grant_outside(app, world):
    with app.app_context():
        s = db.session()
        s.add(RolePermission(role="district_officer", permission="core.roles.manage"))
        s.commit()
    c = app.test_client()
    login(c, "chaoyang")
    page = c.get("/admin/roles").get_data(as_text=True)
    assert 'value="admin"' not in page
    r = post_form(c, "/admin/roles", {"account": world.people["m1"].card_number,
                                      "role": "agent_clerk", "org_id": world.org_id("g2")})
    assert r.status_code in (200, 400, 404)
    with app.app_context():
        assert db.session().scalar(select(RoleGrant).where(
            RoleGrant.account_id == world.people["m1"].account_id)) is None
    assert new_card_number
