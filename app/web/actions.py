"""The form of every workflow action and the intake form, generated from their declarations.

The inputs of each step are declared once, in app/services/operations.py; this module only turns
them into WTForms fields. The service validates the values and owns the messages. One generic
view and template serve all.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Mapping

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (BooleanField, FieldList, Form, FormField, HiddenField, SelectChoice, StringField, SubmitField,
                     TextAreaField)
from wtforms.widgets import NumberInput

from ..domain.archive_number import PERIOD_LABELS
from ..domain.workflow import SEPARATED, TransitionError, duty_conflict
from ..models import Case, User
from ..services.cases import CONSULT_KINDS, extension_request
from ..services.letters import form_name
from ..services.operations import (DRAFT_MAX_LEN, OUTCOME_CHOICES, REGISTRATION, Input, draft_form_data,
                                   draft_inputs_for, operations)
from ..services import redaction as R
from ..services.checklist import suggest_archive_number
from ..services.agency_requests import platform_agencies
from ..services.views import agency_handlers
from .forms import ActionForm, choices, date_field, select_field

@dataclass(frozen=True)
class Field:
    """An input as the form shows it."""
    name: str
    label: str
    kind: str = "text"  # text | textarea | date | number | select | checkbox | hidden
    required: bool = False  # shown as required; the service enforces it
    hint: str = ""
    choices: Mapping[str, str] | None = None
    source: str | None = None  # choices from the case: handlers | agencies | consult_steps | cohandle_steps
    today: bool = False  # a date defaulting to today
    show_if: str = ""  # "field=v1,v2": shown only then (by JS; without JS always shown)
    number_range: tuple[int, int] | None = None
    max_len: int | None = None
    initial: str = ""  # preselected in a fresh form (a select with one has no blank option)
    needed_by: tuple[str, ...] = ()  # the draft's outcomes for which it is required
    item_fields: tuple[tuple[str, str], ...] = ()  # kind "rows": the columns of each row
    item_choices: Mapping[str, Mapping[str, str]] | None = None  # kind "rows": a column's allowed values


def _field(i: Input) -> Field:
    rng = (i.minimum, i.maximum) if i.kind == "integer" and i.maximum is not None and not i.source else None
    return Field(i.name, i.form_text, "rows" if i.kind == "items" else i.form_widget, i.required, i.help, i.choices,
                 i.source, i.today, i.show_if, rng, i.max_len, i.initial, i.needed_by, i.item_fields,
                 i.item_choices)


ACTION_FIELDS: dict[str, tuple[Field, ...]] = {
    name: tuple(_field(i) for i in op.inputs) for name, op in operations().items()}

SHOWS_DRAFT = frozenset(name for name, op in operations().items() if op.shows_draft)
INTROS = {name: op.intro for name, op in operations().items() if op.intro}


def fields_for(action: str) -> tuple[Field, ...]:
    return ACTION_FIELDS.get(action, ())


def _wtf(f: Field, *, mark_selects: bool = False):
    kw = {"description": f.hint}
    render: dict = {}
    if f.required and f.kind not in ("checkbox", "hidden") and (mark_selects or f.kind != "select"):
        render["required"] = True
    if f.max_len and f.kind in ("text", "textarea"):
        render["maxlength"] = f.max_len
    if f.kind == "textarea":
        return TextAreaField(f.label, render_kw={**render, "rows": 3}, **kw)
    if f.kind == "date":
        return date_field(f.label, f.hint, render_kw=render)
    if f.kind == "number":
        lo, hi = f.number_range or (None, None)
        return StringField(f.label, widget=NumberInput(min=lo, max=hi), render_kw=render, **kw)
    if f.kind == "select":
        return select_field(f.label, [], f.hint, render_kw=render)
    if f.kind == "checkbox":
        return BooleanField(f.label, **kw)
    if f.kind == "hidden":
        return HiddenField(f.label)
    if f.kind == "rows":
        return FieldList(FormField(_row_form(f)), f.label, min_entries=1)
    return StringField(f.label, render_kw=render, **kw)


def _row_form(f: Field) -> type[Form]:
    """One row of an items input (a withheld part): a select where the column's values are fixed."""
    attrs = {}
    for key, label in f.item_fields:
        allowed = (f.item_choices or {}).get(key)
        if allowed:
            attrs[key] = select_field(label, choices(allowed, "请选择"))
        else:
            attrs[key] = TextAreaField(label, render_kw={"rows": 2, "maxlength": f.max_len or DRAFT_MAX_LEN})
    return type(f"{f.name.title()}Row", (Form,), attrs)


