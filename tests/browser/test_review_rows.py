"""The draft form and the review screens in Debian's Chromium, with static/js/app.js: choosing 部分公开
shows its fields with their required marks; withheld parts are added, moved and removed as rows and saved
in that order; legal review and sign-off show the parts, the diff between 第1稿 and 第2稿 and the draft's pages.

Screenshots (1280 px wide) go to $OGI_SCREENSHOTS when it is set."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.domain.outcomes import WITHHOLDING_BASES
from tests.browser import test_walkthrough as walkthrough
from tests.browser.test_walkthrough import browser, login, server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.no_db]


@pytest.fixture(autouse=True, scope="module")
def _fresh_passwords():
    """This module's server has its own database: whose password was changed is known per database."""
    walkthrough._changed.clear()
    yield
    walkthrough._changed.clear()

SHOTS = os.environ.get("OGI_SCREENSHOTS")


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def rows(page) -> list[tuple[str, str, str]]:
    out = []
    for row in page.locator("[data-rows=withheld] [data-row]").all():
        out.append((row.locator("[data-row-key=part]").input_value(), row.locator("[data-row-key=basis]").input_value(),
                    row.locator("[data-row-key=reason]").input_value()))
    return out


def fill_row(page, i: int, part: str, basis: str, reason: str) -> None:
    page.fill(f"[name=withheld-{i}-part]", part)
    page.select_option(f"[name=withheld-{i}-basis]", basis)
    page.fill(f"[name=withheld-{i}-reason]", reason)


def test_withheld_rows_with_js_and_the_review_screens(server, browser):  # noqa: F811
    base = server
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    b14, b15, b162 = WITHHOLDING_BASES[0].text, WITHHOLDING_BASES[1].text, WITHHOLDING_BASES[3].text

    login(page, base, "clerk")
    page.goto(f"{base}/cases/new")
    page.select_option("[name=channel]", "in_person")
    page.fill("[name=arrived_on]", "2026-11-02")
    page.select_option("[name=applicant_type]", "natural")
    page.fill("[name=applicant_name]", "王五")
    page.fill("[name=id_number]", "11010519491231002X")
    page.fill("[name=contact_phone]", "13800000000")
    page.fill("[name=description]", "东湖小区改造工程施工合同及结算审计报告")
    page.click("#submit")
    page.wait_for_url(f"{base}/cases/*")
    case_url = page.url
    ctx.clear_cookies()

    login(page, base, "handler")
    page.goto(case_url)
    page.click("#action-start")
    page.click("#submit")
    page.wait_for_url(case_url)
    page.goto(case_url + "/action/save_draft")
    assert page.locator("#outcome-refresh").is_hidden()  # the no-JS button is not needed
    page.select_option("[name=outcome]", "partial")
    # Only 部分公开's fields, its required ones marked and required.
    assert page.locator("#field-disclosed").is_visible() and page.locator("#field-withheld").is_visible()
    assert page.locator("#field-form").is_hidden() and page.locator("#field-public_source").is_hidden()
    assert page.locator("#field-disclosed .req").is_visible()
    assert page.locator("[name=disclosed]").evaluate("e => e.required")
    assert not page.locator("#field-search .req").is_visible()
    page.fill("[name=decision]", "经审查，答复如下。")
    assert page.locator("#field-reasons").is_hidden()  # given part by part below (Art. 37)
    page.fill("[name=disclosed]", "施工合同正文及结算审计报告的审计结论")
    page.fill("[name=obtain]", "随本答复书邮寄复印件（共14页）")
    fill_row(page, 0, "第3页第二段中的身份证号码", b15, "属于第三方个人隐私，第三方不同意公开")
    page.locator("[data-rows=withheld] > button[data-row-op=add]").click()
    fill_row(page, 1, "附件2 会议讨论记录", b162, "属于过程性信息")
    page.locator("[data-rows=withheld] > button[data-row-op=add]").click()
    fill_row(page, 2, "附件5 涉密批复", b14, "经保密审查属于国家秘密")
    page.locator("[data-rows=withheld] > button[data-row-op=add]").click()
    fill_row(page, 3, "附件6 专家个人联系方式", b15, "属于个人隐私")
    # Move the third row up, remove the last one: names renumbered in the new order.
    page.locator("[data-rows=withheld] [data-row]").nth(2).locator("[data-row-op=up]").click()
    page.locator("[data-rows=withheld] [data-row]").nth(3).locator("[data-row-op=remove]").click()
    expected = [("第3页第二段中的身份证号码", b15, "属于第三方个人隐私，第三方不同意公开"),
                ("附件5 涉密批复", b14, "经保密审查属于国家秘密"),
                ("附件2 会议讨论记录", b162, "属于过程性信息")]
    assert rows(page) == expected
    assert page.locator("[name=withheld-1-part]").input_value() == "附件5 涉密批复"
    assert page.locator("[data-rows=withheld] [data-row]").first.locator("[data-row-op=up]").is_disabled()
    shot(page, "draft-form")
    page.click("#submit")
    page.wait_for_url(case_url)
    page.goto(case_url + "/action/save_draft")
    assert rows(page) == expected  # reopened: the same rows in the same order
    page.goto(case_url)
    page.click("#action-submit_draft")
    page.click("#submit")
    page.wait_for_url(case_url)
    ctx.clear_cookies()

    login(page, base, "legal")
    page.goto(case_url + "/action/return_draft")
    page.fill("[name=comments]", "请补充附件一")
    page.click("#submit")
    page.wait_for_url(case_url)
    ctx.clear_cookies()

    login(page, base, "handler")
    page.goto(case_url + "/action/save_draft")
    page.fill("[name=disclosed]", "施工合同正文、附件一及结算审计报告的审计结论")
    page.locator("[data-rows=withheld] [data-row]").nth(0).locator("[data-row-op=remove]").click()
    page.click("#submit")
    page.wait_for_url(case_url)
    page.goto(case_url)
    page.click("#action-submit_draft")
    page.click("#submit")
    page.wait_for_url(case_url)
    ctx.clear_cookies()

    login(page, base, "legal")
    page.goto(case_url + "/action/approve")
    assert "附件5 涉密批复" in page.locator("#review-withheld").inner_text()
    assert "第十四条、第三十七条" in page.locator("#review-withheld").inner_text()
    assert page.locator("#draft-diff ins", has_text="、附件一").count() == 1
    assert page.locator("#draft-diff th").nth(2).inner_text() == "第2稿"
    img = page.locator("#letter-preview img").first
    img.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    shot(page, "legal-review")
    page.check("[name=secrecy_reviewed]")
    page.click("#submit")
    page.wait_for_url(case_url)
    ctx.clear_cookies()

    login(page, base, "head")
    page.goto(case_url + "/action/sign_off")
    assert "第二条" not in page.locator("#review-withheld").inner_text()
    assert page.locator("#draft-diff del", has_text="身份证号码").count() >= 1
    for im in page.locator("#letter-preview img").all():
        im.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=im.element_handle())
    shot(page, "sign-off")
    assert blocked == []
    ctx.close()
