"""The working-day calendar as stored, and its administration."""
from __future__ import annotations

from datetime import date, datetime

from flask import current_app
from sqlalchemy import and_, bindparam, exists, func, literal, not_, or_
from sqlalchemy.orm import selectinload

from ..domain.calendar import YearSchedule, schedule_from_chinese_calendar
from ..domain.clock import STEP_DAYS
from ..domain.workflow import FINISHED_STATES
from ..extensions import db
from ..models import CalendarChangeRequest, CalendarRevision, CalendarYear, Case, Job, Letter, Step, User
from . import jobs as background
from .audit import case_event_row, insert_events, record_security
from .errors import Forbidden, NotFound, ServiceError
from .workdays import calendar_for_version, forget_calendar, load_calendar  # noqa: F401  (re-exported)

SEED_YEARS = range(2019, 2027)


def seed_calendar() -> list[int]:
    """Seed 2019–2026 from chinesecalendar where the database has no entry yet."""
    added = []
    for year in SEED_YEARS:
        if db.session.get(CalendarYear, year) is None:
            s = schedule_from_chinese_calendar(year)
            row = CalendarYear(year=year, revision=1, source="chinesecalendar 1.11.0（国务院办公厅节假日安排通知）")
            row.set_days(s.holidays, s.makeup_workdays)
            db.session.add(row)
            keep_revision(row)
            added.append(year)
    db.session.commit()
    forget_calendar()
    return added


def keep_revision(row: CalendarYear) -> CalendarRevision:
    """Every revision entered is kept (calendar_year only holds the one in force)."""
    rev = CalendarRevision(year=row.year, revision=row.revision, holidays_json=row.holidays_json,
                           makeup_json=row.makeup_json, source=row.source or "", entered_by_id=row.updated_by_id)
    db.session.add(rev)
    return rev


def parse_days(text: str, year: int, label: str, field: str) -> set[date]:
    """Dates one per line or separated by commas; ranges as 2027-02-05~2027-02-11."""
    days: set[date] = set()
    for token in text.replace("，", ",").replace("\n", ",").split(","):
        token = token.strip()
        if not token:
            continue
        try:
            if "~" in token:
                a, b = (date.fromisoformat(t.strip()) for t in token.split("~", 1))
                if b < a:
                    raise ValueError
                days.update(date.fromordinal(o) for o in range(a.toordinal(), b.toordinal() + 1))
            else:
                days.add(date.fromisoformat(token))
        except ValueError:
            raise ServiceError(f"{label}中“{token}”不是有效日期（格式 YYYY-MM-DD，区间用 ~ 连接）", field) from None
    wrong = sorted(d for d in days if d.year != year)
    if wrong:
        raise ServiceError(f"{label}中 {wrong[0].isoformat()} 不属于 {year} 年", field)
    return days


def save_year(actor: User, year: int, holidays_text: str, makeup_text: str, source: str
              ) -> tuple[CalendarYear, int, Job | None]:
    """Enter or correct one year; every open case it touches is recomputed and the change logged on it.

    The calendar change and the recompute job (platform-wide, run by the worker) are committed
    together at once; the request never waits for the recompute. Returns the row, the number of
    open cases to recompute and the job (None when there is none)."""
    row, pending = enter_year(actor, year, holidays_text, makeup_text, source, commit=False)
    if not pending:
        db.session.commit()
        return row, 0, None
    job = background.submit(RECOMPUTE_KIND, actor, {"year": year, "revision": row.revision}, pending,
                            agency_id=None)  # commits the calendar with the job
    return row, pending, job


