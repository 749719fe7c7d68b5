"""Re-importing a ledger: dry run, rows already present refused (or updated by choice), one named
service per imported case, and imported open cases kept out of the queues until triaged."""
from __future__ import annotations

import io
from datetime import date

import pytest

from app.extensions import db
from app.models import Case, Event
from app.reports import dashboard, ledger
from app.reports.importer import COLUMNS, import_ledger
from app.services import cases as S
from app.services.errors import ServiceError
from tests.api.conftest import api  # noqa: F401  (the API client fixture)
from tests.conftest import user
from tests.factories import register, reload
from tests.reports.test_import import GOOD, confirm, confirm_token, upload, xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# An open request received in June: by its receipt date long overdue on 2026-11-23.
OLD_OPEN = ["钱七", "自然人", "当面提交", date(2026, 6, 1), "老旧小区加装电梯补贴名单", "李承办", None, None, "", "",
            "2026-台-088"]
ROWS = [*GOOD, OLD_OPEN]


def count(model=Case, *where) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))


# ---------------------------------------------------------------- idempotence and dry run

def test_importing_the_same_file_twice_creates_the_cases_once(app):
    data = xlsx(ROWS)
    with app.test_request_context():
        first = import_ledger(user("admin"), data)
        assert first.ok and first.created == 5
        second = import_ledger(user("admin"), data)
        assert second.ok and second.created == 0 and second.case_ids == []
        assert [p.action for p in second.plan] == ["refuse"] * 5
        numbers = {c.id: c.number for c in db.session.scalars(db.select(Case))}
        for p in second.plan:
            assert p.case_id in first.case_ids and "已导入为案件 " + numbers[p.case_id] in p.reason
        assert "原编号“2026-台-088”已导入为案件" in second.plan[4].reason  # identified by its original number
        assert count() == 5
        assert count(Event, Event.action == "import") == 5


def test_dry_run_creates_nothing_and_shows_the_plan(app):
    with app.test_request_context():
        result = import_ledger(user("admin"), xlsx(ROWS), dry_run=True)
        assert result.ok and result.dry_run and result.created == 0
        assert [p.action for p in result.plan] == ["create"] * 5
        assert result.as_dict()["to_create"] == 5
        assert count() == 0 and count(Event) == 0


def test_rows_repeated_in_the_file_or_numbered_like_an_existing_case_are_refused(app):
    rows = [list(r) + [""] * (len(COLUMNS) - len(r)) for r in GOOD[:2]]
    rows[0][10] = "A-1"
    rows.append(list(rows[0]))  # the same original number twice
    with app.test_request_context():
        registered = register()
        rows[1][10] = registered.number  # a number this system gave a case
        result = import_ledger(user("admin"), xlsx(rows))
        assert [(p.row, p.action) for p in result.plan] == [(2, "create"), (3, "refuse"), (4, "refuse")]
        assert result.plan[1].reason == f"原编号“{registered.number}”已是本机关案件 {registered.number} 的编号"
        assert result.plan[2].reason.startswith("与第2行是同一件申请")
        assert count(Case, Case.imported.is_(True)) == 1


def test_update_by_choice_changes_untouched_history_only(app):
    rows = [list(r) + [""] * (len(COLUMNS) - len(r)) for r in ROWS]
    for i, r in enumerate(rows[:4]):
        r[10] = f"A-{i + 1}"
    with app.test_request_context():
        first = import_ledger(user("admin"), xlsx(rows))
        changed = [list(r) for r in rows]
        changed[0][4] = "2023年城市更新规划（修订）"
        changed[4][4] = "老旧小区加装电梯补贴名单及标准"
        refused = import_ledger(user("admin"), xlsx(changed))
        assert [p.action for p in refused.plan] == ["refuse"] * 5
        # The open one is triaged (somebody worked on it): the ledger no longer overwrites it.
        old = db.session.scalar(db.select(Case).where(Case.original_number == "2026-台-088"))
        S.triage_imported(user("head"), old.id, {"decision": "queue"})
        result = import_ledger(user("admin"), xlsx(changed), on_existing="update")
        assert [p.action for p in result.plan] == ["update", "unchanged", "unchanged", "unchanged", "refuse"]
        assert "导入后已有办理记录" in result.plan[4].reason
        assert count() == 5
        a = reload(first.case_ids[0])
        assert a.description == "2023年城市更新规划（修订）"
        ev = db.session.scalar(db.select(Event).where(Event.action == "import_update"))
        assert ev.case_id == a.id and ev.data["changed"]["description"] == ["2023年城市更新规划", "2023年城市更新规划（修订）"]
        assert reload(old.id).description == "老旧小区加装电梯补贴名单"


