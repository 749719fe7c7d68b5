"""The OpenAPI 3.1 document, generated from the route table (core.ENDPOINTS) and the input tables
(specs.py); the response schemas below are checked against real responses by tests/api."""
from __future__ import annotations

import re
from typing import Any

from ..domain.clock import STATUS_LABELS
from ..domain.outcomes import OUTCOME_BY_CODE
from ..domain.workflow import ACTIONS, ROLES, STATES
from ..models.case import DELIVERY_METHODS, STEP_KINDS
from ..services.audit import SECURITY_ACTIONS, SECURITY_CATEGORIES
from . import bp
from .core import ENDPOINTS, PUBLIC, Endpoint
from .specs import (ACTION_PARAMS, AGENCY_SETTINGS_PARAMS, CALENDAR_DECISION_PARAMS, CALENDAR_PARAMS,
                    CALENDAR_REQUEST_PARAMS, HINT_PARAMS, INTAKE_PARAMS, PASSWORD_PARAMS, REISSUE_PARAMS, ROLES_PARAMS,
                    TOKEN_PARAMS, TRIAGE_PARAMS, USER_CREATE_PARAMS, VERSION_PARAM, YEARS_AHEAD, YEARS_BACK, Param,
                    target_text)

REF = "#/components/schemas/"
IMPORT_FIELDS = {
    "imported": {"type": "boolean", "description": "从历史台账导入"},
    "original_number": {"type": "string", "description": "原台账中的编号（导入时填写的原编号）"},
    "needs_triage": {"type": "boolean", "description": "历史导入的未办结案件尚未分拣：不在办理队列中，不能办理操作"},
}


def ref(name: str) -> dict:
    return {"$ref": REF + name}


def nullable(s: dict) -> dict:
    if "$ref" in s:
        return {"anyOf": [s, {"type": "null"}]}
    out = dict(s)
    out["type"] = [s["type"], "null"]
    if "enum" in s:
        out["enum"] = [*s["enum"], None]
    return out


def obj(props: dict[str, dict], description: str = "") -> dict:
    """A closed object whose every property is always present (nullable where it may be null)."""
    out = {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}
    if description:
        out["description"] = description
    return out


def arr(items: dict) -> dict:
    return {"type": "array", "items": items}


STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
DATE = {"type": "string", "format": "date"}
STAMP = {"type": "string", "description": "UTC 时间，YYYY-MM-DDTHH:MM:SS"}
FREE = {"type": "object", "description": "随环节或操作而不同的附加数据"}


def enum(values, description: str = "") -> dict:
    out: dict[str, Any] = {"type": "string", "enum": list(values)}
    if description:
        out["description"] = description
    return out


# ---------------------------------------------------------------- request schemas from the tables

def param_schema(p: Param) -> dict:
    if p.kind == "text":
        s: dict[str, Any] = {"type": "string"}
        if p.max_len:
            s["maxLength"] = p.max_len
    elif p.kind == "date":
        s = dict(DATE)
    elif p.kind == "integer":
        s = {"type": "integer"}
        if p.minimum is not None:
            s["minimum"] = p.minimum
        if p.maximum is not None:
            s["maximum"] = p.maximum
    elif p.kind == "boolean":
        s = {"type": "boolean"}
    elif p.kind == "choice":
        s = {"type": "string", "enum": list(p.choices or {})}
    elif p.kind == "choices":
        s = arr({"type": "string", "enum": list(p.choices or {})})
    elif p.kind == "days":
        s = {"oneOf": [arr({"type": "string"}), {"type": "string"}]}
    elif p.kind == "items":
        item = {"type": "object", "additionalProperties": False,
                "properties": {k: {"type": "string"} for k in p.item_keys}}
        s = {"oneOf": [arr(item), {"type": "string"}]}
    else:  # pragma: no cover - specs._p refuses other kinds
        raise ValueError(p.kind)
    s["description"] = p.describe()
    return s


def body_schema(params: tuple[Param, ...], extra: tuple[Param, ...] = (), description: str = "") -> dict:
    all_params = (*params, *extra)
    out: dict[str, Any] = {
        "type": "object",
        "properties": {p.name: param_schema(p) for p in all_params},
        "additionalProperties": False,
    }
    required = [p.name for p in all_params if p.required]
    if required:
        out["required"] = required
    if description:
        out["description"] = description
    return out


def action_schema_name(action: str) -> str:
    return "Action_" + action


def action_description(name: str) -> str:
    a = ACTIONS[name]
    roles = "、".join(ROLES[r] for r in sorted(a.roles))
    sources = "、".join(STATES[s] for s in STATES if s in a.sources)
    target = target_text(name)
    return f"{a.label}。角色：{roles}。适用状态：{sources}。执行后：{target}。"


