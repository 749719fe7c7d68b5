"""Where files live outside the database: the content-addressed store for scans, and the
directory of case-file print results (``job_dir``).

A file is stored once under ``<ATTACHMENT_DIR>/aa/bb/<sha256>``: written to a temporary file
in the same directory tree, flushed to disk, then linked into place. ``os.link`` refuses to
replace an existing name, so a stored file is never overwritten, and a failed write leaves
no partial file behind. Files are never deleted by the application: a file whose database
row did not commit is harmless (its name is its content) and is reused by the next upload of
the same bytes.
"""
from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from pathlib import Path

from flask import current_app


def root() -> Path:
    configured = current_app.config["ATTACHMENT_DIR"]
    return Path(configured) if configured else Path(current_app.instance_path) / "attachments"


def job_dir() -> Path:
    """Results of batch case-file printing (app/casefile/jobs.py)."""
    configured = current_app.config["CASEFILE_JOB_DIR"]
    return Path(configured) if configured else Path(current_app.instance_path) / "casefile_jobs"


def path_for(sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256 hex digest")
    return root() / sha256[:2] / sha256[2:4] / sha256


def exists(sha256: str) -> bool:
    return path_for(sha256).is_file()


def store(data: bytes) -> str:
    """Store ``data`` (if not already there) and return its SHA-256."""
    digest = hashlib.sha256(data).hexdigest()
    target = path_for(digest)
    if target.is_file():
        return digest
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, target)  # atomic, and never replaces an existing file
        except FileExistsError:
            pass  # stored meanwhile by a concurrent upload of the same bytes
        except OSError as e:
            if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            # A file system without hard links: rename, which is atomic too.
            if not target.exists():
                os.rename(tmp, target)
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
    return digest


def read(sha256: str) -> bytes:
    return path_for(sha256).read_bytes()
