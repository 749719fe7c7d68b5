"""POST /cases: a registered case, and every kind of bad input refused with 400 and the field."""
from tests.api.support import assert_error, user_id
from tests.conftest import INTAKE


def test_register_returns_201_location_and_the_case(api):
    r = api.post("/cases", INTAKE, "clerk")
    assert r.status_code == 201
    case = r.get_json()
    assert r.headers["Location"].endswith(f"/api/v1/cases/{case['id']}")
    assert case["number"] == "DEMO-2026-0001" and case["state"] == "registered"
    assert case["received_on"] == "2026-11-02" and case["clock"]["due"] == "2026-11-30"
    assert case["applicant"]["name"] == "张三" and case["request"]["doc_number"] == "示政发〔2025〕3号"
    assert [e["action"] for e in case["events"]] == ["register"]
    got = api.get(r.headers["Location"].split("/api/v1", 1)[1], "clerk")
    assert got.status_code == 200 and got.get_json()["id"] == case["id"]


def _without(*names):
    return {k: v for k, v in INTAKE.items() if k not in names}


BAD_INTAKE = [
    (_without("channel"), "channel", "请选择申请方式"),
    (_without("arrived_on"), "arrived_on", "请填写"),
    (_without("applicant_name"), "applicant_name", "请填写申请人"),
    (_without("id_number"), "id_number", "请填写证件号码"),
    (_without("description"), "description", "请填写所需政府信息"),
    (_without("contact_phone", "contact_address"), "contact_phone", "联系方式"),
    ({**INTAKE, "arrived_on": "2026-13-01"}, "arrived_on", "格式"),
    ({**INTAKE, "arrived_on": "2026-02-30"}, "arrived_on", "格式"),
    ({**INTAKE, "arrived_on": "23/11/2026"}, "arrived_on", "格式"),
    ({**INTAKE, "arrived_on": "2026-12-01"}, "arrived_on", "不能晚于今天"),
    ({**INTAKE, "arrived_on": "1899-01-01"}, "arrived_on", "2021-01-01至2029-12-31之间"),
    ({**INTAKE, "arrived_on": "2020-12-31"}, "arrived_on", "之间"),
    ({**INTAKE, "channel": "online", "confirmed_on": "2030-01-01"}, "confirmed_on", "之间"),
    ({**INTAKE, "channel": "pigeon"}, "channel", "取值无效"),
    ({**INTAKE, "channel": "online"}, "confirmed_on", "确认"),
    ({**INTAKE, "id_number": "110105194912310021"}, "id_number", None),
    ({**INTAKE, "contact_email": "not-an-email"}, "contact_email", "邮箱"),
    ({**INTAKE, "agent_name": "李四"}, "power_of_attorney", "授权委托书"),
    ({**INTAKE, "applicant_name": "张" * 201}, "applicant_name", "不能超过200字"),
    ({**INTAKE, "handler_id": 999}, "handler_id", "承办人无效"),
    # Wrong JSON types never reach the services.
    ({**INTAKE, "applicant_name": 12345}, "applicant_name", "应为文字"),
    ({**INTAKE, "description": ["征收", "补偿"]}, "description", "应为文字"),
    ({**INTAKE, "description": {"text": "x"}}, "description", "应为文字"),
    ({**INTAKE, "doc_number": None}, "doc_number", "null"),
    ({**INTAKE, "arrived_on": 20261102}, "arrived_on", "日期"),
    ({**INTAKE, "channel": ["in_person"]}, "channel", "取值之一"),
    ({**INTAKE, "handler_id": "3"}, "handler_id", "整数"),
    ({**INTAKE, "handler_id": 3.0}, "handler_id", "整数"),
    ({**INTAKE, "handler_id": True}, "handler_id", "整数"),
    ({**INTAKE, "handler_id": 10 ** 20}, "handler_id", "之间"),
    ({**INTAKE, "handler_id": 0}, "handler_id", "之间"),
    ({**INTAKE, "applicant_name": "张\x00三"}, "applicant_name", "控制字符"),
    # Fields the intake does not know are refused, not ignored.
    ({**INTAKE, "applicant_nmae": "张三"}, "applicant_nmae", "不支持的字段"),
    ({**INTAKE, "state": "closed"}, "state", "不支持的字段"),
    ({**INTAKE, "number": "DEMO-2026-9999"}, "number", "不支持的字段"),
]


def test_register_validation(api):
    # One test, many bodies: each is refused with 400, the field at fault and a Chinese message.
    for body, field, words in BAD_INTAKE:
        e = assert_error(api.post("/cases", body, "clerk"), 400, field)
        if words:
            assert words in e["message"], (body, e)
    assert api.get("/cases", "clerk").get_json()["total"] == 0


NOT_AN_OBJECT = [b"", b"   ", b"{", b"[]", b'"text"', b"42", b"null", b'{"a": NaN}', b'{"a": Infinity}',
                 b"\xff\xfe{}", b"[" * 100000 + b"]" * 100000, b'{"a": 1' + b"0" * 5000 + b"}"]


def test_register_rejects_bodies_that_are_not_a_json_object(api):
    for raw in NOT_AN_OBJECT:
        e = assert_error(api.post("/cases", raw=raw, as_="clerk"), 400, None)
        assert "JSON" in e["message"], (raw[:20], e)


def test_lone_surrogate_names_the_field(api):
    raw = ('{"applicant_name": "\\ud800", "channel": "in_person"}').encode()
    assert_error(api.post("/cases", raw=raw, as_="clerk"), 400, "applicant_name")


def test_oversized_body_is_413(api):
    raw = b'{"description": "' + b"a" * (1024 * 1024 + 10) + b'"}'
    assert_error(api.post("/cases", raw=raw, as_="clerk"), 413, None)


def test_register_with_agent_and_online_channel(api):
    case = api.register(channel="online", arrived_on="2026-11-21", confirmed_on="2026-11-23",
                        agent_name="李四", agent_id_number="11010519491231002X", power_of_attorney="授权委托书一份",
                        handler_id=user_id(api.app, "handler"))
    # Online requests count from the confirmation day (Art. 31(3)).
    assert case["received_on"] == "2026-11-23" and case["confirmed_on"] == "2026-11-23"
    assert case["applicant"]["agent_name"] == "李四" and case["handler"]["username"] == "handler"
