"""Every endpoint and every workflow action refuses a user without the right role with 403 JSON."""
from app.api.core import ENDPOINTS, PUBLIC
from app.domain.workflow import ACTIONS
from tests.api.support import assert_error, user_without_roles
from tests.conftest import INTAKE

DEMO = ("clerk", "handler", "handler2", "legal", "head", "archivist", "admin", "sysadmin")
DEMO_ROLES = {"clerk": {"clerk"}, "handler": {"handler"}, "handler2": {"handler"}, "legal": {"legal"},
              "head": {"head"}, "archivist": {"archivist"}, "admin": {"admin"}, "sysadmin": {"sysadmin"}}
BODIES = {"api.register_case": INTAKE, "api.put_calendar": {"holidays": [], "makeup": []},
          "api.create_calendar_change_request": {"year": 2027, "dates": "2027-10-08"},
          "api.decide_calendar_change_request": {"status": "done"},
          "api.patch_agency_settings": {"separation_relaxed": True}}


def _path(rule: str, case_id: int) -> str:
    import re
    path = rule.replace("<int:case_id>", str(case_id)).replace("<int:year>", "2027")
    path = path.replace("<ref>", "receipt")
    return re.sub(r"<int:\w+>", "1", path)  # letter ids: the role check comes first


def _wrong_users(roles: frozenset[str]) -> list[str]:
    wrong = [u for u in DEMO if not DEMO_ROLES[u] & roles]
    return wrong or ["noroles"]  # every demo user qualifies: only a user without roles is refused


def test_every_role_restricted_endpoint_refuses_other_roles(api):
    user_without_roles(api.app)
    case_id = api.register()["id"]
    checked = 0
    for ep in ENDPOINTS:
        if ep.roles is PUBLIC or not ep.roles or ep.per_action:
            continue
        for username in _wrong_users(ep.roles):
            r = api.request(ep.method, _path(ep.rule, case_id), username, BODIES.get(ep.endpoint))
            e = assert_error(r, 403, None)
            assert "只有" in e["message"], (ep.endpoint, e)
            checked += 1
    assert checked >= 10


def test_every_action_refuses_other_roles(api):
    case_id = api.register()["id"]
    before = api.get(f"/cases/{case_id}", "head").get_json()["version"]
    for action, a in ACTIONS.items():
        for username in _wrong_users(a.roles):
            r = api.post(f"/cases/{case_id}/actions/{action}", {}, username)
            e = assert_error(r, 403, None)
            assert a.label in e["message"], (action, username, e)
    # Refused before the case was looked at: also for a case that does not exist.
    assert_error(api.post("/cases/999999/actions/approve", {}, "clerk"), 403, None)
    assert api.get(f"/cases/{case_id}", "head").get_json()["version"] == before


def test_right_role_passes_the_role_check(api):
    # The same requests with a right-role user are not refused for the role.
    case_id = api.register()["id"]
    assert api.get("/intake-hints", "handler", query={"applicant_name": "张三"}).status_code == 200
    assert api.put("/calendar/2027", {"holidays": [], "makeup": []}, "sysadmin").status_code == 200
    assert api.get(f"/cases/{case_id}/events", "archivist").status_code == 200
    assert api.get("/security-log", "admin").status_code == 200
    assert api.post(f"/cases/{case_id}/actions/start", None, "handler").status_code == 200
