"""Case operations: intake and every workflow action (Indico-style named operations)."""
from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from typing import Any, Callable, Mapping

from flask import current_app
from sqlalchemy import func, or_, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from ..domain import clock as C
from ..domain.fees import FEE_METHODS, fee_amount
from ..domain.intake import (APPLICANT_TYPES, CHANNELS, REPEAT_SIMILARITY, IntakeError,
                             applicant_key, phone_key, receipt_date, similarity, text_grams,
                             validate_resident_id)
from ..domain.outcomes import DRAFTABLE, OUTCOME_BY_CODE, OUTCOMES, WITHHOLDING_BASES, WITHHOLDING_BY_TEXT
from ..domain.workflow import ACTIONS, OPEN_STATES, STATES, CaseFacts, TransitionError, check, duty_conflict
from ..extensions import db
from ..models import Case, Delivery, Draft, Step, User
from ..models.case import DELIVERY_METHODS
from . import letters
from .base import commit_step as _commit, get_case  # noqa: F401  (get_case: re-exported)
from .audit import case_event_row, insert_events, record
from .calendar import load_calendar
from .clocks import refresh_clock
from .errors import Conflict, ServiceError, conflict_is_409
from .numbering import next_number
from .search import condition as search_condition
from . import agency_requests, operations, redaction
from .operations import DRAFT_FIELDS, DRAFT_MAX_LEN, DRAFT_RULES, REGISTRATION, RETENTIONS
from .params import Params
from .time import today as _today

CONSULT_KINDS = {"third_party": "consultation_third_party", "agency": "consultation_agency"}


# ---------------------------------------------------------------- loading and scoping

# ---------------------------------------------------------------- intake

INTAKE_FIELDS = tuple(i.name for i in REGISTRATION.inputs)


def _read(p: Params, name: str) -> Any:
    """An intake value parsed by its declaration (kind, label, limits, default; app/services/operations.py)."""
    i = REGISTRATION.input(name)
    if i.kind == "choice":
        return p.choice(name, i.label, i.choices, required=i.required, default=i.default or None)
    if i.kind == "date":
        return p.date(name, i.label, required=i.required)
    if i.kind == "integer":
        return p.integer(name, i.label, required=i.required)
    return p.text(name, i.label, required=i.required, max_len=i.max_len)


# The request itself, as the applicant states it (Art. 29): read by check_applicant, the same for
# staff intake and the public online form (app/applicant/online.py).
APPLICANT_FIELDS = ("applicant_type", "applicant_name", "id_type", "id_number", "contact_phone", "contact_address",
                    "contact_email", "agent_name", "agent_id_number", "power_of_attorney", "description",
                    "doc_number", "requested_form", "requested_route")


def check_applicant(raw: Mapping[str, Any], errors: list[ServiceError] | None = None) -> dict:
    """The applicant's part of a request, parsed and checked by the intake rules: the values to store.

    With ``errors`` given, every field's error is collected there (the public form marks every field
    to fix at once) and the values read so far are returned; without, the first error is raised."""
    p = Params(raw)
    v: dict[str, Any] = {}
    failed: set[str] = set()

    def check(fn) -> None:
        try:
            fn()
        except ServiceError as e:
            if errors is None:
                raise
            errors.append(e)
            failed.add(e.field or "")

    def read(name: str) -> None:
        v[name] = _read(p, name)

    def resident_id() -> None:
        if v.get("id_type") == "resident_id" and v.get("id_number"):
            try:
                v["id_number"] = validate_resident_id(v["id_number"])
            except IntakeError as e:
                raise ServiceError(e.message, e.field) from None

    def contact() -> None:
        if not (v.get("contact_phone") or v.get("contact_address") or v.get("contact_email")) \
                and not failed & {"contact_phone", "contact_address", "contact_email"}:
            raise ServiceError("请至少填写一种联系方式（第二十九条）", "contact_phone")
        if v.get("contact_email") and "@" not in v["contact_email"]:
            raise ServiceError("电子邮箱格式不正确", "contact_email")

    def agent() -> None:
        if not v.get("agent_name"):
            return
        if not v.get("power_of_attorney"):
            raise ServiceError("由代理人提交的，请登记授权委托书", "power_of_attorney")
        if not v.get("agent_id_number"):
            raise ServiceError("请填写代理人身份证号码", "agent_id_number")
        try:
            v["agent_id_number"] = validate_resident_id(v["agent_id_number"])
        except IntakeError as e:
            raise ServiceError("代理人" + e.message, "agent_id_number") from None

    for name in APPLICANT_FIELDS[:4]:
        check(lambda name=name: read(name))
    check(resident_id)
    for name in APPLICANT_FIELDS[4:10]:
        check(lambda name=name: read(name))
    check(contact)
    check(agent)
    for name in APPLICANT_FIELDS[10:]:
        check(lambda name=name: read(name))
    return v


@conflict_is_409("与同时进行的登记冲突，请重试；您的输入未被保存。")
def register_case(actor: User, raw: Mapping[str, Any]) -> Case:
    """登记: register a request and start its clock from the Art. 31 receipt date."""
    case = add_registration(actor, raw)
    db.session.commit()
    return case


def add_registration(actor: User, raw: Mapping[str, Any], event_data: Mapping[str, Any] | None = None) -> Case:
    """The registration in the caller's transaction (the caller commits): staff intake, and the
    confirmation of an online request (app/applicant/online.py), whose facts join the event's."""
    if not REGISTRATION.allowed(actor):
        raise ServiceError("只有登记员可以登记申请")
    p = Params(raw)
    today = _today()
    cal = load_calendar()
    channel = _read(p, "channel")
    arrived = _read(p, "arrived_on")
    confirmed = _read(p, "confirmed_on")
    if arrived > today:
        raise ServiceError("收到日期不能晚于今天", "arrived_on")
    if confirmed and confirmed > today:
        raise ServiceError("确认日期不能晚于今天", "confirmed_on")
    a = check_applicant(raw)
    try:
        receipt = receipt_date(channel, arrived, confirmed, cal,
                               non_workday_rolls_forward=current_app.config["ONLINE_NON_WORKDAY_ROLLS_FORWARD"])
    except IntakeError as e:
        raise ServiceError(e.message, e.field) from None
    handler_id = _read(p, "handler_id")
    if handler_id is not None:
        _handler(actor, handler_id)

    # Computed once here and stored with the case; the case page reads them.
    hints = intake_hints(actor, a["applicant_name"], a["id_number"], a["description"], a["doc_number"],
                         on=receipt.received_on, phone=a["contact_phone"])
    seq, number = allocate_number(actor, today.year)
    case = Case(
        agency_id=actor.agency_id, year=today.year, seq=seq, number=number, state="registered",
        channel=channel, arrived_on=arrived, confirmed_on=confirmed, received_on=receipt.received_on,
        receipt_basis=receipt.basis, logged_at=datetime.utcnow(), **a, handler_id=handler_id,
        created_by_id=actor.id, clock_start=receipt.received_on, extension_days=0,
        applicant_key=applicant_key(a["applicant_name"]), phone_key=phone_key(a["contact_phone"]),
        hints_json=_hints_json(hints),
    )
    db.session.add(case)
    db.session.flush()
    refresh_clock(case, today)
    record(case, actor, "register", "登记申请", None, "registered", {
        "number": case.number, "received_on": case.received_on.isoformat(), "receipt_basis": receipt.basis,
        "channel": channel, "reply_due": case.reply_due.isoformat() if case.reply_due else None,
        "calendar_version": case.calendar_version, "provisional": case.due_provisional, **(event_data or {}),
    })
    return case


