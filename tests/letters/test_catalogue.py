"""The letter catalogue: templates as data, checked against outcomes and workflow steps."""
from __future__ import annotations

import pytest

from app.domain.outcomes import OUTCOMES
from app.domain.workflow import ACTIONS
from app.letters import (all_letters, example_context, get_letter, letter_for_outcome,
                         letters_for_step)
from app.letters.catalogue import TEMPLATES_DIR

pytestmark = pytest.mark.no_db

PROCEDURAL = {  # handbook §4.3, procedural letters → key
    "登记回执": "receipt", "补正告知书": "correction_notice", "说明理由告知书": "reasons_notice",
    "延期答复告知书": "extension_notice", "征求意见书（第三方）": "consult_third_party",
    "征求意见确认函": "consult_confirmation", "征求意见告知书（申请人）": "consult_applicant_notice",
    "依申请公开告知书（第三方）": "disclosure_notice_third_party",
    "征求意见书（共同制作机关）": "consult_agency", "协办函": "cohandle", "收费通知书": "fee_notice",
    "送达回证": "service_record",
    "分办告知书": "transfer_notice",  # 分办 to the answering agency (issue 16 item 1)
}


def test_every_handbook_procedural_letter_has_a_template():
    names = {letter.name: letter.key for letter in all_letters() if letter.kind == "procedural"}
    assert names == PROCEDURAL
    for key in PROCEDURAL.values():
        assert (TEMPLATES_DIR / key / "template.html.j2").is_file()
        assert (TEMPLATES_DIR / key / "meta.json").is_file()


def test_every_outcome_with_a_letter_maps_to_exactly_one_template():
    for outcome in OUTCOMES:
        letter = letter_for_outcome(outcome.code)
        if outcome.letter == "—":
            assert letter is None
            continue
        assert letter is not None, outcome.code
        assert letter.kind == "substantive"
        assert letter.outcome_letter == outcome.letter
        assert outcome.code in letter.outcomes
    # One template per Outcome.letter value: all seven refusal grounds share 不予公开.
    refusal = {letter_for_outcome(o.code).key for o in OUTCOMES if o.letter == "不予公开"}
    assert refusal == {"reply_refuse"}
    assert letter_for_outcome("fee_unpaid").key == letter_for_outcome("correction_lapsed").key == "reply_lapsed"


def test_remedy_kind_follows_the_law():
    for letter in all_letters():
        if letter.kind == "procedural" and letter.key != "disclosure_notice_third_party":
            assert letter.remedy == "none", letter.key
    assert get_letter("reply_refuse").remedy == "reconsideration_first"
    assert get_letter("reply_partial").remedy == "reconsideration_first"
    assert get_letter("reply_disclose").remedy == "standard"
    assert get_letter("reply_not_exist").remedy == "standard"


def test_review_flags():
    for key in ("receipt", "service_record", "consult_confirmation", "correction_notice"):
        assert get_letter(key).needs_review is False
    for letter in all_letters():
        if letter.kind == "substantive":
            assert letter.needs_review is True
    assert get_letter("disclosure_notice_third_party").needs_review is True


def test_letters_for_step():
    assert [x.key for x in letters_for_step("request_correction")] == ["correction_notice"]
    assert {x.key for x in letters_for_step("consult")} == {
        "consult_third_party", "consult_confirmation", "consult_applicant_notice", "consult_agency"}
    assert [x.key for x in letters_for_step("extend")] == ["extension_notice"]
    assert [x.key for x in letters_for_step("fee_notice")] == ["fee_notice"]
    assert [x.key for x in letters_for_step("register")] == ["receipt"]
    assert [x.key for x in letters_for_step("deliver")] == ["service_record"]
    assert [x.key for x in letters_for_step("correction_lapsed")] == ["reply_lapsed"]
    assert [x.key for x in letters_for_step("fee_lapsed")] == ["reply_lapsed"]
    issue = {x.key for x in letters_for_step("issue")}
    assert {"reply_disclose", "reply_refuse", "reply_lapsed"} <= issue
    assert letters_for_step("approve") == []
    with pytest.raises(ValueError):
        letters_for_step("no_such_step")
    with pytest.raises(ValueError):
        letter_for_outcome("no_such_outcome")
    for letter in all_letters():
        for step in letter.steps:
            assert step in ACTIONS or step == "register"


def test_fields_are_declared_with_labels():
    for letter in all_letters():
        described = letter.as_dict()
        names = [f["name"] for f in described["fields"]]
        assert "agency.name" in names
        for f in described["fields"]:
            assert f["label"] and any("\u4e00" <= c <= "\u9fff" for c in f["label"]), (letter.key, f)
        if letter.remedy != "none":
            assert letter.field("agency.reconsideration_body").required is True
        required = {f.name for f in letter.required_fields()}
        example = example_context(letter.key)
        for name in required:  # the examples are complete enough to render
            value = example
            for part in name.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            assert value not in (None, "", []), (letter.key, name)
