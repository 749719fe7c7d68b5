"""The archivist's tools (issue 15 item 5): 档号 from the agency's rule, batch printing chosen by
filters with a preview, and pages that speak Chinese rather than codes."""
from __future__ import annotations

import re
from datetime import date

import pytest

from app.casefile import attachments as A
from app.casefile import jobs as J
from app.extensions import db
from app.models import Agency, Case, Event
from app.models import Job as CaseFileJob
from app.services import jobs as background
from app.services import remedies
from app.services.checklist import suggest_archive_number
from tests.casefile.conftest import scan_pdf
from tests.conftest import user
from tests.factories import (act, approve, archive, build_case, deliver, issue, other_agency, register, reload,
                             save_draft, to_correction, to_signed)
from tests.web.page import Node, Page


# ------------------------------------------------------------------ 档号 from the agency's rule

def _agency_form(web) -> dict:
    from tests.web.conftest import form_data
    return form_data(web.get("/admin/agency"))


def test_the_agency_rule_is_saved_audited_and_followed_by_the_suggestion(web):
    a, b, c = web.run(lambda: tuple(build_case("delivered").id for _ in range(3)))
    web.as_user("admin")
    page = web.get("/admin/agency")
    assert page.value("archive_pattern") == "{fonds}-{year}-{period}-{seq:04d}" and page.value("fonds_code") == ""
    assert page.by_id("archive-example-value").text == "DEMO-2026-D10-0001"  # blank 全宗号: the agency's code
    form = {**_agency_form(web), "fonds_code": "J012", "archive_pattern": "{fonds}·{year}·{period}·{seq:03d}"}
    r = web.client.post("/admin/agency", data=form)
    assert r.status_code == 302
    page = web.get("/admin/agency")
    assert page.by_id("archive-example-value").text == "J012·2026·D10·001"
    assert "示例（2026年、定期10年的第1件）" in page.by_id("archive-example").text

    def last_event():
        ev = db.session.scalars(db.select(Event).where(Event.action == "agency_settings_changed")
                                .order_by(Event.id.desc())).first()
        return {c["field"]: (c["old"], c["new"]) for c in ev.data["changes"]}
    assert web.run(last_event) == {"fonds_code": ("", "J012"),
                                   "archive_pattern": ("{fonds}-{year}-{period}-{seq:04d}",
                                                       "{fonds}·{year}·{period}·{seq:03d}")}

    # The archive form suggests by the rule; the other periods are listed for the 保管期限 select.
    web.as_user("archivist")
    page = web.get(f"/cases/{a}/action/archive")
    assert page.value("archive_number") == "J012·2026·D10·001"
    suggestions = {n.get("data-for"): n.get("data-value") for n in page.by_id("archive-suggestions").iter()
                   if n.get("data-for")}
    assert suggestions == {"10y": "J012·2026·D10·001", "30y": "J012·2026·D30·001", "permanent": "J012·2026·Y·001"}
    for case_id, number, retention in ((a, "J012·2026·D10·001", "10y"), (b, "J012·2026·Y·001", "permanent")):
        r = web.client.post(f"/cases/{case_id}/action/archive", data={
            "archive_number": number, "retention": retention,
            "version": web.run(lambda: str(reload(case_id).version))})
        assert r.status_code == 302, Page(r).form_error()
    # Each 全宗号/year/period runs its own sequence.
    assert web.get(f"/cases/{c}/action/archive").value("archive_number") == "J012·2026·D10·002"
    assert web.run(lambda: suggest_archive_number(reload(c), "permanent")) == "J012·2026·Y·002"
    assert web.run(lambda: suggest_archive_number(reload(c), "30y")) == "J012·2026·D30·001"
    assert web.run(lambda: suggest_archive_number(reload(c), "10y", year=2027)) == "J012·2027·D10·001"


def test_the_sequence_counts_only_this_agencys_numbers_of_the_rule(web):
    def setup():
        agency, others = other_agency("OTHER")
        foreign = register(clerk=others["clerk"])
        foreign.archive_number = "DEMO-2026-D10-0050"  # the same text in another agency: not ours
        own = build_case("delivered")
        old = build_case("delivered")
        old.archive_number = "DEMO-2026-D10-0007-补"  # not of the rule: ignored
        other_rule = build_case("delivered")
        other_rule.archive_number = "DEMO-2026-D10-0003"
        db.session.commit()
        return own.id
    own = web.run(setup)
    assert web.run(lambda: suggest_archive_number(reload(own), "10y")) == "DEMO-2026-D10-0004"

    def set_fonds(code):
        agency = db.session.scalar(db.select(Agency).where(Agency.code == "DEMO"))
        agency.fonds_code = code
        db.session.commit()
    web.run(set_fonds, "J%_")  # LIKE wildcards in the 全宗号 stand for themselves
    assert web.run(lambda: suggest_archive_number(reload(own), "10y")) == "J%_-2026-D10-0001"


