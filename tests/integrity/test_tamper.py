"""Tamper evidence: issued letters and the audit trail are immutable in the database itself, and
every download of a stored file is checked against its SHA-256 (refused and logged if changed)."""
from __future__ import annotations

import json

import pytest
import sqlalchemy.exc
from sqlalchemy import text, update

from app.casefile import attachments as A
from app.casefile import jobs as J
from app.services import storage
from app.extensions import db
from app.models import Event, Job as CaseFileJob, Letter
from app.services import jobs as background
from tests.casefile.conftest import ensure_reply_letter, png_bytes
from tests.conftest import IS_PG, triggers_off, user
from tests.factories import build_case

pg_only = pytest.mark.skipif(not IS_PG, reason="TRUNCATE exists on PostgreSQL only")


def _letters() -> list[tuple]:
    db.session.expire_all()
    return [(l.id, l.title, l.number, l.sha256, l.pdf, l.supersedes_id)
            for l in db.session.scalars(db.select(Letter).order_by(Letter.id))]


def _event_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Event))


def _mismatches() -> list[dict]:
    db.session.expire_all()
    return [e.data for e in db.session.scalars(db.select(Event).where(Event.action == "hash_mismatch"))]


@pytest.fixture
def issued(app, actx):
    case = build_case("delivered")
    assert case.letters, "the delivered case has its issued reply letter"
    return case.id, _letters()


@pytest.mark.parametrize("sql", [
    "UPDATE letter SET title = 'x'",
    "UPDATE letter SET pdf = :junk",
    "UPDATE letter SET sha256 = :fake, pdf = :junk",
    "UPDATE letter SET supersedes_id = id",
    "DELETE FROM letter",
    pytest.param("TRUNCATE letter CASCADE", marks=pg_only),
])
def test_issued_letter_cannot_be_changed_in_the_database(issued, sql):
    _case_id, before = issued
    with pytest.raises(sqlalchemy.exc.DBAPIError) as e:
        db.session.execute(text(sql), {"junk": b"%PDF-1.7 forged", "fake": "0" * 64})
        db.session.commit()
    assert "issued letters are immutable" in str(e.value)
    db.session.rollback()
    assert _letters() == before


def test_bulk_orm_update_of_a_letter_is_refused(issued):
    _case_id, before = issued
    with pytest.raises(sqlalchemy.exc.DBAPIError):
        db.session.execute(update(Letter).values(number="伪造〔2026〕1号"))
        db.session.commit()
    db.session.rollback()
    assert _letters() == before


@pytest.mark.parametrize("sql", ["TRUNCATE event", "TRUNCATE event CASCADE", "TRUNCATE event, letter CASCADE"])
@pg_only
def test_truncate_of_the_audit_trail_is_refused(issued, sql):
    _case_id, letters = issued
    count = _event_count()
    assert count > 0
    with pytest.raises(sqlalchemy.exc.DBAPIError) as e:
        db.session.execute(text(sql))
        db.session.commit()
    assert "append-only" in str(e.value) or "immutable" in str(e.value)
    db.session.rollback()
    assert _event_count() == count and _letters() == letters


# ---------------------------------------------------------------- downloads check the stored hash

def _tamper_letter(letter_id: int) -> None:
    """What someone with the database's superuser rights (not the application) could do."""
    with triggers_off("letter"):
        db.session.execute(text("UPDATE letter SET pdf = :pdf WHERE id = :id"),
                           {"pdf": b"%PDF-1.4 forged reply", "id": letter_id})
    db.session.commit()


