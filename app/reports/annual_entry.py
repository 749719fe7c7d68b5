"""The annual report as a whole document: what the office enters (table 二, the written sections),
its submission (Art. 49: by 31 January of the next year), and ``document()``, everything the report
holds for one agency and year (reused when a supervising office compiles its agencies' reports).

Writes are audited security events (a report has no case): saved, imported, submitted, reopened.
Who may do what (the officer in charge answers for the report, 国办公开办函〔2021〕30号):
  every agency role reads; the head and the administrator enter and submit; only the head reopens
  a submitted report.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from sqlalchemy import func, select

from ..domain.workflow import ROLES
from ..extensions import db
from ..models import Agency, AnnualReportEntry, Case, CaseTally, Step, User
from ..services.audit import record_security
from ..services.errors import Conflict, Forbidden, ServiceError, conflict_is_409
from ..services.params import Params
from ..services.time import local, today as _today, utcnow
from . import annual
from .annual_text import (AMOUNT, SECTION_TITLES, TABLE2, TABLE2_SHEET, TEXT_MAX, TEXT_SECTIONS, TO_FILL, Facts,
                          outcome_mix, prefill, table2_cells, table2_complete)

ENTRY_ROLES = ("head", "admin")
SUBMIT_ROLES = ("head", "admin")
REOPEN_ROLES = ("head",)
MAX_COUNT = 10_000_000
MAX_AMOUNT = Decimal("100000000")  # 万元
IMPORT_MAX_BYTES = 2 * 1024 * 1024  # table 二 is one small sheet
CONFLICT = "年度报告已被他人修改、导入或报送，页面上的内容不是最新的；请刷新页面后重试。您的输入尚未保存。"
_INT = re.compile(r"\d+")
_DEC = re.compile(r"\d+(\.\d{1,4})?")


class EntryInvalid(ServiceError):
    """Several fields of table 二 at once: each message goes beside its field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(f"有 {len(errors)} 处填写有误，请按提示修改后再保存（已填写的内容均已保留）。",
                         next(iter(errors)))
        self.errors = errors
        self.typed: dict | None = None


def deadline(year: int) -> date:
    """Art. 49: a department submits and publishes last year's report by 31 January."""
    return date(year + 1, 1, 31)


def _check_year(year: int) -> None:
    if not 2000 <= year <= 2100:
        raise ServiceError("年度无效", "year")


def get_entry(agency_id: int, year: int) -> AnnualReportEntry | None:
    return db.session.scalar(select(AnnualReportEntry).where(
        AnnualReportEntry.agency_id == agency_id, AnnualReportEntry.year == year))


def stored_table2(entry: AnnualReportEntry | None) -> dict:
    return json.loads(entry.section2_json or "{}") if entry else {}


def stored_texts(entry: AnnualReportEntry | None) -> dict:
    return json.loads(entry.texts_json or "{}") if entry else {}


# ---------------------------------------------------------------- parsing table 二 and the texts

def _clean_number(v: Any) -> str:
    # Full-width digits and points (typed with a Chinese input method) are the same number.
    return unicodedata.normalize("NFKC", str(v)).strip() if v is not None else ""


def parse_table2(raw: Mapping[str, Any]) -> dict:
    """{row: {field: value}} from form fields t2_<row>_<field>; a blank field is "not entered".
    Counts are non-negative integers; the fee amount is 万元 with up to four decimals."""
    values: dict[str, dict] = {}
    errors: dict[str, str] = {}
    for name, rkey, fkey, label in table2_cells():
        s = _clean_number(raw.get(name))
        if s == "":
            continue
        if fkey == AMOUNT:
            if not _DEC.fullmatch(s):
                errors[name] = f"{label}应为不小于0的数字，最多保留4位小数（单位：万元），例如 12.5"
                continue
            try:
                d = Decimal(s)
            except InvalidOperation:
                errors[name] = f"{label}不是有效的数字"
                continue
            if d > MAX_AMOUNT:
                errors[name] = f"{label}超出合理范围（单位是万元）"
                continue
            values.setdefault(rkey, {})[fkey] = str(d.normalize()) if d else "0"
        else:
            if not _INT.fullmatch(s):
                errors[name] = f"{label}应为不小于0的整数"
                continue
            n = int(s)
            if n > MAX_COUNT:
                errors[name] = f"{label}超出合理范围"
                continue
            values.setdefault(rkey, {})[fkey] = n
    if errors:
        raise EntryInvalid(errors)
    return values


