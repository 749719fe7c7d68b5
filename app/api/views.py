"""The endpoints. Each view checks JSON types, calls one service, and serialises the result."""
from __future__ import annotations

from flask import request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import MethodNotAllowed as _WzMethodNotAllowed
from werkzeug.routing import Map, Rule

from ..domain.workflow import ACTIONS
from ..reports import security_log as seclog
from ..services import accounts
from ..services import calendar as cal_service
from ..services import digest as digest_service
from ..services import cases as case_service
from ..services import integrity
from ..services import views as view_service
from ..services.operations import REGISTRATION
from ..services.auth import LoginRefused, authenticate
from ..services.errors import Forbidden, NotFound, ServiceError
from ..services.views import issue_api_token
from . import bp
from .core import (ANY_ROLE, AUTHENTICATED, ENDPOINTS, EVERY_ROLE, PUBLIC, MethodNotAllowed, Unauthorized, current_user,
                   json_body, json_response, require_roles, route)
from .serialize import calendar_year_dict, case_dict, event_dict, summary_dict, user_account_dict, user_dict, user_ref
from .specs import (ACTION_PARAMS, AGENCY_SETTINGS_PARAMS, CALENDAR_DECISION_PARAMS, CALENDAR_PARAMS,
                    CALENDAR_REQUEST_PARAMS, HINT_PARAMS, IMPORT_PARAMS, INT_MAX, INTAKE_PARAMS, LIST_FILTERS,
                    PASSWORD_PARAMS, REISSUE_PARAMS, ROLES_PARAMS, SECURITY_LOG_PARAMS, TOKEN_PARAMS,
                    TRIAGE_PARAMS, USER_CREATE_PARAMS, VERSION_PARAM, LEDGER_EXPORT_PARAMS, check_body, check_query)

E400 = (400, ("输入有误", "Error"))
E401 = (401, ("缺少或无效的访问令牌", "Error"))
E403 = (403, ("角色无权执行", "Error"))
E404 = (404, ("案件不存在或属于其他机关", "Error"))
E409 = (409, ("案件已被他人修改（version 不一致）", "Error"))


def _case_id(case_id: int, missing: str = "案件不存在") -> int:
    # Larger ids cannot exist and would overflow the database driver.
    if case_id > INT_MAX:
        raise NotFound(missing)
    return case_id


def _user_id(user_id: int) -> int:
    return _case_id(user_id, "用户不存在")


def _required(body: dict, params) -> None:
    for p in params:
        if p.required and p.name not in body:
            raise ServiceError(f"请填写{p.label}", p.name)


# ---------------------------------------------------------------- tokens

E403_PASSWORD = (403, ("密码须先修改（初始密码、管理员重置或已过期），请用 POST /password", "Error"))


@route("/tokens", "POST", roles=PUBLIC, summary="用用户名和密码换取访问令牌",
       description="每次签发新令牌，该用户此前的令牌随即失效。与网页登录共用失败计数：连续 5 次"
                   "密码错误后账号锁定 15 分钟（管理员可提前解锁）。密码须修改时（初始密码、管理员重置、"
                   "已过期）返回 403，请改用 POST /password。也可在服务器上运行 "
                   "`flask --app wsgi issue-token <用户名>` 签发。",
       request_schema="TokenRequest",
       responses=dict([(201, ("新令牌（只显示这一次）", "TokenResponse")), E400,
                       (401, ("用户名或密码不正确、账号已停用，或因连续登录失败暂时锁定", "Error")),
                       E403_PASSWORD]))
def issue_token():
    body = json_body()
    check_body(body, TOKEN_PARAMS)
    for p in TOKEN_PARAMS:
        if not body.get(p.name):
            raise ServiceError(f"请填写{p.label}", p.name)
    try:
        user = authenticate(body["username"], body["password"], via="api", ip=request.remote_addr)
    except LoginRefused as e:
        raise Unauthorized(e.message) from None
    reason = accounts.password_change_reason(user)
    if reason:
        raise Forbidden(accounts.REASON_TEXT[reason] + "：请用 POST /api/v1/password 修改（同时取得令牌）",
                        "new_password")
    token = issue_api_token(user, via="api")
    return json_response({"token": token, "token_type": "Bearer", "user": user_dict(user)}, 201)


@route("/password", "POST", roles=PUBLIC, summary="修改自己的密码并取得新令牌",
       description="用用户名和当前密码修改密码，初始密码、管理员重置的一次性密码和已过期的密码都在这里修改。"
                   "当前密码的核对与登录共用失败计数。修改后该用户的网页登录和此前的令牌全部失效，"
                   "响应中是新令牌。",
       request_schema="PasswordChange",
       responses=dict([(200, ("密码已修改；新令牌（只显示这一次）", "TokenResponse")), E400,
                       (401, ("用户名或当前密码不正确、账号已停用，或因连续登录失败暂时锁定", "Error"))]))
