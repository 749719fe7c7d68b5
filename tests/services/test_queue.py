"""work_queue: each role sees the cases waiting for it, most urgent first."""
from __future__ import annotations

import pytest

from app.services import cases as S
from tests.conftest import user
from tests.factories import STAGES, build_case, d, register, reload


@pytest.fixture
def office(app, ctx):
    """One case in every stage (handler set by 'start' from handling onwards) and three urgencies."""
    by_stage = {s: build_case(s, applicant_name=f"申请人-{s}").id for s in STAGES}
    # Registered in the opposite order of urgency so that the id order cannot pass for urgency.
    running = register(arrived_on="2026-11-02", applicant_name="甲").id  # due 30 Nov: 5 working days left
    soon = register(arrived_on="2026-10-27", applicant_name="乙").id  # due 24 Nov: due soon
    overdue = register(arrived_on="2026-10-20", applicant_name="丙").id  # due 17 Nov: overdue
    assert reload(soon).reply_due == d("2026-11-24")
    assert reload(overdue).reply_due == d("2026-11-17")
    return by_stage, {"running": running, "due_soon": soon, "overdue": overdue}


EXPECTED = {
    "clerk": {"registered", "correction", "replied"},
    "handler": {"registered", "correction", "handling", "signed", "replied"},
    "handler2": {"registered", "correction"},  # only unassigned cases; the rest belong to 'handler'
    "legal": {"review"},
    "head": {"registered", "correction", "handling", "review", "signoff", "signed"},
    "archivist": {"delivered", "closed"},
    "admin": {"registered", "correction", "handling", "review", "signoff", "signed"},
}


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_each_role_sees_its_cases(office, username):
    by_stage, urgency = office
    rows = S.work_queue(user(username))
    ids = [c.id for c, _ in rows]
    assert len(ids) == len(set(ids))
    stage_ids = {by_stage[s] for s in EXPECTED[username]}
    assert set(ids) - set(urgency.values()) == stage_ids
    extra = set(urgency.values()) if "registered" in EXPECTED[username] else set()
    assert set(ids) & set(urgency.values()) == extra


@pytest.mark.parametrize("username", ["clerk", "handler", "handler2", "head", "admin"])
def test_most_urgent_first(office, username):
    by_stage, urgency = office
    rows = S.work_queue(user(username))
    statuses = [st.status for _, st in rows]
    pos = {c.id: i for i, (c, _) in enumerate(rows)}
    assert pos[urgency["overdue"]] < pos[urgency["due_soon"]] < pos[urgency["running"]]
    assert statuses[0] == "overdue" and statuses[1] == "due_soon"
    order = {"overdue": 0, "due_soon": 1, "running": 2, "paused": 3, "stopped": 4}
    assert [order[s] for s in statuses] == sorted(order[s] for s in statuses)
    # Within one status the fewest working days left come first.
    running = [st.days_left for _, st in rows if st.status == "running"]
    assert running == sorted(running)
    assert rows[pos[by_stage["correction"]]][1].status == "stopped"


def test_queue_status_values(office):
    by_stage, urgency = office
    rows = {c.id: st for c, st in S.work_queue(user("head"))}
    assert rows[urgency["overdue"]].status == "overdue" and rows[urgency["overdue"]].days_left == -4
    assert rows[urgency["due_soon"]].status == "due_soon" and rows[urgency["due_soon"]].days_left == 1
    assert rows[urgency["running"]].status == "running" and rows[urgency["running"]].days_left == 5


def test_handler_sees_a_case_once_assigned(office):
    by_stage, _ = office
    case_id = by_stage["registered"]
    S.perform(case_id, user("clerk"), "assign", {"handler_id": user("handler2").id})
    assert case_id in {c.id for c, _ in S.work_queue(user("handler2"))}
    assert case_id not in {c.id for c, _ in S.work_queue(user("handler"))}


def test_paused_case_comes_after_running_ones(office):
    by_stage, urgency = office
    S.perform(by_stage["handling"], user("handler"), "consult",
              {"kind": "agency", "party": "示范市财政局", "matter": "共同制作"})
    rows = S.work_queue(user("handler"))
    pos = {c.id: i for i, (c, _) in enumerate(rows)}
    assert rows[pos[by_stage["handling"]]][1].status == "paused"
    assert pos[urgency["running"]] < pos[by_stage["handling"]] < pos[by_stage["correction"]]
