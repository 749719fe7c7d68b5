"""Load test: 50 signed-in users against the real gunicorn (gunicorn.conf.py) on PostgreSQL with
200,000 cases, then the same against `flask run` for the ratio (issue 12 item 5).

Loopback only and bounded: the servers listen on 127.0.0.1, locust (headless, in .venv-bench,
`make bench-load` sets it up) runs a fixed number of users for a fixed time and stops by itself.

    make bench-load                                          # set-up, both servers, writes the doc
    .venv/bin/python bench/load_test.py --only gunicorn --no-doc --seconds 20   # a quick look

The scratch database is the report bench's (bench/bench_reports.py builds it; `--seed` runs it
first). The test adds its own accounts (handlers, heads, legal advisers: each simulated user
signs in once, with a session of its own) and one reply draft per bench handler, through the
services, once. Numbers go into docs/performance.md between <!-- load:begin --> and <!-- load:end -->.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))
from common import commit, percentile  # noqa: E402

PG_DB = os.environ.get("BENCH_PG_DB", "ogidesk_bench")
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- load:begin -->", "<!-- load:end -->"
TODAY = "2026-11-23"  # the report bench's "today" (its data ends there)
YEAR = 2025
BENCH_PASSWORD = "bench-load-Passw0rd!"
# The accounts of the simulated office: handlers mostly, a few heads and legal advisers.
ROLE_COUNTS = {"handler": 40, "head": 5, "legal": 5}
DRAFTS = 20  # reply drafts being worked on (one each for the first 20 bench handlers)
# Rendered previews survive between the runs (each draft is rendered once, as on a real host).
PREVIEW_DIR = "/tmp/ogidesk-load-previews"
# The mix (relative weights): the queue and case pages are what people open all day; the ledger
# search often; the annual report now and then; a reply draft's preview while it is worked on.
WEIGHTS = {"queue": 30, "case": 30, "search": 15, "annual": 5, "preview": 20}
PAGES = ("queue", "case", "search", "annual")
# Ledger search terms: 2-character names, words of requests, a case number, a 文号 fragment.
TERMS = ["王伟", "李娜", "张敏", "旧城改造", "征收补偿", "规划许可", "安置房", "DEMO-2025-0123", "示政发", "环境影响评价"]
TARGETS = {"errors": 0, "pages_rps": 150.0, "pages_p95_ms": 300.0, "preview_rps": 20.0}
PY = sys.executable
VENV_BENCH = ROOT / ".venv-bench"


# ---------------------------------------------------------------- data: accounts and drafts

def db_url() -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{PG_DB}"


def prepare(url: str, n_case_ids: int = 2000) -> dict:
    """Bench accounts and reply drafts (once, through the services); the plan locust reads."""
    from app import create_app
    from app.cli import create_user
    from app.extensions import db
    from app.models import Agency, Case, User
    from app.services import cases as S

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "OGI_TODAY": TODAY, "TESTING": True})
    with app.app_context():
        agency = db.session.scalar(db.select(Agency).where(Agency.code == "DEMO"))
        if agency is None:
            raise SystemExit(f"{PG_DB} holds no bench data: run bench/bench_reports.py first (or --seed)")
        users = []
        for role, n in ROLE_COUNTS.items():
            for i in range(1, n + 1):
                name = f"bench_{role}{i:02d}"
                if not db.session.scalar(db.select(User.id).where(User.username == name)):
                    create_user(agency, name, f"压测{role}{i}", BENCH_PASSWORD, [role])
                users.append({"username": name, "password": BENCH_PASSWORD, "role": role})
        clerk = db.session.scalar(db.select(User).where(User.username == "clerk"))
        handlers = [db.session.scalar(db.select(User).where(User.username == f"bench_handler{i:02d}"))
                    for i in range(1, DRAFTS + 1)]
        drafts = []
        for i, handler in enumerate(handlers, 1):
            marker = f"压测草稿{i:02d}"
            cid = db.session.scalar(db.select(Case.id).where(Case.agency_id == agency.id,
                                                            Case.receipt_basis == marker))
            if cid is None:
                case = S.register_case(clerk, {
                    "channel": "in_person", "arrived_on": "2026-11-16", "applicant_type": "natural",
                    "applicant_name": f"压测申请人{i}", "id_type": "resident_id", "id_number": "11010519491231002X",
                    "contact_phone": "13800000000", "contact_address": "示范市幸福路8号",
                    "description": f"2025年示范区旧城改造项目的征收补偿方案（{marker}）", "doc_number": "",
                    "requested_form": "paper", "requested_route": "post"})
                case.receipt_basis = marker  # finds it again on the next run (bench data only)
                db.session.commit()
                S.perform(case.id, handler, "start", {})
                S.perform(case.id, handler, "save_draft", {
                    "outcome": "disclose", "decision": f"经审查，您申请的信息予以公开（{marker}）。",
                    "obtain": "随本答复书邮寄提供复印件"})
                cid = case.id
            drafts.append(cid)
        # The worker's 07:30 run has stored today's 今日提醒 on a deployed host; without it every
        # queue page would compute it live (the fallback for a day the worker did not run).
        from app.services import digest
        digest.run_all()
        rnd = random.Random(12)
        lo, hi = db.session.execute(db.select(db.func.min(Case.id), db.func.max(Case.id)).where(
            Case.agency_id == agency.id)).one()
        case_ids = sorted(rnd.sample(range(lo, hi + 1), n_case_ids))
        cases = db.session.scalar(db.select(db.func.count(Case.id)))
        db.engine.dispose()
    return {"users": users, "draft_case_ids": drafts, "case_ids": case_ids, "terms": [urllib.parse.quote(t) for t in TERMS], "year": YEAR,
            "weights": WEIGHTS, "cases": cases}


def cpu_costs(url: str, plan: dict, reps: int = 20) -> dict:
    """This process's CPU time per request of each page (Flask test client, one thread, the heap
    frozen as in a serving worker): what one request costs the web tier, whatever else the machine
    runs. PostgreSQL's own work is not in it."""
    import gc

    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "OGI_TODAY": TODAY, "SECRET_KEY": secrets.token_hex(32),
                      "WTF_CSRF_ENABLED": False, "LETTER_PREVIEW_DIR": PREVIEW_DIR})
    c = app.test_client()
    u = plan["users"][0]
    c.post("/login", data={"username": u["username"], "password": u["password"]})
    draft = f"/cases/{plan['draft_case_ids'][0]}/reply-preview.pdf"
    urls = {"queue": "/", "case": f"/cases/{plan['case_ids'][0]}", "search": f"/ledger?q={plan['terms'][0]}",
            "annual": f"/annual-report?year={YEAR}", "preview": draft}
    for u in urls.values():
        c.get(u)
    gc.collect()
    gc.freeze()
    out = {}
    for name, u in urls.items():
        for _ in range(3):
            r = c.get(u)
        headers = {}
        if name == "preview":
            out["preview (memo)"] = _cpu(c, u, reps, {})
            name, headers = "preview (304)", {"If-None-Match": r.headers["ETag"]}
        out[name] = _cpu(c, u, reps, headers)
    with app.app_context():
        from app.extensions import db
        db.engine.dispose()
    gc.unfreeze()
    return out


