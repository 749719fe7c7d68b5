"""Backup and restore: one tar archive with a consistent database dump, the stored files and a
manifest of SHA-256s (``flask backup PATH`` / ``flask restore PATH``, docs/operations.md).

Consistency: the database is copied first, from one snapshot (SQLite's online backup API;
``pg_dump --snapshot`` of an exported REPEATABLE READ snapshot on PostgreSQL, in which the row
counts and the lists of files are read too). Files are then copied by that list: they are never
changed or deleted (attachments are named by their content and written before their row commits,
case-file results before their job row says done), so every file the dump refers to is there.

Restore goes into an empty database and empty file directories only, and checks every file of the
archive against the manifest before it touches anything.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from ..extensions import db
from ..models import Agency, User
from .audit import record_security
from .errors import ServiceError
from .integrity import sha256_file, sha256_path

FORMAT = "ogidesk-backup/1"
MANIFEST = "manifest.json"
DB_SQLITE = "database/ogidesk.sqlite3"
DB_PG = "database/ogidesk.pgdump"
_SHA = re.compile(r"^[0-9a-f]{64}$")
_MEMBER = re.compile(r"^(database/ogidesk\.(sqlite3|pgdump)|attachments/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}"
                     r"|casefile_jobs/[A-Za-z0-9._-]+)$")


class BackupError(ServiceError):
    pass


@dataclass
class Snapshot:
    """What one consistent view of the database holds, besides the dump itself."""
    tables: dict[str, int] = field(default_factory=dict)
    letters: dict[str, str] = field(default_factory=dict)  # letter id -> sha256
    attachments: list[str] = field(default_factory=list)  # stored files by sha256
    results: dict[str, dict] = field(default_factory=dict)  # job id -> {path, sha256}
    revision: str | None = None


def _dialect() -> str:
    return db.engine.dialect.name


def _read_snapshot(conn, table_names: list[str]) -> Snapshot:
    snap = Snapshot()
    for t in sorted(table_names):
        snap.tables[t] = conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
    if "letter" in table_names:
        snap.letters = {str(i): h for i, h in conn.execute(text("SELECT id, sha256 FROM letter ORDER BY id"))}
    if "attachment" in table_names:
        snap.attachments = list(conn.execute(text("SELECT DISTINCT sha256 FROM attachment ORDER BY sha256")).scalars())
    # Redaction sources (as uploaded and as marked) and released copies live in the same store.
    stored = {"source_document": ("original_sha256", "pdf_sha256"), "redaction_release": ("sha256",)}
    for table, columns in stored.items():
        if table in table_names:
            for col in columns:
                more = conn.execute(text(f"SELECT DISTINCT {col} FROM {table} WHERE {col} <> ''")).scalars()
                snap.attachments = sorted(set(snap.attachments) | set(more))
    if "ocr_job" in table_names:  # the scans' OCR text layers live in the same store
        ocr = conn.execute(text("SELECT DISTINCT result_sha256 FROM ocr_job WHERE result_sha256 <> ''")).scalars()
        snap.attachments = sorted(set(snap.attachments) | set(ocr))
    # Job results (batch printing, exports): the table "job" since 0019, "case_file_job" before.
    jobs_table = "job" if "job" in table_names else "case_file_job" if "case_file_job" in table_names else None
    if jobs_table:
        rows = conn.execute(text(f"SELECT id, result_path, result_sha256 FROM {jobs_table} "
                                 "WHERE status = 'done' AND result_path <> '' ORDER BY id"))
        snap.results = {str(i): {"path": p, "sha256": h} for i, p, h in rows}
    if "alembic_version" in table_names:
        snap.revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return snap


# ---------------------------------------------------------------- PostgreSQL tools

def _libpq_url() -> str:
    return db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _tool_major(path: str) -> int | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return None
    m = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(m.group(1)) if m else None


def pg_tool(name: str) -> str:
    """pg_dump/pg_restore of the server's major version or newer (an older pg_dump refuses a newer
    server): PG_BIN_DIR if set, then Debian's /usr/lib/postgresql/<major>/bin, then PATH."""
    with db.engine.connect() as conn:
        server = int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    candidates = []
    if current_app.config["PG_BIN_DIR"]:
        candidates.append(str(Path(current_app.config["PG_BIN_DIR"]) / name))
    candidates += [f"/usr/lib/postgresql/{server}/bin/{name}", shutil.which(name) or ""]
    candidates += sorted((str(p) for p in Path("/usr/lib/postgresql").glob(f"*/bin/{name}")), reverse=True)
    for c in candidates:
        if c and os.access(c, os.X_OK) and (_tool_major(c) or 0) >= server:
            return c
    raise BackupError(f"找不到 PostgreSQL {server} 或更新版本的 {name}：请安装 postgresql-client-{server}，"
                      f"或用 PG_BIN_DIR 指定其目录")


