"""PDFs are typeset in a sandbox: no server file and no URL gets in, whatever the HTML says; agency
templates with external references are refused (when saved and again when rendered)."""
from __future__ import annotations

import ast
import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.letters import LetterError, render_html, render_pdf, validate_template
from app.letters.catalogue import example_context
from app.letters.sandbox import allowed_file, reference_in_html, reference_in_source

ROOT = Path(__file__).resolve().parents[2]
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360f80f0000010101005d0d2e0e0000000049454e44ae426082")


class Probe:
    """A real HTTP server on 127.0.0.1 that records every request it gets."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        probe = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                probe.requests.append(self.path)
                body = PNG if self.path.endswith(".png") else b"p { color: red }"
                self.send_response(200)
                self.send_header("Content-Type", "image/png" if self.path.endswith(".png") else "text/css")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def probe():
    p = Probe()
    yield p
    p.close()


def hostile(url: str) -> str:
    return f"""<!doctype html><html><head><meta charset="utf-8">
<link rel="attachment" href="file:///proc/self/environ" title="env">
<link rel="attachment" href="file:///etc/passwd">
<link rel="stylesheet" href="{url}/sheet.css">
<style>@import url({url}/import.css); body {{ background: url({url}/bg.png) }}</style>
</head><body>
<p>探针</p><img src="{url}/img.png"><img src="file:///etc/passwd">
<a rel="attachment" href="file:///etc/hostname">附件</a>
<svg width="10" height="10"><image href="{url}/svg.png" width="10" height="10"/></svg>
<p style="background-image: url('{url}/inline.png')">x</p>
</body></html>"""


def assert_clean(pdf: bytes, probe: Probe) -> None:
    assert probe.requests == []
    reader = PdfReader(io.BytesIO(pdf))
    assert not reader.attachments
    assert b"/EmbeddedFile" not in pdf and b"/FileAttachment" not in pdf
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            assert annot.get_object().get("/Subtype") != "/FileAttachment"
    text = "".join(p.extract_text() for p in reader.pages)
    assert "root:" not in text and "PATH=" not in text


@pytest.mark.no_db
def test_probe_server_answers(probe):
    # The probe itself works: a plain urllib request reaches it (so "no request" below means something).
    from urllib.request import urlopen

    assert urlopen(probe.url + "/img.png", timeout=5).read() == PNG
    assert probe.requests == ["/img.png"]
    probe.requests.clear()


@pytest.mark.no_db
def test_letter_engine_loads_no_file_and_no_url(probe):
    from app.letters import render as R

    pdf = R._get_engine().write_pdf(hostile(probe.url))
    assert pdf.startswith(b"%PDF") and "探针" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert_clean(pdf, probe)


def test_case_file_fonts_setting_cannot_fetch_urls(app, probe):
    from app.casefile.assemble import build_casefile
    from tests.conftest import user
    from tests.factories import act, register, reload

    saved = app.config.get("CASEFILE_FONTS")
    app.config["CASEFILE_FONTS"] = {"faces": f"@font-face {{ font-family: Probe; src: url({probe.url}/f.ttf) }}",
                                    "body": "Probe, serif"}
    try:
        with app.app_context():
            case = register()
            act(case, "clerk", "withdraw", {"note": "申请人书面撤回"})
            cf = build_casefile(reload(case), user("archivist"))
    finally:
        app.config["CASEFILE_FONTS"] = saved
        if saved is None:
            app.config.pop("CASEFILE_FONTS")
        from app.casefile import render as casefile_render
        for key in [k for k in casefile_render._engines if "Probe" in k]:
            del casefile_render._engines[key]  # free its font configuration now, not at exit
        import gc
        gc.collect()
    assert cf.pdf.startswith(b"%PDF")
    assert_clean(cf.pdf, probe)


@pytest.mark.no_db
def test_every_weasyprint_document_in_the_app_uses_the_sandbox():
    """Each HTML(...)/CSS(...) built by the app passes url_fetcher (WeasyPrint's default opens any URL)."""
    calls = []
    for path in (ROOT / "app").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else (
                "_weasy_html()" if isinstance(f, ast.Call) and getattr(f.func, "id", "") == "_weasy_html" else "")
            if name in ("HTML", "CSS", "html_class", "_weasy_html()", "LetterHTML", "CaseFileHTML"):
                calls.append((f"{path.relative_to(ROOT)}:{node.lineno}", {k.arg for k in node.keywords}))
    assert len(calls) >= 6
    assert [c for c, kw in calls if "url_fetcher" not in kw] == []


@pytest.mark.no_db
def test_fetcher_serves_only_static_assets_and_fonts(tmp_path):
    assert allowed_file((ROOT / "static" / "css" / "app.css").as_uri())
    font = next(iter(sorted(Path("/usr/share/fonts").rglob("*.tt[fc]"))), None)
    assert font is not None and allowed_file(font.as_uri())
    for url in ("file:///etc/passwd", "file:///proc/self/environ", (ROOT / "app" / "config.py").as_uri(),
                (ROOT / "static").as_uri() + "/../app/config.py", "file://evil.example/static/css/app.css",
                "http://127.0.0.1/static/css/app.css", "file:///usr/share/fonts/../../../etc/passwd"):
        assert allowed_file(url) is None, url
    outside = tmp_path / "secret.ttf"
    outside.write_bytes(b"x")
    assert allowed_file(outside.as_uri()) is None  # a font file, but not in a font folder


OVERRIDE_PROBES = {
    '<link rel="attachment" href="file:///proc/self/environ">': "<link>",
    '<img src="http://127.0.0.1:9/x.png">': "src 属性引用了“http://127.0.0.1:9/x.png”",
    '<img src="/etc/passwd">': "src 属性引用了“/etc/passwd”",
    '<a rel="attachment" href="file:///etc/passwd">附件</a>': "href 属性引用了“file:///etc/passwd”",
    '<p style="background: url(http://127.0.0.1:9/x)">x</p>': "url()",
    '<p style="background: \\75 rl(x.png)">x</p>': "url()",
    "<style>@import 'http://127.0.0.1:9/a.css';</style>": "@import",
    '<img src="&#104;ttp://127.0.0.1:9/x.png">': "src 属性引用了",
    '<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">': "src 属性引用了“data:",
    '<{{ "link" }} rel="attachment" href="{{ applicant.name }}">': "标签名",
    '{% if applicant.name == "x" %}<iframe src="x"></iframe>{% endif %}': "<iframe>",
}


def _override(extra: str) -> str:
    stock = (ROOT / "letter_templates" / "reply_disclose" / "template.html.j2").read_text(encoding="utf-8")
    return stock.replace("{% block decision %}", "{% block decision %}\n" + extra, 1)


@pytest.mark.no_db
@pytest.mark.parametrize("extra", OVERRIDE_PROBES)
def test_override_with_external_reference_is_refused(extra):
    source = _override(extra)
    assert "{% block decision %}\n" + extra in source
    message = validate_template(source, "reply_disclose")
    assert message and OVERRIDE_PROBES[extra] in message and "不能引用文件、网址" in message
    assert "第" in message and "行" in message
    with pytest.raises(LetterError, match="不能引用文件、网址"):
        render_pdf("reply_disclose", example_context("reply_disclose"), overrides={"reply_disclose": source})


@pytest.mark.no_db
def test_renderer_checks_what_the_override_produced():
    # A reference assembled at render time (invisible in the source) is caught in the rendered HTML.
    source = _override('{{ ("<i" ~ "mg s" ~ "rc=ht" ~ "tp://127.0.0.1:9/x.png>")|safe }}')
    assert reference_in_source(source) is None
    with pytest.raises(LetterError, match="src 属性引用了“http://127.0.0.1:9/x.png”"):
        render_html("reply_disclose", example_context("reply_disclose"), {"reply_disclose": source})
    assert "不能引用" in validate_template(source, "reply_disclose")


@pytest.mark.no_db
def test_ordinary_wording_seal_and_websites_in_text_are_accepted():
    source = _override('<p>本机关政府信息公开网址：http://www.example.gov.cn ，可登录查询。</p><p><a href="#top">返回</a></p>')
    assert validate_template(source, "reply_disclose") is None
    ctx = example_context("reply_disclose")
    ctx.setdefault("agency", {})["seal_png"] = PNG
    pdf = render_pdf("reply_disclose", ctx, overrides={"reply_disclose": source})
    assert "http://www.example.gov.cn" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text().replace("\n", "")
    seal = render_html("reply_disclose", ctx, {"reply_disclose": source})
    assert 'src="data:image/png;base64,' in seal
    from app.letters.seal import printed_seal  # the seal as printed: fitted to its size

    assert reference_in_html(seal) and reference_in_html(seal, {"data:image/png;base64," + __import__(
        "base64").b64encode(printed_seal(PNG)).decode()}) is None


def test_admin_cannot_save_a_probe_template(app, client):
    from app.extensions import db
    from app.models import LetterTemplateOverride
    from tests.web.conftest import Web

    web = Web(app, client)
    web.as_user("admin")
    source = _override('<link rel="attachment" href="file:///proc/self/environ">')
    r = client.post("/admin/letter-templates/reply_disclose", data={"source": source})
    body = r.get_data(as_text=True)
    assert r.status_code == 400 and "使用了 &lt;link&gt; 标签" in body and "不能引用文件、网址" in body
    assert "file:///proc/self/environ" in body  # what was typed is kept
    assert web.run(lambda: db.session.scalar(db.select(db.func.count()).select_from(LetterTemplateOverride))) == 0
