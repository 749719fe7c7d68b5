"""分办 in Chromium (issue 16 item 1): the demo bureau's clerk transfers a registered request to
示范市教育局; the bureau keeps the transfer record, the bureau of education finds it on its 工作台."""
from __future__ import annotations

import re

from tests.browser.test_walkthrough import browser, login, server  # noqa: F401  (fixtures)

SHOTS = "/tmp"


def test_clerk_transfers_a_request_and_the_answering_agency_finds_it(server, browser):  # noqa: F811
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    login(page, server, "clerk")
    page.goto(f"{server}/cases?state=registered")
    link = page.locator("#results tbody tr a").first
    number = link.inner_text().strip()
    link.click()
    case_url = page.url
    page.goto(f"{case_url}/action/transfer")
    page.select_option("#agency_id", label="示范市教育局")
    page.fill("#reason", "申请公开的信息由示范市教育局制作并保存")
    page.screenshot(path=f"{SHOTS}/transfer_form.png", full_page=True)
    page.click("#action-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/transfers/\d+$"))
    assert "已分办至示范市教育局" in page.inner_text("h1")
    page.screenshot(path=f"{SHOTS}/transfer_record.png", full_page=True)
    assert page.goto(case_url).status == 404  # the case is the answering agency's now

    page2 = ctx.new_page()
    ctx.clear_cookies()
    login(page2, server, "jy_clerk")
    page2.goto(f"{server}/")
    section = page2.locator("#transferred")
    assert number in section.inner_text() and "示范市自然资源和规划局" in section.inner_text()
    page2.screenshot(path=f"{SHOTS}/transfer_worklist.png", full_page=True)
    ctx.close()
