"""Cases walked through the API: every workflow action at least once, responses checked against the
OpenAPI schemas, optimistic locking, and agencies kept apart."""
from app.domain.workflow import ACTIONS
from app.extensions import db
from app.models import Agency
from tests.api.support import assert_error, in_app, response_schema, second_agency, user_id, validate
from tests.conftest import set_today

CASE = "/cases/{case_id}"
ACTION = "/cases/{case_id}/actions/{name}"


class Walk:
    """Takes actions through the API and checks each response against the documented Case schema."""

    def __init__(self, api, doc) -> None:
        self.api, self.doc, self.done = api, doc, []

    def __call__(self, case_id: int, action: str, as_: str, **body) -> dict:
        case = self.api.act(case_id, action, as_, **body)
        validate(self.doc, response_schema(self.doc, ACTION.format(case_id="{case_id}", name=action), "post", 200),
                 case)
        self.done.append(action)
        return case


def test_every_action_through_the_api(api, openapi_doc):
    act = Walk(api, openapi_doc)
    handler_id = user_id(api.app, "handler")

    # 1. A disclosed reply with every sub-procedure on the way, returned once by legal and once by the head.
    c = api.register()
    validate(openapi_doc, response_schema(openapi_doc, "/cases", "post", 201), c)
    cid = c["id"]
    assert act(cid, "assign", "clerk", handler_id=handler_id)["handler"]["id"] == handler_id
    assert act(cid, "start", "handler")["state"] == "handling"
    c = act(cid, "consult", "handler", kind="agency", party="示范市住房和城乡建设局", matter="方案由两局联合制定",
            sent_on="2026-11-03")
    step = c["steps"][-1]
    assert step["kind"] == "consultation_agency" and step["open"] and c["clock"]["status"] == "paused"
    c = act(cid, "consultation_reply", "handler", step_id=step["id"], result="agree", answered_on="2026-11-05")
    assert c["clock"]["status"] != "paused" and c["clock"]["due"] == "2026-12-03"
    c = act(cid, "cohandle", "handler", party="征收办", matter="提供补偿方案附件", sent_on="2026-11-06")
    c = act(cid, "cohandle_reply", "handler", step_id=c["steps"][-1]["id"], note="已提供", answered_on="2026-11-09")
    c = act(cid, "request_extension", "handler", days=15, reason="涉及多个部门")
    c = act(cid, "decline_extension", "head", comments="请先说明需要哪些部门配合")
    c = act(cid, "request_extension", "handler", days=10, reason="涉及多个部门，需要延长")
    c = act(cid, "extend", "head", days=10, reason="涉及多个部门，需要延长")
    assert c["extension_days"] == 10 and c["clock"]["total_working_days"] == 30
    c = act(cid, "request_reasons", "handler", matter="申请数量较大，请说明理由", sent_on="2026-11-23")
    assert "等待申请人说明理由（第三十五条）" in c["clock"]["paused_reasons"]
    c = act(cid, "reasons_reply", "handler", result="reasonable", note="用于研究", answered_on="2026-11-23")
    c = act(cid, "fee_notice", "handler", method="per_volume", pages=200)
    fee = c["steps"][-1]
    assert fee["kind"] == "fee" and fee["details"]["amount"] == 2700
    _issue_fee(api, cid, fee["id"])
    act.done.extend(["approve_notice", "issue_notice"])
    c = act(cid, "fee_paid", "handler", receipt_no="FP-0001")
    c = act(cid, "save_draft", "handler", outcome="disclose", decision="予以公开", obtain="邮寄复印件")
    assert c["current_draft"]["revision"] == 1 and not c["current_draft"]["approved"]
    assert act(cid, "submit_draft", "handler")["state"] == "review"
    c = act(cid, "return_draft", "legal", comments="请补充获取方式的时间")
    assert c["state"] == "handling"
    c = act(cid, "save_draft", "handler", outcome="disclose", decision="予以公开", obtain="自收到本答复之日起邮寄复印件")
    assert c["current_draft"]["revision"] == 2 and len(c["drafts"]) == 2
    act(cid, "submit_draft", "handler")
    c = act(cid, "approve", "legal", secrecy_reviewed=True, secrecy_note="不涉密",
            draft_hash=c["current_draft"]["content_hash"])
    assert c["state"] == "signoff" and c["current_draft"]["approved"]
    c = act(cid, "reject_signoff", "head", comments="请再核对附件")
    assert c["state"] == "handling"
    act(cid, "submit_draft", "handler")
    act(cid, "approve", "legal", secrecy_reviewed=True)
    c = act(cid, "sign_off", "head", note="同意")
    assert c["state"] == "signed" and c["current_draft"]["signed"]
    c = act(cid, "issue", "handler")
    assert c["state"] == "replied" and c["outcome"]["code"] == "disclose" and c["outcome"]["row"] == "三(一)"
    assert c["drafts"][-1]["issued"] and c["clock"]["status"] == "stopped"
    c = act(cid, "deliver", "clerk", method="post", proof="EMS1100000000")
    assert c["state"] == "delivered" and c["deliveries"][0]["recipient"] == "张三"
    c = act(cid, "archive", "archivist", archive_number="2026-OGI-0001", retention="10y")
    assert c["state"] == "archived" and c["archive_number"] == "2026-OGI-0001"
    c = act(cid, "reopen", "admin", reason="补充送达回证")
    assert c["state"] == "delivered" and c["archive_number"] is None

    events = api.get(f"/cases/{cid}/events", "head")
    assert events.status_code == 200
    validate(openapi_doc, response_schema(openapi_doc, "/cases/{case_id}/events", "get", 200), events.get_json())
    assert [e["action"] for e in events.get_json()["items"]] == ["register", *act.done[:]]
    full = api.get(f"/cases/{cid}", "head").get_json()
    validate(openapi_doc, response_schema(openapi_doc, "/cases/{case_id}", "get", 200), full)
    assert full["events"] == events.get_json()["items"]

    # 2. Correction: notice, corrected request received (the clock restarts from that day).
    c = api.register(applicant_name="李四")
    c = act(c["id"], "request_correction", "handler", notice_date="2026-11-04", items="请明确信息的年份")
    assert c["state"] == "correction" and c["clock"]["status"] == "stopped"
    c = act(c["id"], "receive_correction", "clerk", received_on="2026-11-10")
    assert c["state"] == "handling" and c["clock"]["due"] == "2026-12-08"

    # 3. Correction period lapsed.
    c = api.register(applicant_name="王五")
    act(c["id"], "request_correction", "handler", notice_date="2026-11-04", items="请明确", period_end="2026-11-10")
    c = act(c["id"], "correction_lapsed", "handler")
    assert c["state"] == "closed" and c["outcome"]["code"] == "correction_lapsed"

    # 4. Fee not paid in time.
    c = api.register(applicant_name="赵六")
    act(c["id"], "start", "handler")
    _issue_fee(api, c["id"], act(c["id"], "fee_notice", "handler", method="per_request", nth_in_month=12)["steps"][-1]["id"])
    set_today(api.app, "2026-12-28")
    c = act(c["id"], "fee_lapsed", "handler")
    assert c["state"] == "closed" and c["outcome"]["code"] == "fee_unpaid"
    set_today(api.app, "2026-11-23")

    # 5. Withdrawn.
    c = api.register(applicant_name="孙七")
    c = act(c["id"], "withdraw", "clerk", note="申请人书面撤回")
    assert c["state"] == "closed" and c["outcome"]["code"] == "withdrawn"

    # 6. Handed to the agency that answers (分办): the sender no longer finds the case.
    second_agency(api.app, "ANS")
    ans_id = in_app(api.app, lambda: db.session.scalar(db.select(Agency.id).where(Agency.code == "ANS")))
    c = api.register(applicant_name="周八")
    act(c["id"], "transfer", "clerk", agency_id=ans_id, reason="申请公开的信息由该机关制作")
    assert api.get(f"/cases/{c['id']}", "clerk").status_code == 404

    assert set(act.done) - {"approve_notice", "issue_notice"} == set(ACTIONS), set(ACTIONS) - set(act.done)