@pytest.mark.parametrize("field,value,message", [
    ("archive_pattern", "{fonds}-{year}-{期限}-{seq}", "档号规则中的“{期限}”无法识别"),
    ("archive_pattern", "{fonds}-{year}-{period}", "档号规则须包含件号 {seq}"),
    ("archive_pattern", "{fonds}-{year}-{period}-{seq:x}", "“{seq:x}”写法不可用"),
    ("archive_pattern", "", "请填写档号规则"),
    ("fonds_code", "J 012", "全宗号只能由数字、字母、汉字"),
])
def test_a_malformed_rule_is_refused_in_chinese_and_what_was_typed_is_kept(web, field, value, message):
    web.as_user("admin")
    form = {**_agency_form(web), field: value}
    r = web.client.post("/admin/agency", data=form)
    page = Page(r)
    assert r.status_code == 400
    assert message in page.text
    assert page.value(field) == value
    assert not page.by_id("archive-example-value").text if field == "archive_pattern" else True
    stored = web.run(lambda: db.session.scalar(db.select(Agency).where(Agency.code == "DEMO")))
    assert (stored.archive_pattern, stored.fonds_code) == ("{fonds}-{year}-{period}-{seq:04d}", "")
    assert web.run(lambda: db.session.scalar(db.select(db.func.count()).select_from(Event).where(
        Event.action == "agency_settings_changed"))) == 0


# ------------------------------------------------------------------ batch printing by filters

def _batch_cases():
    """delivered (handled by 李承办), withdrawn (never assigned), archived (with its 档号), still being
    handled, one delivered case closed in 2025, and another agency's delivered case."""
    delivered = build_case("delivered")
    withdrawn = build_case("closed")
    archived = build_case("archived")
    handling = build_case("handling")
    last_year = build_case("delivered")
    last_year.closed_on = date(2025, 12, 30)  # as if it ended last December
    _agency, others = other_agency("OTHER")
    foreign = register(clerk=others["clerk"])
    act(foreign, others["clerk"], "withdraw", {"note": "申请人书面撤回"})
    db.session.commit()
    return {k: (c.id, c.number) for k, c in dict(delivered=delivered, withdrawn=withdrawn, archived=archived,
                                                  handling=handling, last_year=last_year, foreign=foreign).items()}


def _preview(web, **form) -> Page:
    r = web.client.post("/casefiles/preview", data=form)
    return Page(r)


def _numbers(page: Page) -> list[str]:
    box = page.by_id("preview-numbers")
    return [n.text for n in box.iter() if n.tag == "a"] if box else []


def test_filters_choose_the_cases_and_the_preview_lists_them(web):
    cases = web.run(_batch_cases)
    num = {k: v[1] for k, v in cases.items()}
    handler_id = web.run(lambda: user("handler").id)
    web.as_user("archivist")
    page = _preview(web, year="2026", scope="ready")
    assert page.status == 200
    assert _numbers(page) == [num["delivered"], num["withdrawn"]]  # not archived, open, 2025 or another agency's
    assert page.by_id("preview-count").text == "2"
    assert "结案年度：2026年；案件范围：待归档（已送达、已终止）" in page.by_id("preview-conditions").text
    assert page.by_id("preview-start").text == "为这 2 件生成案卷"
    assert page.value("year") == "2026" and page.value("scope") == "ready"  # the form keeps the filters
    assert _numbers(_preview(web, year="2026", scope="archived")) == [num["archived"]]
    assert _numbers(_preview(web, year="2026", scope="finished", numbered="1")) == [num["archived"]]
    assert _numbers(_preview(web, year="2026", scope="finished", numbered="0")) == [num["delivered"],
                                                                                   num["withdrawn"]]
    page = _preview(web, year="2026", scope="finished", handler_id=str(handler_id))
    assert sorted(_numbers(page)) == sorted([num["delivered"], num["archived"]])
    assert "承办人：" in page.by_id("preview-conditions").text
    assert _numbers(_preview(web, year="2026", scope="finished", handler_id="none")) == [num["withdrawn"]]
    assert _numbers(_preview(web, year="", closed_from="2025-12-01", closed_to="2025-12-31",
                             scope="ready")) == [num["last_year"]]
    assert _numbers(_preview(web, year="2025", scope="ready")) == [num["last_year"]]
    page = _preview(web, year="2019", scope="ready")
    assert page.status == 200 and "2019年没有符合条件的案件" in page.by_id("preview-none").text
    # Typed 登记编号 are previewed too, in the order typed.
    page = _preview(web, case_ids=f"{num['withdrawn']}、{num['delivered']}")
    assert _numbers(page) == [num["withdrawn"], num["delivered"]] and "指定的 2 件案件" in page.text


