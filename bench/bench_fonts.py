"""Benchmark: preparing the letter fonts (app/letters/fonts.py) into a fresh temporary cache.

    .venv/bin/python bench/bench_fonts.py            # full preparation + the stages, adds a row
    .venv/bin/python bench/bench_fonts.py --quick    # the stages only (no full preparation)

Never touches the shared cache (instance/fonts): it prepares into a new folder under /tmp. Reports
the wall time of the whole preparation (parallel, as in production) with the CPU time of this
process and its workers, then, one after the other in this process, the CPU time of the two
stages done by HarfBuzz: cutting every prepared font out of its source (60 subsets), and drawing
the ~30,000 glyphs of the core fonts (the CFF → TrueType conversion reads them this way).
Run on an older checkout it measures the hand-written cffi bindings the same way.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path.cwd() if (Path.cwd() / "app" / "letters").is_dir() else Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

START, END = "<!-- bench_fonts:start -->", "<!-- bench_fonts:end -->"
INTRO = """`bench/bench_fonts.py` prepares the letter fonts into a fresh temporary folder (never the shared
`instance/fonts`) and times HarfBuzz's two jobs in it one after the other: cutting the 60 prepared
fonts out of their sources, and drawing the ~30,000 glyphs of the core fonts for the CFF →
TrueType conversion. CPU seconds of this process (the stages) and wall / CPU of the whole
preparation (parallel on both cores, workers included). Each run adds a row; earlier rows stay.
Rows marked "cffi" ran the same script on the checkout before the switch to uharfbuzz."""
HEADER = ("| date (UTC) | commit | bindings | load | whole preparation: wall / CPU | subsetting 60 fonts: CPU | "
          "drawing the core glyphs: CPU (glyphs) |\n|---|---|---|---|---|---|---|")


def _bindings():
    try:
        from app.pdf.subset import Outlines, subset_font

        return "uharfbuzz", subset_font, Outlines
    except ImportError:  # a checkout from before the switch: the hand-written cffi bindings
        from app.letters import _native

        def subset_font(path, index, chars):
            with _native.Face(path, index) as face:
                return face.subset(chars)
        return "cffi", subset_font, _native.Outlines


def _jobs(fonts, settings) -> list[dict]:
    """The preparation's jobs, collected without running them."""
    plan = fonts._plan(settings)
    jobs: list[dict] = []
    run_job, cpu_count = fonts._run_job, fonts.os.cpu_count
    fonts._run_job, fonts.os.cpu_count = jobs.append, (lambda: 1)
    tmp = Path(tempfile.mkdtemp(prefix="ogidesk-bench-fonts-jobs-"))
    try:
        fonts._build(settings, plan, tmp)
    finally:
        fonts._run_job, fonts.os.cpu_count = run_job, cpu_count
        shutil.rmtree(tmp, ignore_errors=True)
    return jobs


def run(full: bool) -> dict:
    from fontTools.pens.recordingPen import RecordingPen
    from fontTools.ttLib import TTFont

    from app.letters import fonts

    name, subset_font, Outlines = _bindings()
    cache = Path(tempfile.mkdtemp(prefix="ogidesk-bench-fonts-"))
    result = {"bindings": name, "load": os.getloadavg()[0]}
    try:
        settings = fonts.configure_fonts(cache_dir=cache)
        if full:
            t0, c0 = time.perf_counter(), os.times()
            fonts.prepare_fonts(settings)
            c1 = os.times()
            result["prepare_wall"] = time.perf_counter() - t0
            result["prepare_cpu"] = sum(c1[:4]) - sum(c0[:4])
        jobs = _jobs(fonts, settings)
        c0 = time.process_time()
        subsets = [subset_font(job["source"], job["index"], job["chars"]) for job in jobs]
        result["subset_cpu"], result["jobs"] = time.process_time() - c0, len(jobs)
        cores = [data for job, data in zip(jobs, subsets) if job["core"]]
        counts = [len(TTFont(BytesIO(data)).getGlyphOrder()) for data in cores]
        c0 = time.process_time()
        for data, count in zip(cores, counts):
            outlines = Outlines(data, 256)
            for gid in range(count):
                outlines.draw(gid, RecordingPen())
            getattr(outlines, "close", lambda: None)()
        result["draw_cpu"], result["glyphs"] = time.process_time() - c0, sum(counts)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return result


def row(r: dict) -> str:
    from common import commit

    whole = f"{r['prepare_wall']:.1f} s / {r['prepare_cpu']:.1f} s" if "prepare_wall" in r else "not run (--quick)"
    return (f"| {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} | {commit()} | {r['bindings']} | {r['load']:.1f} | "
            f"{whole} | {r['subset_cpu']:.2f} s | {r['draw_cpu']:.2f} s ({r['glyphs']}) |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the stages only, no full preparation")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args()
    line = row(run(not args.quick))
    print(HEADER)
    print(line)
    if not args.no_write:
        from common import DOC, add_row

        add_row(START, END, INTRO, HEADER, line, "### Preparing the fonts: uharfbuzz instead of cffi bindings (issue 11)")
        print(f"updated {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
