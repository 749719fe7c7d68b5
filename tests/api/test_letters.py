"""Letters through the API: the reply PDF issued once and served as stored; previews; notices."""
import hashlib

from tests.api.support import assert_error


def _to_signed(api) -> int:
    case = api.register()
    cid = case["id"]
    api.act(cid, "start", "handler")
    api.act(cid, "save_draft", "handler", outcome="disclose", decision="予以公开", obtain="随本答复书邮寄提供")
    api.act(cid, "submit_draft", "handler")
    r = api.get(f"/cases/{cid}/reply-preview.pdf", as_="legal")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    api.act(cid, "approve", "legal", secrecy_reviewed=True)
    api.act(cid, "sign_off", "head")
    return cid


def test_issue_stores_one_numbered_pdf_served_unchanged(api):
    cid = _to_signed(api)
    assert api.get(f"/cases/{cid}/letters", as_="handler").get_json()["items"] == []
    api.act(cid, "issue", "handler")
    [letter] = api.get(f"/cases/{cid}/letters", as_="archivist").get_json()["items"]
    assert letter["number"] == "示自然资规公开〔2026〕1号"
    r = api.get(letter["pdf"].removeprefix("/api/v1"), as_="archivist")
    assert r.status_code == 200 and hashlib.sha256(r.data).hexdigest() == letter["sha256"]
    assert_error(api.get(f"/cases/{cid}/letters/999.pdf", as_="archivist"), 404)


def test_notice_needing_review_cannot_be_issued_before_approval(api):
    cid = api.register()["id"]
    api.act(cid, "start", "handler")
    case = api.act(cid, "fee_notice", "handler", method="per_volume", pages=31)
    ref = f"step-{case['steps'][-1]['id']}"
    listed = {n["ref"]: n for n in api.get(f"/cases/{cid}/notices", as_="handler").get_json()["items"]}
    assert listed[ref]["key"] == "fee_notice" and listed[ref]["needs_review"] and "receipt" in listed
    assert_error(api.post(f"/cases/{cid}/notices/{ref}/issue", as_="handler"), 400)
    assert_error(api.post(f"/cases/{cid}/notices/{ref}/approve", as_="handler"), 403)
    assert api.post(f"/cases/{cid}/notices/{ref}/approve", as_="legal").status_code == 200
    r = api.post(f"/cases/{cid}/notices/{ref}/issue", as_="handler")
    assert r.status_code == 201 and r.get_json()["number"].endswith("〔2026〕1号")


def test_api_previews_never_carry_the_seal(api):
    from app.extensions import db
    from app.models import Agency
    from tests.api.support import in_app
    from tests.letters.support import image_xobjects
    from tests.seals import scanned_seal

    seal = scanned_seal(600)
    in_app(api.app, lambda: setattr(db.session.scalar(db.select(Agency).where(Agency.code == "DEMO")),
                                    "seal_png", seal))
    cid = _to_signed(api)
    for path in (f"/cases/{cid}/reply-preview.pdf", f"/cases/{cid}/notices/receipt.pdf"):
        r = api.get(path, as_="legal")
        assert r.status_code == 200 and image_xobjects(r.data) == [], path
    api.act(cid, "issue", "handler")
    [letter] = api.get(f"/cases/{cid}/letters", as_="archivist").get_json()["items"]
    assert len(image_xobjects(api.get(letter["pdf"].removeprefix("/api/v1"), as_="archivist").data)) == 1
