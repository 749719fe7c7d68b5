"""A case walked from intake to archive through the services, with real dates."""
from datetime import date

import pytest

from app.extensions import db
from app.models import Event
from app.services import cases as S
from app.services.errors import Conflict, ServiceError
from tests.conftest import INTAKE, set_today, user


def register(**over):
    return S.register_case(user("clerk"), {**INTAKE, **over})


def test_full_case_intake_to_archive(app, ctx):
    set_today(app, "2026-11-03")
    case = register()
    assert case.number == "DEMO-2026-0001"
    assert case.received_on == date(2026, 11, 2)
    assert case.reply_due == date(2026, 11, 30)  # 20 working days, receipt day not counted
    h = user("handler")
    S.perform(case.id, h, "start")
    S.perform(case.id, h, "consult", {"kind": "third_party", "party": "某建设公司",
                                       "matter": "补偿方案涉及企业信息", "sent_on": "2026-11-03"})
    step = case.steps[-1]
    assert step.due_on == date(2026, 11, 24)  # 15 working days from receipt of the letter
    set_today(app, "2026-11-06")
    S.perform(case.id, h, "consultation_reply", {"step_id": step.id, "result": "agree",
                                                  "answered_on": "2026-11-05"})
    # Paused 3 Nov to 5 Nov inclusive: three working days added.
    assert case.reply_due == date(2026, 12, 3)
    S.perform(case.id, h, "save_draft", {"outcome": "disclose", "decision": "予以公开",
                                          "obtain": "随本答复书邮寄提供"})
    S.perform(case.id, h, "submit_draft")
    with pytest.raises(ServiceError, match="保密审查"):
        S.perform(case.id, user("legal"), "approve", {})
    S.perform(case.id, user("legal"), "approve", {"secrecy_reviewed": "y"})
    S.perform(case.id, user("head"), "sign_off")
    S.perform(case.id, h, "issue")
    assert case.state == "replied" and case.outcome_code == "disclose"
    S.perform(case.id, user("clerk"), "deliver", {"method": "post", "proof": "EMS1234567890"})
    S.perform(case.id, user("archivist"), "archive", {"archive_number": "2026-OGI-0001", "retention": "10y"})
    assert case.state == "archived"
    actions = [e.action for e in db.session.scalars(
        db.select(Event).where(Event.case_id == case.id).order_by(Event.id))]
    assert actions == ["register", "start", "consult", "consultation_reply", "save_draft", "submit_draft",
                       "approve", "sign_off", "issue", "deliver", "archive"]


def test_refused_step_changes_nothing(app, ctx):
    case = register()
    before = (case.state, case.version, len(case.steps))
    with pytest.raises(ServiceError):
        S.perform(case.id, user("handler"), "consult", {"kind": "third_party", "party": ""})
    db.session.refresh(case)
    assert (case.state, case.version, len(case.steps)) == before


def test_stale_version_is_a_conflict(app, ctx):
    case = register()
    v = case.version
    S.perform(case.id, user("handler"), "start", expected_version=v)
    with pytest.raises(Conflict):
        S.perform(case.id, user("handler"), "request_reasons", {"matter": "x"}, expected_version=v)
