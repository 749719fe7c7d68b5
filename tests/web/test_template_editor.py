"""The letter-template editor for a non-programmer (issue 15 item 3): the 适用 column in words, the
variables of the letter with their meanings and 插入, a live PDF preview of the unsaved wording from a
case of the agency or the example (nothing saved, numbered or recorded), Chinese errors with the line."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from app.extensions import db
from app.letters import all_letters, get_letter
from app.letters.catalogue import TEMPLATES_DIR
from app.models import Case
from tests.factories import build_case, other_agency, register, reload
from tests.letters.support import pdf_text, squash
from tests.web.conftest import form_data
from tests.web.page import Page

KEY = "correction_notice"
URL = f"/admin/letter-templates/{KEY}"
PREVIEW = URL + "/preview"
# Every code a letter's 适用 could be written in: workflow steps and outcomes.
CODES = sorted({s for l in all_letters() for s in l.steps} | {o for l in all_letters() for o in l.outcomes})


def _stock(key: str = KEY) -> str:
    return (TEMPLATES_DIR / get_letter(key).template_name).read_text(encoding="utf-8")


def _with_line(source: str, text: str) -> str:
    """``text`` at the start of the letter's body block."""
    return source.replace("{% block body %}\n", "{% block body %}\n" + text + "\n", 1)


def _everything(web) -> dict:
    """Row counts of every table, the numbering sequences and the cases' versions: what a preview must
    leave as it was."""
    def read():
        counts = {t.name: db.session.execute(db.select(db.func.count()).select_from(t)).scalar()
                  for t in db.metadata.sorted_tables}
        seqs = sorted(tuple(r) for r in db.session.execute(db.text("SELECT * FROM sequence")))
        versions = sorted(db.session.execute(db.select(Case.id, Case.version, Case.state)).all())
        return {"counts": counts, "sequences": seqs, "cases": [tuple(v) for v in versions]}
    return web.run(read)


def test_the_list_says_when_each_letter_is_made_in_words(web):
    web.as_user("admin")
    page = web.get("/admin/letter-templates")
    table = page.by_id("letter-templates").text
    assert "发出补正告知" in table and "登记申请" in table and "出具答复，办理结果为“予以公开”" in table
    for code in CODES:
        assert not re.search(rf"\b{code}\b", table), code


def test_the_edit_page_lists_the_letters_variables_with_meanings_and_insert_buttons(web):
    web.as_user("admin")
    page = web.get(URL)
    assert page.status == 200
    assert "发出补正告知" in page.by_id("letter-applies").text
    panel = page.by_id("template-variables")
    rows = {n.get("data-var"): n for n in panel.iter() if n.get("data-var")}
    for f in get_letter(KEY).fields:
        if f.type == "bytes":
            continue  # the seal: printed by the layout, explained under seal_uri
        assert f.name in rows and f.label in rows[f.name].text, f.name
    inserts = {n.get("data-insert") for n in panel.iter() if n.get("data-insert")}
    assert "seal_uri" in rows and not any(n.get("data-insert") for n in rows["seal_uri"].iter())
    assert "{{ correction_due }}" in inserts and "{{ you }}" in inserts and "|sentence" in inserts
    assert "{% for item in items %}\n<p>{{ item }}</p>\n{% endfor %}" in inserts
    assert "{% if guidance %}{{ guidance }}{% endif %}" in inserts  # optional: asked for before printed
    assert "需要补正的事项" in rows["items"].text and "多项" in rows["items"].text
    # The script is our own file (the CSP allows no inline code).
    assert any(n.get("src", "").startswith("/static/js/template_editor.js") for n in page.all("script"))


def test_preview_renders_the_unsaved_wording_for_a_case_and_changes_nothing(web, app):
    case_id = web.run(lambda: build_case("correction").id)
    number = web.run(lambda: reload(case_id).number)
    web.as_user("admin")
    page = web.get(URL)
    options = dict(page.options("preview_case"))
    assert options[""] == "示例数据" and any(number in text for text in options.values())
    previews = Path(app.config["LETTER_PREVIEW_DIR"])
    files_before = sorted(previews.rglob("*")) if previews.exists() else []
    before = _everything(web)
    data = form_data(page, "template-form")
    data.update(source=_with_line(_stock(), "<p>本机关特别提示：请携带身份证件原件。</p>"), preview_case=str(case_id))
    r = web.client.post(PREVIEW, data=data)
    assert r.status_code == 200 and r.mimetype == "application/pdf", r.get_data(as_text=True)[:300]
    text = squash(pdf_text(r.data))
    assert "本机关特别提示：请携带身份证件原件。" in text
    assert number in text and "草稿" in text
    assert "X-Example-Fields" not in r.headers  # the correction step supplies every required field
    # Nothing stored, numbered, recorded or cached; the wording in use is still the stock one.
    assert _everything(web) == before
    assert (sorted(previews.rglob("*")) if previews.exists() else []) == files_before
    assert "本机关特别提示" not in web.get(URL).by_id("source").text


