"""删除处理 in Debian's Chromium (issue 14): the handler uploads a source document, marks a searched word,
accepts the ID-number suggestion, draws a box with the mouse and one with a finger (390 px), drafts the 部分公开
reply with "按删除处理标注生成"; legal review sees the redactions beside the draft and approves; the released
copy is made by `flask worker` in its own process while the page shows its progress; the head signs, the
handler issues; the reply lists the released copy as 附件 with its page count, and the released PDF has
neither the ID number nor the searched word in any text layer.

Screenshots of the workspace (1280 and 390 px) and of the review panel go to $OGI_SCREENSHOTS when set."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser import test_walkthrough as walkthrough
from tests.browser.test_walkthrough import ROOT, act, browser, login, server  # noqa: F401  (fixtures)
from tests.redaction_pdf import ID_NUMBER, SECRET, source_pdf

pytestmark = [pytest.mark.browser, pytest.mark.no_db]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
SHOTS = os.environ.get("OGI_SCREENSHOTS")


@pytest.fixture(autouse=True, scope="module")
def _fresh_passwords():
    """This module's server has its own database: whose password was changed is known per database."""
    walkthrough._changed.clear()
    yield
    walkthrough._changed.clear()


@pytest.fixture(scope="module")
def worker(server):  # noqa: F811
    """`flask worker` for the server's database and task queue, in its own process (as `make run`)."""
    log = Path(server.env["ATTACHMENT_DIR"]).parent / "worker.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--threads", "1"],
                                cwd=ROOT, env=server.env, stdout=out, stderr=subprocess.STDOUT)
    yield log
    proc.send_signal(signal.SIGINT)  # Huey's graceful stop
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def text_of(pdf: bytes) -> str:
    """Every text layer, as pypdf and pdfium read it."""
    out = [p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages]
    out += [page.get_textpage().get_text_range() for page in pdfium.PdfDocument(pdf)]
    return "\n".join(out)


def status(page, text: str) -> None:
    page.wait_for_selector(f"#redact-status:has-text('{text}')", timeout=20000)


def drag(page, selector: str, a: tuple[float, float], b: tuple[float, float]) -> None:
    """A mouse drag from a to b, as fractions of the element."""
    el = page.locator(selector)
    el.scroll_into_view_if_needed()
    box = el.bounding_box()
    page.mouse.move(box["x"] + a[0] * box["width"], box["y"] + a[1] * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + b[0] * box["width"], box["y"] + b[1] * box["height"], steps=8)
    page.mouse.up()


