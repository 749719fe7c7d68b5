"""Migration 0010 on letters issued before it: each gets the notice it was issued for, the
duplicates the old content-hash lookup produced become that notice's re-issues in issue order,
and the unique key holds afterwards. Run on a scratch SQLite file or a scratch PostgreSQL schema."""
from __future__ import annotations

import hashlib
import shutil
import tempfile
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from tests.conftest import DB_URL, IS_PG

pytestmark = pytest.mark.no_db

SCHEMA = "mig_letter_identity"


def _filler(col: sa.Column):
    t = col.type
    if isinstance(t, sa.Boolean):
        return False
    if isinstance(t, sa.Integer):
        return 0
    if isinstance(t, sa.DateTime):
        return datetime(2026, 11, 2, 9, 0)
    if isinstance(t, sa.Date):
        return date(2026, 11, 2)
    if isinstance(t, sa.LargeBinary):
        return b"%PDF-1.7"
    return "x"


def _insert(conn, meta: sa.MetaData, table: str, **values) -> int:
    t = meta.tables[table]
    row = {c.name: _filler(c) for c in t.columns
           if not c.nullable and c.server_default is None and c.name != "id"}
    row.update(values)
    return conn.execute(t.insert().values(**row).returning(t.c.id)).scalar_one()


@pytest.fixture
def scratch_app():
    tmp = None
    if IS_PG:
        engine = sa.create_engine(DB_URL)
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            conn.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
        url = DB_URL + ("&" if "?" in DB_URL else "?") + f"options=-csearch_path%3D{SCHEMA}"
    else:
        tmp = Path(tempfile.mkdtemp(prefix="ogidesk-mig-"))
        url = f"sqlite:///{tmp / 'mig.sqlite3'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    yield app
    with app.app_context():
        db.engine.dispose()
    if IS_PG:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        engine.dispose()
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)


def test_letters_issued_before_get_their_notice_and_duplicates_become_reissues(scratch_app):
    with scratch_app.app_context():
        upgrade(revision="0007")
        with db.engine.begin() as conn:
            meta = sa.MetaData()
            meta.reflect(conn)
            agency = _insert(conn, meta, "agency", code="DEMO", name="示范局")
            case = _insert(conn, meta, "case", agency_id=agency, number="DEMO-2026-0001", state="handling",
                           channel="in_person", applicant_type="natural")
            cohandles = [_insert(conn, meta, "step", case_id=case, kind="cohandle", details_json="{}")
                         for _ in range(2)]
            consult = _insert(conn, meta, "step", case_id=case, kind="consultation_third_party",
                              details_json="{}")
            draft = _insert(conn, meta, "draft", case_id=case, revision=1, outcome_code="disclose")
            seq = iter(range(1, 100))

            def letter(key: str, **kw) -> int:
                n = next(seq)
                return _insert(conn, meta, "letter", agency_id=agency, case_id=case, key=key, title=key,
                               number=f"〔2026〕{n}号", year=2026, seq=n, sha256=hashlib.sha256(b"%d" % n).hexdigest(),
                               content_hash="0" * 64, pages=1, **kw)

            receipts = [letter("receipt") for _ in range(3)]  # the bug: three receipts on one case
            co = [letter("cohandle") for _ in cohandles]  # one letter per co-handling step
            confirmation = letter("consult_confirmation")
            stray = [letter("consult_third_party") for _ in range(2)]  # two letters, one step: in order
            reply = letter("reply_disclose", draft_id=draft)
            lone = letter("reasons_notice")  # no such step on the case: kept under a ref of its own

        upgrade(revision="0010")
        with db.engine.connect() as conn:
            got = {r.id: (r.notice_ref, r.reissue_no) for r in conn.execute(
                sa.text("SELECT id, notice_ref, reissue_no FROM letter"))}
    assert [got[i] for i in receipts] == [("receipt", 0), ("receipt", 1), ("receipt", 2)]
    assert [got[i] for i in co] == [(f"step-{s}", 0) for s in cohandles]
    assert got[confirmation] == (f"step-{consult}-confirmation", 0)
    assert [got[i] for i in stray] == [(f"step-{consult}", 0), (f"step-{consult}", 1)]
    assert got[reply] == ("reply", 0)
    assert got[lone] == (f"legacy-{lone}", 0)

    with scratch_app.app_context(), pytest.raises(sa.exc.IntegrityError):
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE letter SET reissue_no = 0 WHERE id = :id"), {"id": receipts[1]})
