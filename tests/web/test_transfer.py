"""分办 through the UI (issue 16 item 1): the clerk transfers a registered request with the form,
the sending agency keeps only the transfer record and its letter, the answering agency finds the
request on its 工作台; every role of the sending, the answering and an unrelated agency is checked."""
from __future__ import annotations

from app.domain.workflow import AGENCY_ROLES
from app.extensions import db
from app.models import Case, CaseTransfer
from tests.conftest import user
from tests.factories import DEMO_USERNAMES, other_agency, register
from tests.web.page import Page

REASON = "申请公开的信息由教育局制作并保存"


def setup() -> dict:
    jy, jy_users = other_agency("JY")
    third, third_users = other_agency("THIRD")
    case = register(applicant_name="欧阳明月")
    return {"case": case.id, "number": case.number, "jy": jy.id, "third": third.id,
            "users": {"DEMO": list(DEMO_USERNAMES), "JY": [u.username for u in jy_users.values()],
                      "THIRD": [u.username for u in third_users.values()]}}


def transfer(web, s) -> int:
    web.as_user("clerk")
    url = f"/cases/{s['case']}/action/transfer"
    page = web.get(url)
    options = {o.get("value"): o.text for o in page.by_id("agency_id").iter() if o.tag == "option"}
    # Every other agency that can receive it, never the clerk's own.
    assert set(options.values()) >= {"JY 测试机关", "THIRD 测试机关"} and "示范市自然资源和规划局" not in options.values()
    page, r = web.submit(url, {"agency_id": str(s["jy"]), "reason": REASON}, form_id="action-form", expect=302)
    t_id = web.run(lambda: db.session.scalar(db.select(CaseTransfer.id).where(CaseTransfer.case_id == s["case"])))
    assert r.location == f"/transfers/{t_id}"
    return t_id


def test_clerk_transfers_and_each_side_sees_its_part(web):
    s = web.run(setup)
    # A rejected form names the field and keeps the reason typed.
    web.as_user("clerk")
    page, r = web.submit(f"/cases/{s['case']}/action/transfer", {"agency_id": "", "reason": REASON},
                         form_id="action-form")
    assert r.status_code == 400 and REASON in page.html
    t_id = transfer(web, s)
    page = web.get(f"/transfers/{t_id}")
    assert page.status == 200 and f"已分办至JY 测试机关" in page.text and REASON in page.text
    assert "欧阳明月" not in page.html  # the record, not the case
    pdf = web.client.get(page.by_id("transfer-letter").get("href"))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert web.client.get(f"/cases/{s['case']}").status_code == 404
    page = web.get(f"/cases?q={s['number']}")
    assert [n.text for n in page.by_id("transferred").iter() if n.tag == "td"][2] == "已分办至JY 测试机关"
    page = web.get("/transfers")
    assert s["number"] in page.by_id("transfers").text
    # The answering agency's clerk finds it on the 工作台, and opens the whole case.
    web.as_user("jy_clerk")
    page = web.get("/")
    assert s["number"] in page.by_id("transferred").text and "示范市自然资源和规划局" in page.by_id("transferred").text
    page = web.get(f"/cases/{s['case']}")
    assert page.status == 200 and "欧阳明月" in page.html
    assert web.run(lambda: db.session.get(Case, s["case"]).agency_id) == s["jy"]


def test_transfer_routes_for_every_role_of_three_agencies(web):
    s = web.run(setup)
    t_id = transfer(web, s)
    checked = 0
    for home, usernames in s["users"].items():
        for username in usernames:
            roles = web.run(lambda: set(user(username).roles))
            web.as_user(username)
            agency_role = bool(roles & set(AGENCY_ROLES))
            for url in (f"/transfers/{t_id}", f"/transfers/{t_id}/letter.pdf"):
                expected = 403 if not agency_role else (200 if home == "DEMO" else 404)
                assert web.client.get(url).status_code == expected, (username, url)
                checked += 1
            page = web.client.get("/transfers")
            assert page.status_code == (200 if agency_role else 403), username
            if agency_role:
                assert (s["number"] in page.get_data(as_text=True)) == (home == "DEMO"), username
            expected = 403 if not agency_role else (200 if home == "JY" else 404)
            assert web.client.get(f"/cases/{s['case']}").status_code == expected, (username, home)
            # The transfer form itself: only the case's own clerk or head, and only while registered.
            r = web.client.get(f"/cases/{s['case']}/action/transfer")
            if not agency_role:
                assert r.status_code == 403, username
            elif home != "JY":
                assert r.status_code == 404, username
            checked += 1
    assert checked > 40
