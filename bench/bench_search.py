"""Benchmark of case search (the ledger's and the API's `q`) at 200,000 and 2,000,000 cases.

Scratch databases: PostgreSQL ogidesk_bench_search (2,000,000 cases) and ogidesk_bench_search_200k,
SQLite /tmp/ogidesk_bench_search.sqlite3 (200,000). Never `test`. The cases come from
bench_reports.generate (same office, same names and 文号) with ID numbers and phones (``people``)
and the letters of the replied cases (``add_letters``), inserted at migration 0028, so that
migration 0029's recomputation of the search tokens is timed on real rows.

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
# The seed runs at the revision before the last search migration (0029: ID numbers, phones and every
# letter's 文号 join the tokens), whose recomputation of every case's tokens is then timed. (Seeding
# at 0018, before the tokens, no longer works: seed_demo writes columns added since.)
BEFORE = "0028"


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


def people(seed: int = 15):
    """A row hook for bench_reports.generate: natural persons get a valid 居民身份证 number and every
    applicant a mobile phone, typed in one of the ways an office records it (its own generator,
    so the cases' names, requests and numbers stay those of the report bench)."""
    import random

    from app.domain.intake import phone_key, resident_id_check_digit
    rnd = random.Random(seed)
    areas = [f"{rnd.randint(11, 65)}{rnd.randint(1, 20):02d}{rnd.randint(1, 30):02d}" for _ in range(300)]

    def hook(row: dict) -> None:
        if row["applicant_type"] == "natural":
            born = f"{rnd.randint(1940, 2005)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}"
            first17 = rnd.choice(areas) + born + f"{rnd.randint(0, 999):03d}"
            row["id_number"] = first17 + resident_id_check_digit(first17)
        else:
            row["id_type"], row["id_number"] = "other", ""
        digits = f"1{rnd.choice('3456789')}{rnd.randint(0, 999_999_999):09d}"
        row["contact_phone"] = rnd.choice((digits, f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
                                           f"{digits[:3]} {digits[3:7]} {digits[7:]}", f"+86 {digits}"))
        row["phone_key"] = phone_key(row["contact_phone"])
    return hook


def add_letters(app) -> int:
    """The letters a real office would have issued, numbered as the DEMO agency numbers them (one
    sequence a year for all its letters): an answer (答复书) for every replied case and an
    extension notice (延长答复期限通知书) for one case in ten. The PDF is a stand-in: search reads
    only the 文号."""
    import hashlib
    from datetime import datetime, timedelta

    from app.extensions import db
    from app.models import Agency, Case, Letter, Sequence
    with app.app_context():
        agency = db.session.scalar(db.select(Agency).where(Agency.code == "DEMO"))
        rows = db.session.execute(db.select(Case.id, Case.closed_on, Case.received_on, Case.state, Case.outcome_code)
                                  .where(Case.agency_id == agency.id).order_by(Case.id)).all()
        issued = []  # (date, case_id, key, ref)
        for i, r in enumerate(rows):
            if i % 10 == 3:
                issued.append((r.received_on + timedelta(days=20), r.id, "extension_notice", "step-ext"))
            if r.closed_on is not None and r.state in ("delivered", "archived"):
                issued.append((r.closed_on, r.id, f"reply_{r.outcome_code}", "reply"))
        issued.sort()
        pdf = b"%PDF-1.7 bench stand-in"
        sha = hashlib.sha256(pdf).hexdigest()
        seq: dict[int, int] = {}
        out, batch = [], []
        for on, case_id, key, ref in issued:
            seq[on.year] = seq.get(on.year, 0) + 1
            batch.append({"agency_id": agency.id, "case_id": case_id, "draft_id": None, "key": key, "title": key,
                          "notice_ref": ref, "reissue_no": 0, "number": f"{agency.doc_code}〔{on.year}〕{seq[on.year]}号",
                          "year": on.year, "seq": seq[on.year], "content_hash": sha, "pdf": pdf, "sha256": sha,
                          "pages": 1, "issued_at": datetime(on.year, on.month, on.day, 10), "issued_by_id": None,
                          "supersedes_id": None, "reissue_reason": None})
            if len(batch) == 5000:
                BR.bulk_insert(Letter.__table__, batch)
                out += batch
                batch = []
        BR.bulk_insert(Letter.__table__, batch)
        for y, last in seq.items():
            db.session.add(Sequence(agency_id=agency.id, kind="letter", year=y, last=last))
        db.session.commit()
        return len(out) + len(batch)


def seed(url: str, n: int) -> dict:
    """Schema at BEFORE, n generated cases with their applicants' ID numbers and phones and their
    letters (the letters' 文号 and the phones are not in the tokens until migration 0029)."""
    from flask_migrate import upgrade
    app = BR.make_app(url)
    with app.app_context():
        upgrade(revision=BEFORE)
    t = time.perf_counter()
    data = BR.generate(app, n, row_hook=people())
    data["letters"] = add_letters(app)
    data["generate_seconds"] = round(time.perf_counter() - t, 1)
    print(f"   generated: {data}", flush=True)
    return data


def upgrade_head(url: str, revision: str = "head") -> float:
    from flask_migrate import upgrade

    from app.extensions import db
    app = BR.make_app(url)
    with app.app_context():
        t = time.perf_counter()
        upgrade(revision=revision)
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
# its 15 subjects, DEMO-{year}-{seq:04d}, 示政发〔year〕n号 on 30 % of the cases) and from the ID
# numbers, phones and letters seed() adds.
TERMS = (("no search (baseline)", ""), ("2-char name", "王伟"), ("1-char term", "婷"), ("1-char common", "伟"), ("4-char phrase", "旧城改造"),
         ("case-number fragment", "2025-0123"), ("case-number seq", "0123"), ("文号 fragment", "〔2019〕12号"),
         ("no match", "不存在的词语"),
         # The numbers an applicant quotes (values of the seeded data: ``people`` and ``add_letters``).
         ("ID number", "211225197905067665"), ("ID number, last 6", "045130"),
         ("phone, digits", "13652092506"), ("phone, typed +86 with spaces", "+86 149 1070 5562"),
         ("reply 文号", "示自然资规公开〔2024〕1234号"), ("文号 without its code", "〔2025〕876号"))


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
        # CPU time of this process and of the PostgreSQL backend serving it: what a search costs on
        # an idle machine, whatever else the shared machine runs (the wall time is given too).
        BR.SERVER = BR.ServerCpu(app)
        for label, term in TERMS:
            f = ledger.parse_filters(head.agency_id, {"q": term})
            rows, total, capped = ledger.page(f)
            t_ledger = BR.timed(lambda: ledger.page(ledger.parse_filters(head.agency_id, {"q": term})), iterations)
            t_api = BR.timed(lambda: S.list_cases(head, {"q": term}), max(5, iterations // 3))
            db.session.rollback()
            out["terms"][label] = {"term": term, "matches": f"≥{total:,}" if capped else f"{total:,}",
                                   "ledger": t_ledger, "api": t_api, "load": load_avg()}
            print(f"   {label} {term}: {out['terms'][label]['matches']} ledger p50 {t_ledger['p50']:.1f} "
                  f"p95 {t_ledger['p95']:.1f} (CPU p95 {t_ledger['total_cpu_p95']:.1f}) · api p95 {t_api['p95']:.1f} "
                  f"(CPU p95 {t_api['total_cpu_p95']:.1f}) ms (load {load_avg()})", flush=True)
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
    for term in ("王伟", "旧城改造", "不存在的词语", "045130", "+86 149 1070 5562"):
        f = ledger.parse_filters(head.agency_id, {"q": term})
        count = select(func.count()).select_from(select(Case.id).where(f.where()).limit(ledger.SEARCH_COUNT_CAP + 1).subquery())
        page = ledger._rows_query(f).limit(f.per_page)
        out += BR.explain(app, f"count (capped) q={term}", count)
        out += BR.explain(app, f"first page q={term}", page)
    return out


def fmt(t: dict) -> str:
    return f"{t['p50']:.1f} / {t['p95']:.1f}"


def fmt_cpu(t: dict) -> str:
    return f"{t['total_cpu_p50']:.1f} / {t['total_cpu_p95']:.1f}"


def render(results: dict, iterations: int) -> str:
    from common import commit
    lines = [BEGIN, "", f"Measured by `bench/bench_search.py` (commit {commit()}, {iterations} iterations after 3 warm-up "
             f"calls; server time of `ledger.page` — the capped count and the first page of 50 — and of the API's "
             f"`list_cases`, whose total is exact). Wall: elapsed time on the shared machine (see its load below); "
             f"CPU: CPU time of the app and of its PostgreSQL backend, what the call costs on an idle machine. "
             f"Target: search p95 ≤ {TARGET_P95:.0f} ms (✓/✗ on the ledger's wall p95, and on its CPU p95 in "
             f"brackets).", ""]
    names = list(results)
    lines.append("| term | | " + " | ".join(f"{n} matches | {n} ledger wall p50 / p95 ms | {n} ledger CPU p50 / p95 ms "
                                           f"| {n} API wall p50 / p95 ms" for n in names) + " |")
    lines.append("|---|---|" + "---|---|---|---|" * len(names))
    for label, term in TERMS:
        cells = []
        for n in names:
            t = results[n]["terms"][label]
            ok = "✓" if t["ledger"]["p95"] <= TARGET_P95 else "✗"
            ok_cpu = "✓" if t["ledger"]["total_cpu_p95"] <= TARGET_P95 else "✗"
            cells.append(f"{t['matches']} | {fmt(t['ledger'])} {ok} | {fmt_cpu(t['ledger'])} ({ok_cpu}) | {fmt(t['api'])}")
        lines.append(f"| {label} | {term} | " + " | ".join(cells) + " |")
    lines.append("")
    for n in names:
        r = results[n]
        extra = f"; migration 0029 (tokens of every case recomputed, index rebuilt) took {r['upgrade_s']:.0f} s" \
            if r.get("upgrade_s") else ""
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
    u.add_argument("--to", default="head", help="revision (default head); e.g. 0028, then head to time 0029 alone")
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
        print(f"upgrade {args.db} to {args.to}: {upgrade_head(url, args.to):.1f} s (load before {load}, after "
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