@lru_cache(maxsize=None)
def form_class(action: str) -> type[ActionForm]:
    attrs = {f.name: _wtf(f) for f in fields_for(action)}
    return type(f"{action.title().replace('_', '')}Form", (ActionForm,), attrs)


def open_steps(case: Case, kinds: tuple[str, ...]):
    return [s for s in case.steps if s.kind in kinds and s.is_open]


def _step_choices(case: Case, kinds: tuple[str, ...]):
    steps = open_steps(case, kinds)
    pairs = []
    for s in steps:
        due = f"，{s.due_on.isoformat()}到期" if s.due_on else ""
        pairs.append((s.id, f"{s.kind_label}：{s.party}（{s.started_on.isoformat()}发出{due}）"))
    # With one open step there is nothing to choose; with several the user must pick one.
    return choices(pairs, None if len(steps) == 1 else "请选择")


def choices_for(f: Field, case: Case | None, user: User):
    if f.source == "handlers":
        return choices([(u.id, f"{u.name}（{u.username}）") for u in agency_handlers(user)],
                       "请选择" if f.required else "暂不分派")
    if f.source == "agencies":
        from ..services.transfer import targets
        return choices([(a.id, a.name) for a in targets(user)], "请选择")
    if f.source == "consult_steps":
        return _step_choices(case, tuple(CONSULT_KINDS.values()))
    if f.source == "cohandle_steps":
        return _step_choices(case, ("cohandle",))
    if f.source == "agencies":
        return choices([(a.id, a.name) for a in platform_agencies(user)], "（平台外单位，填写下方名称）")
    return choices(f.choices or {}, None if f.initial else "请选择")


