"""Administration pages: the working-day calendar (entering 2027 recomputes open cases), users,
and the API token page."""
from __future__ import annotations

from datetime import date

from app.extensions import db
from app.models import CalendarYear, Case, Event, User
from tests.conftest import set_today
from tests.factories import events, register
from tests.web.page import Page

SCHEDULE_2027 = {
    "year": "2027",
    # Fri 1 Jan; Spring Festival Fri 5 – Thu 11 Feb (the weekend inside is dropped by the service).
    "holidays": "2027-01-01\n2027-02-05~2027-02-11",
    "makeup": "2027-02-20",  # a Saturday worked
    "source": "国务院办公厅关于2027年部分节假日安排的通知",
}


def test_calendar_page_lists_years_and_marks_2027_unconfirmed(web):
    web.as_user("sysadmin")
    page = web.get("/admin/calendar")
    rows = {n.get("data-year"): n for n in page.by_id("calendar-years").iter() if n.tag == "tr" and n.get("data-year")}
    assert set(rows) == {str(y) for y in range(2019, 2028)}
    assert "unconfirmed" in rows["2027"].classes and "未确认" in rows["2027"].text
    assert "第1版" in rows["2026"].text and "chinesecalendar" in rows["2026"].text
    assert "2027年" in page.by_id("unconfirmed").text
    # Correcting a year starts from its current schedule.
    form = web.get("/admin/calendar?year=2026")
    assert "2026-10-01~2026-10-07" in form.value("holidays") and "2026-10-10" in form.value("makeup")
    def year_2026():
        row = db.session.get(CalendarYear, 2026)
        return row.holidays, row.makeup_workdays, row.revision
    before = web.run(year_2026)
    web.submit("/admin/calendar?year=2026", expect=302)
    assert web.run(year_2026) == (before[0], before[1], 2)  # the same days, saved as revision 2


def test_entering_2027_recomputes_a_case_due_in_january(web, app):
    set_today(app, "2026-12-10")
    case_id = web.run(lambda: register(arrived_on="2026-12-10").id)
    before = web.run(lambda: db.session.get(Case, case_id).reply_due)
    # Issue 10: provisional, but 元旦 (Fri 1 Jan) already counts as a holiday (was 7 Jan, weekends only).
    assert before == date(2027, 1, 8)
    web.as_user("sysadmin")
    r = web.client.post("/admin/calendar", data=SCHEDULE_2027)
    # The calendar is saved at once; the recompute is a job whose page the answer opens.
    assert r.status_code == 302 and r.location.startswith("/jobs/")
    assert web.run(lambda: db.session.get(CalendarYear, 2027).revision) == 1
    job = web.get(r.location)
    assert job.flashes() == ["已保存 2027 年工作日历（第1版）。1 件在办案件的答复期限正在后台重新计算，"
                             "每件的变化记入该案件的办理记录"]
    assert job.by_id("job-progress").text == "0 / 1" and "2027年全国工作日历第1版" in job.by_id("job-what").text
    assert web.run(lambda: db.session.get(Case, case_id).calendar_version) == "2026r1,2027p"  # not yet
    from app.services import jobs as background
    assert web.run(background.run_pending) == 1  # the worker's part, here
    job = web.get(r.location)
    assert job.by_id("job-status").text == "已完成" and job.by_id("job-progress").text == "1 / 1"

    def check():
        row = db.session.get(CalendarYear, 2027)
        c = db.session.get(Case, case_id)
        recompute = [e for e in events(case_id) if e.action == "calendar_recompute"]
        return (len(row.holidays), len(row.makeup_workdays), row.source, c.reply_due, c.due_provisional,
                c.calendar_version, [e.data for e in recompute])
    holidays, makeup, source, due, provisional, version, recomputes = web.run(check)
    assert (holidays, makeup, source) == (6, 1, SCHEDULE_2027["source"])  # 1 Jan + 5 weekdays of the festival
    # The date holds; it is no longer provisional and names the entered revision.
    assert (due, provisional, version) == (date(2027, 1, 8), False, "2026r1,2027r1")
    assert len(recomputes) == 1
    assert recomputes[0]["old_due"] == "2027-01-08" and recomputes[0]["new_due"] == "2027-01-08"
    assert recomputes[0]["old_calendar_version"] == "2026r1,2027p"
    web.as_user("handler")
    page = web.get(f"/cases/{case_id}")
    # Named as the national revision by the system administrator, not as a stranger's edit.
    timeline = page.by_id("timeline").text
    assert "全国工作日历修订，重新计算期限" in timeline and "修订人：系统管理员 周系统" in timeline
    # Calendar versions in words (issue 15 item 6), not "2026r1,2027p".
    assert "原日历版本：2026年正式，2027年暂定" in timeline and "2027p" not in timeline
    assert "工作日历：2026年正式，2027年正式" in page.text
    assert "（暂定）" not in page.by_id("clock").text
    web.as_user("sysadmin")
    assert not web.get("/admin/calendar").has_id("unconfirmed")