def change_password():
    body = json_body()
    check_body(body, PASSWORD_PARAMS)
    for p in PASSWORD_PARAMS:
        if not body.get(p.name):
            raise ServiceError(f"请填写{p.label}", p.name)
    try:
        user = accounts.change_password_by_name(body["username"], body["password"], body["new_password"],
                                                via="api", ip=request.remote_addr)
    except LoginRefused as e:
        raise Unauthorized(e.message) from None
    token = issue_api_token(user, via="api")
    return json_response({"token": token, "token_type": "Bearer", "user": user_dict(user)})


@route("/tokens", "DELETE", roles=AUTHENTICATED, summary="注销当前访问令牌",
       responses=dict([(204, ("令牌已失效", None)), E401]))
def revoke_token():
    view_service.revoke_api_token(current_user())
    return "", 204


# ---------------------------------------------------------------- cases

@route("/cases", "POST", roles=REGISTRATION.roles, summary=REGISTRATION.label, what=REGISTRATION.label,
       description="按第三十一条确定收到申请日期并开始计算答复期限。不支持的字段返回 400。",
       request_schema="CaseCreate",
       responses=dict([(201, ("已登记的案件（Location 头指向该案件）", "Case")), E400, E401, E403,
                       (409, ("与同时进行的登记冲突，请重试", "Error"))]))
def register_case():
    user = current_user()
    body = json_body()
    check_body(body, INTAKE_PARAMS)
    case = REGISTRATION.effect(user, body)
    return json_response(case_dict(case, user), 201, {"Location": url_for("api.get_case", case_id=case.id)})


@route("/cases", "GET", roles=ANY_ROLE, summary="案件列表（筛选、分页）", what="查看案件",
       description="只列出本机关的案件，按收到日期倒序。不支持的查询参数返回 400。",
       query=LIST_FILTERS, responses=dict([(200, ("案件摘要列表", "CaseList")), E400, E401, E403]))
def list_cases():
    user = current_user()
    args = check_query(request.args, LIST_FILTERS)
    rows, total = case_service.list_cases(user, args)
    page = int(args.get("page") or 1)
    per_page = int(args.get("per_page") or 50)
    return json_response({"items": [summary_dict(c) for c in rows], "total": total, "page": page,
                          "per_page": per_page})


@route("/cases/<int:case_id>", "GET", roles=ANY_ROLE, summary="案件详情", what="查看案件",
       description="完整的案件表示：期限、各环节、稿件、办理结果、送达、当前用户可执行的操作和审计记录。",
       responses=dict([(200, ("案件", "Case")), E401, E403, E404]))
def get_case(case_id: int):
    user = current_user()
    case = case_service.get_case(_case_id(case_id), user)
    return json_response(case_dict(case, user))


@route("/cases/<int:case_id>/events", "GET", roles=ANY_ROLE, summary="案件审计记录", what="查看案件",
       responses=dict([(200, ("审计记录，按时间先后", "EventList")), E401, E403, E404]))
def case_events(case_id: int):
    user = current_user()
    case = case_service.get_case(_case_id(case_id), user)
    return json_response({"items": [event_dict(e) for e in case.events]})


@route("/cases/<int:case_id>/actions/<action>", "POST", roles=AUTHENTICATED, summary="执行办理操作",
       per_action=True,
       responses=dict([(200, ("操作后的案件", "Case")), E400, E401, E403,
                       (404, ("案件不存在、属于其他机关，或操作名未知", "Error")), E409]))
def case_action(case_id: int, action: str):
    if action not in ACTION_PARAMS or action not in case_service.HANDLERS:
        raise NotFound(f"未知操作：{action}", "action")
    user = current_user()
    a = ACTIONS[action]
    require_roles(user, a.roles, f"执行“{a.label}”")
    case_service.get_case(_case_id(case_id), user)  # 404 before any complaint about the body
    body = json_body(required=False)
    check_body(body, ACTION_PARAMS[action], (VERSION_PARAM,))
    version = body.pop("version", None)
    case = case_service.perform(case_id, user, action, body, expected_version=version)
    return json_response(case_dict(case, user))


# ---------------------------------------------------------------- letters

def _letter_dict(l) -> dict:
    replaced = l.replaced_by
    return {"id": l.id, "key": l.key, "title": l.title, "number": l.number, "issued_at": l.issued_at.isoformat(),
            "pages": l.pages, "sha256": l.sha256, "content_hash": l.content_hash,
            "notice_ref": l.notice_ref, "reissue_no": l.reissue_no, "supersedes_id": l.supersedes_id,
            "reissue_reason": l.reissue_reason, "replaced_by_id": replaced.id if replaced else None,
            "status": "已重新出具" if replaced else "有效",
            "pdf": url_for("api.letter_pdf", case_id=l.case_id, letter_id=l.id)}


