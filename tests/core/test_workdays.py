"""Working-day calendar: package years, counting rules, the fallback for years without data,
admin overrides, cache invalidation, bulk paste, and the admin page."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from tests.helpers import PASSWORD, csrf_token, login, post_form
from unionhub import db
from unionhub.audit.models import AuditLog
from unionhub.workdays import service as wd
from unionhub.workdays.models import WorkdayOverride, WorkdayYear
from unionhub.workdays.views import workdays_bp

URL = "/admin/workdays/"
LOGGER = "unionhub.workdays.service"


@pytest.fixture
def app(make_app):
    """An app with the workdays blueprint (registered here until the core wires it)."""
    app = make_app()
    if "workdays" not in app.blueprints:
        app.register_blueprint(workdays_bp)
    return app


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def D(text: str) -> date:
    return date.fromisoformat(text)


def days(start: str, end: str) -> list[date]:
    a, b = D(start), D(end)
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


def add(day: str, kind: str, name: str) -> None:
    s = db.session()
    wd.add_override(s, day, kind, name)
    s.commit()


def count_overrides() -> int:
    return db.session().scalar(select(func.count()).select_from(WorkdayOverride)) or 0


# --- the package -------------------------------------------------------------------------

def test_package_covers_2004_to_2026_and_raises_beyond():
    import chinese_calendar

    assert {2024, 2025, 2026} <= wd.package_years()
    assert 2027 not in wd.package_years() and 2003 not in wd.package_years()
    # the behaviour the fallback exists for (a newer package would make this fail: then
    # re-check the admin page's package/missing years)
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D("2027-01-04"))


def test_national_day_2025(ctx):
    for d in days("2025-10-01", "2025-10-08"):
        assert not wd.is_working_day(d), d
    # make-up working days (调休上班) on a Sunday and a Saturday
    assert wd.is_working_day(D("2025-09-28")) and D("2025-09-28").weekday() == 6
    assert wd.is_working_day(D("2025-10-11")) and D("2025-10-11").weekday() == 5
    assert not wd.is_working_day(D("2025-09-27"))  # an ordinary Saturday
    assert wd.is_working_day(D("2025-10-09"))
    info = wd.day_info(D("2025-10-06"))
    assert (info.working, info.source, info.name) == (False, "package", "中秋")
    assert wd.day_info(D("2025-10-01")).name == "国庆节"


@pytest.mark.parametrize(("day", "working"), [
    ("2024-02-04", True), ("2024-02-10", False), ("2024-02-17", False), ("2024-02-18", True),
    ("2024-09-29", True), ("2024-10-01", False), ("2024-10-12", True),
    ("2025-01-26", True), ("2025-01-28", False), ("2025-02-04", False), ("2025-02-08", True),
    ("2026-01-04", True), ("2026-02-14", True), ("2026-02-15", False), ("2026-02-23", False),
    ("2026-02-24", True), ("2026-02-28", True), ("2026-09-20", True), ("2026-10-07", False),
    ("2026-10-10", True),
])
def test_package_years_holidays_and_make_up_days(ctx, day, working):
    assert wd.is_working_day(D(day)) is working


def test_datetime_accepted_and_other_types_refused(ctx):
    assert not wd.is_working_day(datetime(2025, 10, 1, 9, 30))
    add("2027-01-01", "holiday", "元旦")
    assert not wd.is_working_day(datetime(2027, 1, 1, 10, 0))
    due = wd.add_working_days(datetime(2025, 9, 26, 17, 0), 1)
    assert type(due) is date and due == D("2025-09-28")
    with pytest.raises(TypeError):
        wd.is_working_day("2025-10-01")  # type: ignore[arg-type]


# --- counting ----------------------------------------------------------------------------

def test_add_working_days_across_national_day(ctx):
    fri = D("2025-09-26")
    assert wd.add_working_days(fri, 1) == D("2025-09-28")  # the make-up Sunday counts
    assert wd.add_working_days(fri, 3) == D("2025-09-30")
    assert wd.add_working_days(fri, 4) == D("2025-10-09")  # the whole week skipped
    assert wd.add_working_days(fri, 6) == D("2025-10-11")  # the make-up Saturday
    assert wd.add_working_days(fri, 10) == D("2025-10-16")


def test_add_working_days_across_spring_festival(ctx):
    fri = D("2026-02-13")
    assert wd.add_working_days(fri, 1) == D("2026-02-14")  # make-up Saturday
    assert wd.add_working_days(fri, 2) == D("2026-02-24")  # nine days off skipped
    assert wd.add_working_days(D("2025-01-24"), 3) == D("2025-02-05")  # via 01-26, 01-27


def test_add_working_days_negative(ctx):
    assert wd.add_working_days(D("2025-10-09"), -1) == D("2025-09-30")
    assert wd.add_working_days(D("2025-10-09"), -3) == D("2025-09-28")  # make-up Sunday
    assert wd.add_working_days(D("2025-10-09"), -4) == D("2025-09-26")
    assert wd.add_working_days(D("2025-10-13"), -1) == D("2025-10-11")
    assert wd.add_working_days(D("2025-10-13"), -3) == D("2025-10-09")
    assert wd.add_working_days(D("2026-02-24"), -2) == D("2026-02-13")


def test_add_zero_rolls_forward_only_from_a_day_off(ctx):
    assert wd.add_working_days(D("2025-10-09"), 0) == D("2025-10-09")
    assert wd.add_working_days(D("2025-10-01"), 0) == D("2025-10-09")
    assert wd.add_working_days(D("2025-09-27"), 0) == D("2025-09-28")


def test_start_day_never_counts(ctx):
    # from a holiday or from a working day, the first counted day is the next working one
    assert wd.add_working_days(D("2025-10-08"), 1) == D("2025-10-09")
    assert wd.add_working_days(D("2025-10-09"), 1) == D("2025-10-10")


def test_working_days_between(ctx):
    assert wd.working_days_between(D("2025-09-26"), D("2025-10-16")) == 10
    assert wd.working_days_between(D("2025-10-16"), D("2025-09-26")) == -10
    assert wd.working_days_between(D("2025-10-01"), D("2025-10-08")) == 0
    assert wd.working_days_between(D("2025-10-09"), D("2025-10-09")) == 0
    assert wd.working_days_between(D("2025-10-08"), D("2025-10-09")) == 1
    import chinese_calendar

    whole_year = chinese_calendar.get_workdays(D("2025-01-02"), D("2025-12-31"))
    assert wd.working_days_between(D("2025-01-01"), D("2025-12-31")) == len(whole_year) == 248


def test_between_inverts_add(ctx):
    for start in days("2025-09-20", "2025-10-20"):
        for n in (1, 2, 7, 15):
            assert wd.working_days_between(start, wd.add_working_days(start, n)) == n
        if wd.is_working_day(start):
            for n in (-1, -6):
                assert wd.working_days_between(start, wd.add_working_days(start, n)) == n


def test_absurd_arguments_fail_fast(ctx):
    with pytest.raises(ValueError):
        wd.add_working_days(D("2025-01-01"), 10**6)
    with pytest.raises(TypeError):
        wd.add_working_days(D("2025-01-01"), 1.5)  # type: ignore[arg-type]


# --- years without data ------------------------------------------------------------------

def test_2027_falls_back_to_weekdays_with_one_warning(ctx, caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    assert wd.is_working_day(D("2027-01-01"))  # a Friday; really 元旦, but nobody said so
    assert not wd.is_working_day(D("2027-01-02"))
    assert wd.add_working_days(D("2026-12-31"), 1) == D("2027-01-01")
    assert wd.add_working_days(D("2027-10-01"), 5) == D("2027-10-08")
    assert wd.working_days_between(D("2026-12-25"), D("2027-01-08")) == 10
    assert wd.add_working_days(D("2028-03-01"), -1) == D("2028-02-29")
    assert wd.day_info(D("2027-01-01")).source == "fallback"
    msgs = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert msgs.count("2027 年节假日数据缺失：按周一至周五计算，请在管理页录入") == 1, msgs
    assert sum("2028 年" in m for m in msgs) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no package errors
    st = wd.year_status(2027)
    assert (st.source, st.known) == ("missing", False)
    assert "2027 年节假日数据缺失" in (st.warning or "")


def test_years_before_the_package_fall_back_too(ctx):
    assert wd.is_working_day(D("2003-01-01"))  # a Wednesday
    assert wd.year_status(2003).source == "missing"


def test_warnings_list_this_year_next_year_from_october_and_looked_up_years(ctx):
    assert wd.warnings(today=D("2026-03-01")) == []
    assert wd.warnings(today=D("2026-11-28")) == [
        "2027 年节假日数据缺失：按周一至周五计算，请在管理页录入"]
    assert wd.warnings(today=D("2027-03-01")) == [
        "2027 年节假日数据缺失：按周一至周五计算，请在管理页录入"]
    wd.is_working_day(D("2030-05-01"))
    assert any(w.startswith("2030 年") for w in wd.warnings(today=D("2026-03-01")))


def test_package_exceptions_never_leak(ctx, monkeypatch):
    import chinese_calendar

    def boom(_d):
        raise RuntimeError("broken data")

    wd.package_day.cache_clear()
    monkeypatch.setattr(chinese_calendar, "get_holiday_detail", boom)
    try:
        assert wd.is_working_day(D("2025-03-05"))  # Wednesday via the fallback
        assert not wd.is_working_day(D("2025-03-08"))
    finally:
        wd.package_day.cache_clear()


# --- overrides ---------------------------------------------------------------------------

def test_overrides_for_2027_are_honoured(ctx):
    add("2027-01-01", "holiday", "元旦")
    add("2027-02-07", "workday", "春节调休")  # a Sunday
    assert not wd.is_working_day(D("2027-01-01"))
    assert wd.is_working_day(D("2027-02-07"))
    assert wd.day_info(D("2027-01-01")).name == "元旦"
    assert wd.add_working_days(D("2026-12-31"), 1) == D("2027-01-04")
    assert wd.add_working_days(D("2027-02-05"), 1) == D("2027-02-07")
    st = wd.year_status(2027)
    assert (st.source, st.overrides, st.known) == ("partial", 2, False)
    assert "已录入 2 条" in (st.warning or "")


def test_override_beats_the_package(ctx):
    add("2025-10-09", "holiday", "临时放假")
    add("2025-09-27", "workday", "临时上班")
    assert not wd.is_working_day(D("2025-10-09"))
    assert wd.is_working_day(D("2025-09-27"))
    assert wd.year_status(2025).source == "package"


def test_marking_a_year_complete_stops_the_warning(ctx):
    s = db.session()
    with pytest.raises(wd.WorkdayError) as exc:
        wd.set_year(s, 2027, True)
    assert "没有录入任何放假日期" in str(exc.value)
    s.rollback()
    add("2027-01-01", "holiday", "元旦")
    wd.set_year(s, 2027, True, "国办发明电〔2026〕X号")
    s.commit()
    st = wd.year_status(2027)
    assert (st.source, st.known, st.warning) == ("admin", True, None)
    assert wd.warnings(today=D("2026-11-28")) == []
    assert wd.day_info(D("2027-01-05")).source == "admin"


def test_duplicate_and_bad_overrides_refused(ctx):
    add("2027-01-01", "holiday", "元旦")
    s = db.session()
    with pytest.raises(wd.WorkdayError, match="日期：2027-01-01 已有记录"):
        wd.add_override(s, "2027-01-01", "workday", "x")
    s.rollback()
    for args, field, text in (
        (("2027-02-30", "holiday", "x"), "day", "日期：「2027-02-30」不是有效日期"),
        (("", "holiday", "x"), "day", "日期：不能为空"),
        (("1999-01-01", "holiday", "x"), "day", "年份须在"),
        (("2027-03-01", "vacation", "x"), "kind", "类型：「vacation」无效"),
        (("2027-03-01", "holiday", " "), "name", "名称：不能为空"),
        (("2027-03-01", "holiday", "节" * 51), "name", "名称：最多 50 个字"),
    ):
        with pytest.raises(wd.WorkdayError) as exc:
            wd.add_override(s, *args)
        assert exc.value.field == field and text in str(exc.value), (args, str(exc.value))
    assert count_overrides() == 1


# --- cache -------------------------------------------------------------------------------

def test_cache_invalidated_when_an_override_is_committed(ctx):
    cal = wd.calendar()
    assert wd.is_working_day(D("2027-01-01"))
    loads = cal.loads
    assert wd.is_working_day(D("2027-01-01"))
    assert cal.loads == loads  # served from the snapshot
    s = db.session()
    wd.add_override(s, "2027-01-01", "holiday", "元旦")
    assert wd.is_working_day(D("2027-01-01"))  # not committed yet: still the old answer
    s.commit()
    assert not wd.is_working_day(D("2027-01-01"))
    assert cal.loads == loads + 1
    row = s.scalar(select(WorkdayOverride).where(WorkdayOverride.day == D("2027-01-01")))
    wd.remove_override(s, row.id)
    s.commit()
    assert wd.is_working_day(D("2027-01-01"))


def test_rolled_back_override_is_not_seen(ctx):
    s = db.session()
    wd.add_override(s, "2027-01-01", "holiday", "元旦")
    s.rollback()
    assert wd.is_working_day(D("2027-01-01"))
    assert count_overrides() == 0


def test_change_from_another_process_seen_after_the_ttl(make_app):
    app = make_app(WORKDAYS_CACHE_TTL=3600)
    with app.app_context():
        assert wd.is_working_day(D("2027-01-01"))
        # another worker writes (no invalidation reaches this process)
        with db.get_db().engine.begin() as conn:
            conn.execute(insert(WorkdayOverride).values(
                day=D("2027-01-01"), kind="holiday", name="元旦", created_at=db.utcnow()))
        assert wd.is_working_day(D("2027-01-01"))  # cached
        wd.calendar().ttl = 0.0  # the TTL elapses
        assert not wd.is_working_day(D("2027-01-01"))


def test_missing_table_degrades_to_package_and_weekdays(ctx):
    from sqlalchemy import text

    with db.get_db().engine.begin() as conn:
        conn.execute(text("DROP TABLE workday_override"))
    wd.invalidate()
    assert not wd.is_working_day(D("2025-10-01"))
    assert wd.is_working_day(D("2027-01-01"))


# --- bulk paste --------------------------------------------------------------------------

GOOD = "2027-01-01,holiday,元旦\n\n# 春节\n2027-02-07，workday，春节调休\n2027/2/6\t放假\t春节\n"


def test_bulk_paste_saves_all_good_lines(ctx):
    s = db.session()
    result = wd.import_bulk(s, GOOD)
    s.commit()
    assert result.ok and len(result.created) == 3
    assert not wd.is_working_day(D("2027-02-06")) and wd.is_working_day(D("2027-02-07"))
    again = wd.import_bulk(s, GOOD)  # identical lines: nothing new, no error
    assert again.ok and (len(again.created), again.unchanged) == (0, 3)


def test_bulk_paste_is_all_or_nothing_and_names_each_bad_line(ctx):
    add("2027-05-01", "holiday", "劳动节")
    s = db.session()
    text = "\n".join([
        "2027-01-01,holiday,元旦",        # 1 ok
        "2027-13-01,holiday,x",           # 2 bad date
        "2027-01-02,rest,x",              # 3 bad kind
        "2027-01-03,holiday",             # 4 missing field
        "2027-01-01,holiday,元旦",        # 5 repeats line 1
        "2027-05-01,workday,调休",        # 6 conflicts with a stored override
        "2027-01-04,workday,",            # 7 empty name
    ])
    result = wd.import_bulk(s, text)
    assert not result.ok
    numbers = [e.split(" ")[1] for e in result.errors]
    assert numbers == ["2", "3", "4", "5", "6", "7"], result.errors
    assert "日期" in result.errors[0] and "类型" in result.errors[1]
    assert "与第 1 行重复" in result.errors[3] and "已有不同的记录" in result.errors[4]
    assert "名称" in result.errors[5]
    assert count_overrides() == 1  # only the one added before (the session autoflushes)
    s.commit()
    assert count_overrides() == 1
    assert wd.is_working_day(D("2027-01-01"))


def test_bulk_paste_refuses_empty_and_huge_input(ctx):
    assert wd.import_bulk(db.session(), "\n  \n").errors
    huge = "\n".join(f"2027-01-01,holiday,x{i}" for i in range(wd.MAX_BULK_LINES + 1))
    assert wd.import_bulk(db.session(), huge).errors == ["一次最多录入 1000 行"]


# --- the admin page ----------------------------------------------------------------------

def test_admin_page_access(app, world, client):
    assert client.get(URL).status_code == 302  # anonymous → sign in
    login(client, "admin")
    r = client.get(URL + "?year=2027")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "工作日历" in html and "2027 年节假日数据缺失" in html
    assert client.get(URL + "?year=2025").status_code == 200


@pytest.mark.parametrize("who", ["chaoyang", "member"])
def test_admin_page_forbidden_for_others(app, world, client, who):
    ident = world.people["m1"].mobile if who == "member" else who
    r = login(client, ident, PASSWORD)
    assert r.status_code == 302, "login failed"
    assert client.get(URL).status_code == 403
    r = post_form(client, URL + "overrides", {"day": "2027-01-01", "kind": "holiday",
                                              "name": "x"}, form_url="/")
    assert r.status_code == 403
    with app.app_context():
        assert count_overrides() == 0


def test_admin_adds_and_removes_a_day(app, world, client):
    login(client, "admin")
    r = post_form(client, URL + "overrides",
                  {"day": "2027-01-01", "kind": "holiday", "name": "元旦"}, form_url=URL)
    assert r.status_code == 302 and "year=2027" in r.headers["Location"]
    html = client.get(URL + "?year=2027").get_data(as_text=True)
    assert "2027-01-01" in html and "元旦" in html and "已录入 1 条" in html
    with app.app_context():
        assert not wd.is_working_day(D("2027-01-01"))
        row_id = db.session().scalar(select(WorkdayOverride.id))
        assert db.session().scalar(select(AuditLog.action).where(
            AuditLog.action == "workdays.override.add"))
    r = post_form(client, URL + "overrides",
                  {"day": "2027-01-01", "kind": "workday", "name": "x"}, form_url=URL)
    assert r.status_code == 200 and "已有记录" in r.get_data(as_text=True)
    r = post_form(client, f"{URL}overrides/{row_id}/delete", {}, form_url=URL)
    assert r.status_code == 302
    with app.app_context():
        assert count_overrides() == 0
        assert wd.is_working_day(D("2027-01-01"))


@pytest.mark.parametrize(("data", "message"), [
    ({"day": "2027-1-32", "kind": "holiday", "name": "x"}, "日期：「2027-1-32」不是有效日期"),
    ({"day": "", "kind": "holiday", "name": "x"}, "日期：不能为空"),
    ({"day": "2027-01-01", "kind": "rest", "name": "x"}, "类型：「rest」无效"),
    ({"day": "2027-01-01", "kind": "holiday", "name": ""}, "名称：不能为空"),
])
def test_admin_form_names_the_bad_field(app, world, client, data, message):
    login(client, "admin")
    r = post_form(client, URL + "overrides", data, form_url=URL)
    assert r.status_code == 200
    assert message in r.get_data(as_text=True)
    with app.app_context():
        assert count_overrides() == 0


def test_admin_post_without_csrf_is_refused(app, world, client):
    login(client, "admin")
    r = client.post(URL + "overrides", data={"day": "2027-01-01", "kind": "holiday",
                                             "name": "x"})
    assert r.status_code == 400
    with app.app_context():
        assert count_overrides() == 0


def test_admin_bulk_paste(app, world, client):
    login(client, "admin")
    bad = "2027-01-01,holiday,元旦\n2027-02-31,holiday,春节\n2027-02-20,workday,春节补班"
    r = post_form(client, URL + "bulk", {"lines": bad}, form_url=URL)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "第 2 行" in html and "未录入任何数据" in html
    assert "第 1 行" not in html and "第 3 行" not in html
    assert "2027-02-20,workday,春节补班" in html  # the paste is kept for correcting
    with app.app_context():
        assert count_overrides() == 0
    good = bad.replace("2027-02-31", "2027-02-06")
    r = post_form(client, URL + "bulk", {"lines": good}, form_url=URL)
    assert r.status_code == 302
    with app.app_context():
        assert count_overrides() == 3
        assert wd.is_working_day(D("2027-02-20"))


def test_admin_marks_a_year_complete(app, world, client):
    login(client, "admin")
    r = post_form(client, URL + "years/2027", {"complete": "y", "note": ""}, form_url=URL)
    assert r.status_code == 200 and "还没有录入任何放假日期" in r.get_data(as_text=True)
    post_form(client, URL + "overrides", {"day": "2027-01-01", "kind": "holiday",
                                          "name": "元旦"}, form_url=URL)
    r = post_form(client, URL + "years/2027", {"complete": "y", "note": "国务院通知"},
                  form_url=URL)
    assert r.status_code == 302
    html = client.get(URL + "?year=2027").get_data(as_text=True)
    assert "2027 年节假日数据缺失" not in html and "国务院通知" in html
    with app.app_context():
        row = db.session().get(WorkdayYear, 2027)
        assert row is not None and row.complete
        assert wd.year_status(2027).known
    r = post_form(client, URL + "years/2027", {"note": ""}, form_url=URL)  # unmark
    with app.app_context():
        assert not wd.year_status(2027).known


def test_bad_year_parameter_is_reported(app, world, client):
    login(client, "admin")
    r = client.get(URL + "?year=abc")
    assert r.status_code == 200 and "年份：「abc」无效" in r.get_data(as_text=True)
    assert csrf_token(client, URL)


def test_admin_home_warns_about_missing_calendar_years(app, world, monkeypatch):
    import unionhub.workdays
    from tests.helpers import login

    c = app.test_client()
    login(c, "admin")
    monkeypatch.setattr(unionhub.workdays, "warnings", lambda: ["2031 年节假日数据缺失"])
    page = c.get("/admin/").get_data(as_text=True)
    assert "工作日历提醒" in page and "2031 年节假日数据缺失" in page
    monkeypatch.setattr(unionhub.workdays, "warnings", lambda: [])
    assert "工作日历提醒" not in c.get("/admin/").get_data(as_text=True)
