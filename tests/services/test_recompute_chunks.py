"""Issue 12: the recompute of open cases after a calendar change runs in chunks (cases, steps and
step letters loaded together, changes written in bulk) and gives exactly what recomputing every
open case one by one gives: the same dates on every case and step, one event per changed case,
none elsewhere. A run stopped half-way is finished by running it again, without a second event;
a case changed by somebody else meanwhile is recomputed from what they stored."""
from __future__ import annotations

import pytest
from sqlalchemy import event, text

from app.domain.workflow import FINISHED_STATES
from app.extensions import db
from app.models import Case, Event, Step
from app.services import calendar as CalS
from app.services import letters as L
from app.services.clocks import recompute_steps, refresh_clock
from app.services.workdays import forget_calendar
from tests.conftest import set_today, user
from tests.factories import act, d, other_agency, register, reload, save_year, withdraw

HOLIDAYS_2027 = "2027-01-01,2027-01-04"


def _platform() -> list[int]:
    """Open cases of two agencies in every situation a calendar change meets, and finished ones."""
    ids = []
    _, other = other_agency()
    for n, arrived in enumerate(("2026-11-02", "2026-11-20", "2026-12-01", "2026-12-08", "2026-12-10")):
        for clerk in (user("clerk"), other["clerk"]):
            ids.append(register(clerk, arrived_on=arrived, applicant_name=f"申请人{n}").id)
    demo = [i for i in ids if reload(i).agency.code == "DEMO"]
    others = [i for i in ids if i not in demo]
    act(reload(demo[4]), "handler", "request_correction", {"items": "请明确信息名称"})  # a stopped clock
    for cid in demo[1:4]:
        act(reload(cid), "handler", "start")
    act(reload(demo[1]), "handler", "consult", {"kind": "third_party", "party": "某建设公司", "matter": "涉及其权益",
                                                "sent_on": "2026-12-09"})
    case = reload(demo[2])
    act(case, "handler", "consult", {"kind": "agency", "party": "示范市财政局", "matter": "涉及其职责",
                                     "sent_on": "2026-12-10"})
    step = reload(demo[2]).steps[-1]
    L.issue_notice(case.id, user("handler"), f"step-{step.id}", d("2026-12-10"))  # its date is printed
    act(reload(demo[3]), "handler", "request_reasons", {"matter": "请说明理由", "sent_on": "2026-12-10",
                                                        "due_on": "2027-01-08"})  # a date entered by hand
    act(reload(others[2]), other["head"], "extend", {"days": 10, "reason": "需调取档案"})
    withdraw(reload(demo[0]))  # finished: never recomputed
    return ids


def _state() -> dict:
    db.session.expire_all()
    cases = {c.id: (c.reply_due, c.paused_until, c.due_provisional, c.calendar_version, c.version)
             for c in db.session.scalars(db.select(Case))}
    steps = {s.id: (s.due_on, s.due_days, s.due_provisional, s.calendar_version)
             for s in db.session.scalars(db.select(Step))}
    return {"cases": cases, "steps": steps}


def _recompute_events(after_id: int = 0) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for e in db.session.scalars(db.select(Event).where(Event.action == "calendar_recompute", Event.id > after_id)
                                .order_by(Event.id)):
        out.setdefault(e.case_id, []).append(e.data)
    return out


def _one_by_one() -> tuple[dict, dict]:
    """What recomputing every open case one by one with the calendar now stored gives (computed in
    memory, then rolled back): the state, and the case ids whose event would be written."""
    forget_calendar()
    changed = {}
    with db.session.no_autoflush:
        for case in db.session.scalars(db.select(Case).where(Case.state.not_in(sorted(FINISHED_STATES)))):
            before = (case.reply_due, case.due_provisional, case.calendar_version)
            steps = recompute_steps(case)
            refresh_clock(case)
            after = (case.reply_due, case.due_provisional, case.calendar_version)
            if before != after or steps:
                changed[case.id] = {"old_due": before[0].isoformat() if before[0] else None,
                                    "new_due": after[0].isoformat() if after[0] else None,
                                    "old_calendar_version": before[2], "new_calendar_version": after[2],
                                    "provisional": after[1], "steps": steps}
        cases = {c.id: (c.reply_due, c.paused_until, c.due_provisional, c.calendar_version)
                 for c in db.session.scalars(db.select(Case))}
        steps = {s.id: (s.due_on, s.due_days, s.due_provisional, s.calendar_version)
                 for s in db.session.scalars(db.select(Step))}
    db.session.rollback()
    forget_calendar()
    return {"cases": cases, "steps": steps}, changed