def _pdf_response(data: bytes, filename: str):
    from urllib.parse import quote

    from flask import Response
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(filename)}"})


def _draft_response(draft, filename: str):
    """A draft's PDF with its content key as ETag: If-None-Match with it answers 304, unrendered."""
    from flask import Response, request
    resp = Response(status=304) if request.if_none_match.contains_weak(draft.etag) else _pdf_response(
        draft.pdf(), filename)
    resp.set_etag(draft.etag, weak=True)
    resp.headers["Cache-Control"] = "private, no-cache"
    return resp


@route("/cases/<int:case_id>/letters", "GET", roles=ANY_ROLE, summary="案件已出具的文书", what="查看案件",
       description="每份文书出具时编号并生成一次PDF，保存其字节和SHA-256，此后不再重新生成。",
       responses=dict([(200, ("文书列表", None)), E401, E403, E404]))
def case_letters(case_id: int):
    case = case_service.get_case(_case_id(case_id), current_user())
    return json_response({"items": [_letter_dict(l) for l in case.letters]})


@route("/cases/<int:case_id>/letters/<int:letter_id>.pdf", "GET", roles=ANY_ROLE, summary="下载已出具文书的PDF",
       what="查看案件", description="每次下载都核对保存的SHA-256；不符时拒绝提供（409）并记入安全日志。",
       responses=dict([(200, ("保存的PDF原件", None)), E401, E403, E404,
                       (409, ("保存的PDF与其SHA-256不符（可能被篡改），已拒绝并记录", "Error"))]))
def letter_pdf(case_id: int, letter_id: int):
    case = case_service.get_case(_case_id(case_id), current_user())
    row = next((l for l in case.letters if l.id == letter_id), None)
    if row is None:
        raise NotFound("文书不存在")
    return _pdf_response(integrity.letter_pdf(row, current_user()), f"{row.number or row.title}.pdf")


@route("/cases/<int:case_id>/reply-preview.pdf", "GET", roles=frozenset({"handler", "legal", "head"}),
       summary="预览当前答复稿（PDF，标注草稿）", what="预览答复稿",
       responses=dict([(200, ("草稿PDF", None)), E400, E401, E403, E404]))
def reply_preview(case_id: int):
    from ..services import letters as L
    case = case_service.get_case(_case_id(case_id), current_user())
    _title, draft = L.reply_draft(case)
    return _draft_response(draft, f"{case.number}-草稿.pdf")


def _notices_dict(case) -> list[dict]:
    from ..services import letters as L
    return [{"ref": st["notice"].ref, "key": st["letter"].key, "letter": st["letter"].name,
             "about": st["notice"].label, "needs_review": st["needs_review"], "approved": st["approved"],
             "content_hash": st["hash"], "issued": _letter_dict(st["issued"]) if st["issued"] else None,
             "changed_since_issue": st["changed"],
             "preview": url_for("api.notice_preview", case_id=case.id, ref=st["notice"].ref)}
            for st in (L.notice_status(case, n) for n in L.notices(case))]


@route("/cases/<int:case_id>/notices", "GET", roles=ANY_ROLE, summary="案件可出具的程序性文书", what="查看案件",
       description="登记回执、补正告知书、征求意见书及确认函、告知申请人、延期答复告知书、收费通知书、协办函、送达回证等；"
                   "ref 用于预览、审核和出具。",
       responses=dict([(200, ("文书清单", None)), E401, E403, E404]))
def case_notices(case_id: int):
    case = case_service.get_case(_case_id(case_id), current_user())
    return json_response({"items": _notices_dict(case)})


@route("/cases/<int:case_id>/notices/<ref>.pdf", "GET", roles=frozenset({"handler", "legal", "head", "clerk"}),
       summary="预览程序性文书（PDF，标注草稿）", what="预览文书",
       responses=dict([(200, ("草稿PDF", None)), E400, E401, E403, E404]))
def notice_preview(case_id: int, ref: str):
    from ..services import letters as L
    case = case_service.get_case(_case_id(case_id), current_user())
    n = L.find_notice(case, ref)
    return _draft_response(L.draft_pdf(case, n.key, n.build()), f"{case.number}-{ref}-草稿.pdf")


@route("/cases/<int:case_id>/notices/<ref>/approve", "POST", roles=frozenset({"legal"}),
       summary="审核通过程序性文书（按内容哈希）", what="审核文书",
       responses=dict([(200, ("文书清单", None)), E400, E401, E403, E404]))
