"""The member-exchange hooks (unionhub.exchange): a member import tells plugins what it changed,
in its own transaction; accounting lines and audience sources are gathered and checked."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.conftest import AppFactory
from tests.core.test_imports import apply, person, run, write
from tests.helpers import build_world, new_card_number
from unionhub import db
from unionhub.identity.models import Member


@pytest.fixture
def sample_app(make_app: AppFactory):  # type: ignore[no-untyped-def]
    make_app.set_plugin("sample", True)
    app = make_app()
    with app.app_context():
        world = build_world()
    return app, world


def test_an_applied_import_reports_new_left_and_replaced_members(sample_app, tmp_path):
    from unionhub_sample import plugin

    app, world = sample_app
    m1, m2 = world.people["m1"], world.people["m2"]
    rows = [
        person(姓名="新人"),
        {"姓名": m1.name, "身份证号": m1.id_number, "京卡卡号": new_card_number(),
         "工会组织代码": "G1", "原卡号": m1.card_number},
        {"姓名": m2.name, "身份证号": m2.id_number, "京卡卡号": m2.card_number,
         "工会组织代码": "G2", "会籍状态": "转出"},
    ]
    batch = run(app, write(tmp_path / "m.csv", rows))
    counts = apply(app, batch.id)
    seen = plugin.CHANGES[batch.id]
    with app.app_context():
        new_id = db.session().scalar(select(Member.id).where(Member.name == "新人"))
    assert seen == {"new": [new_id], "left": [m2.member_id], "cards_replaced": [m1.member_id]}
    assert counts["reactions"] == [{
        "plugin": "sample", "label": "示例插件",
        "counts": {"new": 1, "left": 1, "cards_replaced": 1},
        "count_labels": {"new": "新会员", "left": "离会", "cards_replaced": "换卡"}}]
    # importing the same file again changes nothing, and nobody is told of changes
    again = run(app, write(tmp_path / "m2.csv", [
        {"姓名": m2.name, "身份证号": m2.id_number, "京卡卡号": m2.card_number,
         "工会组织代码": "G2", "会籍状态": "转出"}]))
    assert "reactions" not in apply(app, again.id)
    assert plugin.CHANGES[again.id] == {"new": [], "left": [], "cards_replaced": []}


def test_a_failing_reaction_rolls_the_import_back(sample_app, tmp_path, monkeypatch):
    app, _world = sample_app

    def boom(changes):  # type: ignore[no-untyped-def]
        raise RuntimeError("plugin failed")

    impl = next(i for i in app.extensions["unionhub"].pm.hook.unionhub_members_changed
                .get_hookimpls() if i.plugin_name == "sample")
    monkeypatch.setattr(impl, "function", boom)
    batch = run(app, write(tmp_path / "m.csv", [person(姓名="不该留下")]))
    with pytest.raises(RuntimeError, match="plugin failed"):
        apply(app, batch.id)
    with app.app_context():
        assert db.session().scalar(select(Member.id).where(Member.name == "不该留下")) is None


def test_accounting_lines_and_audiences_are_gathered_and_checked(sample_app, monkeypatch):
    from unionhub import exchange
    from unionhub.contrib import AccountingLine
    from unionhub_sample.models import SampleNote

    app, world = sample_app
    with app.app_context():
        s = db.session()
        s.add_all([SampleNote(member_id=world.people["m1"].member_id, text="a"),
                   SampleNote(member_id=world.people["m1"].member_id, text="b")])
        s.commit()
        lines = exchange.accounting_lines(2026)
        assert [(x.plugin, x.line.unit_org_id, x.line.headcount, x.line.shares, x.line.due)
                for x in lines] == [("sample", world.orgs["g1"].id, 1, 2, Decimal("3.00"))]
        sources = exchange.audience_sources()
        assert list(sources) == ["sample.note_writers"]
        members = s.scalars(sources["sample.note_writers"].members(s, "any")).all()
        assert set(members) == {world.people["m1"].member_id}

        impl = next(i for i in app.extensions["unionhub"].pm.hook.unionhub_accounting_lines
                    .get_hookimpls() if i.plugin_name == "sample")
        monkeypatch.setattr(impl, "function", lambda plan_year: [
            AccountingLine(1, "X", "x", 1, 1, 1.5, Decimal("1.50"), Decimal("0.00"))])
        with pytest.raises(exchange.ExchangeError, match="Decimal with 2 places"):
            exchange.accounting_lines(2026)


def test_a_campaign_can_choose_the_channels_of_a_batch(sample_app):
    from unionhub.notify.models import NotifyOutbox
    from unionhub.notify.registry import NotifyError
    from unionhub.notify.service import send

    app, world = sample_app
    ids = [world.people["m1"].member_id, world.people["m2"].member_id]
    with app.app_context():
        s = db.session()
        send(s, "sample.reminder", ids, {"title": "x"}, "chosen", channels=["sms"],
             dispatch=False)
        s.commit()
        rows = s.execute(select(NotifyOutbox.channel, NotifyOutbox.member_id)).all()
        assert sorted(rows) == sorted(("sms", i) for i in ids)
        with pytest.raises(NotifyError, match="not allowed"):
            send(s, "sample.reminder", ids, {"title": "x"}, "bad", channels=["email"])
