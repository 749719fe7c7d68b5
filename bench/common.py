"""What bench_letters.py and bench_casefile.py share: the commit and load being measured, a
Chromium printing the same HTML side by side, and a history table in docs/performance.md that
keeps every earlier row."""
from __future__ import annotations

import os
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]


def commit() -> str:
    if os.environ.get("BENCH_COMMIT"):  # e.g. a checkout exported without .git
        return os.environ["BENCH_COMMIT"]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return head + ("+" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


def load() -> float:
    return os.getloadavg()[0]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


class Chromium:
    """Debian's Chromium through Playwright, one warm browser and page, printing HTML to PDF.

    The fonts the HTML names (the prepared OGI fonts, registered with WeasyPrint's own
    Fontconfig configuration) are given to Chromium through a Fontconfig file of its own.
    """

    def __init__(self, font_dirs: list[Path] = ()) -> None:
        from playwright.sync_api import sync_playwright

        if not Path(CHROMIUM).exists():
            raise RuntimeError("Debian's chromium is not installed")
        self._tmp = tempfile.TemporaryDirectory(prefix="ogidesk-bench-chromium-")
        conf = Path(self._tmp.name) / "fonts.conf"
        dirs = "".join(f"<dir>{d}</dir>" for d in font_dirs)
        conf.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                        f'<include ignore_missing="yes">/etc/fonts/fonts.conf</include>{dirs}'
                        f'<cachedir>{self._tmp.name}/cache</cachedir></fontconfig>')
        self._pw = sync_playwright().start()
        env = {**os.environ, "FONTCONFIG_FILE": str(conf)}
        self._browser = self._pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True, env=env)
        self._page = self._browser.new_page()

    def pdf(self, html: str) -> bytes:
        self._page.set_content(html, wait_until="load")
        return self._page.pdf(prefer_css_page_size=True, print_background=True)

    def time(self, html: str, n: int, warm: int = 2) -> dict:
        for _ in range(warm):
            self.pdf(html)
        walls = []
        pdf = b""
        for _ in range(n):
            t0 = time.perf_counter()
            pdf = self.pdf(html)
            walls.append((time.perf_counter() - t0) * 1000)
        return {"median": statistics.median(walls), "p95": percentile(walls, 0.95), "kib": len(pdf) / 1024,
                "pdf": pdf}

    def close(self) -> None:
        self._browser.close()
        self._pw.stop()
        self._tmp.cleanup()


def add_row(start: str, end: str, intro: str, header: str, row: str, heading: str) -> None:
    """Append ``row`` to the table between the markers (created with ``intro`` and ``header`` the
    first time, under ``heading``); earlier rows stay."""
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Performance\n"
    if start in text and end in text:
        pre, rest = text.split(start, 1)
        block, post = rest.split(end, 1)
        block = block.rstrip("\n") + "\n" + row + "\n"
        text = pre + start + block + end + post
    else:
        block = f"{heading}\n\n{intro}\n\n{start}\n{header}\n{row}\n{end}\n"
        before = re.search(r"^<!-- casefile:begin -->", text, flags=re.M) if start.startswith("<!-- bench_") else None
        after = re.search(r"^<!-- casefile:end -->\n", text, flags=re.M) if start.startswith("<!-- casefile_") else None
        if before:  # the letters' and fonts' tables sit with the letters, before the case file
            text = text[:before.start()] + block + "\n" + text[before.start():]
        elif after:  # the case file's table follows the earlier case file block
            text = text[:after.end()] + "\n" + block + text[after.end():]
        else:
            text = text.rstrip("\n") + "\n\n" + block
    DOC.write_text(text, encoding="utf-8")


# A scratch database of its own for each benchmark: never `test` (CI's) nor anyone's working data.
SCRATCH_PG = "postgresql://postgres@127.0.0.1:5432/{name}"


def scratch_pg(name: str) -> str:
    """The URL of an empty PostgreSQL database ``name``, created or emptied (public schema dropped)."""
    import psycopg

    admin = SCRATCH_PG.format(name="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    url = SCRATCH_PG.format(name=name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return url


def write_block(begin: str, end: str, block: str) -> None:
    """Replace what lies between two markers of docs/performance.md (append them if absent)."""
    text = DOC.read_text(encoding="utf-8")
    new = f"{begin}\n{block}\n{end}"
    if begin in text:
        pre, rest = text.split(begin, 1)
        _, post = rest.split(end, 1)
        text = pre + new + post
    else:
        text = text.rstrip("\n") + "\n\n" + new + "\n"
    DOC.write_text(text, encoding="utf-8")
