"""The security log (安全审计日志): every event without a case whose action is a security action
(sign-ins, accounts, roles, settings, templates, exports, calendar, integrity), filtered, paged,
shown in plain Chinese and exported to .xlsx.

Who may see which events is decided in one place, ``scope_condition``.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Iterator, Mapping
from zoneinfo import ZoneInfo

from flask import current_app
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.orm import aliased

from ..domain.workflow import PLATFORM_ROLES, ROLES
from ..extensions import db
from ..models import Event, User
from ..services.audit import SECURITY_ACTIONS, SECURITY_CATEGORIES, record_export
from ..services.errors import Forbidden, ServiceError
from ..services.params import Params
from ..services.integrity import TRIGGERS
from ..services.time import local
from .xlsxsafe import safe_row

# Roles that may read the log of their own agency, and roles that may read platform events
# (agency_id NULL, e.g. failed sign-ins under unknown names). "sysadmin" does not exist yet.
# Agency administrators read their agency's events; the platform's system administrator reads every
# agency's and the platform's own (events without an agency).
LOG_ROLES = ("admin", "sysadmin")

FILTER_PARAMS = ("category", "action", "user", "date_from", "date_to", "q")
PAGING_PARAMS = ("page", "per_page")
PER_PAGE = 50
MAX_EXPORT_ROWS = 100_000
EXPORT_CHUNK = 2000


def scope_condition(user: User):
    """The events this user may read: the only place that decides it (page, API and export)."""
    if user.has_role(*PLATFORM_ROLES):
        return true()
    if user.has_role(*LOG_ROLES):
        return Event.agency_id == user.agency_id
    raise Forbidden("只有管理员可以查看安全审计日志")


@dataclass
class LogFilter:
    scope: Any
    conds: list = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # active filters, in words
    args: dict[str, str] = field(default_factory=dict)  # normalised non-empty filter args (for links)
    page: int = 1
    per_page: int = PER_PAGE

    def where(self):
        return and_(Event.case_id.is_(None), Event.action.in_(sorted(SECURITY_ACTIONS)), self.scope, *self.conds)

    def link_args(self, **over: Any) -> dict[str, Any]:
        out = dict(self.args)
        if self.per_page != PER_PAGE:
            out["per_page"] = self.per_page
        out.update(over)
        return {k: v for k, v in out.items() if v not in (None, "")}


def utc_start_of(day: date) -> datetime:
    """The naive UTC instant at which the office's local day begins (stored times are naive UTC)."""
    zone = ZoneInfo(current_app.config["OGI_TIMEZONE"])
    return datetime.combine(day, time(), zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def action_choices() -> dict[str, str]:
    return {a: f"{SECURITY_CATEGORIES[c]} · {label}" for a, (c, label) in SECURITY_ACTIONS.items()}


def parse_filters(user: User, raw: Mapping[str, Any], *, paging: bool = True) -> LogFilter:
    """Filters from a query string; unknown or impossible ones are refused (ServiceError → 400)."""
    allowed = set(FILTER_PARAMS) | (set(PAGING_PARAMS) if paging else set())
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ServiceError(f"不支持的筛选条件：{'、'.join(unknown)}", unknown[0])
    f = LogFilter(scope=scope_condition(user))
    p = Params(raw)

    def keep(name: str, value: str, label: str) -> None:
        f.args[name] = value
        f.labels.append(label)

    category = p.choice("category", "类别", SECURITY_CATEGORIES, required=False)
    if category:
        f.conds.append(Event.action.in_(sorted(a for a, (c, _) in SECURITY_ACTIONS.items() if c == category)))
        keep("category", category, f"类别：{SECURITY_CATEGORIES[category]}")
    action = p.choice("action", "事件", SECURITY_ACTIONS, required=False)
    if action:
        if category and SECURITY_ACTIONS[action][0] != category:
            raise ServiceError(f"事件“{SECURITY_ACTIONS[action][1]}”不属于类别“{SECURITY_CATEGORIES[category]}”",
                               "action")
        f.conds.append(Event.action == action)
        keep("action", action, f"事件：{SECURITY_ACTIONS[action][1]}")

    username = p.text("user", "用户名", max_len=64)
    if username:
        # The actor, or the user the event is about: any value in the data equal to the username
        # (data_json is written by audit._json, so the value appears exactly as json.dumps gives it).
        actor_ids = select(User.id).where(User.username == username).scalar_subquery()
        quoted = json.dumps(username, ensure_ascii=False)
        f.conds.append(or_(Event.actor_id.in_(actor_ids), Event.data_json.contains(quoted, autoescape=True)))
        keep("user", username, f"用户：{username}")

    lo = p.date("date_from", "日期起")
    hi = p.date("date_to", "日期止")
    if lo and hi and hi < lo:
        raise ServiceError(f"日期止（{hi.isoformat()}）不能早于日期起（{lo.isoformat()}）", "date_to")
    if lo:
        f.conds.append(Event.at >= utc_start_of(lo))
        keep("date_from", lo.isoformat(), f"不早于 {lo.isoformat()}")
    if hi:
        f.conds.append(Event.at < utc_start_of(hi + timedelta(days=1)))
        keep("date_to", hi.isoformat(), f"不晚于 {hi.isoformat()}")

    text = p.text("q", "关键词", max_len=100)
    if text:
        f.conds.append(or_(Event.data_json.contains(text, autoescape=True),
                           Event.label.contains(text, autoescape=True)))
        keep("q", text, f"关键词：{text}")

    if paging:
        f.page = p.integer("page", "页码", default=1, lo=1, hi=1_000_000)
        f.per_page = p.integer("per_page", "每页条数", default=PER_PAGE, lo=10, hi=200)
    return f


Actor = aliased(User)


def _query(f: LogFilter):
    return (select(Event, Actor.name.label("actor_name"), Actor.username.label("actor_username"))
            .select_from(Event).outerjoin(Actor, Actor.id == Event.actor_id)
            .where(f.where()).order_by(Event.at.desc(), Event.id.desc()))


def count(f: LogFilter) -> int:
    return db.session.scalar(select(func.count()).select_from(Event).where(f.where())) or 0


def page(f: LogFilter) -> tuple[list[dict], int]:
    total = count(f)
    q = _query(f).offset((f.page - 1) * f.per_page).limit(f.per_page)
    return [display_row(r) for r in db.session.execute(q)], total


# ---------------------------------------------------------------- one row in plain Chinese

# Labels of the data keys services write; a key not listed here is shown as 其他 (never raw).
DATA_LABELS = {
    "changes": "修改内容", "fields": "修改内容", "letter_name": "文书", "letter": "文书", "change": "操作",
    "summary": "改动", "filters": "筛选条件", "rows": "行数", "count": "件数", "year": "年度",
    "format": "格式", "cases": "案件", "case": "案件", "job": "打印任务", "via": "途径",
    "roles": "角色", "old_roles": "原角色", "new_roles": "新角色", "added": "增加", "removed": "取消",
    "reason": "原因", "ip": "IP 地址", "until": "锁定至", "failures": "连续失败次数", "seal": "印章",
    "name": "姓名", "holidays": "放假日期", "makeup": "调休上班日期", "revision": "版次", "source": "依据",
    "path": "文件", "sha256": "校验值", "files": "文件数", "missing": "缺失", "mismatched": "不符",
    "ok": "结果", "attachment": "附件", "target": "对象", "detail": "说明", "message": "说明",
    "version": "版本", "rolled_back_to": "回滚至版本", "required": "修改原因",
    "trigger": "方式", "checked": "已校验", "casefile_result": "案卷打印结果", "problem_count": "不符或缺失",
    "problems": "问题", "seconds": "用时（秒）",
    "message_id": "消息编号", "notice": "通知", "to": "收件人", "attempts": "发送次数", "error": "错误",
}
REQUIRED_LABELS = {"must_change": "初始密码或一次性密码须修改", "expired": "密码已过期"}
SUBJECT_KEYS = ("username", "subject", "user", "target_username")
VIA_LABELS = {"web": "网页", "api": "API", "cli": "服务器命令行"}
CHANGE_LABELS = {"saved": "修改措辞", "created": "首次修改措辞", "reset": "恢复系统默认措辞",
                 "rollback": "回滚到早先版本"}
FORMAT_LABELS = {"xlsx": "Excel", "pdf": "PDF", "zip": "ZIP 压缩包"}


def _value(key: str, v: Any) -> str:
    if v is None or v == "":
        return "（空）"
    if isinstance(v, bool):
        return "是" if v else "否"
    if key == "via":
        return VIA_LABELS.get(v, str(v))
    if key == "change":
        return CHANGE_LABELS.get(v, str(v))
    if key == "format":
        return FORMAT_LABELS.get(v, str(v))
    if key == "required":
        return REQUIRED_LABELS.get(v, str(v))
    if key == "trigger":
        return TRIGGERS.get(v, str(v))
    if key in ("roles", "old_roles", "new_roles", "added", "removed") and isinstance(v, list):
        return "、".join(ROLES.get(r, r) for r in v) or "（无）"
    if key in ("changes", "fields") and isinstance(v, list):
        parts = []
        for c in v:
            if isinstance(c, dict):
                parts.append(f"{c.get('label') or '字段'}：{_value('', c.get('old'))} → {_value('', c.get('new'))}")
            else:
                parts.append(str(c))
        return "；".join(parts)
    if isinstance(v, list):
        return "、".join(_value(key, x) for x in v)
    if isinstance(v, dict):
        return "；".join(f"{DATA_LABELS.get(k, '其他')}：{_value(k, x)}" for k, x in v.items())
    return str(v)


def summarise(data: dict) -> tuple[str, str]:
    """(subject, detail) of an event's data, in words: the username the event is about, and the
    rest as 标签：值 pairs."""
    subject = next((str(data[k]) for k in SUBJECT_KEYS if data.get(k)), "")
    parts = []
    order = {k: i for i, k in enumerate(DATA_LABELS)}  # stored keys are sorted: show them in reading order
    for k, v in sorted(data.items(), key=lambda kv: order.get(kv[0], len(order))):
        if k in SUBJECT_KEYS or (k == "letter" and "letter_name" in data):
            continue
        parts.append(f"{DATA_LABELS.get(k, '其他')}：{_value(k, v)}")
    return subject, "；".join(parts)


def display_row(r) -> dict:
    ev: Event = r.Event
    category, label = SECURITY_ACTIONS.get(ev.action, ("", ev.label))
    data = ev.data
    subject, detail = summarise(data)
    if r.actor_name:
        who = f"{r.actor_name}（{r.actor_username}）"
    else:
        who = "系统" if data.get("via") == "cli" or ev.actor_id is None else ""
    return {"id": ev.id, "at": local(ev.at), "category": category, "category_label": SECURITY_CATEGORIES.get(category, ""),
            "action": ev.action, "label": ev.label or label, "actor": who, "actor_username": r.actor_username,
            "subject": subject, "detail": detail, "data": data, "agency_id": ev.agency_id}


def api_item(row: dict) -> dict:
    zone = ZoneInfo(current_app.config["OGI_TIMEZONE"])
    return {"id": row["id"], "at": row["at"].replace(tzinfo=zone).isoformat(timespec="seconds"),
            "category": row["category"], "category_label": row["category_label"], "action": row["action"],
            "label": row["label"], "actor": row["actor"] or None, "actor_username": row["actor_username"],
            "subject": row["subject"], "detail": row["detail"], "data": row["data"]}


# ---------------------------------------------------------------- .xlsx export

EXPORT_COLUMNS = (("时间", 20), ("类别", 12), ("事件", 24), ("操作人", 20), ("对象", 16), ("详情", 80))


def write_row(ws, values: list) -> None:
    """Every exported row goes through here: text that a spreadsheet would take for a formula
    stays text (xlsxsafe); empty strings stay empty cells."""
    ws.append(safe_row(ws, [None if v == "" else (v[:32000] if isinstance(v, str) else v) for v in values]))


def export_rows(f: LogFilter) -> Iterator[list]:
    q = _query(f).execution_options(yield_per=EXPORT_CHUNK)
    for r in db.session.execute(q):
        d = display_row(r)
        yield [d["at"], d["category_label"], d["label"], d["actor"], d["subject"], d["detail"]]


def write_xlsx(f: LogFilter, path: str) -> int:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("安全审计日志")
    ws.freeze_panes = "A2"
    for i, (_, width) in enumerate(EXPORT_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDE4EE")
    header = []
    for name, _ in EXPORT_COLUMNS:
        c = WriteOnlyCell(ws, value=name)
        c.font, c.fill = head_font, head_fill
        header.append(c)
    ws.append(header)
    n = 0
    for values in export_rows(f):
        write_row(ws, values)
        n += 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(EXPORT_COLUMNS))}{n + 1}"
    wb.save(path)
    return n


