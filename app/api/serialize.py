"""Cases and their parts as JSON-ready dicts (the shapes the OpenAPI schemas describe)."""
from __future__ import annotations

from datetime import date

from ..domain import clock as C
from ..domain.intake import FORMS, ID_TYPES, ROUTES
from ..domain.outcomes import OUTCOME_BY_CODE, ROW_LABELS
from ..domain.workflow import STATES, available_actions
from ..extensions import db
from ..models import CalendarYear, Case, Delivery, Draft, Event, Step, User
from ..services.calendar import load_calendar
from ..services.clocks import case_clock
from ..services.operations import form_name


def _d(v: date | None) -> str | None:
    return v.isoformat() if v else None


def user_ref(u: User | None) -> dict | None:
    if u is None:
        return None
    return {"id": u.id, "username": u.username, "name": u.name}


def user_dict(u: User) -> dict:
    return {
        "id": u.id, "username": u.username, "name": u.name,
        "roles": sorted(u.roles), "role_labels": u.role_labels,
        "agency": {"id": u.agency.id, "code": u.agency.code, "name": u.agency.name},
    }


def user_account_dict(u: User) -> dict:
    from ..services.accounts import password_change_reason
    from ..services.auth import is_locked

    reason = password_change_reason(u)
    return {
        "id": u.id, "username": u.username, "name": u.name,
        "roles": sorted(u.roles), "role_labels": u.role_labels, "active": u.active,
        "locked_until": u.locked_until if is_locked(u) else None,
        "must_change_password": reason == "must_change", "password_expired": reason == "expired",
        "password_changed_at": u.password_changed_at, "has_token": bool(u.token_hash),
    }


def step_dict(s: Step) -> dict:
    return {
        "id": s.id, "kind": s.kind, "kind_label": s.kind_label, "party": s.party,
        "started_on": _d(s.started_on), "received_on": _d(s.received_on), "due_on": _d(s.due_on),
        "answered_on": _d(s.answered_on), "result": s.result or None,
        "result_label": s.result_label if s.result else None,
        "open": s.is_open, "details": s.details,
        "due_provisional": s.due_provisional, "due_calendar_version": s.calendar_version,
        "due_printed_in": s.printed_letter.number_text if s.due_on and s.printed_letter else None,
    }


def outcome_dict(code: str | None) -> dict | None:
    o = OUTCOME_BY_CODE.get(code) if code else None
    if o is None:
        return None
    return {"code": o.code, "label": o.label, "row": o.row, "row_label": ROW_LABELS[o.row], "basis": o.basis}


def draft_dict(d: Draft, case: Case) -> dict:
    return {
        "id": d.id, "revision": d.revision, "outcome": outcome_dict(d.outcome_code),
        # Keyed by the names save_draft accepts, so a draft read here can be posted back unchanged.
        "fields": {form_name(k): v for k, v in d.fields.items()},
        "content_hash": d.content_hash,
        "created_by": user_ref(d.created_by), "created_at": d.created_at,
        # Approval and sign-off count only for the exact content they were given to.
        "approved": d.approved_hash is not None and d.approved_hash == d.content_hash,
        "approved_by": user_ref(d.approved_by), "approved_at": d.approved_at, "approved_hash": d.approved_hash,
        "secrecy_note": d.secrecy_note or "",
        "signed": d.signed_hash is not None and d.signed_hash == d.content_hash,
        "signed_by": user_ref(d.signed_by), "signed_at": d.signed_at, "signed_hash": d.signed_hash,
        "current": d.id == case.current_draft_id, "issued": d.id == case.issued_draft_id,
    }


def delivery_dict(v: Delivery) -> dict:
    return {"id": v.id, "method": v.method, "method_label": v.method_label, "delivered_on": _d(v.delivered_on),
            "proof": v.proof, "recipient": v.recipient, "notes": v.notes}


def event_dict(e: Event) -> dict:
    return e.as_dict()


def clock_dict(case: Case) -> dict:
    return case_clock(case).as_dict()


def summary_dict(case: Case) -> dict:
    return {
        "id": case.id, "number": case.number, "state": case.state, "state_label": case.state_label,
        "version": case.version, "channel": case.channel, "channel_label": case.channel_label,
        "received_on": _d(case.received_on), "applicant_name": case.applicant_name,
        "applicant_type": case.applicant_type, "description": case.description,
        "doc_number": case.doc_number, "handler": user_ref(case.handler),
        "clock": clock_dict(case), "reply_due": _d(case.reply_due),
        "outcome": outcome_dict(case.outcome_code), "closed_on": _d(case.closed_on),
        **import_dict(case),
    }


def import_dict(case: Case) -> dict:
    return {"imported": case.imported, "original_number": case.original_number, "needs_triage": case.needs_triage}


def case_dict(case: Case, actor: User) -> dict:
    cal = load_calendar()
    current = case.current_draft
    return {
        "id": case.id, "number": case.number, "state": case.state, "state_label": case.state_label,
        "version": case.version, **import_dict(case),
        "channel": case.channel, "channel_label": case.channel_label,
        "arrived_on": _d(case.arrived_on), "confirmed_on": _d(case.confirmed_on),
        "received_on": _d(case.received_on), "receipt_basis": case.receipt_basis, "logged_at": case.logged_at,
        "applicant": {
            "type": case.applicant_type, "type_label": case.applicant_type_label, "name": case.applicant_name,
            "id_type": case.id_type, "id_type_label": ID_TYPES.get(case.id_type, case.id_type),
            "id_number": case.id_number, "contact_phone": case.contact_phone,
            "contact_address": case.contact_address, "contact_email": case.contact_email,
            "agent_name": case.agent_name, "agent_id_number": case.agent_id_number,
            "power_of_attorney": case.power_of_attorney,
        },
        "request": {
            "description": case.description, "doc_number": case.doc_number,
            "form": case.requested_form, "form_label": FORMS.get(case.requested_form, case.requested_form),
            "route": case.requested_route, "route_label": ROUTES.get(case.requested_route, case.requested_route),
        },
        "handler": user_ref(case.handler), "created_by": user_ref(case.created_by),
        "clock": clock_dict(case),
        "reply_due": _d(case.reply_due), "extension_days": case.extension_days,
        "override_due": _d(case.override_due),
        # Art. 30: a correction notice is possible only within 7 working days of receipt.
        "correction_notice_due": _d(cal.add_working_days(case.received_on, C.CORRECTION_NOTICE_DAYS).due),
        "steps": [step_dict(s) for s in case.steps],
        "drafts": [draft_dict(d, case) for d in case.drafts],
        "current_draft": draft_dict(current, case) if current else None,
        "outcome": outcome_dict(case.outcome_code), "closed_on": _d(case.closed_on),
        "deliveries": [delivery_dict(v) for v in case.deliveries],
        "archive_number": case.archive_number or None, "retention": case.retention or None,
        "archived_on": _d(case.archived_on),
        "available_actions": [{"name": a.name, "label": a.label, "target": a.target,
                               "target_label": STATES[a.target] if a.target else None}
                              for a in available_actions(case.state, actor.roles)],
        "events": [event_dict(e) for e in case.events],
    }


def calendar_year_dict(row: CalendarYear) -> dict:
    return {
        "year": row.year, "revision": row.revision, "source": row.source,
        "updated_by": user_ref(db.session.get(User, row.updated_by_id) if row.updated_by_id else None),
        "updated_at": row.updated_at,
        "holidays": [d.isoformat() for d in sorted(row.holidays)],
        "makeup": [d.isoformat() for d in sorted(row.makeup_workdays)],
    }
