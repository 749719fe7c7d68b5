"""Work queue and case page: clocks with their colour-coded status, provisional due dates,
pauses, and the audit timeline."""
from __future__ import annotations

from tests.conftest import set_today
from tests.factories import act, build_case, register


def test_queue_lists_the_roles_cases_most_urgent_first_with_clock_badges(web, app):
    def setup():
        overdue = register(arrived_on="2026-10-20", applicant_name="李四").id  # due 2026-11-17
        soon = register(arrived_on="2026-10-29", applicant_name="王五").id  # due 2026-11-26
        paused = build_case("handling", applicant_name="赵六")
        act(paused, "handler", "consult", {"kind": "third_party", "party": "某公司", "matter": "商业信息"})
        return overdue, soon, paused.id
    overdue, soon, paused = web.run(setup)
    web.as_user("handler")
    page = web.get("/")
    rows = [n for n in page.by_id("queue").iter() if n.tag == "tr" and n.get("data-case-id")]
    assert [int(r.get("data-case-id")) for r in rows] == [overdue, soon, paused]
    badges = [next(n for n in r.iter() if "badge" in n.classes) for r in rows]
    assert [(b.text, sorted(b.classes)) for b in badges] == [
        ("已超期", ["badge", "status-overdue"]), ("即将到期", ["badge", "status-due_soon"]),
        ("暂停计时", ["badge", "status-paused"])]
    assert "征求第三方意见" in rows[2].text
    assert "超期 4 个工作日" in rows[0].text and "2026-11-17" in rows[0].text
    link = next(n for n in rows[0].iter() if n.tag == "a")
    assert link.get("href") == f"/cases/{overdue}" and link.text == "DEMO-2026-0001"
    # The legal adviser has nothing in review yet.
    web.as_user("legal")
    assert web.get("/").has_id("queue-empty")


def test_due_date_in_an_unconfirmed_year_is_marked_provisional_with_an_explanation(web, app):
    set_today(app, "2026-12-10")
    case_id = web.run(lambda: register(arrived_on="2026-12-10").id)
    web.as_user("clerk")
    row = next(n for n in web.get("/").all("tr") if n.get("data-case-id") == str(case_id))
    mark = next(n for n in row.iter() if "provisional" in n.classes)
    assert mark.text == "（暂定）" and "尚未确认" in mark.get("title")
    page = web.get(f"/cases/{case_id}")
    clock = page.by_id("clock")
    # Issue 10: the unentered 2027 counts 元旦 (Fri 1 Jan) as a holiday: day 20 is Fri 8 Jan, not 7 Jan.
    assert "2027-01-08" in clock.text and "（暂定）" in clock.text and "工作日历：2026年正式，2027年暂定" in clock.text


def test_step_deadlines_are_marked_provisional_or_as_printed_in_a_letter(web, app):
    from app.services import letters as L
    from tests.conftest import user
    from tests.factories import d

    set_today(app, "2026-12-11")

    def setup():
        case = register(arrived_on="2026-12-10")
        act(case, "handler", "start")
        for party in ("甲公司", "乙公司"):
            act(case, "handler", "consult", {"kind": "third_party", "party": party, "matter": "商业信息",
                                             "sent_on": "2026-12-11"})
        first = case.steps[0]
        L.issue_notice(case.id, user("handler"), f"step-{first.id}", d("2026-12-11"))
        return case.id, first.id, case.steps[1].id
    case_id, printed, provisional = web.run(setup)
    web.as_user("handler")
    page = web.get(f"/cases/{case_id}")
    printed_due = next(n for n in page.by_id(f"step-{printed}").iter() if "step-due" in n.classes)
    provisional_due = next(n for n in page.by_id(f"step-{provisional}").iter() if "step-due" in n.classes)
    assert "2027-01-04" in printed_due.text and "文书所载" in printed_due.text and "暂定" not in printed_due.text
    assert "2027-01-04" in provisional_due.text and "（暂定）" in provisional_due.text


def test_case_page_shows_intake_details_receipt_basis_and_timeline(web):
    case_id = web.run(lambda: register(channel="registered_post", agent_name="钱七",
                                       agent_id_number="11010519491231002X", power_of_attorney="委托书2026-1").id)
    web.as_user("archivist")
    page = web.get(f"/cases/{case_id}")
    assert page.by_id("case-number").text == "DEMO-2026-0001" and page.by_id("case-state").text == "已登记"
    assert "第三十一条第（二）项" in page.by_id("receipt-basis").text
    details = page.by_id("intake-details").text
    for text in ("张三", "居民身份证", "13800000000", "钱七", "委托书2026-1", "示政发〔2025〕3号", "纸质", "邮寄"):
        assert text in details, text
    clock = page.by_id("clock")
    assert "正常" in clock.text and "2026-11-30（周一）" in clock.text and "5 个工作日" in clock.text
    event = [n for n in page.by_id("timeline").iter() if n.tag == "li"]
    assert len(event) == 1 and "登记申请" in event[0].text and "王登记" in event[0].text
    assert "— → 已登记" in event[0].text and "答复期限：2026-11-30" in event[0].text
    assert page.has_id("no-actions")  # the archivist has nothing to do on a new request


def test_history_names_letters_and_numbers_in_words(web):
    """Issue 15 item 5: an issued letter's event reads 文书：《…》 and 文号, never "key：receipt" or a whole SHA-256."""
    from app.services import letters as L
    from tests.conftest import user
    from tests.factories import d

    def build():
        case = register()
        row = L.issue_notice(case.id, user("clerk"), "receipt", d("2026-11-02"))
        return case.id, row.number, row.sha256
    cid, number, sha = web.run(build)
    web.as_user("handler")
    timeline = web.get(f"/cases/{cid}").by_id("timeline").text
    assert "key：" not in timeline and "ref：" not in timeline and "receipt" not in timeline
    from app.letters.catalogue import get_letter
    assert f"文书：{get_letter('receipt').name}" in timeline
    if number:
        assert f"文号：{number}" in timeline and "案号：" + number not in timeline
    assert sha not in timeline and sha[:12] in timeline


def test_the_archive_form_suggests_the_next_archive_number(web):
    """Issue 15 item 5: 档号 suggested as 全宗号-年度-保管期限-件号, the next free 件号 of the agency."""
    from app.services.checklist import suggest_archive_number
    from tests.factories import reload

    a, b = web.run(lambda: (build_case("delivered").id, build_case("delivered").id))
    web.as_user("archivist")
    assert web.get(f"/cases/{a}/action/archive").value("archive_number") == "DEMO-2026-D10-0001"
    assert web.client.post(f"/cases/{a}/action/archive", data={
        "archive_number": "DEMO-2026-D10-0001", "retention": "10y",
        "version": web.run(lambda: str(reload(a).version))}).status_code == 302
    assert web.get(f"/cases/{b}/action/archive").value("archive_number") == "DEMO-2026-D10-0002"
    assert web.run(lambda: suggest_archive_number(reload(b), "permanent")) == "DEMO-2026-Y-0001"
