"""The audit trail: case events (who changed which case, from which stage to which) and the
security events that have no case (sign-ins, accounts, settings, templates, exports, calendar,
integrity), all in the append-only ``event`` table."""
import json
from datetime import datetime

from ..extensions import db
from ..models import Case, Event, User

# Security events by action: (category, Chinese label). The security log view filters on the
# category; every service that writes one of these uses ``record_security`` with the action here.
SECURITY_CATEGORIES = {
    "signin": "登录",
    "account": "账号",
    "roles": "角色权限",
    "settings": "设置",
    "templates": "文书模板",
    "exports": "导出",
    "calendar": "工作日历",
    "integrity": "完整性与备份",
    "notify": "通知",
    "online": "网上申请",
    "annual": "年度报告",
}
SECURITY_ACTIONS: dict[str, tuple[str, str]] = {
    "login_ok": ("signin", "登录成功"),
    "login_failed": ("signin", "登录失败"),
    "login_locked": ("signin", "连续登录失败，账号锁定"),
    "logout": ("signin", "退出登录"),
    "session_expired": ("signin", "会话超时失效"),
    "unlock_user": ("account", "管理员解锁账号"),
    "user_created": ("account", "创建账号"),
    "password_changed": ("account", "修改密码"),
    "password_reset": ("account", "管理员重置密码"),
    "password_expired": ("account", "密码过期"),
    "user_deactivated": ("account", "停用账号"),
    "user_reactivated": ("account", "启用账号"),
    "token_issued": ("account", "签发 API 令牌"),
    "token_revoked": ("account", "注销 API 令牌"),
    "contacts_changed": ("account", "修改联系方式"),
    "roles_changed": ("roles", "变更角色"),
    "agency_settings_changed": ("settings", "修改机关设置"),
    "agency_supervisor_changed": ("settings", "设置公开主管部门"),
    "template_changed": ("templates", "修改文书模板"),
    "ledger_export": ("exports", "导出台账"),
    "annual_export": ("exports", "导出年度报表"),
    "casefile_print": ("exports", "打印案卷"),
    "security_log_export": ("exports", "导出安全日志"),
    "calendar_changed": ("calendar", "修改工作日历"),
    "calendar_change_requested": ("calendar", "申请修改工作日历"),
    "calendar_change_decided": ("calendar", "处理工作日历修改申请"),
    "hash_mismatch": ("integrity", "文件校验不符，拒绝下载"),
    "verify_run": ("integrity", "校验存储文件"),
    "tally_rebuild": ("integrity", "重建统计汇总"),
    "backup_created": ("integrity", "备份"),
    "restore_done": ("integrity", "恢复"),
    "message_resent": ("notify", "重新发送通知"),
    # A confirmed online request is the case's "register" event (with its online_reference).
    "online_rejected": ("online", "退回网上申请"),
    # The annual report's entered parts (app/reports/annual_entry.py): a year's report has no case.
    "annual_entry_saved": ("annual", "保存年度报告"),
    "annual_entry_imported": ("annual", "导入年度报告表二"),
    "annual_submitted": ("annual", "报送年度报告"),
    "annual_reopened": ("annual", "撤回已报送的年度报告"),
}


def _json(data: dict | None) -> str:
    return json.dumps(data or {}, ensure_ascii=False, sort_keys=True, default=str)


def record(case: Case, actor: User | None, action: str, label: str, from_state: str | None,
           to_state: str | None, data: dict | None = None, agency_id: int | None = None) -> Event:
    # agency_id: the acting agency where the step moved the case away (分办), else the case's.
    ev = Event(agency_id=agency_id or case.agency_id, case_id=case.id, actor_id=actor.id if actor else None,
               action=action, label=label, from_state=from_state, to_state=to_state,
               data_json=_json(data))
    db.session.add(ev)
    return ev


def case_event_row(case: Case, actor_id: int | None, action: str, label: str, from_state: str | None,
                   to_state: str | None, data: dict | None = None) -> dict:
    """One case event as a row for ``insert_events`` (bulk work: thousands of cases at once)."""
    return {"agency_id": case.agency_id, "case_id": case.id, "actor_id": actor_id, "action": action,
            "label": label, "from_state": from_state, "to_state": to_state, "data_json": _json(data),
            "at": datetime.utcnow()}


def insert_events(rows: list[dict]) -> None:
    """Case events in one executemany, in the caller's transaction (no ORM objects to track)."""
    if rows:
        db.session.execute(db.insert(Event.__table__), rows)


def record_security(agency_id: int | None, actor: User | None, action: str, data: dict | None = None,
                    label: str | None = None) -> Event:
    """A security event (no case). The caller commits, in the same transaction as the change."""
    if action not in SECURITY_ACTIONS:
        raise KeyError(f"unknown security action {action!r}: add it to SECURITY_ACTIONS")
    ev = Event(agency_id=agency_id, case_id=None, actor_id=actor.id if actor else None,
               action=action, label=label or SECURITY_ACTIONS[action][1], data_json=_json(data))
    db.session.add(ev)
    return ev


def record_export(actor: User, action: str, data: dict) -> Event:
    """An export or print (a download, nothing else changes): its own event, committed at once."""
    ev = record_security(actor.agency_id, actor, action, data)
    db.session.commit()
    return ev
