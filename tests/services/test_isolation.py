"""Agencies are isolated: another agency's cases do not exist for a user."""
from __future__ import annotations

import pytest

from app.domain.workflow import ACTIONS
from app.services import cases as S
from app.services.errors import NotFound, ServiceError
from tests.conftest import user
from tests.factories import build_case, other_agency, register, snapshot
from tests.services.test_transitions import PARAMS


@pytest.fixture
def two_agencies(app, ctx):
    agency, others = other_agency("SZF")
    demo_case = build_case("handling")
    other_case = register(others["clerk"], applicant_name="钱七", description="SZF 的案件")
    return demo_case, other_case, others


def test_get_case_of_another_agency_is_not_found(two_agencies):
    demo_case, other_case, others = two_agencies
    for u in others.values():
        with pytest.raises(NotFound) as e:
            S.get_case(demo_case.id, u)
        assert e.value.status == 404
    for name in ("clerk", "handler", "head", "admin"):
        with pytest.raises(NotFound):
            S.get_case(other_case.id, user(name))
    assert S.get_case(other_case.id, others["clerk"]).id == other_case.id


def test_perform_on_another_agency_case_is_not_found_for_every_action(two_agencies):
    demo_case, other_case, others = two_agencies
    before = snapshot(demo_case.id)
    for action, a in ACTIONS.items():
        holder = next(u for u in others.values() if u.roles & a.roles)
        with pytest.raises(NotFound):
            S.perform(demo_case.id, holder, action, PARAMS[action]())
        # Even a stale version must not reveal that the case exists.
        with pytest.raises(NotFound):
            S.perform(demo_case.id, holder, action, PARAMS[action](), expected_version=999)
    assert snapshot(demo_case.id) == before


def test_nonexistent_case_is_not_found(app, ctx):
    with pytest.raises(NotFound):
        S.perform(424242, user("handler"), "start")


def test_work_queue_and_list_show_only_own_agency(two_agencies):
    demo_case, other_case, others = two_agencies
    demo_ids = {c.id for c, _ in S.work_queue(user("head"))}
    assert demo_case.id in demo_ids and other_case.id not in demo_ids
    other_ids = {c.id for c, _ in S.work_queue(others["clerk"])}
    assert other_ids == {other_case.id}
    assert {c.id for c, _ in S.work_queue(others["head"])} == {other_case.id}

    rows, total = S.list_cases(user("clerk"), {})
    assert total == 1 and [c.id for c in rows] == [demo_case.id]
    rows, total = S.list_cases(others["clerk"], {})
    assert total == 1 and [c.id for c in rows] == [other_case.id]
    rows, total = S.list_cases(user("clerk"), {"q": "SZF"})
    assert total == 0 and rows == []


def test_cannot_assign_a_handler_of_another_agency(app, ctx):
    agency, others = other_agency("SZF")
    case = build_case("registered")
    before = snapshot(case.id)
    with pytest.raises(ServiceError) as e:
        S.perform(case.id, user("clerk"), "assign", {"handler_id": others["handler"].id})
    assert e.value.field == "handler_id"
    assert snapshot(case.id) == before
    with pytest.raises(ServiceError) as e:
        register(handler_id=others["handler"].id)
    assert e.value.field == "handler_id"


def test_intake_hints_ignore_other_agencies(app, ctx):
    agency, others = other_agency("SZF")
    register(others["clerk"])
    register(others["clerk"])
    hints = S.intake_hints(user("clerk"), "张三", "11010519491231002X", "旧城改造征收补偿方案", "")
    assert hints["month_count"] == 0 and hints["possible_repeats"] == []
    hints = S.intake_hints(others["clerk"], "张三", "11010519491231002X", "旧城改造征收补偿方案", "")
    assert hints["month_count"] == 2