# ---------------------------------------------------------------- response schemas

USER_REF = ref("UserRef")
OUTCOME_CODES = list(OUTCOME_BY_CODE)


def response_schemas() -> dict[str, dict]:
    s: dict[str, dict] = {}
    error = obj({
        "message": {"type": "string", "description": "中文错误说明"},
        "field": nullable({"type": "string", "description": "出错的字段名"}),
    })
    # Only a refused ledger import lists its rows; every other error has message and field alone.
    error["properties"]["rows"] = arr(obj({"row": INT, "column": STR, "message": STR}))
    s["Error"] = obj({"error": error}, "所有 4xx/5xx 响应的格式（导入被拒时 rows 列出每个被拒绝的行）")
    s["UserRef"] = obj({"id": INT, "username": STR, "name": STR})
    s["User"] = obj({
        "id": INT, "username": STR, "name": STR, "roles": arr(enum(ROLES)), "role_labels": STR,
        "agency": obj({"id": INT, "code": STR, "name": STR}),
    })
    s["UserAccount"] = obj({
        "id": INT, "username": STR, "name": STR, "roles": arr(enum(ROLES)), "role_labels": STR,
        "active": {"type": "boolean", "description": "false：已停用，不能登录，令牌无效"},
        "locked_until": nullable({**STAMP, "description": "连续登录失败后的锁定期限（UTC）"}),
        "must_change_password": {"type": "boolean", "description": "初始密码或管理员重置后，下次登录须修改"},
        "password_expired": {"type": "boolean", "description": "密码已超过有效期，下次登录须修改"},
        "password_changed_at": nullable(STAMP),
        "has_token": BOOL,
    }, "本机关的一个账号（管理员视图）")
    s["UserList"] = obj({"items": arr(ref("UserAccount"))})
    s["PasswordReset"] = obj({
        "user": ref("UserAccount"),
        "one_time_password": {"type": "string", "description": "只在此处出现一次；用户下次登录须修改"},
    })
    s["TokenResponse"] = obj({"token": {"type": "string", "description": "只在此处出现一次；服务器只保存其散列"},
                              "token_type": enum(["Bearer"]), "user": ref("User")})
    s["Clock"] = obj({
        "status": enum(STATUS_LABELS, "running 正常；due_soon 即将到期；overdue 已超期；paused 暂停计时；stopped 停止计时"),
        "status_label": STR,
        "due": nullable(DATE), "working_days_left": nullable(INT), "total_working_days": INT,
        "provisional": {"type": "boolean", "description": "涉及尚未录入工作日历的年份，期限为暂算"},
        "calendar_version": STR, "paused_reasons": arr(STR), "stopped_reason": nullable(STR),
        "paused_until": nullable({**DATE, "description": "暂停计时至该日（对方期限届满日）；期间答复期限按对方用满期限计算"}),
    }, "答复期限（services.clocks.case_clock）：期限与今天无关，状态按今天计算")
    s["Step"] = obj({
        "id": INT, "kind": enum(STEP_KINDS), "kind_label": STR, "party": STR,
        "started_on": DATE, "received_on": nullable(DATE), "due_on": nullable(DATE),
        "answered_on": nullable(DATE), "result": nullable(STR), "result_label": nullable(STR),
        "open": BOOL, "details": FREE,
        "due_provisional": {**BOOL, "description": "期限涉及尚未录入的日历年度，录入后重新计算"},
        "due_calendar_version": STR,
        "due_printed_in": nullable({**STR, "description": "已载明该期限的文书编号；日历修订后仍以文书所载日期为准"}),
    }, "补正、征求意见、说明理由、收费、协办等环节")
    s["Outcome"] = obj({"code": enum(OUTCOME_CODES), "label": STR, "row": STR, "row_label": STR, "basis": STR},
                       "办理结果及其在年报表三中的行次和法律依据")
    s["Draft"] = obj({
        "id": INT, "revision": INT, "outcome": ref("Outcome"),
        "fields": {"type": "object", "description": "键与 save_draft 的参数相同；不予公开的部分（withheld）为对象数组",
                   "additionalProperties": {"oneOf": [
                       {"type": "string"},
                       arr({"type": "object", "additionalProperties": {"type": "string"}})]}},
        "content_hash": STR, "created_by": nullable(USER_REF), "created_at": STAMP,
        "approved": {"type": "boolean", "description": "法制审核通过的正是这一内容"},
        "approved_by": nullable(USER_REF), "approved_at": nullable(STAMP), "approved_hash": nullable(STR),
        "secrecy_note": STR,
        "signed": {"type": "boolean", "description": "签发的正是这一内容"},
        "signed_by": nullable(USER_REF), "signed_at": nullable(STAMP), "signed_hash": nullable(STR),
        "current": BOOL, "issued": BOOL,
    }, "答复稿的一个不可修改的版本")
    s["Delivery"] = obj({"id": INT, "method": enum(DELIVERY_METHODS), "method_label": STR, "delivered_on": DATE,
                         "proof": STR, "recipient": STR, "notes": STR})
    s["Event"] = obj({"id": INT, "at": STAMP, "actor": nullable(STR), "action": STR, "label": STR,
                      "from_state": nullable(STR), "to_state": nullable(STR), "data": FREE},
                     "审计记录（只增不改）")
    s["AvailableAction"] = obj({"name": enum(ACTIONS), "label": STR, "target": nullable(enum(STATES)),
                                "target_label": nullable(STR)})
    s["Case"] = obj({
        "id": INT, "number": STR, "state": enum(STATES), "state_label": STR,
        "version": {"type": "integer", "description": "乐观锁版本号；执行操作时可作为 version 传回"},
        **IMPORT_FIELDS,
        "channel": STR, "channel_label": STR, "arrived_on": DATE, "confirmed_on": nullable(DATE),
        "received_on": {**DATE, "description": "第三十一条的收到申请之日，各期限由此起算"},
        "receipt_basis": STR, "logged_at": STAMP,
        "applicant": obj({
            "type": STR, "type_label": STR, "name": STR, "id_type": STR, "id_type_label": STR, "id_number": STR,
            "contact_phone": STR, "contact_address": STR, "contact_email": STR, "agent_name": STR,
            "agent_id_number": STR, "power_of_attorney": STR,
        }),
        "request": obj({"description": STR, "doc_number": STR, "form": STR, "form_label": STR, "route": STR,
                        "route_label": STR}),
        "handler": nullable(USER_REF), "created_by": nullable(USER_REF),
        "clock": ref("Clock"),
        "reply_due": nullable({**DATE, "description": "最近一次计算的答复期限；办结后保留答复时依据的期限"}),
        "extension_days": INT, "override_due": nullable(DATE),
        "correction_notice_due": {**DATE, "description": "补正告知的最后日期（收到申请后7个工作日）"},
        "steps": arr(ref("Step")), "drafts": arr(ref("Draft")), "current_draft": nullable(ref("Draft")),
        "outcome": nullable(ref("Outcome")), "closed_on": nullable(DATE),
        "deliveries": arr(ref("Delivery")),
        "archive_number": nullable(STR), "retention": nullable(STR), "archived_on": nullable(DATE),
        "available_actions": {**arr(ref("AvailableAction")),
                              "description": "当前用户按角色和状态可执行的操作（提交时仍会校验法定条件）"},
        "events": arr(ref("Event")),
    }, "一件政府信息公开申请的完整表示")
    s["CaseSummary"] = obj({
        "id": INT, "number": STR, "state": enum(STATES), "state_label": STR, "version": INT,
        "channel": STR, "channel_label": STR, "received_on": DATE, "applicant_name": STR, "applicant_type": STR,
        "description": STR, "doc_number": STR, "handler": nullable(USER_REF), "clock": ref("Clock"),
        "reply_due": nullable(DATE), "outcome": nullable(ref("Outcome")), "closed_on": nullable(DATE),
        **IMPORT_FIELDS,
    })
    s["DigestItem"] = obj({
        "case_id": INT, "case_number": STR, "kind": enum({"reply": "答复期限", "step": "环节期限"}),
        "step": {**STR, "description": "案件所处环节（答复期限）或期限所属的环节（补正、征求意见、收费……）"},
        "deadline": STR, "due": DATE, "provisional": BOOL, "status": enum({"due_soon": "即将到期", "overdue": "已超期"}),
        "days_left": nullable({**INT, "description": "剩余工作日；已超期为负数"}),
        "overdue_days": nullable({**INT, "description": "已超期的工作日数"}),
        "why": {**STR, "description": "为何提醒此人：本人承办、本机关案件、待法制审核"},
    })
    s["Digest"] = obj({"day": DATE, "generated_at": nullable(STAMP), "stored": BOOL, "total": INT,
                       "items": arr(ref("DigestItem"))}, "一名用户某日的到期提醒")
    s["CaseList"] = obj({"items": arr(ref("CaseSummary")), "total": INT, "page": INT, "per_page": INT})
    s["EventList"] = obj({"items": arr(ref("Event"))})
    s["SecurityEvent"] = obj({
        "id": INT, "at": {"type": "string", "format": "date-time", "description": "本地时间，带时区偏移"},
        "category": enum(SECURITY_CATEGORIES), "category_label": STR, "action": enum(SECURITY_ACTIONS),
        "label": STR, "actor": nullable({**STR, "description": "姓名（用户名）；系统操作为“系统”"}),
        "actor_username": nullable(STR), "subject": {**STR, "description": "事件涉及的账号（如有）"},
        "detail": {**STR, "description": "中文摘要"}, "data": FREE,
    }, "安全审计记录（只增不改）")
    s["SecurityEventList"] = obj({"items": arr(ref("SecurityEvent")), "total": INT, "page": INT, "per_page": INT})
    s["IntakeHints"] = obj({
        "month_count": {"type": "integer", "description": "该申请人本自然月的申请件数"},
        "month_cases": arr(obj({"id": INT, "number": STR, "received_on": DATE, "description": STR})),
        "possible_repeats": arr(obj({"id": INT, "number": STR, "received_on": DATE, "state": STR,
                                     "description": STR, "similarity": {"type": "number"},
                                     "same_doc_number": BOOL})),
    })
    s["CalendarYear"] = obj({
        "year": INT, "revision": INT, "source": STR, "updated_by": nullable(USER_REF), "updated_at": STAMP,
        "holidays": arr(DATE), "makeup": arr(DATE),
    })
    s["CalendarList"] = obj({"years": arr(ref("CalendarYear"))})
    s["CalendarSaved"] = obj({"year": ref("CalendarYear"),
                              "recomputed_cases": {"type": "integer",
                                                   "description": "期限涉及该年度、将重新计算的未办结案件数"},
                              "job": nullable(ref("Job"))})
    s["CalendarChangeRequest"] = obj({
        "id": INT, "agency": obj({"code": STR, "name": STR}), "year": INT, "dates": STR, "note": STR,
        "status": enum(("open", "done", "declined")), "status_label": STR, "requested_by": USER_REF,
        "requested_at": STAMP, "decided_by": nullable(USER_REF), "decided_at": nullable(STAMP),
        "decision_note": STR,
    }, "机关管理员向系统管理员提出的全国工作日历修改申请")
    s["CalendarChangeRequestList"] = obj({"items": arr(ref("CalendarChangeRequest"))})
    s["AgencySettings"] = obj({"code": STR, "name": STR, "separation_relaxed": BOOL})
    s["Job"] = obj({
        "id": INT, "kind": {**STR, "description": "casefile_print 批量打印案卷、ledger_export 导出台账、calendar_recompute 重新计算期限……"},
        "kind_label": STR, "status": enum(("queued", "running", "done", "failed")), "status_label": STR,
        "expired": {**BOOL, "description": "结果文件已过期删除（可重新提交）"},
        "total": INT, "done": {**INT, "description": "已完成的数量（案卷件数、已写入的行数）"},
        "attempts": {**INT, "description": "已执行的次数（执行进程停止后自动重新执行，最多 3 次）"},
        "error": nullable({**STR, "description": "失败的原因；完成的任务：警告（如某件案卷未能生成）"}),
        "waiting": nullable({**STR, "description": "任务在等待什么（任务队列无法访问、执行进程停止）"}),
        "queue_problem": nullable({**STR, "description": "任务队列当前无法访问的原因"}),
        "created_at": STAMP, "started_at": nullable(STAMP), "finished_at": nullable(STAMP),
        "expires_at": nullable(STAMP), "result_name": nullable(STR), "has_result": BOOL,
        "result": nullable(FREE), "url": STR, "result_url": nullable(STR),
    }, "后台任务（批量打印案卷、大批量导出等）")
    s["JobList"] = obj({"items": arr(ref("Job"))})
    return s


