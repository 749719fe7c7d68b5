"""Wrong JSON into every action, with the case in a stage where the action is allowed so the services'
parsing really runs: always a 4xx JSON error (or a legitimate 200), never a 500, never HTML."""
from __future__ import annotations

from app.api.specs import ACTION_PARAMS, INT_MAX, INTAKE_PARAMS, VERSION_PARAM
from app.domain.workflow import ACTIONS
from tests.api.support import assert_error, user_id
from tests.conftest import INTAKE

DRAFT = {"outcome": "disclose", "decision": "予以公开", "obtain": "邮寄复印件"}

# The smallest body each action accepts (in the stage its builder leaves the case in).
VALID = {
    "assign": lambda ctx: {"handler_id": ctx["handler_id"]},
    "request_correction": lambda ctx: {"notice_date": "2026-11-04", "items": "请明确年份"},
    "consult": lambda ctx: {"kind": "third_party", "party": "某公司", "matter": "涉及商业秘密"},
    "consultation_reply": lambda ctx: {"step_id": ctx["step_id"], "result": "agree"},
    "request_reasons": lambda ctx: {"matter": "请说明理由"},
    "reasons_reply": lambda ctx: {"result": "reasonable"},
    "fee_notice": lambda ctx: {"method": "per_request", "nth_in_month": 12},
    "fee_paid": lambda ctx: {"receipt_no": "FP-1"},
    "cohandle": lambda ctx: {"party": "征收办", "matter": "提供材料"},
    "transfer": lambda ctx: {"agency_id": ctx["receiving_agency_id"], "reason": "由其他机关负责答复"},
    "cohandle_reply": lambda ctx: {"step_id": ctx["step_id"], "note": "已提供"},
    "extend": lambda ctx: {"days": 5, "reason": "情况复杂"},
    "request_extension": lambda ctx: {"days": 5, "reason": "情况复杂"},
    "decline_extension": lambda ctx: {"comments": "请按期答复"},
    "save_draft": lambda ctx: dict(DRAFT),
    "approve": lambda ctx: {"secrecy_reviewed": True},
    "return_draft": lambda ctx: {"comments": "请修改"},
    "reject_signoff": lambda ctx: {"comments": "请修改"},
    "deliver": lambda ctx: {"method": "post", "proof": "EMS1"},
    "withdraw": lambda ctx: {"note": "书面撤回"},
    "archive": lambda ctx: {"archive_number": "A-1", "retention": "10y"},
    "reopen": lambda ctx: {"reason": "补充材料"},
}

# Where each action can be taken from.
STAGE = {
    "assign": "registered", "transfer": "registered", "start": "registered", "request_correction": "registered",
    "receive_correction": "correction", "correction_lapsed": "correction", "consult": "registered",
    "consultation_reply": "consulting", "request_reasons": "registered", "reasons_reply": "reasons",
    "fee_notice": "handling", "fee_paid": "fee", "fee_lapsed": "fee", "cohandle": "registered",
    "cohandle_reply": "cohandling", "extend": "registered", "request_extension": "registered",
    "decline_extension": "extension_requested", "save_draft": "registered",
    "submit_draft": "drafted", "approve": "review", "return_draft": "review", "sign_off": "signoff",
    "reject_signoff": "signoff", "issue": "signed", "deliver": "replied", "withdraw": "registered",
    "archive": "delivered", "reopen": "archived",
}
CHAIN = ["registered", "drafted", "review", "signoff", "signed", "replied", "delivered", "archived"]


def receiving_agency(app) -> int:
    """Another agency on the platform that can receive a transferred request (分办)."""
    from app.extensions import db
    from app.models import Agency
    from tests.factories import other_agency
    with app.app_context():
        try:
            found = db.session.scalar(db.select(Agency.id).where(Agency.code == "RECV"))
            return found if found is not None else other_agency("RECV")[0].id
        finally:
            db.session.remove()


def build(api, stage: str) -> dict:
    """A fresh case in the stage; ctx holds the ids the valid bodies need."""
    cid = api.register()["id"]
    ctx = {"case_id": cid, "step_id": None}
    if stage == "registered":
        ctx["receiving_agency_id"] = receiving_agency(api.app)
    act = lambda action, who, **b: api.act(cid, action, who, **b)  # noqa: E731
    if stage == "correction":
        act("request_correction", "handler", notice_date="2026-11-04", items="请明确", period_end="2026-11-10")
    elif stage == "consulting":
        ctx["step_id"] = act("consult", "handler", kind="third_party", party="某公司", matter="征求")["steps"][-1]["id"]
    elif stage == "reasons":
        act("request_reasons", "handler", matter="请说明")
    elif stage == "handling":
        act("start", "handler")
    elif stage == "fee":
        act("start", "handler")
        ref = f"step-{act('fee_notice', 'handler', method='per_request', nth_in_month=12)['steps'][-1]['id']}"
        assert api.post(f"/cases/{cid}/notices/{ref}/approve", as_="legal").status_code == 200
        assert api.post(f"/cases/{cid}/notices/{ref}/issue", as_="handler").status_code == 201
    elif stage == "extension_requested":
        act("request_extension", "handler", days=5, reason="检索量大")
    elif stage == "cohandling":
        ctx["step_id"] = act("cohandle", "handler", party="征收办", matter="协办")["steps"][-1]["id"]
    elif stage in CHAIN:
        steps = [("save_draft", "handler", DRAFT), ("submit_draft", "handler", {}),
                 ("approve", "legal", {"secrecy_reviewed": True}), ("sign_off", "head", {}),
                 ("issue", "handler", {}), ("deliver", "handler", {"method": "post", "proof": "EMS1"}),
                 ("archive", "archivist", {"archive_number": "A-0", "retention": "10y"})]
        for action, who, body in steps[:CHAIN.index(stage)]:
            act(action, who, **body)
    return ctx


