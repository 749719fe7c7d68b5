"""The API's input tables: one entry per parameter the services read.

Everything that describes input is derived from here: JSON type checks before the services are
called, the OpenAPI request schemas, and the parameter reference in docs/api.md. Tests compare
these tables with app.domain.workflow.ACTIONS and with what the services' handlers actually read,
so an action or a parameter cannot be added on one side only.

The services (app/services/params.py) parse strings and scalars; this layer makes sure only the
JSON types they expect reach them, so a list, an object, a float or a null never turns into a 500.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

from ..domain.intake import APPLICANT_TYPES, CHANNELS
from ..domain.outcomes import OUTCOMES
from ..domain.passwords import MAX_LENGTH as PASSWORD_MAX, RULE_TEXT as PASSWORD_RULES
from ..domain.workflow import ACTIONS, AGENCY_ROLES, ROLES, STATES
from ..services.audit import SECURITY_ACTIONS, SECURITY_CATEGORIES
from ..services.operations import REGISTRATION, operations
from ..services.errors import ServiceError
from ..services.time import today as current_today

# Database ids and counters are 32-bit on PostgreSQL; a larger number is refused here, not by the driver.
INT_MIN, INT_MAX = -(2 ** 31), 2 ** 31 - 1


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # text | date | integer | boolean | choice | choices | days | items
    label: str  # the Chinese label used in messages
    required: bool = False
    choices: Mapping[str, str] | None = None
    max_len: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    default: str = ""  # what the service uses when the field is omitted (documentation)
    note: str = ""  # extra rule, in Chinese (documentation)
    item_keys: tuple[str, ...] = ()  # items: the keys of each object

    def describe(self) -> str:
        parts = [self.label]
        if self.choices:
            parts.append("取值：" + "；".join(f"{k}={v}" if v else k for k, v in self.choices.items()))
        if self.max_len:
            parts.append(f"最长{self.max_len}字")
        if self.kind == "integer" and self.maximum is not None and self.maximum != INT_MAX:
            parts.append(f"范围{self.minimum}至{self.maximum}")
        if self.default:
            parts.append("省略时：" + self.default)
        if self.note:
            parts.append(self.note)
        return "。".join(parts)


KINDS = ("text", "date", "integer", "boolean", "choice", "choices", "days", "items")


def _p(name: str, kind: str, label: str, **kw: Any) -> Param:
    assert kind in KINDS, kind
    return Param(name, kind, label, **kw)


ID_RANGE = {"minimum": 1, "maximum": INT_MAX}

# ---------------------------------------------------------------- POST /cases and POST /cases/{id}/actions/{action}


def _param(i) -> Param:
    """An Operation's input as an API parameter (app/services/operations.py is the declaration)."""
    return _p(i.name, i.kind, i.label, required=i.required, choices=i.choices, max_len=i.max_len,
              minimum=i.minimum, maximum=i.maximum, default=i.default, note=i.note, item_keys=tuple(
                  k for k, _ in i.item_fields))


# Registration is declared with the workflow steps (app/services/operations.py).
INTAKE_PARAMS: tuple[Param, ...] = tuple(_param(i) for i in REGISTRATION.inputs)

ACTION_PARAMS: dict[str, tuple[Param, ...]] = {
    name: tuple(_param(i) for i in op.inputs) for name, op in operations().items()}


def target_text(action: str) -> str:
    a = ACTIONS[action]
    if a.target:
        return STATES[a.target]
    return operations()[action].target_note or "状态不变"


# Required by a workflow guard rather than by the handler's parsing (the message comes from the guard).
GUARD_REQUIRED = frozenset((name, i.name) for name, op in operations().items() for i in op.inputs
                           if i.guard_required)

VERSION_PARAM = _p("version", "integer", "版本号", **ID_RANGE,
                   note="案件的 version；给出时按乐观锁校验，案件已被他人修改则返回 409")

# ---------------------------------------------------------------- query strings and other bodies

