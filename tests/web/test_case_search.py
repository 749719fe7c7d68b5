"""案件查询 and the ledger find a case by whatever number the applicant quotes (ID number, phone,
any letter's 文号), and the results never show the ID number."""
from __future__ import annotations

from urllib.parse import quote

from app.extensions import db
from app.models import Letter
from tests.factories import build_case, register

ID_X = "44030519850612004X"


def _cases(web) -> dict:
    def make():
        chen = register(applicant_name="陈静", id_number=ID_X, contact_phone="138-2468-1357")
        replied = build_case("replied", applicant_name="孙立")
        number = db.session.scalar(db.select(Letter.number).where(Letter.case_id == replied.id,
                                                                  Letter.key.like("reply_%")))
        return {"chen": chen.number, "replied": replied.number, "reply_number": number}
    return web.run(make)


def _numbers(page, table_id: str) -> list[str]:
    table = page.by_id(table_id)
    assert table is not None, page.text[:500]
    body = next(n for n in table.iter() if n.tag == "tbody")
    return [next(a for a in row.iter() if a.tag == "a").text for row in body.iter() if row.tag == "tr"]


def test_case_search_page_finds_id_numbers_phones_and_reply_numbers(web):
    c = _cases(web)
    web.as_user("clerk")
    page = web.get("/cases")
    assert page.status == 200
    q = page.field("q")
    assert q.get("placeholder") == "案号、文号、身份证号码、电话、申请人、申请内容"
    assert "身份证号码（可只输后6位" in page.by_id("q-help").text
    for term, expected in ((ID_X, "chen"), (ID_X[-6:].lower(), "chen"), ("+86 138 2468 1357", "chen"),
                           ("13824681357", "chen"), (c["reply_number"], "replied")):
        page = web.get("/cases?q=" + quote(term))
        assert _numbers(page, "results") == [c[expected]], term
        shown = page.html.replace(f'value="{term}"', "")  # all but the term in its box
        assert ID_X[-6:] not in shown and ID_X[-6:].lower() not in shown  # privacy: no ID number in the list
        assert page.field("q").get("value") == term  # the term stays in the box


def test_ledger_finds_id_numbers_phones_and_reply_numbers(web):
    c = _cases(web)
    web.as_user("head")
    for term, expected in (("138 2468 1357", "chen"), (ID_X[-6:], "chen"), (c["reply_number"], "replied")):
        page = web.get("/ledger?q=" + quote(term))
        assert page.status == 200
        assert _numbers(page, "ledger") == [c[expected]], term
        assert ID_X[-6:] not in page.by_id("ledger").text  # privacy: the rows show no ID number
    assert "关键词（案号、文号、身份证号码、电话、申请人、申请内容）" in web.get("/ledger").text