operations.EFFECTS[REGISTRATION.name] = register_case


def _handler(actor: User, user_id: int) -> User:
    u = db.session.get(User, user_id)
    if u is None or u.agency_id != actor.agency_id or not u.has_role("handler") or not u.active:
        raise ServiceError("承办人无效：须为本机关在职承办人", "handler_id")
    return u


def allocate_number(actor: User, year: int) -> tuple[int, str]:
    """The next case number of the actor's agency for a year: `{code}-{year}-{seq:04d}`, allocated
    under the sequence's row lock in the caller's transaction (intake and ledger import alike)."""
    seq = next_number(actor.agency_id, "case", year)
    return seq, f"{actor.agency.code}-{year}-{seq:04d}"


MAX_HINT_CANDIDATES = 50  # the applicant's most recent requests compared with a new description
MAX_MONTH_LISTED = 30  # this month's requests listed (all are counted)


def intake_hints(actor: User, applicant_name: str, id_number: str, description: str, doc_number: str,
                 on: date | None = None, exclude_id: int | None = None, phone: str = "") -> dict:
    """Art. 35 / fees: this applicant's requests this month; Art. 36(6): possible repeats.

    The applicant's earlier requests are found through indexed keys (ID number, normalised name,
    phone digits); only the most recent MAX_HINT_CANDIDATES of them are compared, by a bigram
    similarity that is linear in the (bounded) text length."""
    on = on or _today()
    who = []
    if id_number and id_number.strip():
        who.append(Case.id_number == id_number.strip().upper())
    if applicant_key(applicant_name):
        who.append(Case.applicant_key == applicant_key(applicant_name))
    if phone_key(phone):
        who.append(Case.phone_key == phone_key(phone))
    if not who:
        return {"month_count": 0, "month_cases": [], "possible_repeats": []}
    mine = [Case.agency_id == actor.agency_id, or_(*who)]
    if exclude_id:
        mine.append(Case.id != exclude_id)
    first = on.replace(day=1)
    nxt = (first.replace(year=first.year + 1, month=1) if first.month == 12 else first.replace(month=first.month + 1))
    in_month = [*mine, Case.received_on >= first, Case.received_on < nxt]
    month_count = db.session.scalar(db.select(func.count(Case.id)).where(*in_month)) or 0
    month = db.session.execute(db.select(Case.id, Case.number, Case.received_on, Case.description)
                               .where(*in_month).order_by(Case.received_on, Case.id).limit(MAX_MONTH_LISTED)).all()
    earlier = db.session.execute(
        db.select(Case.id, Case.number, Case.received_on, Case.state, Case.description, Case.doc_number)
        .where(*mine).order_by(Case.received_on.desc(), Case.id.desc()).limit(MAX_HINT_CANDIDATES)).all()
    grams = text_grams(description) if description else None
    doc = (doc_number or "").strip()
    repeats = []
    for c in earlier:
        same_doc = bool(doc and c.doc_number and c.doc_number.strip() == doc)
        ratio = similarity(text_grams(c.description), grams) if grams else 0.0
        if same_doc or ratio >= REPEAT_SIMILARITY:
            repeats.append({"id": c.id, "number": c.number, "received_on": c.received_on.isoformat(),
                            "state": STATES[c.state], "description": c.description[:100],
                            "similarity": round(ratio, 2), "same_doc_number": same_doc})
    return {
        "month_count": month_count,
        "month_cases": [{"id": c.id, "number": c.number, "received_on": c.received_on.isoformat(),
                         "description": c.description[:100]} for c in month],
        "possible_repeats": repeats[:10],
    }


def _hints_json(hints: dict) -> str:
    return json.dumps({**hints, "computed_at": datetime.utcnow().isoformat(timespec="seconds")},
                      ensure_ascii=False, sort_keys=True)