LIST_FILTERS: tuple[Param, ...] = (
    _p("state", "choice", "状态", choices=STATES),
    _p("channel", "choice", "申请方式", choices=CHANNELS),
    _p("applicant_type", "choice", "申请人类型", choices=APPLICANT_TYPES),
    _p("received_from", "date", "收到日期起"),
    _p("received_to", "date", "收到日期止"),
    _p("q", "text", "关键词", max_len=100, note="匹配案件编号、原编号、已出具文书的文号（答复书、告知书等）、历史台账的答复文号、所需信息文号、申请人或代理人的证件号码、联系电话（可带空格、横线或 +86）、申请人或申请内容描述（与台账检索相同；不区分英文大小写）"),
    _p("handler_id", "integer", "承办人", **ID_RANGE),
    _p("triage", "boolean", "仅历史导入待分拣", note="true 时只列出尚未分拣的历史导入案件"),
    _p("page", "integer", "页码", minimum=1, maximum=100000, default="1"),
    _p("per_page", "integer", "每页条数", minimum=1, maximum=200, default="50"),
)

HINT_PARAMS: tuple[Param, ...] = (
    # The intake inputs the hints read, as declared for registration (all optional here).
    *(_p(i.name, "text", i.label, max_len=i.max_len) for i in map(
        REGISTRATION.input, ("applicant_name", "id_number", "contact_phone", "description", "doc_number"))),
    _p("exclude_id", "integer", "排除的案件", **ID_RANGE, note="查看已登记案件时排除其本身"),
)

SECURITY_LOG_PARAMS: tuple[Param, ...] = (
    _p("category", "choice", "类别", choices=SECURITY_CATEGORIES),
    _p("action", "choice", "事件", choices={a: label for a, (_, label) in SECURITY_ACTIONS.items()},
       note="与 category 同时给出时须属于该类别"),
    _p("user", "text", "用户名", max_len=64, note="操作人或事件涉及的账号"),
    _p("date_from", "date", "日期起", note="本地日期（机关所在时区），含当日"),
    _p("date_to", "date", "日期止", note="本地日期，含当日；不能早于日期起"),
    _p("q", "text", "关键词", max_len=100, note="匹配事件详情"),
    _p("page", "integer", "页码", minimum=1, maximum=1000000, default="1"),
    _p("per_page", "integer", "每页条数", minimum=10, maximum=200, default="50"),
)

def _ledger_export_params() -> tuple[Param, ...]:
    from ..reports.ledger import CLOCK_FILTERS, DIRECTIONS, SORTS, STATE_GROUPS

    return (
        _p("state", "choice", "状态", choices={**STATES, **STATE_GROUPS}),
        _p("received_from", "date", "收到日期起"),
        _p("received_to", "date", "收到日期止"),
        _p("closed_from", "date", "办结日期起"),
        _p("closed_to", "date", "办结日期止"),
        _p("channel", "choice", "申请方式", choices=CHANNELS),
        _p("applicant_type", "choice", "申请人类型", choices=APPLICANT_TYPES),
        _p("outcome", "choice", "办理结果", choices={o.code: o.label for o in OUTCOMES}),
        _p("handler_id", "text", "承办人", max_len=20, note="承办人的用户 id，或 none（未分配）"),
        _p("clock", "choice", "计时状态", choices=CLOCK_FILTERS),
        _p("q", "text", "关键词", max_len=100, note="与台账检索相同：案件编号、文号、证件号码、联系电话、申请人或申请内容描述"),
        _p("imported", "choice", "数据来源", choices={"1": "历史导入", "0": "系统登记"}),
        _p("report_year", "integer", "年报年度", minimum=2000, maximum=2100, note="与 report_cell 一起：年报栏目的案件"),
        _p("report_cell", "text", "年报栏目", max_len=60),
        _p("ids", "text", "案件编号列表", max_len=20000, note="内部编号，用逗号分隔"),
        _p("sort", "choice", "排序", choices=SORTS, default="received_on"),
        _p("dir", "choice", "顺序", choices=DIRECTIONS, default="desc"),
    )


LEDGER_EXPORT_PARAMS: tuple[Param, ...] = _ledger_export_params()

IMPORT_PARAMS: tuple[Param, ...] = (
    _p("dry_run", "boolean", "只预览", default="false",
       note="true 时只校验并返回每一行将如何处理（新建、拒绝、更新），不写入任何数据"),
    _p("on_existing", "choice", "已导入过的行", default="refuse",
       choices={"refuse": "拒绝并逐行说明", "update": "更新该案件（仅限导入后无人办理的历史案件）"}),
)

