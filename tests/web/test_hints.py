"""Intake hints: computed once at intake and stored with the case, asked for on demand by POST
(long descriptions fit), found through indexed applicant keys over a bounded candidate set."""
from __future__ import annotations

import json
import re

from sqlalchemy import event, update

from app.extensions import db
from app.models import Case
from app.services import cases as S
from tests.api.conftest import api  # noqa: F401  (the API client fixture)
from tests.conftest import INTAKE, user
from tests.factories import register, reload

LONG = ("关于示范区2025年度旧城改造项目征收补偿安置方案、补偿标准测算依据、评估机构选定过程及相关会议纪要的信息，"
        * 60)[:3000]


def test_long_description_by_post_on_the_intake_page(web):
    first = web.run(lambda: register(description=LONG, doc_number="").id)
    web.as_user("clerk")
    r = web.client.post("/cases/intake-hints", data={"applicant_name": "张三", "id_number": "",
                                                     "description": LONG[:2990] + "（补充）", "doc_number": ""})
    assert r.status_code == 200, r.get_data(as_text=True)
    hints = r.get_json()
    assert [h["id"] for h in hints["possible_repeats"]] == [first]
    assert hints["possible_repeats"][0]["similarity"] >= 0.9


def test_long_description_by_post_in_the_api(api):
    first = api.register(description=LONG, doc_number="")["id"]
    r = api.post("/intake-hints", {"applicant_name": "张三", "description": LONG}, "clerk")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert [h["id"] for h in r.get_json()["possible_repeats"]] == [first]
    assert api.post("/intake-hints", {"applicant_name": "张三", "nope": 1}, "clerk").status_code == 400
    assert api.post("/intake-hints", {"applicant_name": "张三"}, "legal").status_code == 403


def test_hints_are_stored_at_intake(app, ctx):
    first = register()
    second = register(description="2025年示范区旧城改造项目征收补偿方案")
    assert first.hints["month_count"] == 0 and first.hints["possible_repeats"] == []
    stored = reload(second.id).hints
    assert stored["month_count"] == 1 and [h["id"] for h in stored["possible_repeats"]] == [first.id]
    assert stored["computed_at"]


def test_the_same_applicant_is_found_however_the_name_or_phone_is_typed(app, ctx):
    first = register(applicant_name="张 三", id_number="110105194912310011", contact_phone="+86 138 0000 0000")
    by_name = S.intake_hints(user("clerk"), "张三", "", INTAKE["description"], "")
    by_phone = S.intake_hints(user("clerk"), "别名", "", INTAKE["description"], "", phone="138-0000-0000")
    assert [h["id"] for h in by_name["possible_repeats"]] == [first.id]
    assert [h["id"] for h in by_phone["possible_repeats"]] == [first.id]


def test_viewing_a_case_reads_the_stored_hints_and_computes_nothing(web):
    first = web.run(lambda: register().id)
    second = web.run(lambda: register(description="2025年示范区旧城改造项目征收补偿方案").id)
    # Mark the stored hints: the page must show exactly what is stored.
    marked = {"month_count": 77, "month_cases": [], "possible_repeats": [], "computed_at": "2026-11-23T08:00:00"}
    web.run(lambda: (db.session.execute(update(Case).where(Case.id == second)
                                        .values(hints_json=json.dumps(marked))), db.session.commit()))
    web.as_user("handler")
    statements: list[str] = []

    def seen(conn, cursor, statement, *a):
        statements.append(statement)
    with web.app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        page = web.get(f"/cases/{second}")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert page.status == 200
    assert page.by_id("month-count").text == "77" and page.by_id("possible-repeats") is None
    # No look-up of the applicant's other requests on a page view.
    lookups = [s for s in statements if re.search(r"(applicant_key|id_number|phone_key)\s*(=|IN)", s)]
    assert statements and lookups == []
    assert first


def test_hints_can_be_recomputed_on_demand_without_touching_the_case_version(web):
    first = web.run(lambda: register().id)
    web.run(lambda: register(description="2025年示范区旧城改造项目征收补偿方案"))
    version = web.run(lambda: reload(first).version)
    web.as_user("legal")
    assert web.client.post(f"/cases/{first}/hints").status_code == 403
    web.as_user("handler")
    r = web.client.post(f"/cases/{first}/hints")
    assert r.status_code == 302 and r.location.endswith(f"/cases/{first}#hints")
    c = web.run(lambda: reload(first))
    assert c.hints["month_count"] == 1 and c.version == version


def test_imported_history_shows_that_hints_were_not_computed(web):
    from tests.reports.test_import import GOOD, xlsx
    from app.reports.importer import import_ledger
    with web.app.test_request_context():
        case_id = import_ledger(user("admin"), xlsx(GOOD[:1])).case_ids[0]
    web.as_user("head")
    page = web.get(f"/cases/{case_id}")
    assert page.by_id("hints-missing") is not None