def text_digest(text: str) -> str:
    """Identifies the prefilled text a page showed (posted back as auto_<section>)."""
    return hashlib.sha256(text.strip().replace("\r\n", "\n").encode()).hexdigest()[:32]


def parse_texts(raw: Mapping[str, Any], auto: dict[str, str]) -> dict[str, str]:
    """The written sections to store. A section left empty, or still exactly the prefilled text (the
    one the page showed, or the one the figures give now), is not stored: it keeps following the
    figures, which can change until the year's last cases are closed."""
    p = Params(raw)
    out = {}
    for key in TEXT_SECTIONS:
        text = p.text(f"text_{key}", SECTION_TITLES[key], max_len=TEXT_MAX).replace("\r\n", "\n")
        if not text or text == auto.get(key, "").strip() or text_digest(text) == raw.get(f"auto_{key}"):
            continue
        out[key] = text
    return out


def form_values(entry: AnnualReportEntry | None) -> dict[str, str]:
    """The entry as form field values (what the page shows before anything is typed)."""
    t2 = stored_table2(entry)
    out = {}
    for name, rkey, fkey, _ in table2_cells():
        v = t2.get(rkey, {}).get(fkey)
        out[name] = "" if v is None else str(v)
    return out


# ---------------------------------------------------------------- figures for the text

def fees_collected(agency_id: int, year: int) -> tuple[int, int]:
    """(requests, yuan) of information-processing fees paid in the year (handbook §2: reported in 六).
    A fee is a "fee" step answered "paid"; its amount (whole yuan) is in the step's details."""
    start, end = annual.bounds(year)
    rows = db.session.scalars(
        select(Step.details_json).join(Case, Case.id == Step.case_id)
        .where(Case.agency_id == agency_id, Step.kind == "fee", Step.result == "paid",
               Step.answered_on.between(start, end)))
    n = yuan = 0
    for details in rows:
        n += 1
        yuan += int(json.loads(details or "{}").get("amount") or 0)
    return n, yuan


def _on_time(agency_id: int, year: int) -> tuple[int, int]:
    T = CaseTally
    measured, on_time = db.session.execute(
        select(func.coalesce(func.sum(T.measured), 0), func.coalesce(func.sum(T.on_time), 0))
        .where(T.agency_id == agency_id, T.closed_ym.between(year * 100 + 1, year * 100 + 12))).one()
    return int(measured), int(on_time)


def facts(agency: Agency, rep: annual.AnnualReport, table2: dict) -> Facts:
    measured, on_time = _on_time(agency.id, rep.year)
    fee_cases, fee_yuan = fees_collected(agency.id, rep.year)
    t3, t4 = rep.table3, rep.table4
    return Facts(
        agency=agency.name, year=rep.year, new=t3["一"]["total"], carried_in=t3["二"]["total"],
        closed=t3["三(七)"]["total"], carried_out=t3["四"]["total"], outcomes=outcome_mix(t3),
        measured=measured, on_time=on_time, late=measured - on_time,
        reconsiderations=t4["reconsideration"]["total"],
        suits=t4["direct_suit"]["total"] + t4["suit_after_reconsideration"]["total"],
        corrected=sum(v["corrected"] for v in t4.values()), fee_cases=fee_cases, fee_yuan=fee_yuan,
        table2=table2)


# ---------------------------------------------------------------- the whole document

