"""The real `flask worker` runs the scheduled work by itself: with DIGEST_AT set to the coming
minute of Beijing time, the worker process (Huey on a real redis-server, its clock in UTC) runs the
morning digest in that minute and records the run under that Beijing time."""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from app.extensions import db
from app.models import Digest, ScheduledRun
from tests.conftest import _SQLITE, DB_URL, user
from tests.factories import build_case
from tests.serving.test_worker import _redis_url as redis_url

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).parent / "flask"
REDIS_DB = 14  # this test's Redis database (tests/serving/test_worker.py uses 13)



def test_the_worker_runs_the_digest_at_the_configured_beijing_minute(app, tmp_path):
    url = redis_url(REDIS_DB)
    name = f"ogidesk-sched-{secrets.token_hex(4)}"
    with app.app_context():
        db.session.execute(db.delete(ScheduledRun))
        db.session.commit()
        case = build_case("handling", arrived_on="2026-09-03")  # due 2026-10-08
        number, handler_id = case.number, user("handler").id
        db.session.remove()
    beijing = datetime.now(ZoneInfo("Asia/Shanghai"))
    # The coming minute (two ahead when this one is nearly over, so the worker is up in time).
    at = (beijing + timedelta(minutes=1 if beijing.second < 45 else 2)).replace(second=0, microsecond=0)
    nightly = at + timedelta(hours=12)  # far from now: only the digest may fire
    env = {**os.environ, "SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": DB_URL or f"sqlite:///{_SQLITE}",
           "QUEUE_URL": url, "QUEUE_NAME": name, "WORKER_THREADS": "2", "FLASK_APP": "wsgi",
           "OGI_TODAY": "2026-09-28", "DIGEST_AT": at.strftime("%H:%M"), "NIGHTLY_AT": nightly.strftime("%H:%M")}
    env.pop("TZ", None)
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(FLASK), "worker"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 200
        run = None
        with app.app_context():
            while time.monotonic() < deadline:
                db.session.remove()
                run = db.session.scalar(db.select(ScheduledRun).where(ScheduledRun.name == "digest"))
                if run is not None and run.status != "running":
                    break
                assert proc.poll() is None, log_path.read_text(errors="replace")
                time.sleep(1)
            assert run is not None and run.status == "ok", log_path.read_text(errors="replace")
            # Recorded under the Beijing minute it was configured for, and it ran in that minute
            # (started_at is UTC: eight hours behind).
            assert run.slot == at.strftime("%Y-%m-%dT%H:%M")
            started_beijing = run.started_at.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo("Asia/Shanghai"))
            assert started_beijing.replace(second=0, microsecond=0, tzinfo=None) >= at.replace(tzinfo=None)
            row = db.session.scalar(db.select(Digest).where(Digest.user_id == handler_id))
            assert row.day.isoformat() == "2026-09-28"
            assert [(it["case_number"], it["days_left"]) for it in row.items] == [(number, 3)]
            assert db.session.scalar(db.select(ScheduledRun).where(ScheduledRun.name == "nightly_verify")) is None
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
        import redis

        r = redis.Redis.from_url(url)
        for key in r.scan_iter(f"*{name}*"):
            r.delete(key)
    assert code == 0, log_path.read_text(errors="replace")
    assert "scheduled digest" in log_path.read_text(errors="replace")
