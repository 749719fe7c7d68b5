"""The staff pages on a phone (issue 15 item 6): the menu does not eat the screen and nothing makes the
page wider than the phone, in Debian's Chromium at 390 × 844."""
from __future__ import annotations

import os

import pytest

from tests.browser.test_walkthrough import browser, login, server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.no_db]
SHOTS = os.environ.get("OGI_SCREENSHOTS")


@pytest.mark.parametrize("username", ["head", "admin"])
def test_menu_and_ledger_fit_a_phone(server, browser, username):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                              has_touch=True)
    page = ctx.new_page()
    login(page, server, username)
    for path in ("/", "/ledger"):
        page.goto(f"{server}{path}")
        header = page.locator("header.topbar").bounding_box()
        assert header["height"] <= 120, (path, header)  # the menu scrolls sideways instead of stacking
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390, (path, wide)
        if SHOTS:
            page.screenshot(path=os.path.join(SHOTS, f"phone-{username}{path.replace('/', '-') or '-'}.png"))
    ctx.close()