def actor(action: str) -> str:
    for name in ("handler", "clerk", "legal", "head", "archivist", "admin"):
        if name in ACTIONS[action].roles:
            return name
    raise AssertionError(action)


WRONG_TYPES = {
    "text": [123, True, 1.5, [], ["a"], {"a": "b"}, None, "a\x00b"],
    "date": [20261123, True, 1.5, [], ["2026-11-23"], {"y": 2026}, None],
    "choice": [1, False, [], ["post"], {"v": "post"}, None],
    "integer": ["1", "abc", True, 1.0, 1.5, [], [1], {"id": 1}, None, 10 ** 20, -(10 ** 20), 0],
    "boolean": ["true", "yes", 1, 0, [], {"v": True}, None],
    "items": [123, True, 1.5, {"part": "x"}, ["a"], [{"part": 1}], [{"no_such_key": "x"}], None, "a\x00b"],
}
ODD_VALUES = {
    "text": ["", "   ", "x" * 20001, "'; DROP TABLE \"case\"; --", "%_\\", "😀" * 50, "\u202e右到左"],
    "date": ["", "2026-02-30", "0001-01-01", "9999-12-31", "2026-11-23T08:00:00", "20261123",
             "2026-W48-1", "2100-12-31", "2000-01-01", "明天"],
    "choice": ["", " ", "nope", "NATURAL", "post "],
    "integer": [1, 2, INT_MAX, 999999],
    "boolean": [True, False],
    "items": ["", "只写部分", "甲｜乙｜丙\n\n丁", [], [{}], [{"part": "甲"}], [{"part": "甲", "reason": "乙", "basis": "丙"}]],
}


def test_wrong_json_types_to_every_action_are_400_naming_the_field(api):
    assert set(STAGE) == set(ACTIONS), "every action needs a stage to fuzz it in"
    ctx_cache: dict[str, dict] = {}
    checked = 0
    for action, params in ACTION_PARAMS.items():
        ctx = ctx_cache.setdefault(STAGE[action], build(api, STAGE[action]))
        path = f"/cases/{ctx['case_id']}/actions/{action}"
        who = actor(action)
        for p in (*params, VERSION_PARAM):
            for value in WRONG_TYPES[p.kind]:
                r = api.post(path, {p.name: value}, who)
                assert_error(r, 400, p.name)
                checked += 1
        # A lone surrogate cannot be stored: refused for every text field.
        for p in params:
            if p.kind == "text":
                raw = ('{"%s": "\\ud83d"}' % p.name).encode()
                assert_error(api.post(path, raw=raw, as_=who), 400, p.name)
        assert_error(api.post(path, {"no_such_field": "x"}, who), 400, "no_such_field")
        for raw in (b"[]", b"{", b'"x"', b"1", b"null", b'{"a": NaN}'):
            assert_error(api.post(path, raw=raw, as_=who), 400, None)
    assert checked > 300


def test_odd_but_well_typed_values_never_cause_a_500(api):
    handler_id = user_id(api.app, "handler")
    outcomes = {200: 0, 400: 0, 409: 0}
    for action, params in ACTION_PARAMS.items():
        if not params:
            continue
        ctx = build(api, STAGE[action])
        ctx["handler_id"] = handler_id
        who = actor(action)
        for p in params:
            for value in ODD_VALUES[p.kind]:
                body = {**VALID.get(action, lambda c: {})(ctx), p.name: value}
                r = api.post(f"/cases/{ctx['case_id']}/actions/{action}", body, who)
                assert r.status_code in outcomes, (action, p.name, value, r.status_code, r.get_data(as_text=True))
                outcomes[r.status_code] += 1
                if r.status_code != 200:
                    assert_error(r, r.status_code)
                else:
                    assert r.get_json()["id"] == ctx["case_id"]
                    ctx.update(build(api, STAGE[action]))  # the step was taken: start again in the stage
    assert outcomes[400] > 100 and outcomes[200] > 10


def test_register_fuzz(api):
    """Every intake field: wrong JSON types name the field; odd values are 201 or a 4xx, never a 500."""
    handler_id = user_id(api.app, "handler")
    created = 0
    for p in INTAKE_PARAMS:
        for value in WRONG_TYPES[p.kind]:
            assert_error(api.post("/cases", {**INTAKE, p.name: value}, "clerk"), 400, p.name)
        for value in ODD_VALUES[p.kind] + ([handler_id] if p.name == "handler_id" else []):
            r = api.post("/cases", {**INTAKE, p.name: value}, "clerk")
            assert r.status_code in (201, 400), (p.name, value, r.status_code, r.get_data(as_text=True))
            if r.status_code == 400:
                assert_error(r, 400)
            else:
                created += 1
    total = api.get("/cases", "clerk").get_json()["total"]
    assert total == created and created > 10