def approve_notice(case_id: int, ref: str):
    from ..services import letters as L
    user = current_user()
    L.approve_notice(_case_id(case_id), user, ref)
    return json_response({"items": _notices_dict(case_service.get_case(case_id, user))})


E409_ISSUED = (409, ("已出具（错误信息写明现行文书的文号和时间），或与同时进行的出具冲突；未重复出具、未编号", "Error"))


@route("/cases/<int:case_id>/notices/<ref>/issue", "POST", roles=frozenset({"handler", "clerk"}),
       summary="出具程序性文书（编号并生成PDF）", what="出具文书",
       description="需法制审核的文书（如收费通知书）须先审核通过，且内容与审核时一致。每份文书只出具一次："
                   "此后案件情况变化（如期限顺延）也不会使其变为未出具；需更正的，用 reissue 重新出具。"
                   "只有目录中带文号的文书类型编号（登记回执、征求意见确认函、送达回证不编号）。",
       responses=dict([(201, ("已出具的文书", None)), E400, E401, E403, E404, E409_ISSUED]))
def issue_notice(case_id: int, ref: str):
    from ..services import letters as L
    from ..services.time import today
    row = L.issue_notice(_case_id(case_id), current_user(), ref, today())
    return json_response(_letter_dict(row), 201)


@route("/cases/<int:case_id>/notices/<ref>/reissue", "POST", roles=frozenset({"handler", "clerk"}),
       summary="重新出具程序性文书（须写明理由）", what="出具文书", request_schema="NoticeReissue",
       description="按案件现状生成新文书（带文号的类型取新文号），新文书指向被替代的文书（supersedes_id），"
                   "原文书保留并显示为“已重新出具”；理由记入办理记录。",
       responses=dict([(201, ("新出具的文书", None)), E400, E401, E403, E404,
                       (409, ("该文书已被他人重新出具（letter_id 不是现行文书），或与同时进行的出具冲突", "Error"))]))
def reissue_notice(case_id: int, ref: str):
    from ..services import letters as L
    from ..services.time import today
    body = json_body()
    check_body(body, REISSUE_PARAMS)
    row = L.reissue_notice(_case_id(case_id), current_user(), ref, today(), body.get("reason"),
                           replaces_id=body.get("letter_id"))
    return json_response(_letter_dict(row), 201)


@route("/import", "POST", roles=frozenset({"admin"}), summary="导入历史台账（.xlsx）",
       description="请求体为填好的导入模板（.xlsx 原始字节，Content-Type: application/vnd.openxmlformats-"
                   "officedocument.spreadsheetml.sheet），最多 50,000 行。逐行校验：有任何一行不合格则一件不导入，并列出"
                   "每个被拒绝的行号和原因（422）；文件无法读取（不是 .xlsx、已损坏、含 DTD 或实体声明、解压后过大）也返回"
                   " 422。原编号（或未填原编号时申请人、收到日期和申请内容）已导入过的行逐行拒绝并说明（on_existing=update"
                   " 时更新导入后无人办理的案件）；dry_run=true 只返回处理计划。校验通过且有要新建或更新的行时，导入由后台"
                   "任务执行：返回 202 和任务（Location 头指向任务），用 GET /jobs/{id} 查看进度（先计校验的行，再计写入的"
                   "行）。任务在一个事务中重新校验并写入全部行：任何错误（或与同时进行的导入冲突）则一件不导入，任务失败并"
                   "列出原因。导入的未办结案件先进入待分拣清单。",
       query=IMPORT_PARAMS,
       responses=dict([(200, ("预览，或没有要新建或更新的案件", None)), (202, ("已提交的导入任务", "Job")), E400, E401,
                       E403, (422, ("文件无法读取，或有行不合格，未导入任何案件", "Error"))]))
def import_ledger():
    from ..reports import importer

    args = check_query(request.args, IMPORT_PARAMS)
    dry_run = args.get("dry_run", "").strip().lower()
    if dry_run not in ("", "true", "false", "1", "0"):
        raise ServiceError("只预览（dry_run）应为 true 或 false", "dry_run")
    on_existing = args.get("on_existing", "").strip() or "refuse"
    data = request.get_data(cache=False)
    if not data:
        raise ServiceError("请求体为空：请上传 .xlsx 文件", "file")
    user = current_user()
    result = importer.import_ledger(user, data, dry_run=True, on_existing=on_existing)
    if result.ok:
        if dry_run in ("true", "1") or not (result.count("create") or result.count("update")):
            return json_response(result.as_dict(), 200)
        return _submitted(importer.submit(user, importer.stage(user, data), on_existing))
    rows = result.as_dict()["errors"]
    first = rows[0]
    return json_response({"error": {
        "message": f"有{len(rows)}行被拒绝，未导入任何案件。第{first['row']}行（{first['column']}）：{first['message']}",
        "field": "file", "rows": rows}}, 422)


