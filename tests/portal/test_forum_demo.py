"""The forum's demo seeder: the boards (one of them the bus group union's own), about forty
topics with replies and quotes whose counts are right, a pending post and open reports."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from tests.portal.conftest import Portal
from unionhub import db
from unionhub.demo import DemoContext


def test_demo_forum(portal: Portal) -> None:
    from unionhub.orgs.models import Org, OrgLevel
    from unionhub.orgs.service import create_org
    from unionhub_portal.forum import demo
    from unionhub_portal.forum.models import (
        PortalForumBoard,
        PortalForumPost,
        PortalForumReport,
        PortalForumTopic,
    )

    w = portal.world
    with portal.app.app_context():  # as `unionhub demo` runs it: no request
        s = db.session()
        bus = create_org(s, code=demo.BUS_UNION, name="公交集团工会", level=OrgLevel.GRASSROOTS,
                         parent=s.merge(w.orgs["d1"]))
        s.commit()
        orgs = {o.code: s.merge(o) for o in w.orgs.values()}
        orgs[bus.code] = bus
        ctx = DemoContext(rng=random.Random(7), orgs=orgs,
                          member_ids=[p.member_id for p in w.people.values()], officers={})
        demo.seed(s, ctx)
        s.commit()
        boards = {b.name: b for b in s.scalars(select(PortalForumBoard))}
        assert set(boards) == {"职工之家", "劳模工匠", "文体活动", "法律咨询交流", "一线心声",
                               "公交人之家"}
        assert boards["公交人之家"].org_id == bus.id and boards["法律咨询交流"].premoderated
        topics = s.scalars(select(PortalForumTopic)).all()
        assert 35 <= len(topics) <= 45
        for t in topics:
            visible = s.scalar(select(func.count()).select_from(PortalForumPost).where(
                PortalForumPost.topic_id == t.id, PortalForumPost.state == "visible",
                PortalForumPost.is_first.is_(False)))
            assert t.reply_count == visible
        assert s.scalar(select(func.count()).select_from(PortalForumPost).where(
            PortalForumPost.quote_post_id.is_not(None))) >= 10
        assert s.scalar(select(func.count()).select_from(PortalForumPost).where(
            PortalForumPost.state == "pending")) == 1
        assert s.scalar(select(func.count()).select_from(PortalForumReport)) == 2
        assert any(t.pinned for t in topics) and any(t.locked for t in topics)
        assert s.get(Org, bus.id) is not None
