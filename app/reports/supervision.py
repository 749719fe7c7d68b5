"""The supervising office's view (issue 16 item 4; Art. 3, 49): for every agency it supervises, the
counts of open, due-soon and overdue cases and of late 协办, a read-only list of the case numbers
behind each count, and the area's annual report compiled from the agencies' tables.

Who sees what: a user with the 公开主管部门 role sees the agencies whose ``supervisor_id`` is the
user's agency, and of their cases only the number, the dates and the status words. The clock
counts use the queue's and the dashboard's SQL rules (services.clocks.clock_condition); each
measure is one query grouped by agency, whatever the number of agencies and cases.
"""
from __future__ import annotations

from dataclasses import dataclass
import json
from datetime import date

from sqlalchemy import and_, case as sql_case, func, select

from ..domain.workflow import OPEN_STATES, STATES
from ..extensions import db
from ..models import Agency, AnnualReportEntry, Case, Step, User
from ..models.remedy import REMEDY_KINDS
from ..services.calendar import load_calendar
from ..services.clocks import clock_bounds, clock_condition
from ..services.errors import Forbidden, NotFound, ServiceError
from ..services.time import local
from . import annual, annual_entry
from .ledger import clock_display

SUPERVISOR_ROLE = "supervisor"
MEASURES = {"open": "在办案件", "due_soon": "即将到期", "overdue": "已超期", "late_cohandle": "协办逾期"}
PER_PAGE = 100
REPORT_STATES = {"submitted": "已报送", "submitted_late": "逾期报送", "drafting": "填报中（未报送）",
                 "not_started": "未填报", "overdue": "逾期未报送"}


def _check(actor: User) -> None:
    if not actor.has_role(SUPERVISOR_ROLE):
        raise Forbidden("只有公开主管部门的用户可以查看所辖机关的情况")


def supervised(actor: User) -> list[Agency]:
    """The agencies the actor's agency supervises (itself included when it is its own supervisor)."""
    _check(actor)
    return list(db.session.scalars(select(Agency).where(Agency.supervisor_id == actor.agency_id)
                                   .order_by(Agency.code)))


def supervised_agency(actor: User, agency_id: int) -> Agency:
    """One supervised agency; any other does not exist for this user (404, as a foreign case)."""
    _check(actor)
    agency = db.session.get(Agency, agency_id)
    if agency is None or agency.supervisor_id != actor.agency_id:
        raise NotFound("该机关不存在，或不由本机关主管")
    return agency


def late_cohandle_condition(today: date):
    """A 协办 letter with no answer after its deadline, on a case still open."""
    return and_(Step.kind == "cohandle", Step.answered_on.is_(None), Step.result == "",
                Step.due_on.is_not(None), Step.due_on < today, Case.state.in_(sorted(OPEN_STATES)))


# ---------------------------------------------------------------- annual report state

def report_year(today: date) -> int:
    """The latest report that is or was due: the year before today's (due 31 January)."""
    return today.year - 1


def report_deadline(year: int) -> date:
    return annual_entry.deadline(year)  # Art. 49: 31 January


@dataclass
class ReportState:
    code: str
    submitted_on: date | None = None

    @property
    def label(self) -> str:
        text = REPORT_STATES[self.code]
        return f"{text}（{self.submitted_on.isoformat()}）" if self.submitted_on else text


def report_state(entry: AnnualReportEntry | None, year: int, today: date) -> ReportState:
    deadline = report_deadline(year)
    if entry is not None and entry.submitted_at is not None:
        snap = _snapshot(entry)
        on = date.fromisoformat(snap["submitted_on"]) if snap else local(entry.submitted_at).date()
        return ReportState("submitted_late" if on > deadline else "submitted", on)
    if today > deadline:
        return ReportState("overdue")
    return ReportState("drafting" if entry is not None else "not_started")


def _snapshot(entry: AnnualReportEntry | None) -> dict | None:
    """The report as the agency submitted it (annual_entry.submit), if it did."""
    if entry is None or entry.submitted_at is None or not entry.submitted_json:
        return None
    return json.loads(entry.submitted_json)


def _tables(agency_id: int, year: int, today: date, entry: AnnualReportEntry | None) -> annual.AnnualReport:
    """The agency's tables 三 and 四: as submitted once it submitted them (a case edited later does
    not change a submitted report), else as computed today."""
    snap = _snapshot(entry)
    if snap is None:
        return annual.compute(agency_id, year, today)
    rep = annual.AnnualReport(year, snap["table3"], snap["table4"])
    rep.checks = annual.run_checks(rep.table3, rep.table4)
    return rep


def _entries(ids: list[int], year: int) -> dict[int, AnnualReportEntry]:
    if not ids:
        return {}
    return {e.agency_id: e for e in db.session.scalars(
        select(AnnualReportEntry).where(AnnualReportEntry.agency_id.in_(ids), AnnualReportEntry.year == year))}


# ---------------------------------------------------------------- overview

@dataclass
class AgencyRow:
    agency: Agency
    open: int = 0
    due_soon: int = 0
    overdue: int = 0
    late_cohandle: int = 0
    report: ReportState | None = None


