"""Benchmark: one warm process renders the project's one-page 予以公开 答复书 with a real seal.

    .venv/bin/python bench/bench_letters.py            # 30 renders, Chromium side by side
    .venv/bin/python bench/bench_letters.py --quick    # 5 renders (a short check)
    .venv/bin/python bench/bench_letters.py --no-write --no-chromium

The letter is letter_templates/reply_disclose with its example values and the agency's seal: a
600 × 600 RGBA PNG (tests/seals.py), as an office would upload a scan of its seal. Reports median
and p95 wall time, median CPU time and PDF size, with the seal and without it, and prints the
same HTML with Chromium (Playwright, Debian's chromium, one warm page) side by side. Each run
adds a row to the table in docs/performance.md (date, commit, load); earlier rows stay.
Targets (issue 11): median ≤ 60 ms and ≤ 40 KiB with the seal.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DOC, Chromium, add_row, commit, load, percentile  # noqa: E402
from tests.seals import scanned_seal  # noqa: E402

KEY = "reply_disclose"
TARGET_MS, TARGET_KIB = 60, 40
START, END = "<!-- bench_letters_seal:start -->", "<!-- bench_letters_seal:end -->"
INTRO = """Issue 11 targets, one warm process on this machine: the one-page 答复书 **with the seal**,
median ≤ 60 ms and ≤ 40 KiB. `bench/bench_letters.py` renders the project's own template
(`reply_disclose` with its example values) with a 600 × 600 RGBA seal (`tests/seals.py`, a
realistic red round seal with uneven ink, 118 KiB as PNG), and prints the same HTML with
Chromium's `page.pdf` (Playwright, Debian's chromium, one warm page, the same prepared fonts
given through Fontconfig) in the same run. Each run adds a row; earlier rows stay. The machine
has 2 cores shared with other sessions: the load average is in each row, and at a load above 2
wall times are inflated by waiting for a core (CPU is the letter's own cost). The seal is
embedded as uploaded until the seal work of issue 11 (downsampling on upload) is merged."""
HEADER = ("| date (UTC) | commit | load | n | WeasyPrint, no seal: median / CPU / size | "
          "WeasyPrint, seal: median / p95 / CPU / size | Chromium, seal: median / size | "
          "time ratio WeasyPrint ÷ Chromium | target ≤ 60 ms, ≤ 40 KiB |\n"
          "|---|---|---|---|---|---|---|---|---|")


def context(seal: bytes | None) -> dict:
    from app.letters import example_context

    ctx = example_context(KEY)
    ctx.setdefault("agency", {})["seal_png"] = seal
    return ctx


def time_weasyprint(ctx: dict, n: int) -> dict:
    from app.letters import render_pdf

    for _ in range(3):
        render_pdf(KEY, ctx)
    wall, cpu = [], []
    pdf = b""
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        pdf = render_pdf(KEY, ctx)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return {"median": statistics.median(wall), "p95": percentile(wall, 0.95), "min": min(wall),
            "cpu": statistics.median(cpu), "kib": len(pdf) / 1024, "pdf": pdf}


def chromium_html(ctx: dict) -> str:
    """The letter's HTML with the stylesheet WeasyPrint applies (the prepared fonts' chains)."""
    from app.letters import fonts, render

    engine = render._get_engine()
    families = {role: engine.prepared.css_family(role, "sans-serif" if role == "hei" else "serif")
                for role in fonts.ROLES}
    html = render.render_html(KEY, ctx)
    return html.replace(render.stylesheet(), render.stylesheet(families), 1)


def run(n: int, chromium: bool) -> dict:
    from app.letters import fonts, render_pdf

    prepared = fonts.prepare_fonts()
    seal = scanned_seal()
    started = time.perf_counter()
    render_pdf(KEY, context(None))  # the process's first letter: font configuration etc.
    first_ms = (time.perf_counter() - started) * 1000
    load_before = load()
    plain = time_weasyprint(context(None), n)
    sealed = time_weasyprint(context(seal), n)
    result = {"n": n, "plain": plain, "sealed": sealed, "first_ms": first_ms, "seal_kib": len(seal) / 1024,
              "chromium": None}
    if chromium:
        browser = Chromium([prepared.directory])
        try:
            result["chromium"] = browser.time(chromium_html(context(seal)), n)
        finally:
            browser.close()
    result["load"] = (load_before, load())
    return result


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import weasyprint

    return f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, WeasyPrint {weasyprint.__version__}"


def row(r: dict) -> str:
    p, s, c = r["plain"], r["sealed"], r["chromium"]
    ok = s["median"] <= TARGET_MS and s["kib"] <= TARGET_KIB
    why = []
    if s["median"] > TARGET_MS:
        why.append("time")
    if s["kib"] > TARGET_KIB:
        why.append("size")
    chrom = f"{c['median']:.0f} ms / {c['kib']:.1f} KiB" if c else "not run"
    ratio = f"{s['median'] / c['median']:.2f} (size {s['kib'] / c['kib']:.2f})" if c else "—"
    return (f"| {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} | {commit()} | "
            f"{r['load'][0]:.1f} → {r['load'][1]:.1f} | {r['n']} | "
            f"{p['median']:.0f} ms / {p['cpu']:.0f} ms / {p['kib']:.1f} KiB | "
            f"{s['median']:.0f} ms / {s['p95']:.0f} ms / {s['cpu']:.0f} ms / {s['kib']:.1f} KiB | {chrom} | {ratio} | "
            f"{'met' if ok else 'NOT met (' + ', '.join(why) + ')'} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=None, help="letters to time (default 30, --quick 5)")
    parser.add_argument("--quick", action="store_true", help="a short run: 5 letters")
    parser.add_argument("--no-chromium", action="store_true", help="skip the Chromium comparison")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args()
    n = args.n or (5 if args.quick else 30)
    r = run(n, not args.no_chromium)
    line = row(r)
    print(f"{machine()}; seal PNG {r['seal_kib']:.1f} KiB; first letter of the process {r['first_ms']:.0f} ms")
    print(HEADER)
    print(line)
    if not args.no_write:
        add_row(START, END, INTRO, HEADER, line, "### With a real seal (issue 11)")
        print(f"updated {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
