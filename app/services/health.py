"""What a load balancer asks of a serving process: is it up (``/healthz``), and can it serve
(``/readyz``: the database and the task queue answer, the file store and the print-job directory are there and
writable). Read-only: nothing is written but a probe file that is removed at once."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sqlalchemy import text

from ..extensions import db
from . import queue, storage


def _database() -> str | None:
    try:
        db.session.execute(text("SELECT 1")).scalar_one()
        return None
    except Exception as exc:  # any driver error means "not ready"; its class says which
        db.session.rollback()
        return f"数据库无法访问（{type(exc).__name__}）"


def _directory(path: Path, label: str) -> str | None:
    # The directories are created on first use; a missing one is ready if it can be created.
    probe_in = path
    while not probe_in.exists() and probe_in != probe_in.parent:
        probe_in = probe_in.parent
    if not probe_in.is_dir():
        return f"{label}不是目录（{path}）"
    try:
        fd, name = tempfile.mkstemp(prefix=".readyz-", dir=probe_in)
        os.close(fd)
        os.unlink(name)
        return None
    except OSError as exc:
        return f"{label}无法写入（{path}：{exc.strerror}）"


def readiness() -> dict[str, str | None]:
    """Each check's problem in Chinese, or None when it holds."""
    return {
        "database": _database(),
        "storage": _directory(storage.root(), "附件存储目录"),
        "jobs": _directory(storage.job_dir(), "案卷打印结果目录"),
        "queue": queue.problem(),
    }
