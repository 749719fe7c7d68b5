"""Benchmark of the printed case file (案卷): a 60-page file of issued letters.

Builds a scratch SQLite database in /tmp, walks one case to "delivered" through the services,
issues 30 two-page letters rendered by WeasyPrint (varied wording, as real letters are), then
prints the case file several times and reports time and size against the targets:
≤ 1 s and ≤ 300 KiB plus the attachments' own size (here: the embedded original letters).

    .venv/bin/python bench/bench_casefile.py                  # Noto fonts, writes docs/performance.md
    .venv/bin/python bench/bench_casefile.py --fonts prepared # the letters engine's prepared fonts
    .venv/bin/python bench/bench_casefile.py --no-doc --runs 3

Wall-clock times depend on what else the machine runs; CPU time of this process is reported too.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- casefile:begin -->", "<!-- casefile:end -->"
TARGET_S, TARGET_KIB = 1.0, 300

NAMES = ("王建华 李秀英 张伟 刘洋 陈静 杨帆 赵磊 黄丽 周强 吴敏 徐涛 孙芳 马超 朱红 胡军 郭琳 何平 高翔 林峰 罗娟 "
         "梁勇 宋佳 郑凯 谢婷 韩冰 唐亮 冯雪 于洋 董明 萧然").split()
SUBJECTS = ["示范区旧城改造项目的征收补偿方案", "东湖街道安置房分配方案及分配结果",
            "人民路拓宽工程的立项批复和用地批准文件", "西山镇集体土地征收的批准文件",
            "高新区控制性详细规划调整的批复", "南港片区建设工程规划许可证及附图",
            "2025年度国有土地使用权出让合同", "北岸新区环境影响评价报告及审批意见", "老城区违法建设查处决定书",
            "新城区学校布局专项规划", "耕地占补平衡项目的验收材料", "滨江路地块出让的成交确认书",
            "幸福小区规划条件核实意见", "示范大道两侧绿化带调整的会议纪要",
            "农贸市场搬迁项目的社会稳定风险评估报告"]
TITLES = [("reply_disclose", "政府信息公开申请答复书"), ("correction_notice", "政府信息公开申请补正告知书"),
          ("extension_notice", "政府信息公开申请延期答复告知书"),
          ("consultation_third_party", "政府信息公开申请征求意见书"),
          ("consultation_applicant", "政府信息公开申请征求意见告知书"), ("fee_notice", "政府信息公开申请收费通知书"),
          ("reply_not_exist", "政府信息公开申请答复书"), ("reply_partial", "政府信息公开申请答复书")]
PARAS = [
    "{name}：",
    "本机关于{recv}收到您（单位）通过{channel}提出的政府信息公开申请，申请获取“{subject}”的政府信息，本机关受理编号为{case_no}。",
    "经审查，根据《中华人民共和国政府信息公开条例》第三十六条第（二）项的规定，您申请获取的政府信息属于公开范围，"
    "本机关决定予以公开。现将有关情况告知如下：{subject}已由本机关{dept}负责制作并保存，经检索档案管理系统及业务科室台账，"
    "共找到相关文件{n}件，合计{pages}页。",
    "根据您在申请中选择的获取信息的方式，本机关将以纸质复印件形式随本答复书一并邮寄提供，邮寄地址为您在申请表中填写的{addr}。"
    "如您需要电子文件，可于收到本答复书之日起十五个工作日内携带本人有效身份证件到本机关政务服务窗口（{addr2}）领取。",
    "需要说明的是，所提供信息中涉及个人隐私的姓名、身份证号码、联系电话等内容，已依照《中华人民共和国政府信息公开条例》"
    "第十五条的规定作区分处理。",
    "如对本答复不服，可以自收到本答复书之日起六十日内向{gov}申请行政复议，或者在六个月内向{court}提起行政诉讼。",
    "联系人：{staff}　联系电话：0000-12345678",
]
CHANNELS = ["互联网渠道", "邮寄方式", "当面提交", "传真方式"]
DEPTS = ["规划管理科", "土地利用科", "不动产登记中心", "执法监察支队", "办公室"]
ADDRS = ["示范市幸福路8号", "示范市人民路1号", "示范市东湖街道建设巷12号", "示范市高新区创业大道99号"]
LETTER_CSS = """
@page { size: A4; margin: 37mm 26mm 35mm 28mm;
        @bottom-center { content: "— " counter(page) " —"; font-family: %(body)s; font-size: 14pt; } }