def test_actions_refused_by_the_law_are_400_and_change_nothing(api):
    cid = api.register()["id"]
    e = assert_error(api.post(f"/cases/{cid}/actions/issue", {}, "handler"), 400, None)
    assert "不能出具答复" in e["message"]
    act = api.act
    act(cid, "start", "handler")
    act(cid, "save_draft", "handler", outcome="disclose", decision="予以公开", obtain="邮寄")
    v = act(cid, "submit_draft", "handler")["version"]
    assert_error(api.post(f"/cases/{cid}/actions/approve", {}, "legal"), 400, "secrecy_reviewed")
    assert_error(api.post(f"/cases/{cid}/actions/approve", {"secrecy_reviewed": False}, "legal"), 400,
                 "secrecy_reviewed")
    assert_error(api.post(f"/cases/{cid}/actions/approve", {"secrecy_reviewed": True, "draft_hash": "0" * 64},
                          "legal"), 400, "draft_hash")
    assert_error(api.post(f"/cases/{cid}/actions/return_draft", {}, "legal"), 400, "comments")
    assert_error(api.post(f"/cases/{cid}/actions/extend", {"days": 21, "reason": "x"}, "head"), 400, "days")
    case = api.get(CASE.format(case_id=cid), "head").get_json()
    assert case["state"] == "review" and case["version"] == v and len(case["events"]) == 4


