"""GET /calendar and PUT /calendar/<year>: the working-day calendar through the API."""
from tests.api.support import assert_error, response_schema, validate
from tests.conftest import set_today


def test_calendar_lists_seeded_years(api, openapi_doc):
    r = api.get("/calendar", "handler")
    assert r.status_code == 200
    body = r.get_json()
    validate(openapi_doc, response_schema(openapi_doc, "/calendar", "get", 200), body)
    years = {y["year"]: y for y in body["years"]}
    assert set(years) == set(range(2019, 2027))
    y2026 = years[2026]
    assert y2026["revision"] == 1 and "2026-10-01" in y2026["holidays"] and y2026["makeup"]
    assert all(d.startswith("2026-") for d in y2026["holidays"] + y2026["makeup"])


def test_sysadmin_enters_next_year_and_open_cases_are_recomputed(api, openapi_doc):
    case = api.register(arrived_on="2026-11-20")
    # Received on 2026-12-15: 20 working days run into 2027, which is not entered yet.
    set_today(api.app, "2026-12-15")
    late = api.register(arrived_on="2026-12-15", applicant_name="李四")
    assert late["clock"]["provisional"] and late["clock"]["calendar_version"].endswith("2027p")
    assert not case["clock"]["provisional"]
    body = {"holidays": ["2027-01-01", "2027-02-05~2027-02-11"], "makeup": "2027-02-14\n2027-02-20",
            "source": "国办发明电〔2026〕1号"}
    r = api.put("/calendar/2027", body, "sysadmin")
    assert r.status_code == 200, r.get_data(as_text=True)
    saved = r.get_json()
    validate(openapi_doc, response_schema(openapi_doc, "/calendar/{year}", "put", 200), saved)
    assert saved["year"]["revision"] == 1 and saved["year"]["source"] == "国办发明电〔2026〕1号"
    assert saved["year"]["holidays"][:2] == ["2027-01-01", "2027-02-05"]
    assert saved["year"]["makeup"] == ["2027-02-14", "2027-02-20"]
    assert saved["year"]["updated_by"]["username"] == "sysadmin"
    assert saved["recomputed_cases"] == 1
    # The recompute is a platform job: the system administrator follows it through /jobs/{id}.
    job = saved["job"]
    assert job["kind"] == "calendar_recompute" and job["status"] == "queued" and job["total"] == 1
    from app.services import jobs as background
    with api.app.app_context():
        assert background.run_pending() == 1
    done = api.get(job["url"].removeprefix("/api/v1"), "sysadmin")
    assert done.status_code == 200 and done.get_json()["status"] == "done" and done.get_json()["done"] == 1
    assert done.get_json()["result"]["changed"] == 1
    assert api.get(job["url"].removeprefix("/api/v1"), "admin").status_code == 404  # platform work
    after = api.get(f"/cases/{late['id']}", "head").get_json()
    assert not after["clock"]["provisional"] and after["clock"]["calendar_version"] == "2026r1,2027r1"
    assert after["events"][-1]["action"] == "calendar_recompute"
    # A correction bumps the revision.
    again = api.put("/calendar/2027", {**body, "makeup": []}, "sysadmin").get_json()
    assert again["year"]["revision"] == 2 and again["year"]["makeup"] == []
    # Only the case whose deadline reaches 2027 is recomputed again; the other is untouched.
    assert again["recomputed_cases"] == 1 and again["job"]["id"] != job["id"]


def test_calendar_input_errors(api):
    for year, body, field in [
        (2027, {"makeup": []}, "holidays"),
        (2027, {"holidays": []}, "makeup"),
        (2027, {"holidays": ["2027-13-01"], "makeup": []}, "holidays"),
        (2027, {"holidays": ["2026-12-31"], "makeup": []}, "holidays"),
        (2027, {"holidays": "2027-02-11~2027-02-05", "makeup": []}, "holidays"),
        (2027, {"holidays": [], "makeup": ["2027-02-15"]}, "makeup"),  # a Monday
        (2027, {"holidays": [20270101], "makeup": []}, "holidays"),
        (2027, {"holidays": {"2027-01-01": True}, "makeup": []}, "holidays"),
        (2027, {"holidays": None, "makeup": []}, "holidays"),
        (2027, {"holidays": [], "makeup": [], "source": 1}, "source"),
        (2027, {"holidays": [], "makeup": [], "year": 2027}, "year"),
        (1999, {"holidays": [], "makeup": []}, "year"),
        (99999999999, {"holidays": [], "makeup": []}, "year"),
    ]:
        assert_error(api.put(f"/calendar/{year}", body, "sysadmin"), 400, field)
    assert_error(api.put("/calendar/2027", None, "sysadmin"), 400, None)
    years = [y["year"] for y in api.get("/calendar", "admin").get_json()["years"]]
    assert 2027 not in years