def test_every_imported_case_goes_through_the_named_service(app, monkeypatch):
    calls = []
    real = S.register_imported_cases

    def spy(actor, rows, today, **kw):
        calls.extend(row["row"] for row in rows)
        return real(actor, rows, today, **kw)
    monkeypatch.setattr("app.reports.importer.register_imported_cases", spy)
    with app.test_request_context():
        import_ledger(user("admin"), xlsx(ROWS))
        assert sorted(calls) == [2, 3, 4, 5, 6]
        # Numbers come from the same allocation as intake: a registration afterwards continues the sequence.
        assert register().number == "DEMO-2026-0003"


def test_web_second_upload_previews_every_row_as_refused(app, client, auth):
    auth.login("admin")
    html = upload(client, xlsx(ROWS)).get_data(as_text=True)
    assert "已导入 5 件历史申请" in confirm(app, client, html)
    resp = upload(client, xlsx(ROWS))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert '<strong id="to-create">0</strong>' in html and '<strong id="to-refuse">5</strong>' in html
    assert html.count('data-action="refuse"') == 5 and "没有需要导入的行" in html and "confirm-form" not in html
    # A confirmation replayed after the import has gone through finds its preview gone.
    with app.app_context():
        assert count() == 5


def test_confirming_an_unknown_preview_is_refused(client, auth):
    auth.login("admin")
    resp = client.post("/import/confirm", data={"token": "0" * 64})
    assert resp.status_code == 400 and "预览已失效" in resp.get_data(as_text=True)


def test_api_dry_run_and_reimport(api, app):
    data = xlsx(ROWS)
    dry = api.request("POST", "/import", "admin", raw=data, headers={"Content-Type": XLSX}, query={"dry_run": "true"})
    assert dry.status_code == 200 and dry.get_json()["to_create"] == 5 and dry.get_json()["created"] == 0
    with app.app_context():
        assert count() == 0
    first = api.request("POST", "/import", "admin", raw=data, headers={"Content-Type": XLSX})
    assert first.status_code == 202 and first.get_json()["kind"] == "ledger_import"
    from app.services import jobs as background
    with app.app_context():
        assert count() == 0 and background.run_pending() == 1  # the worker's part
    assert api.get(first.get_json()["url"].removeprefix("/api/v1"), "admin").get_json()["result"]["created"] == 5
    again = api.request("POST", "/import", "admin", raw=data, headers={"Content-Type": XLSX})
    body = again.get_json()
    assert again.status_code == 200 and body["created"] == 0 and body["refused"] == 5
    assert all(p["action"] == "refuse" and "已导入为案件" in p["reason"] for p in body["plan"])
    bad = api.request("POST", "/import", "admin", raw=data, headers={"Content-Type": XLSX},
                      query={"on_existing": "overwrite"})
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "on_existing"


# ---------------------------------------------------------------- triage

def _imported_old_case() -> Case:
    import_ledger(user("admin"), xlsx(ROWS))
    return db.session.scalar(db.select(Case).where(Case.original_number == "2026-台-088"))


def test_untriaged_imported_cases_stay_out_of_queues_and_clock_counts(app):
    with app.test_request_context():
        old = _imported_old_case()
        assert old.needs_triage and old.state == "handling" and old.reply_due < date(2026, 11, 23)
        today = date(2026, 11, 23)
        for who in ("handler", "head"):
            assert old.id not in [c.id for c, _ in S.work_queue(user(who))]
        assert S.work_queue_count(user("head")) == 0
        stats = dashboard.stats(old.agency_id, today)
        assert stats["overdue_total"] == 0 and all(r["overdue"] == 0 for r in stats["load"])
        f = ledger.parse_filters(old.agency_id, {"clock": "overdue"})
        assert ledger.count(f) == 0
        f = ledger.parse_filters(old.agency_id, {"clock": "triage"})
        assert ledger.count(f) == 2  # the June request and the one of 2 November
        assert S.triage_queue(user("clerk"))[1] == 2
        with pytest.raises(ServiceError, match="尚未分拣"):
            S.perform(old.id, user("handler"), "start")

        S.triage_imported(user("clerk"), old.id, {"decision": "queue", "handler_id": str(user("handler2").id)})
        old = reload(old.id)
        assert not old.needs_triage and old.handler_id == user("handler2").id
        assert old.id in [c.id for c, _ in S.work_queue(user("head"))]
        assert old.id in [c.id for c, _ in S.work_queue(user("handler2"))]
        stats = dashboard.stats(old.agency_id, today)
        assert stats["overdue_total"] == 1
        ev = db.session.scalar(db.select(Event).where(Event.action == "triage"))
        assert (ev.case_id, ev.actor_id, ev.data["decision"]) == (old.id, user("clerk").id, "queue")
        with pytest.raises(ServiceError, match="不在待分拣清单"):
            S.triage_imported(user("clerk"), old.id, {"decision": "queue"})


