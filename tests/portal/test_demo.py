"""`unionhub demo` with the portal enabled, on a fresh database: every news, notice and
document section has live articles; notices are aimed at single unions and a member group;
covers and files exist on disk; every article has its first revision and is queued for search."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from tests.conftest import AppFactory
from tests.helpers import cli


def _demo_app(make_app: AppFactory) -> Flask:
    make_app.set_plugin("portal", True)
    app = make_app()
    result = cli(app, "demo", "--members", "150")
    assert result.exit_code == 0, result.output
    assert "门户网站：" in result.output
    return app


def test_demo_fills_every_article_section(make_app: AppFactory) -> None:
    from unionhub import db
    from unionhub.db import utcnow
    from unionhub.groups.models import MemberGroup
    from unionhub.orgs.models import Org
    from unionhub_portal.audience import live_clause
    from unionhub_portal.models import (
        PortalArticle,
        PortalArticleGroup,
        PortalAttachment,
        PortalRevision,
        PortalSection,
    )

    app = _demo_app(make_app)
    with app.app_context():
        s = db.session()
        now = utcnow()
        total = s.scalar(select(func.count()).select_from(PortalArticle))
        assert 300 <= total <= 450
        live = dict(s.execute(
            select(PortalSection.code, func.count(PortalArticle.id))
            .join(PortalArticle, PortalArticle.section_id == PortalSection.id)
            .where(live_clause(now)).group_by(PortalSection.code)).all())
        content = list(s.scalars(select(PortalSection.code).where(
            PortalSection.kind.in_(("news", "notice", "documents")))))
        assert len(content) >= 15
        for code in content:
            assert live.get(code, 0) >= 5, code
        states = Counter(s.scalars(select(PortalArticle.state)))
        assert states["draft"] >= 3 and states["pending"] >= 3 and states["offline"] >= 1
        scheduled = s.scalar(select(func.count()).select_from(PortalArticle).where(
            PortalArticle.state == "published", PortalArticle.published_at > now))
        expired = s.scalar(select(func.count()).select_from(PortalArticle).where(
            PortalArticle.expires_at < now))
        assert scheduled >= 3 and expired >= 3
        # dates spread over the last twelve months
        oldest = s.scalar(select(func.min(PortalArticle.published_at)))
        assert now - timedelta(days=370) < oldest < now - timedelta(days=200)

        # targeted notices: 朝阳 and 交通运输工会 subtrees, and a member group
        orgs = {o.code: o.id for o in s.scalars(select(Org))}
        targets = Counter(s.scalars(select(PortalArticle.audience_org_id).where(
            PortalArticle.audience_org_id.is_not(None))))
        assert targets[orgs["110105"]] >= 3 and targets[orgs["119001"]] >= 3
        chaoyang = list(s.scalars(select(PortalArticle.title).where(
            PortalArticle.audience_org_id == orgs["110105"])))
        assert all(t.startswith("朝阳区总工会关于") for t in chaoyang)
        grouped = set(s.scalars(select(MemberGroup.code).join(
            PortalArticleGroup, PortalArticleGroup.group_id == MemberGroup.id)))
        assert grouped and grouped <= {"model_worker", "female"}
        assert s.scalar(select(func.count()).select_from(PortalArticle).where(
            PortalArticle.has_groups.is_(True))) == len(list(s.scalars(
                select(PortalArticleGroup.article_id))))
        only_mobile = s.scalar(select(func.count()).select_from(PortalArticle).where(
            PortalArticle.on_mobile.is_(True), PortalArticle.on_pc.is_(False),
            PortalArticle.on_app.is_(False)))
        only_app = s.scalar(select(func.count()).select_from(PortalArticle).where(
            PortalArticle.on_app.is_(True), PortalArticle.on_pc.is_(False),
            PortalArticle.on_mobile.is_(False)))
        assert only_mobile >= 2 and only_app >= 1

        # headlines have covers; covers and files are on disk with the recorded size
        headlines = list(s.scalars(select(PortalArticle).where(PortalArticle.headline)))
        assert len(headlines) >= 5 and all(a.cover_id for a in headlines)
        folder = Path(app.instance_path) / "portal" / "attachments"
        attachments = list(s.scalars(select(PortalAttachment)))
        kinds = Counter((a.kind, a.content_type.split(";")[0]) for a in attachments)
        assert kinds[("image", "image/png")] >= 20 and kinds[("file", "application/pdf")] >= 5
        for a in attachments:
            data = (folder / a.stored_name).read_bytes()
            assert len(data) == a.size
        cover = s.get(PortalAttachment, headlines[0].cover_id)
        assert cover.article_id == headlines[0].id and cover.kind == "image"
        assert (folder / cover.stored_name).read_bytes().startswith(b"\x89PNG")
        pdf = next(a for a in attachments if a.content_type == "application/pdf")
        assert (folder / pdf.stored_name).read_bytes().startswith(b"%PDF-1.4")
        # …and the download route serves them (it accepts only the names uploads get)
        public = s.scalar(select(PortalArticle).where(
            PortalArticle.headline.is_(True), PortalArticle.audience_org_id.is_(None),
            PortalArticle.has_groups.is_(False), PortalArticle.on_pc.is_(True),
            PortalArticle.state == "published", PortalArticle.published_at <= utcnow(),
            PortalArticle.expires_at.is_(None)).limit(1))
        assert public is not None
        response = app.test_client().get(f"/portal/attachments/{public.cover_id}")
        assert response.status_code == 200
        assert response.data.startswith(b"\x89PNG")

        # believable content: Chinese bodies of some length, summaries, tags, sources
        sample = list(s.scalars(select(PortalArticle).where(
            PortalArticle.state == "published").limit(50)))
        assert all(len(a.body_html) > 200 and a.summary and a.tags and a.source for a in sample)
        titles = list(s.scalars(select(PortalArticle.title)))
        assert len(set(titles)) == len(titles)
        assert any("劳模" in t for t in titles) and any("送温暖" in t for t in titles)
        assert "第一条" in s.scalar(select(PortalArticle.body_html).join(PortalSection).where(
            PortalSection.code == "documents").limit(1))

        # the first revision of each, matching the article
        revisions = s.scalar(select(func.count()).select_from(PortalRevision))
        assert revisions == total
        rev = s.scalar(select(PortalRevision).where(
            PortalRevision.article_id == headlines[0].id))
        assert rev.number == 1 and rev.title == headlines[0].title
        assert rev.meta["cover_id"] == headlines[0].cover_id
        assert rev.meta["platforms"] == list(headlines[0].platforms)
        assert rev.meta["section_id"] == headlines[0].section_id
        assert s.scalar(select(func.max(PortalArticle.revision))) == 1


def test_demo_is_deterministic_for_a_seed(make_app: AppFactory) -> None:
    """The same generator state writes the same articles (dates aside: relative to now)."""
    from unionhub import db
    from unionhub.demo import DemoContext
    from unionhub_portal.sections.demo import build

    make_app.set_plugin("portal", True)
    app = make_app()
    with app.app_context():
        from tests.helpers import build_world

        world = build_world()
        s = db.session()
        orgs = {o.code: s.merge(o) for o in world.orgs.values()}

        def titles() -> list[str]:
            ctx = DemoContext(rng=random.Random(7), orgs=orgs, member_ids=[], officers={})
            return [d.row["title"] for d in build(s, ctx)]

        first = titles()
        assert first == titles() and len(first) >= 300
