"""Benchmark of the printed case file (案卷): 30 sealed letters from the project's own templates.

Builds a scratch SQLite database in /tmp, walks one case to "delivered" through the services,
gives the agency a 600 × 600 seal (tests/seals.py, a realistic scan as an office uploads it),
issues 30 letters rendered by the letters engine from letter_templates/ (every letter type,
varied names and subjects, the seal on each), lengthening a few until the case file has 60
pages, then prints the case file several times and reports time and size against the targets
of issue 11: ≤ 1 s and ≤ 300 KiB plus the attachments' own bytes (here: the embedded original
letters). Chromium (Playwright, Debian's chromium) prints the same HTML side by side: the
generated pages' HTML and the 30 letters' HTML.

    .venv/bin/python bench/bench_casefile.py            # 5 runs, Chromium, adds a row to docs/performance.md
    .venv/bin/python bench/bench_casefile.py --quick    # 2 runs
    .venv/bin/python bench/bench_casefile.py --no-write --no-chromium --runs 3

Wall-clock times depend on what else the machine runs; CPU time of this process is reported too.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DOC, Chromium, add_row, commit, load  # noqa: E402
from tests.seals import scanned_seal  # noqa: E402

TARGET_S, TARGET_KIB = 1.0, 300
TARGET_PAGES = 60
START, END = "<!-- casefile_seal:start -->", "<!-- casefile_seal:end -->"
INTRO = """Issue 11 targets, one warm process: a 60-page 案卷 with 30 sealed letters in **≤ 1 s** and
**≤ 300 KiB plus the attachments' own bytes**. `bench/bench_casefile.py` issues 30 letters from
the project's own templates (every letter type, example values with varied names and subjects),
each with the agency's 600 × 600 seal (`tests/seals.py`), lengthening a few until the case file has
60 pages, and prints the case file (median of the runs; CPU of the process beside it). "printed
part" is the case file without the embedded original letters; the originals are the letters'
own bytes, which the budget adds. "images" counts the image objects in the case file and their
bytes (the seal once per letter until the seal de-duplication of issue 11 is merged). Chromium
(`page.pdf`, Debian's chromium, one warm page, the prepared fonts through Fontconfig) prints
the same HTML in the same run: the generated pages (cover, catalogue, 办理过程记录 …) against
WeasyPrint's typesetting of them inside the build, and the 30 letters one by one against the
letters engine. Each run adds a row; earlier rows stay. The machine has 2 cores shared with
other sessions: the load average is in each row."""
HEADER = ("| date (UTC) | commit | load | pages (letter pages) | time: median wall (min) / CPU | size: total / "
          "printed part / originals | budget 300 KiB + originals | images in the 案卷 | "
          "generated pages: WeasyPrint / Chromium | 30 letters: WeasyPrint / Chromium (Chromium size) | target |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|")

NAMES = ("王建华 李秀英 张伟 刘洋 陈静 杨帆 赵磊 黄丽 周强 吴敏 徐涛 孙芳 马超 朱红 胡军 郭琳 何平 高翔 林峰 罗娟 "
         "梁勇 宋佳 郑凯 谢婷 韩冰 唐亮 冯雪 于洋 董明 萧然").split()
SUBJECTS = ["示范区旧城改造项目的征收补偿方案", "东湖街道安置房分配方案及分配结果",
            "人民路拓宽工程的立项批复和用地批准文件", "西山镇集体土地征收的批准文件",
            "高新区控制性详细规划调整的批复", "南港片区建设工程规划许可证及附图",
            "2025年度国有土地使用权出让合同", "北岸新区环境影响评价报告及审批意见", "老城区违法建设查处决定书",
            "新城区学校布局专项规划", "耕地占补平衡项目的验收材料", "滨江路地块出让的成交确认书",
            "幸福小区规划条件核实意见", "示范大道两侧绿化带调整的会议纪要",
            "农贸市场搬迁项目的社会稳定风险评估报告"]
MORE = ("本机关已会同档案室、规划管理科和不动产登记中心对{subject}的相关文件进行了逐项检索，"
        "检索范围包括纸质档案、业务系统电子台账及往来公文登记簿，检索时间自2019年1月1日起至今。")
# Free-text fields a letter may have, lengthened (in this order) to bring the case file to 60 pages.
LONG_FIELDS = ("search", "decision", "reason", "request")


def letter_context(key: str, k: int, seal: bytes, rnd: random.Random, extra: int = 0) -> dict:
    from app.letters import example_context, get_letter

    letter = get_letter(key)
    ctx = example_context(key)
    ctx.setdefault("agency", {})["seal_png"] = seal
    subject = rnd.choice(SUBJECTS)
    if isinstance(ctx.get("applicant"), dict):
        ctx["applicant"]["name"] = NAMES[k % len(NAMES)]
    if isinstance(ctx.get("request"), str):
        ctx["request"] = f"2025年度{subject}"
    if ctx.get("number"):
        ctx["number"] = f"清建信公开〔2026〕{k + 901}号"
    if extra:
        field = next((f for f in LONG_FIELDS if letter.field(f) is not None), None)
        if field:
            ctx[field] = (str(ctx.get(field) or "") + MORE.format(subject=subject) * extra).strip()
    return ctx


def render_letters(count: int, seal: bytes) -> list[dict]:
    """Every letter type in turn, each with the seal: key, title, number, context, pdf, pages."""
    from app.letters import all_letters, get_letter, render_pdf

    keys = [letter.key for letter in all_letters()]
    out = []
    for k in range(count):
        key = keys[k % len(keys)]
        rnd = random.Random(20261202 + k)
        ctx = letter_context(key, k, seal, rnd)
        pdf = render_pdf(key, ctx)
        out.append({"key": key, "title": get_letter(key).title, "number": ctx.get("number"), "k": k,
                    "ctx": ctx, "pdf": pdf, "pages": _pages(pdf)})
    return out


def lengthen(letters: list[dict], pages_needed: int, seal: bytes) -> None:
    """Give ``pages_needed`` one-page letters a second page (more text in a free-text field)."""
    from app.letters import get_letter, render_pdf

    for item in letters:
        if pages_needed <= 0:
            return
        letter = get_letter(item["key"])
        if item["pages"] != 1 or not any(letter.field(f) is not None for f in LONG_FIELDS):
            continue
        for extra in range(1, 12):
            ctx = letter_context(item["key"], item["k"], seal, random.Random(20261202 + item["k"]), extra)
            pdf = render_pdf(item["key"], ctx)
            if _pages(pdf) >= 2:
                if _pages(pdf) == 2:
                    item.update(ctx=ctx, pdf=pdf, pages=2)
                    pages_needed -= 1
                break


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--letters", type=int, default=30)
    ap.add_argument("--runs", type=int, default=None, help="case files to time (default 5, --quick 2)")
    ap.add_argument("--quick", action="store_true", help="a short run: 2 case files")
    ap.add_argument("--no-chromium", action="store_true", help="skip the Chromium comparison")
    ap.add_argument("--no-write", action="store_true", help="do not update docs/performance.md")
    ap.add_argument("--profile", action="store_true", help="profile one build instead of measuring")
    args = ap.parse_args()
    args.runs = args.runs or (2 if args.quick else 5)
    line = run(args)
    if line:
        print(HEADER)
        print(line)
        if not args.no_write:
            add_row(START, END, INTRO, HEADER, line, "### A 60-page case file with 30 sealed letters (issue 11)")
            print(f"updated {DOC.relative_to(ROOT)}")


def run(args) -> str:
    from flask_migrate import upgrade

    from app import create_app
    from app.casefile.assemble import build_casefile
    from app.cli import seed_demo
    from app.extensions import db
    from app.models import Case, User

    tmp = Path(tempfile.mkdtemp(prefix="ogidesk-casefile-bench-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.sqlite3'}", "TESTING": True,
                      "OGI_TODAY": "2026-11-23", "ATTACHMENT_DIR": str(tmp / "att"), "WTF_CSRF_ENABLED": False})
    seal = scanned_seal()
    with app.app_context():
        upgrade()
        seed_demo()
        clerk = db.session.scalar(db.select(User).where(User.username == "clerk"))
        clerk.agency.seal_png = seal  # the agency's seal, as uploaded: the issued reply carries it too
        db.session.commit()
        t = time.perf_counter()
        letters = render_letters(args.letters - 1, seal)  # + the reply the services issue = 30
        render_s = time.perf_counter() - t
        # A first case file tells how many pages the build adds; letters are immutable once
        # stored, so the measured case is a second one with a few letters lengthened to 60 pages.
        trial = _delivered_case()
        _store_letters(trial, letters, trial=True)
        db.session.expire_all()
        pages = build_casefile(db.session.get(Case, trial.id), None, embed_originals=False).pages
        lengthen(letters, TARGET_PAGES - pages, seal)
        case = _delivered_case()
        _store_letters(case, letters)
        db.session.expire_all()
        if args.profile:
            profile(case.id)
            return ""
        results = measure(case.id, args.runs)
        if not args.no_chromium:
            results["chromium"] = chromium_side_by_side(case.id, letters, args)
    results["render_s"] = render_s
    return format_row(results, letters)


def _store_letters(case, letters, trial: bool = False) -> None:
    from app.extensions import db
    from app.models import Letter

    base = datetime(2026, 11, 3, 2, 0)
    for item in letters:
        k = item["k"]
        number = item["number"]
        if number and trial:  # numbers are unique per agency
            number = number.replace("〔2026〕", "〔2025〕")
        db.session.add(Letter(agency_id=case.agency_id, case_id=case.id, key=item["key"], title=item["title"],
                              number=number, notice_ref=f"{item['key']}-{k}", year=2026,
                              seq=(k + 901) if number else None,
                              content_hash=hashlib.sha256(f"{case.id}-{k}".encode()).hexdigest(),
                              pdf=item["pdf"], sha256=hashlib.sha256(item["pdf"]).hexdigest(), pages=item["pages"],
                              issued_at=base + timedelta(hours=k)))
    db.session.commit()


def chromium_side_by_side(case_id: int, letters: list[dict], args) -> dict:
    """Chromium prints the generated pages' HTML and the letters' HTML of this very case file."""
    import app.casefile.render as R
    from app.casefile.assemble import build_casefile
    from app.extensions import db
    from app.letters import fonts as letter_fonts
    from app.letters import render as letter_render
    from app.models import Case

    captured: list[str] = []
    original = R.render_template

    def capture(*a, **kw):
        html = original(*a, **kw)
        captured.append(html)
        return html
    R.render_template = capture
    try:
        db.session.expire_all()
        build_casefile(db.session.get(Case, case_id), None)
    finally:
        R.render_template = original
    engine = letter_render._get_engine()
    families = {role: engine.prepared.css_family(role, "sans-serif" if role == "hei" else "serif")
                for role in letter_fonts.ROLES}
    htmls = [letter_render.render_html(item["key"], item["ctx"]).replace(
        letter_render.stylesheet(), letter_render.stylesheet(families), 1) for item in letters]
    browser = Chromium([engine.prepared.directory])
    try:
        generated = browser.time(captured[-1], max(args.runs, 3), warm=1) if captured else None
        browser.pdf(htmls[0])
        t = time.perf_counter()
        sizes = [len(browser.pdf(html)) for html in htmls]
        chromium_letters_s = time.perf_counter() - t
    finally:
        browser.close()
    from app.letters import render_pdf
    t = time.perf_counter()
    for item in letters:
        render_pdf(item["key"], item["ctx"])
    weasy_letters_s = time.perf_counter() - t
    return {"generated": generated, "letters_s": chromium_letters_s, "letters_kib": sum(sizes) / 1024,
            "weasy_letters_s": weasy_letters_s}


def _images(pdf: bytes) -> tuple[int, int]:
    """Image XObjects in a PDF (their soft masks counted with them) and the bytes of their streams."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    ids = set(reader.xref_objStm) | {num for table in reader.xref.values() for num in table}
    images, masks, size = set(), set(), 0
    for num in sorted(ids):
        try:
            obj = reader.get_object(num)
        except Exception:
            continue
        if hasattr(obj, "get") and obj.get("/Subtype") == "/Image":
            images.add(num)
            size += len(obj._data)
            if "/SMask" in obj:
                masks.add(obj.raw_get("/SMask").idnum)
    return len(images - masks), size


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
    load_before = load()
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
    load_after = load()
    printed = build_casefile(case, archivist, embed_originals=False)
    # What copying the letters as they are would give (pypdf append, no font merging).
    naive = PdfWriter()
    for letter in case.letters:
        naive.append(PdfReader(io.BytesIO(letter.pdf)))
    buf = io.BytesIO()
    naive.write(buf)
    originals = sum(len(letter.pdf) for letter in case.letters)
    letter_pages = sum(letter.pages or 0 for letter in case.letters)
    return {"walls": walls, "cpus": cpus, "parts": parts, "size": len(cf.pdf), "printed": len(printed.pdf),
            "pages": cf.pages, "fonts": cf.fonts, "originals": originals, "naive": len(buf.getvalue()),
            "letters": len(case.letters), "load": (load_before, load_after), "images": _images(cf.pdf),
            "letter_pages": letter_pages}


def format_row(r: dict, letters: list[dict]) -> str:
    med = statistics.median
    parts = {k: med(p[k] for p in r["parts"]) for k in r["parts"][0]}
    kib = 1024
    budget = TARGET_KIB * kib + r["originals"]
    ok_time = med(r["walls"]) <= TARGET_S
    ok_size = r["size"] <= budget
    why = [w for w, ok in (("time", ok_time), ("size", ok_size)) if not ok]
    images, image_bytes = r["images"]
    c = r.get("chromium")
    if c and c["generated"]:
        gen = f"{parts['render'] * 1000:.0f} ms / {c['generated']['median']:.0f} ms"
    else:
        gen = "not run"
    lets = (f"{c['weasy_letters_s']:.2f} s / {c['letters_s']:.2f} s "
            f"(ratio {c['weasy_letters_s'] / c['letters_s']:.2f}; {c['letters_kib']:.0f} KiB vs "
            f"{sum(len(x['pdf']) for x in letters) / kib:.0f} KiB)") if c else f"{r['render_s']:.2f} s / not run"
    letter_pages = r["letter_pages"]
    print(f"CPU parts: open {parts['cpu_open']:.2f} / typeset {parts['cpu_render']:.2f} / fonts {parts['cpu_fonts']:.2f}"
          f" / pages {parts['cpu_pages']:.2f} / write {parts['cpu_write']:.2f} s; fonts: {r['fonts']}")
    return (f"| {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} | {commit()} | {r['load'][0]:.1f} → {r['load'][1]:.1f} | "
            f"{r['pages']} ({letter_pages} in {r['letters']} letters) | "
            f"{med(r['walls']):.2f} s ({min(r['walls']):.2f} s) / {med(r['cpus']):.2f} s | "
            f"{r['size'] / kib:.0f} / {r['printed'] / kib:.0f} / {r['originals'] / kib:.0f} KiB | {budget / kib:.0f} KiB | "
            f"{images} ({image_bytes / kib:.0f} KiB) | {gen} | {lets} | "
            f"{'met' if not why else 'NOT met (' + ', '.join(why) + ')'} |")


if __name__ == "__main__":
    main()
