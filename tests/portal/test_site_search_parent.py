"""Search documents of sub-section articles follow the parent section's audience (the rule of
``audience.section_clause``): the effective target is
``effective_target(effective_target(parent, section), article)`` and a hidden parent hides
them — checked against the SQL rule for each member."""

from __future__ import annotations

from typing import Any

from tests.portal.conftest import Portal, add_article


def _docs(ids: list[int]) -> dict[int, Any]:
    from unionhub import db
    from unionhub_portal.site.search import documents

    return {int(d.doc_id): d for d in documents(db.session(), [str(i) for i in ids])}


def _section(portal: Portal, code: str) -> Any:
    from unionhub import db
    from unionhub_portal.models import PortalSection

    return db.session().get(PortalSection, portal.sections[code])


def test_parent_org_and_groups_narrow_the_sub_sections_documents(portal: Portal) -> None:
    from unionhub import db
    from unionhub.groups.service import add_members, create_group
    from unionhub.search.acl import PUBLIC, org_group_token, org_token
    from unionhub_portal.models import PortalSectionGroup

    w = portal.world
    city, d1, d2, g1 = (w.org_id(k) for k in ("city", "d1", "d2", "g1"))
    with portal.app.app_context():
        s = db.session()
        group = create_group(s, "model_worker", "劳动模范")
        add_members(s, group, [w.people["m1"].member_id])
        s.commit()
        plain = add_article(portal.sections["legal_aid"], "援助", owner_org_id=city)
        deeper = add_article(portal.sections["legal_aid"], "基层援助", owner_org_id=city,
                             audience_org_id=g1)
        elsewhere = add_article(portal.sections["legal_aid"], "海淀援助", owner_org_id=city,
                                audience_org_id=d2)
        top = add_article(portal.sections["rights"], "维权总览", owner_org_id=city)
        ids = [plain, deeper, elsewhere, top]
        assert {i: d.acl for i, d in _docs(ids).items()} == {
            plain: (PUBLIC,), deeper: (org_token(g1),), elsewhere: (org_token(d2),),
            top: (PUBLIC,)}

        rights = _section(portal, "rights")
        rights.audience_org_id = d1
        s.commit()
        docs = _docs(ids)
        assert docs[plain].acl == (org_token(d1),)  # the parent's target reaches down
        assert docs[deeper].acl == (org_token(g1),)  # the deeper subtree wins
        assert docs[elsewhere].acl == ("nobody",)  # disjoint subtrees
        assert docs[top].acl == (org_token(d1),)

        rights.has_groups = True
        s.add(PortalSectionGroup(section_id=rights.id, group_id=group.id))
        s.commit()
        docs = _docs(ids)
        assert docs[plain].acl == (org_group_token(d1, group.id),)
        assert docs[deeper].acl == (org_group_token(g1, group.id),)

        # a sub-section naming another group than its parent: nobody in common
        other = create_group(s, "young", "青年职工")
        legal = _section(portal, "legal_aid")
        legal.has_groups = True
        s.add(PortalSectionGroup(section_id=legal.id, group_id=other.id))
        s.commit()
        assert {d.acl for i, d in _docs(ids).items() if i != top} == {("nobody",)}


def test_hidden_parent_and_platforms_reach_the_documents_status_and_tags(portal: Portal
                                                                         ) -> None:
    from unionhub import db

    w = portal.world
    with portal.app.app_context():
        s = db.session()
        art = add_article(portal.sections["labour_protection"], "安全生产",
                          owner_org_id=w.org_id("city"))
        draft = add_article(portal.sections["labour_protection"], "草稿",
                            owner_org_id=w.org_id("city"), state="draft")
        doc = _docs([art])[art]
        assert doc.status == "published"
        assert set(doc.tags) >= {"platform:pc", "platform:mobile", "platform:app"}

        rights = _section(portal, "rights")
        rights.on_pc = rights.on_app = False
        s.commit()
        doc = _docs([art])[art]
        assert doc.status == "offsite"
        assert [t for t in doc.tags if t.startswith("platform:")] == ["platform:mobile"]

        rights.hidden = True
        s.commit()
        docs = _docs([art, draft])
        assert docs[art].status == "hidden"
        assert docs[draft].status == "draft"
