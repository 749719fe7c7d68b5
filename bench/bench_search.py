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
TARGETS = {"pg2m": ("ogidesk_bench_search", 2_000_000), "pg200k": ("ogidesk_bench_search_200k", 200_000)}
SQLITE_PATH = "/tmp/ogidesk_bench_search.sqlite3"
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("seed")
    s.add_argument("--db", choices=["pg2m", "pg200k", "sqlite"], required=True)
    s.add_argument("--no-upgrade", action="store_true", help="stay at 0018 (upgrade later, timed)")
    u = sub.add_parser("upgrade", help="upgrade a seeded database to head, timed (migration 0020's backfill)")
    u.add_argument("--db", choices=["pg2m", "pg200k", "sqlite"], required=True)
    args = ap.parse_args()
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
