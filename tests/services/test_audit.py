"""The audit trail is append-only: the ORM refuses changes and so does the database itself."""
from __future__ import annotations

import pytest
import sqlalchemy.exc
from sqlalchemy import delete, text, update

from app.extensions import db
from app.models import Event
from app.models.audit import AuditImmutable
from tests.factories import build_case, events


def _rows(case_id: int) -> list[tuple]:
    db.session.expire_all()
    return [(e.id, e.action, e.label, e.actor_id, e.from_state, e.to_state, e.data_json, e.at)
            for e in events(case_id)]


@pytest.fixture
def trail(app, ctx):
    case = build_case("review")
    rows = _rows(case.id)
    assert [r[1] for r in rows] == ["register", "start", "save_draft", "submit_draft"]
    return case.id, rows


def test_orm_update_is_refused(trail):
    case_id, rows = trail
    ev = events(case_id)[0]
    ev.label = "篡改"
    with pytest.raises(AuditImmutable):
        db.session.commit()
    db.session.rollback()
    assert _rows(case_id) == rows


def test_orm_delete_is_refused(trail):
    case_id, rows = trail
    db.session.delete(events(case_id)[-1])
    with pytest.raises(AuditImmutable):
        db.session.commit()
    db.session.rollback()
    assert _rows(case_id) == rows


@pytest.mark.parametrize("sql", [
    "UPDATE event SET label = 'x' WHERE case_id = :c",
    "UPDATE event SET to_state = 'archived', actor_id = NULL WHERE case_id = :c",
    "DELETE FROM event WHERE case_id = :c",
    "DELETE FROM event",
])
def test_raw_sql_is_refused_by_the_database_trigger(trail, sql):
    case_id, rows = trail
    with pytest.raises(sqlalchemy.exc.DBAPIError) as e:
        db.session.execute(text(sql), {"c": case_id})
        db.session.commit()
    assert "append-only" in str(e.value)
    db.session.rollback()
    assert _rows(case_id) == rows


@pytest.mark.parametrize("stmt", [
    lambda c: update(Event).where(Event.case_id == c).values(label="x"),
    lambda c: delete(Event).where(Event.case_id == c),
])
def test_bulk_orm_statements_bypass_the_listeners_but_not_the_trigger(trail, stmt):
    case_id, rows = trail
    with pytest.raises(sqlalchemy.exc.DBAPIError):
        db.session.execute(stmt(case_id))
        db.session.commit()
    db.session.rollback()
    assert _rows(case_id) == rows


def test_raw_insert_still_works(trail):
    """Appending is allowed: the trigger guards only UPDATE and DELETE."""
    case_id, rows = trail
    agency_id = events(case_id)[0].agency_id
    db.session.execute(text("INSERT INTO event (agency_id, case_id, at, action, label, data_json) "
                            "VALUES (:a, :c, CURRENT_TIMESTAMP, 'note', '备注', '{}')"), {"a": agency_id, "c": case_id})
    db.session.commit()
    assert [r[1] for r in _rows(case_id)] == ["register", "start", "save_draft", "submit_draft", "note"]


def test_every_event_names_actor_and_states(trail):
    case_id, rows = trail
    evs = events(case_id)
    assert all(e.actor_id is not None for e in evs)
    assert (evs[0].from_state, evs[0].to_state) == (None, "registered")
    chain = [(e.from_state, e.to_state) for e in evs[1:]]
    assert chain == [("registered", "handling"), ("handling", "handling"), ("handling", "review")]
    assert [e.as_dict()["actor"] for e in evs] == ["王登记", "李承办", "李承办", "李承办"]