def enter_year(actor: User, year: int, holidays_text: str, makeup_text: str, source: str, *,
               commit: bool = True) -> tuple[CalendarYear, int]:
    """Save one year's schedule as its next revision (and commit it); the open cases it touches
    (returned: their number) are not recomputed here.

    The calendar is national data: only the system administrator changes it (agency
    administrators ask for a change with ``request_change``)."""
    if not actor.has_role("sysadmin"):
        raise Forbidden("只有系统管理员可以维护全国工作日历；机关管理员请提交修改申请")
    if not 2000 <= year <= 2100:
        raise ServiceError("年份无效", "year")
    holidays = {d for d in parse_days(holidays_text, year, "放假日期", "holidays") if d.weekday() < 5}
    makeup = parse_days(makeup_text, year, "调休上班日期", "makeup")
    weekday_makeup = sorted(d for d in makeup if d.weekday() < 5)
    if weekday_makeup:
        raise ServiceError(f"调休上班日应为周六或周日，{weekday_makeup[0].isoformat()} 是工作日", "makeup")
    try:
        schedule = YearSchedule(year, frozenset(holidays), frozenset(makeup))
    except ValueError as e:
        raise ServiceError(str(e), "makeup") from None
    row = db.session.get(CalendarYear, year)
    if row is None:
        row = CalendarYear(year=year, revision=1)
        db.session.add(row)
    else:
        row.revision += 1
    row.set_days(schedule.holidays, schedule.makeup_workdays)
    row.source = source.strip()[:300]
    row.updated_by_id = actor.id
    row.updated_at = datetime.utcnow()
    keep_revision(row)
    db.session.flush()
    forget_calendar()
    pending = count_to_recompute(year, f"{year}r{row.revision}")
    record_security(actor.agency_id, actor, "calendar_changed", {
        "year": year, "revision": row.revision, "source": row.source, "holidays": len(schedule.holidays),
        "makeup": len(schedule.makeup_workdays), "recomputed_cases": pending})
    if commit:
        db.session.commit()
    return row, pending


RECOMPUTE_LABEL = "全国工作日历修订，重新计算期限"
_RETRIES = 3  # a chunk in which somebody changed a case meanwhile is loaded and recomputed again


def _stale(column, year: int, tag: str):
    """The stored calendar version names ``year`` at another revision than ``tag`` (or is empty:
    never computed). Versions are comma-separated tags such as "2026r1,2027p"."""
    wrapped = literal(",") + column + literal(",")
    return or_(column == "", and_(wrapped.like(f"%,{year}%"), not_(wrapped.like(f"%,{tag},%"))))


def _to_recompute(year: int, tag: str):
    """Open cases whose reply clock or an open step's deadline was computed with another revision
    of ``year`` (or never classified). Nothing else can move when ``year`` changes: a deadline's
    version names every year from its start to its due date. Cases already on ``tag`` are not
    selected, so a recompute that stopped half-way is finished by running it again."""
    step = exists().where(Step.case_id == Case.id, or_(
        and_(Step.calendar_version == "", Step.due_on.is_not(None), Step.kind.in_(sorted(STEP_DAYS))),
        # An open step counted in working days (a date entered by hand is kept as entered).
        and_(Step.answered_on.is_(None), Step.result == "", Step.due_days.is_not(None),
             _stale(Step.calendar_version, year, tag))))
    return and_(Case.state.not_in(sorted(FINISHED_STATES)), or_(_stale(Case.calendar_version, year, tag), step))


def count_to_recompute(year: int, tag: str) -> int:
    return db.session.scalar(db.select(func.count(Case.id)).where(_to_recompute(year, tag)))


def recompute_year(actor: User | None, year: int, progress=None) -> dict:
    """Recompute every open case touched by ``year`` with the calendar as it is now, one chunk of
    CALENDAR_RECOMPUTE_CHUNK cases per transaction: the cases with their steps and step letters in three
    queries, the changed cases, steps and their events written by executemany. Every changed case
    gets its own ``calendar_recompute`` event in the same transaction as its new dates.

    ``progress(done, total)`` is called (and commits) after each chunk. Returns the counts."""
    actor_id = actor.id if actor else None
    revised_by = f"系统管理员 {actor.name}" if actor else "系统（部署时导入）"
    row = db.session.get(CalendarYear, year)
    tag = f"{year}r{row.revision}" if row else f"{year}p"
    why = f"{year}年全国工作日历已由系统管理员修订（第{row.revision}版）" if row else f"{year}年全国工作日历已删除"
    ids = list(db.session.scalars(db.select(Case.id).where(_to_recompute(year, tag)).order_by(Case.id)))
    done = changed = 0
    if progress:
        progress(0, len(ids))
    size = max(1, int(current_app.config["CALENDAR_RECOMPUTE_CHUNK"]))
    for i in range(0, len(ids), size):
        chunk = ids[i:i + size]
        for attempt in range(_RETRIES + 1):
            forget_calendar()  # a revision saved meanwhile is used at once
            try:
                changed += _recompute_chunk(chunk, actor_id, revised_by, why)
                break
            except _ChangedMeanwhile:
                db.session.rollback()
                if attempt == _RETRIES:
                    raise ServiceError("重新计算期间案件被反复修改，请稍后重新运行") from None
        done += len(chunk)
        if progress:
            progress(done, len(ids))
        else:
            db.session.commit()
    return {"year": year, "tag": tag, "recomputed": len(ids), "changed": changed}


