"""Benchmark of the recompute of open cases when a calendar year is entered or corrected.

A platform of 50 agencies with 35,000 open cases (and 65,000 finished ones) on 10 December 2026,
2027 not yet entered. Two changes are timed, one after the other, on SQLite and PostgreSQL:

* entering 2027 (revision 1): every open case whose deadline reaches into 2027 moves to it;
* correcting 2026 (revision 2, one more holiday on 31 December): every open case touches 2026.

For each: wall time of the recompute, SQL statements sent (a SQLAlchemy ``before_cursor_execute``
listener), cases recomputed, events written, and the load average. Writes the block between the
markers in docs/performance.md (--no-doc to only print).

    .venv/bin/python bench/bench_recompute.py --pg postgresql://postgres@127.0.0.1:5432/test_h2
    .venv/bin/python bench/bench_recompute.py --only sqlite --open 5000 --no-doc   # quick look

``--app-root DIR`` imports the application from another checkout (e.g. ``git archive`` of the
commit before the change) to measure the code as it was: there ``save_year`` recomputed inline.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from common import SCRATCH_PG, commit as bench_commit, scratch_pg, write_block

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 12, 10)
AGENCIES = 50
SQLITE_PATH = os.environ.get("BENCH_SQLITE_PATH", "/tmp/ogidesk_bench_recompute.sqlite3")
BEGIN, END = "<!-- recompute:begin -->", "<!-- recompute:end -->"
# Test data (not the State Council's notice): 2027 as a notice could give it, and a 2026 correction.
HOLIDAYS_2027 = "2027-01-01\n2027-02-05~2027-02-11\n2027-04-05\n2027-05-03~2027-05-05\n2027-06-09\n2027-09-15\n" \
                "2027-10-01~2027-10-07"
MAKEUP_2027 = "2027-02-20\n2027-10-09"


def prepare_sqlite() -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(SQLITE_PATH + suffix).unlink(missing_ok=True)
    return f"sqlite:///{SQLITE_PATH}"


def prepare_pg(url: str) -> str:
    return scratch_pg(url.rsplit("/", 1)[1])


def make_app(url: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "OGI_TODAY": TODAY.isoformat(), "TESTING": True,
                       "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                       "QUEUE_URL": f"sqlite:///{SQLITE_PATH}.queue"})


def generate(app, n_open: int, n_finished: int, seed: int = 2026) -> dict:
    """Agencies, open cases with the clocks the domain computes (some paused by a consultation,
    some of those with the consultation letter issued, some with an extension), finished cases."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, text

    from app.cli import seed_demo
    from app.domain.clock import STEP_DAYS, ClockInput, Pause, stored_clock, step_deadline
    from app.domain.workflow import OPEN_STATES
    from app.extensions import db
    from app.models import Agency, Case, Letter, Sequence, Step, User
    from app.services.workdays import load_calendar

    rnd = random.Random(seed)
    with app.app_context():
        upgrade()
        seed_demo()
        demo = db.session.scalar(db.select(Agency).where(Agency.code == "DEMO"))
        proto = db.session.scalar(db.select(User).where(User.username == "handler"))
        agencies = [demo.id]
        for i in range(1, AGENCIES):
            a = Agency(code=f"A{i:03d}", name=f"示范市第{i}局", doc_code=f"示{i}公开")
            db.session.add(a)
            db.session.flush()
            agencies.append(a.id)
            u = User(agency_id=a.id, username=f"h{i:03d}", name=f"承办人{i}", password_hash=proto.password_hash)
            u.roles = ["handler"]
            db.session.add(u)
        db.session.commit()
        cal = load_calendar()
        days, d = [], TODAY - timedelta(days=400)
        while d <= TODAY:
            if cal.is_workday(d):
                days.append(d)
            d += timedelta(days=1)
        recent = days[-45:]  # open cases: received in the last nine weeks
        open_states = sorted(OPEN_STATES - {"correction"})
        cases, steps, letters, seqs = [], [], [], {}
        case_id = step_id = letter_id = 0
        now = datetime.utcnow()
        t0 = time.perf_counter()

        def base(agency: int, received: date) -> dict:
            nonlocal case_id
            case_id += 1
            y = received.year
            seqs[(agency, y)] = seqs.get((agency, y), 0) + 1
            seq = seqs[(agency, y)]
            return {"id": case_id, "agency_id": agency, "year": y, "seq": seq, "number": f"B{agency}-{y}-{seq:05d}",
                    "version": 1, "channel": "online", "arrived_on": received, "confirmed_on": received,
                    "received_on": received, "receipt_basis": "基准测试数据", "logged_at": now,
                    "applicant_type": "natural", "applicant_name": rnd.choice("王李张刘陈杨黄赵") + "某",
                    "description": "申请公开某项目的批准文件", "clock_start": received, "extension_days": 0,
                    "override_due": None, "paused_until": None, "handler_id": None, "created_by_id": None,
                    "outcome_code": None, "closed_on": None}

        for i in range(n_open):
            agency = agencies[i % len(agencies)]
            received = rnd.choice(recent)
            row = base(agency, received)
            state = "correction" if rnd.random() < 0.06 else rnd.choice(open_states)
            row["state"] = state
            pauses = []
            if state != "correction" and rnd.random() < 0.10:
                step_id += 1
                started = min(TODAY, received + timedelta(days=rnd.randint(1, 10)))
                got = started + timedelta(days=2)
                kind = rnd.choice(("consultation_third_party", "consultation_agency"))
                dl = step_deadline(cal, kind, started, got, STEP_DAYS[kind])
                steps.append({"id": step_id, "case_id": case_id, "kind": kind, "party": "某公司",
                              "started_on": started, "received_on": got, "due_on": dl.due,
                              "due_days": STEP_DAYS[kind], "due_provisional": dl.provisional,
                              "calendar_version": dl.calendar_version, "answered_on": None, "result": "",
                              "details_json": "{}"})
                pauses.append(Pause(kind, started, None, dl.due))
                if rnd.random() < 0.2:  # the consultation letter was issued: its date stays as printed
                    letter_id += 1
                    letters.append({"id": letter_id, "agency_id": agency, "case_id": case_id,
                                    "key": "consultation", "title": "征求意见函", "notice_ref": f"step-{step_id}",
                                    "reissue_no": 0, "number": f"示征〔2026〕{letter_id}号", "year": 2026,
                                    "seq": letter_id, "content_hash": "0" * 64, "pdf": b"%PDF-1.7 bench",
                                    "sha256": "0" * 64, "pages": 1, "issued_at": now})
            if state != "correction" and rnd.random() < 0.05:
                row["extension_days"] = 20
            sc = stored_clock(cal, ClockInput(received, row["extension_days"], tuple(pauses), None,
                                              "等待申请人补正" if state == "correction" else None))
            row.update(reply_due=sc.due, paused_until=sc.paused_until, due_provisional=sc.provisional,
                       calendar_version=sc.calendar_version)
            cases.append(row)
        for i in range(n_finished):
            received = rnd.choice(days[:-30])
            row = base(agencies[i % len(agencies)], received)
            dl = cal.add_working_days(received, 20)
            row.update(state="delivered", outcome_code="disclose", closed_on=min(TODAY, received + timedelta(days=20)),
                       reply_due=dl.due, due_provisional=False, calendar_version=dl.calendar_version)
            cases.append(row)
        for i in range(0, len(cases), 5000):
            db.session.execute(insert(Case.__table__), cases[i:i + 5000])
        for i in range(0, len(steps), 5000):
            db.session.execute(insert(Step.__table__), steps[i:i + 5000])
        if letters:
            db.session.execute(insert(Letter.__table__), letters)
        db.session.execute(insert(Sequence.__table__), [
            {"agency_id": a, "kind": "case", "year": y, "last": n} for (a, y), n in seqs.items()])
        if db.engine.dialect.name == "postgresql":
            for table in ("case", "step", "letter"):
                db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                                        f"(SELECT max(id) FROM \"{table}\"))"))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        return {"open": n_open, "finished": n_finished, "steps": len(steps), "letters": len(letters),
                "load_seconds": time.perf_counter() - t0}