@route("/cases/<int:case_id>/triage", "POST", roles=frozenset({"clerk", "head"}),
       summary="分拣历史导入的未办结案件", what="分拣历史导入案件",
       description="导入的未办结案件分拣前不进入办理队列、不计入超期和即将到期统计。decision=queue 转入办理队列"
                   "（按收到申请日期计算的期限）；decision=close 按实际办结日期和办理结果登记。记入审计记录（triage）。",
       request_schema="Triage", responses=dict([(200, ("分拣后的案件", "Case")), E400, E401, E403, E404]))
def triage(case_id: int):
    user = current_user()
    body = json_body()
    check_body(body, TRIAGE_PARAMS)
    case = case_service.triage_imported(user, _case_id(case_id), body)
    return json_response(case_dict(case, user))


def _hints(user, args) -> dict:
    exclude = str(args.get("exclude_id") or "").strip()
    return case_service.intake_hints(user, args.get("applicant_name") or "", args.get("id_number") or "",
                                     args.get("description") or "", args.get("doc_number") or "",
                                     exclude_id=int(exclude) if exclude else None,
                                     phone=args.get("contact_phone") or "")


@route("/intake-hints", "POST", roles=frozenset({"clerk", "handler"}), summary="登记提示",
       what="查看登记提示",
       description="该申请人本月的申请件数（第三十五条、收费）和可能的重复申请（第三十六条第（六）项）。"
                   "查询内容放在 JSON 请求体中，申请内容可长达5000字。",
       request_schema="IntakeHintsQuery", responses=dict([(200, ("提示", "IntakeHints")), E400, E401, E403]))
def intake_hints_post():
    user = current_user()
    body = json_body()
    check_body(body, HINT_PARAMS)
    return json_response(_hints(user, body))


@route("/intake-hints", "GET", roles=frozenset({"clerk", "handler"}), summary="登记提示（查询参数）",
       what="查看登记提示",
       description="同 POST /intake-hints，查询内容放在查询参数中；申请内容较长时请用 POST（网址长度有限）。",
       query=HINT_PARAMS, responses=dict([(200, ("提示", "IntakeHints")), E400, E401, E403]))
def intake_hints():
    return json_response(_hints(current_user(), check_query(request.args, HINT_PARAMS)))


# ---------------------------------------------------------------- calendar

@route("/calendar", "GET", roles=EVERY_ROLE, summary="工作日历", what="查看工作日历",
       description="已录入的年度：放假日期（仅列工作日）、调休上班日期和修订版次。未录入的年份按周一至周五"
                   "暂算，相关期限标记为 provisional。",
       responses=dict([(200, ("各年度", "CalendarList")), E401, E403]))
def calendar():
    return json_response({"years": [calendar_year_dict(r) for r in cal_service.year_rows()]})


@route("/calendar/<int:year>", "PUT", roles=frozenset({"sysadmin"}), summary="录入或修订一个年度的工作日历",
       what="维护全国工作日历",
       description="全国工作日历由系统管理员维护（机关管理员请提交修改申请）。整年替换。日历随即保存；所有机关"
                   "期限涉及该年度的未办结案件（recomputed_cases 件）由后台任务重新计算（job，用 GET /jobs/{id} 查看"
                   "进度；没有涉及的案件时为 null），每个变化的案件记一条审计记录（全国工作日历修订）。",
       request_schema="CalendarYearPut",
       responses=dict([(200, ("保存后的年度和重新计算的案件数", "CalendarSaved")), E400, E401, E403]))
def put_calendar(year: int):
    user = current_user()
    body = json_body()
    check_body(body, CALENDAR_PARAMS)
    for p in CALENDAR_PARAMS:
        if p.required and p.name not in body:
            raise ServiceError(f"请填写{p.label}（没有时传空数组）", p.name)

    def text(v):
        return "\n".join(v) if isinstance(v, list) else v

    row, pending, job_row = cal_service.save_year(user, year, text(body["holidays"]), text(body["makeup"]),
                                                  body.get("source", ""))
    return json_response({"year": calendar_year_dict(row), "recomputed_cases": pending,
                          "job": _job_dict(job_row) if job_row is not None else None})


# ---------------------------------------------------------------- digest

