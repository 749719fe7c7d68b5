"""Jinja filters and globals: dates, clocks and audit data shown in Chinese."""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask, current_app

from ..domain.calendar import version_words
from ..domain.clock import PAUSE_REASONS, STATUS_LABELS
from ..domain.fees import FEE_METHODS
from ..domain.intake import APPLICANT_TYPES, CHANNELS, FORMS, ID_TYPES, ROUTES
from ..domain.outcomes import OUTCOME_BY_CODE
from ..domain.workflow import AGENCY_ROLES, ROLES, STATES
from ..casefile.uploads import human_size
from ..models.attachment import ATTACHMENT_CATEGORIES
from ..models.case import CONSULTATION_RESULTS, DELIVERY_METHODS, STEP_KINDS, STEP_RESULTS
from ..models.remedy import REMEDY_KINDS, REMEDY_RESULTS
from ..services.cases import RETENTIONS
from ..services.operations import REASONS_RESULTS, draft_rows
from ..services.time import local

WEEKDAYS = "一二三四五六日"

PROVISIONAL_TIP = ("该期限涉及尚未确认节假日安排的年度（国务院办公厅尚未发布或管理员尚未录入），"
                   "暂按周末和法定节假日（元旦、春节、清明、劳动节、端午、中秋、国庆）计算，调休和补假安排未知；"
                   "录入该年度工作日历后将自动重新计算。")

# Labels of the keys the services write into audit events.
DATA_LABELS = {
    "number": "案号", "received_on": "收到日期", "receipt_basis": "认定依据", "channel": "申请方式",
    "reply_due": "答复期限", "calendar_version": "日历版本", "provisional": "期限暂定",
    "handler": "承办人", "previous": "原承办人", "notice_date": "告知日期", "period_end": "补正期限",
    "items": "补正事项", "clock_restarts": "重新起算日", "late": "逾期", "outcome": "办理结果",
    "step_id": "环节编号", "kind": "类型", "party": "对象", "sent_on": "发出日期", "due_on": "期限",
    "result": "结果", "answered_on": "答复日期", "effect": "法律效果",
    "public_interest_override": "基于公共利益决定公开", "new_due": "延迟答复期限", "method": "方式",
    "amount": "金额（元）", "paid_on": "缴费日期", "receipt_no": "票据号码", "days": "延长工作日数",
    "reason": "理由", "old_due": "原答复期限", "revision": "稿件版本号", "content_hash": "稿件指纹",
    "approved_hash": "审核稿件指纹", "signed_hash": "签发稿件指纹", "secrecy_reviewed": "已保密审查",
    "secrecy_note": "保密审查意见", "comments": "意见", "note": "说明", "issued_on": "答复日期",
    "on_time": "按期答复", "delivered_on": "送达日期", "proof": "送达凭证", "recipient": "签收人",
    "withdrawn_on": "撤回日期", "archive_number": "档号", "retention": "保管期限",
    "new_calendar_version": "新日历版本", "old_calendar_version": "原日历版本", "revised_by": "修订人",
    "separation_relaxed": "职责分离", "steps": "环节期限",
    "reply_id": "网上补正编号", "attachments": "附件编号", "chars": "字数", "replaced": "替换原查询码",
    "notice": "通知", "via": "通知方式", "to": "收件人", "attempts": "发送次数", "error": "错误",
    "document_id": "原件编号", "title": "名称", "filename": "文件名", "content_type": "文件类型",
    "pages": "页数", "page_numbers": "页码", "boxes": "标注框数", "basis": "不予公开依据", "found_by": "标注方式",
    "box_id": "标注编号", "box_ids": "标注编号", "box": "标注位置", "before": "修改前",
    "release_id": "删除处理版编号", "redacted_pages": "遮盖处理页数", "sha256": "文件指纹",
    "redaction_hash": "标注集指纹",
    "key": "文书", "letter_number": "文号", "letter_sha256": "文书指纹", "replaces_number": "所替换文书文号",
    "reissue_no": "重新出具次数",
    "draft_hash": "稿件指纹", "category": "附件类别", "size": "文件大小", "online_reference": "网上申请查询码",
    "imported": "历史导入", "row": "台账行号", "original_number": "原编号", "closed_on": "办结日期",
    "reply_number": "答复文号", "needs_triage": "待分拣", "changed": "修改内容", "filed_on": "申请复议或起诉日期",
    "body": "复议机关或人民法院", "decided_on": "决定或裁判日期", "notes": "备注", "after": "修改后",
    # The case fields a ledger re-import may change (services.cases.IMPORT_FIELDS).
    "applicant_name": "申请人", "applicant_type": "申请人类型", "description": "申请内容", "doc_number": "所需信息文号",
    "handler_id": "承办人编号", "outcome_code": "办理结果",
    # Cross-agency 协办/征求意见 (services.agency_requests).
    "agency_request_id": "平台内来函编号", "to_agency": "收函机关", "from_agency": "答复机关",
    "answer_hash": "答复指纹", "from_step_id": "来函环节编号",
}
# Where a key means something else in one kind of event.
_ACTION_LABELS = {("issue_notice", "number"): "文号", ("reissue_notice", "number"): "文号"}
_VALUE_LABELS = {
    "channel": CHANNELS, "outcome": {k: o.label for k, o in OUTCOME_BY_CODE.items()},
    "kind": {**STEP_KINDS, **REMEDY_KINDS}, "retention": RETENTIONS, "applicant_type": APPLICANT_TYPES,
    "outcome_code": {k: o.label for k, o in OUTCOME_BY_CODE.items()},
    "category": ATTACHMENT_CATEGORIES,
    "content_type": {"application/pdf": "PDF 文件", "image/jpeg": "JPEG 图片", "image/png": "PNG 图片"},
}
_HASH_KEYS = {"answer_hash", "content_hash", "approved_hash", "signed_hash", "draft_hash", "redaction_hash", "sha256", "letter_sha256"}
_QUIET_KEYS = {"box", "before", "box_ids"}  # coordinates: in the record, not for the reader


