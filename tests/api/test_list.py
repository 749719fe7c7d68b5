"""GET /cases filters and paging, GET /intake-hints, and bad query strings."""
from tests.api.support import assert_error, response_schema, user_id, validate


def _ids(r) -> list[int]:
    assert r.status_code == 200, r.get_data(as_text=True)
    return [c["id"] for c in r.get_json()["items"]]


def test_list_filters(api, openapi_doc):
    a = api.register(applicant_name="张三", arrived_on="2026-11-02")["id"]
    b = api.register(applicant_name="北方研究院", applicant_type="research", id_type="business_license",
                     id_number="91110000100000000X", description="2024年土地出让收入明细", doc_number="",
                     arrived_on="2026-11-10")["id"]
    c = api.register(applicant_name="李四", id_number="11010519491231002X", channel="online",
                     arrived_on="2026-11-16", confirmed_on="2026-11-17", description="征收补偿标准")["id"]
    api.act(b, "start", "handler")

    everything = api.get("/cases", "head")
    body = everything.get_json()
    validate(openapi_doc, response_schema(openapi_doc, "/cases", "get", 200), body)
    assert body["total"] == 3 and body["page"] == 1 and body["per_page"] == 50
    assert [x["id"] for x in body["items"]] == [c, b, a]  # newest receipt first
    assert all("clock" in x and x["clock"]["status"] for x in body["items"])

    q = lambda **kw: _ids(api.get("/cases", "head", query=kw))  # noqa: E731
    assert q(state="handling") == [b]
    assert q(state="registered") == [c, a]
    assert q(channel="online") == [c]
    assert q(applicant_type="research") == [b]
    assert q(received_from="2026-11-10") == [c, b]
    assert q(received_to="2026-11-10") == [b, a]
    assert q(received_from="2026-11-03", received_to="2026-11-16") == [b]
    assert q(q="征收") == [c, a]
    assert q(q="DEMO-2026-0002") == [b]
    assert q(handler_id=str(user_id(api.app, "handler"))) == [b]
    assert q(per_page="2") == [c, b] and q(per_page="2", page="2") == [a]
    paged = api.get("/cases", "head", query={"per_page": "2", "page": "2"}).get_json()
    assert paged["total"] == 3 and paged["page"] == 2 and paged["per_page"] == 2
    assert q(state="delivered") == []


def test_q_finds_id_numbers_phones_and_letter_numbers(api, app):
    """The number an applicant quotes: ID number (whole, last 6, x for X), phone however typed,
    the 文号 of an issued reply. The list shows no ID number."""
    from app.extensions import db
    from app.models import Letter
    from tests.api.support import in_app
    from tests.factories import build_case
    chen = api.register(applicant_name="陈静", id_number="44030519850612004X", contact_phone="138-2468-1357")["id"]

    def replied_case():
        c = build_case("replied", applicant_name="孙立")
        return c.id, db.session.scalar(db.select(Letter.number).where(Letter.case_id == c.id,
                                                                      Letter.key.like("reply_%")))
    replied, number = in_app(app, replied_case)
    q = lambda term: _ids(api.get("/cases", "head", query={"q": term}))  # noqa: E731
    assert q("44030519850612004x") == q("12004x") == q("+86 138 2468 1357") == q("13824681357") == [chen]
    assert q(number) == [replied] and q("138-2468-1358") == []
    body = api.get("/cases", "head", query={"q": "12004X"}).get_json()
    assert "44030519850612004X" not in str(body) and "12004X" not in str(body["items"])


def test_bad_filters_are_400_with_the_field(api):
    api.register()
    for query, field in [
        ({"status": "handling"}, "status"),
        ({"state": "finished"}, "state"),
        ({"channel": "pigeon"}, "channel"),
        ({"received_from": "2026-11-31"}, "received_from"),
        ({"received_from": "2026-11-20", "received_to": "2026-11-01"}, "received_to"),
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"per_page": "1000"}, "per_page"),
        ({"handler_id": "99999999999999999999"}, "handler_id"),
        ({"handler_id": "1.5"}, "handler_id"),
        ({"q": "x" * 101}, "q"),
        ({"q": "征\x00收"}, "q"),
        ({"state": ["handling", "review"]}, "state"),
    ]:
        e = assert_error(api.get("/cases", "head", query=query), 400, field)
        assert e["message"], query


def test_intake_hints(api, openapi_doc):
    first = api.register()["id"]
    api.register(arrived_on="2026-11-05", doc_number="")
    r = api.get("/intake-hints", "clerk", query={"applicant_name": "张三", "id_number": "11010519491231002X",
                                                 "description": "2025年示范区旧城改造项目的征收补偿方案",
                                                 "doc_number": "示政发〔2025〕3号"})
    assert r.status_code == 200
    hints = r.get_json()
    validate(openapi_doc, response_schema(openapi_doc, "/intake-hints", "get", 200), hints)
    assert hints["month_count"] == 2
    assert {h["id"] for h in hints["possible_repeats"]} == {first, first + 1}
    assert any(h["same_doc_number"] for h in hints["possible_repeats"])
    excluded = api.get("/intake-hints", "clerk", query={"id_number": "11010519491231002X",
                                                        "exclude_id": str(first)}).get_json()
    assert excluded["month_count"] == 1
    empty = api.get("/intake-hints", "handler").get_json()
    assert empty == {"month_count": 0, "month_cases": [], "possible_repeats": []}
    assert_error(api.get("/intake-hints", "clerk", query={"name": "张三"}), 400, "name")
    assert_error(api.get("/intake-hints", "clerk", query={"exclude_id": "abc"}), 400, "exclude_id")