def request_schemas() -> dict[str, dict]:
    s = {
        "TokenRequest": body_schema(TOKEN_PARAMS),
        "PasswordChange": body_schema(PASSWORD_PARAMS),
        "UserCreate": body_schema(USER_CREATE_PARAMS),
        "RolesPut": body_schema(ROLES_PARAMS),
        "CaseCreate": body_schema(INTAKE_PARAMS, description="登记申请；不支持的字段返回 400"),
        "CalendarYearPut": body_schema(CALENDAR_PARAMS),
        "CalendarChangeRequestCreate": body_schema(CALENDAR_REQUEST_PARAMS),
        "CalendarChangeRequestDecision": body_schema(CALENDAR_DECISION_PARAMS),
        "AgencySettingsPatch": body_schema(AGENCY_SETTINGS_PARAMS),
        "NoticeReissue": body_schema(REISSUE_PARAMS, description="重新出具程序性文书：写明理由，原文书保留"),
        "IntakeHintsQuery": body_schema(HINT_PARAMS, description="登记提示的查询内容（申请内容可长达5000字）"),
        "Triage": body_schema(TRIAGE_PARAMS, description="历史导入的未办结案件的分拣"),
    }
    for name, params in ACTION_PARAMS.items():
        s[action_schema_name(name)] = body_schema(params, (VERSION_PARAM,), action_description(name))
    return s


