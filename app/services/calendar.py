"""The working-day calendar as stored, and its administration."""
from __future__ import annotations

from datetime import date, datetime

from ..domain.calendar import YearSchedule, schedule_from_chinese_calendar
from ..extensions import db
from ..models import CalendarChangeRequest, CalendarRevision, CalendarYear, Case, Event, User
from ..domain.workflow import FINISHED_STATES
from .audit import record_security
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


def save_year(actor: User, year: int, holidays_text: str, makeup_text: str, source: str) -> tuple[CalendarYear, int]:
    """Enter or correct one year; every open case is recomputed and the change logged on it.

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
    changed = recompute_open_cases(actor, f"{year}年全国工作日历已由系统管理员修订（第{row.revision}版）")
    record_security(actor.agency_id, actor, "calendar_changed", {
        "year": year, "revision": row.revision, "source": row.source, "holidays": len(schedule.holidays),
        "makeup": len(schedule.makeup_workdays), "recomputed_cases": changed})
    db.session.commit()
    return row, changed


RECOMPUTE_LABEL = "全国工作日历修订，重新计算期限"


def recompute_open_cases(actor: User | None, why: str) -> int:
    from .clocks import recompute_steps, refresh_clock
    from .audit import record

    changed = 0
    q = db.select(Case).where(Case.state.not_in(FINISHED_STATES))
    for case in db.session.scalars(q):
        before = (case.reply_due, case.due_provisional, case.calendar_version)
        steps = recompute_steps(case)  # first: an open pause's limit moves the reply due date
        refresh_clock(case)
        after = (case.reply_due, case.due_provisional, case.calendar_version)
        if before != after or steps:
            changed += 1
            # The calendar is national: say whose change this is, so an agency does not see a
            # stranger from another agency moving its deadlines.
            record(case, actor, "calendar_recompute", RECOMPUTE_LABEL, case.state, case.state, {
                "reason": why, "revised_by": f"系统管理员 {actor.name}" if actor else "系统（部署时导入）",
                "old_due": before[0].isoformat() if before[0] else None,
                "new_due": after[0].isoformat() if after[0] else None,
                "old_calendar_version": before[2], "new_calendar_version": after[2],
                "provisional": after[1], "steps": steps,
            })
    return changed


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
