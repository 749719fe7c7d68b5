"""A 协办 from the district office to a department and back in Debian's Chromium (issue 16 item 5):
`flask seed-demo`'s 示范市人民政府办公室 sends a 协办函 to 示范市教育局 on the platform; the bureau's
handler drafts the 协办意见, its legal adviser approves it, the handler issues it; the office's case
shows the answer and its date. The bureau sees the letter only, not the case.

Screenshots (1280 px wide) go to $OGI_SCREENSHOTS when it is set."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser import test_walkthrough as walkthrough
from tests.browser.test_walkthrough import browser, server  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.no_db]
SHOTS = os.environ.get("OGI_SCREENSHOTS")


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


_changed: set[str] = set()  # this module's server is fresh: its users start with the published password


def login(page, base, username):
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", walkthrough.NEW_PASSWORD if username in _changed else walkthrough.DEMO_PASSWORD)
    page.click("#submit")
    if username in _changed:
        page.wait_for_url(f"{base}/")
        return
    _changed.add(username)
    page.wait_for_url(f"{base}/account/password")
    page.fill("input[name=current_password]", walkthrough.DEMO_PASSWORD)
    page.fill("input[name=new_password]", walkthrough.NEW_PASSWORD)
    page.fill("input[name=confirm_password]", walkthrough.NEW_PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{base}/")


def test_cohandle_from_the_office_to_a_department_and_back(server, browser):
    base = server
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    # The office's handler asks 示范市教育局, chosen from the platform's agencies.
    login(page, base, "szf_handler")
    page.click("text=SZF-2026-0002")
    page.wait_for_selector("#steps")
    case_url = page.url.split("#")[0]
    page.click("#action-cohandle")
    assert "示范市教育局" in page.locator("[name=to_agency_id]").inner_text()
    shot(page, "cohandle-form")
    walkthrough.act(page, base, case_url, "cohandle", select={"to_agency_id": "示范市教育局"},
                    fill={"matter": "请就新建中小学校选址意见提供书面协办意见"})
    page.goto(case_url)
    step = page.locator("#steps tbody tr").last
    assert "示范市教育局" in step.inner_text() and "2026-11-30" in step.inner_text()  # 5 working days
    request_url = step.locator("a.agency-request-link").get_attribute("href")
    case_id = case_url.rstrip("/").rsplit("/", 1)[1]

    # The bureau's handler: the letter is on its 工作台; it drafts and submits the 协办意见.
    login(page, base, "jy_handler")
    incoming = page.locator("#handler-incoming-requests tbody tr")
    assert incoming.count() == 1 and "示范市人民政府办公室" in incoming.inner_text()
    shot(page, "incoming-queue")
    incoming.locator("a.request-link").click()
    page.wait_for_selector("#request-letter")
    assert "新建中小学校选址意见" in page.locator("#matter").inner_text()
    assert "卫二" not in page.content()  # the applicant of the office's case is not shown
    page.fill("#answer_text", "经核，新建中小学校选址已征求本局意见，选址论证报告附后。")
    page.click("#save")
    page.wait_for_selector("#submit-form")
    page.click("#submit")
    page.wait_for_selector("#awaiting-review")
    shot(page, "request-review")
    # The office's case stays closed to the bureau.
    assert page.goto(f"{base}/cases/{case_id}").status == 404

    # The bureau's legal adviser approves the text it sees.
    login(page, base, "jy_legal")
    page.locator("#legal-requests a.request-link").click()
    page.wait_for_selector("#approve")
    page.click("#approve")
    page.wait_for_selector("#request-state[data-state=approved]")
    assert page.locator("#issue").count() == 0  # issuing is the handler's

    # The handler issues it; it returns to the office's case.
    login(page, base, "jy_handler")
    page.goto(f"{base}{request_url}" if request_url.startswith("/") else request_url)
    page.click("#issue")
    page.wait_for_selector("#answered-on")
    assert page.locator("#request-state").get_attribute("data-state") == "answered"
    shot(page, "request-answered")

    login(page, base, "szf_handler")
    page.goto(case_url)
    step = page.locator("#steps tbody tr").last
    text = step.inner_text()
    assert "选址论证报告附后" in text and "已回复" in text, text
    assert step.locator("td").nth(5).inner_text().strip() == "2026-11-23"  # 答复/办结: the issue date
    shot(page, "case-answered")
    page.close()
