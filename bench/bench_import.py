"""Benchmark of the historical ledger import (历史台账导入) at 10,000 and 50,000 rows.

Writes a realistic ledger (.xlsx, the import template's columns: ten years of a large office,
mostly finished requests, some open, handlers by name, outcomes by label or table-3 cell), then
for each size, in a fresh process each (so that the peak memory is the step's own):

* preview: the dry run the upload page shows (read, validate, plan), nothing written;
* import: the confirmed import as the worker runs it (validated and planned again, then every
  row written in one transaction), through the job framework in process.

Reports wall time, CPU time, peak RSS and SQL statements, on SQLite and PostgreSQL, with the load
average; writes the block between the markers in docs/performance.md (--no-doc to only print).

    .venv/bin/python bench/bench_import.py --pg postgresql://postgres@127.0.0.1:5432/test_h2
    .venv/bin/python bench/bench_import.py --only sqlite --rows 2000 --no-doc     # quick look
    .venv/bin/python bench/bench_import.py --only sqlite --rows 10000 --profile   # cProfile of the import
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from common import SCRATCH_PG, commit as bench_commit, scratch_pg, write_block

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 23)
SQLITE_PATH = os.environ.get("BENCH_SQLITE_PATH", "/tmp/ogidesk_bench_import.sqlite3")
FILES = Path(os.environ.get("BENCH_IMPORT_DIR", "/tmp/ogidesk_bench_import"))
BEGIN, END = "<!-- import:begin -->", "<!-- import:end -->"

APPLICANT = ["自然人"] * 7 + ["法人或其他组织—商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
CHANNEL = ["互联网渠道"] * 5 + ["当面提交", "邮寄（需签收）", "平常信函", "传真"]
OUTCOME = ["予以公开"] * 4 + ["部分公开", "三(一)", "三(四)1", "申请人撤回申请",
                             "不予公开（属于国家秘密）"]
SUBJECTS = ["旧城改造项目的征收补偿方案", "国有土地使用权出让合同", "建设工程规划许可证及附图", "控制性详细规划调整的批复",
            "集体土地征收的批准文件", "拆迁安置人员名单", "环境影响评价报告", "道路拓宽工程的立项批复"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def ledger(rows: int, seed: int = 12) -> Path:
    """The ledger file (made once per size and kept in FILES)."""
    from openpyxl import Workbook

    from app.reports.importer import COLUMNS

    FILES.mkdir(parents=True, exist_ok=True)
    path = FILES / f"ledger-{rows}.xlsx"
    if path.exists():
        return path
    rnd = random.Random(seed)
    wb = Workbook()  # not write_only: like Excel's, the sheet then starts with its <dimension>
    ws = wb.active
    ws.title = "台账"
    ws.append([c.header for c in COLUMNS])
    first = date(2016, 1, 4)
    span = (TODAY - first).days
    for i in range(rows):
        received = first + timedelta(days=rnd.randrange(span))
        open_ = received > TODAY - timedelta(days=40) and rnd.random() < 0.7
        closed = None if open_ else min(TODAY, received + timedelta(days=rnd.randint(3, 40)))
        name = rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.randint(1, 2)))
        ws.append([name, rnd.choice(APPLICANT), rnd.choice(CHANNEL),
                   received if rnd.random() < 0.8 else received.strftime("%Y年%m月%d日"),
                   f"申请公开{received.year - rnd.randint(0, 5)}年{rnd.choice(SUBJECTS)}",
                   rnd.choice(["李承办", "赵承办", "handler", ""]), closed, None if open_ else rnd.choice(OUTCOME),
                   f"示自然资规公开〔{received.year}〕{i + 1}号" if not open_ else "",
                   f"示政发〔{received.year}〕{rnd.randint(1, 60)}号" if rnd.random() < 0.3 else "",
                   f"旧台账-{received.year}-{i + 1:06d}"])
    tmp = path.with_suffix(".part")
    wb.save(tmp)
    tmp.rename(path)
    return path


def make_app(url: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "OGI_TODAY": TODAY.isoformat(), "TESTING": True,
                       "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                       "IMPORT_STAGING_DIR": str(FILES / "staging"), "QUEUE_URL": f"sqlite:///{FILES}/queue.sqlite3"})


def fresh_db(url: str) -> None:
    """An empty migrated database with the demo agency."""
    from flask_migrate import upgrade

    if url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(SQLITE_PATH + suffix).unlink(missing_ok=True)
    else:
        scratch_pg(url.rsplit("/", 1)[1])
    app = make_app(url)
    with app.app_context():
        from app.cli import seed_demo

        upgrade()
        seed_demo()


def child(url: str, step: str, rows: int, profile: bool) -> dict:
    """One measured step in this (fresh) process."""
    from sqlalchemy import event

    from app.extensions import db
    from app.models import Case, User
    from app.reports import importer

    app = make_app(url)
    data = ledger(rows).read_bytes()
    with app.test_request_context():
        statements = [0]
        event.listen(db.engine, "before_cursor_execute", lambda *a, **k: statements.__setitem__(0, statements[0] + 1))
        admin = db.session.scalar(db.select(User).where(User.username == "admin"))
        prof = None
        if profile:
            import cProfile

            prof = cProfile.Profile()
        t0, c0 = time.perf_counter(), time.process_time()
        if prof:
            prof.enable()
        if step == "preview":
            result = importer.import_ledger(admin, data, dry_run=True)
            out = {"ok": result.ok, "to_create": result.count("create"), "errors": len(result.errors)}
        else:  # what the worker's job runs (before issue 12: the confirming request)
            result = importer.import_ledger(admin, data)
            out = {"ok": result.ok, "created": result.created}
        if prof:
            prof.disable()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if prof:
            import pstats

            pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(35)
        cases = db.session.scalar(db.select(db.func.count(Case.id)).where(Case.imported.is_(True)))
    return {"step": step, "rows": rows, "wall": wall, "cpu": cpu, "statements": statements[0], "cases": cases,
            "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "file_kib": len(data) / 1024,
            "out": out}


def measure(url: str, step: str, rows: int, profile: bool = False) -> dict:
    load0 = os.getloadavg()[0]
    p = subprocess.run([sys.executable, __file__, "--child", step, "--url", url, "--rows", str(rows)]
                       + (["--profile"] if profile else []), capture_output=True, text=True)
    if p.returncode:
        raise SystemExit(p.stdout + p.stderr)
    if profile:
        print(p.stderr[-12000:])
    r = json.loads(p.stdout.strip().splitlines()[-1])
    r["load"] = (load0, os.getloadavg()[0])
    return r


def render(rows: list[dict]) -> str:
    commit = bench_commit()
    lines = [f"Last run: {datetime.now():%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} cores, Python {platform.python_version()}, commit {commit}.", "",
             "| database | rows (file) | step | wall | CPU | peak RSS | SQL statements | cases written | "
             "load avg (before → after) |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['db']} | {r['rows']:,} ({r['file_kib']:.0f} KiB) | {r['step']} | {r['wall']:.1f} s | "
                     f"{r['cpu']:.1f} s | {r['rss_mib']:.0f} MiB | {r['statements']:,} | {r['cases']:,} | "
                     f"{r['load'][0]:.2f} → {r['load'][1]:.2f} |")
    return "\n".join(lines)


def write_doc(block: str) -> None:
    write_block(BEGIN, END, block)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, action="append", help="ledger sizes (default 10,000 and 50,000)")
    p.add_argument("--only", choices=("sqlite", "pg"))
    p.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", SCRATCH_PG.format(name="ogidesk_bench_import")))
    p.add_argument("--profile", action="store_true", help="cProfile the import step (printed, not written)")
    p.add_argument("--no-doc", action="store_true")
    p.add_argument("--child", choices=("preview", "import"), help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    args = p.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 40)
    sizes = args.rows or [10_000, 50_000]
    if args.child:
        print(json.dumps(child(args.url, args.child, sizes[0], args.profile), default=str))
        return
    results = []
    for label, url in (("SQLite", f"sqlite:///{SQLITE_PATH}"), ("PostgreSQL", args.pg)):
        if args.only and args.only != ("sqlite" if label == "SQLite" else "pg"):
            continue
        for n in sizes:
            ledger(n)
            fresh_db(url)
            for step in ("preview", "import"):
                r = measure(url, step, n, profile=args.profile and step == "import")
                r["db"] = label
                print(r, flush=True)
                results.append(r)
    block = render(results)
    print(block)
    if not args.no_doc and not args.profile:
        write_doc(block)


if __name__ == "__main__":
    main()
