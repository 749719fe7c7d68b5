"""`make run` serves through gunicorn with gunicorn.conf.py: a real master and workers on a free port,
the same database as the tests, warm-up in each worker, and a clean stop on SIGTERM."""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import _SQLITE, DB_URL

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_gunicorn_serves_the_app_and_stops_cleanly(tmp_path):
    port = _free_port()
    env = {**os.environ, "SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": DB_URL or f"sqlite:///{_SQLITE}",
           "OGI_BIND": f"127.0.0.1:{port}", "WEB_WORKERS": "2", "ATTACHMENT_DIR": str(tmp_path / "att"),
           "CASEFILE_JOB_DIR": str(tmp_path / "jobs"), "OCR_AUTOSTART": "",
           "QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}"}
    env.pop("OGI_WARM_UP", None)  # gunicorn.conf.py turns the per-worker warm-up on
    log = open(tmp_path / "gunicorn.log", "wb")
    proc = subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):  # each worker warms its fonts and PDF engines up first
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, (tmp_path / "gunicorn.log").read_text()
            time.sleep(0.25)
        status, _, body = _get(base + "/readyz")
        assert status == 200, body
        status, headers, body = _get(base + "/login")
        assert status == 200 and "登录" in body
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        status, _, _ = _get(base + "/cases")
        assert status == 200  # redirected to the login page (urllib follows it)
        assert len(_children(proc.pid)) == 2  # WEB_WORKERS worker processes under the master
        text = (tmp_path / "gunicorn.log").read_text(errors="replace")
        assert "gthread" in text  # the worker class from gunicorn.conf.py
        assert "Control socket" not in text  # no socket shared by every instance in $HOME
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        log.close()
    assert code == 0, (tmp_path / "gunicorn.log").read_text()