# ---------------------------------------------------------------- paths

_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def openapi_path(rule: str) -> str:
    return _CONVERTER.sub(lambda m: "{" + m.group(2) + "}", rule)


def _path_params(rule: str, skip: set[str]) -> list[dict]:
    out = []
    for conv, name in _CONVERTER.findall(rule):
        if name in skip:
            continue
        schema = {"type": "integer", "minimum": 1} if conv == "int" else {"type": "string"}
        out.append({"name": name, "in": "path", "required": True, "schema": schema})
    return out


def _responses(ep: Endpoint) -> dict:
    out = {}
    for code, (desc, schema) in sorted(ep.responses.items()):
        r: dict[str, Any] = {"description": desc}
        if schema:
            r["content"] = {"application/json": {"schema": ref(schema)}}
        elif code == 200 and ep.rule.endswith(".pdf"):
            r["content"] = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
        elif code in (200, 201):
            r["content"] = {"application/json": {"schema": {"type": "object"}}}
        if code == 201 and ep.endpoint == "api.register_case":
            r["headers"] = {"Location": {"description": "新案件的地址", "schema": {"type": "string"}}}
        if code == 401:
            r["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}}
        out[str(code)] = r
    return out


def _operation(ep: Endpoint, *, op_id: str, summary: str, description: str, roles, body: str | None,
               skip_params: set[str] = frozenset()) -> dict:
    op: dict[str, Any] = {"operationId": op_id, "summary": summary}
    if roles is PUBLIC:
        op["security"] = []
        roles_text = "无需令牌。"
    elif roles:
        roles_text = "角色：" + "、".join(ROLES[r] for r in sorted(roles)) + "。"
    else:
        roles_text = "任何有效令牌。"
    op["description"] = " ".join(x for x in (description, roles_text) if x)
    op["x-roles"] = sorted(roles) if roles is not PUBLIC else None
    params = _path_params(ep.rule, set(skip_params))
    params += [{"name": p.name, "in": "query", "required": False, "schema": param_schema(p)} for p in ep.query]
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = {"required": True,
                             "content": {"application/json": {"schema": ref(body)}}}
    op["responses"] = _responses(ep)
    return op


def build_paths() -> dict[str, dict]:
    paths: dict[str, dict] = {}
    for ep in ENDPOINTS:
        method = ep.method.lower()
        if ep.per_action:
            for name in ACTION_PARAMS:
                path = openapi_path(ep.rule.replace("<action>", name))
                op = _operation(ep, op_id="action_" + name, summary=ACTIONS[name].label,
                                description=action_description(name) + "请求体可省略（等同于 {}）；"
                                            "version 给出时按乐观锁校验。",
                                roles=ACTIONS[name].roles, body=action_schema_name(name), skip_params={"action"})
                op["requestBody"]["required"] = False
                paths.setdefault(path, {})[method] = op
            continue
        path = openapi_path(ep.rule)
        paths.setdefault(path, {})[method] = _operation(
            ep, op_id=ep.endpoint.removeprefix("api."), summary=ep.summary, description=ep.description,
            roles=ep.roles, body=ep.request_schema)
    return paths


def build_openapi() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "OGI Desk API",
            "version": "1.0.0",
            "description": "政府信息依申请公开办理系统的 JSON 接口。除 POST /tokens、POST /password 和本文档外，所有接口都需要 "
                           "`Authorization: Bearer <令牌>`；用户只能看到本机关的案件。错误一律为 "
                           "{\"error\": {\"message\", \"field\"}}。请求体字段类型严格，不接受 null 和未定义的字段；"
                           f"日期须在今年往前{YEARS_BACK}年的1月1日至往后{YEARS_AHEAD}年的12月31日之间。",
        },
        "servers": [{"url": bp.url_prefix}],
        "security": [{"bearerAuth": []}],
        "paths": build_paths(),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "POST /tokens 或 flask --app wsgi issue-token 签发"}},
            "schemas": {**response_schemas(), **request_schemas()},
        },
    }