def touch_drag(page, selector: str, a: tuple[float, float], b: tuple[float, float]) -> None:
    """A finger drag (touch events through the DevTools protocol; Chromium turns them into pointer events)."""
    el = page.locator(selector)
    el.scroll_into_view_if_needed()
    box = el.bounding_box()
    cdp = page.context.new_cdp_session(page)
    x0, y0 = box["x"] + a[0] * box["width"], box["y"] + a[1] * box["height"]
    x1, y1 = box["x"] + b[0] * box["width"], box["y"] + b[1] * box["height"]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]})
    for i in range(1, 9):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [
            {"x": x0 + (x1 - x0) * i / 8, "y": y0 + (y1 - y0) * i / 8}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_partial_disclosure_with_redaction_through_the_ui(server, browser, worker, tmp_path):  # noqa: F811
    base = server
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = ctx.new_page()
    blocked, errors = [], []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    source = tmp_path / "补偿方案.pdf"
    source.write_bytes(source_pdf())

    # The clerk registers the request; the handler starts on it.
    login(page, base, "clerk")
    case_url = walkthrough.register_in_person(page, base, "李四", "13800000001", "示范区旧城改造项目征收补偿方案")
    ctx.clear_cookies()
    login(page, base, "handler")
    act(page, base, case_url, "start")

    # The workspace: upload the source document.
    page.goto(case_url)
    page.click("#link-workspace")
    page.fill("#title", "征收补偿方案")
    page.set_input_files("#file", str(source))
    page.click("#upload-submit")
    page.wait_for_load_state()
    assert "已上传原件：征收补偿方案（2 页）" in page.locator(".flashes").inner_text()
    assert "有（可查找）" in page.locator("#documents").inner_text()
    page.wait_for_selector(".rpage[data-page='1'] img")

    # Search a word and mark every hit.
    page.fill("#search-q", SECRET)
    page.click("#search-submit")
    page.wait_for_selector("#search-results li")
    assert page.locator(".rhit").count() == 1
    page.click("#search-mark-all")
    status(page, "请先选择依据")  # the basis is required
    page.select_option("#search-basis", "第十六条第二款")
    page.click("#search-mark-all")
    status(page, "已标注 1 处")

    # Accept the ID-number suggestion (第十五条 preselected).
    suggestion = page.locator(".suggestion", has_text="身份证号码")
    suggestion.wait_for()
    assert ID_NUMBER in suggestion.inner_text()
    suggestion.locator("button", has_text="采纳").click()
    status(page, "已采纳 1 条建议")
    expect(page.locator(".suggestion", has_text="身份证号码")).to_have_count(0)

    # Draw a box over the name with the mouse; Esc drops a second one; the drawn box asks for its basis.
    page.click("#tool-draw")
    assert page.get_attribute("#tool-draw", "aria-pressed") == "true"
    drag(page, ".rpage[data-doc] >> nth=0", (0.26, 0.15), (0.36, 0.185))
    page.wait_for_selector(".rpop")
    page.click(".rpop button[type=submit]")
    assert page.locator(".rpop .error-msg").inner_text() == "请选择不予公开的依据"
    page.select_option(".rpop select", "第十五条")
    page.fill(".rpop input[name=note]", "被征收人姓名")
    page.click(".rpop button[type=submit]")
    status(page, "已保存标注")
    drag(page, ".rpage[data-doc] >> nth=0", (0.5, 0.5), (0.7, 0.6))
    page.wait_for_selector(".rpop")
    page.keyboard.press("Escape")
    assert page.locator(".rpop").count() == 0 and page.locator(".rbox-new").count() == 0
    page.keyboard.press("Escape")
    assert page.get_attribute("#tool-draw", "aria-pressed") == "false"
    expect(page.locator(".rbox[data-id]")).to_have_count(3)
    assert page.locator("#box-count").inner_text() == "（3 处）"
    assert "被征收人姓名" in page.locator("#box-list").inner_text()
    assert "身份证号码" in page.locator("#preview-rows").inner_text()
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "redaction-workspace")

    # On a phone: the same page, a box drawn with a finger; a tap on it opens it in a bottom sheet.
    phone_ctx = browser.new_context(**PHONE)
    phone_ctx.add_cookies(ctx.cookies())
    phone = phone_ctx.new_page()
    phone.on("pageerror", lambda e: errors.append(str(e)))
    phone.goto(page.url.split("#")[0])
    phone.wait_for_selector(".rbox[data-id]")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.click("#tool-draw")
    assert phone.evaluate("getComputedStyle(document.querySelector('.rpage')).touchAction") == "none"
    touch_drag(phone, ".rpage[data-doc] >> nth=1", (0.255, 0.19), (0.44, 0.23))  # over the mobile number
    phone.wait_for_selector(".rpop")
    phone.select_option(".rpop select", "第十五条")
    phone.fill(".rpop input[name=note]", "联系电话")
    phone.click(".rpop button[type=submit]")
    status(phone, "已保存标注")
    expect(phone.locator(".rbox[data-id]")).to_have_count(4)
    shot(phone, "redaction-workspace-390")
    phone.click("#tool-draw")  # off: a tap on a box opens it
    phone.locator(".rbox[data-id]", has_text="第十五条").last.click()
    phone.wait_for_selector(".rpop")
    assert phone.evaluate("getComputedStyle(document.querySelector('.rpop')).position") == "fixed"  # a bottom sheet
    assert phone.input_value(".rpop input[name=note]") == "联系电话"
    if SHOTS:
        phone.screenshot(path=str(Path(SHOTS) / "redaction-popover-390.png"))
    phone.click(".rpop button:has-text('关闭')")
    assert phone.locator(".rpop").count() == 0
    phone_ctx.close()

    # The desktop page still shows the set before the phone's box: its next write is refused (409), the page
    # says so and shows the set as it is; the phone's box is then removed from the list.
    page.fill("#search-q", "人民币伍拾万元整")
    page.click("#search-submit")
    page.wait_for_selector("#search-results li")
    page.select_option("#search-basis", "第十五条")
    page.click("#search-mark-all")
    status(page, "已被他人修改")
    expect(page.locator(".rbox[data-id]")).to_have_count(4)
    page.on("dialog", lambda d: d.accept())
    page.locator("#box-list li", has_text="联系电话").locator("button", has_text="删除").click()
    status(page, "已取消标注")
    expect(page.locator(".rbox[data-id]")).to_have_count(3)

    # The draft: 部分公开, rows and 附件 from the boxes.
    page.goto(case_url)
    page.click("#action-save_draft")
    assert page.input_value("[name=outcome]") == "partial"
    page.fill("[name=withheld-0-part]", "临时措辞")
    page.click("#withheld-generate")
    page.wait_for_load_state()
    assert "已按删除处理标注填入" in page.locator("#form-notice").inner_text()
    parts = page.locator("[data-row-key=part]").evaluate_all("els => els.map(e => e.value)")
    assert len(parts) == 2 and "被征收人姓名、身份证号码" in parts[0]
    assert parts[1] == "《征收补偿方案》第2页中的遮盖处理的内容"  # never the covered words themselves
    assert page.input_value("[name=attachments]") == "征收补偿方案（删除处理版，共2页）"
    page.fill("[name=disclosed]", "征收补偿方案（删除处理版）")
    page.fill("[name=obtain]", "随本答复书提供删除处理版")
    page.click("#submit")
    page.wait_for_url(case_url)
    assert page.locator(".alert-error").count() == 0, page.locator(".alert-error").all_inner_texts()
    act(page, base, case_url, "submit_draft")
    ctx.clear_cookies()

    # Legal review sees the redactions beside the draft, approves, and makes the released copy.
    login(page, base, "legal")
    page.goto(case_url)
    page.click("#action-approve")
    panel = page.locator("#review-redaction")
    assert "《征收补偿方案》共2页，标注 3 处" in panel.inner_text() and "与本稿一致" in panel.inner_text()
    assert page.locator("#redaction-stale").count() == 0
    assert page.locator("#redaction-thumbs figure").count() == 2
    panel.scroll_into_view_if_needed()
    # The page images inside the SVGs are loaded before the screenshot.
    for href in page.locator("#redaction-thumbs image").evaluate_all("els => els.map(e => e.getAttribute('href'))"):
        assert page.context.request.get(f"{base}{href}").ok
    shot(page, "redaction-review")
    page.check("[name=secrecy_reviewed]")
    page.fill("[name=secrecy_note]", "不涉密")
    page.click("#submit")
    page.wait_for_url(case_url)
    page.goto(case_url)
    page.click("#link-workspace")
    assert page.locator("#read-only").count() == 1 and page.locator("#tool-draw").count() == 0
    page.click("#release-start")
    page.wait_for_load_state()
    assert page.locator("#release-running").count() == 1 or page.locator("#release-ready").count() == 1
    page.wait_for_selector("#release-ready", timeout=120000)  # the page reloads itself when the job ends
    assert "2（遮盖 2 页）" in page.locator("#release-list").inner_text()
    page.locator("#release").scroll_into_view_if_needed()
    shot(page, "redaction-release")
    ctx.clear_cookies()

    login(page, base, "head")
    act(page, base, case_url, "sign_off")
    ctx.clear_cookies()
    login(page, base, "handler")
    act(page, base, case_url, "issue")

    # The reply lists the released copy as its 附件; the released copy keeps nothing covered.
    page.goto(case_url)
    href = page.locator("#issued-letters a[id^=letter-]").first.get_attribute("href")
    reply = page.context.request.get(f"{base}{href}").body()
    assert "征收补偿方案（删除处理版，共2页）" in text_of(reply).replace("\n", "").replace(" ", "")
    with page.expect_download() as dl:
        page.click("#link-release")
    assert dl.value.suggested_filename.endswith("删除处理版.pdf")
    released = Path(dl.value.path()).read_bytes()
    assert released.startswith(b"%PDF") and len(PdfReader(io.BytesIO(released)).pages) == 2
    text = text_of(released)
    assert ID_NUMBER not in text and SECRET not in text
    assert blocked == [] and errors == []
    ctx.close()