@pytest.mark.parametrize("form,message,field", [
    ({"year": ""}, "请填写年度（结案年度，例如 2026）或办结日期范围", "year"),
    ({"year": "2026", "closed_from": "2026-01-01"}, "结案年度和办结日期范围请只填一项", "year"),
    ({"year": "26"}, "结案年度须为2000至2100之间的年份", "year"),
    ({"year": "", "closed_from": "2026-12-01", "closed_to": "2026-11-01"}, "办结日期止（2026-11-01）不能早于办结日期起",
     "closed_to"),
    ({"year": "", "closed_from": "2026-13-01"}, "办结日期起", "closed_from"),
    ({"year": "2026", "scope": "everything"}, "请选择案件范围", "scope"),
    ({"year": "2026", "numbered": "maybe"}, "请选择是否已有档号", "numbered"),
    ({"year": "2026", "handler_id": "abc"}, "承办人", "handler_id"),
])
def test_filters_are_checked_in_chinese_and_kept(web, form, message, field):
    web.run(lambda: build_case("delivered"))
    web.as_user("archivist")
    for url in ("/casefiles/preview", "/casefiles/batch"):
        r = web.client.post(url, data=form)
        page = Page(r)
        assert r.status_code == 400, (url, page.text[:300])
        assert message in page.by_id("batch-error").text
        for k, v in form.items():
            if k != "scope" and k != "numbered" and k != "handler_id":
                assert page.value(k) == v
    assert web.run(lambda: db.session.scalar(db.select(db.func.count()).select_from(CaseFileJob))) == 0


def test_another_agencys_handler_is_refused(web):
    def setup():
        build_case("delivered")
        _agency, others = other_agency("OTHER")
        return others["handler"].id
    foreign_handler = web.run(setup)
    web.as_user("archivist")
    page = _preview(web, year="2026", scope="ready", handler_id=str(foreign_handler))
    assert page.status == 400 and "承办人不存在" in page.by_id("batch-error").text


def test_starting_from_the_preview_prints_exactly_the_previewed_cases(web):
    cases = web.run(_batch_cases)
    web.as_user("archivist")
    form = {"year": "2026", "scope": "ready", "format": "zip"}
    page = _preview(web, **form)
    key = page.by_id("preview-start").get("value")
    r = web.client.post("/casefiles/batch", data={**form, "preview_key": key})
    assert r.status_code == 302
    job_id = int(r.headers["Location"].rsplit("/", 1)[-1])
    assert web.run(lambda: J.job_params(db.session.get(CaseFileJob, job_id))["ids"]) == [
        cases["delivered"][0], cases["withdrawn"][0]]
    assert web.run(background.run_pending) == 1
    assert web.run(lambda: db.session.get(CaseFileJob, job_id).status) == "done"


def test_a_list_that_changed_since_the_preview_is_shown_again_not_printed(web):
    cases = web.run(_batch_cases)
    web.as_user("archivist")
    form = {"year": "2026", "scope": "ready"}
    key = _preview(web, **form).by_id("preview-start").get("value")
    web.run(lambda: archive(reload(cases["delivered"][0])))  # filed meanwhile: no longer 待归档
    r = web.client.post("/casefiles/batch", data={**form, "preview_key": key})
    page = Page(r)
    assert r.status_code == 409 and "预览后有变化" in page.by_id("batch-error").text
    assert _numbers(page) == [cases["withdrawn"][1]]  # the list as it is now
    assert web.run(lambda: db.session.scalar(db.select(db.func.count()).select_from(CaseFileJob))) == 0
    r = web.client.post("/casefiles/batch", data={**form, "preview_key": page.by_id("preview-start").get("value")})
    assert r.status_code == 302


def test_a_batch_larger_than_the_limit_is_refused_with_the_count(web, monkeypatch):
    web.run(_batch_cases)
    monkeypatch.setattr(J, "MAX_CASES", 1)
    web.as_user("archivist")
    page = _preview(web, year="2026", scope="ready")
    assert page.status == 400
    assert "符合条件的案件共 2 件，超过一次打印的上限 1 件" in page.by_id("batch-error").text


# ------------------------------------------------------------------ plain Chinese on the archivist's pages

