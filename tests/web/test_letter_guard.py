"""Through the web pages: a letter that would print an empty required element is neither signed
off nor issued; the page names the element by its label and the case is unchanged (issue 11)."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Agency, Case
from tests.factories import build_case, register, snapshot
from tests.web.test_actions import do


def _drop(web, case_id: int, setting: str) -> None:
    def run():
        agency = db.session.get(Agency, db.session.get(Case, case_id).agency_id)
        setattr(agency, setting, "")
        db.session.commit()
    web.run(run)


@pytest.mark.parametrize(("stage", "action", "who", "verb"),
                         [("signoff", "sign_off", "head", "签发"), ("signed", "issue", "handler", "出具")])
def test_the_form_names_the_missing_element_and_nothing_changes(web, stage, action, who, verb):
    case_id = web.run(lambda: build_case(stage).id)
    _drop(web, case_id, "court")
    before = web.run(snapshot, case_id)
    web.as_user(who)
    page = do(web, case_id, action, expect=400)
    assert page.form_error() == f"《答复书（予以公开）》缺少“管辖人民法院”，不能{verb}。请管理员在“机关设置”中补充。"
    assert web.run(snapshot, case_id) == before


def test_a_notice_is_not_issued_and_the_case_page_says_why(web):
    case_id = web.run(lambda: register().id)
    _drop(web, case_id, "name")
    web.as_user("clerk")
    r = web.client.post(f"/cases/{case_id}/notices/receipt/issue")
    assert r.status_code == 302
    page = web.get(f"/cases/{case_id}")
    assert any("《登记回执》缺少“发文机关名称”，不能出具" in f for f in page.flashes())
    assert web.run(lambda: db.session.get(Case, case_id).letters) == []
