"""The same request twice at once through the API (a retried POST, two scripts): one succeeds,
the other is a JSON 409 with a Chinese message, never a 500; nothing is written twice."""
from __future__ import annotations

from app.extensions import db
from app.models import Draft, Letter
from tests.api.support import CHINESE, Api
from tests.factories import build_case, count_of
from tests.race import race


def _case(app, stage: str) -> int:
    with app.app_context():
        try:
            return build_case(stage).id
        finally:
            db.session.remove()


def _twice(app, api: Api, username: str, path: str, bodies: list) -> list:
    token = api.token(username)
    clients = [Api(app, app.test_client()) for _ in bodies]
    for c in clients:
        c.tokens[username] = token
    return race(app, len(bodies), lambda i: clients[i].post(path, bodies[i], as_=username))


def _one_409(responses, ok: int) -> dict:
    assert sorted(r.status_code for r in responses) == [ok, 409], [r.get_data(as_text=True)[:300] for r in responses]
    [lost] = [r for r in responses if r.status_code == 409]
    err = lost.get_json()["error"]
    assert CHINESE.search(err["message"]), err
    return err


def test_double_save_draft_is_a_409(app, api):
    case_id = _case(app, "handling")
    version = api.get(f"/cases/{case_id}", as_="handler").get_json()["version"]
    bodies = [{"outcome": "disclose", "obtain": f"邮寄（{i}）", "version": version} for i in (1, 2)]
    _one_409(_twice(app, api, "handler", f"/cases/{case_id}/actions/save_draft", bodies), 200)
    assert count_of(app, Draft, case_id) == 1


def test_double_issue_is_a_409(app, api):
    case_id = _case(app, "signed")
    version = api.get(f"/cases/{case_id}", as_="handler").get_json()["version"]
    _one_409(_twice(app, api, "handler", f"/cases/{case_id}/actions/issue",
                    [{"version": version}, {"version": version}]), 200)
    assert count_of(app, Letter, case_id) == 1


def test_double_notice_issue_is_a_409_and_a_later_one_names_the_letter(app, api):
    case_id = _case(app, "registered")
    path = f"/cases/{case_id}/notices/receipt/issue"
    _one_409(_twice(app, api, "clerk", path, [None, None]), 201)
    assert count_of(app, Letter, case_id) == 1
    [letter] = api.get(f"/cases/{case_id}/letters", as_="clerk").get_json()["items"]
    assert letter["number"] is None and letter["notice_ref"] == "receipt"
    r = api.post(path, as_="clerk")
    assert r.status_code == 409 and "已出具" in r.get_json()["error"]["message"]


def test_reissue_through_the_api(app, api):
    case_id = _case(app, "registered")
    old = api.post(f"/cases/{case_id}/notices/receipt/issue", as_="clerk").get_json()
    path = f"/cases/{case_id}/notices/receipt/reissue"
    r = api.post(path, {"letter_id": old["id"]}, as_="clerk")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "reason"
    assert api.post(path, {"reason": "更正"}, as_="legal").status_code == 403
    r = api.post(path, {"reason": "答复期限顺延，更正回执", "letter_id": old["id"]}, as_="clerk")
    assert r.status_code == 201
    new = r.get_json()
    assert (new["supersedes_id"], new["reissue_no"], new["status"]) == (old["id"], 1, "有效")
    listed = {l["id"]: l for l in api.get(f"/cases/{case_id}/letters", as_="clerk").get_json()["items"]}
    assert listed[old["id"]]["status"] == "已重新出具" and listed[old["id"]]["replaced_by_id"] == new["id"]
    notices = {n["ref"]: n for n in api.get(f"/cases/{case_id}/notices", as_="clerk").get_json()["items"]}
    assert notices["receipt"]["issued"]["id"] == new["id"]
    r = api.post(path, {"reason": "再次更正", "letter_id": old["id"]}, as_="clerk")
    assert r.status_code == 409
    events = api.get(f"/cases/{case_id}/events", as_="clerk").get_json()["items"]
    assert [e["action"] for e in events].count("reissue_notice") == 1
