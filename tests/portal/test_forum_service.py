"""The forum's rules as services: org boards, posting (locked topics, pre-moderation, sensitive
words, rate limit, edit window, quotes), subscriptions that notify once, moderation actions and
their scope (decided in SQL), reports and the denormalised counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.portal.conftest import Portal
from unionhub import db
from unionhub.db import utcnow


def reader_for(portal: Portal, who: str | None, platform: str = "pc") -> Any:
    """A :class:`Reader` for a member key (m1…), an officer username, or None (anonymous)."""
    from unionhub.identity.models import Account
    from unionhub_portal.forum.service import Reader

    w = portal.world
    if who is None:
        account = None
    else:
        account_id = w.people[who].account_id if who in w.people else w.officers[who]
        account = db.session().get(Account, account_id)
    return Reader.of(db.session(), account, platform)  # type: ignore[arg-type]


def add_board(portal: Portal, name: str = "职工之家", *, org: str | None = None,
              premoderated: bool = False, archived: bool = False) -> int:
    from unionhub_portal.forum.models import PortalForumBoard

    s = db.session()
    board = PortalForumBoard(section_id=portal.sections["forum"], name=name,
                             org_id=portal.world.org_id(org) if org else None,
                             premoderated=premoderated, archived=archived)
    s.add(board)
    s.commit()
    return board.id


def new_topic(portal: Portal, who: str, board_id: int, title: str = "食堂菜品建议",
              body: str = "希望增加**清淡**菜品。", **kw: Any) -> Any:
    from unionhub_portal.forum import service

    s = db.session()
    post = service.create_topic(s, reader_for(portal, who), board_id, title, body, **kw)
    s.commit()
    return post


def new_reply(portal: Portal, who: str, topic_id: int, body: str = "赞同！", **kw: Any) -> Any:
    from unionhub_portal.forum import service

    s = db.session()
    post = service.reply(s, reader_for(portal, who), topic_id, body, **kw)
    s.commit()
    return post


def set_limit(value: int) -> None:
    from unionhub.settings import service as settings

    settings.put("portal.forum_posts_per_10min", str(value))
    db.session().commit()


def add_word(portal: Portal, word: str, level: str) -> None:
    from unionhub_portal.forum import moderation

    s = db.session()
    moderation.add_word(s, reader_for(portal, "city"), word, level)
    s.commit()


def inbox(member_id: int) -> list[str]:
    from unionhub.notify.models import Notification

    return list(db.session().scalars(select(Notification.title).where(
        Notification.member_id == member_id, Notification.type_key == "portal.forum_reply")))


def test_org_board_only_for_its_subtree_and_its_moderators(portal: Portal) -> None:
    from unionhub_portal.forum import service

    with portal.app.app_context():
        city_board = add_board(portal, "职工之家")
        g1_board = add_board(portal, "电控工会", org="g1")
        new_topic(portal, "m1", g1_board, "电控内部讨论")

        def names(who: str | None, platform: str = "pc") -> set[str]:
            return {b.board.name for b in service.board_list(db.session(),
                                                             reader_for(portal, who, platform))}

        assert names("m1") == names("m3") == {"职工之家", "电控工会"}  # m3: branch below g1
        assert names("m2") == names(None) == {"职工之家"}
        assert names("chaoyang") == {"职工之家", "电控工会"}  # moderates d1's subtree
        assert "电控工会" not in names("haidian")
        assert names("m1", "mobile") == {"职工之家", "电控工会"}
        with pytest.raises(service.NotFound):
            service.get_board(db.session(), reader_for(portal, "m2"), g1_board)
        with pytest.raises(service.NotFound):
            new_topic(portal, "m2", g1_board)
        topic = db.session().scalars(service.topics_query(reader_for(portal, "m1"), g1_board)
                                     ).one()
        with pytest.raises(service.NotFound):
            service.get_topic(db.session(), reader_for(portal, "m2"), topic.id)
        assert city_board


def test_hidden_forum_section_hides_its_boards(portal: Portal) -> None:
    from unionhub_portal.forum import service
    from unionhub_portal.models import PortalSection

    with portal.app.app_context():
        add_board(portal)
        section = db.session().get(PortalSection, portal.sections["forum"])
        section.on_mobile = False
        db.session().commit()
        assert service.board_list(db.session(), reader_for(portal, "m1", "mobile")) == []
        assert len(service.board_list(db.session(), reader_for(portal, "m1", "pc"))) == 1


def test_topic_reply_quote_counts_and_markdown(portal: Portal) -> None:
    from unionhub_portal.forum import service
    from unionhub_portal.forum.models import PortalForumTopic

    with portal.app.app_context():
        board = add_board(portal)
        first = new_topic(portal, "m1", board, body="# 标题\n\n<script>x</script> **好**")
        assert "<h3>" in first.body_html and "<script>" not in first.body_html
        assert "&lt;script&gt;" in first.body_html
        r1 = new_reply(portal, "m2", first.topic_id, "同意")
        r2 = new_reply(portal, "m3", first.topic_id, "我也同意", quote_post_id=r1.id)
        topic = db.session().get(PortalForumTopic, first.topic_id)
        assert topic.reply_count == 2 and topic.last_post_at == r2.created_at
        assert r2.quote_post_id == r1.id
        other = new_topic(portal, "m2", board, "另一个主题")
        with pytest.raises(service.ForumError, match="只能引用本主题"):
            new_reply(portal, "m1", other.topic_id, "引用错了", quote_post_id=r1.id)
        db.session().rollback()
        with pytest.raises(service.ForumError, match="请填写内容"):
            new_reply(portal, "m1", topic.id, "   ")


def test_locked_topic_and_archived_board_refuse_replies(portal: Portal) -> None:
    from unionhub_portal.forum import moderation, service

    with portal.app.app_context():
        board = add_board(portal)
        first = new_topic(portal, "m1", board)
        s = db.session()
        moderation.set_topic_flag(s, reader_for(portal, "city"), first.topic_id, "lock")
        s.commit()
        with pytest.raises(service.ForumError, match="已锁定"):
            new_reply(portal, "m2", first.topic_id)
        db.session().rollback()
        # a moderator may still answer in a locked topic
        assert new_reply(portal, "city", first.topic_id, "官方答复").state == "visible"
        archived = add_board(portal, "旧版块", archived=True)
        with pytest.raises(service.ForumError, match="已归档"):
            new_topic(portal, "m1", archived)


def test_premoderated_board_holds_posts_until_approved(portal: Portal) -> None:
    from unionhub_portal.forum import moderation, service
    from unionhub_portal.forum.models import PortalForumTopic

    with portal.app.app_context():
        board = add_board(portal, "法律咨询交流", premoderated=True)
        first = new_topic(portal, "m1", board, "劳动合同到期不续签有补偿吗")
        assert first.state == "pending" and first.review_note
        topic = db.session().get(PortalForumTopic, first.topic_id)
        assert topic.pending
        s = db.session()
        # others do not see it; the author and the moderators do
        assert s.scalars(service.topics_query(reader_for(portal, "m2"), board)).all() == []
        assert [t.id for t in s.scalars(service.topics_query(reader_for(portal, "m1"), board))
                ] == [topic.id]
        city = reader_for(portal, "city")
        assert [p.id for p in s.scalars(moderation.pending_posts(city))] == [first.id]
        moderation.approve(s, city, first.id)
        s.commit()
        assert not topic.pending
        assert len(s.scalars(service.topics_query(reader_for(portal, "m2"), board)).all()) == 1
        reply = new_reply(portal, "m2", topic.id, "有的，按工作年限支付经济补偿")
        assert reply.state == "pending"
        assert topic.reply_count == 0
        moderation.reject(s, city, reply.id, "请补充法律依据")
        s.commit()
        assert reply.state == "deleted" and topic.reply_count == 0
        # the moderator's own reply is not held
        assert new_reply(portal, "city", topic.id, "依据劳动合同法第四十六条").state == "visible"
        db.session().refresh(topic)
        assert topic.reply_count == 1


def test_sensitive_words_review_and_block(portal: Portal) -> None:
    from unionhub_portal.forum import service

    with portal.app.app_context():
        board = add_board(portal)
        add_word(portal, "代开发票", "block")
        add_word(portal, "罢工", "review")
        with pytest.raises(service.ForumError, match="代开发票"):
            new_topic(portal, "m1", board, "正规代 开发票", "联系我")  # spaces do not help
        db.session().rollback()
        held = new_topic(portal, "m1", board, "讨论", "有人说要罢工？")
        assert held.state == "pending" and "罢工" in held.review_note
        ok = new_topic(portal, "m1", board, "讨论", "正常内容")
        assert ok.state == "visible"
        with pytest.raises(service.ForumError, match="代开发票"):
            new_reply(portal, "m2", ok.topic_id, "代开发票")


def test_rate_limit_counts_posts_of_the_last_ten_minutes(portal: Portal) -> None:
    from unionhub_portal.forum import service

    with portal.app.app_context():
        board = add_board(portal)
        set_limit(3)
        first = new_topic(portal, "m1", board)
        new_reply(portal, "m1", first.topic_id, "一")
        new_reply(portal, "m1", first.topic_id, "二")
        with pytest.raises(service.RateLimited, match="3"):
            new_reply(portal, "m1", first.topic_id, "三")
        db.session().rollback()
        assert new_reply(portal, "m2", first.topic_id, "别人不受影响").state == "visible"
        later = utcnow() + timedelta(minutes=11)
        assert new_reply(portal, "m1", first.topic_id, "过了十分钟", now=later).id
        set_limit(0)  # 0 turns the limit off
        for i in range(5):
            new_reply(portal, "m1", first.topic_id, f"第{i}条")


def test_edit_own_post_within_thirty_minutes(portal: Portal) -> None:
    from unionhub_portal.forum import service

    with portal.app.app_context():
        board = add_board(portal)
        first = new_topic(portal, "m1", board)
        s = db.session()
        service.edit(s, reader_for(portal, "m1"), first.id, "改过的*内容*", title="新标题")
        s.commit()
        assert first.topic.title == "新标题" and "<em>内容</em>" in first.body_html
        assert first.edited_at is not None
        with pytest.raises(service.NotAllowed):
            service.edit(s, reader_for(portal, "m2"), first.id, "别人的")
        with pytest.raises(service.ForumError, match="30 分钟"):
            service.edit(s, reader_for(portal, "m1"), first.id, "太晚了",
                         now=utcnow() + timedelta(minutes=31))
        s.rollback()
        add_word(portal, "罢工", "review")
        reply = new_reply(portal, "m2", first.topic_id)
        assert first.topic.reply_count == 1
        service.edit(s, reader_for(portal, "m2"), reply.id, "号召罢工")
        s.commit()
        assert reply.state == "pending" and first.topic.reply_count == 0


def test_subscribers_are_notified_once_per_reply_never_of_their_own(portal: Portal) -> None:
    from unionhub_portal.forum import moderation, service

    w = portal.world
    with portal.app.app_context():
        board = add_board(portal)
        first = new_topic(portal, "m1", board)  # m1 subscribed as author
        reply = new_reply(portal, "m2", first.topic_id)  # m2 subscribed by replying
        assert len(inbox(w.people["m1"].member_id)) == 1
        assert inbox(w.people["m2"].member_id) == []  # not for their own reply
        s = db.session()
        service.notify_reply(s, reply)  # sent again: still once
        s.commit()
        assert len(inbox(w.people["m1"].member_id)) == 1
        new_reply(portal, "m1", first.topic_id, "谢谢")
        assert len(inbox(w.people["m2"].member_id)) == 1
        assert len(inbox(w.people["m1"].member_id)) == 1
        service.unsubscribe(s, w.people["m2"].account_id, first.topic_id)
        s.commit()
        new_reply(portal, "m3", first.topic_id, "路过")
        assert len(inbox(w.people["m2"].member_id)) == 1
        assert len(inbox(w.people["m1"].member_id)) == 2
        # a held reply notifies when approved, once
        add_word(portal, "罢工", "review")
        held = new_reply(portal, "m3", first.topic_id, "罢工？")
        assert len(inbox(w.people["m1"].member_id)) == 2
        moderation.approve(s, reader_for(portal, "city"), held.id)
        s.commit()
        assert len(inbox(w.people["m1"].member_id)) == 3


def test_moderation_scope_is_decided_in_sql(portal: Portal) -> None:
    from unionhub_portal.forum import moderation, service

    with portal.app.app_context():
        city_board = add_board(portal, "职工之家")
        d1_board = add_board(portal, "朝阳职工", org="d1")
        g1_board = add_board(portal, "电控工会", org="g1")
        t_city = new_topic(portal, "m1", city_board).topic_id
        t_g1 = new_topic(portal, "m1", g1_board).topic_id
        s = db.session()
        haidian, chaoyang = reader_for(portal, "haidian"), reader_for(portal, "chaoyang")
        assert chaoyang.moderated == {d1_board, g1_board}
        assert reader_for(portal, "city").moderated == {city_board, d1_board, g1_board}
        assert reader_for(portal, "m1").moderated == frozenset()
        assert moderation.moderated_board_ids(s, haidian.account) == []
        with pytest.raises(service.NotAllowed):
            moderation.set_topic_flag(s, haidian, t_g1, "lock")
        with pytest.raises(service.NotAllowed):  # city-wide boards need a grant at the city
            moderation.set_topic_flag(s, chaoyang, t_city, "pin")
        with pytest.raises(service.NotAllowed):
            moderation.move_topic(s, chaoyang, t_g1, city_board)
        moderation.set_topic_flag(s, chaoyang, t_g1, "pin")
        s.commit()
        with pytest.raises(service.NotAllowed):
            moderation.create_board(s, chaoyang, moderation.BoardInput(
                "全市新版块", portal.sections["forum"]))
        with pytest.raises(service.NotAllowed):
            moderation.create_board(s, chaoyang, moderation.BoardInput(
                "海淀版块", portal.sections["forum"], org_id=portal.world.org_id("d2")))
        board = moderation.create_board(s, chaoyang, moderation.BoardInput(
            "朝阳文体", portal.sections["forum"], org_id=portal.world.org_id("d1")))
        s.commit()
        assert board.id in reader_for(portal, "chaoyang").moderated
        with pytest.raises(service.ForumError, match="论坛类栏目"):
            moderation.create_board(s, chaoyang, moderation.BoardInput(
                "新闻版", portal.sections["news"], org_id=portal.world.org_id("d1")))


def test_hide_delete_restore_move_keep_counts_right(portal: Portal) -> None:
    from unionhub_portal.forum import moderation, service
    from unionhub_portal.forum.models import PortalForumLog

    with portal.app.app_context():
        a = add_board(portal, "职工之家")
        b = add_board(portal, "文体活动")
        first = new_topic(portal, "m1", a)
        replies = [new_reply(portal, who, first.topic_id, f"回复{i}")
                   for i, who in enumerate(["m2", "m3", "m2"])]
        s = db.session()
        topic = first.topic
        city = reader_for(portal, "city")
        assert topic.reply_count == 3 and topic.last_post_at == replies[-1].created_at
        moderation.set_post_state(s, city, replies[-1].id, "hide", "广告")
        s.commit()
        assert topic.reply_count == 2 and topic.last_post_at == replies[1].created_at
        moderation.set_post_state(s, city, replies[0].id, "delete")
        s.commit()
        assert topic.reply_count == 1
        moderation.set_post_state(s, city, replies[-1].id, "restore")
        s.commit()
        assert topic.reply_count == 2 and topic.last_post_at == replies[-1].created_at
        # m2 no longer sees the deleted reply; the moderator does
        m2_posts = s.scalars(service.posts_query(reader_for(portal, "m2"), topic.id)).all()
        assert replies[0] not in m2_posts and len(m2_posts) == 3
        assert len(s.scalars(service.posts_query(city, topic.id)).all()) == 4

        def stats(board_id: int) -> tuple[int, int]:
            row = next(x for x in service.board_list(s, reader_for(portal, "m1"))
                       if x.board.id == board_id)
            return row.topics, row.posts

        assert stats(a) == (1, 3) and stats(b) == (0, 0)
        moderation.move_topic(s, city, topic.id, b)
        s.commit()
        assert stats(a) == (0, 0) and stats(b) == (1, 3)
        moderation.set_topic_flag(s, city, topic.id, "hide")
        s.commit()
        assert stats(b) == (0, 0)
        with pytest.raises(service.NotFound):
            service.get_topic(s, reader_for(portal, "m2"), topic.id)
        moderation.set_topic_flag(s, city, topic.id, "restore")
        moderation.set_topic_flag(s, city, topic.id, "delete")
        s.commit()
        assert stats(b) == (0, 0)
        actions = s.scalars(select(PortalForumLog.action).order_by(PortalForumLog.id)).all()
        assert actions == ["hide", "delete", "restore", "move", "hide", "restore", "delete"]
        log = s.scalars(select(PortalForumLog)).first()
        log.action = "tampered"
        with pytest.raises(RuntimeError, match="append-only"):
            s.flush()
        s.rollback()


def test_reports_once_per_member_and_resolution(portal: Portal) -> None:
    from unionhub_portal.forum import moderation, service
    from unionhub_portal.forum.models import PortalForumReport

    with portal.app.app_context():
        board = add_board(portal)
        first = new_topic(portal, "m1", board)
        bad = new_reply(portal, "m2", first.topic_id, "加微信领红包")
        s = db.session()
        moderation.report(s, reader_for(portal, "m1"), bad.id, "广告")
        s.commit()
        with pytest.raises(service.ForumError, match="已举报"):
            moderation.report(s, reader_for(portal, "m1"), bad.id, "还是广告")
        s.rollback()
        with pytest.raises(service.ForumError, match="举报理由"):
            moderation.report(s, reader_for(portal, "m3"), bad.id, " ")
        moderation.report(s, reader_for(portal, "m3"), bad.id, "垃圾广告")
        s.commit()
        city = reader_for(portal, "city")
        assert moderation.queue_counts(s, city) == (0, 2)
        assert moderation.queue_counts(s, reader_for(portal, "haidian")) == (0, 0)
        first_report, second = s.scalars(moderation.open_reports(city)).all()
        with pytest.raises(service.NotAllowed):
            moderation.close_report(s, reader_for(portal, "haidian"), first_report.id, "dismiss")
        moderation.close_report(s, city, first_report.id, "resolve", "广告，已隐藏",
                                hide_post=True)
        moderation.close_report(s, city, second.id, "dismiss")
        s.commit()
        assert bad.state == "hidden" and first.topic.reply_count == 0
        assert s.scalar(select(func.count()).select_from(PortalForumReport).where(
            PortalForumReport.state == "open")) == 0
        with pytest.raises(service.ForumError, match="已处理"):
            moderation.close_report(s, city, second.id, "resolve")
        # a hidden post can no longer be reported by members
        with pytest.raises(service.NotFound):
            moderation.report(s, reader_for(portal, "m3"), bad.id, "再举报")


def test_images_checked_by_magic_bytes_and_size(portal: Portal) -> None:
    from unionhub_portal.forum import service

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    with portal.app.app_context():
        board = add_board(portal)
        post = new_topic(portal, "m1", board, uploads=[service.Upload("合影.png", png)])
        (image_id,) = [int(x) for x in __import__("re").findall(
            r'src="/portal/forum/images/(\d+)"', post.body_html)]
        image = service.get_image(db.session(), [reader_for(portal, "m2")], image_id)
        assert service.image_path(image).read_bytes() == png
        assert image.content_type == "image/png"
        with pytest.raises(service.ForumError, match="不是 JPEG"):
            new_topic(portal, "m1", board, uploads=[service.Upload("a.png", b"<svg onload=1>")])
        db.session().rollback()
        big = b"\xff\xd8\xff" + b"\x00" * service.MAX_IMAGE_BYTES
        with pytest.raises(service.ForumError, match="超过"):
            new_topic(portal, "m1", board, uploads=[service.Upload("big.jpg", big)])


def test_reply_notifications_only_reach_subscribers_who_may_still_read_the_board(
        portal: Portal) -> None:
    """A subscriber who can no longer read the board — the forum section now targets another
    district or a member group they are not in, or they left the union — gets no notice (its
    text quotes the reply); one who still may read it does."""
    from unionhub.groups.models import MemberGroup, MemberGroupMember
    from unionhub.identity.models import Member, MemberStatus
    from unionhub_portal.models import PortalSection, PortalSectionGroup

    w = portal.world
    with portal.app.app_context():
        s = db.session()
        board = add_board(portal)
        topic_id = new_topic(portal, "m1", board).topic_id
        new_reply(portal, "m3", topic_id, "我也关注")  # m3 subscribes by replying
        new_reply(portal, "m2", topic_id, "第一条回复")  # m1 is told of both replies
        assert len(inbox(w.people["m1"].member_id)) == 2
        assert len(inbox(w.people["m3"].member_id)) == 1
        # the forum now targets 海淀 (m2's district): m1 and m3 (朝阳) may no longer read it
        section = s.get(PortalSection, portal.sections["forum"])
        section.audience_org_id = w.org_id("d2")
        s.commit()
        new_reply(portal, "m2", topic_id, "只给海淀看的回复")
        assert len(inbox(w.people["m2"].member_id)) == 0  # their own reply
        assert len(inbox(w.people["m1"].member_id)) == 2
        assert len(inbox(w.people["m3"].member_id)) == 1
        # back to everyone, but only for a member group that m3 is in
        group = MemberGroup(code="model-workers", name="劳模")
        s.add(group)
        s.flush()
        s.add(MemberGroupMember(group_id=group.id, member_id=w.people["m3"].member_id))
        s.add(PortalSectionGroup(section_id=section.id, group_id=group.id))
        section.audience_org_id, section.has_groups = None, True
        s.commit()
        new_reply(portal, "city", topic_id, "只给劳模看的回复")  # a moderator
        assert len(inbox(w.people["m1"].member_id)) == 2
        assert len(inbox(w.people["m3"].member_id)) == 2
        # m3 leaves the union: no more notices
        s.get(Member, w.people["m3"].member_id).status = MemberStatus.LEFT
        s.commit()
        new_reply(portal, "city", topic_id, "又一条")
        assert len(inbox(w.people["m3"].member_id)) == 2