@route("/digest", "GET", roles=ANY_ROLE, summary="今日提醒（3个工作日内到期或已超期的事项）", what="查看今日提醒",
       description="与网页工作台的“今日提醒”相同：承办人为本人承办的未办结案件的答复期限及补正、征求意见、收费等"
                   "环节的期限，负责人为本机关全部未办结案件的答复期限，法律顾问为待法制审核案件的答复期限；"
                   "3个工作日内到期（按工作日历计算）或已超期的，最紧急的在前，最多100项（total 为全部项数）。"
                   "每日 DIGEST_AT（默认07:30，北京时间）由后台任务生成并保存；生成前返回当前计算结果，"
                   "stored 为 false、generated_at 为 null。其他角色返回空列表。",
       responses=dict([(200, ("今日提醒", "Digest")), E401, E403]))
def get_digest():
    return json_response(digest_service.today_for(current_user()))


# ---------------------------------------------------------------- security log

@route("/security-log", "GET", roles=frozenset(seclog.LOG_ROLES), summary="安全审计日志（筛选、分页）",
       what="查看安全审计日志",
       description="本机关的安全事件（登录、账号与角色、设置、文书模板、导出、工作日历、完整性与备份），"
                   "按时间倒序；detail 为中文摘要，data 为原始记录。at 为机关所在时区的本地时间。",
       query=SECURITY_LOG_PARAMS, responses=dict([(200, ("安全事件列表", "SecurityEventList")), E400, E401, E403]))
def security_log():
    args = check_query(request.args, SECURITY_LOG_PARAMS)
    f = seclog.parse_filters(current_user(), args)
    rows, total = seclog.page(f)
    return json_response({"items": [seclog.api_item(r) for r in rows], "total": total, "page": f.page,
                          "per_page": f.per_page})


def _change_request_dict(q) -> dict:
    return {"id": q.id, "agency": {"code": q.agency.code, "name": q.agency.name}, "year": q.year,
            "dates": q.dates, "note": q.note, "status": q.status, "status_label": q.status_label,
            "requested_by": user_ref(q.requested_by), "requested_at": q.requested_at,
            "decided_by": user_ref(q.decided_by) if q.decided_by else None, "decided_at": q.decided_at,
            "decision_note": q.decision_note}


@route("/calendar/change-requests", "GET", roles=frozenset({"admin", "sysadmin"}), summary="工作日历修改申请",
       what="查看工作日历修改申请",
       description="系统管理员看到所有机关的申请，机关管理员看到本机关的申请；待处理的在前。",
       responses=dict([(200, ("申请列表", "CalendarChangeRequestList")), E401, E403]))
def calendar_change_requests():
    return json_response({"items": [_change_request_dict(q) for q in cal_service.change_requests(current_user())]})


@route("/calendar/change-requests", "POST", roles=frozenset({"admin"}), summary="申请修改全国工作日历",
       what="申请修改工作日历",
       description="机关管理员发现工作日历有误或需录入新年度时，向系统管理员提出申请。",
       request_schema="CalendarChangeRequestCreate",
       responses=dict([(201, ("已提交的申请", "CalendarChangeRequest")), E400, E401, E403]))
def create_calendar_change_request():
    body = json_body()
    check_body(body, CALENDAR_REQUEST_PARAMS)
    req = cal_service.request_change(current_user(), str(body.get("year", "")), body.get("dates", ""),
                                     body.get("note", ""))
    return json_response(_change_request_dict(req), 201)


@route("/calendar/change-requests/<int:request_id>", "PATCH", roles=frozenset({"sysadmin"}),
       summary="处理工作日历修改申请", what="处理工作日历修改申请",
       description="status 为 done（已修改）或 declined（不予修改，须说明理由）；只能处理一次。",
       request_schema="CalendarChangeRequestDecision",
       responses=dict([(200, ("处理后的申请", "CalendarChangeRequest")), E400, E401, E403,
                       (404, ("申请不存在", "Error"))]))
def decide_calendar_change_request(request_id: int):
    body = json_body()
    check_body(body, CALENDAR_DECISION_PARAMS)
    if request_id > INT_MAX:
        raise NotFound("修改申请不存在")
    req = cal_service.decide_request(current_user(), request_id, body.get("status", ""), body.get("note", ""))
    return json_response(_change_request_dict(req))


# ---------------------------------------------------------------- agency settings

@route("/agency/settings", "GET", roles=frozenset({"admin"}), summary="本机关设置（职责分离）",
       what="查看机关设置", responses=dict([(200, ("机关设置", "AgencySettings")), E401, E403]))
def agency_settings():
    from ..services import agency as agency_service
    return json_response(agency_service.settings(current_user()))


@route("/agency/settings", "PATCH", roles=frozenset({"admin"}), summary="修改本机关设置（职责分离）",
       what="修改机关设置",
       description="separation_relaxed=true：一人办公室放宽职责分离，同一人可起草、审核、签发同一稿件，"
                   "每次按放宽规则办理的审核和签发都记入办理记录。修改记入安全日志。",
       request_schema="AgencySettingsPatch",
       responses=dict([(200, ("修改后的机关设置", "AgencySettings")), E400, E401, E403]))