body { font-family: %(body)s; font-size: 16pt; line-height: 28.95pt; }
h1 { font-family: %(title)s; font-size: 22pt; text-align: center; font-weight: bold; line-height: 1.4;
     margin: 0 0 8pt; }
.no { text-align: center; margin: 0 0 16pt; }
p { text-indent: 2em; margin: 0; }
.sign { text-align: right; margin-top: 24pt; }
"""


def letter_html(rnd: random.Random, k: int, title: str, number: str) -> str:
    vals = {"name": rnd.choice(NAMES), "recv": f"2026年{rnd.randint(1, 10)}月{rnd.randint(1, 28)}日",
            "channel": rnd.choice(CHANNELS), "subject": rnd.choice(SUBJECTS), "case_no": f"DEMO-2026-{k + 1:04d}",
            "dept": rnd.choice(DEPTS), "n": rnd.randint(2, 9), "pages": rnd.randint(5, 60), "addr": rnd.choice(ADDRS),
            "addr2": rnd.choice(ADDRS), "gov": "示范市人民政府", "court": "示范市示范区人民法院",
            "staff": rnd.choice(NAMES)}
    body = "".join(f"<p>{p.format(**vals)}</p>" for p in PARAS)
    return (f"<html><body><h1>{title}</h1><p class='no'>{number}</p>{body}"
            f"<p class='sign'>示范市自然资源和规划局<br>2026年11月{rnd.randint(1, 20)}日</p></body></html>")


def render_letters(count: int, pages: int, fonts: dict, rnd: random.Random) -> list[tuple[str, str, str, bytes]]:
    """(key, title, number, pdf) × count, each exactly ``pages`` pages long."""
    from pypdf import PdfReader
    from weasyprint import CSS, HTML

    css = CSS(string=LETTER_CSS % fonts, font_config=fonts.get("_config"))
    out = []
    for k in range(count):
        key, title = TITLES[k % len(TITLES)]
        number = f"示自然资规公开〔2026〕{k + 901}号"
        html = letter_html(rnd, k, title, number)
        for _attempt in range(20):
            pdf = HTML(string=html).write_pdf(stylesheets=[css], font_config=fonts.get("_config"))
            n = len(PdfReader(io.BytesIO(pdf)).pages)
            if n == pages:
                break
            if n < pages:  # one more paragraph in the letter's own wording
                html = html.replace("<p class='sign'>", f"<p>{PARAS[2].format(**_vals(rnd, k))}</p><p class='sign'>", 1)
            else:  # drop the last body paragraph
                cut = html.rfind("<p>", 0, html.find("<p class='sign'>"))
                html = html[:cut] + html[html.find("</p>", cut) + 4:]
        out.append((key, title, number, pdf))
    return out


def _vals(rnd, k):
    return {"name": rnd.choice(NAMES), "recv": "", "channel": "", "subject": rnd.choice(SUBJECTS), "case_no": "",
            "dept": rnd.choice(DEPTS), "n": rnd.randint(2, 9), "pages": rnd.randint(5, 60), "addr": "", "addr2": "",
            "gov": "", "court": "", "staff": ""}


def font_setup(kind: str) -> dict:
    if kind == "noto":
        return {"body": '"Noto Serif CJK SC"', "title": '"Noto Serif CJK SC"', "heading": '"Noto Sans CJK SC"'}
    # The letters engine's prepared fonts (TrueType, ~7,700 glyphs per role), with its font set-up.
    from app.letters import render as letter_render

    engine = letter_render._get_engine()
    body = engine.prepared.css_family("fangsong", "serif")
    return {"body": body, "title": engine.prepared.css_family("xiaobiaosong", "serif"), "heading": body,
            "_config": engine.font_config}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--letters", type=int, default=30)
    ap.add_argument("--pages", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--fonts", choices=("noto", "prepared", "both"), default="both",
                    help="noto: letters and generated pages in Noto Serif CJK SC (CFF); prepared: the letters "
                         "engine's prepared TrueType fonts for both (CASEFILE_FONTS='letters')")
    ap.add_argument("--no-doc", action="store_true")
    ap.add_argument("--profile", action="store_true", help="profile one build instead of measuring")
    args = ap.parse_args()
    reports = []
    for kind in (("noto", "prepared") if args.fonts == "both" else (args.fonts,)):
        reports.append(run_variant(kind, args))
        print(reports[-1])
    if not args.no_doc and not args.profile:
        write_doc("\n".join(reports))


def run_variant(kind: str, args) -> str:
    from flask_migrate import upgrade

    from app import create_app
    from app.cli import seed_demo
    from app.extensions import db

    tmp = Path(tempfile.mkdtemp(prefix="ogidesk-casefile-bench-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.sqlite3'}", "TESTING": True,
                      "OGI_TODAY": "2026-11-23", "ATTACHMENT_DIR": str(tmp / "att"), "WTF_CSRF_ENABLED": False})
    app.config["CASEFILE_FONTS"] = "letters" if kind == "prepared" else "system"
    rnd = random.Random(20261123)
    with app.app_context():
        upgrade()
        seed_demo()
        fonts = font_setup(kind)
        case = _delivered_case()
        t = time.perf_counter()
        letters = render_letters(args.letters, args.pages, fonts, rnd)
        render_s = time.perf_counter() - t
        _store_letters(case, letters)
        db.session.expire_all()
        if args.profile:
            profile(case.id)
            return ""
        results = measure(case.id, args.runs)
    total_pages = sum(_pages(p) for *_x, p in letters)
    args.fonts = kind
    return format_report(args, results, letters, total_pages, render_s)


def _pages(pdf: bytes) -> int:
    from pypdf import PdfReader
    return len(PdfReader(io.BytesIO(pdf)).pages)


def _delivered_case():
    from app.extensions import db
    from app.models import User
    from app.services import cases as S

    def u(name):
        return db.session.scalar(db.select(User).where(User.username == name))
    case = S.register_case(u("clerk"), {
        "channel": "in_person", "arrived_on": "2026-11-02", "applicant_type": "natural", "applicant_name": "张三",
        "id_type": "resident_id", "id_number": "11010519491231002X", "contact_phone": "13800000000",
        "contact_address": "示范市幸福路8号", "description": "2025年示范区旧城改造项目的征收补偿方案",
        "requested_form": "paper", "requested_route": "post"})
    S.perform(case.id, u("handler"), "start")
    S.perform(case.id, u("handler"), "save_draft", {"outcome": "disclose", "decision": "经审查，您申请的信息予以公开。",
                                                     "obtain": "随本答复书邮寄提供复印件"})
    S.perform(case.id, u("handler"), "submit_draft")
    S.perform(case.id, u("legal"), "approve", {"secrecy_reviewed": "y", "secrecy_note": "不涉及国家秘密",
                                               "draft_hash": case.current_draft.content_hash})
    S.perform(case.id, u("head"), "sign_off", {"note": "同意"})
    S.perform(case.id, u("handler"), "issue")
    S.perform(case.id, u("clerk"), "deliver", {"method": "post", "proof": "EMS1100000000"})
    return case


def _store_letters(case, letters) -> None:
    from app.extensions import db
    from app.models import Letter

    base = datetime(2026, 11, 3, 2, 0)
    for k, (key, title, number, pdf) in enumerate(letters):
        db.session.add(Letter(agency_id=case.agency_id, case_id=case.id, key=key, title=title, number=number,
                              notice_ref="reply" if k == 0 else f"{key}-{k}", year=2026, seq=k + 901, content_hash=hashlib.sha256(number.encode()).hexdigest(),
                              pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(), pages=_pages(pdf),
                              issued_at=base + timedelta(hours=k), draft_id=case.issued_draft_id if k == 0 else None))
    db.session.commit()


def profile(case_id: int) -> None:
    import cProfile
    import pstats

    from weasyprint import HTML

    from app.casefile.assemble import build_casefile
    from app.extensions import db
    from app.models import Case

    HTML(string="<p>预热</p>").write_pdf()
    case = db.session.get(Case, case_id)
    import app.casefile.render as R
    original = R.render_template

    def dump(*a, **kw):
        html = original(*a, **kw)
        Path(tempfile.gettempdir(), "casefile-generated.html").write_text(html)
        return html
    R.render_template = dump
    build_casefile(case)
    R.render_template = original
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    pr = cProfile.Profile()
    pr.enable()
    cf = build_casefile(case)
    pr.disable()
    print(cf.timings)
    pstats.Stats(pr).sort_stats("tottime").print_stats(35)


_gc_log = []
_gc_t = [0.0]


def _gc_cb(phase, info):
    if phase == "start":
        _gc_t[0] = time.perf_counter()
    elif info["generation"] >= 1:
        _gc_log.append((info["generation"], round((time.perf_counter() - _gc_t[0]) * 1000, 1)))


def measure(case_id: int, runs: int) -> dict:
    if os.environ.get("BENCH_VERBOSE"):
        import gc
        gc.callbacks.append(_gc_cb)
    from pypdf import PdfReader, PdfWriter
    from weasyprint import HTML

    from app.casefile.assemble import build_casefile
    from app.extensions import db
    from app.models import Case, User

    HTML(string="<p>预热</p>").write_pdf()  # Fontconfig and WeasyPrint start-up: not per case file
    if not os.environ.get("BENCH_NO_WARM_UP"):
        from flask import current_app

        from app import warm_up
        warm_up(current_app._get_current_object())  # what a serving process does at start (wsgi.py)
    case = db.session.get(Case, case_id)
    archivist = db.session.scalar(db.select(User).where(User.username == "archivist"))
    walls, cpus, parts = [], [], []
    cf = None
    for _ in range(runs):
        db.session.expire_all()
        case = db.session.get(Case, case_id)
        w0, c0 = time.perf_counter(), time.process_time()
        cf = build_casefile(case, archivist)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
        parts.append(cf.timings)
        if os.environ.get("BENCH_VERBOSE"):
            print({k: round(v, 3) for k, v in cf.timings.items() if not k.startswith("cpu")}, _gc_log[:], )
            _gc_log.clear()
    printed = build_casefile(case, archivist, embed_originals=False)
    # What copying the letters as they are would give (pypdf append, no font merging).
    naive = PdfWriter()
    for letter in case.letters:
        naive.append(PdfReader(io.BytesIO(letter.pdf)))
    buf = io.BytesIO()
    naive.write(buf)
    originals = sum(len(letter.pdf) for letter in case.letters)
    return {"walls": walls, "cpus": cpus, "parts": parts, "size": len(cf.pdf), "printed": len(printed.pdf),
            "pages": cf.pages, "fonts": cf.fonts, "originals": originals, "naive": len(buf.getvalue()),
            "letters": len(case.letters)}


def format_report(args, r: dict, letters, letter_pages: int, render_s: float) -> str:
    med = statistics.median
    parts = {k: med(p[k] for p in r["parts"]) for k in r["parts"][0]}
    kib = 1024
    budget = TARGET_KIB * kib + r["originals"]
    ok_time = med(r["walls"]) <= TARGET_S
    ok_size = r["size"] <= budget
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    fonts = ", ".join(f"{name} ({kind}, {glyphs} glyphs from {members} PDFs, {sets} width table(s))"
                      for kind, name, glyphs, members, sets in r["fonts"]["merged"])
    lines = [
        f"### Case file of {r['letters']} letters × {args.pages} pages, fonts: {args.fonts}",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {load:.1f} while measuring; median of {len(r['walls'])} runs.",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| pages in the case file | {r['pages']} ({letter_pages} letter pages + generated pages) | |",
        f"| time, wall clock | {med(r['walls']):.2f} s (min {min(r['walls']):.2f} s, max {max(r['walls']):.2f} s) "
        f"| ≤ {TARGET_S:.0f} s {'✔' if ok_time else '✘'} |",
        f"| time, CPU of the process | {med(r['cpus']):.2f} s (min {min(r['cpus']):.2f} s) | |",
        f"| — CPU: open letters / typeset generated pages / merge fonts / copy+stamp pages / write | "
        f"{parts['cpu_open']:.2f} / {parts['cpu_render']:.2f} / {parts['cpu_fonts']:.2f} / {parts['cpu_pages']:.2f} / "
        f"{parts['cpu_write']:.2f} s | |",
        f"| size of the case file | {r['size'] / kib:.0f} KiB "
        f"| ≤ {TARGET_KIB} KiB + originals = {budget / kib:.0f} KiB "
        f"{'✔' if ok_size else '✘'} |",
        f"| — printed part (without the embedded originals) | {r['printed'] / kib:.0f} KiB | ≤ {TARGET_KIB} KiB "
        f"{'✔' if r['printed'] <= TARGET_KIB * kib else '✘'} |",
        f"| — embedded original letters (their own bytes) | {r['originals'] / kib:.0f} KiB "
        f"({r['originals'] / kib / r['letters']:.1f} KiB per letter) | |",
        f"| the same letters appended as they are (no font merging) | {r['naive'] / kib:.0f} KiB | |",
        f"| fonts embedded | {fonts}; {r['fonts']['kept']} font(s) left unmerged "
        f"{'; '.join(sorted(set(r['fonts'].get('why', []))))} | one per font |",
        f"| rendering the {r['letters']} letters (once, at issue; not part of the case file) | {render_s:.1f} s | |",
        "",
    ]
    return "\n".join(lines)


INTRO = """## Case file (案卷)

