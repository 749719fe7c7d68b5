"""Printing a case file, alone or in a batch, is on the security log (who printed what)."""
from __future__ import annotations

from app.casefile import jobs as J
from app.extensions import db
from app.models import Event, Job as CaseFileJob
from app.services import jobs as background
from tests.factories import build_case


def _prints() -> list[tuple]:
    rows = db.session.scalars(db.select(Event).where(Event.action == "casefile_print").order_by(Event.id))
    return [(e.actor.username, e.case_id, e.data) for e in rows]


def test_case_file_pdf_is_recorded(web):
    case_id, number = web.run(lambda: (lambda c: (c.id, c.number))(build_case("delivered")))
    web.as_user("archivist")
    r = web.client.get(f"/cases/{case_id}/casefile.pdf")
    assert r.status_code == 200 and r.data.startswith(b"%PDF-")
    assert web.run(_prints) == [("archivist", None, {"case": number, "format": "pdf"})]
    # Refused (another role): nothing recorded.
    web.as_user("clerk")
    assert web.client.get(f"/cases/{case_id}/casefile.pdf").status_code == 403
    assert len(web.run(_prints)) == 1


def test_batch_print_is_recorded_with_the_job(web):
    a, b = web.run(lambda: (build_case("delivered").number, build_case("closed").number))
    web.as_user("head")
    r = web.client.post("/casefiles/batch", data={"case_ids": f"{a}, {b}", "format": "zip"})
    assert r.status_code == 302
    job_id = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert web.run(background.run_pending) == 1
    assert web.run(_prints) == [("head", None, {"job": job_id, "count": 2, "format": "zip"})]
    # A refused request (unknown case) creates neither a job nor an event.
    r = web.client.post("/casefiles/batch", data={"case_ids": "DEMO-2026-9999", "format": "zip"})
    assert r.status_code == 400
    assert web.run(lambda: db.session.scalar(db.select(db.func.count()).select_from(CaseFileJob))) == 1
    assert len(web.run(_prints)) == 1
