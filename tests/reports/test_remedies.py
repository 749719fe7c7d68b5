"""Reconsideration and litigation records of a case, with audit events."""
from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db
from app.models import Event, Remedy
from app.reports import annual
from app.services import remedies as R
from app.services.errors import ServiceError
from tests.conftest import user
from tests.factories import other_agency

from .support import make_case


@pytest.fixture
def case_id(app):
    with app.app_context():
        return make_case(received="2026-03-02", closed="2026-03-20", outcome="refuse_secret").id


def test_add_and_update_through_the_pages(app, client, auth, case_id):
    auth.login("handler")
    resp = client.post(f"/cases/{case_id}/remedies", data={"kind": "reconsideration", "filed_on": "2026-05-06"})
    assert resp.status_code == 302
    html = client.get(f"/cases/{case_id}/remedies").get_data(as_text=True)
    assert "行政复议" in html and "2026-05-06" in html and "示范市人民政府" in html  # body defaults to the agency's
    with app.app_context():
        r = db.session.scalars(db.select(Remedy)).one()
        rid = r.id
        assert (r.result, r.decided_on) == ("pending", None)
    resp = client.post(f"/cases/{case_id}/remedies/{rid}", data={"result": "upheld", "decided_on": "2026-07-01"})
    assert resp.status_code == 302
    with app.app_context():
        r = db.session.get(Remedy, rid)
        assert (r.result, r.decided_on) == ("upheld", date(2026, 7, 1))
        events = db.session.scalars(db.select(Event).where(Event.case_id == case_id).order_by(Event.id)).all()
        assert [e.action for e in events] == ["remedy_add", "remedy_update"]
        assert events[1].data["before"]["result"] == "pending" and events[1].data["after"]["result"] == "upheld"
        assert events[1].actor_id == user("handler").id
        rep = annual.compute(user("head").agency_id, 2026)
        assert rep.table4["reconsideration"]["upheld"] == 1


@pytest.mark.parametrize("form, message", [
    ({"kind": "appeal", "filed_on": "2026-05-06"}, "类型的取值无效"),
    ({"kind": "direct_suit"}, "请填写申请复议或起诉日期"),
    ({"kind": "direct_suit", "filed_on": "2026-12-01"}, "不能晚于今天"),
    ({"kind": "direct_suit", "filed_on": "2026-01-01"}, "不能早于收到政府信息公开申请的日期"),
    ({"kind": "direct_suit", "filed_on": "2026-05-06", "result": "upheld"}, "请填写决定或裁判日期"),
    ({"kind": "direct_suit", "filed_on": "2026-05-06", "result": "upheld", "decided_on": "2026-05-01"},
     "不能早于申请或起诉日期"),
    ({"kind": "direct_suit", "filed_on": "2026-05-06", "decided_on": "2026-06-01"}, "尚未审结的，不填写决定或裁判日期"),
])
def test_invalid_records_are_refused(app, client, auth, case_id, form, message):
    auth.login("head")
    resp = client.post(f"/cases/{case_id}/remedies", data=form)
    assert resp.status_code == 400 and message in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Remedy.id))) == 0
        # Nothing on the case (the login itself is a security event without a case).
        assert db.session.scalar(db.select(db.func.count(Event.id)).where(Event.case_id.is_not(None))) == 0


def test_write_roles_and_agency_scope(app, client, auth, case_id):
    with app.test_request_context():
        for name in ("clerk", "legal", "archivist"):
            with pytest.raises(ServiceError) as e:
                R.add_remedy(user(name), case_id, {"kind": "direct_suit", "filed_on": "2026-05-06"})
            assert e.value.status == 403
        _, others = other_agency()
        with pytest.raises(ServiceError) as e:
            R.add_remedy(others["admin"], case_id, {"kind": "direct_suit", "filed_on": "2026-05-06"})
        assert e.value.status == 404
        r = R.add_remedy(user("admin"), case_id, {"kind": "direct_suit", "filed_on": "2026-05-06"})
        with pytest.raises(ServiceError, match="没有需要保存的修改"):
            R.update_remedy(user("head"), case_id, r.id, {"result": "pending"})
        other_case = make_case(received="2026-03-02")
        with pytest.raises(ServiceError) as e:
            R.update_remedy(user("head"), other_case.id, r.id, {"result": "other", "decided_on": "2026-06-01"})
        assert e.value.status == 404
    for name in ("clerk", "legal", "archivist"):
        auth.login(name)
        assert client.get(f"/cases/{case_id}/remedies").status_code == 200  # reading is open to every role
        assert client.post(f"/cases/{case_id}/remedies",
                           data={"kind": "direct_suit", "filed_on": "2026-05-06"}).status_code == 403
        assert client.post(f"/cases/{case_id}/remedies/1", data={"result": "upheld",
                                                                 "decided_on": "2026-06-01"}).status_code == 403
        auth.logout()
    auth.login("head")
    assert client.get("/cases/999999/remedies").status_code == 404