def patch_agency_settings():
    from ..services import agency as agency_service
    user = current_user()
    body = json_body()
    check_body(body, AGENCY_SETTINGS_PARAMS)
    if "separation_relaxed" in body:
        agency_service.set_separation_relaxed(user, body["separation_relaxed"])
    return json_response(agency_service.settings(user))


# ---------------------------------------------------------------- users (administrators)

ADMIN = frozenset({"admin"})
E404_USER = (404, ("用户不存在或属于其他机关", "Error"))


@route("/users", "GET", roles=ADMIN, summary="本机关的用户", what="管理用户",
       description="每个账号的角色、是否停用、锁定、须修改密码或密码已过期。",
       responses=dict([(200, ("用户列表", "UserList")), E401, E403]))
def list_users():
    return json_response({"items": [user_account_dict(u) for u in view_service.agency_users(current_user())]})


@route("/users", "POST", roles=ADMIN, summary="创建用户", what="管理用户",
       description="在本机关创建用户。初始密码须符合密码规则，用户首次登录时须修改。",
       request_schema="UserCreate",
       responses=dict([(201, ("新用户", "UserAccount")), E400, E401, E403]))
def create_user():
    body = json_body()
    check_body(body, USER_CREATE_PARAMS)
    _required(body, USER_CREATE_PARAMS)
    user = view_service.create_user(current_user(), body)
    return json_response(user_account_dict(user), 201)


@route("/users/<int:user_id>/roles", "PUT", roles=ADMIN, summary="修改用户的角色", what="管理用户",
       description="整组替换。管理员不能取消自己的管理员角色。",
       request_schema="RolesPut",
       responses=dict([(200, ("修改后的用户", "UserAccount")), E400, E401, E403, E404_USER]))
def put_roles(user_id: int):
    body = json_body()
    check_body(body, ROLES_PARAMS)
    _required(body, ROLES_PARAMS)
    user = accounts.set_roles(current_user(), _user_id(user_id), body["roles"])
    return json_response(user_account_dict(user))


@route("/users/<int:user_id>/reset-password", "POST", roles=ADMIN, summary="重置用户的密码", what="管理用户",
       description="生成一次性密码（只在响应中出现一次），用户下次登录须修改；该用户的网页登录和令牌立即失效，"
                   "登录锁定随之解除。不能重置自己的密码。",
       responses=dict([(200, ("一次性密码", "PasswordReset")), E400, E401, E403, E404_USER]))
def reset_password(user_id: int):
    user, otp = accounts.reset_password(current_user(), _user_id(user_id))
    return json_response({"user": user_account_dict(user), "one_time_password": otp})


@route("/users/<int:user_id>/deactivate", "POST", roles=ADMIN, summary="停用用户", what="管理用户",
       description="该用户的网页登录和令牌立即失效。不能停用自己。",
       responses=dict([(200, ("停用后的用户", "UserAccount")), E400, E401, E403, E404_USER]))
def deactivate_user(user_id: int):
    return json_response(user_account_dict(accounts.deactivate(current_user(), _user_id(user_id))))


@route("/users/<int:user_id>/reactivate", "POST", roles=ADMIN, summary="启用用户", what="管理用户",
       responses=dict([(200, ("启用后的用户", "UserAccount")), E400, E401, E403, E404_USER]))
def reactivate_user(user_id: int):
    return json_response(user_account_dict(accounts.reactivate(current_user(), _user_id(user_id))))


# ---------------------------------------------------------------- description

@route("/openapi.json", "GET", roles=PUBLIC, summary="本 API 的 OpenAPI 3.1 描述",
       responses={200: ("OpenAPI 文档", None)})
def openapi():
    from .openapi import build_openapi
    return json_response(build_openapi())


# ---------------------------------------------------------------- everything else under /api/v1

_ALL = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@bp.route("/", defaults={"path": ""}, methods=_ALL)
@bp.route("/<path:path>", methods=_ALL)
def not_found(path: str):
    """JSON 404/405 for the API's own paths (the app-wide error pages are HTML)."""
    allowed = _allowed_methods(request.path)
    if allowed:
        raise MethodNotAllowed(allowed)
    raise NotFound("请求的接口不存在", None)


def _allowed_methods(path: str) -> list[str]:
    m = Map([Rule(bp.url_prefix + ep.rule, methods=[ep.method], endpoint=ep.endpoint) for ep in ENDPOINTS])
    try:
        m.bind("localhost").match(path, method="-")
    except _WzMethodNotAllowed as e:
        return sorted(e.valid_methods or [])
    except HTTPException:
        return []
    return []


