"""Members and Jingka cards: validation, storage without clear numbers, replacement."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from tests.helpers import PASSWORD, add_member, login, new_card_number, new_id_number, post_form
from unionhub import db
from unionhub.identity import service as identity
from unionhub.identity.models import CardStatus, JingkaCard, Member
from unionhub.identity.numbers import make_id_number


def test_daxing_1990_id_accepted_and_bad_check_rejected(app, world):
    with app.app_context():
        s = db.session()
        daxing = make_id_number("110115", date(1990, 3, 8), 123)
        m = identity.create_member(s, name="赵敏", id_number=daxing.lower().replace("x", "x"),
                                   org=world.orgs["g1"])
        assert m.birth_date == date(1990, 3, 8)
        bad = daxing[:-1] + ("0" if daxing[-1] != "0" else "1")
        with pytest.raises(identity.IdentityError, match="校验位"):
            identity.create_member(s, name="钱多", id_number=bad, org=world.orgs["g1"])


def test_full_width_digits_and_spaces_normalised(app, world):
    with app.app_context():
        s = db.session()
        idn = new_id_number()
        messy = " ".join([idn[:6], idn[6:14], idn[14:]]).translate(
            str.maketrans("0123456789X", "０１２３４５６７８９ｘ"))
        m = identity.create_member(s, name="孙丽", id_number=messy, org=world.orgs["g1"])
        assert identity.find_by_id_number(idn).id == m.id


def test_numbers_are_not_stored_in_clear(app, world):
    p = world.people["m1"]
    with app.app_context():
        engine = db.get_db().engine
        with engine.connect() as conn:
            dump = "\n".join(
                str(row) for table in ("member", "jingka_card", "account", "audit_log")
                for row in conn.execute(text(f"SELECT * FROM {table}"))
            )
        assert p.id_number not in dump and p.card_number not in dump
        assert p.id_number[:4] + "**********" + p.id_number[-4:] in dump  # masked form only
        m = db.session().get(Member, p.member_id)
        assert identity.reveal_id_number(m) == p.id_number


def test_card_must_pass_luhn_length_and_bin(app, world):
    with app.app_context():
        s = db.session()
        m = identity.create_member(s, name="周杰", id_number=new_id_number(),
                                   org=world.orgs["g1"])
        good = new_card_number()
        wrong_luhn = good[:-1] + str((int(good[-1]) + 1) % 10)
        with pytest.raises(identity.IdentityError, match="校验"):
            identity.issue_card(s, m, wrong_luhn)
        with pytest.raises(identity.IdentityError, match="BIN"):
            identity.issue_card(s, m, new_card_number("622202"))
        with pytest.raises(identity.IdentityError, match="16至19"):
            identity.issue_card(s, m, "6214681234")
        identity.issue_card(s, m, good)


def test_bin_allow_list_is_an_editable_setting(app, world):
    from unionhub.settings import service as settings

    with app.app_context():
        s = db.session()
        settings.put("core.jingka_bins", "622202")
        s.commit()
        m = identity.create_member(s, name="吴昊", id_number=new_id_number(),
                                   org=world.orgs["g1"])
        identity.issue_card(s, m, new_card_number("622202"))
        with pytest.raises(identity.IdentityError, match="BIN"):
            identity.replace_card(s, m.active_card, new_card_number("621468"))


def test_a_card_never_belongs_to_two_members(app, world):
    with app.app_context():
        s = db.session()
        m = identity.create_member(s, name="郑爽", id_number=new_id_number(),
                                   org=world.orgs["g1"])
        with pytest.raises(identity.IdentityError, match="已被使用"):
            identity.issue_card(s, m, world.people["m1"].card_number)
        # and the database itself refuses it
        other = db.session().scalar(select(JingkaCard).where(
            JingkaCard.member_id == world.people["m1"].member_id))
        s.add(JingkaCard(member_id=m.id, number_enc="x", number_hash=other.number_hash,
                         number_masked="x", status=CardStatus.CLOSED))
        with pytest.raises(IntegrityError):
            s.flush()
        s.rollback()


def test_one_active_card_per_member_enforced_by_database(app, world):
    with app.app_context():
        s = db.session()
        s.add(JingkaCard(member_id=world.people["m1"].member_id, number_enc="x",
                         number_hash="f" * 64, number_masked="x", status=CardStatus.ACTIVE))
        with pytest.raises(IntegrityError):
            s.flush()
        s.rollback()


def test_replacement_keeps_member_history_and_account(app, world):
    p = world.people["m1"]
    client = app.test_client()
    with app.app_context():
        s = db.session()
        old = identity.find_by_card(p.card_number).card
        identity.report_lost(s, old)
        new_number = new_card_number("623111")
        new = identity.replace_card(s, old, new_number)
        s.commit()
        assert new.member_id == p.member_id
        assert old.status == CardStatus.REPLACED and old.replaced_by_id == new.id
        # look-up by either number finds the member; the old is marked replaced
        by_old = identity.find_by_card(p.card_number)
        by_new = identity.find_by_card(new_number)
        assert by_old.member.id == by_new.member.id == p.member_id
        assert by_old.replaced and not by_new.replaced
        assert by_old.current_card.id == new.id
        # the old number is never usable again, not even for the same member
        with pytest.raises(identity.IdentityError):
            identity.replace_card(s, new, p.card_number)
    # old number refused at sign-in, new one accepted, same account
    assert login(client, p.card_number).status_code == 401
    r = login(client, new_number)
    assert r.status_code == 302
    assert "张伟" in client.get("/me").get_data(as_text=True)


def test_replacement_with_invalid_number_changes_nothing(app, world):
    p = world.people["m1"]
    with app.app_context():
        s = db.session()
        old = identity.find_by_card(p.card_number).card
        with pytest.raises(identity.IdentityError):
            identity.replace_card(s, old, "123")
        s.rollback()
        assert identity.find_by_card(p.card_number).card.status == CardStatus.ACTIVE


def test_officer_replaces_card_through_the_page(app, world):
    p = world.people["m1"]
    client = app.test_client()
    login(client, "g1officer")
    new_number = new_card_number()
    url = f"/office/members/{p.member_id}"
    with app.app_context():
        card_id = identity.find_by_card(p.card_number).card.id
    r = post_form(client, f"{url}/cards/{card_id}/replace", {"new_number": new_number},
                  form_url=url, follow_redirects=True)
    body = r.get_data(as_text=True)
    assert "已补卡" in body
    assert new_number not in body and p.card_number not in body
    assert new_number[:4] + " **** **** " + new_number[-4:] in body
    # bad number: clear message, nothing changed
    r = post_form(client, f"{url}/cards/{card_id}/replace", {"new_number": "1"},
                  form_url=url, follow_redirects=True)
    assert "不能补卡" in r.get_data(as_text=True)


def test_member_search_by_card_id_mobile_and_name_masked(app, world):
    p = world.people["m1"]
    client = app.test_client()
    login(client, "admin")
    for q in (p.card_number, p.id_number, p.mobile):
        # numbers are posted, never put in a URL, and lead straight to the member
        r = post_form(client, "/office/members", {"q": q})
        assert r.status_code == 302, q
        assert r.headers["Location"].endswith(f"/office/members/{p.member_id}"), q
        assert q not in r.headers["Location"]
        body = client.get(r.headers["Location"]).get_data(as_text=True)
        assert "张伟" in body and p.id_number not in body and p.card_number not in body
    for q in ("张伟", "张"):
        body = client.get("/office/members", query_string={"q": q}).get_data(as_text=True)
        assert "张伟" in body and "李娜" not in body, q
        assert p.id_number not in body and p.card_number not in body
        assert p.id_number[:4] + "**********" + p.id_number[-4:] in body
    r = post_form(client, "/office/members", {"q": "6214680000000000000"},
                  follow_redirects=True)
    assert "没有找到会员" in r.get_data(as_text=True)


def test_member_list_is_paginated(app, world):
    with app.app_context():
        for i in range(25):
            add_member(world.orgs["g2"], f"会员{i:02d}", password=None)
    client = app.test_client()
    login(client, "haidian")
    first = client.get("/office/members").get_data(as_text=True)
    assert "1 / 2" in first and "会员00" in first and "会员24" not in first
    second = client.get("/office/members?page=2").get_data(as_text=True)
    assert "会员24" in second
    assert PASSWORD
