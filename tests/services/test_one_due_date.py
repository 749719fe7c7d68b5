"""Issue 10 item 3: one due date. Whatever a case went through, on every day the case page's clock,
the stored due date, the ledger row and its clock filter, the queue order, the dashboard counts
and the API summary say the same thing."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, assume, given, settings, strategies as st

from app.api.serialize import summary_dict
from app.domain.workflow import OPEN_STATES
from app.extensions import db
from app.models import Case
from app.reports import dashboard, ledger
from app.services import cases as S
from app.services.calendar import load_calendar
from app.services.clocks import case_clock, queue_key
from app.services.errors import ServiceError
from tests.conftest import set_today, user
from tests.factories import act, register, reload

DAY0 = date(2026, 1, 1)
CLOCK_CODES = ("overdue", "due_soon", "running", "paused", "stopped")


def _on(app, d: date) -> None:
    set_today(app, d.isoformat())


def _try(app, d: date, case: Case, role: str, action: str, params: dict) -> bool:
    """Take a step on day d; a step the rules refuse is simply not part of this history."""
    _on(app, d)
    try:
        act(case, role, action, params)
        return True
    except ServiceError:
        db.session.rollback()
        return False


# One sub-procedure: (kind, days after the previous event it starts, days until answered or None).
step_st = st.tuples(
    st.sampled_from(["third_party", "agency", "fee", "reasons", "reasons_new_due", "extend", "no_answer"]),
    st.integers(0, 25),
    st.one_of(st.none(), st.integers(0, 40)),
)
history_st = st.fixed_dictionaries({
    "intake": st.integers(0, 364),  # days after 2026-01-01: December intakes cross into 2027
    # Correction: notice days after receipt, and days until the corrected request arrives (None: never).
    "correction": st.one_of(st.none(), st.none(), st.none(), st.tuples(st.integers(0, 5), st.integers(0, 25)),
                            st.tuples(st.integers(0, 5), st.none())),
    "steps": st.lists(step_st, min_size=1, max_size=4),
    "days": st.lists(st.integers(0, 60), min_size=1, max_size=3),  # after the last event
    "near": st.lists(st.integers(-4, 4), max_size=3),  # around the due date and the pause's end
})


def build_history(app, h: dict) -> tuple[Case, date]:
    cal = load_calendar()
    received = cal.next_workday(DAY0 + timedelta(days=h["intake"]))
    _on(app, received)
    case = register(arrived_on=received.isoformat())
    last = received
    if h["correction"] is not None:
        notice = cal.next_workday(received + timedelta(days=h["correction"][0]))
        if _try(app, notice, case, "handler", "request_correction",
                {"notice_date": notice.isoformat(), "items": "请明确所需信息"}):
            last = notice
            if h["correction"][1] is None:
                return reload(case), last  # still waiting for the correction: the clock is stopped
            last = notice + timedelta(days=h["correction"][1])
            _try(app, last, case, "clerk", "receive_correction", {"received_on": last.isoformat()})
    _try(app, last, case, "handler", "start", {})
    for kind, after, answered in h["steps"]:
        sent = last + timedelta(days=after)
        last = sent
        case = reload(case)
        if kind in ("third_party", "agency", "no_answer"):
            who = "agency" if kind == "agency" else "third_party"
            if not _try(app, sent, case, "handler", "consult",
                        {"kind": who, "party": "某公司", "matter": "拟公开的信息", "sent_on": sent.isoformat()}):
                continue
            step = reload(case).steps[-1]
            if kind == "no_answer":
                last = step.due_on + timedelta(days=1)
                _try(app, last, case, "handler", "consultation_reply", {"step_id": step.id, "result": "no_answer"})
            elif answered is not None:
                last = sent + timedelta(days=answered)
                _try(app, last, case, "handler", "consultation_reply",
                     {"step_id": step.id, "result": "agree", "answered_on": last.isoformat()})
        elif kind == "fee":
            if not _try(app, sent, case, "handler", "fee_notice",
                        {"method": "per_volume", "pages": 50, "sent_on": sent.isoformat()}):
                continue
            if answered is not None:
                last = sent + timedelta(days=answered)
                _try(app, last, case, "clerk", "fee_paid", {"paid_on": last.isoformat(), "receipt_no": "票据1"})
        elif kind.startswith("reasons"):
            if not _try(app, sent, case, "handler", "request_reasons",
                        {"matter": "请说明理由", "sent_on": sent.isoformat()}):
                continue
            if answered is not None:
                last = sent + timedelta(days=answered)
                params = {"result": "reasonable", "answered_on": last.isoformat()}
                if kind == "reasons_new_due":
                    params["new_due"] = (last + timedelta(days=30)).isoformat()
                _try(app, last, case, "head", "reasons_reply", params)
        elif kind == "extend":
            _try(app, sent, case, "head", "extend", {"days": (answered or 0) % 20 + 1, "reason": "情况复杂"})
    return reload(case), last


def check_agreement(app, case: Case, today: date) -> None:
    _on(app, today)
    case = reload(case)
    clock = case_clock(case, today)
    agency_id = case.agency_id

    # The stored due date is the clock's, and the API says the same.
    if case.state in OPEN_STATES:
        assert case.reply_due == clock.due
    api = summary_dict(case)
    assert api["reply_due"] == api["clock"]["due"] == (clock.due.isoformat() if clock.due else None)
    assert api["clock"]["status"] == clock.status

    # The ledger row (and so its export) shows the same status, due date and days left.
    rows, _, _ = ledger.page(ledger.parse_filters(agency_id, {"q": case.number}))
    row = next(r for r in rows if r["id"] == case.id)
    if case.state in OPEN_STATES:
        assert (row["clock"], row["reply_due"], row["days_left"]) == (clock.status, clock.due, clock.days_left)

    # Over every case of the agency: ledger clock filters and dashboard counts match the clocks.
    open_cases = list(db.session.scalars(db.select(Case).where(
        Case.agency_id == agency_id, Case.state.in_(sorted(OPEN_STATES)), Case.needs_triage.is_(False))))
    by_status = {code: 0 for code in CLOCK_CODES}
    for c in open_cases:
        by_status[case_clock(c, today).status] += 1
    for code in CLOCK_CODES:
        assert ledger.count(ledger.parse_filters(agency_id, {"clock": code}), None) == by_status[code], code
    figures = dashboard.stats(agency_id, today)
    assert (figures["overdue_total"], figures["soon_total"]) == (by_status["overdue"], by_status["due_soon"])

    # The queue is in the clock's order, and this case is in it with the same clock.
    queue = S.work_queue(user("head"))
    keys = [queue_key(st_, c.id) for c, st_ in queue]
    assert keys == sorted(keys)
    mine = [st_ for c, st_ in queue if c.id == case.id]
    if case.state in OPEN_STATES:
        assert mine and (mine[0].status, mine[0].due) == (clock.status, clock.due)


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(h=history_st)
def test_every_view_of_the_clock_agrees_on_every_day(app, ctx, h):
    case, last = build_history(app, h)
    assume(case.state in OPEN_STATES)
    days = {last + timedelta(days=n) for n in h["days"]}
    for anchor in (case.reply_due, case.paused_until):
        days.update(anchor + timedelta(days=n) for n in h["near"] if anchor and anchor + timedelta(days=n) >= last)
    for today in sorted(days):
        check_agreement(app, case, today)


def test_an_unanswered_consultation_is_overdue_everywhere(app, ctx):
    # The case: a third party consulted in December never answers and nobody records it.
    received = date(2026, 11, 23)
    _on(app, received)
    case = register(arrived_on=received.isoformat())
    act(case, "handler", "start")
    _on(app, date(2026, 11, 24))
    act(case, "handler", "consult", {"kind": "third_party", "party": "某公司", "matter": "拟公开的信息",
                                     "sent_on": "2026-11-24"})
    case = reload(case)
    assert case.paused_until == case.steps[-1].due_on
    today = date(2027, 1, 20)
    clock = case_clock(case, today)
    assert clock.status == "overdue" and clock.due == case.reply_due
    check_agreement(app, case, today)
    queue = S.work_queue(user("head"))
    assert queue[0][0].id == case.id  # the most urgent case, not the last one