_ORDER = {k: i for i, k in enumerate(DATA_LABELS)}
# Internal or default values that say nothing to the reader of the timeline.
_QUIET = {"calendar_version", "step_id", "message_id", "ref", "replaces", "attachment_id", "category_label",
          "online_request_id", "remedy_id"}


def event_checks(ev) -> list[tuple[str, str]]:
    """The event's 校验值 (file and draft fingerprints): shown folded away, apart from its words."""
    return [(DATA_LABELS.get(k, "校验值"), _value(k, v)) for k, v in ev.data.items()
            if k in _HASH_KEYS and isinstance(v, str) and v]


def event_items(ev) -> list[tuple[str, str]]:
    """The event's data as (label, value) pairs, in a reading order; empty and internal ones left out."""
    out = []
    data = dict(ev.data)
    before, after = data.get("before"), data.get("after")
    if isinstance(before, dict) and isinstance(after, dict):  # a record corrected: what changed, old → new
        data.pop("after")
        data["changed"] = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    for key, value in sorted(data.items(), key=lambda kv: _ORDER.get(kv[0], len(_ORDER))):
        if value is None or value == "" or value == [] or key in _QUIET or key in _QUIET_KEYS \
                or key in _HASH_KEYS or (key == "provisional" and not value):
            continue
        out.append((_ACTION_LABELS.get((ev.action, key)) or DATA_LABELS.get(key, key), _value(key, value)))
    return out


def _step_change(c: dict) -> str:
    """One step deadline a calendar revision recomputed (services.clocks.recompute_steps)."""
    who = f"{c.get('kind', '')}{'（' + c['party'] + '）' if c.get('party') else ''}"
    if c.get("printed_in"):
        return f"{who}：保持{c['old_due']}（已载于文书 {c['printed_in']}；按新日历为{c['computed_due']}）"
    return f"{who}：{c['old_due']} → {c['new_due']}{'（暂定）' if c.get('provisional') else ''}"


