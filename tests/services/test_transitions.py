"""Every action from every stage, through services.cases.perform, against the ACTIONS table.

Refused combinations (wrong stage, or a user without the role) must change nothing in the database;
allowed ones must land on ACTIONS[a].target and write exactly one audit event.
"""
from __future__ import annotations

import pytest

from app.domain.workflow import ACTIONS, ROLES, STATES
from app.extensions import db
from app.models import Event
from app.services import cases as S
from app.services.errors import Conflict, NotFound, ServiceError
from tests.conftest import set_today, user
from tests.factories import (DISCLOSE_DRAFT, STAGES, act, actor_for, build_case, events, fee_in_effect, snapshot,
                             users_lacking)

# Valid parameters for each action; ``prepare`` steps run first (they are not the step under test).
PARAMS = {
    "assign": lambda: {"handler_id": user("handler2").id},
    "transfer": lambda: {"agency_id": 1, "reason": "由其他机关负责答复"},  # the real agency: _prepare
    "start": dict,
    "request_correction": lambda: {"notice_date": "2026-11-04", "items": "请明确所需信息的文件名称"},
    "receive_correction": lambda: {"received_on": "2026-11-20", "note": "已补充文件名称"},
    "correction_lapsed": dict,
    "consult": lambda: {"kind": "agency", "party": "示范市住房和城乡建设局", "matter": "共同制作的信息"},
    "consultation_reply": dict,
    "request_reasons": lambda: {"matter": "请说明申请数量较大的理由"},
    "reasons_reply": lambda: {"result": "reasonable", "note": "理由合理"},
    "fee_notice": lambda: {"method": "per_request", "nth_in_month": 11},
    "fee_paid": lambda: {"receipt_no": "FS-0001"},
    "fee_lapsed": dict,
    "cohandle": lambda: {"party": "示范市档案馆", "matter": "协助检索1990年代档案"},
    "cohandle_reply": lambda: {"note": "已检索，未发现相关档案"},
    "extend": lambda: {"days": 5, "reason": "涉及档案检索，需延长答复期限"},
    "request_extension": lambda: {"days": 5, "reason": "涉及档案检索，需延长答复期限"},
    "decline_extension": lambda: {"comments": "请按期答复"},
    "save_draft": lambda: dict(DISCLOSE_DRAFT),
    "submit_draft": dict,
    "approve": lambda: {"secrecy_reviewed": "y", "secrecy_note": "不涉密"},
    "return_draft": lambda: {"comments": "请补充法律依据"},
    "sign_off": lambda: {"note": "同意"},
    "reject_signoff": lambda: {"comments": "请重新核对附件"},
    "issue": dict,
    "deliver": lambda: {"method": "post", "proof": "EMS1100000001"},
    "withdraw": lambda: {"note": "申请人电话撤回，已记录"},
    "archive": lambda: {"archive_number": "2026-OGI-9001", "retention": "30y"},
    "reopen": lambda: {"reason": "复议机关调卷，需补充送达材料"},
}
# ``reopen`` has no fixed target in the table: it returns the file to the stage it was archived from.
REOPEN_BACK_TO = "delivered"  # build_case("archived") archives a delivered reply
assert set(PARAMS) == set(ACTIONS)


def _prepare(app, action: str, case) -> dict:
    """Bring the case to where the action's guard is satisfied; return the action's parameters."""
    params = PARAMS[action]()
    if action == "correction_lapsed":
        end = case.steps_of("correction")[-1].due_on
        set_today(app, "2026-11-26")  # the default 15-working-day period ended 2026-11-25
        assert end.isoformat() == "2026-11-25"
    elif action == "consultation_reply":
        act(case, "handler", "consult", {"kind": "third_party", "party": "某公司", "matter": "商业秘密"})
        params.update(step_id=case.steps[-1].id, result="agree", answered_on="2026-11-23")
    elif action == "reasons_reply":
        act(case, "handler", "request_reasons", {"matter": "请说明理由", "sent_on": "2026-11-20"})
    elif action == "fee_paid":
        fee_in_effect(case, {"method": "per_volume", "pages": 40})
    elif action == "fee_lapsed":
        case = fee_in_effect(case, {"method": "per_request", "nth_in_month": 12}, on="2026-11-03")
        assert case.steps[-1].due_on.isoformat() == "2026-12-01"
        set_today(app, "2026-12-02")
    elif action == "decline_extension":
        act(case, "handler", "request_extension", {"days": 5, "reason": "需调取档案"})
    elif action == "cohandle_reply":
        act(case, "handler", "cohandle", {"party": "示范市档案馆", "matter": "协助检索"})
        params.update(step_id=case.steps[-1].id)
    elif action == "submit_draft":
        act(case, "handler", "save_draft", DISCLOSE_DRAFT)
    elif action == "approve":
        params.update(draft_hash=case.current_draft.content_hash)
    elif action == "transfer":
        from tests.factories import other_agency
        params.update(agency_id=other_agency("JY")[0].id)
    return params