`bench/bench_casefile.py` prints the case file of a served request with 30 issued two-page
letters (60 letter pages, varied wording as real letters have) plus the pages the system writes:
cover, catalogue (31 entries), approval slip, service record, 办理过程记录 and 备考表. It runs
twice: letters and generated pages set in Noto Serif CJK SC directly (the fonts the tests use),
and in the letters engine's prepared TrueType fonts (`CASEFILE_FONTS = "letters"`, what
production letters will carry).

Targets: ≤ 1 s, and ≤ 300 KiB plus the attachments' own size. Every issued letter's original PDF
is embedded in the case file unchanged (PDF file attachment, so its SHA-256 can be checked), so
the letters' own bytes count as attachments here, like scans would.

**Each font is embedded once.** Each letter carries its own subset of the same font; appended as
they are, 30 letters carry 30 subsets (a Noto CJK subset also carries ~40,000 empty glyph slots,
~70 KiB). pypdf's `compress_identical_objects` removes nothing here: no two subsets are equal.
`app/casefile/pdffonts.py` groups the Type 0 fonts of all the PDFs by font program and replaces
each group by one font holding the union of the glyphs (a compact CID-keyed CFF, or a TrueType
font keeping the glyph ids); the pages' content streams are not touched, only their font
resources are pointed at the merged font. This is exact because WeasyPrint subsets with
*retained glyph ids* and Identity-H codes: in every subset of one font file, code N is glyph N.
WeasyPrint rounds a glyph's /W width at the size it first meets it (and compensates in the TJ
offsets), so two letters can disagree by one unit; each keeps its own widths in a small font
dictionary that shares the one font program ("width tables" below). A rendering test compares
a letter page rasterised alone and inside the case file: identical outside the stamp.

