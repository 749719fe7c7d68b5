"""A draft reply's preview is a pure function of its content and the agency's wording: rendered once,
served again from the memo, and rendered anew when either changes."""
from app.services import letters as L
from tests.api.support import in_app
from tests.letters.support import pdf_text


def _draft(api, decision: str) -> int:
    cid = api.register()["id"]
    api.act(cid, "start", "handler")
    api.act(cid, "save_draft", "handler", outcome="disclose", decision=decision, obtain="随本答复书邮寄提供")
    return cid


def test_a_draft_preview_is_rendered_once_per_content(api):
    L._DRAFTS.clear()
    cid = _draft(api, "申请人可于工作日到本机关政务服务中心查阅原件。")
    url = f"/cases/{cid}/reply-preview.pdf"
    first = api.get(url, as_="handler")
    misses, hits = L._DRAFTS.misses, L._DRAFTS.hits
    again = api.get(url, as_="handler")
    assert again.status_code == 200 and again.data == first.data
    assert (L._DRAFTS.misses, L._DRAFTS.hits) == (misses, hits + 1)

    api.act(cid, "save_draft", "handler", outcome="disclose", decision="申请人可来电预约查阅时间。",
            obtain="随本答复书邮寄提供")
    changed = api.get(url, as_="handler")
    assert L._DRAFTS.misses == misses + 1 and "来电预约" in pdf_text(changed.data)


def test_the_agency_wording_is_part_of_the_preview_key(api):
    from app.extensions import db
    from app.models import Agency, LetterTemplateOverride

    L._DRAFTS.clear()
    cid = _draft(api, "申请人可于工作日到本机关政务服务中心查阅原件。")
    url = f"/cases/{cid}/reply-preview.pdf"
    before = api.get(url, as_="handler").data
    source = open("letter_templates/reply_disclose/template.html.j2", encoding="utf-8").read()

    def override():
        agency = db.session.scalar(db.select(Agency).where(Agency.code == "DEMO"))
        db.session.add(LetterTemplateOverride(agency_id=agency.id, key="reply_disclose",
                                              source=source.replace("{% block decision %}", "{% block decision %}<p>特此告知。</p>", 1)))
    in_app(api.app, override)
    after = api.get(url, as_="handler").data
    assert "特此告知" not in pdf_text(before) and "特此告知" in pdf_text(after)