def _run_tool(args: list[str]) -> None:
    env = {**os.environ, "PGCONNECT_TIMEOUT": str(current_app.config["DB_CONNECT_TIMEOUT"])}
    proc = subprocess.run(args, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} 执行失败：{proc.stderr.strip()[-2000:]}")


# ---------------------------------------------------------------- backup

@dataclass
class BackupReport:
    path: Path
    size: int
    sha256: str
    tables: dict[str, int]
    files: int


def _dump_sqlite(out: Path) -> Snapshot:
    raw = db.engine.raw_connection()
    try:
        dst = sqlite3.connect(out)
        try:
            raw.driver_connection.backup(dst)  # online and consistent, also while others write
        finally:
            dst.close()
    finally:
        raw.close()
    copy = create_engine(f"sqlite:///{out}", poolclass=NullPool)
    try:
        with copy.connect() as conn:
            return _read_snapshot(conn, inspect(conn).get_table_names())
    finally:
        copy.dispose()


def _dump_pg(out: Path) -> Snapshot:
    pg_dump = pg_tool("pg_dump")
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        names = inspect(conn).get_table_names()
        snap = _read_snapshot(conn, names)
        # The snapshot lives as long as this transaction: pg_dump reads exactly what was counted.
        _run_tool([pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot_id}",
                   f"--file={out}", f"--dbname={_libpq_url()}"])
        conn.rollback()
    return snap


def _storage_root() -> Path:
    from . import storage
    return storage.root()


def _job_dir() -> Path:
    from .storage import job_dir
    return job_dir()


