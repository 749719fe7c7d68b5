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
    # Only unassigned cases; the rest belong to 'handler' (who took the corrected one by sending its notice).
    "handler2": {"registered"},
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
    if username == "handler2":  # not in its queue: 'handler' sent the correction notice and took the case
        assert by_stage["correction"] not in pos
    else:
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


@pytest.mark.parametrize("username", ["head", "handler"])
def test_pages_of_a_large_queue_follow_the_clock_order_by_either_path(app, ctx, username):
    """A page filled by running clocks is read from the start of each state's due-date range; any
    other page ranks every case. Both give the domain's order (clocks.queue_key) on every page."""
    import random
    from datetime import timedelta

    from app.extensions import db
    from app.models import Step
    from app.services.clocks import case_clock, queue_key, refresh_clock
    from app.services.time import today as today_
    from tests.reports.support import make_case

    rnd = random.Random(5)
    today = today_()
    states = ["registered", "handling", "review", "signoff", "signed", "correction"]
    for i in range(60):
        received = today - timedelta(days=rnd.randint(0, 45))
        c = make_case(received=received, state=rnd.choice(states), handler=rnd.choice(["handler", "handler2", None]),
                      commit=False)
        if rnd.random() < 0.25:  # a consultation: paused until its answer is due (some already past)
            started = received + timedelta(days=rnd.randint(0, 10))
            c.steps.append(Step(kind="consultation_third_party", party="某公司", started_on=started,
                                received_on=started, due_on=started + timedelta(days=rnd.randint(5, 30))))
        refresh_clock(c)
    db.session.commit()
    actor = user(username)
    q = S._queue_query(actor)
    everything = sorted((c for c in db.session.scalars(q)), key=lambda c: queue_key(case_clock(c, today), c.id))
    expected = [c.id for c in everything]
    for offset, limit in ((0, 5), (5, 5), (3, 17), (0, 40), (20, 200), (0, 200)):
        assert [c.id for c, _ in S.work_queue(actor, limit=limit, offset=offset)] == \
            expected[offset:offset + limit], (offset, limit)
    # The first pages came by the due-date ranges; the whole queue needed the ranking.
    assert S._running_first(actor, today, 10) == expected[:10]
    assert S._running_first(actor, today, len(expected)) is None