TRIAGE_PARAMS: tuple[Param, ...] = (
    _p("decision", "choice", "分拣结果", required=True, choices={"queue": "转入办理队列", "close": "按已办结登记"}),
    _p("handler_id", "integer", "承办人", **ID_RANGE, note="转入办理队列时可同时分派"),
    _p("closed_on", "date", "办结日期", note="按已办结登记时必填，不早于收到申请日期"),
    _p("outcome", "choice", "办理结果", choices={o.code: o.label for o in OUTCOMES}, note="按已办结登记时必填"),
    _p("note", "text", "说明", max_len=500),
)

TOKEN_PARAMS: tuple[Param, ...] = (
    _p("username", "text", "用户名", required=True, max_len=64),
    _p("password", "text", "密码", required=True, max_len=200),
)

REISSUE_PARAMS: tuple[Param, ...] = (
    _p("reason", "text", "重新出具的理由", required=True, max_len=1000),
    _p("letter_id", "integer", "被替代的文书", **ID_RANGE,
       note="页面或清单上看到的现行文书的 id；给出时，该文书已被他人重新出具则返回 409"),
)

PASSWORD_PARAMS: tuple[Param, ...] = (
    *TOKEN_PARAMS,
    _p("new_password", "text", "新密码", required=True, max_len=PASSWORD_MAX, note=PASSWORD_RULES),
)

ROLES_PARAM = _p("roles", "choices", "角色", required=True, choices=ROLES, note="至少一个；整组替换")

USER_CREATE_PARAMS: tuple[Param, ...] = (
    _p("username", "text", "用户名", required=True, max_len=64, note="3至64位字母、数字、下划线、点或连字符"),
    _p("name", "text", "姓名", required=True, max_len=100),
    _p("password", "text", "初始密码", required=True, max_len=PASSWORD_MAX,
       note=PASSWORD_RULES + "；用户首次登录时须修改"),
    ROLES_PARAM,
)

ROLES_PARAMS: tuple[Param, ...] = (ROLES_PARAM,)

CALENDAR_PARAMS: tuple[Param, ...] = (
    _p("holidays", "days", "放假日期", required=True,
       note="ISO 日期的数组，或逗号/换行分隔的文本；区间写作 2027-02-05~2027-02-11；周末放假日自动忽略"),
    _p("makeup", "days", "调休上班日期", required=True, note="同上；只能是周六或周日"),
    _p("source", "text", "依据（通知文号）", max_len=300),
)

CALENDAR_REQUEST_PARAMS: tuple[Param, ...] = (
    _p("year", "integer", "年度", required=True, minimum=2000, maximum=2100),
    _p("dates", "text", "涉及的日期及问题", required=True, max_len=2000),
    _p("note", "text", "说明", max_len=2000),
)

CALENDAR_DECISION_PARAMS: tuple[Param, ...] = (
    _p("status", "choice", "处理结果", required=True, choices={"done": "已修改", "declined": "不予修改"}),
    _p("note", "text", "处理说明", max_len=2000, note="不予修改的须说明理由"),
)

AGENCY_SETTINGS_PARAMS: tuple[Param, ...] = (
    _p("separation_relaxed", "boolean", "放宽职责分离",
       note="true：一人办公室，同一人可起草、审核、签发同一稿件（每次记入办理记录）"),
)

# ---------------------------------------------------------------- type checks


def _bad(message: str, name: str) -> ServiceError:
    return ServiceError(message, name)


def _check_text(value: str, p: Param) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _bad(f"{p.label}包含无效字符", p.name) from None
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise _bad(f"{p.label}包含控制字符", p.name)


# Dates a request body may carry: a few years either side of today. The services accept 2000–2100, but
# a clock spanning decades overflows Case.calendar_version (String(100)) on PostgreSQL, and no real
# receipt, notice or deadline is that far off.
YEARS_BACK, YEARS_AHEAD = 5, 3


def date_window() -> tuple[date, date]:
    today = current_today()
    return date(today.year - YEARS_BACK, 1, 1), date(today.year + YEARS_AHEAD, 12, 31)