def backup(path: str | Path, actor: User | None = None) -> BackupReport:
    """Write one archive at ``path`` (refused if it exists); audited as 'backup_created'."""
    path = Path(path)
    if path.exists():
        raise BackupError(f"备份文件 {path} 已存在，不覆盖；请换一个文件名")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ogidesk-backup-") as tmp:
        dialect = _dialect()
        if dialect == "sqlite":
            db_member, dump = DB_SQLITE, Path(tmp) / "db.sqlite3"
            snap = _dump_sqlite(dump)
        elif dialect == "postgresql":
            db_member, dump = DB_PG, Path(tmp) / "db.pgdump"
            snap = _dump_pg(dump)
        else:
            raise BackupError(f"不支持的数据库：{dialect}")

        members: list[tuple[str, Path]] = [(db_member, dump)]
        root = _storage_root()
        for digest in snap.attachments:
            src = root / digest[:2] / digest[2:4] / digest
            if not _SHA.match(digest) or not src.is_file():
                raise BackupError(f"附件文件 {digest} 缺失，备份未完成：请先运行 flask verify 查明")
            members.append((f"attachments/{digest[:2]}/{digest[2:4]}/{digest}", src))
        results = {}
        for job_id, r in snap.results.items():
            src = Path(r["path"])
            if src.is_file():  # a cleared-away result is not needed to restore: it can be printed again
                name = f"casefile_jobs/{src.name}"
                members.append((name, src))
                results[job_id] = {"file": name, "sha256": r["sha256"]}

        files = {}
        for name, src in members:
            files[name] = sha256_path(src)
        for job_id, r in results.items():
            if r["sha256"] and files[r["file"]] != r["sha256"]:
                raise BackupError(f"案卷打印结果（任务 {job_id}）与登记的 SHA-256 不符，备份未完成：请先运行 flask verify")
        bad = [a for a in snap.attachments if files[f"attachments/{a[:2]}/{a[2:4]}/{a}"] != a]
        if bad:
            raise BackupError(f"附件文件与其 SHA-256 不符（{bad[0]} 等 {len(bad)} 个），备份未完成：请先运行 flask verify")
        manifest = {
            "format": FORMAT, "created_at": datetime.utcnow().isoformat(timespec="seconds") + "Z",
            "dialect": dialect, "database": db_member, "alembic_revision": snap.revision,
            "tables": snap.tables, "letters": snap.letters, "casefile_results": results, "files": files,
        }
        part = path.with_name(path.name + ".part")
        with tarfile.open(part, "w") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(datetime.utcnow().timestamp()), 0o600
            tar.addfile(info, io.BytesIO(data))
            for name, src in members:
                tar.add(src, arcname=name, recursive=False)
        with open(part, "rb") as fh:
            os.fsync(fh.fileno())
            digest = sha256_file(fh)
        os.replace(part, path)

    report = BackupReport(path=path, size=path.stat().st_size, sha256=digest, tables=snap.tables, files=len(members) - 1)
    for agency_id in db.session.scalars(db.select(Agency.id).order_by(Agency.id)):
        record_security(agency_id, actor, "backup_created", {
            "path": str(path.resolve()), "size": report.size, "sha256": digest, "dialect": dialect,
            "rows": sum(snap.tables.values()), "files": report.files, "letters": len(snap.letters)})
    db.session.commit()
    return report


# ---------------------------------------------------------------- restore

@dataclass
class RestoreReport:
    tables: dict[str, int]
    files: int
    letters: int


def read_manifest(tar: tarfile.TarFile) -> dict:
    try:
        member = tar.getmember(MANIFEST)
        manifest = json.loads(tar.extractfile(member).read())
    except (KeyError, ValueError, AttributeError):
        raise BackupError("不是本系统的备份文件（缺少或无法读取 manifest.json）") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"备份格式 {manifest.get('format')!r} 不受支持（应为 {FORMAT}）")
    return manifest


def verify_archive(tar: tarfile.TarFile, manifest: dict, into: Path) -> None:
    """Extract every file listed in the manifest into ``into``, checking its SHA-256 on the way;
    anything else in the archive, a missing file or a wrong hash refuses the whole archive."""
    expected = manifest.get("files") or {}
    if any(not _MEMBER.match(n) for n in expected):
        raise BackupError("备份清单中有不合规的文件名，拒绝恢复")
    seen = set()
    for m in tar.getmembers():
        if m.name == MANIFEST:
            continue
        if m.name not in expected or not m.isfile():
            raise BackupError(f"备份中有清单之外的内容：{m.name}，拒绝恢复")
        target = into / m.name  # the name matched _MEMBER: no "..", no absolute path
        target.parent.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        with tar.extractfile(m) as src, open(target, "wb") as dst:
            for chunk in iter(lambda: src.read(1024 * 1024), b""):
                h.update(chunk)
                dst.write(chunk)
        if h.hexdigest() != expected[m.name]:
            raise BackupError(f"备份文件 {m.name} 的 SHA-256 与清单不符，备份已损坏或被改动，拒绝恢复")
        seen.add(m.name)
    missing = set(expected) - seen
    if missing:
        raise BackupError(f"备份不完整：缺少 {sorted(missing)[0]} 等 {len(missing)} 个文件，拒绝恢复")


def _empty_dir(p: Path) -> bool:
    return not p.exists() or (p.is_dir() and not any(p.iterdir()))


