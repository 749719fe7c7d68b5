"""The legal adviser's and the head's 工作台 in Debian's Chromium (issue 15 item 1): a fee notice
waits in the legal adviser's queue and takes effect only when issued; an extension request and a
reply waiting for 签发 wait in the head's; each leaves the queue when done.

Screenshots (1280 px wide) go to $OGI_SCREENSHOTS when it is set."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.browser import test_walkthrough as walkthrough
from tests.browser.test_walkthrough import act, browser, login, register_in_person, server  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.no_db]
SHOTS = os.environ.get("OGI_SCREENSHOTS")


@pytest.fixture(autouse=True, scope="module")
def _fresh_passwords():
    walkthrough._changed.clear()
    yield
    walkthrough._changed.clear()


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def listed(page, section: str) -> list[str]:
    """The case numbers a section of the 工作台 lists."""
    return page.locator(f"#{section} a.case-link").all_inner_texts()


def test_legal_and_head_work_from_their_queues(server, browser):
    base = server
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()

    login(page, base, "clerk")
    case_url = register_in_person(page, base, "钱八", "13900000000", "2024年示范区道路养护合同")
    number = re.search(r"DEMO-2026-\d{4}", page.content())[0]
    ctx.clear_cookies()

    login(page, base, "handler")
    act(page, base, case_url, "start")
    act(page, base, case_url, "fee_notice", select={"method": "per_volume"}, fill={"pages": "120"})
    page.goto(case_url)
    assert "等待缴纳信息处理费" not in page.content()  # decided, not issued: the clock runs on
    act(page, base, case_url, "request_extension", fill={"days": "10", "reason": "需调取历史档案"})
    ctx.clear_cookies()

    # The legal adviser's queue: the fee notice waits for review; approving it takes it off.
    login(page, base, "legal")
    assert number in listed(page, "legal-notices")
    assert "《收费通知书》待法制审核" in page.locator("#legal-notices").inner_text()
    shot(page, "queue-legal-notices")
    page.locator("#legal-notices a.case-link", has_text=number).click()
    page.wait_for_load_state()
    page.locator("[id^=approve-notice-step-]").first.click()
    page.wait_for_load_state()
    assert "文书已审核通过" in page.content()
    page.goto(f"{base}/")
    assert number not in listed(page, "legal-notices")
    ctx.clear_cookies()

    # The handler issues it (the pause starts today) and records the payment, then drafts.
    login(page, base, "handler")
    assert number in listed(page, "handler-notices")
    page.goto(case_url)
    page.locator("[id^=issue-notice-step-]").first.click()
    page.wait_for_load_state()
    assert "已出具" in page.content()
    act(page, base, case_url, "fee_paid", fill={"paid_on": "2026-11-23", "receipt_no": "非税0001"})
    act(page, base, case_url, "save_draft", select={"outcome": "disclose"},
        fill={"decision": "经审查，您申请的信息予以公开。", "obtain": "随本答复书邮寄提供复印件"})
    act(page, base, case_url, "submit_draft")
    ctx.clear_cookies()

    login(page, base, "legal")
    assert number in listed(page, "legal-drafts")
    page.locator("#legal-drafts a.case-link", has_text=number).click()
    page.wait_for_load_state()
    act(page, base, case_url, "approve", check=["secrecy_reviewed"], fill={"secrecy_note": "不涉密"})
    page.goto(f"{base}/")
    assert number not in listed(page, "legal-drafts")
    ctx.clear_cookies()

    # The head's queue: the extension request and the reply to sign, each singled out.
    login(page, base, "head")
    assert number in listed(page, "head-extensions") and number in listed(page, "head-signoff")
    assert "申请延长10个工作日：需调取历史档案" in page.locator("#head-extensions").inner_text()
    shot(page, "queue-head")
    page.goto(case_url)
    page.click("#action-extend")
    # The grant starts from what the handler asked for.
    assert page.input_value("[name=days]") == "10"
    assert page.input_value("[name=reason]") == "需调取历史档案"
    page.click("#submit")
    page.wait_for_load_state()
    act(page, base, case_url, "sign_off")
    page.goto(f"{base}/")
    assert number not in listed(page, "head-extensions") and number not in listed(page, "head-signoff")
    page.goto(case_url)
    html = page.content()
    for label in ("发出收费通知", "审核通过《收费通知书》", "出具《收费通知书》", "申请延期答复", "批准延期答复", "签发"):
        assert label in html, label
    ctx.close()