def test_calendar_errors_are_shown_at_the_field_and_keep_the_input(web):
    web.as_user("sysadmin")
    data = {**SCHEDULE_2027, "makeup": "2027-02-22"}  # a Monday
    r = web.client.post("/admin/calendar", data=data)
    assert r.status_code == 400
    page = Page(r)
    assert page.error_for("makeup") == "调休上班日应为周六或周日，2027-02-22 是工作日"
    assert page.value("holidays") == SCHEDULE_2027["holidays"] and page.value("source") == SCHEDULE_2027["source"]
    page = Page(web.client.post("/admin/calendar", data={**SCHEDULE_2027, "year": "二〇二七"}))
    assert page.status == 400 and page.error_for("year")
    assert web.run(lambda: db.session.get(CalendarYear, 2027)) is None


def test_admin_creates_a_user_who_can_then_log_in(web):
    web.as_user("admin")
    page = web.get("/admin/users")
    listed = [n.get("data-username") for n in page.by_id("users").iter() if n.get("data-username")]
    assert listed == ["admin", "archivist", "clerk", "handler", "handler2", "head", "legal"]
    r = web.client.post("/admin/users", data={"username": "legal2", "name": "孙法审", "password": "S3cret-pass",
                                              "roles": ["legal", "head"]})
    assert r.status_code == 302
    assert "已创建用户 legal2" in web.get("/admin/users").flashes()[0]
    u = web.run(lambda: (lambda x: (x.name, set(x.roles), x.agency.code))(
        db.session.scalar(db.select(User).where(User.username == "legal2"))))
    assert u == ("孙法审", {"legal", "head"}, "DEMO")
    # No case event; the creation is a security event of the agency, by the administrator.
    assert web.run(lambda: db.session.scalar(db.select(db.func.count()).select_from(Event)
                                             .where(Event.case_id.is_not(None)))) == 0
    created = web.run(lambda: [(e.actor.username, e.data["username"], e.data["roles"]) for e in db.session.scalars(
        db.select(Event).where(Event.action == "user_created", Event.actor_id.is_not(None)))])
    assert created == [("admin", "legal2", ["head", "legal"])]
    web.client.post("/logout")
    # The administrator chose the password: the new user must replace it at the first login.
    r = web.client.post("/login", data={"username": "legal2", "password": "S3cret-pass"})
    assert r.status_code == 302 and r.location == "/account/password"


def test_user_form_refusals(web):
    web.as_user("admin")
    cases = [
        ({"username": "clerk", "name": "重名", "password": "Long-enough1", "roles": ["clerk"]}, "username", "已存在"),
        ({"username": "new1", "name": "甲", "password": "Sh0rt!", "roles": ["clerk"]}, "password", "密码至少10位"),
        ({"username": "new1", "name": "甲", "password": "long-enough"}, "roles", "请至少选择一个角色"),
        ({"username": "new1", "name": "甲", "password": "long-enough", "roles": ["clerk"]}, "password",
         "至少3类"),
        ({"username": "new1", "name": "甲", "password": "New1-password", "roles": ["clerk"]}, "password",
         "不能包含用户名"),
        ({"username": "a b", "name": "甲", "password": "Long-enough1", "roles": ["clerk"]}, "username", "用户名应为"),
    ]
    for data, field, message in cases:
        r = web.client.post("/admin/users", data=data)
        page = Page(r)
        assert r.status_code == 400 and message in (page.error_for(field) or ""), (data, page.error_for(field))
        assert page.value("name") == data["name"]
    assert web.run(lambda: db.session.scalar(db.select(db.func.count()).select_from(User))) == 8  # with sysadmin


def test_api_token_is_shown_once(web):
    web.as_user("legal")
    page = web.get("/account/token")
    assert "还没有" in page.by_id("token-state").text
    r = web.client.post("/account/token")
    assert r.headers["Cache-Control"] == "no-store"
    token = Page(r).by_id("api-token").text
    assert len(token) >= 40
    stored = web.run(lambda: db.session.scalar(db.select(User.token_hash).where(User.username == "legal")))
    assert stored == User.hash_token(token) and token not in stored
    page = web.get("/account/token")
    assert not page.has_id("api-token") and token not in page.html
    assert "已有一个有效的API令牌" in page.by_id("token-state").text