def check_target_empty() -> None:
    tables = inspect(db.engine).get_table_names()
    if tables:
        raise BackupError(f"目标数据库不是空的（已有 {len(tables)} 张表，如 {sorted(tables)[0]}），拒绝恢复："
                          "请新建一个空数据库并让 DATABASE_URL 指向它")
    for label, p in (("附件目录 ATTACHMENT_DIR", _storage_root()), ("案卷打印目录 CASEFILE_JOB_DIR", _job_dir())):
        if not _empty_dir(p):
            raise BackupError(f"{label}（{p}）不是空的，拒绝恢复：请指定一个空目录")


def _load_sqlite(dump: Path) -> None:
    target = db.engine.url.database
    db.session.remove()
    db.engine.dispose()
    src = sqlite3.connect(dump)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    db.engine.dispose()


def _load_pg(dump: Path) -> None:
    pg_restore = pg_tool("pg_restore")
    db.session.remove()
    _run_tool([pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
               f"--dbname={_libpq_url()}", str(dump)])
    db.engine.dispose()


def restore(path: str | Path) -> RestoreReport:
    """Restore an archive into the configured empty database and empty file directories."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"备份文件 {path} 不存在")
    try:
        tar = tarfile.open(path, "r")
    except tarfile.TarError:
        raise BackupError(f"{path} 不是有效的备份文件") from None
    with tar, tempfile.TemporaryDirectory(prefix="ogidesk-restore-") as tmp:
        manifest = read_manifest(tar)
        dialect = _dialect()
        if manifest["dialect"] != dialect:
            raise BackupError(f"备份来自 {manifest['dialect']} 数据库，不能恢复到 {dialect} 数据库")
        staged = Path(tmp)
        verify_archive(tar, manifest, staged)
        check_target_empty()

        (_load_sqlite if dialect == "sqlite" else _load_pg)(staged / manifest["database"])

        files = 0
        root, jobs = _storage_root(), _job_dir()
        for name in manifest["files"]:
            if name.startswith("attachments/"):
                dest = root / name[len("attachments/"):]
            elif name.startswith("casefile_jobs/"):
                dest = jobs / name[len("casefile_jobs/"):]
            else:
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(staged / name, dest)
            files += 1

    # Results now live in this installation's job directory (result_path is absolute).
    from sqlalchemy import inspect

    jobs_table = "job" if inspect(db.engine).has_table("job") else "case_file_job"
    for job_id, r in manifest.get("casefile_results", {}).items():
        db.session.execute(text(f"UPDATE {jobs_table} SET result_path = :p WHERE id = :i"),
                           {"p": str(jobs / Path(r["file"]).name), "i": int(job_id)})
    db.session.commit()
    report = _check_restored(manifest, files)

    for agency_id in db.session.scalars(db.select(Agency.id).order_by(Agency.id)):
        record_security(agency_id, None, "restore_done", {
            "path": str(path.resolve()), "backup_created_at": manifest["created_at"],
            "rows": sum(report.tables.values()), "files": files, "letters": report.letters})
    db.session.commit()
    return report


def _check_restored(manifest: dict, files: int) -> RestoreReport:
    """The restored database holds what the manifest says: every table's row count and every
    letter's SHA-256, with the stored PDF matching it."""
    names = inspect(db.engine).get_table_names()
    with db.engine.connect() as conn:
        snap = _read_snapshot(conn, names)
        if snap.tables != manifest["tables"]:
            diff = {t: (manifest["tables"].get(t), snap.tables.get(t))
                    for t in set(snap.tables) | set(manifest["tables"]) if snap.tables.get(t) != manifest["tables"].get(t)}
            raise BackupError(f"恢复后的行数与备份清单不符：{diff}")
        if snap.letters != manifest["letters"]:
            raise BackupError("恢复后的文书 SHA-256 与备份清单不符")
        rows = conn.execution_options(yield_per=50).execute(text("SELECT id, pdf, sha256 FROM letter ORDER BY id"))
        bad = [i for i, pdf, h in rows if hashlib.sha256(pdf).hexdigest() != h]
        if bad:
            raise BackupError(f"恢复后文书 #{bad[0]} 的 PDF 与其 SHA-256 不符")
    return RestoreReport(tables=snap.tables, files=files, letters=len(snap.letters))