def test_tampered_letter_pdf_is_refused_on_download_and_logged(web):
    case_id, letter_id, sha = web.run(lambda: (lambda c: (c.id, c.letters[0].id, c.letters[0].sha256))(
        build_case("delivered")))
    web.as_user("handler")
    url = f"/cases/{case_id}/letters/{letter_id}.pdf"
    ok = web.client.get(url)
    assert ok.status_code == 200 and ok.data.startswith(b"%PDF")

    web.run(_tamper_letter, letter_id)
    r = web.client.get(url)
    assert r.status_code == 409 and b"forged" not in r.data
    assert "文件校验不符" in r.get_data(as_text=True)
    token = web.run(lambda: (lambda t: (db.session.commit(), t)[1])(user("handler").new_api_token()))
    api = web.client.get(f"/api/v1{url}", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 409 and "文件校验不符" in api.get_json()["error"]["message"]
    logged = web.run(_mismatches)
    assert len(logged) == 2
    assert logged[0]["kind"] == "letter" and logged[0]["id"] == letter_id and logged[0]["expected_sha256"] == sha


def test_tampered_attachment_is_refused_on_download_and_logged(web):
    def setup():
        case = build_case("handling")
        att = A.add_attachment(case.id, user("clerk"), png_bytes(), "申请表.png", "application_form", "")
        return att.id, att.sha256

    att_id, sha = web.run(setup)
    web.as_user("handler")
    assert web.client.get(f"/attachments/{att_id}").status_code == 200

    path = web.run(storage.path_for, sha)
    path.chmod(0o600)
    path.write_bytes(png_bytes(color=(0, 0, 0)))  # changed on disk, same name
    r = web.client.get(f"/attachments/{att_id}")
    assert r.status_code == 409 and "文件校验不符" in r.get_data(as_text=True)
    logged = web.run(_mismatches)
    assert [(m["kind"], m["id"], m["expected_sha256"]) for m in logged] == [("attachment", att_id, sha)]
    assert logged[0]["actual_sha256"] != sha


def test_tampered_case_file_result_is_refused_on_download_and_logged(web):
    def setup():
        case = build_case("delivered")
        ensure_reply_letter(case)
        return J.create_job(user("archivist"), [case.id], "zip").id

    job_id = web.run(setup)
    web.run(lambda: background.run_job(job_id))
    path, sha = web.run(lambda: (lambda j: (j.result_path, j.result_sha256))(db.session.get(CaseFileJob, job_id)))
    assert len(sha) == 64
    web.as_user("archivist")
    url = f"/casefiles/jobs/{job_id}/result"
    ok = web.client.get(url)
    assert ok.status_code == 200
    ok.close()

    with open(path, "r+b") as fh:  # one byte changed in place
        fh.seek(100)
        b = fh.read(1)
        fh.seek(100)
        fh.write(bytes([b[0] ^ 0xFF]))
    r = web.client.get(url)
    assert r.status_code == 409 and "文件校验不符" in r.get_data(as_text=True)
    logged = web.run(_mismatches)
    assert [(m["kind"], m["id"], m["expected_sha256"]) for m in logged] == [("casefile_result", job_id, sha)]


# ---------------------------------------------------------------- flask verify

def _verify(app):
    return app.test_cli_runner().invoke(args=["verify"])


def _verify_runs(web) -> list[dict]:
    return web.run(lambda: [json.loads(e.data_json) for e in db.session.scalars(
        db.select(Event).where(Event.action == "verify_run").order_by(Event.id))])


def test_flask_verify_finds_tampered_letter_and_attachment(web):
    def setup():
        case = build_case("delivered")
        att = A.add_attachment(case.id, user("clerk"), png_bytes(), "回证.png", "proof_of_service", "")
        return case.letters[0].id, att.id, att.sha256

    letter_id, att_id, sha = web.run(setup)
    clean = _verify(web.app)
    assert clean.exit_code == 0, clean.output
    assert "全部与登记的 SHA-256 一致" in clean.output and "附件 1 份" in clean.output

    web.run(_tamper_letter, letter_id)
    path = web.run(storage.path_for, sha)
    path.chmod(0o600)
    path.write_bytes(b"not the scan")
    bad = _verify(web.app)
    assert bad.exit_code == 1
    assert f"已出具文书 #{letter_id}：校验不符" in bad.output and f"附件 #{att_id}：校验不符" in bad.output
    assert "发现 2 处不符或缺失" in bad.output

    path.unlink()
    missing = _verify(web.app)
    assert missing.exit_code == 1 and f"附件 #{att_id}：文件缺失" in missing.output

    runs = _verify_runs(web)
    assert [r["ok"] for r in runs] == [True, False, False]
    assert runs[1]["problem_count"] == 2 and runs[1]["checked"]["letter"] >= 1
