"""Through the API: a letter that would print an empty required element is neither signed off nor
issued; the 400 JSON error names the element (label in the message, field name) and nothing changes."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Agency, Case
from tests.api.support import assert_error
from tests.factories import build_case, register, snapshot


def _drop(api, case_id: int, setting: str) -> None:
    with api.app.app_context():
        agency = db.session.get(Agency, db.session.get(Case, case_id).agency_id)
        setattr(agency, setting, "")
        db.session.commit()
        db.session.remove()


def _in_app(api, fn, *args):
    with api.app.app_context():
        try:
            return fn(*args)
        finally:
            db.session.remove()


@pytest.mark.parametrize(("stage", "action", "who", "verb"),
                         [("signoff", "sign_off", "head", "签发"), ("signed", "issue", "handler", "出具")])
def test_the_error_names_the_missing_element_and_nothing_changes(api, stage, action, who, verb):
    case_id = _in_app(api, lambda: build_case(stage).id)
    _drop(api, case_id, "court")
    before = _in_app(api, snapshot, case_id)
    err = assert_error(api.post(f"/cases/{case_id}/actions/{action}", {}, who), 400, "agency__court")
    assert err["message"] == f"《答复书（予以公开）》缺少“管辖人民法院”，不能{verb}。请管理员在“机关设置”中补充。"
    assert _in_app(api, snapshot, case_id) == before


def test_a_notice_missing_an_element_is_not_issued(api):
    case_id = _in_app(api, lambda: register().id)
    _drop(api, case_id, "name")
    err = assert_error(api.post(f"/cases/{case_id}/notices/receipt/issue", as_="clerk"), 400, "agency__name")
    assert "《登记回执》缺少“发文机关名称”，不能出具" in err["message"]
    assert api.get(f"/cases/{case_id}/letters", as_="clerk").get_json()["items"] == []
