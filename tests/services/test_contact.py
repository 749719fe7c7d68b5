"""Letters to the applicant name the handler as 联系人 (issue 15 item 1): a step that sends one on an
unassigned case makes the sender its handler, and no such letter is issued without a handler."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.services import letters as L
from app.services.errors import ServiceError
from tests.conftest import user
from tests.factories import act, d, events, register, reload, to_correction


def test_a_correction_notice_on_an_unassigned_case_makes_the_sender_its_handler(app, ctx):
    case = register()
    assert case.handler_id is None
    act(case, "handler2", "request_correction", {"notice_date": "2026-11-04", "items": "请明确所需信息的时间范围"})
    case = reload(case)
    assert case.handler_id == user("handler2").id
    assert events(case.id)[-1].data["handler"] == user("handler2").name
    step = case.steps_of("correction")[-1]
    letter = L.issue_notice(case.id, user("handler2"), f"step-{step.id}", d("2026-11-04"))
    assert user("handler2").name in L.case_context(case)["contact"]["name"]
    assert letter.number


def test_an_assigned_case_keeps_its_handler(app, ctx):
    case = register()
    act(case, "clerk", "assign", {"handler_id": user("handler").id})
    act(case, "handler2", "request_correction", {"notice_date": "2026-11-04", "items": "请明确所需信息的时间范围"})
    assert reload(case).handler_id == user("handler").id


def test_no_letter_but_the_receipt_goes_out_without_a_handler(app, ctx):
    case = to_correction(register())
    # A case left without a handler (data from before this rule, an import): the notice waits for one.
    reload(case).handler_id = None
    db.session.commit()
    case = reload(case)
    step = case.steps_of("correction")[-1]
    with pytest.raises(ServiceError) as e:
        L.issue_notice(case.id, user("clerk"), f"step-{step.id}", d("2026-11-04"))
    assert "联系人" in e.value.message
    assert not reload(case).letters
    assert L.issue_notice(case.id, user("clerk"), "receipt", d("2026-11-02")).key == "receipt"