SNAKE = re.compile(r"[A-Za-z]+_[A-Za-z_]+")
ENGLISH = re.compile(r"(?<![A-Za-z])[a-z]{3,}(?![A-Za-z])")
FILENAME = re.compile(r"[\w.\-（）()]+\.(?:pdf|zip|png|jpe?g)", re.I)
HEX = re.compile(r"(?<![0-9A-Za-z])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{8,}(?![0-9A-Za-z])")


def visible_text(node: Node, out: list[str], checks: list[str]) -> None:
    """The page's text as read, without scripts; a <details> labelled 校验值 is collected apart."""
    for c in node.children:
        if isinstance(c, str):
            out.append(c)
        elif c.tag in ("script", "style"):
            continue
        elif c.tag == "details" and any(s.tag == "summary" and s.text == "校验值" for s in c.children
                                        if isinstance(s, Node)):
            checks.append(c.text)
        else:
            visible_text(c, out, checks)
        out.append(" ")


def _rich_case():
    """A case with much history: correction, consultation, extension, review, sign-off, reply,
    delivery, scans, archiving, reopening by the administrator, a remedy, archiving again."""
    case = build_case("registered")
    to_correction(case)
    act(case, "handler", "receive_correction", {"received_on": "2026-11-06"})
    act(case, "handler", "consult", {"kind": "third_party", "party": "示范建设有限公司", "matter": "涉及商业秘密",
                                     "sent_on": "2026-11-09"})
    act(case, "handler", "consultation_reply", {"step_id": reload(case).steps[-1].id, "result": "agree",
                                                "answered_on": "2026-11-16"})
    act(case, "head", "extend", {"days": 10, "reason": "需要调取档案"})
    case = reload(case)
    save_draft(case)
    act(case, "handler", "submit_draft")
    approve(reload(case))
    to_signed(case)
    issue(case)
    deliver(case)
    A.add_attachment(case.id, user("clerk"), scan_pdf("申请表"), "申请表.pdf", "application_form", "申请表")
    archive(case)
    act(case, "admin", "reopen", {"reason": "补充送达回证"})
    A.add_attachment(case.id, user("clerk"), scan_pdf("回证"), "b.pdf", "proof_of_service", "送达回证")
    r = remedies.add_remedy(user("handler"), case.id, {"kind": "reconsideration", "filed_on": "2026-11-20",
                                                        "body": "示范市人民政府", "result": "pending"})
    remedies.update_remedy(user("handler"), case.id, r.id, {"result": "upheld", "decided_on": "2026-11-23",
                                                            "body": "示范市人民政府"})
    ready = build_case("delivered")
    return case.id, ready.id


def test_the_archivists_pages_show_words_not_codes(web, monkeypatch):
    case_id, ready_id = web.run(_rich_case)
    real_build = J.build_casefile

    def build(case, actor, **kw):  # one broken case: its error is shown on the job page
        if case.id == ready_id:
            raise RuntimeError("字体文件损坏")
        return real_build(case, actor, **kw)
    monkeypatch.setattr(J, "build_casefile", build)
    job_id = web.run(lambda: J.create_job(user("archivist"), [case_id, ready_id]).id)
    web.run(background.run_pending)
    web.as_user("archivist")
    pages = {url: web.get(url) for url in (
        f"/cases/{case_id}", f"/archive/{case_id}", f"/cases/{case_id}/attachments", "/archive",
        f"/archive/{ready_id}", f"/cases/{ready_id}/action/archive", "/casefiles", f"/casefiles/jobs/{job_id}")}
    pages["preview"] = Page(web.client.post("/casefiles/preview", data={"year": "2026", "scope": "finished"}))
    checks_seen = []
    for url, page in pages.items():
        assert page.status == 200, url
        out, checks = [], []
        visible_text(page.root, out, checks)
        text = " ".join(out)
        checks_seen += checks
        assert not SNAKE.findall(text), (url, SNAKE.findall(text))
        assert not ENGLISH.findall(FILENAME.sub(" ", text)), (url, ENGLISH.findall(FILENAME.sub(" ", text)))
        assert not HEX.findall(text), (url, HEX.findall(text))
        assert "UTC" not in text and "RuntimeError" not in text, url
    # The fingerprints are there for whoever checks them, folded away under 校验值.
    assert any(HEX.search(c) for c in checks_seen)
    timeline = pages[f"/cases/{case_id}"].by_id("timeline").text
    for words in ("附件类别：送达凭证", "文件类型：PDF 文件", "决定或裁判日期：— → 2026-11-23", "结果：尚未审结 → 结果维持", "行政复议"):
        assert words in timeline, words
    steps = pages[f"/cases/{case_id}"].text
    assert "已补正" in steps and "同意公开" in steps
    assert "字体文件损坏" in pages[f"/casefiles/jobs/{job_id}"].text
