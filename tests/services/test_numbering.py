"""Case numbers: one sequence per agency and year, consecutive, never duplicated, never skipped."""
from __future__ import annotations

import threading

import pytest

from app.extensions import db
from app.models import Case, Sequence
from app.services import cases as S
from app.services.errors import ServiceError
from tests.conftest import INTAKE, IS_PG, set_today, user
from tests.factories import other_agency, register


def _numbers(agency_id: int | None = None) -> list[str]:
    db.session.expire_all()
    q = db.select(Case.number).order_by(Case.id)
    if agency_id is not None:
        q = q.where(Case.agency_id == agency_id)
    return list(db.session.scalars(q))


def test_numbers_are_consecutive_per_agency(app, ctx):
    assert [register(applicant_name=f"申请人{i}").number for i in range(3)] == [
        "DEMO-2026-0001", "DEMO-2026-0002", "DEMO-2026-0003"]
    agency, others = other_agency("SZF")
    assert register(others["clerk"]).number == "SZF-2026-0001"
    assert register().number == "DEMO-2026-0004"
    assert register(others["clerk"]).number == "SZF-2026-0002"
    assert _numbers(agency.id) == ["SZF-2026-0001", "SZF-2026-0002"]
    c = db.session.scalar(db.select(Case).where(Case.number == "SZF-2026-0002"))
    assert (c.agency_id, c.year, c.seq) == (agency.id, 2026, 2)


def test_refused_registration_consumes_no_number(app, ctx):
    register()
    for bad in ({"id_number": "110105194912310021"}, {"contact_phone": "", "contact_address": ""},
                {"arrived_on": "2026-11-24"}):
        with pytest.raises(ServiceError):
            register(**bad)
    assert register().number == "DEMO-2026-0002"
    assert _numbers() == ["DEMO-2026-0001", "DEMO-2026-0002"]


def test_a_new_year_starts_a_new_sequence(app, ctx):
    set_today(app, "2026-12-31")
    register(arrived_on="2026-12-31")
    set_today(app, "2027-01-04")
    c = register(arrived_on="2027-01-04")
    assert c.number == "DEMO-2027-0001" and c.year == 2027
    set_today(app, "2027-01-05")
    assert register(arrived_on="2027-01-04").number == "DEMO-2027-0002"
    rows = {(s.year, s.last) for s in db.session.scalars(db.select(Sequence).where(Sequence.kind == "case"))}
    assert rows == {(2026, 1), (2027, 2)}


def test_numbers_under_sequential_load_have_no_gaps(app, ctx):
    for i in range(12):
        register(applicant_name=f"批量{i}")
    assert _numbers() == [f"DEMO-2026-{n:04d}" for n in range(1, 13)]


@pytest.mark.skipif(not IS_PG, reason="SQLite serialises writers; concurrent allocation is a PostgreSQL test")
def test_concurrent_registration_yields_unique_consecutive_numbers(app, ctx):
    threads_n, per_thread = 8, 4
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []
    got: list[str] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        try:
            with app.app_context():
                try:
                    clerk = user("clerk")
                    barrier.wait(30)
                    for j in range(per_thread):
                        c = S.register_case(clerk, {**INTAKE, "applicant_name": f"并发{i}-{j}"})
                        with lock:
                            got.append(c.number)
                finally:
                    db.session.remove()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    db.session.remove()
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads_n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert not errors, errors
    total = threads_n * per_thread
    expected = [f"DEMO-2026-{n:04d}" for n in range(1, total + 1)]
    assert sorted(got) == expected
    assert sorted(_numbers()) == expected
    seq = db.session.scalar(db.select(Sequence).where(Sequence.kind == "case", Sequence.year == 2026))
    assert seq.last == total