def document(agency_id: int, year: int, today: date | None = None) -> dict:
    """Everything the year's report holds, as plain values: the title, tables 二, 三 and 四, the six
    sections' texts (stored, else prefilled), the checks and the submission. A submitted report
    is the one submitted: its tables and texts come from the snapshot taken then."""
    _check_year(year)
    agency = db.session.get(Agency, agency_id)
    entry = get_entry(agency_id, year)
    rep = annual.compute(agency_id, year, today)
    table2 = stored_table2(entry)
    auto = prefill(facts(agency, rep, table2))
    saved = stored_texts(entry)
    texts = {k: saved.get(k) or auto[k] for k in TEXT_SECTIONS}
    snapshot = json.loads(entry.submitted_json) if entry and entry.submitted_at and entry.submitted_json else None
    table3, table4, checks = rep.table3, rep.table4, [c.__dict__ for c in rep.checks]
    changed_since = False
    if snapshot:
        changed_since = snapshot["table3"] != table3 or snapshot["table4"] != table4
        table3, table4, texts, checks = snapshot["table3"], snapshot["table4"], snapshot["texts"], snapshot["checks"]
    due = deadline(year)
    submitted_on = date.fromisoformat(snapshot["submitted_on"]) if snapshot else None
    return {
        "agency_id": agency_id, "agency_name": agency.name, "year": year,
        "title": f"{agency.name}政府信息公开工作年度报告（{year}年）",
        "sections": [{"key": k, "title": SECTION_TITLES[k]} for k in SECTION_TITLES],
        "table2": table2, "table2_complete": table2_complete(table2),
        "table3": table3, "table4": table4, "checks": checks,
        "checks_ok": all(c["ok"] for c in checks),
        "texts": texts, "auto_texts": auto, "saved_texts": sorted(saved),
        "has_data": rep.has_data or entry is not None,
        "unfinished_year": bool(today and today <= annual.bounds(year)[1]),
        "version": entry.version if entry else 0,
        "updated_at": local(entry.updated_at) if entry else None,
        "updated_by": entry.updated_by.name if entry and entry.updated_by else None,
        "deadline": due,
        "submitted": bool(snapshot),
        "submitted_on": submitted_on,
        "submitted_at": local(entry.submitted_at) if snapshot else None,
        "submitted_by": entry.submitted_by.name if snapshot and entry.submitted_by else None,
        "late": (submitted_on > due) if submitted_on else bool(today and today > due),
        "changed_since_submission": changed_since,
    }


# ---------------------------------------------------------------- writes

def _may(actor: User, roles: tuple[str, ...], what: str) -> None:
    if not actor.has_role(*roles):
        raise Forbidden(f"只有{'或'.join(ROLES[r] for r in roles)}可以{what}")


def _version(raw_version: Any) -> int:
    try:
        return int(str(raw_version).strip())
    except (TypeError, ValueError):
        raise ServiceError("页面缺少版本信息，请刷新页面后重试", "version") from None


def _editable(actor: User, year: int, version: Any) -> AnnualReportEntry | None:
    """The entry at the version the page showed (None: none yet and the page knew it)."""
    _check_year(year)
    entry = get_entry(actor.agency_id, year)
    seen = _version(version)
    if (entry.version if entry else 0) != seen:
        raise Conflict(CONFLICT, "version")
    if entry is not None and entry.submitted_at is not None:
        raise ServiceError(f"{year}年度报告已于{local(entry.submitted_at):%Y-%m-%d}报送，不能修改；"
                           "如需修改，请负责人先撤回报送", "version")
    return entry


def _write(actor: User, year: int, entry: AnnualReportEntry | None, table2: dict, texts: dict) -> AnnualReportEntry:
    if entry is None:
        entry = AnnualReportEntry(agency_id=actor.agency_id, year=year)
        db.session.add(entry)
    entry.section2_json = json.dumps(table2, ensure_ascii=False, sort_keys=True)
    entry.texts_json = json.dumps(texts, ensure_ascii=False, sort_keys=True)
    entry.updated_at, entry.updated_by_id = utcnow(), actor.id
    return entry


