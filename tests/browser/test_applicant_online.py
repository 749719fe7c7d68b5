"""The applicant's side in Debian's Chromium (issue 13 item 7): an applicant submits online on a
phone-sized screen, the clerk confirms, the handler asks for a correction, the applicant answers it
on the status page, the handler records it, the reply is issued and the applicant downloads it.

The status page at 390 × 844 is saved as a screenshot in $OGI_SCREENSHOTS (when set)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.browser import test_walkthrough as walkthrough
from tests.browser.test_walkthrough import act, browser, login, server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.no_db]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


@pytest.fixture(autouse=True, scope="module")
def _fresh_passwords():
    walkthrough._changed.clear()
    yield
    walkthrough._changed.clear()


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_online_request_to_downloaded_reply(server, browser):  # noqa: F811
    base = server
    applicant = browser.new_context(**PHONE)
    ap = applicant.new_page()
    blocked = []
    ap.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)

    # 1. The applicant applies online.
    ap.goto(f"{base}/gk/DEMO/apply")
    _no_sideways_scroll(ap)
    ap.select_option("[name=applicant_type]", "natural")
    ap.fill("[name=applicant_name]", "赵六")
    ap.select_option("[name=id_type]", "resident_id")
    ap.fill("[name=id_number]", "11010519491231002X")
    ap.fill("[name=contact_phone]", "13911112222")
    ap.fill("[name=contact_address]", "示范市幸福路9号")
    ap.fill("[name=description]", "示范区2025年老旧小区改造项目的资金使用情况")
    ap.click("#submit")
    ap.wait_for_url(f"{base}/gk/DEMO/apply/done")
    reference = re.search(r"WS\d{8}-[0-9A-Z]+", ap.content()).group(0)
    assert "1101**********002X" in ap.content() and "11010519491231002X" not in ap.content()

    # 2. The clerk confirms it (Art. 31(3)) and is shown the case number and the query code.
    staff = browser.new_context(viewport={"width": 1280, "height": 900})
    page = staff.new_page()
    login(page, base, "clerk")
    page.goto(f"{base}/online")
    page.click(f"text={reference}")
    page.click("#confirm")
    page.wait_for_url(f"{base}/cases/*")
    case_url = page.url.split("#")[0]
    flash = page.locator(".flashes").inner_text()
    code = re.search(r"查询码 ([0-9A-Z]{4}-[0-9A-Z]{4})", flash).group(1)
    number = re.search(r"案号 (\S+?)，", flash).group(1)
    assert "互联网" in page.locator("#receipt").inner_text()
    staff.clear_cookies()

    # 3. The handler asks for a correction and issues the notice.
    login(page, base, "handler")
    act(page, base, case_url, "request_correction",
        fill={"notice_date": "2026-11-23", "items": "请写明所需资金使用情况的具体年度和项目名称"})
    page.goto(case_url)
    page.locator("[id^=issue-notice-step-]").first.click()
    page.wait_for_load_state()
    assert "补正告知书" in page.locator("#issued-letters").inner_text()

    # 4. The applicant looks the case up and answers the correction on the phone.
    ap.goto(f"{base}/gk/DEMO/query")
    ap.fill("#number", number)
    ap.fill("#query_code", code.lower())
    ap.click("#lookup-submit")
    ap.wait_for_url(re.compile(r".*/gk/DEMO/status/\d+$"))
    assert "需要补正" in ap.locator("#stage").inner_text()
    ap.fill("#text", "所需信息为2025年度示范区老旧小区改造项目（一期）的资金使用情况")
    ap.click("#correction-submit")
    ap.wait_for_load_state()
    assert "补正材料已提交" in ap.content()

    # 5. The handler records it: the clock restarts (Art. 30); the reply goes through review and sign-off.
    page.goto(case_url)
    page.locator("[id^=record-reply-]").first.click()
    page.wait_for_load_state()
    assert "已登记收到补正材料" in page.content()
    act(page, base, case_url, "save_draft", select={"outcome": "disclose"},
        fill={"decision": "经审查，您申请的信息予以公开。", "obtain": "随本答复书邮寄提供复印件"})
    act(page, base, case_url, "submit_draft")
    staff.clear_cookies()
    login(page, base, "legal")
    act(page, base, case_url, "approve", check=["secrecy_reviewed"], fill={"secrecy_note": "不涉密"})
    staff.clear_cookies()
    login(page, base, "head")
    act(page, base, case_url, "sign_off")
    staff.clear_cookies()
    login(page, base, "handler")
    act(page, base, case_url, "issue")

    # 6. The applicant sees the reply and downloads it.
    ap.reload()
    assert "已作出答复" in ap.locator("#stage").inner_text()
    titles = ap.locator(".letter-link").all_inner_texts()
    assert any("补正" in t for t in titles) and any("答复" in t for t in titles), titles
    reply_link = ap.locator(".letter-link", has_text="答复").first
    with ap.expect_download() as dl:
        reply_link.click()
    pdf = Path(dl.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    _no_sideways_scroll(ap)
    shots = os.environ.get("OGI_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        ap.screenshot(path=str(Path(shots) / "applicant-status-390.png"), full_page=True)
    assert blocked == []
    applicant.close()
    staff.close()
