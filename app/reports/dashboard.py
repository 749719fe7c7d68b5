"""Dashboard figures: stages, clocks, monthly volume, outcomes, reply times and handler load."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, case as sql_case, func, select

from ..domain.outcomes import OUTCOME_BY_CODE, OUTCOMES
from ..domain.workflow import OPEN_STATES, STATES
from ..extensions import db
from ..models import Case, CaseTally, User
from ..services.calendar import load_calendar
from .ledger import clock_bounds, clock_condition, clock_display

DRAFTED = [o.code for o in OUTCOMES if o.drafted]


def month_start(d: date, back: int = 0) -> date:
    m = d.year * 12 + (d.month - 1) - back
    return date(m // 12, m % 12 + 1, 1)


@dataclass
class ReplyTimes:
    count: int
    median_days: float | None
    measured: int  # replies with a stored due date (imported history has none)
    on_time: int

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.measured if self.measured else None


def working_day_counter(first: date, last: date):
    """Working days in (a, b] for any a ≤ b within [first, last], by prefix sums (one calendar walk)."""
    cal = load_calendar()
    cum, n, d = {}, 0, first
    while d <= last:
        if cal.is_workday(d):
            n += 1
        cum[d] = n
        d += timedelta(days=1)
    return lambda a, b: cum[b] - cum[a]


def weighted_median(values: list[tuple[int, int]]) -> float:
    """Median of sorted (value, count) pairs, as statistics.median would give on the expanded list."""
    total = sum(n for _, n in values)
    def nth(k: int) -> int:  # 0-based
        seen = 0
        for v, n in values:
            seen += n
            if k < seen:
                return v
        raise IndexError(k)
    if total % 2:
        return float(nth(total // 2))
    return (nth(total // 2 - 1) + nth(total // 2)) / 2


def stats(agency_id: int, today: date) -> dict:
    mine = Case.agency_id == agency_id
    bound = clock_bounds(today)
    window = month_start(today, 11)

    # Stages still needing work (finished stages only grow; their volume is in the charts below).
    working = [st for st in STATES if st in OPEN_STATES or st == "replied"]
    by_state = dict(db.session.execute(select(Case.state, func.count()).where(mine, Case.state.in_(working))
                                       .group_by(Case.state)).all())
    states = [(code, STATES[code], by_state.get(code, 0)) for code in working]

    def clock_list(code: str, limit: int = 15):
        cond = and_(mine, clock_condition(code, today, bound))
        total = db.session.scalar(select(func.count()).select_from(Case).where(cond)) or 0
        # The ids from ix_case_queue alone (it covers the clock's columns), then those rows: SQLite
        # would otherwise walk ix_case_triage over every case of the agency.
        ids = select(Case.id).where(cond).order_by(Case.reply_due, Case.id).limit(limit).subquery()
        q = (select(Case.id, Case.number, Case.applicant_name, Case.description, Case.state, Case.reply_due,
                    Case.paused_until,
                    User.name.label("handler"))
             .join(ids, ids.c.id == Case.id)
             .outerjoin(User, User.id == Case.handler_id).order_by(Case.reply_due, Case.id))
        rows = []
        for r in db.session.execute(q):
            _, label, left = clock_display(r.state, r.reply_due, today, bound, paused_until=r.paused_until)
            rows.append({"id": r.id, "number": r.number, "applicant": r.applicant_name,
                         "description": r.description, "state": STATES.get(r.state, r.state),
                         "reply_due": r.reply_due, "days_left": left, "handler": r.handler or "未分派"})
        return total, rows

    overdue_total, overdue = clock_list("overdue")
    soon_total, due_soon = clock_list("due_soon")
    triage_total = db.session.scalar(select(func.count()).select_from(Case).where(
        mine, clock_condition("triage", today, bound))) or 0

    # Monthly volume, outcomes and on-time replies from the tally (migration 0023), whose months line
    # up with the window; cases closed on a later day of this month than today are taken back out.
    T = CaseTally
    first = window.year * 100 + window.month
    per_month = {divmod(ym, 100): int(n) for ym, n in db.session.execute(
        select(T.received_ym, func.sum(T.n)).where(T.agency_id == agency_id, T.received_ym >= first)
        .group_by(T.received_ym))}
    months = []
    for back in range(11, -1, -1):
        s = month_start(today, back)
        e = month_start(today, back - 1) - timedelta(days=1)
        months.append({"label": f"{s.year % 100:02d}/{s.month}", "year": s.year, "month": s.month,
                       "count": per_month.get((s.year, s.month), 0), "from": s, "to": e})

    in_window = and_(mine, Case.closed_on >= window, Case.closed_on <= today)
    measured_flag = and_(Case.reply_due.is_not(None), Case.closed_on >= Case.received_on)
    tallied = (select(T.outcome_code, func.sum(T.n), func.sum(T.measured), func.sum(T.on_time))
               .where(T.agency_id == agency_id, T.closed_ym.between(first, today.year * 100 + today.month))
               .group_by(T.outcome_code))
    later = (select(func.coalesce(Case.outcome_code, ""), -func.count(),
                    -func.sum(sql_case((measured_flag, 1), else_=0)),
                    -func.sum(sql_case((and_(measured_flag, Case.closed_on <= Case.reply_due), 1), else_=0)))
             .where(mine, Case.closed_on > today, Case.closed_on < month_start(today, -1))
             .group_by(Case.outcome_code))
    by_code: dict[str, list[int]] = {}
    for code, n, m, ok in [*db.session.execute(tallied), *db.session.execute(later)]:
        acc = by_code.setdefault(code, [0, 0, 0])
        for i, v in enumerate((n, m, ok)):
            acc[i] += int(v or 0)
    outcomes, measured, on_time = [], 0, 0
    for code, (n, m, ok) in by_code.items():
        if not n:
            continue
        oc = OUTCOME_BY_CODE.get(code) if code else None
        outcomes.append({"code": code or None, "label": oc.label if oc else (code or "（无）"), "count": n})
        if oc is not None and oc.drafted:  # lapses and withdrawals are not replies
            measured, on_time = measured + m, on_time + ok
    outcomes.sort(key=lambda o: (-o["count"], o["label"]))

    # Reply times in working days: distinct (received, closed) pairs with their counts.
    pairs_q = (select(Case.received_on, Case.closed_on, func.count())
               .where(in_window, Case.outcome_code.in_(DRAFTED), Case.closed_on >= Case.received_on)
               .group_by(Case.closed_on, Case.received_on))  # index order: no sort
    pairs = db.session.execute(pairs_q).all()
    median, replies = None, sum(int(n) for _, _, n in pairs)
    if pairs:
        wd = working_day_counter(min(p[0] for p in pairs), max(p[1] for p in pairs))
        per_days: dict[int, int] = {}  # a few dozen distinct reply times: sort those, not the pairs
        for a, b, n in pairs:
            days = wd(a, b)
            per_days[days] = per_days.get(days, 0) + int(n)
        median = weighted_median(sorted(per_days.items()))
    times = ReplyTimes(replies, median, measured, on_time)

    open_ = and_(mine, Case.state.in_(sorted(OPEN_STATES)))
    load_q = (select(Case.handler_id, User.name, func.count(Case.id),
                     func.sum(sql_case((clock_condition("overdue", today, bound), 1), else_=0)),
                     func.sum(sql_case((clock_condition("due_soon", today, bound), 1), else_=0)))
              .outerjoin(User, User.id == Case.handler_id).where(open_)
              .group_by(Case.handler_id, User.name))
    load = sorted(({"handler_id": hid, "name": name or "未分派", "open": n, "overdue": int(o or 0),
                    "due_soon": int(s or 0)} for hid, name, n, o, s in db.session.execute(load_q)),
                  key=lambda r: (-r["open"], r["name"]))

    closed_total = sum(o["count"] for o in outcomes)
    return {"states": states, "open_total": sum(n for c, _, n in states if c in OPEN_STATES),
            "closed_total": closed_total,
            "overdue_total": overdue_total, "overdue": overdue, "soon_total": soon_total, "due_soon": due_soon,
            "triage_total": triage_total,
            "months": months, "outcomes": outcomes, "times": times, "load": load, "window": window,
            "today": today}