What the letters need for this (letters engine): the same font files for every letter (same
files, same version: a font rebuilt with other glyph outlines simply forms a second group),
embedded by WeasyPrint as it does by default (subset with retained glyph ids, Identity-H), CFF
without subroutines or TrueType outlines. A letter whose fonts do not qualify (e.g. a base-14
font, a font with subroutines) is still printed, with its own font objects.

**Where the time goes.** Reading the letters, merging fonts, copying and stamping pages and
writing take about 0.2–0.3 s of CPU for 60 pages (pypdf, pure Python). Typesetting the ~9
generated pages with WeasyPrint takes the rest, 0.25–0.5 s: the 31-row catalogue (3 pages) is the
largest part (WeasyPrint costs a few milliseconds per table cell) and, with Noto, ~0.15 s is
HarfBuzz subsetting the 65,535-glyph font. Measures taken: one rendering pass (page numbers are
stamped afterwards into reserved boxes, so the layout never depends on them), one font face for
the generated pages, a small user-agent stylesheet, one WeasyPrint font set-up per process,
`table-layout: fixed`, and a warmed-up serving process (`app.warm_up`, called by wsgi.py with
`OGI_WARM_UP=1` and by `make run`): its engines are set up before the first request and its
long-lived heap is frozen out of the garbage collector (`gc.freeze`), since full collections
walking that heap stalled single case files by 0.1–0.2 s at random. The benchmark warms up the
same way (`BENCH_NO_WARM_UP=1` measures without; `BENCH_VERBOSE=1` prints each run's phases and
its collections).

Earlier measurements (2026-11-28 morning: 1.1–1.5 s CPU, 2.3–2.9 s wall) were taken while other
test suites kept this 2-CPU machine at load average 5–7; the numbers below are from a quiet
machine (load shown) and are what one archivist printing one case file sees.

"""


def write_doc(report: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Performance\n"
    block = f"{BEGIN}\n{INTRO}{report}\n{END}"
    if BEGIN in text and END in text:
        pre, rest = text.split(BEGIN, 1)
        _old, post = rest.split(END, 1)
        text = pre + block + post
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text)


if __name__ == "__main__":
    main()
