"""The letter-template editor in Debian's Chromium (issue 15 item 3): the administrator types in the
wording, puts a variable in with 插入, previews the unsaved wording on a demo case and sees the PDF in the
frame beside it; a mistake shows in the frame in Chinese with its line; nothing is saved.

Screenshots (1280 px wide) go to $OGI_SCREENSHOTS when it is set."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.browser import test_walkthrough as walkthrough
from tests.browser.test_walkthrough import browser, login, server  # noqa: F401  (fixtures)
from tests.letters.support import pdf_text, squash

pytestmark = [pytest.mark.browser, pytest.mark.no_db]
SHOTS = os.environ.get("OGI_SCREENSHOTS")
MARK = "浏览器预览标记："


@pytest.fixture(autouse=True, scope="module")
def _fresh_passwords():
    """This module's server has its own database: whose password was changed is known per database."""
    walkthrough._changed.clear()
    yield
    walkthrough._changed.clear()


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _cursor_after(page, text: str) -> None:
    """Put the editor's cursor just after ``text`` (as a click there would)."""
    page.evaluate("""(text) => { const a = document.getElementById('source');
        const at = a.value.indexOf(text) + text.length; a.focus(); a.setSelectionRange(at, at); }""", text)


def test_type_insert_and_preview_a_letter_on_a_case(server, browser):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = ctx.new_page()
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    login(page, server, "admin")
    page.goto(f"{server}/admin/letter-templates")
    row = page.locator("#letter-templates tr", has_text="补正告知书").first
    assert "发出补正告知" in row.inner_text() and "request_correction" not in page.locator("#letter-templates").inner_text()
    row.locator("a", has_text="编辑").click()
    page.wait_for_url(f"{server}/admin/letter-templates/correction_notice")
    original = page.input_value("#source")

    # Type a sentence at the start of the body and put the case's 登记编号 in with 插入.
    _cursor_after(page, "{% block body %}\n")
    page.keyboard.type(f"<p>{MARK}")
    var = page.locator("#template-variables [data-var=case_ref]")
    assert "登记编号" in var.inner_text()
    snippet = var.locator(".tpl-insert").get_attribute("data-insert")
    var.locator(".tpl-insert").click()
    page.keyboard.type("</p>\n")
    typed = page.input_value("#source")
    assert f"{{% block body %}}\n<p>{MARK}{snippet}</p>\n" in typed

    # Preview on a demo case: the unsaved wording, as a PDF in the frame.
    options = page.locator("#preview_case option").all()
    assert options[0].inner_text() == "示例数据" and len(options) > 1
    value, label = options[1].get_attribute("value"), options[1].inner_text()
    number = label.split("\u3000")[0]
    page.select_option("#preview_case", value)
    # Chromium's PDF viewer takes the frame's response over: the bytes are read on their way through.
    seen = []

    def through(route):
        response = route.fetch()
        seen.append((response.status, response.headers["content-type"], response.body()))
        route.fulfill(response=response)
    page.route("**/correction_notice/preview", through)
    with page.expect_response(lambda r: r.url.endswith("/correction_notice/preview")):
        page.click("#preview")
    status, mimetype, body = seen[-1]
    assert status == 200 and mimetype == "application/pdf" and body.startswith(b"%PDF")
    text = squash(pdf_text(body))
    assert f"{MARK}{number}" in text and "草稿" in text
    # The frame shows it (Chromium's PDF viewer); on screen only: a full-page shot draws the viewer grey.
    for _ in range(50):
        if any(f.url.endswith("/correction_notice/preview") for f in page.frames):
            break
        page.wait_for_timeout(100)
    assert any(f.url.endswith("/correction_notice/preview") for f in page.frames), [(f.name, f.url) for f in page.frames]
    shot(page, "template-editor")
    if SHOTS:
        (Path(SHOTS) / "template-editor-preview.pdf").write_bytes(body)
        page.locator("#template-preview").scroll_into_view_if_needed()
        page.wait_for_timeout(3000)
        page.screenshot(path=str(Path(SHOTS) / "template-editor-preview.png"))

    # A mistake: the frame says what and where, in Chinese.
    _cursor_after(page, f"<p>{MARK}")
    page.keyboard.type("{{ you|nosuch }}")
    page.click("#preview")
    error = page.frame(name="template-preview").locator("#preview-error")
    error.wait_for()
    assert "第3行" in error.inner_text() and "没有名为“nosuch”的过滤器" in error.inner_text()
    shot(page, "template-editor-error")

    # 修改后自动预览: typing previews again a moment after it stops, without a click.
    with page.expect_response(lambda r: r.url.endswith("/correction_notice/preview")):
        page.check("#preview-auto")  # previews at once (still the mistake)
    assert seen[-1][0] == 400
    _cursor_after(page, "{{ you|nosuch }}")
    with page.expect_response(lambda r: r.url.endswith("/correction_notice/preview"), timeout=10000):
        for _ in range(len("|nosuch }}")):
            page.keyboard.press("Backspace")
        page.keyboard.type("}}")
    body = seen[-1][2]
    assert seen[-1][0] == 200 and body.startswith(b"%PDF"), seen[-1][:2]
    assert re.search(f"{MARK}(您|贵单位){number}", squash(pdf_text(body)))

    # Nothing was saved.
    page.goto(f"{server}/admin/letter-templates/correction_notice")
    assert page.input_value("#source") == original and MARK not in page.content()
    assert page.locator("#template-history").inner_text().count("第1版") == 0
    assert not blocked, blocked
    ctx.close()
