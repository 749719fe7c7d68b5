"""Fixtures: a real database for every test (SQLite by default, PostgreSQL with
TEST_DATABASE_URL=postgresql://postgres@127.0.0.1/test), migrated by Alembic."""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from app import create_app
from app.cli import DEMO_PASSWORD, seed_demo
from app.extensions import db, limiter
from app.models import User

DB_URL = os.environ.get("TEST_DATABASE_URL", "")
IS_PG = DB_URL.startswith("postgres")
_TMP = Path(tempfile.mkdtemp(prefix="ogidesk-test-"))
_SQLITE = _TMP / "test.sqlite3"
_TEMPLATE = _TMP / "template.sqlite3"


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + DB_URL if IS_PG else 'SQLite ' + str(_SQLITE)}"


@pytest.fixture(scope="session")
def app():
    from flask_migrate import upgrade

    url = DB_URL or f"sqlite:///{_SQLITE}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                      "OGI_TODAY": "2026-11-23", "SERVER_NAME": "localhost",
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "OCR_AUTOSTART": False, "IMPORT_STAGING_DIR": str(_TMP / "import-staging"),
                      "LETTER_PREVIEW_DIR": str(_TMP / "letter-previews"),
                      "QUEUE_URL": f"sqlite:///{_TMP / 'queue.sqlite3'}"})
    with app.app_context():
        if IS_PG:
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()  # the schema exists only through migrations
        if not IS_PG:
            db.engine.dispose()
            shutil.copy(_SQLITE, _TEMPLATE)
    yield app
    shutil.rmtree(_TMP, ignore_errors=True)


_PG_RESET: dict[str, str] = {}
_PG_TRUNCATE_EVERY = 250  # tests between two TRUNCATEs (which also drop the deleted rows' space)
_pg_resets = 0


def _pg_reset(conn) -> None:
    """Empty every table and restart every sequence in one round trip. DELETE of a test's few rows
    takes about 2 ms where TRUNCATE, which swaps each table's files, took about 90 ms (eight
    minutes of the suite), so TRUNCATE runs only every _PG_TRUNCATE_EVERY tests. Autovacuum is off
    for these tables (set once per session): it would record the deleted rows' space for reuse, and
    rows would no longer come back in insertion order, which TRUNCATE always gave."""
    global _pg_resets
    if not _PG_RESET:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                   "AND tablename <> 'alembic_version' ORDER BY tablename")).scalars().all()
        seqs = conn.execute(text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")).scalars().all()
        restart = [f"SELECT setval('\"{q}\"', 1, false)" for q in seqs]
        _PG_RESET["delete"] = "; ".join([f'DELETE FROM "{t}"' for t in tables] + restart)
        _PG_RESET["truncate"] = "; ".join(
            ["TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"] + restart)
        conn.exec_driver_sql("; ".join(f'ALTER TABLE "{t}" SET (autovacuum_enabled = false, '
                                       f'toast.autovacuum_enabled = false)' for t in tables))
    _pg_resets += 1
    conn.exec_driver_sql(_PG_RESET["truncate" if _pg_resets % _PG_TRUNCATE_EVERY == 1 else "delete"])


@pytest.fixture(autouse=True)
def fresh_db(request, app):
    """Every test starts from an empty migrated database with the demo agency and users."""
    if "no_db" in request.keywords:
        yield
        return
    app.config["OGI_TODAY"] = "2026-11-23"
    with app.app_context():
        limiter.reset()  # rate limits count per test, like the database
        db.session.remove()
        if IS_PG:
            with db.engine.begin() as conn:
                # The audit and letter triggers refuse DELETE; the test role is a superuser and may
                # switch them off for this transaction (the app's role may not: docs/operations.md).
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                _pg_reset(conn)
        else:
            db.engine.dispose()
            shutil.copy(_TEMPLATE, _SQLITE)
            for suffix in ("-wal", "-shm"):
                Path(str(_SQLITE) + suffix).unlink(missing_ok=True)
        seed_demo()
        db.session.remove()
    yield
    with app.app_context():
        db.session.remove()


@contextmanager
def triggers_off(table: str):
    """Within the current session transaction, the table's immutability triggers do not fire:
    test set-up only (e.g. a case whose issued letter went missing). PostgreSQL: the superuser's
    session_replication_role; SQLite: the triggers are dropped and created again in the same
    transaction. The caller commits."""
    if IS_PG:
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
        yield
        return
    saved = db.session.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
                               {"t": table}).all()
    for name, _sql in saved:
        db.session.execute(text(f'DROP TRIGGER "{name}"'))
    yield
    for _name, sql in saved:
        db.session.execute(text(sql))


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


@pytest.fixture
def client(app):
    return app.test_client()


def user(username: str) -> User:
    return db.session.scalar(db.select(User).where(User.username == username))


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, username: str, password: str = DEMO_PASSWORD):
        return self.client.post("/login", data={"username": username, "password": password},
                                follow_redirects=False)

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return Auth(client)


def set_today(app, iso: str) -> None:
    app.config["OGI_TODAY"] = iso


INTAKE = {
    "channel": "in_person",
    "arrived_on": "2026-11-02",
    "applicant_type": "natural",
    "applicant_name": "张三",
    "id_type": "resident_id",
    "id_number": "11010519491231002X",
    "contact_phone": "13800000000",
    "contact_address": "示范市幸福路8号",
    "description": "2025年示范区旧城改造项目的征收补偿方案",
    "doc_number": "示政发〔2025〕3号",
    "requested_form": "paper",
    "requested_route": "post",
}