def _last_event_id() -> int:
    return db.session.scalar(db.select(db.func.coalesce(db.func.max(Event.id), 0)))


@pytest.fixture
def small_chunks(app):
    app.config["CALENDAR_RECOMPUTE_CHUNK"] = 3
    yield
    app.config["CALENDAR_RECOMPUTE_CHUNK"] = 500


CHANGES = [
    (2027, HOLIDAYS_2027, "", "2027年节假日安排（测试数据）"),
    (2026, None, None, "2026年更正：12月31日放假（测试数据）"),
    (2027, "2027-01-01", "", "2027年再次更正（测试数据）"),
]


def test_chunked_recompute_gives_what_one_by_one_gives(app, ctx, small_chunks):
    from app.services.views import year_text

    set_today(app, "2026-12-10")
    _platform()
    for year, holidays, makeup, source in CHANGES:
        if holidays is None:
            holidays, makeup = year_text(2026)["holidays"] + "\n2026-12-31", year_text(2026)["makeup"]
        mark = _last_event_id()
        before = _state()
        row, pending = CalS.enter_year(user("sysadmin"), year, holidays, makeup, source)
        expected, changed = _one_by_one()
        assert changed, "test data: the change moves something"
        out = CalS.recompute_year(user("sysadmin"), year)
        assert out["recomputed"] == pending >= len(changed)
        assert out["changed"] == len(changed)
        state = _state()
        assert {k: v[:4] for k, v in state["cases"].items()} == expected["cases"]
        assert state["steps"] == expected["steps"]
        # The version moves on exactly the cases whose clock changed (and an event says why).
        bumped = {k for k, v in state["cases"].items() if v[4] != before["cases"][k][4]}
        assert bumped == {k for k in changed if expected["cases"][k] != before["cases"][k][:4]}
        written = _recompute_events(mark)
        assert {k: len(v) for k, v in written.items()} == {k: 1 for k in changed}
        for cid, data in written.items():
            assert {k: data[0][k] for k in changed[cid]} == changed[cid]
            assert data[0]["revised_by"] == "系统管理员 周系统"
            assert data[0]["reason"] == f"{year}年全国工作日历已由系统管理员修订（第{row.revision}版）"
        # Nothing left to do: a second run selects nothing and writes nothing.
        assert CalS.count_to_recompute(year, f"{year}r{row.revision}") == 0
        assert CalS.recompute_year(user("sysadmin"), year)["recomputed"] == 0
        assert _recompute_events(mark) == written


def test_events_keep_agency_and_actor(app, ctx):
    set_today(app, "2026-12-10")
    ids = _platform()
    save_year(user("sysadmin"), 2027, HOLIDAYS_2027, "", "测试")
    rows = db.session.execute(db.select(Event.case_id, Event.agency_id, Event.actor_id, Event.from_state,
                                        Event.to_state, Case.agency_id, Case.state)
                              .join(Case, Case.id == Event.case_id).where(Event.action == "calendar_recompute")).all()
    assert len(rows) >= 6 and {r[0] for r in rows} <= set(ids)
    for _cid, ev_agency, actor, from_state, to_state, case_agency, state in rows:
        assert ev_agency == case_agency and actor == user("sysadmin").id and from_state == to_state == state


def _count_statements(fn) -> int:
    n = 0

    def count(*_a, **_k):
        nonlocal n
        n += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return n


