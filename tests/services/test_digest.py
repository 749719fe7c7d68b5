"""The morning digest (今日提醒): who is reminded of which case, counted in working days of the real
2026 calendar around 中秋 and 国庆 (9-25 and 10-01..10-07 off, 10-10 a make-up working day), stored
once per user and day, and shown on the 工作台 and by GET /api/v1/digest."""
from __future__ import annotations

from datetime import date, timedelta

from app.extensions import db
from app.models import Digest
from app.services import digest
from app.services.workdays import load_calendar
from tests.conftest import user
from tests.factories import act, build_case, d, other_agency, register, to_handling, to_review

# Received in person on 2026-09-03: 20 working days later is Thursday 2026-10-08, the first working
# day after the National Day holiday.
SEPT_3 = {"arrived_on": "2026-09-03"}
DUE = "2026-10-08"


def _case_due_after_guoqing(stage: str = "handling"):
    case = build_case(stage, **SEPT_3)
    assert case.reply_due == d(DUE)
    return case


def _numbers(items, kind="reply"):
    return [(it["case_number"], it["days_left"], it["status"]) for it in items if it["kind"] == kind]


def test_within_three_working_days_means_working_days_not_calendar_days(app, ctx):
    case = _case_due_after_guoqing()
    handler = user("handler")
    cal = load_calendar()
    # Monday 28 September: ten calendar days before the due date, but only three working days
    # (29th, 30th, 8th October): the handler is reminded.
    assert (d(DUE) - d("2026-09-28")).days == 10
    assert cal.working_days_between(d("2026-09-28"), d(DUE)) == 3
    assert _numbers(digest.for_user(handler, d("2026-09-28"))) == [(case.number, 3, "due_soon")]
    # Friday 25 September (中秋, a holiday) is four working days before: not yet.
    assert digest.for_user(handler, d("2026-09-25")) == []
    # On a day of the holiday the case is one working day from due.
    assert _numbers(digest.for_user(handler, d("2026-10-03"))) == [(case.number, 1, "due_soon")]
    # Due today, then overdue on Friday the 9th and by two working days on Saturday the 10th (a
    # make-up working day), still two on Sunday the 11th.
    assert _numbers(digest.for_user(handler, d(DUE))) == [(case.number, 0, "due_soon")]
    assert _numbers(digest.for_user(handler, d("2026-10-09"))) == [(case.number, -1, "overdue")]
    item = digest.for_user(handler, d("2026-10-10"))[0]
    assert (item["status"], item["overdue_days"], item["due"], item["step"], item["deadline"]) == \
        ("overdue", 2, DUE, "办理中", "答复期限")
    assert digest.for_user(handler, d("2026-10-11"))[0]["overdue_days"] == 2


def test_who_is_reminded_of_what(app, ctx):
    mine = _case_due_after_guoqing("handling")  # assigned to "handler" by starting it
    in_review = _case_due_after_guoqing("review")
    unassigned = register(**SEPT_3)  # registered, nobody's yet
    done = _case_due_after_guoqing("replied")  # the reply has gone: nothing to remind
    later = build_case("handling", arrived_on="2026-09-20")  # due 10-15: 6 working days on 9-28
    day = d("2026-09-28")
    head = digest.for_user(user("head"), day)
    assert sorted(it["case_number"] for it in head) == sorted([mine.number, in_review.number, unassigned.number])
    assert {it["why"] for it in head} == {"本机关案件"}
    # The legal adviser: only the case waiting for legal review.
    legal = digest.for_user(user("legal"), day)
    assert [(it["case_number"], it["step"]) for it in legal] == [(in_review.number, "法制审核中")]
    # The handler: the cases assigned to them (both were started by "handler"), not the unassigned one.
    assert sorted(it["case_number"] for it in digest.for_user(user("handler"), day)) == \
        sorted([mine.number, in_review.number])
    assert digest.for_user(user("handler2"), day) == []
    for nobody in ("clerk", "archivist", "admin", "sysadmin"):
        assert digest.for_user(user(nobody), day) == []
    # Another agency's head sees none of these.
    _agency, others = other_agency()
    assert digest.for_user(others["head"], day) == []
    assert done.number not in {it["case_number"] for it in head} and later.number not in \
        {it["case_number"] for it in head}


