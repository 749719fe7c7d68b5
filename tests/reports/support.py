"""Building report data directly with the models, with explicit dates (history does not go through
the workflow: an office's past cases are exactly what the import and the annual report deal with)."""
from __future__ import annotations

import random
import re
from datetime import date, timedelta

from app.domain.intake import APPLICANT_TYPES, CHANNELS
from app.domain.outcomes import OUTCOME_BY_CODE, OUTCOMES
from app.extensions import db
from app.models import Case, Remedy
from app.services.numbering import next_number
from tests.conftest import user


def d(iso: str) -> date:
    return date.fromisoformat(iso)


def make_case(*, received: str | date, closed: str | date | None = None, outcome: str | None = None,
              atype: str = "natural", channel: str = "in_person", state: str | None = None,
              handler: str | None = None, name: str = "张三", description: str = "某项目的批复文件",
              doc_number: str = "", reply_due: str | date | None = None, imported: bool = False,
              agency_id: int | None = None, commit: bool = True) -> Case:
    received = d(received) if isinstance(received, str) else received
    closed = d(closed) if isinstance(closed, str) else closed
    reply_due = d(reply_due) if isinstance(reply_due, str) else reply_due
    if agency_id is None:
        agency_id = user("admin").agency_id
    if state is None:
        if closed is None:
            state = "handling"
        else:
            state = "delivered" if OUTCOME_BY_CODE.get(outcome) is None or OUTCOME_BY_CODE[outcome].drafted else "closed"
    seq = next_number(agency_id, "case", received.year)
    c = Case(agency_id=agency_id, year=received.year, seq=seq, number=f"T-{received.year}-{seq:04d}", state=state,
             channel=channel, arrived_on=received, received_on=received, receipt_basis="测试数据",
             applicant_type=atype, applicant_name=name, description=description, doc_number=doc_number,
             handler_id=user(handler).id if handler else None, clock_start=received, reply_due=reply_due,
             outcome_code=outcome, closed_on=closed, imported=imported)
    db.session.add(c)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return c


def make_remedy(case: Case, kind: str, filed: str, result: str = "pending", decided: str | None = None) -> Remedy:
    r = Remedy(case_id=case.id, kind=kind, filed_on=d(filed), result=result,
               decided_on=d(decided) if decided else None)
    db.session.add(r)
    db.session.commit()
    return r


def random_dataset(seed: int, n: int, first: date, last: date) -> list[dict]:
    """Random but reproducible case specs: receipt in [first, last], some still open."""
    rnd = random.Random(seed)
    specs = []
    codes = [o.code for o in OUTCOMES]
    span = (last - first).days
    for _ in range(n):
        received = first + timedelta(days=rnd.randrange(span + 1))
        closed = outcome = None
        if rnd.random() < 0.8:
            closed = received + timedelta(days=rnd.randrange(0, 70))
            outcome = rnd.choice(codes)
        specs.append({"received": received, "closed": closed, "outcome": outcome,
                      "atype": rnd.choice(list(APPLICANT_TYPES)), "channel": rnd.choice(list(CHANNELS))})
    return specs


def expected_table3(specs: list[dict], year: int) -> dict[str, dict[str, int]]:
    """The §3.2 counting rules written out plainly, case by case (independent of the SQL)."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    cols = list(APPLICANT_TYPES) + ["total"]
    from app.domain.outcomes import REPORT_ROWS
    out = {r.key: {c: 0 for c in cols} for r in REPORT_ROWS}
    for s in specs:
        rows = []
        if start <= s["received"] <= end:
            rows.append("一")
        if s["received"] < start and (s["closed"] is None or s["closed"] >= start):
            rows.append("二")
        if s["closed"] is not None and start <= s["closed"] <= end:
            rows += ["三(七)", OUTCOME_BY_CODE[s["outcome"]].row]
        if s["received"] <= end and (s["closed"] is None or s["closed"] > end):
            rows.append("四")
        for r in rows:
            out[r][s["atype"]] += 1
            out[r]["total"] += 1
    return out


CELL_RE = re.compile(r'data-cell="([^"]+)">(?:<a [^>]*>)?(\d+)')


def screen_cells(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in CELL_RE.findall(html)}


LINK_RE = re.compile(r'data-cell="([^"]+)"><a href="([^"]+)"')


def cell_links(html: str) -> dict[str, dict]:
    """Cell key -> the query of its drill-down link."""
    from html import unescape
    from urllib.parse import parse_qs, urlsplit
    out = {}
    for key, href in LINK_RE.findall(html):
        parts = urlsplit(unescape(href))
        assert parts.path == "/ledger"
        out[key] = parse_qs(parts.query)
    return out
