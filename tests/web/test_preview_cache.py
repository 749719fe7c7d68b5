"""Draft previews under load: a reload the browser revalidates is a 304 with nothing rendered or
looked up, and a preview rendered by one worker serves the host's other workers (a file per
content key) instead of being rendered once per worker."""
import threading
from pathlib import Path

import pytest

from app.services import letters as L
from app.services.memo import FileMemo
from tests.factories import build_case, save_draft


def counters():
    return (L._DRAFTS.hits, L._DRAFTS.misses, L._DRAFT_FILES.hits, L._DRAFT_FILES.misses)


@pytest.mark.parametrize("door", ["web", "api"])
def test_a_reload_of_an_unchanged_draft_is_a_304_without_rendering(web, door):
    case_id = web.run(lambda: save_draft(build_case("handling")).id)
    prefix = "/api/v1" if door == "api" else ""
    url = f"{prefix}/cases/{case_id}/reply-preview.pdf"
    if door == "api":
        token = web.client.post("/api/v1/tokens", json={"username": "handler", "password": "ogidesk-demo"}).get_json()
        headers = {"Authorization": "Bearer " + token["token"]}
    else:
        web.as_user("handler")
        headers = {}
    first = web.client.get(url, headers=headers)
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and first.headers["Cache-Control"] == "private, no-cache"

    before = counters()
    again = web.client.get(url, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == "private, no-cache"
    assert counters() == before  # neither rendered nor fetched from a memo

    # Another draft content is another key: the old validator gets the new PDF.
    web.run(lambda: save_draft(_case(case_id), decision="申请人可来电预约查阅时间。"))
    changed = web.client.get(url, headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag and changed.data != first.data


def _case(case_id):
    from app.extensions import db
    from app.models import Case
    return db.session.get(Case, case_id)


def test_a_validator_does_not_skip_the_access_checks(web):
    case_id = web.run(lambda: build_case("review").id)
    web.as_user("legal")
    etag = web.client.get(f"/cases/{case_id}/reply-preview.pdf").headers["ETag"]
    web.as_user("clerk")  # may open the case, not the reply preview
    r = web.client.get(f"/cases/{case_id}/reply-preview.pdf", headers={"If-None-Match": etag})
    assert r.status_code == 403
    web.client.post("/logout")
    r = web.client.get(f"/cases/{case_id}/reply-preview.pdf", headers={"If-None-Match": etag})
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_notice_previews_are_revalidated_too_and_pages_stay_no_store(web):
    case_id = web.run(lambda: build_case("registered").id)
    web.as_user("handler")
    url = f"/cases/{case_id}/notices/receipt.pdf"
    etag = web.client.get(url).headers["ETag"]
    assert web.client.get(url, headers={"If-None-Match": etag}).status_code == 304
    r = web.client.get(f"/cases/{case_id}", headers={"If-None-Match": etag})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store" and "ETag" not in r.headers


def test_a_preview_rendered_by_one_worker_serves_the_others(web):
    case_id = web.run(lambda: build_case("review").id)
    web.as_user("legal")
    url = f"/cases/{case_id}/reply-preview.pdf"
    first = web.client.get(url)
    assert first.status_code == 200
    assert Path(web.app.config["LETTER_PREVIEW_DIR"]).stat().st_mode & 0o077 == 0  # personal data: 0700
    L._DRAFTS.clear()  # as another worker of the host, whose memo is empty
    hits, misses = L._DRAFT_FILES.hits, L._DRAFT_FILES.misses
    other = web.client.get(url)
    assert other.data == first.data
    assert (L._DRAFT_FILES.hits, L._DRAFT_FILES.misses) == (hits + 1, misses)


def test_the_file_memo_makes_a_key_once_across_threads_and_stays_bounded(tmp_path):
    memo = FileMemo(lambda: tmp_path / "m", max_files=3)
    made = []
    gate = threading.Event()

    def make():
        made.append(1)
        gate.wait(5)  # hold the key while the other threads ask for it
        return b"pdf"

    key = "ab" * 32
    threads = [threading.Thread(target=lambda: memo.get(key, make)) for _ in range(4)]
    for t in threads:
        t.start()
    while not made:
        threading.Event().wait(0.01)
    gate.set()
    for t in threads:
        t.join()
    assert len(made) == 1 and memo.misses == 1 and memo.hits == 3
    for i in range(5):
        memo.get(f"{i:064x}", lambda: b"x")
    assert len(list((tmp_path / "m").glob("*.bin"))) == 3
    with pytest.raises(ValueError):
        memo.get("../../etc/passwd", lambda: b"")


def test_static_files_are_addressed_by_content_and_kept_by_the_browser(web):
    import re

    web.as_user("handler")
    html = web.client.get("/").get_data(as_text=True)
    css = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]{12})"', html).group(1)
    js = re.search(r'src="(/static/js/app\.js\?v=[0-9a-f]{12})"', html).group(1)
    for url in (css, js):
        r = web.client.get(url)
        assert r.status_code == 200 and "max-age=31536000" in r.headers["Cache-Control"], url
    # Without the current version (an old page, a typed address) it is revalidated as before.
    for url in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        r = web.client.get(url)
        assert r.status_code == 200 and "max-age=31536000" not in r.headers.get("Cache-Control", ""), url
