"""Locust users for bench/load_test.py (runs in .venv-bench; imports nothing from the app).

Each simulated user has its own account, signed in by load_test.py before the run (its own session
cookie: the sign-in's deliberate password hashing is not what is measured), then loops over
the page mix below with the think time the plan gives (0 = none). Every response is recorded
with its status in a JSON file (exact percentiles, 304s counted apart), written when the run stops.
The plan (accounts, case ids, draft cases, search terms) comes from BENCH_LOAD_PLAN.
"""
from __future__ import annotations

import itertools
import json
import os
import random
import time

from locust import FastHttpUser, between, constant, events, task

PLAN = json.loads(open(os.environ["BENCH_LOAD_PLAN"], encoding="utf-8").read())
OUT = os.environ["BENCH_LOAD_OUT"]
WAIT = PLAN["wait"]  # [min, max] seconds between two requests of one user; [0, 0] = no think time
WEIGHTS = PLAN["weights"]
_accounts = itertools.cycle(zip(PLAN["users"], PLAN["cookies"]))
_samples: dict[str, list[tuple[float, int, float]]] = {}  # name -> (ms, status, t since start)
_errors: dict[str, dict[str, int]] = {}
_t0 = time.monotonic()


@events.request.add_listener
def _record(request_type, name, response_time, response_length, response=None, exception=None, **kw):
    status = getattr(response, "status_code", 0) or 0
    _samples.setdefault(name, []).append((response_time, status, time.monotonic() - _t0))
    if exception is not None:
        err = _errors.setdefault(name, {})
        key = f"{status} {type(exception).__name__}: {str(exception)[:120]}"
        err[key] = err.get(key, 0) + 1


@events.test_start.add_listener
def _start(**kw):
    global _t0
    _t0 = time.monotonic()


@events.quitting.add_listener
def _dump(environment, **kw):
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"samples": _samples, "errors": _errors}, f)


class Office(FastHttpUser):
    wait_time = constant(0) if WAIT[1] == 0 else between(*WAIT)

    def on_start(self) -> None:
        # Signed in before the run (load_test.py): each user carries its own session cookie.
        self.account, cookie = next(_accounts)
        self.headers = {"Cookie": cookie}
        self.etags: dict[str, str] = {}

    def _page(self, url: str, name: str) -> None:
        # A redirect here is the login page (session lost) or the password page: an error.
        with self.client.get(url, name=name, headers=self.headers, allow_redirects=False, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")

    @task(WEIGHTS["queue"])
    def queue(self) -> None:
        self._page("/", "queue")

    @task(WEIGHTS["case"])
    def case(self) -> None:
        self._page(f"/cases/{random.choice(PLAN['case_ids'])}", "case")

    @task(WEIGHTS["search"])
    def search(self) -> None:
        self._page(f"/ledger?q={random.choice(PLAN['terms'])}", "search")

    @task(WEIGHTS["annual"])
    def annual(self) -> None:
        self._page(f"/annual-report?year={PLAN['year']}", "annual")

    @task(WEIGHTS["preview"])
    def preview(self) -> None:
        # A browser revalidates what it has (If-None-Match); the server may answer 304.
        url = f"/cases/{random.choice(PLAN['draft_case_ids'])}/reply-preview.pdf"
        headers = {**self.headers, **({"If-None-Match": self.etags[url]} if url in self.etags else {})}
        with self.client.get(url, name="preview", headers=headers, allow_redirects=False,
                             catch_response=True) as r:
            if r.status_code == 200 and r.headers.get("Content-Type", "").startswith("application/pdf"):
                if r.headers.get("ETag"):
                    self.etags[url] = r.headers["ETag"]
            elif r.status_code == 304 and url in self.etags:
                r.success()
            else:
                r.failure(f"status {r.status_code}")
