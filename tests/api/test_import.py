"""The ledger import through the API: the same all-or-nothing service as the page."""
from app.extensions import db
from app.models import Case
from tests.api.support import assert_error
from tests.reports.test_import import GOOD, xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _post(api, data: bytes, as_: str = "admin"):
    return api.request("POST", "/import", as_, raw=data, headers={"Content-Type": XLSX})


def test_api_import_takes_the_whole_file(api, app):
    from app.services import jobs as background

    r = _post(api, xlsx(GOOD))
    # Checked in the request, written by the worker: the answer is the job.
    assert r.status_code == 202, r.get_data(as_text=True)
    job = r.get_json()
    assert job["kind"] == "ledger_import" and job["status"] == "queued" and job["total"] == 8
    assert r.headers["Location"] == job["url"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Case.id))) == 0
        assert background.run_pending() == 1
    done = api.get(job["url"].removeprefix("/api/v1"), "admin").get_json()
    assert done["status"] == "done" and (done["done"], done["total"]) == (8, 8)
    assert done["result"]["created"] == 4 and done["result"]["rows"] == 4
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Case.id)).where(Case.imported.is_(True))) == 4
    assert _post(api, xlsx(GOOD)).status_code == 200  # again: every row is refused, nothing to do


def test_api_import_with_a_bad_row_imports_nothing_and_names_it(api, app):
    rows = [list(r) for r in GOOD]
    rows[2][6] = "2025-05-01"
    r = _post(api, xlsx(rows))
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert err["field"] == "file" and err["rows"][0]["row"] == 4 and "第4行" in err["message"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Case.id))) == 0


def test_api_import_refuses_other_roles_and_non_xlsx(api):
    assert_error(_post(api, xlsx(GOOD), as_="clerk"), 403)
    assert_error(_post(api, b"not a spreadsheet"), 422, "file")  # a malformed file: 422 (was 400)
    assert_error(_post(api, b""), 400, "file")