def test_statements_do_not_grow_with_the_number_of_cases(app, ctx):
    """One chunk costs the same few statements for 6 cases or 36 (the per-case loop sent ~3 per case)."""
    set_today(app, "2026-12-10")

    def platform(n):
        for i in range(n):
            c = register(arrived_on="2026-12-10", applicant_name=f"甲{i}")
            if i % 3 == 0:
                act(c, "handler", "start")
                act(reload(c), "handler", "consult", {"kind": "third_party", "party": "某公司", "matter": "权益",
                                                      "sent_on": "2026-12-10"})

    platform(6)
    CalS.enter_year(user("sysadmin"), 2027, HOLIDAYS_2027, "", "测试")
    small = _count_statements(lambda: CalS.recompute_year(user("sysadmin"), 2027))
    platform(30)
    CalS.enter_year(user("sysadmin"), 2027, "2027-01-01", "", "测试二")
    large = _count_statements(lambda: CalS.recompute_year(user("sysadmin"), 2027))
    assert db.session.scalar(db.select(db.func.count()).select_from(Event)
                             .where(Event.action == "calendar_recompute")) == 6 + 36
    assert large == small <= 12, (small, large)


class Stop(Exception):
    pass


def test_a_recompute_stopped_half_way_is_finished_by_running_it_again(app, ctx, small_chunks):
    set_today(app, "2026-12-10")
    _platform()
    CalS.enter_year(user("sysadmin"), 2027, HOLIDAYS_2027, "", "测试")
    expected, changed = _one_by_one()
    calls = []

    def dies_after_the_first_chunk(done, total):
        calls.append((done, total))
        db.session.commit()  # as the job framework's progress does
        if done:
            raise Stop

    with pytest.raises(Stop):
        CalS.recompute_year(user("sysadmin"), 2027, progress=dies_after_the_first_chunk)
    db.session.rollback()
    assert calls[-1] == (3, calls[0][1]) and calls[0][1] > 3
    half = _recompute_events()
    assert 0 < len(half) < len(changed)
    out = CalS.recompute_year(user("sysadmin"), 2027)
    assert out["recomputed"] == calls[0][1] - 3  # the first chunk is not loaded again
    state = _state()
    assert {k: v[:4] for k, v in state["cases"].items()} == expected["cases"]
    assert {k: len(v) for k, v in _recompute_events().items()} == {k: 1 for k in changed}


def test_a_case_changed_meanwhile_is_recomputed_from_what_was_stored(app, ctx):
    """Somebody extends a case after the chunk was loaded: the chunk's write sees the version moved,
    nothing of it is kept, and the chunk is loaded and recomputed again (extension included)."""
    set_today(app, "2026-12-10")
    cases = [register(arrived_on="2026-12-10", applicant_name=f"乙{i}").id for i in range(4)]
    for cid in cases:
        act(reload(cid), "handler", "start")
    CalS.enter_year(user("sysadmin"), 2027, HOLIDAYS_2027, "", "测试")
    target = cases[2]
    fired = []

    def meanwhile(conn, cursor, statement, params, context, executemany):
        if executemany and statement.lstrip().upper().startswith('UPDATE "CASE"') and not fired:
            fired.append(statement)
            # Another request, on its own connection: an extension committed before our write.
            with db.engine.connect() as other:
                other.execute(text('UPDATE "case" SET extension_days = 10, version = version + 1 WHERE id = :id'),
                              {"id": target})
                other.commit()

    event.listen(db.engine, "before_cursor_execute", meanwhile)
    try:
        out = CalS.recompute_year(user("sysadmin"), 2027)
    finally:
        event.remove(db.engine, "before_cursor_execute", meanwhile)
    assert fired and out["changed"] == 4
    db.session.expire_all()
    plain, extended = reload(cases[0]), reload(target)
    assert extended.extension_days == 10 and extended.calendar_version == "2026r1,2027r1"
    # Ten more working days than its neighbours, counted on the entered 2027 (4 Jan off).
    assert plain.reply_due == d("2027-01-11") and extended.reply_due == d("2027-01-25")
    assert {k: len(v) for k, v in _recompute_events().items()} == {k: 1 for k in cases}
