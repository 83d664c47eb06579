"""The hotline's rules without HTTP: redaction, the working-hours clock across weekends and
holidays, routing to the grassroots union, scope in SQL, assign/answer/publish with the
member's notification, escalation (idempotent) and the search documents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.portal.conftest import Portal
from unionhub import db
from unionhub.db import utcnow
from unionhub.identity.models import Account
from unionhub_portal.hotline import redact, service, sla
from unionhub_portal.hotline.models import (
    HotlineEventKind,
    HotlineState,
    PortalHotlineEvent,
    PortalHotlineQuestion,
)

BEIJING = sla.CHINA


def bj(*args: int) -> datetime:
    """A Beijing wall-clock moment, as an aware UTC datetime."""
    return datetime(*args, tzinfo=BEIJING).astimezone(UTC)  # type: ignore[misc]


def account(portal: Portal, key: str) -> Account:
    """A member (``m1``…) or an officer (``chaoyang``…) by key."""
    w = portal.world
    acc_id = w.people[key].account_id if key in w.people else w.officers[key]
    acc = db.session().get(Account, acc_id)
    assert acc is not None
    return acc


def ask(portal: Portal, who: str = "m1", *, now: datetime | None = None, **fields: Any
        ) -> PortalHotlineQuestion:
    values: dict[str, Any] = {"category": "wages", "subject": "加班费怎么算",
                              "body": "公司周末安排加班，不给加班费也不安排补休，合法吗？"}
    values.update(fields)
    q = service.ask(db.session(), account(portal, who), now=now, **values)
    db.session().commit()
    return q


# --- redaction ----------------------------------------------------------------------------------


def test_redaction_masks_numbers_contacts_and_the_askers_name() -> None:
    text = ("我叫张伟，身份证号110105199005171234，京卡号 6214 6800 1234 5678 901，"
            "手机13812345678（也可打+86 139-1234-5678），单位座机010-65123456，"
            "邮箱 zhang.wei@example.com。工资每月8000元，2024年3月入职，拨打过12351。")
    r = redact.redact_text(text, ("张伟",))
    for leaked in ("110105199005171234", "6214 6800 1234 5678 901", "13812345678",
                   "139-1234-5678", "65123456", "zhang.wei@example.com", "张伟"):
        assert leaked not in r.text
    assert r.counts == {"email": 1, "id": 1, "card": 1, "mobile": 2, "phone": 1, "name": 1}
    assert "张某" in r.text and redact.ID_MARK in r.text and redact.CARD_MARK in r.text
    # amounts, years and the hotline number are not personal data
    assert "8000元" in r.text and "2024年3月" in r.text and "12351" in r.text


def test_redaction_edge_cases() -> None:
    # an old 15-digit ID, an ID ending in X, full-width digits, a landline after 电话
    r = redact.redact_text("旧证110105900517123，新证11010519900517123X，"
                           "手机１３８１２３４５６７８，电话 65123456")
    assert "110105900517123" not in r.text and "123X" not in r.text
    assert r.text.count(redact.ID_MARK) == 2 and redact.MOBILE_MARK in r.text
    assert r.text.endswith("电话 " + redact.PHONE_MARK)
    # compound surname; the given name alone is replaced for longer names
    assert redact.redact("欧阳娜娜说娜娜的合同到期了", "欧阳娜娜") == "欧阳某说欧阳某的合同到期了"
    assert redact.redact("王小明，小明的工资", "王小明") == "王某，王某的工资"
    assert redact.redact("", "张伟") == ""
    # a 19-digit bank card written without spaces
    assert redact.redact("工资卡6222020200112233445") == "工资卡" + redact.CARD_MARK


# --- the service-level clock --------------------------------------------------------------------


def test_due_time_counts_working_hours_across_a_weekend(portal: Portal) -> None:
    with portal.app.app_context():
        # Friday 2025-01-03 15:00: 2 h that day, 8 h on Monday, 6 h on Tuesday
        assert sla.add_working_hours(bj(2025, 1, 3, 15, 0), 16) == bj(2025, 1, 7, 15, 0)
        # asked on Saturday: the clock starts on Monday 09:00
        assert sla.add_working_hours(bj(2025, 1, 4, 11, 0), 16) == bj(2025, 1, 7, 17, 0)
        # before 09:00 and after 17:00
        assert sla.add_working_hours(bj(2025, 1, 6, 7, 30), 2) == bj(2025, 1, 6, 11, 0)
        assert sla.add_working_hours(bj(2025, 1, 6, 18, 0), 1) == bj(2025, 1, 7, 10, 0)
        # a deadline landing exactly at 17:00 stays on that day
        assert sla.add_working_hours(bj(2025, 1, 6, 9, 0), 8) == bj(2025, 1, 6, 17, 0)


def test_due_time_skips_the_national_day_holiday_and_counts_make_up_days(portal: Portal
                                                                          ) -> None:
    with portal.app.app_context():
        # 2025: 1–8 October off; Sunday 28 September and Saturday 11 October are working days.
        # Tuesday 30 September 16:00: 1 h, then 9 October (8 h), then 7 h on 10 October.
        assert sla.add_working_hours(bj(2025, 9, 30, 16, 0), 16) == bj(2025, 10, 10, 16, 0)
        # asked on Saturday 27 September: the make-up Sunday counts
        assert sla.add_working_hours(bj(2025, 9, 27, 10, 0), 16) == bj(2025, 9, 29, 17, 0)
        # the setting decides N (default 16)
        assert sla.answer_hours() == 16
        assert sla.due_at(bj(2025, 1, 3, 15, 0)) == bj(2025, 1, 7, 15, 0)
        # lateness is working time past the deadline: Friday 16:00 → Monday 11:30
        assert sla.lateness(bj(2025, 1, 3, 16, 0), bj(2025, 1, 6, 11, 30)) == (0, 3, 30)
        assert sla.lateness(bj(2025, 1, 6, 9, 0), bj(2025, 1, 8, 10, 0)) == (2, 1, 0)
        assert sla.lateness(bj(2025, 1, 6, 9, 0), bj(2025, 1, 6, 8, 0)) == (0, 0, 0)


def test_the_setting_changes_the_deadline(portal: Portal) -> None:
    from unionhub.settings import service as settings

    with portal.app.app_context():
        settings.put("portal.hotline_answer_hours", "8")
        db.session().commit()
        q = ask(portal, now=bj(2025, 1, 3, 15, 0))
        assert q.due_at == bj(2025, 1, 6, 15, 0)


# --- routing and scope --------------------------------------------------------------------------


def test_questions_go_to_the_grassroots_union_and_only_its_officers_see_them(portal: Portal
                                                                           ) -> None:
    w = portal.world
    with portal.app.app_context():
        s = db.session()
        q1 = ask(portal, "m1")
        q3 = ask(portal, "m3", subject="分会会员的问题")  # m3 is in branch b1 below g1
        q2 = ask(portal, "m2", subject="海淀的问题")
        assert q1.org_id == q3.org_id == w.org_id("g1") and q2.org_id == w.org_id("g2")
        assert q1.state == HotlineState.NEW and q1.due_at > q1.asked_at
        options = service.address_options(s, account(portal, "m3").member)
        assert [o.id for o in options] == [w.org_id("g1"), w.org_id("d1"), w.org_id("city")]

        def queue(who: str) -> set[int]:
            return set(s.scalars(service.queue(account(portal, who), "open")
                                 .with_only_columns(PortalHotlineQuestion.id)))

        assert queue("chaoyang") == {q1.id, q3.id}
        assert queue("g1officer") == {q1.id, q3.id}
        assert queue("haidian") == {q2.id}
        assert queue("city") == {q1.id, q2.id, q3.id}
        assert queue("m1") == set()  # members hold no answering permission
        assert service.scoped_question(s, account(portal, "haidian"), q1.id) is None
        assert service.scoped_question(s, account(portal, "chaoyang"), q1.id) is not None
        # managing scope: grassroots officers do not manage
        assert service.scoped_question(s, account(portal, "g1officer"), q1.id,
                                       service.MANAGE) is None
        # a member may address a higher union, never another district
        q = ask(portal, "m1", org_id=w.org_id("d1"))
        assert q.org_id == w.org_id("d1")
        assert service.scoped_question(s, account(portal, "g1officer"), q.id) is None
        with pytest.raises(service.HotlineError) as exc:
            ask(portal, "m1", org_id=w.org_id("d2"))
        assert "org_id" in exc.value.errors


def test_bad_input_is_refused_with_a_message_per_field(portal: Portal) -> None:
    with portal.app.app_context():
        s = db.session()
        with pytest.raises(service.HotlineError) as exc:
            ask(portal, subject="  ", body="x" * 2001, category="nope")
        assert exc.value.errors == {
            "category": "请选择问题类别", "subject": "请填写标题",
            "body": "问题描述不能超过 2000 个字（现有 2001 个字）"}
        s.rollback()
        with pytest.raises(service.HotlineError) as exc:
            ask(portal, subject="太短", body="短")
        assert exc.value.errors["body"] == "问题描述至少 5 个字，请说明具体情况"
        s.rollback()
        with pytest.raises(service.HotlineError) as exc:
            ask(portal, "chaoyang")  # an officer who is not a member
        assert "会员" in exc.value.reason
        s.rollback()
        assert s.scalar(select(func.count()).select_from(PortalHotlineQuestion)) == 0


def test_asking_is_limited_per_day(portal: Portal) -> None:
    with portal.app.app_context():
        for _i in range(service.ASK_PER_DAY):
            ask(portal)
        with pytest.raises(service.HotlineError) as exc:
            ask(portal)
        assert "24 小时内最多提问" in exc.value.reason


# --- the flow -----------------------------------------------------------------------------------


def _notifications(member_id: int, type_key: str) -> list[Any]:
    from unionhub.notify.models import Notification

    return list(db.session().scalars(select(Notification).where(
        Notification.member_id == member_id, Notification.type_key == type_key)))


def test_assign_answer_publish_with_notification_and_trail(portal: Portal) -> None:
    w = portal.world
    with portal.app.app_context():
        s = db.session()
        q = ask(portal, "m1", body="我叫张伟，手机13812345678，公司拖欠我两个月工资怎么办？",
                anonymous=False)
        chaoyang, g1officer = account(portal, "chaoyang"), account(portal, "g1officer")
        officers = {a.username for a in service.eligible_officers(s, q.org)}
        assert officers == {"g1officer", "chaoyang", "city", "admin"}
        with pytest.raises(service.HotlineError) as exc:
            service.assign(s, q, w.officers["haidian"], chaoyang)
        assert exc.value.errors["assignee_id"] == "只能分派给负责电控工会热线的干部"
        s.rollback()
        service.assign(s, q, g1officer.id, chaoyang, note="请本级工会答复")
        s.commit()
        assert q.state == HotlineState.ASSIGNED and q.assignee_id == g1officer.id
        with pytest.raises(service.HotlineError):
            service.assign(s, q, g1officer.id, chaoyang)
        s.rollback()
        service.assign(s, q, w.officers["chaoyang"], chaoyang)
        s.commit()

        with pytest.raises(service.HotlineError) as exc:
            service.answer(s, q, g1officer, "  ")
        assert exc.value.errors == {"answer": "请填写答复内容"}
        s.rollback()
        service.answer(s, q, g1officer, "用人单位应当按时足额支付工资，可向劳动保障监察投诉。")
        s.commit()
        assert q.state == HotlineState.ANSWERED and q.answered_by == g1officer.id
        told = _notifications(w.people["m1"].member_id, service.ANSWERED_TYPE)
        assert len(told) == 1 and told[0].url == f"/portal/hotline/my/{q.id}"
        assert "加班费怎么算" in told[0].body and "电控工会" in told[0].body
        with pytest.raises(service.HotlineError):
            service.answer(s, q, chaoyang, "第二个答复，不应成功。")
        s.rollback()
        assert len(_notifications(w.people["m1"].member_id, service.ANSWERED_TYPE)) == 1

        draft = service.publish_draft(q)
        assert "张伟" not in draft.question and "13812345678" not in draft.question
        assert "张某" in draft.question and draft.counts == {"name": 1, "mobile": 1}
        # leaving personal data in is refused unless confirmed as public
        with pytest.raises(service.HotlineError) as exc:
            service.publish(s, q, chaoyang, subject=draft.subject,
                            question_text=draft.question + "联系13912345678",
                            answer_text=draft.answer)
        assert "手机号" in exc.value.reason and "public_question" in exc.value.errors
        s.rollback()
        service.publish(s, q, chaoyang, subject=draft.subject, question_text=draft.question,
                        answer_text=draft.answer)
        s.commit()
        assert q.state == HotlineState.PUBLISHED and q.published_at is not None
        assert service.public_asker(q) == "张*"
        assert list(s.scalars(service.published().with_only_columns(
            PortalHotlineQuestion.id))) == [q.id]
        kinds = [e.kind for e in service.events_of(s, q.id)]
        assert kinds == ["asked", "assigned", "reassigned", "answered", "published"]
        assert service.events_of(s, q.id)[1].note == "请本级工会答复"

        # the member rates; closing withdraws it from the public list
        service.rate(s, q, account(portal, "m1"), "5", "解答清楚")
        s.commit()
        assert q.rating == 5
        with pytest.raises(service.HotlineError):
            service.rate(s, q, account(portal, "m2"), "1")
        s.rollback()
        service.close(s, q, chaoyang, "")
        s.commit()
        assert q.state == HotlineState.CLOSED
        assert list(s.scalars(service.published())) == []


def test_closing_an_open_question_needs_a_note(portal: Portal) -> None:
    with portal.app.app_context():
        s = db.session()
        q = ask(portal)
        with pytest.raises(service.HotlineError) as exc:
            service.close(s, q, account(portal, "chaoyang"), " ")
        assert exc.value.errors == {"note": "请填写办结说明"}
        s.rollback()
        service.close(s, q, account(portal, "chaoyang"), "重复提问，已在第 1 号问题答复")
        s.commit()
        assert q.state == HotlineState.CLOSED and q.closed_at is not None
        with pytest.raises(service.HotlineError):
            service.publish(s, q, account(portal, "chaoyang"), subject="x",
                            question_text="问题内容", answer_text="答复内容")


def test_anonymous_publication_hides_the_asker(portal: Portal) -> None:
    with portal.app.app_context():
        s = db.session()
        q = ask(portal, "m1", anonymous=True, body="我是张伟，想问年休假怎么休。")
        service.answer(s, q, account(portal, "g1officer"), "连续工作1年以上的，享受带薪年休假。")
        s.commit()
        draft = service.publish_draft(q)
        service.publish(s, q, account(portal, "chaoyang"), subject=draft.subject,
                        question_text=draft.question, answer_text=draft.answer)
        s.commit()
        assert service.public_asker(q) == "匿名职工"
        assert "张伟" not in (q.public_question or "")


# --- escalation ---------------------------------------------------------------------------------


def test_escalation_notifies_managers_once(portal: Portal) -> None:
    from unionhub.access.models import RoleGrant
    from unionhub.notify.models import NotifyBatch

    w = portal.world
    with portal.app.app_context():
        s = db.session()
        # m2 (a member of g2) also manages the hotline of 朝阳 (d1): it can be notified
        s.add(RoleGrant(account_id=w.people["m2"].account_id, role="district_officer",
                        org_id=w.org_id("d1")))
        s.commit()
        now = utcnow()
        late = ask(portal, "m1", now=now - timedelta(days=10), subject="超时的问题")
        fresh = ask(portal, "m3", subject="刚提的问题")
        answered = ask(portal, "m1", now=now - timedelta(days=10), subject="已答复的问题")
        service.answer(s, answered, account(portal, "g1officer"), "已经答复过了，谢谢。")
        s.commit()

        assert service.escalate_overdue(s, now) == 1
        s.commit()
        assert service.escalate_overdue(s, now) == 0  # a re-run escalates nothing again
        assert service.escalate_overdue(s, now + timedelta(hours=1)) == 0
        s.commit()
        escalated = list(s.scalars(select(PortalHotlineEvent).where(
            PortalHotlineEvent.kind == HotlineEventKind.ESCALATED)))
        assert [e.question_id for e in escalated] == [late.id]
        assert escalated[0].detail["notified"] == 1 and escalated[0].actor_id is None
        s.refresh(late)
        s.refresh(fresh)
        assert late.escalated_at is not None and fresh.escalated_at is None
        told = _notifications(w.people["m2"].member_id, service.ESCALATED_TYPE)
        assert len(told) == 1 and "超时的问题" in told[0].body and "已超时" in told[0].body
        assert told[0].url == f"/portal/admin/hotline/{late.id}"
        assert s.scalar(select(func.count()).select_from(NotifyBatch).where(
            NotifyBatch.type_key == service.ESCALATED_TYPE)) == 1
        # the overdue list (managing scope)
        overdue = list(s.scalars(service.overdue(account(portal, "chaoyang"), now)))
        assert [q.id for q in overdue] == [late.id]
        assert list(s.scalars(service.overdue(account(portal, "haidian"), now))) == []
        c = service.counts(s, account(portal, "chaoyang"), now)
        assert (c.new, c.open, c.overdue) == (2, 2, 1)


def test_escalation_job_is_registered_with_its_beat(portal: Portal) -> None:
    from unionhub.jobs import service as jobs

    with portal.app.app_context():
        reg = jobs.registry()
        assert "portal.hotline_escalate" in reg.specs
        _plugin, entry = reg.beat["portal.hotline_escalate"]
        assert entry.job == "portal.hotline_escalate" and entry.every == 15 * 60


# --- search -------------------------------------------------------------------------------------


def test_search_documents_are_public_only_once_published(portal: Portal) -> None:
    from unionhub.search import acl
    from unionhub.search.models import SearchQueue
    from unionhub_portal.hotline.search import documents

    with portal.app.app_context():
        s = db.session()
        q = ask(portal, "m1", anonymous=True)
        other = ask(portal, "m2")
        (doc,) = documents(s, [str(q.id)])
        assert doc.status == "new" and "加班" not in doc.body
        service.answer(s, q, account(portal, "g1officer"), "应当支付不低于工资200%的加班费。")
        draft = service.publish_draft(q)
        service.publish(s, q, account(portal, "chaoyang"), subject=draft.subject,
                        question_text=draft.question, answer_text=draft.answer)
        s.commit()
        assert s.scalar(select(func.count()).select_from(SearchQueue).where(
            SearchQueue.doc_type == "portal.hotline", SearchQueue.doc_id == str(q.id))) == 1
        docs = {d.doc_id: d for d in documents(s, None)}
        assert set(docs) == {str(q.id), str(other.id)}
        pub = docs[str(q.id)]
        assert pub.status == "published" and pub.acl == (acl.PUBLIC,)
        assert pub.url == f"/portal/hotline/{q.id}" and "200%" in pub.body
        assert "platform:mobile" in pub.tags and docs[str(other.id)].status == "new"
        assert list(documents(s, ["999999", "x"])) == []

    # through the core search: an anonymous visitor finds the published Q&A only
    from unionhub.search.service import get_service, rebuild

    rebuild(portal.app)
    with portal.app.app_context():
        svc = get_service(portal.app)
        hits = svc.search("加班费", frozenset({acl.PUBLIC}), doc_type="portal.hotline").hits
        assert [h.url for h in hits] == [f"/portal/hotline/{q.id}"]
        hits = svc.search("加班费", frozenset({acl.PUBLIC}), tags=("platform:mobile",)).hits
        assert f"/portal/hotline/{q.id}" in [h.url for h in hits]
        assert svc.labels()["portal.hotline"] == "职工热线"
