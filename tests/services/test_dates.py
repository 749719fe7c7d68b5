"""Dates entered for things that already happened: never in the future, never before what they follow.

Each row: the action, the stage to start from, a preparation, the date field, and valid other
parameters. The office's today is 2026-11-23; the request was received on 2026-11-02.
"""
from __future__ import annotations

import pytest

from app.services.errors import ServiceError
from tests.factories import act, build_case, fee_in_effect, reload, snapshot

FUTURE = "2026-11-24"
BEFORE_RECEIPT = "2026-10-30"


def _prep_consult(case):
    act(case, "handler", "consult", {"kind": "third_party", "party": "某公司", "matter": "x", "sent_on": "2026-11-05"})
    return {"step_id": reload(case).steps[-1].id, "result": "agree"}


def _prep_reasons(case):
    act(case, "handler", "request_reasons", {"matter": "x", "sent_on": "2026-11-05"})
    return {"result": "reasonable"}


def _prep_fee(case):
    fee_in_effect(case, {"method": "per_request", "nth_in_month": 11}, on="2026-11-05")
    return {"receipt_no": "R1"}


def _prep_cohandle(case):
    act(case, "handler", "cohandle", {"party": "档案馆", "matter": "x", "sent_on": "2026-11-05"})
    return {"step_id": reload(case).steps[-1].id, "note": "已回复"}


ROWS = {
    # id: (stage, prepare, action, user, field, other params)
    "notice_date": ("registered", None, "request_correction", "handler", "notice_date", {"items": "x"}),
    "correction_received_on": ("correction", None, "receive_correction", "clerk", "received_on", {}),
    "consult_sent_on": ("handling", None, "consult", "handler", "sent_on",
                        {"kind": "agency", "party": "某局", "matter": "x"}),
    "consult_received_on": ("handling", None, "consult", "handler", "received_on",
                            {"kind": "agency", "party": "某局", "matter": "x", "sent_on": "2026-11-05"}),
    "consultation_answered_on": ("handling", _prep_consult, "consultation_reply", "handler", "answered_on", {}),
    "reasons_sent_on": ("handling", None, "request_reasons", "handler", "sent_on", {"matter": "x"}),
    "reasons_answered_on": ("handling", _prep_reasons, "reasons_reply", "handler", "answered_on", {}),
    "fee_paid_on": ("handling", _prep_fee, "fee_paid", "clerk", "paid_on", {}),
    "cohandle_sent_on": ("handling", None, "cohandle", "handler", "sent_on", {"party": "档案馆", "matter": "x"}),
    "cohandle_answered_on": ("handling", _prep_cohandle, "cohandle_reply", "handler", "answered_on", {}),
    "issued_on": ("signed", None, "issue", "handler", "issued_on", {}),
    "delivered_on": ("replied", None, "deliver", "clerk", "delivered_on", {"method": "post", "proof": "EMS1"}),
    "withdrawn_on": ("handling", None, "withdraw", "clerk", "withdrawn_on", {"note": "撤回"}),
}


# A date that is fine for the step (default 2026-11-20); the notice must be within 7 working days of
# receipt (by 2026-11-11) and the reply built by the factory is issued on 2026-11-23.
VALID = {"notice_date": "2026-11-05", "delivered_on": "2026-11-23"}


def _attempt(app, name: str, value: str):
    stage, prep, action, username, field, other = ROWS[name]
    case = build_case(stage)
    params = dict(other)
    if prep:
        params.update(prep(case))
    before = snapshot(case.id)
    with pytest.raises(ServiceError) as e:
        act(case, username, action, {**params, field: value})
    assert e.value.field == field, e.value.message
    assert snapshot(case.id) == before
    # The same step with a sensible date goes through: the refusal was about the date.
    act(case, username, action, {**params, field: VALID.get(name, "2026-11-20")})


@pytest.mark.parametrize("name", ROWS)
def test_future_dates_are_refused(app, ctx, name):
    _attempt(app, name, FUTURE)


@pytest.mark.parametrize("name", ROWS)
def test_dates_before_the_receipt_are_refused(app, ctx, name):
    _attempt(app, name, BEFORE_RECEIPT)