@conflict_is_409(CONFLICT)
def save(actor: User, year: int, raw: Mapping[str, Any]) -> AnnualReportEntry:
    """Table 二 and the written sections from the page's one form (version: what the page showed)."""
    _may(actor, ENTRY_ROLES, "填写年度报告")
    entry = _editable(actor, year, raw.get("version"))
    table2 = parse_table2(raw)
    rep = annual.compute(actor.agency_id, year, _today())
    auto = prefill(facts(actor.agency, rep, table2))
    texts = parse_texts(raw, auto)
    before = {"table2": stored_table2(entry), "texts": stored_texts(entry)}
    if entry is not None and before == {"table2": table2, "texts": texts}:
        raise ServiceError("没有需要保存的修改", "version")
    entry = _write(actor, year, entry, table2, texts)
    db.session.flush()
    record_security(actor.agency_id, actor, "annual_entry_saved", {
        "year": year, "table2": table2, "texts_saved": sorted(texts), "before_table2": before["table2"],
        "version": entry.version})
    db.session.commit()
    return entry


@conflict_is_409(CONFLICT)
def copy_in_force(actor: User, year: int, version: Any) -> AnnualReportEntry:
    """Convenience: last year's 现行有效件数 as this year's starting point (only where still blank)."""
    _may(actor, ENTRY_ROLES, "填写年度报告")
    entry = _editable(actor, year, version)
    last = stored_table2(get_entry(actor.agency_id, year - 1))
    table2 = stored_table2(entry)
    copied = {}
    for rkey in ("rules", "normative"):
        v = last.get(rkey, {}).get("in_force")
        if v is not None and table2.get(rkey, {}).get("in_force") is None:
            table2.setdefault(rkey, {})["in_force"] = v
            copied[rkey] = v
    if not copied:
        raise ServiceError(f"{year - 1}年度报告没有可沿用的“现行有效件数”，或本年已填写", "version")
    entry = _write(actor, year, entry, table2, stored_texts(entry))
    db.session.flush()
    record_security(actor.agency_id, actor, "annual_entry_saved", {
        "year": year, "copied_in_force_from": year - 1, "copied": copied, "version": entry.version})
    db.session.commit()
    return entry


@conflict_is_409(CONFLICT)
def submit(actor: User, year: int, version: Any) -> AnnualReportEntry:
    """Record the submission (报送) and freeze the document as submitted."""
    _may(actor, SUBMIT_ROLES, "报送年度报告")
    entry = _editable(actor, year, version)
    today = _today()
    if today <= annual.bounds(year)[1]:
        raise ServiceError(f"{year}年尚未结束，年度报告须在年度结束后报送（截止{deadline(year):%Y年%-m月%-d日}）",
                           "version")
    if entry is None or not table2_complete(stored_table2(entry)):
        raise ServiceError("表二（主动公开政府信息情况）尚未填写完整（没有的填0），不能报送", "version")
    doc = document(actor.agency_id, year, today)
    if not doc["checks_ok"]:
        raise ServiceError("表三、表四的勾稽关系校验未通过，数据核实前不能报送", "version")
    unfinished = [SECTION_TITLES[k] for k in TEXT_SECTIONS if TO_FILL in doc["texts"][k]]
    if unfinished:
        raise ServiceError(f"{'、'.join(unfinished)}中还有“{TO_FILL}”，请填写后再报送", "version")
    snapshot = {"submitted_on": today.isoformat(), "table3": doc["table3"], "table4": doc["table4"],
                "texts": doc["texts"], "checks": doc["checks"]}
    entry.submitted_at, entry.submitted_by_id = utcnow(), actor.id
    entry.submitted_json = json.dumps(snapshot, ensure_ascii=False, sort_keys=True, default=str)
    db.session.flush()
    record_security(actor.agency_id, actor, "annual_submitted", {
        "year": year, "submitted_on": today, "deadline": deadline(year), "late": today > deadline(year),
        "version": entry.version})
    db.session.commit()
    return entry