class Counter:
    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.n = 0
        event.listen(engine, "before_cursor_execute", self)

    def __call__(self, *args, **kw) -> None:
        self.n += 1


def change(app, year: int, holidays: str, makeup: str, source: str) -> dict:
    """Save the year and recompute the open cases, as the platform does; count and time it."""
    from app.extensions import db
    from app.models import Case, Event, User
    from app.services import calendar as cal_service

    with app.test_request_context():
        counter = Counter(db.engine)
        admin = db.session.scalar(db.select(User).where(User.username == "sysadmin"))
        events_before = db.session.scalar(db.select(db.func.count(Event.id)).where(Event.case_id.is_not(None)))
        load_before = os.getloadavg()[0]
        counter.n = 0
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        out = cal_service.save_year(admin, year, holidays, makeup, source)
        saved_s = time.perf_counter() - t0
        saved_statements = counter.n
        job_id = None
        if len(out) > 2 and out[2] is not None:  # the recompute is a job: run it here, as the worker does
            from app.services import jobs

            job_id = out[2].id
            jobs.run_pending()
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        statements = counter.n
        load_after = os.getloadavg()[0]
        db.session.remove()
        events = db.session.scalar(db.select(db.func.count(Event.id)).where(Event.case_id.is_not(None))) - events_before
        tagged = db.session.scalar(db.select(db.func.count(Case.id)).where(
            Case.state.not_in(("replied", "delivered", "closed", "archived")),
            Case.calendar_version.like(f"%{year}r%")))
        return {"year": year, "wall": wall, "cpu": cpu, "statements": statements, "saved_s": saved_s,
                "saved_statements": saved_statements, "events": events, "on_new_version": tagged,
                "recomputed": out[1], "job": job_id, "load": (load_before, load_after),
                "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run(label: str, url: str, args) -> list[dict]:
    app = make_app(url)
    facts = generate(app, args.open, args.finished)
    print(f"{label}: {facts}", flush=True)
    rows = []
    for year, hol, mk, src in ((2027, HOLIDAYS_2027, MAKEUP_2027, "2027年节假日安排（基准测试数据）"),
                               (2026, None, "", "2026年更正：12月31日调休放假（基准测试数据）")):
        if hol is None:
            with app.app_context():
                from app.services.views import year_text
                hol, mk = year_text(2026)["holidays"] + "\n2026-12-31", year_text(2026)["makeup"]
        r = change(app, year, hol, mk, src)
        r.update(db=label, **facts)
        print(r, flush=True)
        rows.append(r)
    return rows


def render(rows: list[dict], args, code: str) -> str:
    commit = bench_commit()
    lines = [f"Last run: {datetime.now():%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} cores, Python {platform.python_version()}; code measured: {code} "
             f"(bench at {commit}).", "",
             "| database | change | open cases | cases recomputed / changed (events) | SQL statements | wall | CPU | "
             "save (the request) | peak RSS | load avg (before → after) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        what = "2027 entered (r1)" if r["year"] == 2027 else "2026 corrected (r2)"
        save = f"{r['saved_s'] * 1000:.0f} ms, {r['saved_statements']} statements" if r["job"] else "(recompute inline)"
        lines.append(f"| {r['db']} | {what} | {r['open']:,} | {r['recomputed']:,} / {r['events']:,} | "
                     f"{r['statements']:,} | {r['wall']:.1f} s | {r['cpu']:.1f} s | {save} | {r['rss_mib']:.0f} MiB | "
                     f"{r['load'][0]:.2f} → {r['load'][1]:.2f} |")
    return "\n".join(lines)


def write_doc(block: str, code: str) -> None:
    write_block(f"{BEGIN[:-4]}:{code} -->", f"{END[:-4]}:{code} -->", block)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--open", type=int, default=35_000)
    p.add_argument("--finished", type=int, default=65_000)
    p.add_argument("--only", choices=("sqlite", "pg"))
    p.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", SCRATCH_PG.format(name="ogidesk_bench_recompute")))
    p.add_argument("--app-root", help="import the application from this checkout (the code measured)")
    p.add_argument("--code", default="", help="name of the code measured in the doc block (default: after)")
    p.add_argument("--no-doc", action="store_true")
    args = p.parse_args()
    sys.path.insert(0, str(Path(args.app_root).resolve() if args.app_root else ROOT))
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 40)
    rows = []
    if args.only in (None, "sqlite"):
        rows += run("SQLite", prepare_sqlite(), args)
    if args.only in (None, "pg"):
        rows += run("PostgreSQL", prepare_pg(args.pg), args)
    code = args.code or ("before" if args.app_root else "after")
    block = render(rows, args, code)
    print(block)
    if not args.no_doc:
        write_doc(block, code)


if __name__ == "__main__":
    main()
