"""Benchmark of case search (the ledger's and the API's `q`) at 200,000 and 2,000,000 cases.

Scratch databases: PostgreSQL ogidesk_bench_search (2,000,000 cases) and ogidesk_bench_search_200k,
SQLite /tmp/ogidesk_bench_search.sqlite3 (200,000). Never `test`. The cases come from
bench_reports.generate (same office, same names and 文号), inserted at migration 0018, so that
migration 0020's backfill of the search tokens is timed on real rows.

    .venv/bin/python bench/bench_search.py seed --db pg --cases 2000000     # build only (slow: run early)
    .venv/bin/python bench/bench_search.py run                                # measure all three, write the doc
    .venv/bin/python bench/bench_search.py run --no-doc --only pg200k         # quick look
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_reports as BR  # noqa: E402  (only its data generator and timing helpers)

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
# Each may instead be a report bench database that already holds its cases and their tokens
# (bench_reports seeds them at head): BENCH_SEARCH_PG2M / BENCH_SEARCH_PG200K / BENCH_SEARCH_SQLITE.
TARGETS = {"pg2m": (os.environ.get("BENCH_SEARCH_PG2M", "ogidesk_bench_search"), 2_000_000),
           "pg200k": (os.environ.get("BENCH_SEARCH_PG200K", "ogidesk_bench_search_200k"), 200_000)}
SQLITE_PATH = os.environ.get("BENCH_SEARCH_SQLITE", "/tmp/ogidesk_bench_search.sqlite3")
BEFORE = "0018"  # the revision before the search tokens: the seed runs there, the upgrade is timed


def pg_url(name: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def recreate_pg(name: str) -> str:
    import psycopg
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return pg_url(name)


def recreate_sqlite() -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(SQLITE_PATH + suffix).unlink(missing_ok=True)
    return f"sqlite:///{SQLITE_PATH}"


def seed(url: str, n: int) -> dict:
    """Schema at 0018, n generated cases, then the timed upgrade to head (0020 backfills the tokens)."""
    from flask_migrate import upgrade
    app = BR.make_app(url)
    with app.app_context():
        upgrade(revision=BEFORE)
    t = time.perf_counter()
    data = BR.generate(app, n)
    data["generate_seconds"] = round(time.perf_counter() - t, 1)
    print(f"   generated: {data}", flush=True)
    return data


def upgrade_head(url: str) -> float:
    from flask_migrate import upgrade

    from app.extensions import db
    app = BR.make_app(url)
    with app.app_context():
        t = time.perf_counter()
        upgrade()
        s = time.perf_counter() - t
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE \"case\"")
        db.engine.dispose()
    return s


DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- search:begin -->", "<!-- search:end -->"
TARGET_P95 = 50.0
# (label, term): chosen from bench_reports' data (names from its surname and given-name lists,
# its 15 subjects, DEMO-{year}-{seq:04d}, 示政发〔year〕n号 on 30 % of the cases).
TERMS = (("no search (baseline)", ""), ("2-char name", "王伟"), ("1-char term", "婷"), ("1-char common", "伟"), ("4-char phrase", "旧城改造"),
         ("case-number fragment", "2025-0123"), ("case-number seq", "0123"), ("文号 fragment", "〔2019〕12号"),
         ("no match", "不存在的词语"))


def load_avg() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def measure(url: str, iterations: int) -> dict:
    from app.extensions import db
    from app.models import Case, User
    from app.reports import ledger
    from app.services import cases as S

    app = BR.make_app(url)
    out: dict = {"terms": {}, "load_before": load_avg()}
    with app.test_request_context():
        head = db.session.scalar(db.select(User).where(User.username == "head"))
        out["cases"] = db.session.scalar(db.select(db.func.count(Case.id)))
        for label, term in TERMS:
            f = ledger.parse_filters(head.agency_id, {"q": term})
            rows, total, capped = ledger.page(f)
            t_ledger = BR.timed(lambda: ledger.page(ledger.parse_filters(head.agency_id, {"q": term})), iterations)
            t_api = BR.timed(lambda: S.list_cases(head, {"q": term}), max(5, iterations // 3))
            db.session.rollback()
            out["terms"][label] = {"term": term, "matches": f"≥{total:,}" if capped else f"{total:,}",
                                   "ledger": t_ledger, "api": t_api, "load": load_avg()}
            print(f"   {label} {term}: {out['terms'][label]['matches']} ledger p50 {t_ledger['p50']:.1f} "
                  f"p95 {t_ledger['p95']:.1f} · api p95 {t_api['p95']:.1f} ms (load {load_avg()})", flush=True)
        out["plans"] = plans(app, head)
    out["load_after"] = load_avg()
    with app.app_context():
        db.engine.dispose()
    return out


def plans(app, head) -> list[str]:
    from sqlalchemy import func, select

    from app.models import Case
    from app.reports import ledger
    out = []
    for term in ("王伟", "旧城改造", "不存在的词语"):
        f = ledger.parse_filters(head.agency_id, {"q": term})
        count = select(func.count()).select_from(select(Case.id).where(f.where()).limit(ledger.SEARCH_COUNT_CAP + 1).subquery())
        page = ledger._rows_query(f).limit(f.per_page)
        out += BR.explain(app, f"count (capped) q={term}", count)
        out += BR.explain(app, f"first page q={term}", page)
    return out


def fmt(t: dict) -> str:
    return f"{t['p50']:.1f} / {t['p95']:.1f}"


def render(results: dict, iterations: int) -> str:
    from common import commit
    lines = [BEGIN, "", f"Measured by `bench/bench_search.py` (commit {commit()}, {iterations} iterations after 3 warm-up "
             f"calls; server time of `ledger.page` — the capped count and the first page of 50 — and of the API's "
             f"`list_cases`, whose total is exact). Target: search p95 ≤ {TARGET_P95:.0f} ms.", ""]
    names = list(results)
    lines.append("| term | | " + " | ".join(f"{n} matches | {n} ledger p50 / p95 ms | {n} API p50 / p95 ms" for n in names) + " |")
    lines.append("|---|---|" + "---|---|---|" * len(names))
    for label, term in TERMS:
        cells = []
        for n in names:
            t = results[n]["terms"][label]
            ok = "✓" if t["ledger"]["p95"] <= TARGET_P95 else "✗"
            cells.append(f"{t['matches']} | {fmt(t['ledger'])} {ok} | {fmt(t['api'])}")
        lines.append(f"| {label} | {term} | " + " | ".join(cells) + " |")
    lines.append("")
    for n in names:
        r = results[n]
        extra = f"; migration 0020 (backfill + index) took {r['upgrade_s']:.0f} s" if r.get("upgrade_s") else ""
        lines.append(f"- {n}: {r['cases']:,} cases; load average (1/5/15 min) {r['load_before']} before, "
                     f"{r['load_after']} after{extra}.")
    lines += ["", "EXPLAIN of the search queries (PostgreSQL: EXPLAIN ANALYZE; SQLite: EXPLAIN QUERY PLAN):", ""]
    for n in names:
        lines += [f"{n}:", "", "```"] + results[n]["plans"] + ["```", ""]
    lines.append(END)
    return "\n".join(lines)


def write_doc(block: str) -> None:
    text = DOC.read_text()
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n## Case search at 200,000 and 2,000,000 cases\n\n" + block + "\n"
    DOC.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("seed")
    s.add_argument("--db", choices=["pg2m", "pg200k", "sqlite"], required=True)
    s.add_argument("--no-upgrade", action="store_true", help="stay at 0018 (upgrade later, timed)")
    u = sub.add_parser("upgrade", help="upgrade a seeded database to head, timed (migration 0020's backfill)")
    u.add_argument("--db", choices=["pg2m", "pg200k", "sqlite"], required=True)
    r = sub.add_parser("run", help="measure the seeded databases (at head) and write docs/performance.md")
    r.add_argument("--only", nargs="*", choices=["pg200k", "pg2m", "sqlite"])
    r.add_argument("--iterations", type=int, default=40)
    r.add_argument("--no-doc", action="store_true")
    r.add_argument("--append", action="store_true", help="add this run's table and plans to the section, keep the rest")
    r.add_argument("--upgrade-seconds", nargs="*", default=[], help="db=seconds of the timed upgrade, for the doc")
    args = ap.parse_args()
    if args.cmd == "run":
        urls = {"PostgreSQL 200k": ("pg200k", pg_url(TARGETS["pg200k"][0])),
                "PostgreSQL 2M": ("pg2m", pg_url(TARGETS["pg2m"][0])),
                "SQLite 200k": ("sqlite", f"sqlite:///{SQLITE_PATH}")}
        ups = dict(x.split("=") for x in args.upgrade_seconds)
        results = {}
        for name, (key, url) in urls.items():
            if args.only and key not in args.only:
                continue
            print(f"== {name}", flush=True)
            results[name] = measure(url, args.iterations)
            if key in ups:
                results[name]["upgrade_s"] = float(ups[key])
        block = render(results, args.iterations)
        if args.no_doc:
            print(block)
        elif args.append:
            inner = block.split(BEGIN, 1)[1].split(END, 1)[0]
            DOC.write_text(DOC.read_text().replace(END, inner.lstrip("\n") + END, 1))
        else:
            write_doc(block)
    if args.cmd == "upgrade":
        url = f"sqlite:///{SQLITE_PATH}" if args.db == "sqlite" else pg_url(TARGETS[args.db][0])
        load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"upgrade {args.db} to head: {upgrade_head(url):.1f} s (load before {load}, after "
              f"{' / '.join(f'{x:.1f}' for x in os.getloadavg())})", flush=True)
    if args.cmd == "seed":
        load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
        if args.db == "sqlite":
            url, n = recreate_sqlite(), 200_000
        else:
            name, n = TARGETS[args.db]
            url = recreate_pg(name)
        data = seed(url, n)
        print(f"seeded {args.db}: {data} (load before {load})", flush=True)
        if not args.no_upgrade:
            print(f"upgrade to head: {upgrade_head(url):.1f} s", flush=True)


if __name__ == "__main__":
    main()
