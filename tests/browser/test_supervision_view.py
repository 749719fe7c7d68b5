"""The supervising office's overview in Debian's Chromium (issue 16 item 4): `flask seed-demo`'s
示范市人民政府办公室 sees its three agencies, opens the overdue cases of 示范市教育局 (numbers and
dates, no applicant) and the area's annual report.

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


def test_supervisor_overview_and_drill_down(server, browser):
    base = server
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", walkthrough.DEMO_PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{base}/account/password")  # seed-demo's accounts replace the published password
    page.fill("input[name=current_password]", walkthrough.DEMO_PASSWORD)
    page.fill("input[name=new_password]", walkthrough.NEW_PASSWORD)
    page.fill("input[name=confirm_password]", walkthrough.NEW_PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{base}/supervision")  # its 工作台: it has no case queue
    rows = page.locator("#agencies tbody tr")
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.agency)")) == ["DEMO", "SJY", "SZF"]
    sjy = page.locator("#agencies tr[data-agency=SJY]")
    overdue = int(sjy.locator("td[data-measure=overdue]").inner_text())
    assert overdue >= 1 and int(sjy.locator("td[data-measure=open]").inner_text()) >= overdue
    assert page.locator("#nav-queue").count() == 0 and page.locator("#nav-supervision").count() == 1
    shot(page, "supervision-overview")
    sjy.locator("td[data-measure=overdue] a").click()
    page.wait_for_selector("#cases")
    numbers = page.locator("#cases tbody tr td:first-child").all_inner_texts()
    assert len(numbers) == overdue and all(n.startswith("SJY-") for n in numbers)
    assert "孙一" not in page.content() and page.locator("#cases a").count() == 0
    shot(page, "supervision-overdue")
    page.goto(f"{base}/supervision/annual-report")
    assert page.locator("#agency-reports tbody tr").count() == 3
    page.close()
