"""Errors under /api/v1 are JSON whatever goes wrong: unknown paths, wrong methods, bad ids, unknown
actions, and unexpected exceptions (500, logged)."""
import logging

from sqlalchemy import text

from app.extensions import db
from tests.api.support import assert_error, in_app


def test_unknown_paths_are_json_404_without_and_with_a_token(api):
    for path in ("/", "/nothing", "/cases/1/unknown", "/cases/abc", "/cases/-1", "/cases/1.5",
                 "/calendar/abc", "/cases/1/actions"):
        assert_error(api.get(path), 404, None)
        assert_error(api.get(path, "clerk"), 404, None)
    r = api.client.get("/api/v1")  # the prefix itself redirects to the JSON 404 at /api/v1/
    assert r.status_code in (301, 308)


def test_wrong_methods_are_json_405_with_allow(api):
    for method, path, allowed in [("DELETE", "/cases", {"GET", "POST"}), ("PUT", "/cases/1", {"GET"}),
                                  ("GET", "/cases/1/actions/start", {"POST"}), ("POST", "/calendar", {"GET"}),
                                  ("PATCH", "/tokens", {"POST", "DELETE"})]:
        r = api.request(method, path, "clerk")
        assert_error(r, 405, None)
        assert allowed <= set(m.strip() for m in r.headers["Allow"].split(",")), (path, r.headers["Allow"])


def test_case_ids_that_cannot_exist_are_404(api):
    for cid in ("0", "999999", str(2 ** 31), "9" * 30):
        assert_error(api.get(f"/cases/{cid}", "head"), 404, None)
        assert_error(api.get(f"/cases/{cid}/events", "head"), 404, None)
        assert_error(api.post(f"/cases/{cid}/actions/start", {}, "handler"), 404, None)


def test_unknown_action_is_404_naming_the_action(api):
    cid = api.register()["id"]
    for name in ("publish", "START", "perform", "__init__"):
        e = assert_error(api.post(f"/cases/{cid}/actions/{name}", {}, "handler"), 404, "action")
        assert name in e["message"]


def test_unexpected_exception_is_a_logged_json_500(api, caplog):
    cid = api.register()["id"]
    # A row no service would write: the serialiser fails on the unknown state.
    in_app(api.app, lambda: db.session.execute(text('UPDATE "case" SET state = :s WHERE id = :i'),
                                               {"s": "bogus", "i": cid}))
    with caplog.at_level(logging.ERROR):
        r = api.get(f"/cases/{cid}", "head")
    assert r.status_code == 500 and r.mimetype == "application/json"
    assert r.get_json() == {"error": {"message": "服务器内部错误，请稍后重试；如持续出现请联系管理员", "field": None}}
    assert any("API error on GET" in rec.getMessage() for rec in caplog.records)
    # The API keeps serving afterwards.
    assert api.get("/calendar", "head").status_code == 200


def test_database_refusals_are_400_and_logged(app, caplog):
    # Wiring plus behaviour of the safety net for values only PostgreSQL refuses (e.g. too long).
    from sqlalchemy.exc import DataError

    from app.api import core
    assert app.error_handler_spec["api"][None][DataError] is core._data_error
    with app.test_request_context("/api/v1/cases", method="POST"), caplog.at_level(logging.ERROR):
        resp = core._data_error(DataError("UPDATE case", {}, Exception("value too long")))
    assert resp.status_code == 400 and resp.mimetype == "application/json"
    assert resp.get_json()["error"]["field"] is None
    assert any("refused by the database" in rec.getMessage() for rec in caplog.records)


def test_long_clock_spans_stay_storable(api):
    """Dates at both ends of the accepted window still fit Case.calendar_version (String(100))."""
    cid = api.register(arrived_on="2021-01-04")["id"]
    c = api.act(cid, "request_reasons", "handler", matter="请说明", sent_on="2021-01-05", due_on="2029-12-31")
    assert c["clock"]["status"] == "paused" and len(c["clock"]["calendar_version"]) <= 100
    c = api.act(cid, "reasons_reply", "handler", result="reasonable", answered_on="2026-11-23", new_due="2029-12-31")
    assert c["clock"]["due"] == "2029-12-31" and c["clock"]["provisional"]
    assert len(c["clock"]["calendar_version"]) <= 100


def test_werkzeug_http_errors_inside_views_are_json(api):
    # A deployment limit on body size makes Werkzeug raise 413 while the view reads the body.
    api.app.config["MAX_CONTENT_LENGTH"] = 64
    try:
        r = api.post("/cases", {"description": "x" * 200}, "clerk")
    finally:
        api.app.config["MAX_CONTENT_LENGTH"] = None
    assert_error(r, 413, None)
