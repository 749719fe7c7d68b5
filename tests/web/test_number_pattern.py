"""The agency's letter number pattern: only {code}, {year}, {seq} with integer widths, checked where
it is saved and again where a number is formatted (str.format would read attributes and items)."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Agency, Sequence
from app.services import cases as S
from app.services import letters as L
from app.services.errors import ServiceError
from tests.conftest import user
from tests.factories import build_case, reload

GOOD = {
    "{code}〔{year}〕{seq}号": "示规〔2026〕7号",
    "{code}〔{year}〕第{seq}号": "示规〔2026〕第7号",
    "{code}〔{year}〕{seq:03d}号": "示规〔2026〕007号",
    "{code}-{year:d}-{seq:04}": "示规-2026-0007",
    "{{{code}}}{seq}": "{示规}7",
}
BAD = {
    "{code.__class__}〔{year}〕{seq}号": "“{code.__class__}”不可用",
    "{seq.__class__.__init__.__globals__}{seq}": "不可用",
    "{code[0]}{seq}": "“{code[0]}”不可用",
    "{agency}{seq}": "“{agency}”不可用",
    "{0}{seq}": "“{0}”不可用",
    "{}{seq}": "“{}”不可用",
    "{code!r}{seq}": "“{code!r}”格式不可用",
    "{code:>200}{seq}": "“{code:>200}”格式不可用",
    "{seq:0100d}": "“{seq:0100d}”格式不可用",
    "{seq:4}": "“{seq:4}”格式不可用",  # padding with spaces
    "{seq:x}": "“{seq:x}”格式不可用",
    "{seq:,}": "格式不可用",
    "{seq:{year}}": "格式不可用",
    "{code}〔{year}〕号": "须包含序号",
    "{code}〔{year}〕{seq号": "花括号不成对",
    "{code}}{seq}": "花括号不成对",
}


@pytest.mark.no_db
@pytest.mark.parametrize("pattern", GOOD)
def test_documented_fields_and_widths_are_accepted(pattern):
    assert L.check_number_pattern(pattern) is None
    assert L.format_number(pattern, "示规", 2026, 7) == GOOD[pattern]


@pytest.mark.no_db
@pytest.mark.parametrize("pattern", BAD)
def test_other_fields_attributes_and_specs_are_refused(pattern):
    assert BAD[pattern] in (L.check_number_pattern(pattern) or "")
    with pytest.raises(ServiceError, match="文号格式"):
        L.format_number(pattern, "示规", 2026, 7)


def test_admin_cannot_save_an_attribute_lookup(web):
    web.as_user("admin")
    form = {"name": "示范市自然资源和规划局", "doc_code": "示自然资规公开", "reconsideration_body": "示范市人民政府",
            "court": "示范市示范区人民法院", "address": "", "phone": "", "number_pattern": "{code.__class__}〔{year}〕{seq}号"}
    r = web.client.post("/admin/agency", data=form)
    body = r.get_data(as_text=True)
    assert r.status_code == 400 and "文号格式中的“{code.__class__}”不可用" in body
    assert "{code.__class__}〔{year}〕{seq}号" in body  # what was typed is kept
    stored = web.run(lambda: db.session.scalar(db.select(Agency.number_pattern).where(Agency.code == "DEMO")))
    assert stored == "{code}〔{year}〕{seq}号"
    r = web.client.post("/admin/agency", data={**form, "number_pattern": "{code}〔{year}〕{seq:03d}号"})
    assert r.status_code == 302


def test_a_stored_bad_pattern_issues_nothing(app, ctx):
    case = build_case("signed")
    agency = db.session.get(Agency, case.agency_id)
    agency.number_pattern = "{code.__init__.__globals__}〔{year}〕{seq}号"  # e.g. set before the check existed
    db.session.commit()
    with pytest.raises(ServiceError, match="文号格式中的“{code.__init__.__globals__}”不可用"):
        S.perform(case.id, user("handler"), "issue")
    db.session.expire_all()
    case = reload(case.id)
    assert case.state == "signed" and case.letters == []
    assert db.session.scalar(db.select(Sequence).where(Sequence.kind == "letter")) is None
