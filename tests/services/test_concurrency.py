"""Optimistic locking: a step taken on a stale view of the case is refused as a conflict."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models import Case
from app.services import cases as S
from app.services.errors import Conflict
from tests.conftest import user
from tests.factories import act, build_case, events, reload, snapshot


def in_other_session(app, fn) -> None:
    """Run fn in a second thread with its own app context, hence its own scoped session and connection."""
    errors: list[BaseException] = []

    def run():
        try:
            with app.app_context():
                try:
                    fn()
                finally:
                    db.session.remove()
        except BaseException as e:  # noqa: BLE001 - re-raised in the test thread
            errors.append(e)

    t = threading.Thread(target=run)
    t.start()
    t.join(60)
    assert not t.is_alive()
    if errors:
        raise errors[0]


def test_stale_expected_version_is_a_conflict_and_changes_nothing(app, ctx):
    case = build_case("registered")
    v = reload(case).version
    S.perform(case.id, user("handler"), "start", expected_version=v)
    before = snapshot(case.id)
    assert before["version"] == v + 1
    with pytest.raises(Conflict) as e:
        S.perform(case.id, user("handler"), "request_reasons", {"matter": "请说明理由"}, expected_version=v)
    assert e.value.status == 409 and e.value.field == "version"
    assert snapshot(case.id) == before
    S.perform(case.id, user("handler"), "request_reasons", {"matter": "请说明理由"}, expected_version=v + 1)
    assert snapshot(case.id)["steps"] == 1


def test_every_state_change_bumps_the_version(app, ctx):
    case = build_case("registered")
    versions = [reload(case).version]
    for username, action, params in (("handler", "start", {}),
                                     ("handler", "save_draft", {"outcome": "disclose", "obtain": "邮寄"}),
                                     ("handler", "submit_draft", {}),
                                     ("legal", "approve", {"secrecy_reviewed": "y"})):
        act(case, username, action, params)
        versions.append(reload(case).version)
    assert versions == sorted(set(versions)), versions


def test_two_sessions_performing_on_the_same_case(app, ctx):
    """Both users loaded the case at the same version; the second commit loses with a Conflict."""
    case = build_case("registered")
    mine = S.get_case(case.id, user("handler"))
    v = mine.version  # loaded into this session now
    assert mine.state == "registered"

    in_other_session(app, lambda: S.perform(case.id, user("handler2"), "start"))

    with pytest.raises(Conflict):
        S.perform(case.id, user("handler"), "start")
    after = snapshot(case.id)
    assert (after["state"], after["version"]) == ("handling", v + 1)
    assert after["handler_id"] == user("handler2").id  # the winner's step, untouched
    assert [(e.action, e.actor_id) for e in events(case.id)] == [
        ("register", user("clerk").id), ("start", user("handler2").id)]


def test_two_sessions_different_actions_on_the_same_case(app, ctx):
    case = build_case("handling")
    S.get_case(case.id, user("handler")).state  # noqa: B018 - load it into this session
    in_other_session(app, lambda: S.perform(case.id, user("clerk"), "withdraw", {"note": "申请人撤回"}))
    with pytest.raises(Conflict):
        S.perform(case.id, user("handler"), "request_reasons", {"matter": "请说明理由"})
    after = snapshot(case.id)
    assert (after["state"], after["outcome_code"], after["steps"]) == ("closed", "withdrawn", 0)
    assert [e.action for e in events(case.id)][-1] == "withdraw"


def test_version_column_detects_a_concurrent_commit(app, ctx):
    """The mapper's version_id_col, with two independent sessions on the engine."""
    case_id = build_case("registered").id
    db.session.remove()
    with Session(bind=db.engine) as s1, Session(bind=db.engine) as s2:
        c1, c2 = s1.get(Case, case_id), s2.get(Case, case_id)
        v = c1.version
        assert c2.version == v
        c1.contact_phone = "13900000001"
        s1.commit()
        c2.contact_phone = "13900000002"
        with pytest.raises(StaleDataError):
            s2.commit()
        s2.rollback()
    c = reload(case_id)
    assert (c.contact_phone, c.version) == ("13900000001", v + 1)


def test_two_sessions_replying_to_the_same_cohandling(app, ctx):
    case = build_case("handling")
    act(case, "handler", "cohandle", {"party": "示范市档案馆", "matter": "协助检索"})
    step_id = reload(case).steps[-1].id
    mine = S.get_case(case.id, user("handler"))
    assert mine.steps[-1].is_open  # this user's view: still waiting for the reply

    in_other_session(app, lambda: S.perform(case.id, user("handler"), "cohandle_reply",
                                            {"step_id": step_id, "note": "档案馆回复：已找到"}))
    with pytest.raises(Conflict):
        S.perform(case.id, user("handler"), "cohandle_reply", {"step_id": step_id, "note": "档案馆回复：未找到"})
    c = reload(case)
    assert c.steps[-1].details["note"] == "档案馆回复：已找到"
    assert [e.action for e in events(case.id)].count("cohandle_reply") == 1


def test_every_successful_step_bumps_the_version(app, ctx):
    case = build_case("handling")
    v0 = reload(case).version
    act(case, "handler", "cohandle", {"party": "示范市档案馆", "matter": "协助检索"})
    assert reload(case).version == v0 + 1
