"""One declaration per legal step: the inputs of every workflow action and of registration (登记).

This is the only place an action's inputs are written down. The web form (app/web/actions.py),
the API's type checks and its OpenAPI document (app/api/specs.py, app/api/openapi.py) and the
parameter reference in docs/api.md are generated from it; the handlers in app/services/cases.py
parse and check the values (their guards and effects), and app.domain.workflow.ACTIONS holds
who may take the step in which stage. Tests compare the handlers' reads with this table.

The reply draft's inputs are the generic draft fields plus every field the reply letters of the
catalogue need (app/letters), so whatever the draft check demands for an outcome both doors accept.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

from ..domain.fees import FEE_METHODS
from ..domain.intake import APPLICANT_TYPES, CHANNELS, FORMS, ID_TYPES, ROUTES
from ..domain.outcomes import DRAFTABLE, WITHHOLDING_BASES
from ..domain.workflow import ACTIONS
from ..models.case import CONSULTATION_RESULTS, DELIVERY_METHODS
from .letters import draft_fields, form_name

INT_MAX = 2 ** 31 - 1
TODAY = "今天"

RETENTIONS = {"10y": "10年", "30y": "30年", "permanent": "永久"}
CONSULT_TARGETS = {"third_party": "第三方（第三十二条）", "agency": "其他行政机关（第三十四条）"}
REASONS_RESULTS = {"reasonable": "理由合理", "unreasonable": "理由不合理", "no_answer": "逾期未说明理由"}
OUTCOME_CHOICES = {o.code: o.label for o in DRAFTABLE}

# The draft fields common to every reply (the letters' own fields are added from the catalogue).
DRAFT_FIELDS = {
    "decision": "补充说明",
    "reasons": "理由",
    "search": "检索情况",
    "obtain": "获取信息的方式、途径和时间",
    "attachments": "附件清单",
    "responsible_agency": "负责公开的机关及联系方式",
    "earlier_reply": "此前答复的文号和日期",
}
# The reply letter states the decision itself (its template): the handler adds to it, never restates it.
DRAFT_HELP = {
    "decision": "答复书已按办理结果写明查明的情况、法律依据和答复决定；此处只写需要另外告知申请人的内容，"
                "不要重复答复决定。可留空",
}
# Generic fields that feed a letter field of another name (services.letters.draft_context).
DRAFT_ALIASES = {"responsible__name": "responsible_agency", "earlier__number": "earlier_reply"}
DRAFT_MAX_LEN = 10000
ITEMS_SEPARATOR = "｜"

KINDS = ("text", "date", "integer", "boolean", "choice", "items")
WIDGETS = ("text", "textarea", "date", "number", "select", "checkbox", "hidden")
_WIDGET_OF = {"text": "text", "date": "date", "integer": "number", "boolean": "checkbox", "choice": "select",
              "items": "textarea"}


@dataclass(frozen=True)
class Input:
    """One input of a step, for both doors."""
    name: str  # form field and JSON key
    kind: str  # the JSON type the service parses: text | date | integer | boolean | choice | items
    label: str  # the Chinese label used in messages
    required: bool = False  # shown and documented as required (the service enforces it)
    choices: Mapping[str, str] | None = None
    max_len: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    help: str = ""  # help text under the form field and in the API reference
    default: str = ""  # what the service uses when the field is omitted (documentation)
    api_note: str = ""  # what only an API caller needs to know (ids, JSON shapes)
    widget: str = ""  # the form widget; by default from the kind
    form_label: str = ""  # a longer wording on the form (e.g. a checkbox's statement)
    source: str | None = None  # form choices from the case: handlers | consult_steps | cohandle_steps
    today: bool = False  # a date field the form fills with today's date
    show_if: str = ""  # "field=v1,v2": the form shows it only then
    guard_required: bool = False  # required by the workflow guard, not by the handler's parsing
    needed_by: tuple[str, ...] = ()  # outcomes whose reply letter or draft check requires it
    item_fields: tuple[tuple[str, str], ...] = ()  # for items: (key, Chinese label) of each item
    item_choices: Mapping[str, Mapping[str, str]] | None = None  # for items: the allowed values of a key
    initial: str = ""  # what a fresh form shows selected (a select with an initial value has no blank)

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind
        assert not self.widget or self.widget in WIDGETS, self.widget

    @property
    def form_widget(self) -> str:
        if self.widget:
            return self.widget
        return "select" if self.source else _WIDGET_OF[self.kind]

    @property
    def form_text(self) -> str:
        return self.form_label or self.label

    @property
    def note(self) -> str:
        """Everything the API reference says beyond label, type and range."""
        parts = [p for p in (self.help, self.api_note) if p]
        if self.needed_by:
            parts.append("以下办理结果须填写：" + "、".join(self.needed_by))
        return "；".join(parts)


@dataclass(frozen=True)
class Operation:
    """A legal step: its inputs here; who/when in ACTIONS (the guard); the handler in services.cases
    (its checks, its effect and the audit event named after the step)."""
    name: str
    inputs: tuple[Input, ...] = ()
    intro: str = ""  # what the form says before the fields
    shows_draft: bool = False  # the form shows the current draft (the person acting sees what they act on)
    target_note: str = ""  # where the step leads when ACTIONS[...].target is None and the stage changes anyway

    @property
    def rule(self):
        """The guard: who may take the step, from which stages, where it leads (app.domain.workflow)."""
        return ACTIONS[self.name]

    @property
    def label(self) -> str:
        """The step's name in Chinese: on the form's button and in the audit event."""
        return ACTIONS[self.name].label

    @property
    def effect(self):
        """The handler that checks the values and returns the step's effect (services.cases.perform
        runs it and records the audit event named after the step, in the same transaction)."""
        return HANDLERS[self.name]


@dataclass(frozen=True)
class Registration:
    """登记: the step that creates a case. Not a workflow action (there is no case, so no stage), but
    declared the same way: its inputs here, its guard (who may register), its effect (services.cases
    .register_case, which records the audit event "register" in the same transaction)."""
    name: str
    label: str
    roles: frozenset[str]
    inputs: tuple[Input, ...]

    @property
    def rule(self) -> frozenset[str]:
        """The guard: the roles that may register a request."""
        return self.roles

    def allowed(self, user: Any) -> bool:
        return user.has_role(*self.roles)

    @property
    def effect(self):
        return EFFECTS[self.name]

    def input(self, name: str) -> Input:
        return next(i for i in self.inputs if i.name == name)


# The handler of each step, filled by services.cases' @handles (the effect lives with the other
# steps' code; this module only points at it, so it imports nothing of cases).
HANDLERS: dict[str, Any] = {}
EFFECTS: dict[str, Any] = {}  # steps outside the workflow (registration), filled by services.cases

In = Input
ID = {"minimum": 1, "maximum": INT_MAX}


# ---------------------------------------------------------------- the reply draft's inputs

_LETTER_KINDS = {"date": "date", "choice": "choice", "items": "items"}
_LETTER_HINTS = {"list": "每行一项", "items": "每行一项：{items}，以“｜”分隔"}


@dataclass(frozen=True)
class DraftRule:
    """A field the draft check demands for some outcomes beyond what their letters require."""
    field: str
    outcomes: tuple[str, ...]
    message: str  # "{outcome}" is replaced by the outcome's label


DRAFT_RULES = (
    DraftRule("reasons", tuple(o.code for o in DRAFTABLE if o.needs_reasons and not o.reasons_per_part),
             "“{outcome}”须写明理由"),
    DraftRule("search", ("not_exist",), "信息不存在的答复须写明检索情况"),
    DraftRule("earlier_reply", ("repeat",), "重复申请的答复须写明此前答复的文号和日期"),
    DraftRule("obtain", ("disclose",), "予以公开的答复须写明获取信息的方式、途径和时间（第三十六条第（二）项）"),
)


def _draft_inputs() -> tuple[Input, ...]:
    from ..letters import letter_for_outcome

    need: dict[str, list[str]] = {r.field: list(r.outcomes) for r in DRAFT_RULES}
    letter_fields: dict[str, tuple[Any, list[str]]] = {}
    used: dict[str, set[str]] = {}  # the outcomes each generic field is read for
    for o in DRAFTABLE:
        letter = letter_for_outcome(o.code)
        for f in draft_fields(letter) if letter else ():
            name = form_name(f.name)
            used.setdefault(DRAFT_ALIASES.get(name, name), set()).add(o.code)
            entry = letter_fields.setdefault(name, (f, []))
            entry[1].append(o.code)
            if f.required is True:
                need.setdefault(name, [])
                if o.code not in need[name]:
                    need[name].append(o.code)
    order = [o.code for o in DRAFTABLE]

    def needed(name: str) -> tuple[str, ...]:
        return tuple(sorted(need.get(name, ()), key=order.index))

    def shown(name: str) -> str:
        codes = used.get(name, set()) | set(need.get(name, ()))
        return "outcome=" + ",".join(c for c in order if c in codes)

    inputs = [In("outcome", "choice", "办理结果", required=True, choices=OUTCOME_CHOICES,
                api_note="各办理结果须填写的字段见下列各项；不适用于所选办理结果的字段不予保存")]
    for name, label in DRAFT_FIELDS.items():
        inputs.append(In(name, "text", label, max_len=DRAFT_MAX_LEN, widget="textarea", needed_by=needed(name),
                        help=_LETTER_HINTS["list"] if name == "attachments" else DRAFT_HELP.get(name, ""),
                        show_if=shown(name)))
    for name, (f, codes) in letter_fields.items():
        if name in DRAFT_FIELDS:
            continue
        kind = _LETTER_KINDS.get(f.type, "text")
        items = tuple((s.name, s.label) for s in f.item_fields)
        hint = f.help or _LETTER_HINTS.get(f.type, "").format(items="｜".join(lbl for _, lbl in items))
        inputs.append(In(
            name, kind, f.label, max_len=DRAFT_MAX_LEN if kind in ("text", "items") else None,
            choices=dict(f.choice_labels) if kind == "choice" else None, help=hint,
            widget="textarea" if kind in ("text", "items") else "", needed_by=needed(name), item_fields=items,
            item_choices={"basis": {b.text: f"{b.articles}（{b.ground}）" for b in WITHHOLDING_BASES}}
            if name == "withheld" else None,
            show_if="outcome=" + ",".join(codes),
            api_note="JSON 中为对象数组，每项的键：" + "、".join(k for k, _ in items) + "；也可按行填写文字"
            + ("。basis 取以下之一：" + "；".join(b.text for b in WITHHOLDING_BASES) if name == "withheld" else "")
            if kind == "items" else ""))
    return tuple(inputs)


def draft_inputs_for(code: str) -> tuple[Input, ...]:
    """The draft inputs an outcome uses (its letter's fields and what the draft check demands); the
    form shows only these and the service reads only these."""
    return tuple(i for i in operation("save_draft").inputs
                 if i.name != "outcome" and code in i.show_if.removeprefix("outcome=").split(","))


def items_text(value: Any, item_fields: tuple[tuple[str, str], ...]) -> str:
    """Stored items as the form shows them: one per line, values separated by "｜"."""
    if isinstance(value, str):
        return value
    keys = [k for k, _ in item_fields]
    lines = []
    for item in value or ():
        if isinstance(item, Mapping):
            values = [str(item.get(k) or "") for k in keys]
            while values and not values[-1]:
                values.pop()
            lines.append(ITEMS_SEPARATOR.join(values))
    return "\n".join(lines)


def draft_form_data(fields: Mapping[str, Any]) -> dict[str, str]:
    """A stored draft's fields as form values (form names, items as lines, never a Python repr)."""
    by_name = {i.name: i for i in operation("save_draft").inputs}
    out: dict[str, str] = {}
    for key, value in fields.items():
        name = form_name(key)
        i = by_name.get(name)
        if i is not None and i.kind == "items":
            out[name] = items_text(value, i.item_fields)
        elif isinstance(value, (list, tuple)):
            out[name] = "\n".join(str(v) for v in value)
        else:
            out[name] = "" if value is None else str(value)
    return out


def draft_rows(fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A stored draft for reading (case page, review, printed case file): (Chinese label, text) in the
    declared order; each withheld part on its own line with its item labels."""
    data = {form_name(k): v for k, v in fields.items()}
    rows = []
    for i in operation("save_draft").inputs:
        value = data.get(i.name)
        if i.name == "outcome" or value in (None, "", [], ()):
            continue
        if i.kind == "items" and not isinstance(value, str):
            text = "\n".join("；".join(f"{label}：{item.get(key) or ''}" for key, label in i.item_fields)
                              for item in value if isinstance(item, Mapping))
        else:
            text = draft_form_data({i.name: value})[i.name]
        rows.append((i.label, text))
    return rows


# ---------------------------------------------------------------- registration (登记)

# Channels whose receipt date is the confirmation date (Art. 31 items 2 and 3).
CONFIRMING_CHANNELS = ("ordinary_post", "online", "fax")

REGISTRATION = Registration("register", "登记申请", frozenset({"clerk"}), (
    In("channel", "choice", "申请方式", required=True, choices=CHANNELS,
      help="决定“收到申请之日”的认定（第三十一条）"),
    In("arrived_on", "date", "收到（提交/签收）日期", required=True, today=True,
      help="当面提交之日、邮件签收之日，或信函/网上申请/传真到达之日", api_note="不能晚于今天"),
    In("confirmed_on", "date", "确认日期", show_if="channel=" + ",".join(CONFIRMING_CHANNELS),
      help="仅平常信函、互联网渠道、传真申请填写：与申请人确认收到申请的日期",
      api_note="上述申请方式必填（第三十一条）"),
    In("applicant_type", "choice", "申请人类型", required=True, choices=APPLICANT_TYPES),
    In("applicant_name", "text", "申请人姓名或名称", required=True, max_len=200),
    In("id_type", "choice", "证件类型", required=True, choices=ID_TYPES, initial="resident_id"),
    In("id_number", "text", "证件号码", required=True, max_len=64, help="居民身份证号码将校验位数和校验位"),
    In("contact_phone", "text", "联系电话", max_len=50, help="联系电话、通信地址、电子邮箱至少填写一项（第二十九条）"),
    In("contact_address", "text", "通信地址", max_len=300),
    In("contact_email", "text", "电子邮箱", max_len=200),
    In("agent_name", "text", "代理人姓名", max_len=100, help="由代理人提交的填写"),
    In("agent_id_number", "text", "代理人身份证号码", max_len=64, help="填写代理人时必填"),
    In("power_of_attorney", "text", "授权委托书", max_len=300,
      help="由代理人提交的，登记授权委托书的名称或编号", api_note="填写代理人时必填"),
    In("description", "text", "所需政府信息的名称或描述", required=True, max_len=5000, widget="textarea",
      help="所需政府信息的名称、文号或者便于查询的其他特征性描述（第二十九条）"),
    In("doc_number", "text", "文号", max_len=100),
    In("requested_form", "choice", "获取信息的形式", choices=FORMS, default="paper", initial="paper"),
    In("requested_route", "choice", "获取信息的途径", choices=ROUTES, default="post", initial="post"),
    In("handler_id", "integer", "承办人", **ID, source="handlers",
      help="可暂不分派，由承办人开始办理时认领", api_note="本机关在职承办人的用户 id"),
))


# ---------------------------------------------------------------- every step

def _declare() -> dict[str, Operation]:
    ops = (
        Operation("assign", (
            In("handler_id", "integer", "承办人", required=True, **ID, source="handlers",
              api_note="本机关在职承办人的用户 id"),
        )),
        Operation("transfer", (
            In("agency_id", "integer", "答复机关", required=True, **ID, source="agencies",
              api_note="平台上另一机关的 id（不能是本机关）"),
            In("reason", "text", "分办理由", required=True, max_len=2000, widget="textarea",
              help="如：申请公开的信息由该机关制作或保存，由其负责答复"),
            In("transferred_on", "date", "分办日期", default=TODAY, today=True,
              help="答复期限仍自本机关收到申请之日起计算"),
        ), intro="将本申请转交平台上的另一机关答复：案件连同办理记录移交该机关，收到申请日期和答复期限不变；"
                 "同时出具《分办告知书》告知申请人。分办后本机关只保留分办记录和告知书。"),
        Operation("start", intro="确认开始办理本申请。尚未分派承办人的，由您承办。"),
        Operation("request_correction", (
            In("notice_date", "date", "告知日期", default=TODAY, today=True,
              help="须在收到申请之日起7个工作日内（第三十条）", api_note="不早于收到申请日期"),
            In("items", "text", "需要补正的事项", required=True, max_len=2000, widget="textarea",
              help="一次性告知全部需要补正的事项"),
            In("guidance", "text", "指导和释明", max_len=2000, widget="textarea"),
            In("period_end", "date", "补正期限", default="告知日期后15个工作日",
              help="留空则为告知日期后第15个工作日", api_note="须晚于告知日期"),
        )),
        Operation("receive_correction", (
            In("received_on", "date", "收到补正材料日期", default=TODAY, today=True,
              help="答复期限自收到补正材料之日起重新计算（第三十条）"),
            In("note", "text", "补正内容说明", max_len=2000, widget="textarea"),
        )),
        Operation("correction_lapsed", intro="申请人在补正期限内未补正，视为放弃申请，终止办理（第三十条）。"),
        Operation("consult", (
            In("kind", "choice", "征求对象类型", required=True, choices=CONSULT_TARGETS),
            In("to_agency_id", "integer", "平台上的机关", **ID, source="agencies", show_if="kind=agency",
              help="对方是本平台上的机关的，选择后征求意见书进入该机关的工作台，由其答复",
              api_note="平台上其他机关的 id；填写后 party 不必填写"),
            In("party", "text", "征求意见对象", max_len=200,
              help="第三方或平台外机关的名称；已选择平台上的机关的，不必填写"),
            In("matter", "text", "征求意见的信息及理由", required=True, max_len=2000, widget="textarea"),
            In("sent_on", "date", "发出日期", default=TODAY, today=True),
            In("received_on", "date", "对方收到日期", default="发出日期",
              help="留空则与发出日期相同；对方答复期限为收到后15个工作日"),
        )),
        Operation("consultation_reply", (
            In("step_id", "integer", "征求意见", required=True, **ID, source="consult_steps",
              api_note="案件 steps 中征求意见环节的 id"),
            In("result", "choice", "征求意见结果", required=True, choices=CONSULTATION_RESULTS,
              help="“逾期未答复”只能在答复期限届满后登记"),
            In("answered_on", "date", "收到答复日期", default=TODAY, today=True, show_if="result=agree,object",
              api_note="result 为 no_answer 时不适用"),
            In("opinion", "text", "意见内容", max_len=2000, widget="textarea"),
            In("public_interest_override", "boolean", "公共利益裁量",
              form_label="不公开可能对公共利益造成重大影响，决定予以公开", show_if="result=object",
              help="仅适用于第三方不同意公开的情形（第三十二条）"),
            In("override_reason", "text", "公共利益理由", max_len=2000, widget="textarea", show_if="result=object",
              api_note="public_interest_override 为 true 时必填"),
        )),
        Operation("request_reasons", (
            In("sent_on", "date", "发出日期", default=TODAY, today=True),
            In("matter", "text", "要求说明的事项", required=True, max_len=2000, widget="textarea"),
            In("due_on", "date", "说明理由期限", default="发出日期后15个工作日",
              help="留空则为发出日期后第15个工作日", api_note="须晚于发出日期"),
        )),
        Operation("reasons_reply", (
            In("result", "choice", "审查结论", required=True, choices=REASONS_RESULTS),
            In("answered_on", "date", "收到说明日期", default=TODAY, today=True),
            In("note", "text", "说明", max_len=2000, widget="textarea"),
            In("new_due", "date", "合理的延迟答复期限", show_if="result=reasonable",
              help="仅在理由合理、需要延迟答复时填写（第三十五条）"),
        )),
        Operation("fee_notice", (
            In("method", "choice", "收费方式", required=True, choices=FEE_METHODS),
            In("nth_in_month", "integer", "本月累计申请件数", minimum=1, maximum=10000, show_if="method=per_request",
              help="按件计收：申请人本自然月内的第几件申请（10件以内免费）", api_note="method 为 per_request 时必填"),
            In("pages", "integer", "页数", minimum=1, maximum=1000000, show_if="method=per_volume",
              help="按量计收：30页以内免费", api_note="method 为 per_volume 时必填"),
        ), intro="收费通知书须经法制审核后出具；出具之日起暂停计时，缴费期限为出具后20个工作日。"),
        Operation("fee_paid", (
            In("paid_on", "date", "缴费日期", default=TODAY, today=True),
            In("receipt_no", "text", "票据号码", required=True, max_len=100),
        )),
        Operation("fee_lapsed", intro="申请人逾期未缴纳信息处理费，视为放弃申请，终止办理。"),
        Operation("cohandle", (
            In("to_agency_id", "integer", "平台上的协办机关", **ID, source="agencies",
              help="协办单位是本平台上的机关的，选择后协办函进入该机关的工作台，由其答复",
              api_note="平台上其他机关的 id；填写后 party 不必填写"),
            In("party", "text", "协办单位", max_len=200,
              help="平台外的协办单位名称；已选择平台上的机关的，不必填写"),
            In("matter", "text", "协办事项", required=True, max_len=2000, widget="textarea"),
            In("sent_on", "date", "发出日期", default=TODAY, today=True, help="协办单位回复期限为5个工作日"),
        )),
        Operation("cohandle_reply", (
            In("step_id", "integer", "协办", required=True, **ID, source="cohandle_steps",
              api_note="案件 steps 中协办环节的 id"),
            In("answered_on", "date", "回复日期", default=TODAY, today=True),
            In("note", "text", "回复内容", required=True, max_len=2000, widget="textarea"),
        )),
        Operation("request_extension", (
            In("days", "integer", "延长工作日数", required=True, minimum=1, maximum=20,
              help="最长不超过20个工作日，只能延长一次，且须在答复期限届满前（第三十三条）"),
            In("reason", "text", "延期理由", required=True, max_len=2000, widget="textarea"),
        ), intro="延期须经机关负责人同意（第三十三条）。申请提交后进入负责人的工作台，由负责人批准或不批准。"),
        Operation("extend", (
            In("days", "integer", "延长工作日数", required=True, minimum=1, maximum=20,
              help="最长不超过20个工作日，只能延长一次，且须在答复期限届满前（第三十三条）"),
            In("reason", "text", "延期理由", required=True, max_len=2000, widget="textarea", help="延期须告知申请人"),
        )),
        Operation("decline_extension", (
            In("comments", "text", "不批准的意见", required=True, guard_required=True, max_len=2000,
              widget="textarea"),
        ), intro="不批准承办人的延期申请；案件按原答复期限办理。"),
        Operation("save_draft", _draft_inputs(), intro="每次保存形成一个新的稿件版本；已审核的版本不会被修改。"),
        Operation("submit_draft", intro="将下列答复稿提交法制审核。", shows_draft=True),
        Operation("approve", (
            In("secrecy_reviewed", "boolean", "保密审查", required=True, guard_required=True,
              form_label="已完成保密审查，未发现涉密内容", help="先审查、后公开（第十七条）",
              api_note="须为 true"),
            In("secrecy_note", "text", "保密审查意见", max_len=2000, widget="textarea"),
            In("draft_hash", "text", "稿件版本", max_len=2000, widget="hidden",
              api_note="审核时看到的 current_draft.content_hash；稿件已被修改时拒绝"),
        ), intro="请审核下列答复稿。审核通过的是这一版本；稿件此后如有修改，须重新审核。", shows_draft=True),
        Operation("return_draft", (
            In("comments", "text", "退回意见", required=True, guard_required=True, max_len=2000, widget="textarea"),
        ), intro="将下列答复稿退回承办人修改。", shows_draft=True),
        Operation("sign_off", (
            In("note", "text", "签发意见", max_len=2000, widget="textarea"),
        ), intro="签发下列经法制审核通过的答复稿。", shows_draft=True),
        Operation("reject_signoff", (
            In("comments", "text", "退回意见", required=True, guard_required=True, max_len=2000, widget="textarea"),
        ), intro="将下列答复稿退回承办人。", shows_draft=True),
        Operation("issue", (
            In("issued_on", "date", "答复日期", default=TODAY, today=True),
        ), intro="出具下列已签发的答复。", shows_draft=True),
        Operation("deliver", (
            In("method", "choice", "送达方式", required=True, choices=DELIVERY_METHODS),
            In("delivered_on", "date", "送达日期", default=TODAY, today=True, api_note="不早于答复日期"),
            In("proof", "text", "送达凭证（邮件号、回证编号或平台记录）", required=True, max_len=300,
              form_label="送达凭证", help="邮件号、送达回证编号或平台记录"),
            In("recipient", "text", "签收人", max_len=200, default="申请人姓名或名称"),
            In("notes", "text", "备注", max_len=2000, widget="textarea"),
        )),
        Operation("withdraw", (
            In("withdrawn_on", "date", "撤回日期", default=TODAY, today=True),
            In("note", "text", "撤回方式及说明", required=True, max_len=2000, widget="textarea",
              help="如：申请人书面撤回申请，撤回申请书已存卷"),
        )),
        Operation("archive", (
            In("archive_number", "text", "档号", required=True, max_len=60,
              help="已按本机关的档号规则（机关设置，默认“全宗号-年度-保管期限-件号”）建议下一个档号，可修改"),
            In("retention", "choice", "保管期限", required=True, choices=RETENTIONS),
        )),
        Operation("reopen", (
            In("reason", "text", "撤销归档理由", required=True, guard_required=True, max_len=2000, widget="textarea",
              api_note="案件回到归档前的状态（已送达或已终止）"),
        ), intro="已归档的案卷只读。撤销归档后，案件回到归档前的状态，可补充材料后重新归档；撤销将记入办理记录。",
            target_note="回到归档前的状态（已送达或已终止）"),
    )
    table = {op.name: op for op in ops}
    assert list(table) == list(ACTIONS), "every workflow action is declared once, in ACTIONS order"
    return table


@lru_cache(maxsize=1)
def operations() -> dict[str, Operation]:
    """Every step, in the order of ACTIONS (loaded lazily: the draft inputs read the letter catalogue)."""
    return _declare()


def operation(name: str) -> Operation:
    return operations()[name]