def overview(actor: User, today: date) -> tuple[list[AgencyRow], int]:
    """One row per supervised agency, and the year whose report state is shown."""
    agencies = supervised(actor)
    rows = {a.id: AgencyRow(a) for a in agencies}
    ids = list(rows)
    year = report_year(today)
    if ids:
        bound = clock_bounds(today)
        q = (select(Case.agency_id, func.count(),
                    func.sum(sql_case((clock_condition("due_soon", today, bound), 1), else_=0)),
                    func.sum(sql_case((clock_condition("overdue", today, bound), 1), else_=0)))
             .where(Case.agency_id.in_(ids), Case.state.in_(sorted(OPEN_STATES))).group_by(Case.agency_id))
        for agency_id, n, soon, late in db.session.execute(q):
            r = rows[agency_id]
            r.open, r.due_soon, r.overdue = int(n), int(soon or 0), int(late or 0)
        q = (select(Case.agency_id, func.count(Step.id)).join(Step, Step.case_id == Case.id)
             .where(Case.agency_id.in_(ids), late_cohandle_condition(today)).group_by(Case.agency_id))
        for agency_id, n in db.session.execute(q):
            rows[agency_id].late_cohandle = int(n)
    entries = _entries(ids, year)
    for r in rows.values():
        r.report = report_state(entries.get(r.agency.id), year, today)
    return list(rows.values()), year


# ---------------------------------------------------------------- drill-down

@dataclass
class CaseRow:
    """What the supervising office may see of a case: number, dates and status words. Nothing that
    names or describes the applicant or the request, and no way into the case."""
    number: str
    received_on: date
    reply_due: date | None
    stage: str
    clock: str
    days_overdue: int | None
    cohandle_due: date | None = None


def agency_cases(actor: User, agency_id: int, status: str, today: date, page: int = 1
                 ) -> tuple[Agency, list[CaseRow], int]:
    agency = supervised_agency(actor, agency_id)
    if status not in MEASURES:
        raise ServiceError("请选择要查看的案件类别", "status")
    cal = load_calendar()
    bound = clock_bounds(today)
    mine = Case.agency_id == agency.id
    cols = (Case.number, Case.received_on, Case.reply_due, Case.state, Case.paused_until, Case.needs_triage)
    if status == "late_cohandle":
        cond = and_(mine, late_cohandle_condition(today))
        base = select(*cols, Step.due_on.label("step_due")).join(Step, Step.case_id == Case.id).where(cond)
        order = (Step.due_on, Case.id, Step.id)
        total_q = select(func.count(Step.id)).select_from(Case).join(Step, Step.case_id == Case.id).where(cond)
    else:
        cond = and_(mine, Case.state.in_(sorted(OPEN_STATES)) if status == "open"
                    else clock_condition(status, today, bound))
        base = select(*cols).where(cond)
        order = (Case.reply_due, Case.id)
        total_q = select(func.count()).select_from(Case).where(cond)
    total = db.session.scalar(total_q) or 0
    q = base.order_by(*order).limit(PER_PAGE).offset((max(page, 1) - 1) * PER_PAGE)
    rows = []
    for r in db.session.execute(q):
        code, label, left = clock_display(r.state, r.reply_due, today, bound, r.needs_triage, r.paused_until)
        row = CaseRow(r.number, r.received_on, r.reply_due, STATES.get(r.state, r.state), label,
                      -left if code == "overdue" and left is not None else None)
        if status == "late_cohandle":
            row.cohandle_due = r.step_due
            row.days_overdue = cal.working_days_between(r.step_due, today)
        rows.append(row)
    return agency, rows, total


# ---------------------------------------------------------------- the area's annual report

def report_years(actor: User, today: date, year: int) -> list[int]:
    """The years to offer, newest first: from the supervised agencies' first request to this year."""
    first = db.session.scalar(select(func.min(Case.received_on)).join(Agency, Agency.id == Case.agency_id)
                              .where(Agency.supervisor_id == actor.agency_id))
    start = min(first.year if first else today.year, year)
    return list(range(max(today.year, year), start - 1, -1))


@dataclass
class AgencyReport:
    agency: Agency
    report: annual.AnnualReport
    state: ReportState


def area_report(actor: User, year: int, today: date) -> tuple[annual.AnnualReport, list[AgencyReport]]:
    """Tables 三 and 四 summed over the supervised agencies cell by cell (each agency's report as
    submitted, or its compute() while not submitted; the identity checks run again on the sums),
    with each agency's report and its state."""
    agencies = supervised(actor)
    entries = _entries([a.id for a in agencies], year)
    parts = []
    t3 = {k: {c: 0 for c in annual.COLUMNS} for k in annual.ROW_KEYS}
    t4 = {k: {c: 0 for c in annual.REMEDY_COLUMNS} for k in REMEDY_KINDS}
    for a in agencies:
        rep = _tables(a.id, year, today, entries.get(a.id))
        for table, own in ((t3, rep.table3), (t4, rep.table4)):
            for row, cells in own.items():
                for col, n in cells.items():
                    table[row][col] += n
        parts.append(AgencyReport(a, rep, report_state(entries.get(a.id), year, today)))
    area = annual.AnnualReport(year, t3, t4, unfinished_year=today <= annual.bounds(year)[1])
    area.checks = annual.run_checks(t3, t4)
    return area, parts


def agency_report(actor: User, agency_id: int, year: int, today: date) -> tuple[Agency, annual.AnnualReport,
                                                                               ReportState]:
    agency = supervised_agency(actor, agency_id)
    entry = _entries([agency.id], year).get(agency.id)
    rep = _tables(agency.id, year, today, entry)
    rep.problems = []  # their case links are for the agency's own staff
    return agency, rep, report_state(entry, year, today)
