"""The form of every workflow action, as data.

Field names are exactly the parameters the handlers in app/services/cases.py read; the
service validates them and owns the messages. One generic view and template serve all.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Mapping

from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.widgets import NumberInput

from ..domain.fees import FEE_METHODS
from ..domain.outcomes import DRAFTABLE
from ..domain.workflow import SEPARATED, TransitionError, duty_conflict
from ..models import Case, User
from ..models.case import CONSULTATION_RESULTS, DELIVERY_METHODS
from ..services.cases import CONSULT_KINDS, DRAFT_FIELDS, RETENTIONS
from ..services.views import agency_handlers
from .forms import ActionForm, choices, date_field, select_field

REASONS_RESULTS = {"reasonable": "理由合理", "unreasonable": "理由不合理", "no_answer": "逾期未说明理由"}
CONSULT_TARGETS = {"third_party": "第三方（第三十二条）", "agency": "其他行政机关（第三十四条）"}


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text | textarea | date | number | select | checkbox | hidden
    required: bool = False  # shown as required; the service enforces it
    hint: str = ""
    choices: Mapping[str, str] | None = None
    source: str | None = None  # choices from the case: handlers | consult_steps | cohandle_steps
    today: bool = False  # a date defaulting to today
    show_if: str = ""  # "field=v1,v2": shown only then (by JS; without JS always shown)
    number_range: tuple[int, int] | None = None


F = Field


def _letter_fields() -> list[Field]:
    """Fields of the reply letters beyond the common ones, shown only for their outcomes."""
    from ..letters import letter_for_outcome
    from ..services.letters import draft_fields, form_name

    kinds = {"date": "date", "int": "number", "text": "textarea", "list": "textarea", "items": "textarea",
             "money": "text", "choice": "select"}
    hints = {"list": "每行一项", "items": "每行一项：部分｜理由｜依据"}
    by_name: dict[str, tuple[Field, list[str]]] = {}
    for o in DRAFTABLE:
        letter = letter_for_outcome(o.code)
        for f in draft_fields(letter) if letter else ():
            name = form_name(f.name)
            if name in DRAFT_FIELDS:
                continue
            if name not in by_name:
                choices = {c: c for c in f.choices} if f.type == "choice" and f.choices else None
                by_name[name] = (F(name, f.label, kinds.get(f.type, "text") if choices or f.type != "choice" else "text",
                                   hint=(f.help or hints.get(f.type, "")), choices=choices), [])
            by_name[name][1].append(o.code)
    return [F(**{**fld.__dict__, "show_if": "outcome=" + ",".join(codes)}) for fld, codes in by_name.values()]


ACTION_FIELDS: dict[str, tuple[Field, ...]] = {
    "assign": (F("handler_id", "承办人", "select", True, source="handlers"),),
    "start": (),
    "request_correction": (
        F("notice_date", "告知日期", "date", True, today=True, hint="须在收到申请之日起7个工作日内（第三十条）"),
        F("items", "需要补正的事项", "textarea", True, hint="一次性告知全部需要补正的事项"),
        F("guidance", "指导和释明", "textarea"),
        F("period_end", "补正期限", "date", hint="留空则为告知日期后第15个工作日"),
    ),
    "receive_correction": (
        F("received_on", "收到补正材料日期", "date", True, today=True,
          hint="答复期限自收到补正材料之日起重新计算（第三十条）"),
        F("note", "补正内容说明", "textarea"),
    ),
    "correction_lapsed": (),
    "consult": (
        F("kind", "征求对象类型", "select", True, choices=CONSULT_TARGETS),
        F("party", "征求意见对象", required=True, hint="第三方或机关的名称"),
        F("matter", "征求意见的信息及理由", "textarea", True),
        F("sent_on", "发出日期", "date", True, today=True),
        F("received_on", "对方收到日期", "date", hint="留空则与发出日期相同；对方答复期限为收到后15个工作日"),
    ),
    "consultation_reply": (
        F("step_id", "征求意见", "select", True, source="consult_steps"),
        F("result", "征求意见结果", "select", True, choices=CONSULTATION_RESULTS,
          hint="“逾期未答复”只能在答复期限届满后登记"),
        F("answered_on", "收到答复日期", "date", today=True, show_if="result=agree,object"),
        F("opinion", "意见内容", "textarea"),
        F("public_interest_override", "不公开可能对公共利益造成重大影响，决定予以公开", "checkbox",
          show_if="result=object", hint="仅适用于第三方不同意公开的情形（第三十二条）"),
        F("override_reason", "公共利益理由", "textarea", show_if="result=object"),
    ),
    "request_reasons": (
        F("sent_on", "发出日期", "date", True, today=True),
        F("matter", "要求说明的事项", "textarea", True),
        F("due_on", "说明理由期限", "date", hint="留空则为发出日期后第15个工作日"),
    ),
    "reasons_reply": (
        F("result", "审查结论", "select", True, choices=REASONS_RESULTS),
        F("answered_on", "收到说明日期", "date", True, today=True),
        F("note", "说明", "textarea"),
        F("new_due", "合理的延迟答复期限", "date", show_if="result=reasonable",
          hint="仅在理由合理、需要延迟答复时填写（第三十五条）"),
    ),
    "fee_notice": (
        F("method", "收费方式", "select", True, choices=FEE_METHODS),
        F("nth_in_month", "本月累计申请件数", "number", show_if="method=per_request", number_range=(1, 10000),
          hint="按件计收：申请人本自然月内的第几件申请（10件以内免费）"),
        F("pages", "页数", "number", show_if="method=per_volume", number_range=(1, 1000000),
          hint="按量计收：30页以内免费"),
        F("sent_on", "发出日期", "date", True, today=True),
        F("served_on", "申请人收到通知日期", "date", hint="留空则与发出日期相同；缴费期限为收到后20个工作日"),
    ),
    "fee_paid": (
        F("paid_on", "缴费日期", "date", True, today=True),
        F("receipt_no", "票据号码", required=True),
    ),
    "fee_lapsed": (),
    "cohandle": (
        F("party", "协办单位", required=True),
        F("matter", "协办事项", "textarea", True),
        F("sent_on", "发出日期", "date", True, today=True, hint="协办单位回复期限为5个工作日"),
    ),
    "cohandle_reply": (
        F("step_id", "协办", "select", True, source="cohandle_steps"),
        F("answered_on", "回复日期", "date", True, today=True),
        F("note", "回复内容", "textarea", True),
    ),
    "extend": (
        F("days", "延长工作日数", "number", True, number_range=(1, 20), hint="最长不超过20个工作日，只能延长一次（第三十三条）"),
        F("reason", "延期理由", "textarea", True, hint="延期须告知申请人"),
    ),
    "save_draft": (
        F("outcome", "办理结果", "select", True, choices={o.code: o.label for o in DRAFTABLE}),
        *(F(k, label, "textarea") for k, label in DRAFT_FIELDS.items()),
        *_letter_fields(),
    ),
    "submit_draft": (),
    "approve": (
        F("secrecy_reviewed", "已完成保密审查，未发现涉密内容", "checkbox", True,
          hint="先审查、后公开（第十七条）"),
        F("secrecy_note", "保密审查意见", "textarea"),
        F("draft_hash", "稿件版本", "hidden"),
    ),
    "return_draft": (F("comments", "退回意见", "textarea", True),),
    "sign_off": (F("note", "签发意见", "textarea"),),
    "reject_signoff": (F("comments", "退回意见", "textarea", True),),
    "issue": (F("issued_on", "答复日期", "date", True, today=True),),
    "deliver": (
        F("method", "送达方式", "select", True, choices=DELIVERY_METHODS),
        F("delivered_on", "送达日期", "date", True, today=True),
        F("proof", "送达凭证", required=True, hint="邮件号、送达回证编号或平台记录"),
        F("recipient", "签收人"),
        F("notes", "备注", "textarea"),
    ),
    "withdraw": (
        F("withdrawn_on", "撤回日期", "date", True, today=True),
        F("note", "撤回方式及说明", "textarea", True, hint="如：申请人书面撤回申请，撤回申请书已存卷"),
    ),
    "archive": (
        F("archive_number", "档号", required=True),
        F("retention", "保管期限", "select", True, choices=RETENTIONS),
    ),
    "reopen": (F("reason", "撤销归档理由", "textarea", True),),
}

# Actions whose form shows the current draft: the person acting sees what they act on.
SHOWS_DRAFT = frozenset({"submit_draft", "approve", "return_draft", "sign_off", "reject_signoff", "issue"})

INTROS = {
    "start": "确认开始办理本申请。尚未分派承办人的，由您承办。",
    "correction_lapsed": "申请人在补正期限内未补正，视为放弃申请，终止办理（第三十条）。",
    "fee_lapsed": "申请人逾期未缴纳信息处理费，视为放弃申请，终止办理。",
    "submit_draft": "将下列答复稿提交法制审核。",
    "approve": "请审核下列答复稿。审核通过的是这一版本；稿件此后如有修改，须重新审核。",
    "return_draft": "将下列答复稿退回承办人修改。",
    "sign_off": "签发下列经法制审核通过的答复稿。",
    "reject_signoff": "将下列答复稿退回承办人。",
    "issue": "出具下列已签发的答复。",
    "save_draft": "每次保存形成一个新的稿件版本；已审核的版本不会被修改。",
    "reopen": "已归档的案卷只读。撤销归档后，案件回到归档前的状态，可补充材料后重新归档；撤销将记入办理记录。",
}


def fields_for(action: str) -> tuple[Field, ...]:
    return ACTION_FIELDS.get(action, ())


def _wtf(f: Field):
    kw = {"description": f.hint}
    render = {}
    if f.required and f.kind not in ("checkbox", "hidden", "select"):
        render["required"] = True
    if f.kind == "textarea":
        return TextAreaField(f.label, render_kw={**render, "rows": 3}, **kw)
    if f.kind == "date":
        return date_field(f.label, f.hint, render_kw=render)
    if f.kind == "number":
        lo, hi = f.number_range or (None, None)
        return StringField(f.label, widget=NumberInput(min=lo, max=hi), render_kw=render, **kw)
    if f.kind == "select":
        return select_field(f.label, [], f.hint)
    if f.kind == "checkbox":
        return BooleanField(f.label, **kw)
    if f.kind == "hidden":
        return HiddenField(f.label)
    return StringField(f.label, render_kw=render, **kw)


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


def choices_for(f: Field, case: Case, user: User):
    if f.source == "handlers":
        return choices([(u.id, f"{u.name}（{u.username}）") for u in agency_handlers(user)], "请选择")
    if f.source == "consult_steps":
        return _step_choices(case, tuple(CONSULT_KINDS.values()))
    if f.source == "cohandle_steps":
        return _step_choices(case, ("cohandle",))
    return choices(f.choices or {}, "请选择")


def defaults(action: str, case: Case, today: date) -> dict:
    """What a fresh form shows: today's date in date fields, the current draft where it matters."""
    data: dict = {"version": str(case.version)}
    for f in fields_for(action):
        if f.kind == "date" and f.today:
            data[f.name] = today.isoformat()
    draft = case.current_draft
    if action == "save_draft" and draft is not None:
        data["outcome"] = draft.outcome_code
        data.update(draft.fields)
    if action == "approve" and draft is not None:
        data["draft_hash"] = draft.content_hash
    if action == "deliver":
        data["recipient"] = case.applicant_name
        data["method"] = {"email": "email", "online": "online", "fax": "fax", "pickup": "in_person"}.get(
            case.requested_route, "post")
    if action == "assign" and case.handler_id:
        data["handler_id"] = str(case.handler_id)
    if action == "archive":
        data["retention"] = "10y"
    return data


def build_form(action: str, case: Case, user: User, today: date, *, fresh: bool) -> ActionForm:
    cls = form_class(action)
    form = cls(data=defaults(action, case, today)) if fresh else cls()
    for f in fields_for(action):
        if f.kind == "select":
            form[f.name].choices = choices_for(f, case, user)
    return form


def form_values(action: str, form: ActionForm) -> dict:
    """The values the service receives: only this action's fields."""
    return {f.name: form[f.name].data for f in fields_for(action)}


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
    if action in ("fee_paid", "fee_lapsed") and not open_steps(case, ("fee",)):
        return "没有待缴费的收费通知"
    if action == "fee_notice" and open_steps(case, ("fee",)):
        return "已有待缴费的收费通知"
    if action == "request_reasons" and open_steps(case, ("reasons",)):
        return "已发出说明理由告知，尚待申请人答复"
    if action == "request_correction" and case.steps_of("correction"):
        return "补正告知只能发出一次（第三十条）"
    if action == "submit_draft" and case.current_draft is None:
        return "尚未起草答复"
    if action == "extend" and case.extension_days:
        return "答复期限只能延长一次（第三十三条）"
    return None