def _value(key: str, value) -> str:
    if key == "changed" and isinstance(value, dict):  # field: [old, new]
        return "；".join(f"{DATA_LABELS.get(k, '其他')}：{_value(k, v[0]) if v[0] not in (None, '') else '—'} → "
                        f"{_value(k, v[1]) if v[1] not in (None, '') else '—'}"
                        for k, v in value.items() if isinstance(v, list) and len(v) == 2)
    if isinstance(value, dict):  # a record's fields (a remedy's result after a change)
        return "；".join(f"{DATA_LABELS.get(k, '其他')}：{_value(k, v) if v not in (None, '') else '—'}"
                        for k, v in value.items())
    if key == "size" and isinstance(value, int):
        return human_size(value)
    if key == "steps" and isinstance(value, list):
        return "；".join(_step_change(c) for c in value if isinstance(c, dict))
    if isinstance(value, bool):
        return "是" if value else "否"
    if key in ("calendar_version", "new_calendar_version", "old_calendar_version") and isinstance(value, str):
        return version_words(value)
    if key == "key" and isinstance(value, str):
        return _letter_name(value) or value
    if key in _HASH_KEYS and isinstance(value, str):
        return value[:12]
    if key == "method":
        return DELIVERY_METHODS.get(value) or FEE_METHODS.get(value) or str(value)
    if key == "result":
        return (CONSULTATION_RESULTS.get(value) or REASONS_RESULTS.get(value) or REMEDY_RESULTS.get(value)
                or STEP_RESULTS.get(value) or str(value))
    labels = _VALUE_LABELS.get(key)
    if labels and value in labels:
        return labels[value]
    return str(value)


def _letter_name(key: str) -> str:
    from ..letters.catalogue import get_letter

    try:
        return get_letter(key).name
    except Exception:  # an unknown or retired letter type
        return ""


def fmt_date(d) -> str:
    if not d:
        return "—"
    if isinstance(d, str):
        d = date.fromisoformat(d)
    return d.isoformat()


def fmt_date_wd(d) -> str:
    if not d:
        return "—"
    if isinstance(d, str):
        d = date.fromisoformat(d)
    return f"{d.isoformat()}（周{WEEKDAYS[d.weekday()]}）"


def fmt_cn_date(d) -> str:
    """A date as letters and the public pages write it (2026年11月23日)."""
    if not d:
        return "—"
    if isinstance(d, str):
        d = date.fromisoformat(d)
    return f"{d.year}年{d.month}月{d.day}日"


def fmt_datetime(dt: datetime | None) -> str:
    if not dt:
        return "—"
    return f"{local(dt):%Y-%m-%d %H:%M}"


def fmt_iso_datetime(text: str | None) -> str:
    """A stored ISO timestamp (naive UTC, e.g. the intake hints' computed_at) in the office's time."""
    try:
        return fmt_datetime(datetime.fromisoformat(text)) if text else "—"
    except ValueError:
        return "—"


def has_endpoint(name: str) -> bool:
    """Lets the layout link to pages of other blueprints only when they are installed."""
    return name in current_app.view_functions


def register_display(app: Flask) -> None:
    app.jinja_env.filters.update(date=fmt_date, date_wd=fmt_date_wd, datetime=fmt_datetime, cn_date=fmt_cn_date,
                                 calendar_words=version_words, iso_datetime=fmt_iso_datetime)
    app.jinja_env.globals.update(
        STATES=STATES, ROLES=ROLES, AGENCY_ROLES=sorted(AGENCY_ROLES), STATUS_LABELS=STATUS_LABELS, PAUSE_REASONS=PAUSE_REASONS,
        PROVISIONAL_TIP=PROVISIONAL_TIP, CHANNELS=CHANNELS, APPLICANT_TYPES=APPLICANT_TYPES,
        ID_TYPES=ID_TYPES, FORMS=FORMS, ROUTES=ROUTES, RETENTIONS=RETENTIONS, draft_rows=draft_rows,
        event_items=event_items, event_checks=event_checks, has_endpoint=has_endpoint,
        config_endpoints=lambda: current_app.view_functions,
    )