def test_preview_from_the_example_and_by_case_number_names_what_the_case_lacks(web):
    case_id = web.run(lambda: register().id)  # registered: no correction step yet
    number = web.run(lambda: reload(case_id).number)
    web.as_user("admin")
    source = _with_line(_stock(), "<p>预览标记甲</p>")
    r = web.client.post(PREVIEW, data={"source": source, "preview_case": ""})
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    example_ref = get_letter(KEY).example["case_ref"]
    assert example_ref in squash(pdf_text(r.data)) and "预览标记甲" in squash(pdf_text(r.data))
    r = web.client.post(PREVIEW, data={"source": source, "preview_number": f" {number} "})
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = squash(pdf_text(r.data))
    assert number in text and example_ref not in text
    # The items to correct and the deadline come from the example: the case has no correction step.
    assert unquote(r.headers["X-Example-Fields"]).split("、") == ["需要补正的事项", "补正期限（截止日期）"]


def test_preview_of_a_reply_uses_the_cases_draft(web):
    case_id = web.run(lambda: build_case("review").id)
    obtain = web.run(lambda: reload(case_id).current_draft.fields["obtain"])
    web.as_user("admin")
    source = _stock("reply_disclose").replace("{% block decision %}\n", "{% block decision %}\n<p>答复预览标记</p>\n")
    r = web.client.post("/admin/letter-templates/reply_disclose/preview", data={"source": source,
                                                                              "preview_case": str(case_id)})
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    text = squash(pdf_text(r.data))
    assert "答复预览标记" in text and squash(obtain).rstrip("。") in text
    assert "X-Example-Fields" not in r.headers


def test_broken_wording_previews_as_a_chinese_error_with_its_line(web):
    case_id = web.run(lambda: build_case("correction").id)
    web.as_user("admin")
    before = _everything(web)
    for wrong, words in (("{% if you %}", "endif"), ("{{ you|nosuch }}", "过滤器"), ("{{ 1 / 0 }}", "除数为零"),
                         ("{{ applicant.nmae }}", "nmae")):
        r = web.client.post(PREVIEW, data={"source": _with_line(_stock(), wrong), "preview_case": str(case_id)})
        assert r.status_code == 400 and r.mimetype == "text/html"
        message = r.get_data(as_text=True)
        error = re.search(r'id="preview-error">(.*?)</div>', message, re.S).group(1)
        assert re.search(r"第\d+行", error) and words in error, error
        assert "Jinja" not in message and "undefined" not in message and "Traceback" not in message
    assert _everything(web) == before


def test_preview_refuses_another_agencys_case_and_other_roles(web):
    def foreign():
        _, others = other_agency("OTHER")
        c = register(clerk=others["clerk"])
        return c.id, c.number
    foreign_id, foreign_number = web.run(foreign)
    web.as_user("admin")
    source = _stock()
    assert web.client.post(PREVIEW, data={"source": source, "preview_case": str(foreign_id)}).status_code == 404
    r = web.client.post(PREVIEW, data={"source": source, "preview_number": foreign_number})
    assert r.status_code == 404 and "没有登记编号" in r.get_data(as_text=True)
    assert web.client.post(PREVIEW, data={"source": source, "preview_case": "x"}).status_code == 404
    assert web.client.post("/admin/letter-templates/no_such_letter/preview", data={"source": source}).status_code == 404
    for username in ("handler", "clerk", "legal", "head", "archivist"):
        web.as_user(username)
        r = web.client.post(PREVIEW, data={"source": source})
        assert r.status_code == 403, username


def test_a_refused_save_keeps_the_wording_and_the_chosen_case(web):
    case_id = web.run(lambda: build_case("correction").id)
    web.as_user("admin")
    broken = _with_line(_stock(), "{{ you|nosuch }}")
    r = web.client.post(URL, data={"source": broken, "preview_case": str(case_id), "preview_number": ""})
    page_html = r.get_data(as_text=True)
    assert r.status_code == 400 and "没有名为“nosuch”的过滤器" in page_html
    page = Page(r)
    assert page.value("source") == broken and page.value("preview_case") == str(case_id)
