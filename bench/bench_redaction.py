"""Benchmark of the redaction engine (app/pdf/redact.py): the released copy and the page view.

Makes a 50-page text-heavy A4 PDF with WeasyPrint (Noto Serif CJK SC 11 pt, full pages, an ID
number, a mobile number and an address in every paragraph), then measures:

* release: 20 of the 50 pages covered (the personal-data suggestions of those pages, plus one
  large manual box each), rasterised at 300 dpi, with a stamp on every page; wall and CPU time,
  the peak RSS above the process's before (sampled every 5 ms), output size. Target ≤ 15 s.
* render_page: every page at 1100 px, each call opening the document as the page view does;
  median, p95 and max. Target ≤ 300 ms.
* find_text and find_personal_data over the 50 pages.

Writes its block between the markers in docs/performance.md (--no-doc to only print).

    .venv/bin/python bench/bench_redaction.py
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from common import commit as bench_commit, percentile, write_block

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BEGIN, END = "<!-- redaction:begin -->", "<!-- redaction:end -->"
PAGES, REDACTED, WIDTH, RUNS = 50, 20, 1100, 3
CSS = """@page { size: A4; margin: 22mm 20mm } body { font-family: "Noto Serif CJK SC"; font-size: 11pt;
line-height: 1.6 } p { text-indent: 2em; margin: 0 } h2 { font-size: 14pt; margin: 0 0 4pt }
section { break-after: page }"""
PARA = ("根据《中华人民共和国政府信息公开条例》第三十七条的规定，申请公开的信息中含有不应当公开或者不属于政府信息的内容，"
        "但是能够作区分处理的，行政机关应当向申请人提供可以公开的政府信息内容，并对不予公开的内容说明理由。"
        "申请人王{n}，身份证号码11010519491231002X，联系电话138-1234-5678，住址：示范市幸福路{n}号。")


def source_pdf() -> bytes:
    from weasyprint import CSS as WCSS
    from weasyprint import HTML

    body = "".join(f"<section><h2>第{i + 1}页　征收补偿材料</h2>" + "".join(f"<p>{PARA.format(n=i * 10 + k)}</p>"
                                                                        for k in range(9)) + "</section>"
                   for i in range(PAGES))
    return HTML(string=body).write_pdf(stylesheets=[WCSS(string=CSS)])


def stamp_pdf() -> bytes:
    from weasyprint import CSS as WCSS
    from weasyprint import HTML

    return HTML(string="<p style='margin:0;font:10pt \"Noto Serif CJK SC\";text-align:center'>"
                       "依申请公开 · 清建信〔2026〕-0012</p>").write_pdf(
        stylesheets=[WCSS(string="@page { size: 150mm 6mm; margin: 0 } body { margin: 0 }")])


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakRss:
    """The highest RSS while the block runs, sampled by a thread."""

    def __enter__(self):
        self.base = self.peak = rss_mib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_mib())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def run() -> dict:
    from app.pdf.redact import Box, find_personal_data, find_text, inspect, release, render_page

    pdf, stamp = source_pdf(), stamp_pdf()
    info = inspect(pdf)
    assert len(info) == PAGES, f"the source has {len(info)} pages, not {PAGES}"
    import pypdfium2

    with pypdfium2.PdfDocument(pdf) as doc:
        chars = statistics.median(doc[i].get_textpage().count_chars() for i in range(PAGES))
    r = {"source_kib": len(pdf) / 1024, "chars": chars}

    t0 = time.perf_counter()
    hits = find_personal_data(pdf)
    r["suggest_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    found = find_text(pdf, "政府信息")
    r["search_s"], r["search_hits"], r["hits"] = time.perf_counter() - t0, len(found), len(hits)

    covered = sorted([*range(0, PAGES, 5), *range(2, PAGES, 5)])  # 20 pages spread over the file
    boxes = [b for h in hits if h.page in covered for b in h.boxes]
    boxes += [Box(p, 0.1, 0.55, 0.9, 0.7) for p in covered]  # a manual box over a paragraph
    r["boxes"], r["covered"] = len(boxes), len(covered)

    walls, cpus, peaks = [], [], []
    for _ in range(RUNS):
        c0, t0 = time.process_time(), time.perf_counter()
        with PeakRss() as rss:
            out = release([(pdf, boxes)], stamp=stamp)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        peaks.append(rss.peak - rss.base)
    assert out.pages == PAGES and len(out.redacted_pages) == REDACTED
    r.update(release_wall=walls, release_cpu=cpus, release_peak=max(peaks), out_mib=len(out.pdf) / 2**20)

    views, sizes = [], []
    render_page(pdf, 0, WIDTH)  # warm
    for page in range(PAGES):
        t0 = time.perf_counter()
        png = render_page(pdf, page, WIDTH)
        views.append((time.perf_counter() - t0) * 1000)
        sizes.append(len(png) / 1024)
    r.update(view_median=statistics.median(views), view_p95=percentile(views, 0.95), view_max=max(views),
             png_kib=statistics.median(sizes))
    return r


def render(r: dict, load: tuple[float, float]) -> str:
    w = r["release_wall"]
    return "\n".join([
        "## Redaction (删除处理): the released copy and the page view", "",
        "`bench/bench_redaction.py` (app/pdf/redact.py). Source: a 50-page A4 PDF made by WeasyPrint, Noto Serif CJK "
        f"SC 11 pt, {r['chars']:,.0f} characters a page (median; {r['source_kib']:.0f} KiB). "
        f"Release: {r['covered']} pages covered "
        f"({r['boxes']} boxes: the personal-data suggestions of those pages and one manual box each) rasterised at "
        "300 dpi (JPEG), the other 30 copied with their text, a 150 mm × 6 mm stamp on every page. Page view: "
        f"`render_page` of every page at {WIDTH} px, PNG, each call opening the document as the web view does.", "",
        f"Last run: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, commit {bench_commit()}, load average {load[0]:.2f} → {load[1]:.2f}.", "",
        "| measure | result | target |", "|---|---|---|",
        f"| release, 50 pages / 20 rasterised: wall (median of {RUNS}, min–max) | **{statistics.median(w):.2f} s** "
        f"({min(w):.2f}–{max(w):.2f} s) | ≤ 15 s |",
        f"| release: CPU (median) | {statistics.median(r['release_cpu']):.2f} s | |",
        f"| release: peak RSS above the process's before | {r['release_peak']:.0f} MiB | a couple of 300-dpi bitmaps "
        "(A4 RGB ≈ 25 MiB each) |",
        f"| released copy | {r['out_mib']:.1f} MiB | |",
        f"| page view at {WIDTH} px: median / p95 / max over 50 pages | **{r['view_median']:.0f} ms** / "
        f"{r['view_p95']:.0f} ms / {r['view_max']:.0f} ms | ≤ 300 ms |",
        f"| page view PNG (median) | {r['png_kib']:.0f} KiB | |",
        f"| `find_personal_data`, 50 pages ({r['hits']} findings) | {r['suggest_s'] * 1000:.0f} ms | |",
        f"| `find_text` \"政府信息\", 50 pages ({r['search_hits']} hits, the limit) | {r['search_s'] * 1000:.0f} ms | |",
    ])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--no-doc", action="store_true")
    args = p.parse_args()
    load0 = os.getloadavg()[0]
    r = run()
    block = render(r, (load0, os.getloadavg()[0]))
    print(block)
    if not args.no_doc:
        write_block(BEGIN, END, block)


if __name__ == "__main__":
    main()
