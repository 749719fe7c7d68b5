"""消息发件箱 (/outbox), 重新发送, the case page's 通知记录 and the staff's contacts on the user page."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Event, Message
from app.services import notify
from tests.conftest import user
from tests.factories import DEMO_USERNAMES, other_agency, register


def _message(status: str = "local", **over) -> int:
    case = register(contact_email="zhang@example.com", contact_phone="13812345678")
    msgs = notify.to_applicant(case, "confirmed", query_code="ABCD-1234")
    for m in msgs:
        m.status = status
        m.attempts = 5 if status == "failed" else 0
        m.last_error = "短信网关返回 HTTP 500" if status == "failed" else ""
        for k, v in over.items():
            setattr(m, k, v)
    db.session.commit()
    return case.id


@pytest.mark.parametrize("username", DEMO_USERNAMES)
def test_outbox_is_for_the_agency_admin(web, username):
    web.run(_message)
    web.as_user(username)
    r = web.client.get("/outbox")
    assert r.status_code == (200 if username == "admin" else 403), username
    assert web.client.post("/outbox/1/resend").status_code == (302 if username == "admin" else 403)


def test_outbox_asks_for_a_login(client):
    r = client.get("/outbox")
    assert r.status_code == 302 and r.location.startswith("/login")


def test_outbox_lists_filters_and_pages(web):
    case_id = web.run(_message)
    web.run(lambda: (notify.to_applicant(register(contact_email=""), "replied"), db.session.commit()))  # SMS only
    web.as_user("admin")
    page = web.get("/outbox")
    assert page.status == 200 and page.by_id("outbox-total").text == "3"
    assert "13812345678" in page.text and "zhang@example.com" in page.text and "ABCD-1234" in page.text
    assert "仅存本地发件箱（未配置网关）" in page.text and f'/cases/{case_id}' in page.html
    assert web.get("/outbox?channel=email").by_id("outbox-total").text == "1"
    assert web.get("/outbox?status=failed").has_id("outbox-empty")
    assert web.get("/outbox?status=bogus").status == 400
    # Another agency's messages are not listed.
    other_id = web.run(lambda: other_agency()[1]["clerk"].id)

    def foreign():
        from app.services.cases import register_case
        from tests.conftest import INTAKE

        from app.models import User
        clerk = db.session.get(User, other_id)
        notify.to_applicant(register_case(clerk, dict(INTAKE)), "replied")
        db.session.commit()
    web.run(foreign)
    assert web.get("/outbox").by_id("outbox-total").text == "3"

    def many():
        for _ in range(30):
            notify.to_applicant(register(contact_email="x@example.com"), "replied")
        db.session.commit()
    web.run(many)
    first = web.get("/outbox")
    assert first.by_id("outbox-total").text == "63" and first.has_id("outbox-next")
    assert len(first.all("tr", **{"data-status": "local"})) == notify.PER_PAGE
    assert len(web.get("/outbox?page=2").all("tr", **{"data-status": "local"})) == 63 - notify.PER_PAGE


def test_resend_a_failed_message(web):
    case_id = web.run(lambda: _message("failed"))
    web.as_user("admin")
    page = web.get("/outbox?status=failed")
    ids = web.run(lambda: [m.id for m in db.session.scalars(db.select(Message).order_by(Message.id))])
    assert all(page.has_id(f"resend-{i}") for i in ids) and "短信网关返回 HTTP 500" in page.text
    r = web.client.post(f"/outbox/{ids[0]}/resend")
    assert r.status_code == 302
    status, attempts = web.run(lambda: (lambda m: (m.status, m.attempts))(db.session.get(Message, ids[0])))
    assert (status, attempts) == ("queued", 0)
    events = web.run(lambda: [(e.action, e.actor_id) for e in db.session.scalars(
        db.select(Event).where(Event.case_id == case_id, Event.action == "notify_resend"))])
    assert events == [("notify_resend", web.run(lambda: user("admin").id))]
    # Queued now: a second 重新发送 is refused with a message.
    r = web.client.post(f"/outbox/{ids[0]}/resend", follow_redirects=True)
    assert "只有发送失败的消息可以重新发送" in r.get_data(as_text=True)
    assert web.client.post("/outbox/99999/resend").status_code == 404


def test_case_page_lists_its_notifications_masked(web):
    case_id = web.run(_message)
    web.as_user("handler")
    page = web.get(f"/cases/{case_id}")
    section = page.by_id("notifications")
    assert section is not None
    assert "138****5678" in section.text and "z***@example.com" in section.text
    assert "13812345678" not in section.text and "ABCD-1234" not in section.text
    assert not web.get(f"/cases/{web.run(lambda: register(contact_phone='').id)}").has_id("notifications")


def test_nav_link_for_the_admin_only(web):
    for username, shown in (("admin", True), ("clerk", False), ("head", False)):
        web.as_user(username)
        assert web.get("/").has_id("nav-outbox") is shown, username


def _contacts(web, uid: int, changes: dict, expect: int):
    """The user page's 联系方式 form, filled like a browser and posted to its action."""
    from tests.web.conftest import form_data
    from tests.web.page import Page

    page = web.get(f"/admin/users/{uid}")
    data = {**form_data(page, "contacts-form"), **changes}
    r = web.client.post(page.by_id("contacts-form").get("action"), data=data)
    assert r.status_code == expect, (r.status_code, Page(r).text[:300])
    return Page(r)


def test_admin_sets_a_users_contacts(web):
    uid = web.run(lambda: user("clerk").id)
    web.as_user("admin")
    page = _contacts(web, uid, {"email": "clerk@example", "mobile": "12345"}, 400)
    assert "电子邮箱格式不正确" in page.error_for("email")
    page = _contacts(web, uid, {"email": "clerk@example.gov.cn", "mobile": "12345"}, 400)
    assert "手机号码应为11位" in page.error_for("mobile")
    _contacts(web, uid, {"email": " clerk@example.gov.cn ", "mobile": "+86 139 0000 1111"}, 302)
    assert web.run(lambda: (user("clerk").email, user("clerk").mobile)) == ("clerk@example.gov.cn", "13900001111")
    [data] = web.run(lambda: [e.data for e in db.session.scalars(
        db.select(Event).where(Event.action == "contacts_changed"))])
    assert data["username"] == "clerk" and {c["new"] for c in data["changes"]} == {"clerk@example.gov.cn", "13900001111"}
    page = web.get(f"/admin/users/{uid}")
    assert page.value("email") == "clerk@example.gov.cn" and page.value("mobile") == "13900001111"
    # Nothing changed: refused, nothing recorded.
    assert "联系方式没有变化" in _contacts(web, uid, {}, 400).error_for("email")
    # Only the agency's administrator.
    web.as_user("head")
    assert web.client.post(f"/admin/users/{uid}/contacts", data={"email": "", "mobile": ""}).status_code == 403
