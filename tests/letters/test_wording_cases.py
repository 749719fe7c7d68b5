"""Letters as the services build them from a real case (issue 11 item 1): the contexts of
app/services/letters.py, rendered as issued and read back, checked like test_wording's variants;
and a letter that would print an empty required element cannot be signed off or issued."""
from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db
from app.letters import render_pdf
from app.models import Agency, Case
from app.services import letters as L
from app.services.errors import ServiceError
from tests.conftest import user
from tests.factories import act, build_case, register, reload, save_draft, snapshot, to_handling

from .support import pdf_text, require_poppler
from .wording import clean, problems

DESCRIPTION = "2025年示范区旧城改造项目的征收补偿方案"  # conftest INTAKE


def issued_text(case: Case, notice) -> tuple[dict, str]:
    ctx = {**notice.build(), "number": "示自然资规〔2026〕9号", "issued_on": date(2026, 11, 23)}
    return ctx, pdf_text(render_pdf(notice.key, ctx))


def notice_of(case: Case, key: str):
    return next(n for n in L.notices(reload(case.id)) if n.key == key)


def test_receipt_of_an_unassigned_case_has_no_empty_contact_label(app, ctx):
    require_poppler()
    case = register()
    assert case.handler_id is None
    context, text = issued_text(case, notice_of(case, "receipt"))
    assert problems("receipt", context, text) == []
    assert "（联系电话：0000-12345678）" in clean(text) and "联系人" not in text


def test_step_notices_read_cleanly(app, ctx):
    require_poppler()
    case = to_handling(register())
    act(case, "handler", "consult", {"kind": "agency", "party": "示范市财政局",
                                     "matter": "补偿资金测算表由贵局核定，请就能否公开提出意见。", "sent_on": "2026-11-05"})
    act(case, "handler", "consult", {"kind": "third_party", "party": "示范建设有限公司",
                                     "matter": "方案附件含该公司的报价明细，可能涉及商业秘密。", "sent_on": "2026-11-05"})
    third = next(s for s in reload(case.id).steps if s.kind == "consultation_third_party")
    act(case, "handler", "consultation_reply", {
        "step_id": third.id, "result": "object", "answered_on": "2026-11-12",
        "opinion": "涉及本公司商业秘密，不同意公开。", "public_interest_override": "y",
        "override_reason": "不公开可能对公共利益造成重大影响：补偿方案关系到300余户被征收人的切身利益。"})
    act(case, "handler", "fee_notice", {"method": "per_request", "nth_in_month": 35, "sent_on": "2026-11-06"})
    act(case, "handler", "cohandle", {"party": "本局征收科", "matter": "提供补偿方案及附件", "sent_on": "2026-11-06"})
    case = reload(case.id)
    texts = {}
    for n in L.notices(case):
        context, text = issued_text(case, n)
        assert problems(n.key, context, text) == [], n.ref
        texts[n.key if n.key != "consult_applicant_notice" else n.ref] = clean(text)
    # The request is what is asked about; the matter typed at the step says what the agency is asked.
    agency_letter = texts["consult_agency"]
    assert f"申请公开“{DESCRIPTION}”" in agency_letter
    assert "征求意见的事项：补偿资金测算表由贵局核定，请就能否公开提出意见。" in agency_letter
    assert "“补偿资金测算表" not in agency_letter
    fee = texts["fee_notice"]
    assert fee.count("国办函〔2020〕109号") == 1 and "第四条的规定" in fee
    assert "本月提交的第35件申请，第31件至第40件每件200元。应缴金额：人民币200元。" in fee
    override = texts["disclosure_notice_third_party"]
    assert "于2026年11月12日回复不同意公开，意见为：“涉及本公司商业秘密，不同意公开”。" in override
    assert override.count("公共利益造成重大影响") == 1


def test_a_supplement_that_restates_the_letter_is_refused_naming_the_field(app, ctx):
    require_poppler()
    case = to_handling(register())
    before = snapshot(case.id)
    with pytest.raises(ServiceError) as e:
        save_draft(case, decision="经查，您申请公开的信息属于本机关制作或者保存的政府信息，可以公开。")
    assert e.value.field == "decision" and "补充说明" in e.value.message and "重复" in e.value.message
    assert snapshot(case.id) == before
    save_draft(case, decision="如需纸质件，可于工作日到本机关受理窗口领取")
    _, pdf = L.preview_reply(reload(case.id))
    text = clean(pdf_text(pdf))
    assert text.count("本机关决定予以公开") == 1 and "受理窗口领取。" in text


def test_unreasonable_reply_says_whether_reasons_were_given(app, ctx):
    require_poppler()
    case = to_handling(register())
    act(case, "handler", "request_reasons", {"sent_on": "2026-11-05", "matter": "请说明申请58件信息的理由",
                                             "due_on": "2026-11-19"})
    act(case, "handler", "reasons_reply", {"result": "no_answer", "answered_on": "2026-11-20"})
    save_draft(case, outcome="unreasonable", decision="", obtain="",
               reasons="您自2026年10月1日以来已提出申请58件，其中43件内容相同。",
               reasons_notice__date="2026-11-05")
    _, pdf = L.preview_reply(reload(case.id))
    text = clean(pdf_text(pdf))
    assert "请您于2026年11月19日前说明申请理由。您逾期未说明理由。" in text
    assert "理由不合理" not in text


def test_record_correction_forwarded_needs_the_competent_agency(app, ctx):
    case = to_handling(register())
    with pytest.raises(ServiceError) as e:
        save_draft(case, outcome="record_correction", decision="", obtain="", result="forwarded",
                   details="请等候其答复。")
    assert e.value.field == "competent__name" and "有权更正的机关" in e.value.message


def _drop(case: Case, setting: str) -> None:
    agency = db.session.get(Agency, case.agency_id)
    setattr(agency, setting, "")
    db.session.commit()


@pytest.mark.parametrize(("stage", "action", "verb"), [("signoff", "sign_off", "签发"), ("signed", "issue", "出具")])
def test_a_reply_missing_a_required_element_cannot_be_signed_off_or_issued(app, ctx, stage, action, verb):
    case = build_case(stage)
    _drop(case, "court")
    before = snapshot(case.id)
    with pytest.raises(ServiceError) as e:
        act(case, "head" if action == "sign_off" else "handler", action)
    assert e.value.message == f"《答复书（予以公开）》缺少“管辖人民法院”，不能{verb}。请管理员在“机关设置”中补充。"
    assert e.value.field == "agency__court"
    assert snapshot(case.id) == before and reload(case.id).letters == []


def test_a_notice_missing_a_required_element_cannot_be_issued(app, ctx):
    case = register()
    _drop(case, "name")  # every letter prints the issuing agency
    with pytest.raises(ServiceError) as e:
        L.issue_notice(case.id, user("clerk"), "receipt", date(2026, 11, 23))
    assert "《登记回执》缺少“发文机关名称”，不能出具" in e.value.message
    assert reload(case.id).letters == []
