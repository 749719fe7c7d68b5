"""Backup and restore: backup → a new empty database and directories → restore, on the test
database (SQLite, or PostgreSQL with TEST_DATABASE_URL); every table's row count and every stored
hash come back, and a damaged archive or a non-empty target is refused."""
from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from app import create_app
from app.casefile import attachments as A
from app.casefile import jobs as J
from app.casefile import ocr
from app.extensions import db
from app.models import Attachment, Event, Job as CaseFileJob, Letter, OcrJob
from app.services import jobs as background
from app.pdf.ocr import available as ocr_available
from tests.casefile.conftest import ensure_reply_letter, png_bytes, scan_pdf
from tests.conftest import DB_URL, IS_PG, user
from tests.factories import build_case


def _sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _state(attachment_dir: Path) -> dict:
    """Every table's row count (restore_done events aside) and every stored hash, recomputed."""
    names = inspect(db.engine).get_table_names()
    counts = {}
    for t in names:
        where = " WHERE action <> 'restore_done'" if t == "event" else ""
        counts[t] = db.session.execute(text(f'SELECT count(*) FROM "{t}"{where}')).scalar_one()
    letters = {l.id: (l.sha256, hashlib.sha256(l.pdf).hexdigest(), l.number)
               for l in db.session.scalars(db.select(Letter))}
    atts = {a.id: (a.sha256, _sha(attachment_dir / a.sha256[:2] / a.sha256[2:4] / a.sha256))
            for a in db.session.scalars(db.select(Attachment))}
    jobs = {j.id: (j.result_sha256, _sha(j.result_path))
            for j in db.session.scalars(db.select(CaseFileJob).where(CaseFileJob.result_path != ""))}
    ocr = {j.id: (j.result_sha256, _sha(attachment_dir / j.result_sha256[:2] / j.result_sha256[2:4] / j.result_sha256))
           for j in db.session.scalars(db.select(OcrJob).where(OcrJob.result_sha256 != ""))}
    return {"counts": counts, "letters": letters, "attachments": atts, "jobs": jobs, "ocr": ocr}


def _source_data(app) -> None:
    case = build_case("delivered")
    ensure_reply_letter(case)
    A.add_attachment(case.id, user("clerk"), png_bytes(), "申请表.png", "application_form", "")
    A.add_attachment(case.id, user("handler"), scan_pdf("送达回证", pages=2), "回证.pdf", "proof_of_service", "")
    if ocr_available("chi_sim"):
        ocr.run_queued()  # the scans' text layers are stored beside them and backed up with them
    build_case("archived")
    job = J.create_job(user("archivist"), [case.id], "zip")
    background.run_job(job.id)


@pytest.fixture
def target(app, tmp_path):
    """A second app on a new empty database and new empty directories."""
    if IS_PG:
        url = make_url(DB_URL)
        name = f"{url.database}_restore"
        assert name.startswith("test_"), name
        admin = create_engine(url.set(drivername="postgresql+psycopg", database="postgres"), poolclass=NullPool,
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            c.execute(text(f'CREATE DATABASE "{name}"'))
        target_url = url.set(database=name).render_as_string(hide_password=False)
    else:
        target_url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    new = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": target_url, "SERVER_NAME": "localhost",
                      "ATTACHMENT_DIR": str(tmp_path / "restored-attachments"),
                      "CASEFILE_JOB_DIR": str(tmp_path / "restored-jobs")})
    yield new
    with new.app_context():
        db.session.remove()
        db.engine.dispose()
    if IS_PG:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_backup_wipe_restore_round_trip(app, stores, target, tmp_path):
    with app.app_context():
        _source_data(app)
        before = _state(Path(app.config["ATTACHMENT_DIR"]))
        db.session.remove()
    assert before["letters"] and len(before["attachments"]) == 2 and len(before["jobs"]) == 1
    assert len(before["ocr"]) == (2 if ocr_available("chi_sim") else 0)
    assert all(stored == actual for stored, actual, _n in before["letters"].values())

    archive = tmp_path / "backup.tar"
    out = app.test_cli_runner().invoke(args=["backup", str(archive)])
    assert out.exit_code == 0, out.output
    assert archive.is_file() and "已备份到" in out.output
    again = app.test_cli_runner().invoke(args=["backup", str(archive)])
    assert again.exit_code != 0 and "已存在" in again.output

    restored = target.test_cli_runner().invoke(args=["restore", str(archive)])
    assert restored.exit_code == 0, restored.output
    with target.app_context():
        after = _state(Path(target.config["ATTACHMENT_DIR"]))
        assert Path(db.session.scalar(db.select(CaseFileJob.result_path).where(CaseFileJob.result_path != ""))
                    ).parent == Path(target.config["CASEFILE_JOB_DIR"])
        assert db.session.scalar(db.select(db.func.count()).select_from(Event)
                                 .where(Event.action == "restore_done")) == before["counts"]["agency"]
        db.session.remove()
    assert after == before

    # The restored installation checks clean, and refuses a second restore over itself.
    assert target.test_cli_runner().invoke(args=["verify"]).exit_code == 0
    twice = target.test_cli_runner().invoke(args=["restore", str(archive)])
    assert twice.exit_code != 0 and "目标数据库不是空的" in twice.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Event)
                                 .where(Event.action == "backup_created")) == before["counts"]["agency"]


def _rewrite(archive: Path, out: Path, change) -> None:
    with tarfile.open(archive) as src, tarfile.open(out, "w") as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read()
            data = change(m.name, data)
            if data is None:
                continue
            m.size = len(data)
            dst.addfile(m, io.BytesIO(data))


@pytest.mark.parametrize("damage, message", [
    (lambda name, data: data[:-1] + bytes([data[-1] ^ 1]) if name.startswith("attachments/") else data,
     "SHA-256 与清单不符"),
    (lambda name, data: None if name.startswith("database/") else data, "备份不完整"),
])
def test_damaged_archive_is_refused_before_anything_is_restored(app, stores, target, tmp_path, damage, message):
    with app.app_context():
        build_case("delivered")
        case_id = build_case("handling").id
        A.add_attachment(case_id, user("clerk"), png_bytes(), "a.png", "application_form", "")
        db.session.remove()
    archive, damaged = tmp_path / "b.tar", tmp_path / "damaged.tar"
    assert app.test_cli_runner().invoke(args=["backup", str(archive)]).exit_code == 0
    _rewrite(archive, damaged, damage)

    r = target.test_cli_runner().invoke(args=["restore", str(damaged)])
    assert r.exit_code != 0 and message in r.output
    with target.app_context():
        assert inspect(db.engine).get_table_names() == []
    assert not Path(target.config["ATTACHMENT_DIR"]).exists()