def refresh_case_hints(actor: User, case_id: int) -> dict:
    """Recompute and store a case's intake hints (on demand, e.g. for imported history)."""
    case = get_case(case_id, actor)
    hints = intake_hints(actor, case.applicant_name, case.id_number, case.description, case.doc_number,
                         on=case.received_on, exclude_id=case.id, phone=case.contact_phone)
    stored = _hints_json(hints)
    # Derived data, not a step of the case: stored without bumping its version (a form open on
    # the case elsewhere stays valid).
    db.session.execute(update(Case).where(Case.id == case.id).values(hints_json=stored)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    return json.loads(stored)


# ---------------------------------------------------------------- historical ledger import

IMPORT_FIELDS = ("applicant_name", "applicant_type", "channel", "received_on", "description", "doc_number",
                 "handler_id", "closed_on", "outcome_code", "original_number", "reply_number")


def finished_state(outcome_code: str) -> str:
    """Where a request that ended with this outcome rests: replied and served, or ended without a reply."""
    return "delivered" if OUTCOME_BY_CODE[outcome_code].drafted else "closed"


def _apply_ledger_row(case: Case, row: Mapping[str, Any], today: date) -> None:
    """The ledger's facts onto an imported case: finished rows keep no due date (the history does
    not say how their clock ran); open ones get their clock from the receipt date and wait for
    triage (services.cases.triage_imported) before they enter anyone's queue."""
    for key in IMPORT_FIELDS:
        setattr(case, key, row[key])
    case.arrived_on = case.clock_start = row["received_on"]
    case.applicant_key = applicant_key(row["applicant_name"])
    if row["closed_on"] is not None:
        case.state, case.needs_triage = finished_state(row["outcome_code"]), False
        case.reply_due, case.calendar_version, case.due_provisional = None, "", False
    else:
        case.state, case.needs_triage = "handling", True
        refresh_clock(case, today)


def register_imported_case(actor: User, row: Mapping[str, Any], import_key: str, today: date) -> Case:
    """历史台账导入 of one ledger row: a numbered case with its audit event "import" (see
    ``register_imported_cases``; the caller commits)."""
    [(case_id, _number)] = register_imported_cases(actor, [{**row, "key": import_key}], today)
    return db.session.get(Case, case_id)


_CASE_COLUMNS = frozenset(c.key for c in Case.__table__.columns) - {"id"}


def register_imported_cases(actor: User, rows: list[Mapping[str, Any]], today: date, *, batch: int = 1000,
                            on_batch: Callable[[int], None] | None = None) -> list[tuple[int, str]]:
    """历史台账导入 of many rows (each with its "key"), in the order given, inside the caller's
    transaction: what ``register_imported_case`` does row by row, with the numbers of each year
    allocated at once and the cases and their "import" events inserted by batches of ``batch``
    (a few statements per batch; the cases are never in the session, so memory stays bounded).
    ``on_batch(written)`` is called after each batch. Returns (id, number) of each case."""
    from .numbering import next_numbers
    from .search import set_new_case_search

    per_year = Counter(r["received_on"].year for r in rows)
    nxt = {y: next_numbers(actor.agency_id, "case", y, n) for y, n in sorted(per_year.items())}
    code, written, out = actor.agency.code, 0, []
    for i in range(0, len(rows), batch):
        cases = []
        for row in rows[i:i + batch]:
            year = row["received_on"].year
            seq, nxt[year] = nxt[year], nxt[year] + 1
            case = Case(agency_id=actor.agency_id, year=year, seq=seq, number=f"{code}-{year}-{seq:04d}",
                        confirmed_on=None, received_on=row["received_on"],
                        receipt_basis="历史台账导入：收到申请日期以原台账记载为准", logged_at=datetime.utcnow(),
                        created_by_id=actor.id, extension_days=0, imported=True, import_key=row["key"],
                        # Every row sets the same columns: the batch is then one multi-row INSERT.
                        reply_due=None, paused_until=None, due_provisional=False, calendar_version="")
            _apply_ledger_row(case, row, today)
            set_new_case_search(case)  # no flush runs the search hook for these rows
            cases.append(case)
        # Core executemany (the ORM inserts a row at a time where it must read each new id back):
        # the cases' columns as computed, then their ids by the import key, then the events.
        db.session.execute(db.insert(Case.__table__), [
            {k: v for k, v in vars(case).items() if k in _CASE_COLUMNS} for case in cases])
        ids = dict(db.session.execute(db.select(Case.import_key, Case.id).where(
            Case.agency_id == actor.agency_id, Case.import_key.in_([c.import_key for c in cases]))).all())
        for case in cases:
            case.id = ids[case.import_key]
        insert_events([case_event_row(case, actor.id, "import", "历史台账导入", None, case.state, {
            "imported": True, "row": row["row"], "number": case.number, "original_number": row["original_number"],
            "received_on": row["received_on"], "closed_on": row["closed_on"], "outcome": row["outcome_code"],
            "reply_number": row["reply_number"], "reply_due": case.reply_due, "needs_triage": case.needs_triage,
        }) for case, row in zip(cases, rows[i:i + batch])])
        out.extend((case.id, case.number) for case in cases)
        written += len(cases)
        if on_batch:
            on_batch(written)
    return out


def update_imported_case(actor: User, case: Case, row: Mapping[str, Any], today: date) -> dict:
    """Re-import of a ledger row chosen to update its case (only history nobody has worked on
    since: the importer checks). Returns the changed fields; writes "import_update" if any."""
    before = {k: getattr(case, k) for k in IMPORT_FIELDS}
    from_state = case.state
    _apply_ledger_row(case, row, today)
    changed = {k: [before[k], getattr(case, k)] for k in IMPORT_FIELDS if before[k] != getattr(case, k)}
    if changed:
        record(case, actor, "import_update", "历史台账重新导入（更新）", from_state, case.state, {
            "row": row["row"], "changed": changed, "reply_number": row["reply_number"],
            "needs_triage": case.needs_triage})
    return changed


TRIAGE_DECISIONS = {"queue": "转入办理队列", "close": "按已办结登记"}
TRIAGE_ROLES = frozenset({"clerk", "head"})


def triage_imported(actor: User, case_id: int, raw: Mapping[str, Any]) -> Case:
    """分拣 an imported open case: put it in the normal queues (its clock as computed from the
    receipt date, optionally with a handler) or record how it actually ended. Audited as "triage"."""
    if not actor.has_role(*TRIAGE_ROLES):
        raise ServiceError("只有登记员或负责人可以分拣历史导入的案件")
    case = get_case(case_id, actor)
    p = Params(raw)
    if not case.needs_triage:
        raise ServiceError("该案件不在待分拣清单中（已分拣或不是历史导入的未办结案件）", "decision")
    decision = p.choice("decision", "分拣结果", TRIAGE_DECISIONS)
    note = p.text("note", "说明", max_len=500)
    today = _today()
    from_state = case.state
    data: dict[str, Any] = {"decision": decision, "note": note}
    if decision == "queue":
        handler_id = p.integer("handler_id", "承办人", required=False)
        if handler_id is not None:
            data["handler"] = _handler(actor, handler_id).name
            case.handler_id = handler_id
        case.needs_triage = False
        refresh_clock(case, today)
        data["reply_due"] = case.reply_due
    else:
        outcome = p.choice("outcome", "办理结果", {o.code: o.label for o in OUTCOMES})
        closed_on = p.date("closed_on", "办结日期", required=True)
        if closed_on > today:
            raise ServiceError("办结日期不能晚于今天", "closed_on")
        if closed_on < case.received_on:
            raise ServiceError(f"办结日期不能早于收到申请日期（{case.received_on.isoformat()}）", "closed_on")
        case.outcome_code, case.closed_on, case.state = outcome, closed_on, finished_state(outcome)
        case.needs_triage = False
        # Like imported finished history: how its clock ran is unknown, so no due date is kept.
        case.reply_due, case.paused_until, case.due_provisional = None, None, False
        data.update(outcome=outcome, closed_on=closed_on)
    record(case, actor, "triage", "历史导入分拣：" + TRIAGE_DECISIONS[decision], from_state, case.state, data)
    _commit()
    return case


# ---------------------------------------------------------------- facts for the guards

def case_facts(case: Case, today: date) -> CaseFacts:
    cal = load_calendar()
    from .clocks import case_clock
    st = case_clock(case, today)
    correction = case.steps_of("correction")
    consult = [s for s in case.steps_of(*CONSULT_KINDS.values()) if s.is_open]
    reasons = [s for s in case.steps_of("reasons") if s.is_open]
    fee = [s for s in case.steps_of("fee") if s.is_open]
    fee_unissued = any(not s.in_effect for s in case.steps_of("fee"))
    draft = case.current_draft
    return CaseFacts(
        state=case.state, today=today,
        correction_notices=len(correction),
        correction_notice_due=cal.add_working_days(case.received_on, C.CORRECTION_NOTICE_DAYS).due,
        correction_period_end=correction[-1].due_on if correction else None,
        open_consultations=len(consult),
        reasons_pending=bool(reasons), reasons_due=reasons[0].due_on if reasons else None,
        fee_pending=bool(fee), fee_due=fee[0].due_on if fee else None, fee_unissued=fee_unissued,
        open_cohandlings=sum(1 for s in case.steps_of("cohandle") if s.is_open),
        extension_days=case.extension_days,
        extension_requested=any(s.is_open for s in case.steps_of("extension_request")),
        reply_due=st.due, clock_paused=st.status == "paused",
        has_draft=draft is not None,
        draft_hash=draft.content_hash if draft else None,
        approved_hash=draft.approved_hash if draft else None,
        signed_hash=draft.signed_hash if draft else None,
        drafted_by=draft.created_by_id if draft else None,
        approved_by=draft.approved_by_id if draft and draft.approved_hash == draft.content_hash else None,
        separation_relaxed=case.agency.separation_relaxed,
    )


# ---------------------------------------------------------------- actions

class Ctx:
    def __init__(self, case: Case, actor: User, p: Params, today: date) -> None:
        self.case, self.actor, self.p, self.today = case, actor, p, today
        self.cal = load_calendar()

    def step(self, step_id_field: str, kinds: tuple[str, ...], label: str) -> Step:
        sid = self.p.integer(step_id_field, label, required=True)
        for s in self.case.steps:
            if s.id == sid and s.kind in kinds:
                if not s.is_open:
                    raise ServiceError(f"该{s.kind_label}已办结", step_id_field)
                return s
        raise ServiceError(f"{label}无效", step_id_field)

    def past_date(self, field: str, label: str, floor: date, floor_label: str, default: date | None = None) -> date:
        """A date the user reports as already happened: today by default, not in the future,
        not before the event it follows (receipt, the notice it answers …)."""
        d = self.p.date(field, label, default=default or self.today)
        if d > self.today:
            raise ServiceError(f"{label}不能晚于今天", field)
        if d < floor:
            raise ServiceError(f"{label}不能早于{floor_label}（{floor.isoformat()}）", field)
        return d


Handler = Callable[[Ctx], tuple[dict, Callable[[], dict]]]
HANDLERS: dict[str, Handler] = operations.HANDLERS  # one registry: operations names each step's handler


def handles(name: str):
    def deco(fn: Handler) -> Handler:
        assert name in ACTIONS, name
        HANDLERS[name] = fn
        return fn
    return deco


@handles("assign")
def _assign(x: Ctx):
    u = _handler(x.actor, x.p.integer("handler_id", "承办人", required=True))

    def apply():
        old = x.case.handler.name if x.case.handler else None
        x.case.handler_id = u.id
        return {"handler": u.name, "previous": old}
    return {}, apply


@handles("transfer")
def _transfer(x: Ctx):
    from ..models import CaseTransfer
    from . import transfer as T

    to = T.target(x.actor, x.p.integer("agency_id", "答复机关", required=True))
    reason = x.p.text("reason", "分办理由", required=True, max_len=2000)
    on = x.past_date("transferred_on", "分办日期", x.case.received_on, "收到申请日期")
    case = x.case
    # The sending agency's letter: its name, its 文号, its clerk as 联系人 (the case has no handler yet).
    ctx = letters.case_context(case, {
        "answering.name": to.name, "answering.address": to.address or None, "answering.phone": to.phone or None,
        "transferred_on": on, "reason": reason})
    ctx["contact"] = {"name": case.handler.name if case.handler else x.actor.name, "phone": case.agency.phone or None}
    letters.check_letter(case, "transfer_notice", ctx, "分办")

    def apply():
        from_agency = case.agency
        t = CaseTransfer(case_id=case.id, from_agency_id=case.agency_id, to_agency_id=to.id, transferred_on=on,
                         reason=reason, by_id=x.actor.id, number=case.number)
        db.session.add(t)
        db.session.flush()
        # Issued in the same step: a request never leaves without the applicant being told.
        row = letters.issue_letter(case, x.actor, "transfer_notice", ctx, content_hash=letters.content_hash(ctx),
                                   on=on, ref=f"transfer-{t.id}")
        t.letter_id = row.id
        # The case moves with its receipt date, clock, number and history; the answering agency assigns.
        old_handler = case.handler.name if case.handler else None
        case.agency_id, case.handler_id = to.id, None
        case.agency = to
        return {"transfer_id": t.id, "from_agency": from_agency.name, "to_agency": to.name, "to_agency_id": to.id,
                "reason": reason, "transferred_on": on, "letter_number": row.number, "previous_handler": old_handler}
    return {}, apply


@handles("start")
def _start(x: Ctx):
    def apply():
        if x.case.handler_id is None:
            x.case.handler_id = x.actor.id
        return {}
    return {}, apply


@handles("request_correction")
def _request_correction(x: Ctx):
    on = x.past_date("notice_date", "告知日期", x.case.received_on, "收到申请日期")
    items = x.p.text("items", "需要补正的事项", required=True)
    guidance = x.p.text("guidance", "指导和释明")
    default_end = x.cal.add_working_days(on, C.DEFAULT_CORRECTION_PERIOD_DAYS).due
    end = x.p.date("period_end", "补正期限", default=default_end)

    def apply():
        s = Step(kind="correction", started_on=on, due_on=end, created_by_id=x.actor.id)
        s.details = {"items": items, "guidance": guidance}
        x.case.steps.append(s)
        return {"notice_date": on, "period_end": end, "items": items}
    return {"notice_date": on, "period_end": end}, apply


@handles("receive_correction")
def _receive_correction(x: Ctx):
    s = x.case.steps_of("correction")[-1]
    on = x.past_date("received_on", "收到补正材料日期", s.started_on, "补正告知日期")
    note = x.p.text("note", "补正内容说明")

    def apply():
        s.answered_on, s.result = on, "received"
        s.details = {**s.details, "note": note, "late": bool(s.due_on and on > s.due_on)}
        # Art. 30: the reply period runs afresh from receipt of the corrected request.
        x.case.clock_start = on
        return {"received_on": on, "clock_restarts": on, "late": bool(s.due_on and on > s.due_on)}
    return {}, apply


def _open_step(case: Case, kind: str) -> Step | None:
    return next((s for s in case.steps_of(kind) if s.is_open), None)


def _close(x: Ctx, outcome: str, on: date) -> None:
    x.case.outcome_code = outcome
    x.case.closed_on = on


@handles("correction_lapsed")
def _correction_lapsed(x: Ctx):
    s = x.case.steps_of("correction")[-1]

    def apply():
        s.result = "lapsed"
        _close(x, "correction_lapsed", x.today)
        return {"period_end": s.due_on, "outcome": "correction_lapsed"}
    return {}, apply


@handles("consult")
def _consult(x: Ctx):
    kind = CONSULT_KINDS[x.p.choice("kind", "征求对象类型", {"third_party": "第三方", "agency": "其他机关"})]
    to = agency_requests.target_agency(x.actor, x.p.integer("to_agency_id", "平台上的机关", required=False))
    if to is not None and kind != "consultation_agency":
        raise ServiceError("向平台上的机关征求意见的，征求对象类型须为“其他机关”", "to_agency_id")
    # An agency on the platform is named by the platform; others keep the free-text party.
    party = x.p.text("party", "征求意见对象", required=to is None, max_len=200)
    party = to.name if to is not None else party
    matter = x.p.text("matter", "征求意见的信息及理由", required=True)
    sent = x.past_date("sent_on", "发出日期", x.case.received_on, "收到申请日期")
    received = x.past_date("received_on", "对方收到日期", sent, "发出日期", default=sent)
    due = x.cal.add_working_days(received, C.CONSULTATION_DAYS).due  # Arts. 32, 34

    def apply():
        s = Step(kind=kind, party=party, started_on=sent, received_on=received, due_on=due,
                 created_by_id=x.actor.id)
        s.details = {"matter": matter}
        x.case.steps.append(s)
        db.session.flush()
        req = agency_requests.open_request(x.case, s, x.actor, to, "consultation") if to is not None else None
        return {"step_id": s.id, "kind": kind, "party": party, "sent_on": sent, "received_on": received,
                "due_on": due, **({"agency_request_id": req.id, "to_agency": to.code} if req else {})}
    return {}, apply


@handles("consultation_reply")
def _consultation_reply(x: Ctx):
    s = x.step("step_id", tuple(CONSULT_KINDS.values()), "征求意见")
    result = x.p.choice("result", "征求意见结果", {"agree": "", "object": "", "no_answer": ""})
    opinion = x.p.text("opinion", "意见内容")
    override = x.p.flag("public_interest_override")
    override_reason = x.p.text("override_reason", "公共利益理由")
    if result == "no_answer":
        if x.today <= s.due_on:
            raise ServiceError(f"答复期限（{s.due_on.isoformat()}）未届满，不能登记为逾期未答复", "result")
        on = s.due_on  # the pause ends when the period lapses
    else:
        on = x.past_date("answered_on", "收到答复日期", s.started_on, "发出日期")
    if override and (result != "object" or s.kind != "consultation_third_party"):
        raise ServiceError("公共利益裁量仅适用于第三方不同意公开的情形", "public_interest_override")
    if override and not override_reason:
        raise ServiceError("决定公开的，须写明公共利益理由（第三十二条）", "override_reason")
    # Art. 34: another agency's silence is deemed consent; Art. 32: a third party's silence leaves it to us.
    effect = {
        ("consultation_agency", "no_answer"): "视为同意公开（第三十四条）",
        ("consultation_third_party", "no_answer"): "第三方逾期未提出意见，由本机关依法决定（第三十二条）",
    }.get((s.kind, result), "")

    def apply():
        s.answered_on, s.result = on, result
        s.details = {**s.details, "opinion": opinion, "effect": effect, "public_interest_override": override,
                     "override_reason": override_reason}
        if override:
            s.notice_state = "review"  # the third party's 告知书 is reviewed before it is issued
        return {"step_id": s.id, "party": s.party, "result": result, "answered_on": on, "effect": effect,
                "public_interest_override": override}
    return {}, apply


@handles("request_reasons")
def _request_reasons(x: Ctx):
    sent = x.past_date("sent_on", "发出日期", x.case.received_on, "收到申请日期")
    matter = x.p.text("matter", "要求说明的事项", required=True)
    default_due = x.cal.add_working_days(sent, C.REASONS_ANSWER_DAYS).due
    due = x.p.date("due_on", "说明理由期限", default=default_due)
    if due <= sent:
        raise ServiceError("说明理由期限必须晚于发出日期", "due_on")

    def apply():
        s = Step(kind="reasons", started_on=sent, due_on=due, created_by_id=x.actor.id)
        s.details = {"matter": matter}
        x.case.steps.append(s)
        return {"sent_on": sent, "due_on": due}
    return {}, apply


@handles("reasons_reply")
def _reasons_reply(x: Ctx):
    s = _open_step(x.case, "reasons")
    if s is None:
        return {}, dict  # the guard refuses: no reasons requested
    result = x.p.choice("result", "审查结论", {"reasonable": "", "unreasonable": "", "no_answer": ""})
    on = x.past_date("answered_on", "收到说明日期", s.started_on, "发出日期")
    note = x.p.text("note", "说明")
    new_due = x.p.date("new_due", "合理的延迟答复期限")
    if new_due and result != "reasonable":
        raise ServiceError("仅在理由合理时可以确定延迟答复期限（第三十五条）", "new_due")
    if new_due and new_due <= on:
        raise ServiceError("延迟答复期限必须晚于收到说明的日期", "new_due")

    def apply():
        s.answered_on, s.result = on, result
        s.details = {**s.details, "note": note}
        if new_due:
            x.case.override_due = new_due
        return {"result": result, "answered_on": on, "new_due": new_due}
    return {}, apply


@handles("fee_notice")
def _fee_notice(x: Ctx):
    method = x.p.choice("method", "收费方式", FEE_METHODS)
    nth = x.p.integer("nth_in_month", "本月累计申请件数", required=method == "per_request", default=0, lo=1, hi=10000)
    pages = x.p.integer("pages", "页数", required=method == "per_volume", default=0, lo=1, hi=1000000)
    amount = fee_amount(method, nth_in_month=nth or 0, pages=pages or 0)
    if amount == 0:
        raise ServiceError("按收费标准该申请免费，不能发出收费通知", "method")

    def apply():
        # The decision only: the 收费通知书 goes to legal review, and the pause and the 20 working
        # days to pay run from the day it is issued (services.letters.issue_notice).
        s = Step(kind="fee", started_on=x.today, created_by_id=x.actor.id, notice_state="review")
        s.details = {"method": method, "nth_in_month": nth, "pages": pages, "amount": amount}
        x.case.steps.append(s)
        return {"method": method, "amount": amount, "notice": "awaiting_review"}
    return {}, apply


@handles("fee_paid")
def _fee_paid(x: Ctx):
    s = _open_step(x.case, "fee")
    if s is None:
        return {}, dict  # the guard refuses: nothing to pay
    on = x.past_date("paid_on", "缴费日期", s.started_on, "收费通知日期")
    receipt = x.p.text("receipt_no", "票据号码", required=True, max_len=100)

    def apply():
        s.answered_on, s.result = on, "paid"
        s.details = {**s.details, "receipt_no": receipt, "late": on > s.due_on}
        return {"paid_on": on, "receipt_no": receipt}
    return {}, apply


@handles("fee_lapsed")
def _fee_lapsed(x: Ctx):
    def apply():
        s = _open_step(x.case, "fee")
        s.result = "lapsed"
        s.answered_on = s.due_on
        _close(x, "fee_unpaid", x.today)
        return {"due_on": s.due_on, "outcome": "fee_unpaid"}
    return {}, apply


@handles("cohandle")
def _cohandle(x: Ctx):
    to = agency_requests.target_agency(x.actor, x.p.integer("to_agency_id", "平台上的机关", required=False))
    unit = x.p.text("party", "协办单位", required=to is None, max_len=200)
    unit = to.name if to is not None else unit
    matter = x.p.text("matter", "协办事项", required=True)
    sent = x.past_date("sent_on", "发出日期", x.case.received_on, "收到申请日期")
    due = x.cal.add_working_days(sent, C.COHANDLING_DAYS).due

    def apply():
        s = Step(kind="cohandle", party=unit, started_on=sent, due_on=due, created_by_id=x.actor.id)
        s.details = {"matter": matter}
        x.case.steps.append(s)
        db.session.flush()
        req = agency_requests.open_request(x.case, s, x.actor, to, "cohandle") if to is not None else None
        return {"step_id": s.id, "party": unit, "due_on": due,
                **({"agency_request_id": req.id, "to_agency": to.code} if req else {})}
    return {}, apply


@handles("cohandle_reply")
def _cohandle_reply(x: Ctx):
    s = x.step("step_id", ("cohandle",), "协办")
    on = x.past_date("answered_on", "回复日期", s.started_on, "发出日期")
    note = x.p.text("note", "回复内容", required=True)

    def apply():
        s.answered_on, s.result = on, "replied"
        s.details = {**s.details, "note": note}
        return {"step_id": s.id, "answered_on": on}
    return {}, apply


def extension_request(case: Case) -> Step | None:
    """The handler's 延期申请 waiting for the head, if any."""
    return _open_step(case, "extension_request")


@handles("request_extension")
def _request_extension(x: Ctx):
    if x.case.override_due:
        raise ServiceError("已按第三十五条确定合理的延迟答复期限，不再适用第三十三条延期")
    days = x.p.integer("days", "延长工作日数", required=True)
    reason = x.p.text("reason", "延期理由", required=True, max_len=2000)

    def apply():
        s = Step(kind="extension_request", started_on=x.today, created_by_id=x.actor.id)
        s.details = {"days": days, "reason": reason}
        x.case.steps.append(s)
        return {"days": days, "reason": reason}
    return {"days": days, "reason": reason}, apply


@handles("decline_extension")
def _decline_extension(x: Ctx):
    comments = x.p.text("comments", "不批准的意见", required=True, max_len=2000)

    def apply():
        s = extension_request(x.case)
        s.answered_on, s.result = x.today, "declined"
        s.details = {**s.details, "comments": comments}
        return {"comments": comments, "requested_days": s.details.get("days")}
    return {"comments": comments}, apply


@handles("extend")
def _extend(x: Ctx):
    if x.case.override_due:
        raise ServiceError("已按第三十五条确定合理的延迟答复期限，不再适用第三十三条延期")
    days = x.p.integer("days", "延长工作日数", required=True)
    reason = x.p.text("reason", "延期理由", required=True)

    def apply():
        old = x.case.reply_due
        x.case.extension_days = days
        asked = extension_request(x.case)
        if asked is not None:  # the handler's request is answered by the grant
            asked.answered_on, asked.result = x.today, "granted"
        return {"days": days, "reason": reason, "old_due": old}
    return {"days": days}, apply


@handles("save_draft")
def _save_draft(x: Ctx):
    code = x.p.choice("outcome", "办理结果", {o.code: o.label for o in DRAFTABLE})
    oc = OUTCOME_BY_CODE[code]
    # Only what this outcome uses is read: the form sends no other field, the API's are ignored.
    used = {i.name for i in operations.draft_inputs_for(code)}
    fields = {k: x.p.text(k, label, max_len=DRAFT_MAX_LEN) for k, label in DRAFT_FIELDS.items() if k in used}
    fields = {k: v for k, v in fields.items() if v}
    letter = letters.reply_letter(code)
    if letter is not None:
        fields.update(letters.read_letter_fields(letter, x.p.raw))
    _check_withheld(fields.get("withheld"))
    fields.update(redaction.draft_binding(x.case, code, fields))
    for rule in DRAFT_RULES:
        if code in rule.outcomes and not fields.get(rule.field):
            raise ServiceError(rule.message.format(outcome=oc.label), rule.field)
    letters.check_draft(x.case, code, fields)  # the reply letter must be producible from it
    h = Draft.hash_content(code, fields)

    def apply():
        rev = len(x.case.drafts) + 1
        d = Draft(case_id=x.case.id, revision=rev, outcome_code=code, content_hash=h, created_by_id=x.actor.id)
        d.fields_json = json.dumps(fields, ensure_ascii=False, sort_keys=True)
        x.case.drafts.append(d)
        db.session.flush()
        x.case.current_draft_id = d.id
        x.case.current_draft = d
        if x.case.handler_id is None:
            x.case.handler_id = x.actor.id
        return {"revision": rev, "outcome": code, "content_hash": h}
    return {}, apply


def _check_withheld(items) -> None:
    """Each withheld part rests on one of the provisions allowed for it (domain WITHHOLDING_BASES)."""
    if not isinstance(items, list):
        return  # absent, or not items at all: the letter check names the field
    for n, item in enumerate(items, 1):
        basis = item.get("basis") if isinstance(item, Mapping) else None
        if basis and basis not in WITHHOLDING_BY_TEXT:
            raise ServiceError(f"不予公开的部分第{n}项的依据须从可选依据中选择（"
                               + "、".join(b.articles for b in WITHHOLDING_BASES) + "，均与第三十七条并引）", "withheld")


@handles("submit_draft")
def _submit(x: Ctx):
    d = x.case.current_draft
    return {}, lambda: {"revision": d.revision, "content_hash": d.content_hash}


@handles("approve")
def _approve(x: Ctx):
    d = x.case.current_draft
    reviewed = x.p.flag("secrecy_reviewed")
    note = x.p.text("secrecy_note", "保密审查意见")
    dh = x.p.text("draft_hash", "稿件版本")

    def apply():
        d.approved_by_id, d.approved_at, d.approved_hash = x.actor.id, datetime.utcnow(), d.content_hash
        d.secrecy_note = note
        out = {"revision": d.revision, "approved_hash": d.content_hash, "secrecy_reviewed": True,
               "secrecy_note": note}
        if redaction.bound_hash(d):
            out["redaction_hash"] = redaction.bound_hash(d)  # approved with the draft (the draft carries it)
        return out
    return {"secrecy_reviewed": reviewed, "draft_hash": dh}, apply


@handles("return_draft")
def _return(x: Ctx):
    comments = x.p.text("comments", "退回意见")
    d = x.case.current_draft
    return {"comments": comments}, lambda: {"revision": d.revision, "comments": comments}


@handles("sign_off")
def _sign(x: Ctx):
    d = x.case.current_draft
    note = x.p.text("note", "签发意见")
    if d is not None and d.recomputed_hash() != d.content_hash:
        raise ServiceError("稿件内容与审核时的版本不一致，不能签发")

    def apply():
        letters.check_reply(x.case, d, "签发")  # after the guards: what is signed must print as it stands
        d.signed_by_id, d.signed_at, d.signed_hash = x.actor.id, datetime.utcnow(), d.content_hash
        return {"revision": d.revision, "signed_hash": d.content_hash, "note": note}
    return {}, apply


@handles("reject_signoff")
def _reject(x: Ctx):
    comments = x.p.text("comments", "退回意见")
    d = x.case.current_draft

    def apply():
        # Approval belonged to this revision; a changed draft is a new revision needing a new approval.
        return {"revision": d.revision, "comments": comments}
    return {"comments": comments}, apply


@handles("issue")
def _issue(x: Ctx):
    d = x.case.current_draft
    on = x.past_date("issued_on", "答复日期", x.case.received_on, "收到申请日期")
    if d is not None and d.recomputed_hash() != d.content_hash:
        raise ServiceError("稿件内容与审核时的版本不一致，不能出具")

    def apply():
        letters.check_reply(x.case, d, "出具")  # before the number is taken
        x.case.issued_draft_id = d.id
        _close(x, d.outcome_code, on)
        letter = letters.reply_letter(d.outcome_code)
        if letter is not None:
            # Numbered, rendered once and stored in this same transaction.
            row = letters.issue_letter(x.case, x.actor, letter.key, letters.draft_context(x.case, d),
                                       content_hash=d.content_hash, on=on, draft=d, ref="reply")
            issued = {"letter_number": row.number, "letter_sha256": row.sha256}
        else:
            issued = {}
        return {"revision": d.revision, "content_hash": d.content_hash, "outcome": d.outcome_code,
                "issued_on": on, "reply_due": x.case.reply_due,
                "on_time": bool(x.case.reply_due and on <= x.case.reply_due), **issued}
    return {}, apply


@handles("deliver")
def _deliver(x: Ctx):
    method = x.p.choice("method", "送达方式", DELIVERY_METHODS)
    on = x.past_date("delivered_on", "送达日期", x.case.closed_on or x.case.received_on, "答复日期")
    proof = x.p.text("proof", "送达凭证（邮件号、回证编号或平台记录）", required=True, max_len=300)
    recipient = x.p.text("recipient", "签收人", default=x.case.applicant_name, max_len=200)
    notes = x.p.text("notes", "备注")

    def apply():
        x.case.deliveries.append(Delivery(method=method, delivered_on=on, proof=proof, recipient=recipient,
                                          notes=notes, created_by_id=x.actor.id))
        return {"method": method, "delivered_on": on, "proof": proof, "recipient": recipient}
    return {}, apply


@handles("withdraw")
def _withdraw(x: Ctx):
    on = x.past_date("withdrawn_on", "撤回日期", x.case.received_on, "收到申请日期")
    note = x.p.text("note", "撤回方式及说明", required=True)

    def apply():
        _close(x, "withdrawn", on)
        return {"withdrawn_on": on, "note": note}
    return {}, apply


@handles("archive")
def _archive(x: Ctx):
    no = x.p.text("archive_number", "档号", required=True, max_len=60)
    from .checklist import archive_blockers
    blockers = archive_blockers(x.case)
    if blockers:
        raise ServiceError("不能归档：" + "；".join(blockers), "archive_number")
    retention = x.p.choice("retention", "保管期限", RETENTIONS)

    def apply():
        x.case.archive_number, x.case.retention, x.case.archived_on = no, retention, x.today
        return {"archive_number": no, "retention": retention}
    return {}, apply


@handles("reopen")
def _reopen(x: Ctx):
    reason = x.p.text("reason", "撤销归档理由")

    def apply():
        # Back to where it was filed from: delivered replies, or requests that ended without one.
        x.case.state = "delivered" if x.case.deliveries else "closed"
        old = (x.case.archive_number, x.case.retention)
        x.case.archive_number, x.case.retention, x.case.archived_on = "", "", None
        return {"reason": reason, "archive_number": old[0], "retention": old[1]}
    return {"reason": reason}, apply


# Steps whose letter goes out with the handler as 联系人 (correction, consultation, reasons, fee, 协办).
SIGNS_AS_CONTACT = ("request_correction", "consult", "request_reasons", "fee_notice", "cohandle")


@conflict_is_409()  # also what a flush inside a handler raises, not only the commit
def perform(case_id: int, actor: User, action: str, raw: Mapping[str, Any] | None = None,
            expected_version: int | None = None) -> Case:
    """Take one workflow step. A refused step changes nothing."""
    if action not in HANDLERS:
        raise ServiceError(f"未知操作：{action}", "action")
    case = get_case(case_id, actor)
    if expected_version is not None and expected_version != case.version:
        raise Conflict()
    if case.needs_triage:
        # Otherwise a step taken on it would leave it outside every queue for good.
        raise ServiceError("该案件为历史导入、尚未分拣：请先分拣（转入办理队列或按已办结登记）", "action")
    today = _today()
    try:
        facts = case_facts(case, today)
        check(action, facts, actor.roles, guards=False)
        x = Ctx(case, actor, Params(raw), today)
        guard_params, apply = HANDLERS[action](x)
        target = check(action, facts, actor.roles, actor_id=actor.id, **guard_params)
        redaction.check_step(case, case.current_draft, action)
        relaxed = duty_conflict(action, facts, actor.id)  # allowed only under the agency's relaxed rule
        from_state = case.state
        data = apply()
        if relaxed:
            data["separation_relaxed"] = relaxed
        if action in SIGNS_AS_CONTACT and case.handler_id is None and actor.has_role("handler"):
            # Its letter names the handler as 联系人: whoever sends it on an unassigned case takes the case.
            case.handler_id = actor.id
            data["handler"] = actor.name
        if ACTIONS[action].target:
            case.state = target
        target = case.state
        # Every step bumps the version, even one that only touches a sub-procedure,
        # so a concurrent edit of the same case is always detected.
        flag_modified(case, "state")
        refresh_clock(case, today)
        data.update(reply_due=case.reply_due, calendar_version=case.calendar_version,
                    provisional=case.due_provisional)
        record(case, actor, action, ACTIONS[action].label, from_state, target, data, agency_id=actor.agency_id)
        _commit()
    except TransitionError as e:
        db.session.rollback()
        raise ServiceError(e.message, e.field) from None
    except ServiceError:
        db.session.rollback()
        raise
    return case


# ---------------------------------------------------------------- queues and lists

QUEUE_STATES = {
    "clerk": ("registered", "correction", "replied"),
    "handler": ("registered", "correction", "handling", "signed", "replied"),
    "legal": ("review",),
    "head": ("signoff", "registered", "correction", "handling", "review", "signed"),
    "archivist": ("delivered", "closed"),
    "admin": tuple(OPEN_STATES),
}


def _queue_states(actor: User) -> set[str]:
    states: set[str] = set()
    for r in actor.roles:
        states.update(QUEUE_STATES.get(r, ()))
    return states


def _queue_query(actor: User, states: set[str] | None = None):
    """The actor's queue (or its part in ``states``): agency, states, and for a handler alone the
    cases assigned to them or to nobody."""
    states = _queue_states(actor) if states is None else states
    if not states:
        return None
    # Imported history waits in the triage list (triage_imported), not in the queues.
    by_state = Case.state == next(iter(states)) if len(states) == 1 else Case.state.in_(states)
    q = db.select(Case).where(Case.agency_id == actor.agency_id, by_state, Case.needs_triage.is_(False))
    if actor.roles <= {"handler"}:
        q = q.where(or_(Case.handler_id == actor.id, Case.handler_id.is_(None)))
    return q


def work_queue_count(actor: User) -> int:
    q = _queue_query(actor)
    return 0 if q is None else db.session.scalar(db.select(func.count()).select_from(q.subquery()))


def work_queue(actor: User, limit: int = 200, offset: int = 0) -> list[tuple[Case, Any]]:
    """The cases waiting for this user's roles, most urgent first (clocks.queue_key, done in SQL so
    that a page holds the most urgent cases of all, not of the earliest due dates)."""
    from .clocks import case_clock, clock_bounds, urgency_order
    q = _queue_query(actor)
    if q is None:
        return []
    today = _today()
    ids = _running_first(actor, today, offset + limit)
    if ids is not None:
        ids = ids[offset:]
    else:
        # The page's ids from ix_case_queue alone (it holds every column the filter and the order
        # read: an index-only scan), then only those rows.
        ids = list(db.session.scalars(
            q.with_only_columns(Case.id)
            .order_by(urgency_order(today, clock_bounds(today)), Case.reply_due.is_(None), Case.reply_due, Case.id)
            .offset(offset).limit(limit)))
    if not ids:
        return []
    # One query for the steps of all rows (the clock needs them), not one per case.
    rows = {c.id: c for c in db.session.scalars(db.select(Case).where(Case.id.in_(ids))
                                               .options(selectinload(Case.steps), selectinload(Case.handler)))}
    return [(rows[i], case_clock(rows[i], today)) for i in ids]


def _running_first(actor: User, today: date, need: int) -> list[int] | None:
    """The queue's first ``need`` ids when that many cases have a running clock, else None.

    Overdue, due soon and running (URGENCY 0–2) are the counting cases in due-date order, and they
    come before paused and stopped ones: so the first page of a large agency is the earliest due
    dates among them. Read per state, each the start of one ix_case_queue range (agency, state,
    reply_due), instead of ranking every open case (35,000 at 2,000,000 cases).
    """
    from .clocks import not_paused
    parts = []
    # Each part: one open state other than correction, not triage (the queue's own filter), not
    # paused: clocks.counting_condition, written so that each part is one index range.
    for state in sorted(_queue_states(actor) & (OPEN_STATES - {"correction"})):
        part = (_queue_query(actor, {state}).with_only_columns(Case.id, Case.reply_due)
                .where(not_paused(today), Case.reply_due.is_not(None))
                .order_by(Case.reply_due, Case.id).limit(need).subquery())
        parts.append(db.select(part.c.id, part.c.reply_due))
    if not parts:
        return None
    merged = union_all(*parts).subquery()
    ids = list(db.session.scalars(db.select(merged.c.id).order_by(merged.c.reply_due, merged.c.id).limit(need)))
    return ids if len(ids) == need else None


def triage_count(actor: User) -> int:
    return db.session.scalar(db.select(func.count(Case.id)).where(
        Case.agency_id == actor.agency_id, Case.needs_triage.is_(True))) or 0


def triage_queue(actor: User, limit: int = 50, offset: int = 0) -> tuple[list[Case], int]:
    """Imported open cases waiting for triage, earliest received first, and how many there are."""
    q = db.select(Case).where(Case.agency_id == actor.agency_id, Case.needs_triage.is_(True))
    rows = list(db.session.scalars(q.options(selectinload(Case.handler))
                                   .order_by(Case.received_on, Case.id).offset(offset).limit(limit)))
    return rows, triage_count(actor)


def list_cases(actor: User, raw: Mapping[str, Any]) -> tuple[list[Case], int]:
    """Filtered, paged list of the agency's cases (API and search)."""
    from ..domain.workflow import STATES
    p = Params(raw)
    q = db.select(Case).where(Case.agency_id == actor.agency_id)
    state = p.choice("state", "状态", STATES, required=False)
    if state:
        q = q.where(Case.state == state)
    channel = p.choice("channel", "申请方式", CHANNELS, required=False)
    if channel:
        q = q.where(Case.channel == channel)
    atype = p.choice("applicant_type", "申请人类型", APPLICANT_TYPES, required=False)
    if atype:
        q = q.where(Case.applicant_type == atype)
    lo = p.date("received_from", "收到日期起")
    hi = p.date("received_to", "收到日期止")
    if lo and hi and hi < lo:
        raise ServiceError("收到日期止不能早于收到日期起", "received_to")
    if lo:
        q = q.where(Case.received_on >= lo)
    if hi:
        q = q.where(Case.received_on <= hi)
    text = p.text("q", "关键词", max_len=100)
    if text:
        q = q.where(search_condition(text))  # the ledger's search too
    handler = p.integer("handler_id", "承办人")
    if handler:
        q = q.where(Case.handler_id == handler)
    if p.flag("triage"):
        q = q.where(Case.needs_triage.is_(True))
    page = p.integer("page", "页码", default=1, lo=1, hi=100000)
    per = p.integer("per_page", "每页条数", default=50, lo=1, hi=200)
    unknown = set(raw) - {"state", "channel", "applicant_type", "received_from", "received_to", "q",
                          "handler_id", "triage", "page", "per_page"}
    if unknown:
        raise ServiceError(f"不支持的筛选条件：{'、'.join(sorted(unknown))}", sorted(unknown)[0])
    total = db.session.scalar(db.select(func.count()).select_from(q.subquery()))
    rows = list(db.session.scalars(q.order_by(Case.received_on.desc(), Case.id.desc())
                                   .offset((page - 1) * per).limit(per)))
    return rows, total