ALLOWED = [(a, s) for a in ACTIONS for s in STAGES if s in ACTIONS[a].sources]


def test_every_action_has_an_allowed_stage_and_every_stage_is_reachable():
    assert {a for a, _ in ALLOWED} == set(ACTIONS)
    assert set(STAGES) == set(STATES)
    targets = {a.target for a in ACTIONS.values()} - {None}
    assert targets | {"registered"} == set(STATES)


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_refused_combinations_change_nothing(app, ctx, action):
    """Wrong stage (with the right role) and wrong role (in any stage): refused, nothing written."""
    a = ACTIONS[action]
    holder = actor_for(action)
    lacking = users_lacking(action)
    assert lacking, "every action is closed to some demo user (at least admin)"
    for stage in STAGES:
        case = build_case(stage)
        assert case.state == stage
        before = snapshot(case.id)
        for u in lacking:
            with pytest.raises(ServiceError) as e:
                S.perform(case.id, u, action, PARAMS[action]())
            assert not isinstance(e.value, (NotFound, Conflict))
            assert e.value.status == 400
            assert "只能由" in e.value.message and a.label in e.value.message
            assert all(ROLES[r] in e.value.message for r in a.roles)
            assert snapshot(case.id) == before, (action, stage, u.username)
        if stage in a.sources:
            continue
        with pytest.raises(ServiceError) as e:
            S.perform(case.id, holder, action, PARAMS[action]())
        assert not isinstance(e.value, (NotFound, Conflict))
        assert f"“{STATES[stage]}”" in e.value.message, e.value.message
        assert a.label in e.value.message
        assert snapshot(case.id) == before, (action, stage)


@pytest.mark.parametrize("action,stage", ALLOWED, ids=[f"{a}-{s}" for a, s in ALLOWED])
def test_allowed_combination_reaches_target_with_one_event(app, ctx, action, stage):
    case = build_case(stage)
    params = _prepare(app, action, case)
    assert case.state == stage
    before = snapshot(case.id)
    actor = actor_for(action)
    S.perform(case.id, actor, action, params)

    after = snapshot(case.id)
    expected = ACTIONS[action].target or (REOPEN_BACK_TO if action == "reopen" else stage)
    assert after["state"] == expected
    assert after["events"] == before["events"] + 1
    ev = events(case.id)[-1]
    assert (ev.action, ev.actor_id, ev.from_state, ev.to_state) == (action, actor.id, stage, expected)
    assert ev.agency_id == actor.agency_id
    assert ev.label == ACTIONS[action].label
    assert ev.at is not None


def test_reopen_returns_an_archived_withdrawal_to_closed(app, ctx):
    case = build_case("archived", via="closed")
    assert case.archive_number
    before = snapshot(case.id)
    with pytest.raises(ServiceError) as e:
        S.perform(case.id, user("admin"), "reopen", {"reason": "  "})
    assert e.value.field == "reason"
    assert snapshot(case.id) == before
    S.perform(case.id, user("admin"), "reopen", PARAMS["reopen"]())
    after = snapshot(case.id)
    assert after["state"] == "closed" and after["outcome_code"] == "withdrawn"
    assert (after["archive_number"], after["archived_on"]) == ("", None)
    assert after["events"] == before["events"] + 1
    ev = events(case.id)[-1]
    assert (ev.action, ev.from_state, ev.to_state) == ("reopen", "archived", "closed")


def test_issue_and_close_set_an_outcome_for_every_finished_stage(app, ctx):
    """The finished stages carry the outcome the annual report counts (CHECK finished_has_outcome)."""
    for stage, outcome in (("replied", "disclose"), ("delivered", "disclose"), ("closed", "withdrawn"),
                           ("archived", "disclose")):
        case = build_case(stage)
        db.session.expire_all()
        assert (case.state, case.outcome_code) == (stage, outcome)
        assert case.closed_on is not None


def test_unknown_action_is_refused(app, ctx):
    case = build_case("registered")
    before = snapshot(case.id)
    with pytest.raises(ServiceError) as e:
        S.perform(case.id, user("handler"), "approve_everything", {})
    assert e.value.field == "action"
    assert snapshot(case.id) == before
    assert db.session.scalar(db.select(db.func.count()).select_from(Event)) == before["events"]