# ---------------------------------------------------------------- background jobs

E404_JOB = (404, ("任务不存在或属于其他机关", "Error"))


def _job_dict(job) -> dict:
    from ..services import jobs as background

    out = background.as_dict(job)
    out["url"] = url_for("api.job", job_id=job.id)
    out["result_url"] = url_for("api.job_result", job_id=job.id) if out["has_result"] else None
    out["queue_problem"] = background.queue_problem() if job.active else None
    return out


def _submitted(job):
    body = _job_dict(job)
    return json_response(body, 202, headers={"Location": body["url"]})


def _get_job(job_id: int):
    from ..services import jobs as background

    return background.get_job(_case_id(job_id, "任务不存在"), current_user())


@route("/ledger/exports", "POST", roles=ANY_ROLE, summary="导出台账（后台任务）", what="导出台账",
       description="按查询参数（与网页台账相同的筛选条件）导出台账为 .xlsx。导出总在后台进行：返回 202 和任务"
                   "（Location 头指向任务），用 GET /jobs/{id} 查看进度（已写入行数 done / total），完成后"
                   "用 GET /jobs/{id}/result 下载。任务队列暂时无法访问时任务照样记录，队列恢复后自动开始"
                   "（queue_problem 说明原因）。超过 100,000 件请分段导出（400）。记入安全日志（导出台账）。",
       query=LEDGER_EXPORT_PARAMS,
       responses=dict([(202, ("已提交的后台任务", "Job")), E400, E401, E403]))
def ledger_export():
    from ..reports import ledger_export as service

    args = check_query(request.args, LEDGER_EXPORT_PARAMS)
    return _submitted(service.export(current_user(), args, background_only=True).job)


@route("/jobs", "GET", roles=EVERY_ROLE, summary="我的后台任务", what="查看后台任务",
       description="本人提交的后台任务（批量打印案卷、台账导出等），新的在前，最多 50 个；系统管理员还能看到全平台的任务。",
       responses=dict([(200, ("任务列表", "JobList")), E401, E403]))
def jobs():
    from ..services import jobs as background

    return json_response({"items": [_job_dict(j) for j in background.my_jobs(current_user())]})


@route("/jobs/<int:job_id>", "GET", roles=EVERY_ROLE, summary="后台任务的状态和进度", what="查看后台任务",
       description="status：queued 排队中、running 正在进行、done 已完成、failed 失败；expired 为 true 时结果文件"
                   "已过期删除。waiting 说明任务在等待什么（任务队列无法访问、执行进程停止），queue_problem 说明"
                   "任务队列当前的问题；两者都会自动恢复，无需重新提交。同机关可见（案卷打印限档案员、负责人、管理员）。",
       responses=dict([(200, ("任务", "Job")), E401, E403, E404_JOB]))
def job(job_id: int):
    return json_response(_job_dict(_get_job(job_id)))


@route("/jobs/<int:job_id>/result", "GET", roles=EVERY_ROLE, summary="下载后台任务的结果文件", what="下载任务结果",
       description="完成的任务的结果文件（台账 .xlsx、案卷 .zip 或 .pdf），下载前按登记的 SHA-256 校验，"
                   "不符则拒绝（409）并记入安全日志。未完成或已过期返回 404。",
       responses=dict([(200, ("结果文件", None)), E401, E403, E404_JOB,
                       (409, ("文件校验不符，已拒绝提供", "Error"))]))
def job_result(job_id: int):
    import mimetypes
    from urllib.parse import quote

    from flask import Response

    from ..services import jobs as background

    job_row = _get_job(job_id)
    fh = background.open_result(job_row, current_user())
    name = background.download_name(job_row)
    ascii_name = name.encode("ascii", "ignore").decode() or "result"
    return Response(_chunks(fh), mimetype=mimetypes.guess_type(name)[0] or "application/octet-stream",
                    direct_passthrough=True, headers={
                        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
                        "Cache-Control": "no-store"})


def _chunks(fh, size: int = 64 * 1024):
    with fh:
        while block := fh.read(size):
            yield block


@route("/jobs/<int:job_id>/resubmit", "POST", roles=EVERY_ROLE, summary="重新提交失败或已过期的后台任务",
       what="重新提交后台任务",
       description="按相同的内容提交一个新任务（原任务保留）；只有失败、中断或结果已过期的任务可以重新提交（否则 400）。",
       responses=dict([(202, ("新提交的后台任务", "Job")), E400, E401, E403, E404_JOB]))
def job_resubmit(job_id: int):
    from ..services import jobs as background

    return _submitted(background.resubmit(_get_job(job_id), current_user()))
