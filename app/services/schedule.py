"""The worker's scheduled work, registered on the queue (services.queue.periodic) at the local
times of the settings DIGEST_AT and NIGHTLY_AT:

- ``digest``: each user's 今日提醒 (services.digest.run_all);
- ``nightly_sweep``: every sweep hook (services.queue.run_startup: interrupted OCR and background
  jobs, expired results), with a summary in the log and in the run's record;
- ``nightly_verify``: the verification of ``flask verify`` (services.integrity.verify_all); each
  agency's security log gets its 'verify_run' event (problems listed there), and the run's record
  keeps the counts and the duration for the admin's page;
- ``nightly_statistics``: SQLite's ANALYZE (PostgreSQL's autovacuum keeps its own), without which
  SQLite plans a search by walking the whole agency instead of looking the matches up.

``flask worker`` imports this module; a test runs the functions directly or through the queue."""
from __future__ import annotations

import logging

from sqlalchemy import text

from ..extensions import db
from . import digest, integrity, notify, queue  # noqa: F401  (notify: the send_message task and its sweep)

log = logging.getLogger(__name__)

NIGHTLY_VERIFY = "nightly_verify"


def nightly_sweep() -> dict:
    hooks = queue.startup_hooks()
    failed = queue.run_startup()
    summary = {"ok": not failed, "hooks": hooks, "failed": failed}
    log.info("nightly sweep: %d hooks run, %d failed %s", len(hooks), len(failed), failed or "")
    return summary


def nightly_verify() -> dict:
    report = integrity.verify_all(trigger="nightly")
    summary = {"ok": report.ok, "checked": dict(report.checked), "checked_total": sum(report.checked.values()),
               "problems": len(report.problems), "summary": report.summary()}
    (log.info if report.ok else log.error)("nightly verify: %s", report.summary())
    return summary


def nightly_statistics() -> dict:
    """Planner statistics for SQLite: ANALYZE of every table and index (a few seconds at 200,000
    cases). Migration 0020 runs it once; the office's data then grows for years."""
    if db.engine.dialect.name != "sqlite":
        return {"ok": True, "analyzed": False, "why": "PostgreSQL: autovacuum"}
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    log.info("nightly statistics: ANALYZE done")
    return {"ok": True, "analyzed": True}


queue.periodic("digest", lambda: digest.run_all(), **queue.daily_at("DIGEST_AT"))
queue.periodic("nightly_sweep", nightly_sweep, **queue.daily_at("NIGHTLY_AT"))
queue.periodic(NIGHTLY_VERIFY, nightly_verify, **queue.daily_at("NIGHTLY_AT"))
queue.periodic("nightly_statistics", nightly_statistics, **queue.daily_at("NIGHTLY_AT"))