def _cpu(client, url: str, reps: int, headers: dict) -> float:
    t0 = time.process_time()
    for _ in range(reps):
        r = client.get(url, headers=headers)
        assert r.status_code in (200, 304), (url, r.status_code)
    return (time.process_time() - t0) / reps * 1000


# ---------------------------------------------------------------- servers

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(url: str, port: int, extra: dict) -> dict:
    env = {**os.environ, "DATABASE_URL": url, "OGI_TODAY": TODAY, "OGI_BIND": f"127.0.0.1:{port}",
           "SECRET_KEY": secrets.token_hex(32), "OGI_WARM_UP": "1", "OCR_AUTOSTART": "0",
           "QUEUE_URL": f"sqlite:////tmp/ogidesk-load-queue-{port}.sqlite3",
           "LETTER_PREVIEW_DIR": PREVIEW_DIR, **extra}
    env.pop("FLASK_DEBUG", None)
    return env


def start_server(kind: str, url: str, port: int, extra: dict, log: Path) -> subprocess.Popen:
    bindir = Path(PY).parent
    if kind == "gunicorn":
        cmd = [str(bindir / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"]
    else:  # Flask's development server, threaded (its default), no reloader or debugger
        cmd = [str(bindir / "flask"), "--app", "wsgi", "run", "--host", "127.0.0.1", "--port", str(port),
               "--no-reload", "--no-debugger", "--with-threads"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=server_env(url, port, extra), stdout=log.open("wb"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{kind} exited ({proc.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        stop_server(proc)
        raise SystemExit(f"{kind} did not answer /healthz within 120 s; see {log}")
    return proc


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # its own process group: the server and its workers
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def sign_in(base: str, username: str, password: str):
    """A browser's sign-in (login form with its CSRF token); returns the opener holding the cookie."""
    import http.cookiejar
    import re

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login", timeout=60).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": token})
    with opener.open(base + "/login", data=data.encode(), timeout=60) as r:
        if r.url.rstrip("/") != base:
            raise SystemExit(f"sign-in of {username} failed (landed on {r.url})")
    return opener, jar


def warm(port: int, plan: dict, passes: int = 3) -> tuple[list[str], list[float]]:
    """Every account signs in first (sign-in hashes a password on purpose: not what is measured),
    a few sequential requests of each page reach the workers, so their first requests (imports,
    template compilation, pool connections) are not counted, and each draft is previewed once, as
    its handler does when writing it. Returns each account's session cookie and the wall times of
    the draft previews (a first preview renders the PDF)."""
    base = f"http://127.0.0.1:{port}"
    cookies = []
    opener = None
    for u in plan["users"]:
        opener, jar = sign_in(base, u["username"], u["password"])
        cookies.append("; ".join(f"{c.name}={c.value}" for c in jar))
    for _ in range(passes):
        for path in ("/", f"/cases/{plan['case_ids'][0]}", f"/ledger?q={plan['terms'][0]}",
                     f"/annual-report?year={YEAR}"):
            opener.open(base + path, timeout=60).read()
    previews = []
    for cid in plan["draft_case_ids"]:
        t0 = time.perf_counter()
        opener.open(f"{base}/cases/{cid}/reply-preview.pdf", timeout=120).read()
        previews.append((time.perf_counter() - t0) * 1000)
    return cookies, previews


# ---------------------------------------------------------------- one run

class LoadSampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.values: list[float] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(5):
            self.values.append(os.getloadavg()[0])

    def stop(self) -> list[float]:
        self._halt.set()
        self.join()
        return self.values


def run_locust(port: int, plan: dict, users: int, seconds: int, tag: str) -> dict:
    plan_path = Path(f"/tmp/ogidesk-load-plan-{tag}.json")
    out_path = Path(f"/tmp/ogidesk-load-out-{tag}.json")
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    out_path.unlink(missing_ok=True)
    cmd = [str(VENV_BENCH / "bin" / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
           "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--stop-timeout", "10",
           "--host", f"http://127.0.0.1:{port}", "--only-summary", "--loglevel", "WARNING"]
    env = {**os.environ, "BENCH_LOAD_PLAN": str(plan_path), "BENCH_LOAD_OUT": str(out_path)}
    sampler = LoadSampler()
    load_before = os.getloadavg()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sampler.start()
    t0 = time.monotonic()
    # Bounded: locust stops itself after `seconds`; the timeout is the backstop.
    subprocess.run(cmd, cwd=ROOT, env=env, timeout=seconds + 120, stdout=subprocess.DEVNULL,
                   stderr=open(f"/tmp/ogidesk-load-locust-{tag}.log", "wb"))
    wall = time.monotonic() - t0
    loads = sampler.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    raw = json.loads(out_path.read_text(encoding="utf-8"))
    return {"raw": raw, "wall": wall, "load_before": load_before, "load_during": loads,
            "load_after": os.getloadavg(),
            "client_cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)}


def summarise(res: dict) -> dict:
    samples = {k: v for k, v in res["raw"]["samples"].items() if k != "login"}
    all_t = [t for v in samples.values() for _, _, t in v]
    window = (max(all_t) - min(all_t)) if all_t else 1.0
    rows = {}
    for name in (*PAGES, "preview"):
        v = samples.get(name, [])
        ms = [m for m, _, _ in v]
        ok = [s for _, s, _ in v if s in (200, 304)]
        rows[name] = {"n": len(v), "rps": len(v) / window, "errors": len(v) - len(ok),
                      "not_modified": sum(1 for _, s, _ in v if s == 304),
                      "p50": percentile(ms, .5) if ms else 0, "p95": percentile(ms, .95) if ms else 0,
                      "p99": percentile(ms, .99) if ms else 0, "max": max(ms) if ms else 0}
    page_ms = [m for n in PAGES for m, _, _ in samples.get(n, [])]
    total = sum(len(v) for v in samples.values())
    return {"rows": rows, "window": window, "total": total, "rps": total / window,
            "pages_rps": len(page_ms) / window, "pages_p95": percentile(page_ms, .95) if page_ms else 0,
            "errors": sum(r["errors"] for r in rows.values()),
            "error_kinds": res["raw"]["errors"],
            "load_before": res["load_before"], "load_after": res["load_after"],
            "load_max": max(res["load_during"] or [0]),
            "client_cpu_share": res["client_cpu"] / res["wall"]}


# ---------------------------------------------------------------- report

def fmt_load(t) -> str:
    return " / ".join(f"{x:.1f}" for x in t)


def render(results: dict, args, settings: dict, plan: dict) -> str:
    wait = "none (each user sends its next request as soon as the last one is answered)" if args.wait[1] == 0 \
        else f"uniform {args.wait[0]}–{args.wait[1]} s between a user's requests"
    lines = [BEGIN, "",
             f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit()}, "
             f"{platform.python_version()}, {os.cpu_count()} cores shared with other work (load average below). "
             f"PostgreSQL {PG_DB}: {plan['cases']:,} cases (bench/bench_reports.py). {args.users} users, each "
             f"signed in once with its own account ({', '.join(f'{n} {r}' for r, n in ROLE_COUNTS.items())}), "
             f"{args.seconds} s, think time: {wait}. Mix (weights): "
             + ", ".join(f"{k} {v}" for k, v in WEIGHTS.items()) + ". Client: locust "
             f"{locust_version()} FastHttpUser, one process on the same machine. `make bench-load`.", ""]
    for kind, s in results.items():
        st = settings[kind]
        lines += [f"**{kind}** ({st}) — {s['rps']:.0f} req/s in all, pages (queue, case, search, annual) "
                  f"{s['pages_rps']:.0f} req/s with p95 {s['pages_p95']:.0f} ms, previews "
                  f"{s['rows']['preview']['rps']:.1f}/s; errors {s['errors']}; "
                  f"load average before {fmt_load(s['load_before'])}, highest during {s['load_max']:.1f}, "
                  f"after {fmt_load(s['load_after'])}; the client used {s['client_cpu_share']:.0%} of a core.", "",
                  "| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | 304 |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for name, r in s["rows"].items():
            lines.append(f"| {name} | {r['n']} | {r['rps']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} "
                         f"| {r['max']:.0f} | {r['errors']} | {r['not_modified']} |")
        wp = s["warm_previews"]
        lines.append("")
        lines.append(f"Before the run each of the {len(wp)} drafts was previewed once (median {percentile(wp, .5):.0f} ms, "
                     f"slowest {max(wp):.0f} ms: a draft not yet in {PREVIEW_DIR} is rendered there).")
        if s["error_kinds"]:
            lines.append("")
            lines += [f"- {name}: " + "; ".join(f"{k} ×{n}" for k, n in kinds.items())
                      for name, kinds in s["error_kinds"].items()]
        lines.append("")
    cpu = settings.get("_cpu")
    if cpu:
        w = {**WEIGHTS}
        pages = sum(cpu[n] * w[n] for n in PAGES) / sum(w[n] for n in PAGES)
        lines += ["Web-tier CPU per request, one thread (ms; `cpu_costs` in bench/load_test.py, PostgreSQL's work "
                  "not included): " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items())
                  + f". The pages of the mix average {pages:.1f} ms: 2 cores at most "
                  f"{2000 / pages:.0f} pages/s before PostgreSQL, the client and anything else take their share.", ""]
    if "gunicorn" in results and "flask run" in results:
        g, f = results["gunicorn"], results["flask run"]
        lines.append(f"gunicorn / flask run: {g['rps'] / max(f['rps'], 1e-9):.1f}× the requests per second, "
                     f"pages p95 {g['pages_p95']:.0f} ms against {f['pages_p95']:.0f} ms.")
        lines.append("")
    if "gunicorn" in results:
        g = results["gunicorn"]
        checks = [("0 errors", g["errors"] == 0),
                  (f"pages ≥ {TARGETS['pages_rps']:.0f} req/s ({g['pages_rps']:.0f})", g["pages_rps"] >= TARGETS["pages_rps"]),
                  (f"pages p95 ≤ {TARGETS['pages_p95_ms']:.0f} ms ({g['pages_p95']:.0f})",
                   g["pages_p95"] <= TARGETS["pages_p95_ms"]),
                  (f"previews ≥ {TARGETS['preview_rps']:.0f}/s ({g['rows']['preview']['rps']:.1f})",
                   g["rows"]["preview"]["rps"] >= TARGETS["preview_rps"])]
        lines.append("Targets (gunicorn): " + "; ".join(f"{t} {'met' if ok else '**not met**'}" for t, ok in checks) + ".")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def locust_version() -> str:
    try:
        out = subprocess.run([str(VENV_BENCH / "bin" / "locust"), "--version"], capture_output=True, text=True)
        return out.stdout.split()[1]
    except (OSError, IndexError):
        return "?"


def write_doc(block: str) -> str:
    """The section replaced between its markers (added at the end the first time)."""
    text = DOC.read_text(encoding="utf-8")
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Load test (gunicorn and flask run, issue 12)\n\n" + block + "\n"
    DOC.write_text(text, encoding="utf-8")
    return f"written to {DOC}"


def wait_arg(raw: str) -> tuple[float, float]:
    lo, _, hi = raw.partition("-")
    return float(lo), float(hi or lo)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--wait", type=wait_arg, default=(0.0, 0.0),
                    help="think time between a user's requests, seconds: 0 (none) or MIN-MAX")
    ap.add_argument("--only", choices=["gunicorn", "flask"])
    ap.add_argument("--seed", action="store_true", help="build the 200,000-case database first (bench_reports.py)")
    ap.add_argument("--cpu-only", action="store_true", help="only the CPU per request of each page")
    ap.add_argument("--skip-cpu", action="store_true", help="without the CPU per request of each page")
    ap.add_argument("--no-doc", action="store_true", help="print the section instead of writing docs/performance.md")
    args = ap.parse_args()
    if not (1 <= args.users <= 200 and 1 <= args.seconds <= 600):
        raise SystemExit("bounded: 1–200 users, 1–600 seconds")
    if not (VENV_BENCH / "bin" / "locust").exists():
        raise SystemExit("locust is missing: `make bench-load` installs bench/requirements.txt into .venv-bench")
    if args.seed:
        subprocess.run([PY, str(ROOT / "bench" / "bench_reports.py"), "--only", "pg", "--no-doc"], cwd=ROOT,
                       env={**os.environ, "BENCH_PG_DB": PG_DB}, check=True)
    url = db_url()
    plan = prepare(url)
    plan["wait"] = list(args.wait)
    from app.config import Config
    workers = Config.WEB_WORKERS or (os.cpu_count() or 1) + 1
    settings = {"gunicorn": f"gunicorn.conf.py: gthread, WEB_WORKERS={Config.WEB_WORKERS} → {workers} workers, "
                            f"WEB_THREADS={Config.WEB_THREADS}",
                "flask run": "flask run --with-threads (Werkzeug's development server, one process)"}
    if not args.skip_cpu:
        settings["_cpu"] = cpu_costs(url, plan)
        print(f"   CPU ms per request: {settings['_cpu']}", flush=True)
    if args.cpu_only:
        return
    results = {}
    for kind in ("gunicorn", "flask run"):
        if args.only and not kind.startswith(args.only):
            continue
        port = free_port()
        log = Path(f"/tmp/ogidesk-load-{kind.replace(' ', '-')}.log")
        print(f"== {kind} on 127.0.0.1:{port} (log {log})", flush=True)
        proc = start_server("gunicorn" if kind == "gunicorn" else "flask", url, port, {}, log)
        try:
            plan["cookies"], warm_previews = warm(port, plan)
            res = run_locust(port, plan, args.users, args.seconds, kind.replace(" ", "-"))
        finally:
            stop_server(proc)
        s = summarise(res)
        s["warm_previews"] = warm_previews
        results[kind] = s
        print(f"   {s['rps']:.0f} req/s, pages {s['pages_rps']:.0f} req/s p95 {s['pages_p95']:.0f} ms, "
              f"errors {s['errors']}, load max {s['load_max']:.1f}", flush=True)
        for name, r in s["rows"].items():
            print(f"   {name:8} n={r['n']:5} {r['rps']:6.1f}/s p50 {r['p50']:6.0f} p95 {r['p95']:6.0f} "
                  f"p99 {r['p99']:6.0f} err {r['errors']} 304 {r['not_modified']}", flush=True)
        if s["error_kinds"]:
            print(f"   errors: {s['error_kinds']}", flush=True)
    block = render(results, args, settings, plan)
    print(block if args.no_doc else write_doc(block))


if __name__ == "__main__":
    main()