def test_stale_version_is_409_and_changes_nothing(api):
    cid = api.register()["id"]
    v = api.get(f"/cases/{cid}", "handler").get_json()["version"]
    c = api.act(cid, "start", "handler", version=v)
    assert c["version"] > v
    r = api.post(f"/cases/{cid}/actions/request_reasons", {"version": v, "matter": "请说明理由"}, "handler")
    e = assert_error(r, 409, "version")
    assert "已被他人修改" in e["message"]
    after = api.get(f"/cases/{cid}", "handler").get_json()
    assert after["version"] == c["version"] and after["steps"] == []
    # The current version goes through.
    assert api.act(cid, "request_reasons", "handler", version=c["version"], matter="请说明理由")["steps"]


def test_version_must_be_a_positive_integer(api):
    cid = api.register()["id"]
    for bad in ("1", 1.0, True, 0, -3, None, [1]):
        assert_error(api.post(f"/cases/{cid}/actions/start", {"version": bad}, "handler"), 400, "version")


def test_other_agency_cases_do_not_exist(api):
    mine = api.register()["id"]
    second_agency(api.app)
    theirs = api.register(as_="other_clerk", applicant_name="外局申请人")["id"]
    assert theirs != mine and api.get(f"/cases/{theirs}", "other_clerk").status_code == 200
    for path in (f"/cases/{mine}", f"/cases/{mine}/events"):
        e = assert_error(api.get(path, "other_handler"), 404, None)
        assert e["message"] == "案件不存在"
    assert_error(api.post(f"/cases/{mine}/actions/start", {}, "other_handler"), 404, None)
    # 404 comes before any complaint about the body.
    assert_error(api.post(f"/cases/{mine}/actions/consult", {"kind": []}, "other_handler"), 404, None)
    listed = api.get("/cases", "other_handler").get_json()
    assert [c["id"] for c in listed["items"]] == [theirs] and listed["total"] == 1
    assert [c["id"] for c in api.get("/cases", "head").get_json()["items"]] == [mine]
    # Their handler cannot be assigned here either.
    assert_error(api.post(f"/cases/{mine}/actions/assign", {"handler_id": user_id(api.app, "other_handler")},
                          "clerk"), 400, "handler_id")
    # And my case is untouched.
    assert api.get(f"/cases/{mine}", "head").get_json()["state"] == "registered"


def test_available_actions_depend_on_the_token_user(api):
    cid = api.register()["id"]
    names = lambda who: [a["name"] for a in api.get(f"/cases/{cid}", who).get_json()["available_actions"]]  # noqa: E731
    assert names("clerk") == ["assign", "transfer", "withdraw"]
    assert "start" in names("handler") and "assign" not in names("handler")
    assert names("legal") == []


def _issue_fee(api, cid: int, step_id: int) -> None:
    """The 收费通知书 takes effect when issued, after legal review."""
    ref = f"step-{step_id}"
    assert api.post(f"/cases/{cid}/notices/{ref}/approve", as_="legal").status_code == 200
    assert api.post(f"/cases/{cid}/notices/{ref}/issue", as_="handler").status_code == 201
