"""The one audience rule (unionhub_portal.audience) on its own: org subtree, groups, platforms,
the live window and the section's own audience, for anonymous visitors and members."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.helpers import member
from tests.portal.conftest import Portal, add_article


def _visible(portal: Portal, account_id: int | None, platform: str = "pc") -> set[str]:
    from unionhub import db
    from unionhub.identity.models import Account
    from unionhub_portal.audience import Viewer, visible_articles, with_sections
    from unionhub_portal.models import PortalArticle

    s = db.session()
    account = s.get(Account, account_id) if account_id else None
    viewer = Viewer.of(s, account, platform)  # type: ignore[arg-type]
    titles = set(s.scalars(visible_articles(viewer).with_only_columns(PortalArticle.title)))
    # the request's form (sections looked up once, then section_id IN …) agrees
    looked_up = with_sections(s, viewer)
    assert looked_up.sections is not None
    assert set(s.scalars(visible_articles(looked_up).with_only_columns(
        PortalArticle.title))) == titles
    return titles


def test_org_group_platform_and_window(portal: Portal) -> None:
    from unionhub import db
    from unionhub.db import utcnow
    from unionhub.groups.service import add_members, create_group

    w, news = portal.world, portal.sections["news"]
    city = w.org_id("city")
    with portal.app.app_context():
        s = db.session()
        group = create_group(s, "model_worker", "劳动模范")
        add_members(s, group, [w.people["m3"].member_id])
        s.commit()
        add_article(news, "全市", owner_org_id=city)
        add_article(news, "朝阳", owner_org_id=city, audience_org_id=w.org_id("d1"))
        add_article(news, "海淀", owner_org_id=city, audience_org_id=w.org_id("d2"))
        add_article(news, "劳模", owner_org_id=city, groups=[group.id])
        add_article(news, "朝阳劳模", owner_org_id=city, audience_org_id=w.org_id("d1"),
                    groups=[group.id])
        add_article(news, "仅App", owner_org_id=city, platforms=["app"])
        add_article(news, "草稿", owner_org_id=city, state="draft")
        add_article(news, "定时", owner_org_id=city, published_at=utcnow() + timedelta(hours=1))
        add_article(news, "过期", owner_org_id=city, expires_at=utcnow() - timedelta(minutes=1))

        assert _visible(portal, None) == {"全市"}
        assert _visible(portal, w.people["m1"].account_id) == {"全市", "朝阳"}
        assert _visible(portal, w.people["m2"].account_id) == {"全市", "海淀"}
        # m3 is in a branch below g1 below 朝阳, and in the group
        assert _visible(portal, w.people["m3"].account_id) == {"全市", "朝阳", "劳模", "朝阳劳模"}
        assert _visible(portal, None, "app") == {"全市", "仅App"}
        assert member(w.people["m3"].member_id).org_id == w.org_id("b1")


def test_a_section_audience_and_hidden_section_apply_to_its_articles(portal: Portal) -> None:
    from unionhub import db
    from unionhub_portal.models import PortalSection

    w, city = portal.world, portal.world.org_id("city")
    with portal.app.app_context():
        s = db.session()
        add_article(portal.sections["culture"], "文体", owner_org_id=city)
        add_article(portal.sections["women"], "女工", owner_org_id=city)
        s.get(PortalSection, portal.sections["culture"]).audience_org_id = w.org_id("d2")
        s.get(PortalSection, portal.sections["women"]).hidden = True
        s.commit()
        assert _visible(portal, w.people["m1"].account_id) == set()
        assert _visible(portal, w.people["m2"].account_id) == {"文体"}
        assert s.scalar(select(PortalSection.id).where(PortalSection.code == "women"))


def test_effective_target_for_search() -> None:
    from unionhub_portal.audience import Target, effective_target, target_acl

    every = Target(None, None, None)
    d1 = Target("/1/2/", 2, None)
    g1 = Target("/1/2/4/", 4, None)
    d2 = Target("/1/3/", 3, None)
    assert effective_target(every, every) == every
    assert effective_target(d1, g1).org_id == 4
    assert effective_target(g1, d1).org_id == 4
    assert effective_target(d1, d2).nobody
    assert target_acl(effective_target(every, Target(None, None, frozenset({7})))) == ("group:7",)
    both = effective_target(Target(None, None, frozenset({7, 8})),
                            Target(None, None, frozenset({8})))
    assert both.groups == frozenset({8})
    assert effective_target(Target(None, None, frozenset({7})),
                            Target(None, None, frozenset({8}))).nobody
    assert target_acl(Target(None, None, None, nobody=True)) == ("nobody",)


def test_a_parent_section_hidden_or_targeted_covers_its_sub_sections(portal: Portal) -> None:
    from unionhub import db
    from unionhub_portal.models import PortalSection

    w, city = portal.world, portal.world.org_id("city")
    with portal.app.app_context():
        s = db.session()
        add_article(portal.sections["grassroots"], "基层", owner_org_id=city)  # under 工会动态
        assert _visible(portal, w.people["m1"].account_id) == {"基层"}
        s.get(PortalSection, portal.sections["news"]).audience_org_id = w.org_id("d2")
        s.commit()
        assert _visible(portal, w.people["m1"].account_id) == set()
        assert _visible(portal, w.people["m2"].account_id) == {"基层"}
        news = s.get(PortalSection, portal.sections["news"])
        news.audience_org_id, news.hidden = None, True
        s.commit()
        assert _visible(portal, w.people["m2"].account_id) == set()
        assert _visible(portal, None) == set()
