"""Two tabs or a double click: the second submission of the same form is a conflict (409) that
keeps what the user typed, never a 500 — whichever database error the race produces."""
from __future__ import annotations

from app.extensions import db
from app.models import Draft, Letter, User
from tests.factories import build_case, count_of
from tests.race import race
from tests.web.conftest import form_data
from tests.web.page import Page

CONFLICT = "该案件已被他人修改，请刷新页面后重试；您的输入未被保存到案件中。"


def client_as(app, username: str):
    """A client signed in as the login form leaves it (a server-side session; see Web.as_user)."""
    from app.services import sessions
    from app.web import SESSION_ID

    c = app.test_client()
    with app.app_context():
        u = db.session.scalar(db.select(User).where(User.username == username))
        uid, sid = u.id, sessions.start(u)
        db.session.remove()
    with c.session_transaction() as s:
        s["_user_id"], s["_fresh"], s[SESSION_ID] = str(uid), True, sid
    return c


def two_tabs(app, username: str, url: str, typed: list[dict]) -> list:
    """Open the same form in two tabs (same case version), then submit both at once."""
    tabs = []
    for changes in typed:
        c = client_as(app, username)
        r = c.get(url)
        assert r.status_code == 200
        tabs.append((c, {**form_data(Page(r), "action-form"), **changes}))
    return race(app, len(tabs), lambda i: tabs[i][0].post(url, data=tabs[i][1]))


def test_double_save_draft_is_a_409_that_keeps_the_typed_text(app):
    with app.app_context():
        case_id = build_case("handling").id
        db.session.remove()
    typed = [{"outcome": "disclose", "obtain": f"第{i}个标签页：随本答复书邮寄提供", "decision": f"予以公开（{i}）"}
             for i in (1, 2)]
    responses = two_tabs(app, "handler", f"/cases/{case_id}/action/save_draft", typed)

    assert sorted(r.status_code for r in responses) == [302, 409], [r.status_code for r in responses]
    [lost] = [i for i, r in enumerate(responses) if r.status_code == 409]
    page = Page(responses[lost])
    assert page.form_error() == CONFLICT
    assert page.value("obtain") == typed[lost]["obtain"] and page.value("decision") == typed[lost]["decision"]
    assert page.value("outcome") == "disclose"
    assert count_of(app, Draft, case_id) == 1


def test_double_issue_is_a_409_and_one_letter(app):
    with app.app_context():
        case_id = build_case("signed").id
        db.session.remove()
    responses = two_tabs(app, "handler", f"/cases/{case_id}/action/issue", [{}, {}])

    assert sorted(r.status_code for r in responses) == [302, 409], [r.status_code for r in responses]
    [lost] = [r for r in responses if r.status_code == 409]
    assert Page(lost).form_error() == CONFLICT
    assert count_of(app, Letter, case_id) == 1


def test_double_click_on_a_notice_issue_button_is_a_409_with_the_case_page(app):
    with app.app_context():
        case_id = build_case("registered").id
        db.session.remove()
    clients = [client_as(app, "clerk") for _ in range(2)]
    url = f"/cases/{case_id}/notices/receipt/issue"
    responses = race(app, 2, lambda i: clients[i].post(url))

    assert sorted(r.status_code for r in responses) == [302, 409], [r.status_code for r in responses]
    [lost] = [Page(r) for r in responses if r.status_code == 409]
    assert lost.has_id("letters") and ("已出具" in lost.text or "刚刚已由他人出具" in lost.text)
    assert count_of(app, Letter, case_id) == 1
    # Clicked again later: still a 409 naming the receipt in force, still one letter.
    r = clients[0].post(url)
    assert r.status_code == 409 and "已出具" in Page(r).text
    assert count_of(app, Letter, case_id) == 1


def test_reissue_form_requires_a_reason_and_keeps_it_on_a_conflict(app):
    with app.app_context():
        case_id = build_case("registered").id
        db.session.remove()
    c = client_as(app, "clerk")
    assert c.post(f"/cases/{case_id}/notices/receipt/issue").status_code == 302
    url = f"/cases/{case_id}/notices/receipt/reissue"
    page = Page(c.get(url))
    assert page.status == 200 and page.has_id("reissue-form")
    data = form_data(page, "reissue-form")

    r = c.post(url, data={**data, "reason": "  "})
    assert r.status_code == 400 and "请写明重新出具的理由" in Page(r).text
    assert count_of(app, Letter, case_id) == 1

    r = c.post(url, data={**data, "reason": "答复期限顺延，回执所载期限需要更正"})
    assert r.status_code == 302
    case_page = Page(c.get(f"/cases/{case_id}"))
    old_id = int(data["letter_id"])
    assert "已重新出具" in case_page.by_id(f"replaced-{old_id}").text
    assert "答复期限顺延" in case_page.by_id("issued-letters").text

    # The same form submitted again (the other tab still shows the old letter): 409, reason kept.
    r = c.post(url, data={**data, "reason": "第二个标签页写的理由"})
    assert r.status_code == 409
    again = Page(r)
    assert again.value("reason") == "第二个标签页写的理由" and "已被重新出具" in again.form_error()
    assert count_of(app, Letter, case_id) == 2
