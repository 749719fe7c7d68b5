"""One case through the real UI in Debian's Chromium: intake → consultation → draft →
legal approval → sign-off → reply → delivery."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from app.cli import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.no_db]

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served(str):
    """The server's address; ``env`` is its environment (a worker for it runs with the same)."""
    env: dict


@pytest.fixture(scope="module")
def server():
    """The app as `make run` serves it, on its own database (SQLite or the PG test database), its files
    and its task queue in a directory of its own."""
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is not installed (make test installs it)")
    tmp = Path(tempfile.mkdtemp(prefix="ogidesk-ui-"))
    env = dict(os.environ)
    env["DATABASE_URL"] = env.get("TEST_DATABASE_URL") or f"sqlite:///{tmp / 'ui.sqlite3'}"
    env["QUEUE_URL"] = f"sqlite:///{tmp / 'queue.sqlite3'}"
    for name in ("ATTACHMENT_DIR", "CASEFILE_JOB_DIR", "LETTER_PREVIEW_DIR", "IMPORT_STAGING_DIR"):
        env[name] = str(tmp / name.lower())
    env["OGI_TODAY"] = "2026-11-23"
    env["SECRET_KEY"] = "browser-test-key-0123456789abcdef"  # served as in production: a real key
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    if env["DATABASE_URL"].startswith("postgres"):
        # Its own database, named after the test database (`test` → `test_browser`): the rest of the suite
        # keeps using that one meanwhile, and runs on other test databases do not share it.
        base_url, name = env["DATABASE_URL"].split("?", 1)[0].rsplit("/", 1)
        browser_db = f"{name}_browser"
        assert browser_db.replace("_", "").isalnum(), browser_db
        env["DATABASE_URL"] = f"{base_url}/{browser_db}"
        code = ("import os; from sqlalchemy import create_engine, text\n"
                "e = create_engine(os.environ['TEST_DATABASE_URL'].replace('postgresql://', 'postgresql+psycopg://', 1),"
                " isolation_level='AUTOCOMMIT')\n"
                "with e.connect() as c:\n"
                f"    c.execute(text('DROP DATABASE IF EXISTS {browser_db} WITH (FORCE)'))\n"
                f"    c.execute(text('CREATE DATABASE {browser_db}'))\n")
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
    subprocess.run(flask + ["db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run(flask + ["seed-demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    port = _free_port()
    # Served as `make run` serves it: warmed up (fonts, PDF engines) before it listens.
    proc = subprocess.Popen(flask + ["run", "--port", str(port)], cwd=ROOT, env={**env, "OGI_WARM_UP": "1"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = Served(f"http://127.0.0.1:{port}")
    base.env = env
    deadline = time.monotonic() + 120  # only stops a server that never comes up
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert proc.poll() is None, "the server exited before listening"
            assert time.monotonic() < deadline, "the server did not start listening"
            time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(timeout=10)
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


# `flask seed-demo` makes every demo user replace the published password at the first login.
NEW_PASSWORD = "Browser-Desk-2026"
# Per server (each module's server has its own database): (base URL, username).
_changed: set[tuple[str, str]] = set()


def login(page, base, username):
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", NEW_PASSWORD if (base, username) in _changed else DEMO_PASSWORD)
    page.click("#submit")
    if (base, username) not in _changed:
        page.wait_for_url(f"{base}/account/password")
        page.fill("input[name=current_password]", DEMO_PASSWORD)
        page.fill("input[name=new_password]", NEW_PASSWORD)
        page.fill("input[name=confirm_password]", NEW_PASSWORD)
        page.click("#submit")
        _changed.add((base, username))
    page.wait_for_url(f"{base}/")


def act(page, base, case_url, action, fill=None, select=None, check=None):
    page.goto(case_url)
    page.click(f"#action-{action}")
    for name, value in (select or {}).items():
        page.select_option(f"[name={name}]", value)
    for name, value in (fill or {}).items():
        page.fill(f"[name={name}]", value)
    for name in check or ():
        page.check(f"[name={name}]")
    page.click("#submit")
    page.wait_for_load_state()
    assert "已被他人修改" not in page.content()
    errors = page.locator(".field-error, .alert-error")
    assert errors.count() == 0, errors.all_inner_texts()


def register_in_person(page, base, name: str, phone: str, description: str) -> str:
    """The clerk's intake form for a request handed in on 2026-11-02; the new case's URL."""
    page.goto(f"{base}/cases/new")
    page.select_option("[name=channel]", "in_person")
    page.fill("[name=arrived_on]", "2026-11-02")
    page.select_option("[name=applicant_type]", "natural")
    page.fill("[name=applicant_name]", name)
    page.select_option("[name=id_type]", "resident_id")
    page.fill("[name=id_number]", "11010519491231002X")
    page.fill("[name=contact_phone]", phone)
    page.fill("[name=description]", description)
    page.click("#submit")
    page.wait_for_url(f"{base}/cases/*")
    return page.url.split("#")[0]


def test_case_through_the_ui(server, browser):
    base = server
    ctx = browser.new_context()
    page = ctx.new_page()
    blocked = []  # what the Content-Security-Policy refused (inline code or styles would show here)
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)

    login(page, base, "clerk")
    case_url = register_in_person(page, base, "张三", "13800000000", "2025年示范区旧城改造项目的征收补偿方案")
    assert "DEMO-2026-0009" in page.content()  # after the eight demo cases of seed-demo
    assert "2026-11-30" in page.content() or "2026年11月30日" in page.content()
    ctx.clear_cookies()

    login(page, base, "handler")
    act(page, base, case_url, "start")
    act(page, base, case_url, "consult", select={"kind": "third_party"},
        fill={"party": "某建设有限公司", "matter": "补偿方案含该公司商业信息", "sent_on": "2026-11-20"})
    act(page, base, case_url, "consultation_reply", select={"result": "agree"},
        fill={"answered_on": "2026-11-23", "opinion": "同意公开"})
    act(page, base, case_url, "save_draft", select={"outcome": "disclose"},
        fill={"decision": "经审查，您申请的信息予以公开。", "obtain": "随本答复书邮寄提供复印件"})
    act(page, base, case_url, "submit_draft")
    ctx.clear_cookies()

    login(page, base, "legal")
    act(page, base, case_url, "approve", check=["secrecy_reviewed"], fill={"secrecy_note": "不涉密"})
    ctx.clear_cookies()

    login(page, base, "head")
    act(page, base, case_url, "sign_off")
    ctx.clear_cookies()

    login(page, base, "handler")
    act(page, base, case_url, "issue")
    act(page, base, case_url, "deliver", select={"method": "post"},
        fill={"proof": "EMS1234567890CN"})
    page.goto(case_url)
    html = page.content()
    assert "已送达" in html
    for label in ("登记申请", "征求意见", "审核通过", "签发", "出具答复", "登记送达"):
        assert label in html, label
    # Logging out ends the session on the server: the cookie copied before opens nothing after.
    cookies = ctx.cookies()
    page.click("#logout")
    page.wait_for_url(f"{base}/login")
    ctx.add_cookies(cookies)
    page.goto(case_url)
    assert page.url.startswith(f"{base}/login")
    assert blocked == []
    ctx.close()
