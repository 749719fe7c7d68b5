"""Migration 0019 moves batch-printing jobs from case_file_job into the generic job table with
their ids (links and audit events keep pointing at them), and the downgrade moves them back. Run on
a scratch SQLite file or a scratch PostgreSQL schema (the fixture of test_migration_letter_identity)."""
from __future__ import annotations

import json
from datetime import datetime

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app.extensions import db
from tests.test_migration_letter_identity import _insert, scratch_app  # noqa: F401  (fixture)

pytestmark = pytest.mark.no_db


def _params(v):
    return json.loads(v) if isinstance(v, str) else v


def test_case_file_jobs_move_into_job_and_back(scratch_app):  # noqa: F811
    with scratch_app.app_context():
        upgrade(revision="0018")
        with db.engine.begin() as conn:
            meta = sa.MetaData()
            meta.reflect(conn)
            agency = _insert(conn, meta, "agency", code="DEMO", name="示范局")
            user = _insert(conn, meta, "user", agency_id=agency, username="archivist", name="刘档案")
            at = datetime(2026, 11, 20, 9, 0)
            done = _insert(conn, meta, "case_file_job", agency_id=agency, requested_by_id=user, status="done",
                           case_ids_json=json.dumps({"ids": [3, 1], "format": "pdf", "order": None}), total=2, done=2,
                           error="", result_path="/srv/jobs/job-7.pdf", result_sha256="a" * 64, created_at=at,
                           finished_at=at, heartbeat_at=at)
            old = _insert(conn, meta, "case_file_job", agency_id=agency, requested_by_id=None, status="failed",
                          case_ids_json="[5, 6]", total=2, done=1, error="任务已中断", result_path="", created_at=at)
            queued = _insert(conn, meta, "case_file_job", agency_id=agency, requested_by_id=user, status="queued",
                             case_ids_json=json.dumps({"ids": [9], "format": "zip"}), total=1, done=0, error="",
                             result_path="", created_at=at)
        upgrade(revision="0019")
        with db.engine.begin() as conn:
            assert not sa.inspect(conn).has_table("case_file_job")
            rows = {r.id: r for r in conn.execute(sa.text("SELECT * FROM job ORDER BY id"))}
            assert set(rows) == {done, old, queued}
            d = rows[done]
            assert (d.kind, d.agency_id, d.requested_by_id, d.status, d.total, d.done, d.result_path,
                    d.result_sha256, d.attempts, d.expires_at) == (
                "casefile_print", agency, user, "done", 2, 2, "/srv/jobs/job-7.pdf", "a" * 64, 1, None)
            assert _params(d.params) == {"ids": [3, 1], "format": "pdf", "order": None}
            assert _params(rows[old].params) == [5, 6] and rows[old].error == "任务已中断"
            assert (rows[queued].status, rows[queued].attempts) == ("queued", 0)
            # New jobs continue after the moved ids (PostgreSQL: the sequence was set).
            meta = sa.MetaData()
            meta.reflect(conn)
            new = _insert(conn, meta, "job", kind="ledger_export", agency_id=agency, status="queued",
                          params={"filters": {}}, error="", result_path="", result_name="", result_sha256="")
            assert new > max(done, old, queued)
        downgrade(revision="0018")
        with db.engine.connect() as conn:
            assert not sa.inspect(conn).has_table("job")
            back = {r.id: r for r in conn.execute(sa.text("SELECT * FROM case_file_job ORDER BY id"))}
    assert set(back) == {done, old, queued}  # the export job had no place before 0019
    assert json.loads(back[done].case_ids_json) == {"ids": [3, 1], "format": "pdf", "order": None}
    assert json.loads(back[old].case_ids_json) == [5, 6]
    assert (back[done].status, back[done].result_sha256, str(back[done].heartbeat_at)[:19]) == ("done", "a" * 64, str(at))
