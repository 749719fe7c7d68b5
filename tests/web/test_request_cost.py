"""What every page costs before its own work: the sign-in session is read in one statement (with
its user and agency), and last_seen_at is written at most once a minute, not on every request;
the idle timeout stays exact to that minute (never later than configured)."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import event

from app.cli import DEMO_PASSWORD
from app.extensions import db
from app.services.sessions import TOUCH_SECONDS


@contextmanager
def statements(app):
    seen: list[str] = []

    def record(conn, cursor, stmt, params, context, many):
        seen.append(" ".join(stmt.split()))
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def at(app, monkeypatch, when: datetime) -> None:
    monkeypatch.setitem(app.config, "OGI_NOW", when.isoformat())


def test_a_page_reads_its_session_user_and_agency_in_one_statement(app, client, monkeypatch):
    t0 = datetime.utcnow()
    at(app, monkeypatch, t0)
    assert client.post("/login", data={"username": "handler", "password": DEMO_PASSWORD}).status_code == 302
    with statements(app) as seen:
        r = client.get("/account/password")
    assert r.status_code == 200 and "示范市自然资源和规划局" in r.get_data(as_text=True)
    auth = [s for s in seen if re.search(r'FROM (user_session|"user"|agency)\b', s)]
    assert len(auth) == 1, auth
    assert "JOIN agency" in auth[0]


def test_last_seen_is_written_at_most_once_a_minute_and_idle_expiry_stays_exact(app, client, monkeypatch):
    t0 = datetime.utcnow().replace(microsecond=0)
    at(app, monkeypatch, t0)
    assert client.post("/login", data={"username": "handler", "password": DEMO_PASSWORD}).status_code == 302
    writes = lambda seen: [s for s in seen if s.startswith("UPDATE user_session")]  # noqa: E731
    with statements(app) as seen:
        for seconds in (1, 20, TOUCH_SECONDS - 1):
            at(app, monkeypatch, t0 + timedelta(seconds=seconds))
            assert client.get("/").status_code == 200
    assert writes(seen) == []  # pages within the minute write nothing
    with statements(app) as seen:
        at(app, monkeypatch, t0 + timedelta(seconds=TOUCH_SECONDS))
        assert client.get("/").status_code == 200
        at(app, monkeypatch, t0 + timedelta(seconds=TOUCH_SECONDS + 30))
        assert client.get("/").status_code == 200
    assert len(writes(seen)) == 1  # once the minute is over, one write
    # Idle time counts from the last write: the last request was at +90 s, the write at +60 s, so the
    # session ends at +60 s + 30 min at the latest: at most a minute early, never late.
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    at(app, monkeypatch, t0 + timedelta(seconds=TOUCH_SECONDS) + idle - timedelta(seconds=1))
    assert client.get("/").status_code == 200
    at(app, monkeypatch, t0 + timedelta(seconds=TOUCH_SECONDS) + idle - timedelta(seconds=1) + idle)
    assert client.get("/").status_code == 302