def _check_date_window(value: str, p: Param) -> None:
    try:
        d = date.fromisoformat(value.strip())
    except ValueError:
        return  # not a date at all: the service says so, with the expected format
    lo, hi = date_window()
    if not lo <= d <= hi:
        raise _bad(f"{p.label}应在{lo.isoformat()}至{hi.isoformat()}之间", p.name)


def _check_range(n: int, p: Param) -> None:
    lo = INT_MIN if p.minimum is None else p.minimum
    hi = INT_MAX if p.maximum is None else p.maximum
    if not lo <= n <= hi:
        raise _bad(f"{p.label}应在{lo}至{hi}之间", p.name)


def check_json_value(p: Param, value: Any) -> None:
    """Refuse a JSON value of the wrong type with a Chinese message naming the field."""
    if value is None:
        raise _bad(f"{p.label}不能为 null；不填写请省略该字段", p.name)
    if p.kind == "boolean":
        if not isinstance(value, bool):
            raise _bad(f"{p.label}应为 true 或 false", p.name)
        return
    if p.kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(f"{p.label}应为整数", p.name)
        _check_range(value, p)
        return
    if p.kind == "choices":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _bad(f"{p.label}应为字符串数组，取值：{'、'.join(p.choices or {})}", p.name)
        for v in value:
            _check_text(v, p)
        return
    if p.kind == "items":
        # Objects with the declared keys, or the form's text (one item per line).
        if isinstance(value, str):
            _check_text(value, p)
            return
        keys = "、".join(p.item_keys)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise _bad(f"{p.label}应为对象数组（每项的键：{keys}）或按行填写的文字", p.name)
        for item in value:
            for k, v in item.items():
                if k not in p.item_keys:
                    raise _bad(f"{p.label}的条目只能有以下键：{keys}", p.name)
                if not isinstance(v, str):
                    raise _bad(f"{p.label}的条目的各项应为文字", p.name)
                _check_text(v, p)
        return
    if p.kind == "days":
        if isinstance(value, list):
            for item in value:
                if not isinstance(item, str):
                    raise _bad(f"{p.label}应为日期字符串的数组或文本", p.name)
                _check_text(item, p)
            return
        if not isinstance(value, str):
            raise _bad(f"{p.label}应为日期字符串的数组或文本", p.name)
        _check_text(value, p)
        return
    if p.kind == "date" and isinstance(value, str):
        _check_text(value, p)
        _check_date_window(value, p)
        return
    if not isinstance(value, str):
        if p.kind == "date":
            raise _bad(f"{p.label}应为 YYYY-MM-DD 格式的日期字符串", p.name)
        if p.kind == "choice":
            raise _bad(f"{p.label}应为以下取值之一：{'、'.join(p.choices or {})}", p.name)
        raise _bad(f"{p.label}应为文字", p.name)
    _check_text(value, p)


def check_body(body: Mapping[str, Any], params: tuple[Param, ...], extra: tuple[Param, ...] = ()) -> None:
    """Every key known, every value of its JSON type (the services check content and presence)."""
    known = {p.name: p for p in (*params, *extra)}
    for name in body:
        if name not in known:
            raise _bad(f"不支持的字段：{name}", name)
    for name, value in body.items():
        check_json_value(known[name], value)


def check_query(args, params: tuple[Param, ...]) -> dict[str, str]:
    """Query strings are text: known names, each once, no control characters, integers that fit."""
    known = {p.name: p for p in params}
    out: dict[str, str] = {}
    for name in args:
        if name not in known:
            raise _bad(f"不支持的查询参数：{name}", name)
        values = args.getlist(name)
        if len(values) > 1:
            raise _bad(f"查询参数 {name} 只能出现一次", name)
        p, value = known[name], values[0]
        _check_text(value, p)
        if p.kind == "integer" and value.strip():
            try:
                n = int(value.strip())
            except ValueError:
                raise _bad(f"{p.label}应为整数", name) from None
            _check_range(n, p)
        if p.max_len and len(value) > p.max_len:
            raise _bad(f"{p.label}不能超过{p.max_len}字", name)
        out[name] = value
    return out