def test_a_lapsing_sub_procedure_reminds_the_handler(app, ctx):
    # A correction notice sent on 2026-09-07 gives the applicant 15 working days: 2026-09-28 (Sunday
    # the 20th is a make-up working day). The reply clock stops meanwhile; the correction's own
    # period is what the handler must watch.
    case = build_case("handling", **SEPT_3)  # started by "handler": assigned to them
    act(case, "handler", "request_correction", {"notice_date": "2026-09-07", "items": "请明确所需信息的范围",
                                                "guidance": "可参考主动公开目录"})
    step = case.steps_of("correction")[0]
    assert step.due_on == d("2026-09-28")
    # Thursday the 24th: the next working day is Monday the 28th (中秋 on Friday the 25th).
    items = digest.for_user(user("handler"), d("2026-09-24"))
    assert [(it["kind"], it["step"], it["deadline"], it["due"], it["days_left"]) for it in items] == \
        [("step", "补正", "补正期限", "2026-09-28", 1)]
    assert digest.for_user(user("head"), d("2026-09-24")) == []  # the reply clock is stopped
    assert digest.for_user(user("handler"), d("2026-09-18")) == []  # 4 working days before
    # The day after the period lapsed it is overdue for the handler.
    assert digest.for_user(user("handler"), d("2026-09-29"))[0]["status"] == "overdue"


def test_stored_once_per_user_and_day(app, ctx):
    case = _case_due_after_guoqing()
    day = d("2026-09-28")
    first = digest.run_all(day)
    rows = list(db.session.scalars(db.select(Digest).where(Digest.day == day)))
    # Every active handler, legal adviser and head of the agency gets a row, empty ones included.
    assert sorted(user_row.user_id for user_row in rows) == sorted(
        user(n).id for n in ("handler", "handler2", "legal", "head"))
    assert first == {"day": "2026-09-28", "users": 4, "items": 2}  # the handler's and the head's
    again = digest.run_all(day)  # a second run (a retry, a second worker host) changes nothing
    assert again == first
    assert db.session.scalar(db.select(db.func.count(Digest.id)).where(Digest.day == day)) == 4
    row = digest.stored_for(user("handler"), day)
    assert [it["case_number"] for it in row.items] == [case.number] and row.total == 1
    # The next day is a new row; the first stays as it was.
    digest.run_all(d("2026-09-29"))
    assert digest.stored_for(user("handler"), d("2026-09-29")).items[0]["days_left"] == 2
    assert digest.stored_for(user("handler"), day).items[0]["days_left"] == 3


def test_the_workbench_and_the_api_show_the_stored_digest(app, client, auth):
    from tests.api.support import Api, response_schema, validate

    with app.app_context():
        case = _case_due_after_guoqing()
    app.config["OGI_TODAY"] = "2026-09-28"
    # Before the morning run: computed now, not stored, and said so.
    auth.login("handler")
    page = client.get("/").get_data(as_text=True)
    assert 'id="digest"' in page and "今日提醒尚未生成" in page and case.number in page
    assert f'href="/cases/{case.id}"' in page.split('id="digest"')[1].split("</section>")[0]
    with app.app_context():
        digest.run_all(date(2026, 9, 28))
    page = client.get("/").get_data(as_text=True)
    panel = page.split('id="digest"')[1].split("</section>")[0]
    assert "剩 3 个工作日" in panel and "本次生成于" in panel and "2026-10-08" in panel
    api = Api(app, app.test_client())
    r = api.get("/digest", "handler")
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    doc = api.get("/openapi.json").get_json()
    validate(doc, response_schema(doc, "/digest", "get", 200), body)
    assert body["stored"] is True and body["day"] == "2026-09-28" and body["total"] == 1
    assert body["items"][0]["case_number"] == case.number and body["items"][0]["days_left"] == 3
    # Someone else with nothing due: an empty panel and list.
    auth.logout()
    auth.login("handler2")
    assert 'id="digest-empty"' in client.get("/").get_data(as_text=True)
    assert api.get("/digest", "handler2").get_json()["items"] == []
    assert api.get("/digest").status_code == 401  # the API needs a token


def test_the_workbench_panel_shows_the_most_urgent_and_says_how_many_in_all(app, client, auth):
    from tests.reports.support import make_case

    with app.app_context():
        for i in range(digest.PANEL_ITEMS + 5):  # all overdue, the earliest first
            make_case(received="2026-09-01", reply_due=date(2026, 10, 1) + timedelta(days=i), commit=False)
        db.session.commit()
        digest.run_all(date(2026, 11, 23))
    auth.login("head")
    panel = client.get("/").get_data(as_text=True).split('id="digest"')[1].split("</section>")[0]
    assert panel.count("<li ") == digest.PANEL_ITEMS
    assert f"共 {digest.PANEL_ITEMS + 5} 项（以下为最紧急的 {digest.PANEL_ITEMS} 项，其余见下方工作台" in panel
    assert "2026-10-01" in panel and "2026-10-25" not in panel  # the last five are left to the queue