def test_triage_can_close_with_the_real_outcome_and_refuses_bad_input_unchanged(app):
    with app.test_request_context():
        old = _imported_old_case()
        with pytest.raises(ServiceError) as e:
            S.triage_imported(user("head"), old.id, {"decision": "close", "outcome": "disclose",
                                                     "closed_on": "2026-05-01"})
        assert e.value.field == "closed_on"
        db.session.rollback()
        assert reload(old.id).needs_triage
        with pytest.raises(ServiceError):
            S.triage_imported(user("handler"), old.id, {"decision": "queue"})
        S.triage_imported(user("head"), old.id, {"decision": "close", "outcome": "disclose", "closed_on": "2026-06-20"})
        old = reload(old.id)
        assert (old.state, old.outcome_code, old.closed_on, old.needs_triage) == ("delivered", "disclose",
                                                                                  date(2026, 6, 20), False)


def test_triage_page_and_form(app, client, auth):
    with app.test_request_context():
        old_id = _imported_old_case().id
    auth.login("clerk")
    html = client.get("/import/triage").get_data(as_text=True)
    assert f'data-case="{old_id}"' in html and '<strong id="triage-total">2</strong>' in html
    resp = client.post(f"/cases/{old_id}/triage", data={"decision": "close", "outcome": "disclose",
                                                        "closed_on": "2027-01-01", "note": "原台账漏记"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "办结日期不能晚于今天" in html and 'value="原台账漏记"' in html
    resp = client.post(f"/cases/{old_id}/triage", data={"decision": "queue"})
    assert resp.status_code == 302
    html = client.get("/import/triage").get_data(as_text=True)
    assert f'data-case="{old_id}"' not in html
    auth.logout()
    auth.login("handler")
    assert client.get("/import/triage").status_code == 403
    assert client.post(f"/cases/{old_id}/triage", data={"decision": "queue"}).status_code == 403


def test_api_triage(api, app):
    with app.test_request_context():
        old_id = _imported_old_case().id
    listed = api.get("/cases", "clerk", query={"triage": "true"}).get_json()
    assert listed["total"] == 2 and old_id in [c["id"] for c in listed["items"]]
    assert all(c["needs_triage"] and c["imported"] for c in listed["items"])
    r = api.post(f"/cases/{old_id}/triage", {"decision": "queue"}, "head")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json()["needs_triage"] is False and r.get_json()["original_number"] == "2026-台-088"
    assert api.get("/cases", "clerk", query={"triage": "true"}).get_json()["total"] == 1
    assert api.post(f"/cases/{old_id}/triage", {"decision": "queue"}, "handler").status_code == 403
    assert api.post(f"/cases/{old_id}/triage", {"decision": "queue", "x": 1}, "head").status_code == 400


def test_queue_page_and_dashboard_point_to_the_triage_list(app, client, auth):
    with app.test_request_context():
        old_id = _imported_old_case().id
    auth.login("head")
    html = client.get("/").get_data(as_text=True)
    assert 'id="triage-notice"' in html and f'data-case-id="{old_id}"' not in html
    html = client.get("/dashboard").get_data(as_text=True)
    assert '<div class="n" id="triage-total">2</div>' in html and '<div class="n" id="overdue-total">0</div>' in html
    page = client.get(f"/cases/{old_id}").get_data(as_text=True)
    assert 'id="needs-triage"' in page and 'id="action-extend"' not in page