@conflict_is_409(CONFLICT)
def reopen(actor: User, year: int, version: Any, reason: Any) -> AnnualReportEntry:
    """The head withdraws a submission (e.g. an error found after it): editable again, audited."""
    _may(actor, REOPEN_ROLES, "撤回已报送的年度报告")
    _check_year(year)
    entry = get_entry(actor.agency_id, year)
    if entry is None or entry.version != _version(version):
        raise Conflict(CONFLICT, "version")
    if entry.submitted_at is None:
        raise ServiceError(f"{year}年度报告尚未报送", "version")
    why = Params({"reason": reason}).text("reason", "撤回原因", required=True, max_len=500)
    was = {"submitted_at": entry.submitted_at, "submitted_by_id": entry.submitted_by_id}
    entry.submitted_at = entry.submitted_by_id = None
    entry.submitted_json = ""
    db.session.flush()
    record_security(actor.agency_id, actor, "annual_reopened", {
        "year": year, "reason": why, **was, "version": entry.version})
    db.session.commit()
    return entry


# ---------------------------------------------------------------- import of table 二 (.xlsx)

def read_table2_xlsx(data: bytes) -> dict[str, str]:
    """Form field values from a workbook in the layout of the exported table 二 (sheet “表二 主动公开”,
    or the first sheet): each row found by its label, its values in the columns after it."""
    from openpyxl import load_workbook

    from .importer import BadFile, _check_package

    if not data:
        raise ServiceError("请选择要上传的 .xlsx 文件", "file")
    if len(data) > IMPORT_MAX_BYTES:
        raise BadFile(f"文件过大：表二文件不能超过 {IMPORT_MAX_BYTES // 1024 // 1024} MB")
    _check_package(data)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            ws = wb[TABLE2_SHEET] if TABLE2_SHEET in wb.sheetnames else wb.worksheets[0]
            rows = list(ws.iter_rows(max_row=80, max_col=10, values_only=True))  # table 二 is 16 rows
        finally:
            wb.close()
    except BadFile:
        raise
    except Exception:
        raise BadFile("无法读取该 .xlsx 文件：文件内容已损坏或不是 Excel 生成的工作簿") from None
    labels = {label: (block, rkey) for block in TABLE2 for rkey, label in block.rows}
    found: dict[str, str] = {}
    for row in rows:
        cells = ["" if v is None else str(v).strip() for v in row]
        for i, c in enumerate(cells):
            if c in labels:
                block, rkey = labels.pop(c)
                vals = [v for v in row[i + 1:]]
                for j, (fkey, _) in enumerate(block.fields):
                    v = vals[j] if j < len(vals) else None
                    found[f"t2_{rkey}_{fkey}"] = "" if v is None else _xlsx_value(v)
                break
    if labels:
        raise BadFile("文件中找不到表二的以下行：" + "、".join(labels) + "（请使用本页导出的 Excel 中的“表二 主动公开”工作表）")
    return found


def _xlsx_value(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, float):
        return format(Decimal(repr(v)), "f")
    return str(v).strip()



@conflict_is_409(CONFLICT)
def import_table2(actor: User, year: int, data: bytes, version: Any) -> AnnualReportEntry:
    """Table 二 from an uploaded workbook: every cell is checked as if typed; all or nothing."""
    _may(actor, ENTRY_ROLES, "填写年度报告")
    entry = _editable(actor, year, version)
    values = read_table2_xlsx(data)
    try:
        table2 = parse_table2(values)
    except EntryInvalid as e:
        e.typed = values  # the page shows the file's values beside the messages
        raise
    before = stored_table2(entry)
    entry = _write(actor, year, entry, table2, stored_texts(entry))
    db.session.flush()
    record_security(actor.agency_id, actor, "annual_entry_imported", {
        "year": year, "table2": table2, "before_table2": before, "version": entry.version})
    db.session.commit()
    return entry