class _ChangedMeanwhile(Exception):
    """Another transaction changed a case of the chunk after it was loaded (its version moved)."""


_CASE_CLOCK = ("reply_due", "paused_until", "due_provisional", "calendar_version")
_STEP_CLOCK = ("due_on", "due_days", "due_provisional", "calendar_version")


def _recompute_chunk(ids: list[int], actor_id: int | None, revised_by: str, why: str) -> int:
    from .clocks import recompute_steps, refresh_clock

    with db.session.no_autoflush:
        cases = list(db.session.scalars(db.select(Case).where(Case.id.in_(ids)).options(
            selectinload(Case.steps),
            # Only what Step.printed_letter reads: never the letters' PDFs.
            selectinload(Case.letters.and_(Letter.notice_ref.like("step-%"))).load_only(
                Letter.id, Letter.case_id, Letter.notice_ref, Letter.number))))
        case_rows, step_rows, events = [], [], []
        for case in cases:
            before = {k: getattr(case, k) for k in _CASE_CLOCK}
            steps_before = {s.id: tuple(getattr(s, k) for k in _STEP_CLOCK) for s in case.steps}
            steps = recompute_steps(case)  # first: an open pause's limit moves the reply due date
            refresh_clock(case)
            for s in case.steps:
                now = tuple(getattr(s, k) for k in _STEP_CLOCK)
                if now != steps_before[s.id]:
                    step_rows.append({"b_id": s.id, **{f"b_{k}": v for k, v in zip(_STEP_CLOCK, now)}})
            after = {k: getattr(case, k) for k in _CASE_CLOCK}
            if after != before:
                case_rows.append({"b_id": case.id, "b_version": case.version, "b_new_version": case.version + 1,
                                  **{f"b_{k}": v for k, v in after.items()}})
            old = (before["reply_due"], before["due_provisional"], before["calendar_version"])
            new = (after["reply_due"], after["due_provisional"], after["calendar_version"])
            if old != new or steps:
                # The calendar is national: say whose change this is, so an agency does not see a
                # stranger from another agency moving its deadlines.
                events.append(case_event_row(case, actor_id, "calendar_recompute", RECOMPUTE_LABEL, case.state,
                                             case.state, {
                    "reason": why, "revised_by": revised_by,
                    "old_due": old[0].isoformat() if old[0] else None,
                    "new_due": new[0].isoformat() if new[0] else None,
                    "old_calendar_version": old[2], "new_calendar_version": new[2],
                    "provisional": new[1], "steps": steps,
                }))
        # What was computed is written below in bulk; the loaded objects are dropped, not flushed
        # (the unit of work would send one UPDATE per versioned case).
        for case in cases:
            for obj in (*case.steps, *case.letters, case):
                db.session.expunge(obj)
    if case_rows:
        t = Case.__table__
        res = db.session.execute(t.update().where(t.c.id == bindparam("b_id"), t.c.version == bindparam("b_version"))
                                 .values(version=bindparam("b_new_version"),
                                         **{k: bindparam(f"b_{k}") for k in _CASE_CLOCK}), case_rows)
        if res.rowcount != len(case_rows):
            raise _ChangedMeanwhile()
    if step_rows:
        t = Step.__table__
        db.session.execute(t.update().where(t.c.id == bindparam("b_id"))
                           .values(**{k: bindparam(f"b_{k}") for k in _STEP_CLOCK}), step_rows)
    insert_events(events)
    return len(events)


RECOMPUTE_KIND = "calendar_recompute"


