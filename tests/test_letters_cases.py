"""Letters wired to cases: approval of an exact draft, numbering at issue, the PDF stored once."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.extensions import db
from app.models import Agency, Letter, Sequence
from app.services import cases as S
from app.services import letters as L
from app.services.errors import ServiceError
from tests.conftest import IS_PG, set_today, user
from tests.factories import build_case, reload

ROOT = Path(__file__).resolve().parents[1]


def pdf_text(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode()


def test_issue_numbers_renders_and_stores_the_reply_once(app, ctx):
    case = build_case("replied")
    [letter] = case.letters
    assert letter.number == "示自然资规公开〔2026〕1号"  # GB/T 9704: no 第, no leading zeros
    assert letter.sha256 == hashlib.sha256(letter.pdf).hexdigest()
    assert letter.content_hash == case.issued_draft.content_hash == case.issued_draft.approved_hash
    text = pdf_text(letter.pdf)
    for needle in ("示范市自然资源和规划局", "示自然资规公开〔2026〕1号", case.applicant_name,
                   "2026年11月2日", "第三十六条第（二）项", "示范市人民政府", "草稿"):
        if needle == "草稿":
            assert needle not in text
        else:
            assert needle in text.replace(" ", "").replace("\n", ""), needle
    issue_event = [e for e in case.events if e.action == "issue"][0]
    assert issue_event.data["letter_number"] == letter.number


def test_numbers_run_on_per_agency_and_year(app, ctx):
    a = build_case("replied")
    b = build_case("replied")
    assert [a.letters[0].number, b.letters[0].number] == ["示自然资规公开〔2026〕1号", "示自然资规公开〔2026〕2号"]


def test_failed_render_consumes_no_number_and_changes_nothing(app, ctx):
    case = build_case("signed")
    agency = db.session.get(Agency, case.agency_id)
    agency.court = ""  # the remedy paragraph cannot be written
    db.session.commit()
    with pytest.raises(ServiceError, match="管辖人民法院"):
        S.perform(case.id, user("handler"), "issue")
    db.session.expire_all()
    case = reload(case.id)
    assert case.state == "signed" and case.letters == []
    assert db.session.scalar(db.select(Sequence).where(Sequence.kind == "letter")) is None
    agency = db.session.get(Agency, case.agency_id)
    agency.court = "示范市示范区人民法院"
    db.session.commit()
    S.perform(case.id, user("handler"), "issue")
    assert reload(case.id).letters[0].number == "示自然资规公开〔2026〕1号"  # no gap


def test_draft_must_carry_what_its_letter_needs(app, ctx):
    case = build_case("handling")
    with pytest.raises(ServiceError) as e:
        S.perform(case.id, user("handler"), "save_draft", {"outcome": "repeat", "earlier_reply": "示〔2026〕3号"})
    assert e.value.field == "earlier__replied_on" and "此前答复日期" in e.value.message
    S.perform(case.id, user("handler"), "save_draft", {"outcome": "repeat", "earlier_reply": "示〔2026〕3号",
                                                        "earlier__replied_on": "2026-10-09"})
    title, pdf = L.preview_reply(reload(case.id))
    text = pdf_text(pdf).replace(" ", "")
    assert "草稿" in text and "2026年10月9日" in text


def test_refusal_letter_says_reconsideration_first(app, ctx):
    case = build_case("handling")
    S.perform(case.id, user("handler"), "save_draft", {"outcome": "refuse_internal",
                                                        "reasons": "所申请信息为本机关内部人事管理信息"})
    text = pdf_text(L.preview_reply(reload(case.id))[1]).replace(" ", "").replace("\n", "")
    assert "行政复议" in text and "六个月" not in text


def test_step_notices_need_review_where_the_catalogue_says(app, ctx):
    case = build_case("handling")
    S.perform(case.id, user("handler"), "cohandle", {"party": "档案室", "matter": "查找2025年征收档案"})
    S.perform(case.id, user("handler"), "fee_notice", {"method": "per_request", "nth_in_month": 11})
    case = reload(case.id)
    cohandle, fee = case.steps_of("cohandle")[0], case.steps_of("fee")[0]
    row = L.issue_notice(case.id, user("handler"), f"step-{cohandle.id}", S._today())  # 协办函: no review
    assert row.number.endswith("1号")
    with pytest.raises(ServiceError, match="法制审核"):
        L.issue_notice(case.id, user("handler"), f"step-{fee.id}", S._today())
    with pytest.raises(ServiceError, match="法律顾问"):
        L.approve_notice(case.id, user("handler"), f"step-{fee.id}")
    L.approve_notice(case.id, user("legal"), f"step-{fee.id}")
    row = L.issue_notice(case.id, user("handler"), f"step-{fee.id}", S._today())
    assert "100" in pdf_text(row.pdf)
    with pytest.raises(ServiceError, match="已出具"):
        L.issue_notice(case.id, user("handler"), f"step-{fee.id}", S._today())


@pytest.mark.skipif(not IS_PG, reason="concurrent issue across processes is tested on PostgreSQL")
def test_concurrent_issue_from_processes_never_duplicates_or_skips(app, ctx):
    ids = [build_case("signed").id for _ in range(4)]
    db.session.remove()
    code = (
        "import sys; from app import create_app; from app.extensions import db; from app.models import User\n"
        "from app.services import cases as S\n"
        "app = create_app({'SQLALCHEMY_DATABASE_URI': sys.argv[1], 'OGI_TODAY': '2026-11-23', 'TESTING': True})\n"
        "with app.test_request_context():\n"
        "    h = db.session.scalar(db.select(User).where(User.username == 'handler'))\n"
        "    S.perform(int(sys.argv[2]), h, 'issue')\n")
    env = dict(os.environ)
    procs = [subprocess.Popen([sys.executable, "-c", code, os.environ["TEST_DATABASE_URL"], str(i)],
                              cwd=ROOT, env=env, stderr=subprocess.PIPE) for i in ids]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-2000:]
    numbers = sorted(l.seq for l in db.session.scalars(db.select(Letter)))
    assert numbers == [1, 2, 3, 4]


def test_every_notice_of_a_busy_case_renders_from_the_case(app, ctx):
    """Receipt, consultation letters (with confirmation, applicant notice and public-interest notice),
    Art. 35 reasons, fee, co-handling, extension and service record all fill from stored data."""
    set_today(app, "2026-11-04")
    case = S.register_case(user("clerk"), {**__import__("tests.conftest", fromlist=["INTAKE"]).INTAKE})
    h = user("handler")
    S.perform(case.id, h, "start")
    S.perform(case.id, user("head"), "extend", {"days": 10, "reason": "需调取历史档案"})
    S.perform(case.id, h, "cohandle", {"party": "档案室", "matter": "调取档案"})
    S.perform(case.id, h, "consult", {"kind": "third_party", "party": "某建设有限公司", "matter": "涉及商业信息"})
    S.perform(case.id, h, "consult", {"kind": "agency", "party": "示范市住房和城乡建设局", "matter": "共同制作"})
    third, agency = reload(case.id).steps_of("consultation_third_party")[0], reload(case.id).steps_of("consultation_agency")[0]
    set_today(app, "2026-11-06")
    S.perform(case.id, h, "consultation_reply", {"step_id": third.id, "result": "object", "opinion": "涉及商业秘密",
                                                  "public_interest_override": "y",
                                                  "override_reason": "涉及公共安全，不公开可能对公共利益造成重大影响"})
    S.perform(case.id, h, "consultation_reply", {"step_id": agency.id, "result": "agree"})
    S.perform(case.id, h, "request_reasons", {"matter": "本月已提出40件申请"})
    S.perform(case.id, h, "reasons_reply", {"result": "reasonable"})
    S.perform(case.id, h, "fee_notice", {"method": "per_volume", "pages": 31})
    case = reload(case.id)
    keys = {}
    for n in L.notices(case):
        pdf = L.render(case, n.key, n.build(), draft=True)
        assert pdf.startswith(b"%PDF") and "草稿" in pdf_text(pdf)
        keys[n.key] = n.ref
    assert set(keys) == {"receipt", "extension_notice", "cohandle", "consult_third_party", "consult_agency",
                         "consult_applicant_notice", "consult_confirmation", "disclosure_notice_third_party",
                         "reasons_notice", "fee_notice"}
    text = pdf_text(L.render(case, "extension_notice", L.find_notice(case, "extension").build(), draft=True))
    assert "需调取历史档案" in text.replace(" ", "").replace("\n", "")


def test_service_record_is_issued_for_a_delivery_without_review(app, ctx):
    case = build_case("delivered")
    ref = next(n.ref for n in L.notices(case) if n.key == "service_record")
    row = L.issue_notice(case.id, user("clerk"), ref, S._today())
    text = pdf_text(row.pdf).replace(" ", "").replace("\n", "")
    assert "送达回证" in text and case.letters[0].number in text


def test_stored_page_count_is_the_pdfs_own(app, ctx):
    # WeasyPrint writes its page objects into compressed object streams: the count must come
    # from the page tree, for a one-page and for a longer letter alike.
    from tests.letters.support import pdf_pages

    short = build_case("replied").letters[0]
    long_request = "、".join(f"{year}年度清源区老旧小区改造项目的立项批复、资金拨付凭证和竣工验收报告" for year in range(2010, 2026))
    long = build_case("replied", description=long_request).letters[0]
    assert short.pages == pdf_pages(short.pdf) == 1
    assert long.pages == pdf_pages(long.pdf) >= 2