def export(user: User, f: LogFilter) -> tuple[str, int]:
    """Write the filtered log to a temporary file and record the export (its own event)."""
    n = count(f)
    if n > MAX_EXPORT_ROWS:
        raise ServiceError(f"当前条件下共 {n:,} 条，超过单次导出上限 {MAX_EXPORT_ROWS:,} 条；请缩小日期范围分段导出",
                           "date_from")
    fd, path = tempfile.mkstemp(prefix="ogidesk-seclog-", suffix=".xlsx")
    os.close(fd)
    try:
        n = write_xlsx(f, path)
        record_export(user, "security_log_export", {"filters": "；".join(f.labels) or "全部", "rows": n})
    except BaseException:
        db.session.rollback()
        os.unlink(path)
        raise
    return path, n


# ---------------------------------------------------------------- the last verification

def last_verifications(user: User) -> dict[str, dict | None]:
    """The latest 'verify_run' event the user may read, and the latest of the nightly run (the
    worker's scheduled ``flask verify``), for the box on the security log page."""
    scope = scope_condition(user)
    base = (select(Event).where(Event.case_id.is_(None), Event.action == "verify_run", scope)
            .order_by(Event.at.desc(), Event.id.desc()).limit(1))
    # data_json is written by audit._json (sorted keys, ", " and ": " separators).
    nightly = base.where(Event.data_json.contains('"trigger": "nightly"', autoescape=True))
    return {"last": _verification(db.session.scalar(base)), "nightly": _verification(db.session.scalar(nightly))}


def _verification(ev: Event | None) -> dict | None:
    if ev is None:
        return None
    data = ev.data
    checked = data.get("checked") or {}
    return {"at": local(ev.at), "ok": bool(data.get("ok")), "trigger": TRIGGERS.get(data.get("trigger", "cli"), ""),
            "checked": sum(checked.values()), "problems": int(data.get("problem_count") or 0),
            "seconds": data.get("seconds"), "problem_list": data.get("problems") or [], "event_id": ev.id}