def _run_recompute_job(job: Job, progress) -> background.Result:
    """The worker's part. A rerun (the worker died) selects only the cases not yet on the new
    calendar: the ones done before are neither loaded nor logged again."""
    actor = db.session.get(User, job.requested_by_id) if job.requested_by_id else None
    year = int(job.params["year"])
    before = job.total  # cases to recompute when the job was submitted
    earlier = {}

    def step(done: int, total: int) -> None:
        # Counted against the whole job: what earlier runs finished shows as done.
        earlier.setdefault("n", max(0, before - total))
        progress(earlier["n"] + done, earlier["n"] + total)

    out = recompute_year(actor, year, progress=step)
    out["done_before"] = earlier.get("n", 0)
    return background.Result(data=out)


def _describe_recompute(job: Job) -> str:
    what = f"{job.params['year']}年全国工作日历第{job.params['revision']}版：重新计算在办案件期限"
    if job.status == "done" and job.result:
        what += f"，其中 {job.result['changed']:,} 件的期限或日历版本发生变化（已记入各案件的办理记录）"
    return what


background.define(RECOMPUTE_KIND, "重新计算在办案件期限", _run_recompute_job, describe=_describe_recompute)


def year_rows() -> list[CalendarYear]:
    return list(db.session.scalars(db.select(CalendarYear).order_by(CalendarYear.year)))


# ---------------------------------------------------------------- change requests

def request_change(actor: User, year_text: str, dates: str, note: str) -> CalendarChangeRequest:
    """An agency administrator asks the system administrator to correct the national calendar."""
    if not actor.has_role("admin"):
        raise Forbidden("只有机关管理员可以申请修改工作日历")
    try:
        year = int((year_text or "").strip())
    except (TypeError, ValueError, AttributeError):
        raise ServiceError("请填写四位数年份，如 2027", "year") from None
    if not 2000 <= year <= 2100:
        raise ServiceError("年份无效", "year")
    dates, note = (dates or "").strip(), (note or "").strip()
    if not dates:
        raise ServiceError("请写明涉及的日期及问题", "dates")
    if len(dates) > 2000:
        raise ServiceError("涉及的日期及问题不能超过2000字", "dates")
    if len(note) > 2000:
        raise ServiceError("说明不能超过2000字", "note")
    req = CalendarChangeRequest(agency_id=actor.agency_id, requested_by_id=actor.id, year=year, dates=dates,
                                note=note, status="open", decision_note="")
    db.session.add(req)
    db.session.flush()
    record_security(actor.agency_id, actor, "calendar_change_requested",
                    {"request_id": req.id, "year": year, "dates": dates, "note": note})
    db.session.commit()
    return req


def decide_request(actor: User, request_id: int, status: str, note: str = "") -> CalendarChangeRequest:
    """The system administrator closes a request: done (the calendar was changed) or declined."""
    if not actor.has_role("sysadmin"):
        raise Forbidden("只有系统管理员可以处理工作日历修改申请")
    req = db.session.get(CalendarChangeRequest, request_id)
    if req is None:
        raise NotFound("修改申请不存在")
    if status not in ("done", "declined"):
        raise ServiceError("处理结果应为 done（已修改）或 declined（不予修改）", "status")
    if req.status != "open":
        raise ServiceError(f"该申请已处理（{req.status_label}）", "status")
    note = (note or "").strip()
    if status == "declined" and not note:
        raise ServiceError("不予修改的，请说明理由", "note")
    if len(note) > 2000:
        raise ServiceError("说明不能超过2000字", "note")
    req.status, req.decided_by_id, req.decided_at, req.decision_note = status, actor.id, datetime.utcnow(), note
    # Logged with the requesting agency, so its administrators see the answer in their security log.
    record_security(req.agency_id, actor, "calendar_change_decided",
                    {"request_id": req.id, "year": req.year, "status": status, "note": note},
                    label="处理工作日历修改申请：" + req.status_label)
    db.session.commit()
    return req


def change_requests(actor: User) -> list[CalendarChangeRequest]:
    """The system administrator sees every agency's requests; an agency administrator its own."""
    q = db.select(CalendarChangeRequest)
    if not actor.has_role("sysadmin"):
        q = q.where(CalendarChangeRequest.agency_id == actor.agency_id)
    return list(db.session.scalars(q.order_by(CalendarChangeRequest.status != "open",
                                              CalendarChangeRequest.requested_at.desc(),
                                              CalendarChangeRequest.id.desc())))