def defaults(action: str, case: Case, today: date) -> dict:
    """What a fresh form shows: today's date in date fields, the current draft where it matters."""
    data: dict = {"version": str(case.version)}
    for f in fields_for(action):
        if f.kind == "date" and f.today:
            data[f.name] = today.isoformat()
    draft = case.current_draft
    if action == "save_draft" and draft is not None:
        data["outcome"] = draft.outcome_code
        data.update(draft_form_data(draft.fields))
        stored = {form_name(k): v for k, v in draft.fields.items()}
        for f in fields_for(action):
            if f.kind == "rows":  # rows as stored, in their order (text from older drafts as one row each)
                value = stored.get(f.name)
                data[f.name] = [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []
    if action == "save_draft":
        _redaction_prefill(data, case, draft)
    if action == "approve" and draft is not None:
        data["draft_hash"] = draft.content_hash
    if action == "deliver":
        data["recipient"] = case.applicant_name
        data["method"] = {"email": "email", "online": "online", "fax": "fax", "pickup": "in_person"}.get(
            case.requested_route, "post")
    if action == "assign" and case.handler_id:
        data["handler_id"] = str(case.handler_id)
    if action == "extend" and (asked := extension_request(case)) is not None:
        data["days"], data["reason"] = asked.details.get("days"), asked.details.get("reason")
    if action == "archive":
        data["retention"] = "10y"
        data["archive_number"] = case.archive_number or suggest_archive_number(case, "10y")
    return data


def archive_suggestions(case: Case) -> list[tuple[str, str, str]]:
    """(retention, its words, the next 档号 for it) by the agency's rule: the archive form shows them
    and swaps the suggestion when another 保管期限 is chosen (static/js/app.js)."""
    return [(r, PERIOD_LABELS[r], suggest_archive_number(case, r)) for r in PERIOD_LABELS]


def _redaction_prefill(data: dict, case: Case, draft) -> None:
    """Marked source documents mean a 部分公开 reply: a form without earlier values for them starts with
    the withheld rows and attachment lines the boxes give (the handler edits the wording)."""
    if not R.documents(case):
        return
    if draft is None:
        data["outcome"] = R.OUTCOME
    if not data.get("withheld"):
        rows = R.generated_rows(case)
        if rows:
            data["withheld"] = rows
    if not (data.get("attachments") or "").strip():
        data["attachments"] = "\n".join(R.attachment_lines(case))


def build_form(action: str, case: Case, user: User, today: date, *, fresh: bool, formdata=None) -> ActionForm:
    cls = form_class(action)
    if fresh:
        form = cls(data=defaults(action, case, today))
    else:
        form = cls(formdata=formdata) if formdata is not None else cls()
    for f in fields_for(action):
        if f.kind == "select":
            form[f.name].choices = choices_for(f, case, user)
        if f.kind == "rows":
            _keep_unlisted(form[f.name], f)
    return form


def _keep_unlisted(rows, f: Field) -> None:
    """A stored value outside a row column's list (an older draft) stays shown as it is; the service
    refuses it on saving, so it round-trips instead of silently becoming another basis."""
    for key, allowed in (f.item_choices or {}).items():
        for entry in rows.entries:
            sub = entry.form[key]
            if sub.data and sub.data not in allowed:
                sub.choices = [*sub.choices, SelectChoice(sub.data, f"{sub.data}（不在可选依据中）")]


def form_values(action: str, form: ActionForm) -> dict:
    """The values the service receives: only this action's fields (rows as objects, as the API takes them)."""
    out = {}
    for f in fields_for(action):
        value = form[f.name].data
        if f.kind == "rows":
            value = [{k: (row.get(k) or "") for k, _ in f.item_fields} for row in value]
        out[f.name] = value
    return out


# ---------------------------------------------------------------- the draft form: fields by outcome, rows

ROW_OP = "form_op"  # a button that changes the form (rows, outcome) without saving: works without JS
_ROW_KEY = re.compile(r"^([a-z_]+)-(\d+)-([a-z_]+)$")


def is_form_op(formdata) -> bool:
    return bool(formdata.get(ROW_OP))


GENERATE = "withheld:generate"  # the withheld rows and attachment lines from the redaction boxes


def apply_form_op(action: str, formdata, case: Case | None = None) -> MultiDict:
    """The posted form with one row operation applied: "withheld:add", "withheld:remove:2",
    "withheld:up:2", "withheld:down:2"; "outcome" only re-shows the fields for the chosen outcome;
    "withheld:generate" replaces the rows and the attachments with what the case's boxes give."""
    op = (formdata.get(ROW_OP) or "").split(":")
    out = MultiDict((k, v) for k, v in formdata.items(multi=True) if k != ROW_OP)
    rows_fields = {f.name: f for f in fields_for(action) if f.kind == "rows"}
    if len(op) < 2 or op[0] not in rows_fields:
        return out
    f = rows_fields[op[0]]
    rows: dict[int, dict[str, str]] = {}
    for k in list(out):
        m = _ROW_KEY.match(k)
        if m and m.group(1) == f.name:
            rows.setdefault(int(m.group(2)), {})[m.group(3)] = out.get(k)
            out.poplist(k)
    ordered = [rows[i] for i in sorted(rows)]
    try:
        n = int(op[2]) if len(op) > 2 else -1
    except ValueError:
        n = -1
    if op[1] == "add":
        ordered.append({})
    elif op[1] == "remove" and 0 <= n < len(ordered):
        ordered.pop(n)
    elif op[1] == "up" and 0 < n < len(ordered):
        ordered[n - 1], ordered[n] = ordered[n], ordered[n - 1]
    elif op[1] == "down" and 0 <= n < len(ordered) - 1:
        ordered[n], ordered[n + 1] = ordered[n + 1], ordered[n]
    elif ":".join(op) == GENERATE and case is not None and R.documents(case):
        ordered = R.generated_rows(case) or [{}]
        out["attachments"] = "\n".join(R.attachment_lines(case))
    for i, row in enumerate(ordered):
        for key, _ in f.item_fields:
            out[f"{f.name}-{i}-{key}"] = row.get(key, "")
    return out


def draft_form_view(action: str, form: ActionForm, case: Case | None = None) -> dict:
    """For the draft form: the outcome chosen now, and per field whether it is shown and required for it
    (the same declaration the service reads: operations.draft_inputs_for and Input.needed_by); how many
    source documents the redaction has (the "按删除处理标注生成" button)."""
    if action != "save_draft":
        return {}
    code = form["outcome"].data or ""
    used = {i.name for i in draft_inputs_for(code)} if code in OUTCOME_CHOICES else set()
    state = {}
    for f in fields_for(action):
        if f.name == "outcome":
            continue
        state[f.name] = {"shown": f.name in used, "required": code in f.needed_by,
                         "required_for": ",".join(f.needed_by)}
    return {"draft_outcome": code, "draft_state": state,
            "redaction_docs": len(R.documents(case)) if case is not None else 0}


def unavailable_reason(action: str, case: Case, actor_id: int | None = None) -> str | None:
    """Why an action the user's role allows in this state cannot be taken yet, if it plainly cannot.

    The service has the final word; this only keeps pointless buttons off the case page.
    """
    if action in SEPARATED and actor_id is not None:
        from ..services.cases import case_facts
        from ..services.time import today
        try:
            duty_conflict(action, case_facts(case, today()), actor_id)
        except TransitionError as e:
            return e.message
    if action == "consultation_reply" and not open_steps(case, tuple(CONSULT_KINDS.values())):
        return "没有尚未答复的征求意见"
    if action == "cohandle_reply" and not open_steps(case, ("cohandle",)):
        return "没有尚未回复的协办"
    if action == "reasons_reply" and not open_steps(case, ("reasons",)):
        return "没有待答复的说明理由告知"
    unissued_fee = any(not s.in_effect for s in case.steps_of("fee"))
    if action in ("fee_paid", "fee_lapsed") and not open_steps(case, ("fee",)):
        return "收费通知书尚未出具，出具后才能登记缴费" if unissued_fee else "没有待缴费的收费通知"
    if action == "fee_notice" and unissued_fee:
        return "已有尚未出具的收费通知书"
    if action == "fee_notice" and open_steps(case, ("fee",)):
        return "已有待缴费的收费通知"
    if action == "request_reasons" and open_steps(case, ("reasons",)):
        return "已发出说明理由告知，尚待申请人答复"
    if action == "request_correction" and case.steps_of("correction"):
        return "补正告知只能发出一次（第三十条）"
    if action == "submit_draft" and case.current_draft is None:
        return "尚未起草答复"
    if action in ("extend", "request_extension") and case.extension_days:
        return "答复期限只能延长一次（第三十三条）"
    if action == "request_extension" and extension_request(case) is not None:
        return "已提出延期申请，尚待负责人审批"
    if action == "decline_extension" and extension_request(case) is None:
        return "没有待审批的延期申请"
    return None


# ---------------------------------------------------------------- registration (登记)

INTAKE_FIELDS: tuple[Field, ...] = tuple(_field(i) for i in REGISTRATION.inputs)
SHOW_IF = {f.name: f.show_if for f in INTAKE_FIELDS if f.show_if}

# The intake page lays the fields out in fieldsets itself; what each field is comes from the declaration.
IntakeForm: type[FlaskForm] = type("IntakeForm", (FlaskForm,), {
    **{f.name: _wtf(f, mark_selects=True) for f in INTAKE_FIELDS}, "submit": SubmitField("登记")})


def build_intake_form(user: User, today: date, *, fresh: bool) -> FlaskForm:
    """A fresh intake form (today's date, the declared initial choices) or the posted one, as typed."""
    data = {f.name: today.isoformat() if f.today else f.initial for f in INTAKE_FIELDS if f.today or f.initial}
    form = IntakeForm(data=data) if fresh else IntakeForm()
    for f in INTAKE_FIELDS:
        if f.kind == "select":
            form[f.name].choices = choices_for(f, None, user)
    return form


def intake_values(form: FlaskForm) -> dict:
    return {f.name: form[f.name].data for f in INTAKE_FIELDS}
