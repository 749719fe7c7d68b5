"""The archivist's tools in Debian's Chromium (issue 15 item 5): the batch page's preview and start,
the 档号 example that follows the rule as it is typed, and the archive form's suggestion that follows
the 保管期限 chosen."""
from __future__ import annotations

import os

import pytest

from tests.browser.test_walkthrough import browser, login, server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.no_db]
SHOTS = os.environ.get("OGI_SCREENSHOTS")


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_batch_preview_rule_example_and_archive_suggestion(server, browser):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()

    # The administrator's 档号 rule: the example follows what is typed.
    login(page, server, "admin")
    page.goto(f"{server}/admin/agency")
    assert page.inner_text("#archive-example-value") == "DEMO-2026-D10-0001"
    page.fill("#fonds_code", "J012")
    assert page.inner_text("#archive-example-value") == "J012-2026-D10-0001"
    page.fill("#archive_pattern", "{fonds}-{year}-{period}-{seq:05d}")
    assert page.inner_text("#archive-example-value") == "J012-2026-D10-00001"
    page.fill("#archive_pattern", "{fonds}-{year}-{qi}-{seq}")
    assert page.locator("#archive-example").is_hidden()  # the server says why on saving
    page.click("#submit")
    assert "“{qi}”无法识别" in page.inner_text(".has-error")
    page.fill("#archive_pattern", "{fonds}-{year}-{period}-{seq:04d}")
    page.locator("#archive_pattern").scroll_into_view_if_needed()
    _shot(page, "archivist-agency-rule")
    page.click("#submit")
    assert "机关设置已保存" in page.inner_text(".flashes")

    # The archivist previews the year's cases ready to file, then starts the batch for them.
    ctx.clear_cookies()
    login(page, server, "archivist")
    page.goto(f"{server}/casefiles")
    page.fill("#year", "2026")
    page.select_option("#scope", "ready")
    page.click("#batch-preview")
    count = int(page.inner_text("#preview-count"))
    numbers = page.locator("#preview-numbers a").all_inner_texts()
    assert count == len(numbers) >= 1
    assert page.input_value("#year") == "2026"
    _shot(page, "archivist-batch-preview")
    case_url = page.locator("#preview-numbers a").first.get_attribute("href")
    page.click("#preview-start")
    page.wait_for_url(f"{server}/casefiles/jobs/*")
    assert page.inner_text("#job-what").startswith(f"{count} 件案卷")

    # The archive form: choosing another 保管期限 swaps in its next 档号.
    page.goto(f"{server}{case_url}/action/archive")
    assert page.input_value("input[name=archive_number]") == "J012-2026-D10-0001"
    page.select_option("select[name=retention]", "permanent")
    assert page.input_value("input[name=archive_number]") == "J012-2026-Y-0001"
    page.fill("input[name=archive_number]", "J012-2026-Y-0100")  # typed by hand: kept
    page.select_option("select[name=retention]", "30y")
    assert page.input_value("input[name=archive_number]") == "J012-2026-Y-0100"
    _shot(page, "archivist-archive-form")
    ctx.close()
