"""Import of an office's historical Excel ledger (历史台账导入).

import_ledger(actor, file_bytes, dry_run=..., on_existing=...) is the entry point (the web view and
the API call it). The file is checked as a package before any XML is parsed (zip, size, no DTD or
entity declarations in any part) and parsed with defusedxml; a file that cannot be read is refused
with BadFile (422). Every row is validated; any invalid row imports nothing. A row whose original
number (or, without one, whose content) is already in the agency is refused with the case it
matches, or by explicit choice updates that case if nobody has worked on it since. Each row
becomes a case through services.cases.register_imported_cases (numbering and audit events there);
open ones wait in the triage list (services.cases.triage_imported).
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import time
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable

from flask import current_app
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from sqlalchemy.exc import IntegrityError

from ..domain.intake import APPLICANT_TYPES, CHANNELS, applicant_key
from ..domain.outcomes import OUTCOMES
from ..extensions import db
from ..models import Case, Event, Job, User
from ..services import jobs as background
from ..services.cases import register_imported_cases, update_imported_case
from ..services.errors import Conflict, Forbidden, ServiceError
from ..services.time import today as _today
from .xlsxsafe import put

MAX_BYTES = 16 * 1024 * 1024  # a 50,000-row ledger from Excel is 3–6 MB
MAX_UNPACKED = 100 * 1024 * 1024  # (a 50,000-row sheet is ~30 MB) refuses zip bombs before openpyxl inflates anything
MAX_ROWS = 50_000  # the confirmed import runs in the worker (app/services/jobs.py), in one transaction
WRITE_BATCH = 1000  # cases inserted (and progress reported) together
TEMPLATE_ROWS = 2000  # rows of the template that carry the dropdowns


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool
    width: int
    hint: str


COLUMNS = (
    Column("applicant_name", "申请人姓名/名称", True, 22, "必填，不超过200字"),
    Column("applicant_type", "申请人类型", True, 26, "必填，从下拉列表选择：" + "、".join(APPLICANT_TYPES.values())),
    Column("channel", "申请方式", True, 16, "必填，从下拉列表选择：" + "、".join(CHANNELS.values())),
    Column("received_on", "收到申请日期", True, 14, "必填，日期，如 2024-03-15（第三十一条规定的收到申请之日）"),
    Column("description", "申请内容", True, 50, "必填，所需政府信息的名称或描述"),
    Column("handler", "承办人", False, 12, "选填，本机关用户的姓名或用户名"),
    Column("closed_on", "办结日期", False, 14, "已办结的必填，不得早于收到申请日期；未办结的留空"),
    Column("outcome", "办理结果", False, 36, "已办结的必填（从下拉列表选择，或填写年度报告栏目如“三(一)”）；未办结的留空"),
    Column("reply_number", "答复文号", False, 24, "选填"),
    Column("doc_number", "所需信息文号", False, 24, "选填，申请人所要文件的文号（用于高频申请分析）"),
    Column("original_number", "原编号", False, 20, "选填，原台账中的编号；重复导入时据此识别已导入的行（留空则按申请人、收到日期和申请内容识别）"),
)
HEADERS = {c.header: c for c in COLUMNS}
LETTERS = "ABCDEFGHIJK"
ON_EXISTING = {"refuse": "拒绝导入已存在的行", "update": "更新已存在的行（仅限导入后无人办理的历史案件）"}


class BadFile(ServiceError):
    """The upload is not a readable .xlsx workbook (broken, hostile or oversized): 422."""

    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message, "file")


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"第{self.row}行" + (f"“{self.column}”" if self.column else "") + f"：{self.message}"


@dataclass
class RowPlan:
    """What happens (or, in a dry run, would happen) to one valid row."""
    row: int
    action: str  # create | refuse | update | unchanged
    reason: str = ""
    case_id: int | None = None  # the existing case (refuse/update/unchanged) or the new one
    number: str = ""
    rec: dict = field(default_factory=dict, repr=False)

    ACTIONS = {"create": "新建", "refuse": "拒绝（已存在）", "update": "更新", "unchanged": "已存在，内容相同"}

    @property
    def label(self) -> str:
        return self.ACTIONS[self.action]

    def as_dict(self) -> dict:
        return {"row": self.row, "action": self.action, "reason": self.reason, "case_id": self.case_id,
                "number": self.number, "applicant_name": self.rec.get("applicant_name", ""),
                "received_on": self.rec["received_on"].isoformat() if self.rec.get("received_on") else None,
                "original_number": self.rec.get("original_number", "")}


@dataclass
class ImportResult:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    case_ids: list[int] = field(default_factory=list)
    plan: list[RowPlan] = field(default_factory=list)
    dry_run: bool = False
    on_existing: str = "refuse"

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def created(self) -> int:
        return len(self.case_ids)

    def count(self, action: str) -> int:
        return sum(1 for p in self.plan if p.action == action)

    @property
    def refused(self) -> list[RowPlan]:
        return [p for p in self.plan if p.action == "refuse"]

    def as_dict(self) -> dict:
        return {"ok": self.ok, "dry_run": self.dry_run, "on_existing": self.on_existing, "rows": self.rows,
                "created": self.created if not self.dry_run else 0, "case_ids": self.case_ids,
                "to_create": self.count("create"), "updated": self.count("update"),
                "refused": self.count("refuse"), "unchanged": self.count("unchanged"),
                "plan": [p.as_dict() for p in self.plan],
                "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in self.errors]}


# ---------------------------------------------------------------- value lookups

def _norm(s: str) -> str:
    s = unicodedata.normalize("NFKC", str(s)).strip()
    s = re.sub(r"\s+", "", s)
    return re.sub(r"[-－–—―]+", "—", s)


def _lookup(pairs) -> dict[str, str]:
    return {_norm(k): v for k, v in pairs}


APPLICANT_LOOKUP = _lookup([(k, k) for k in APPLICANT_TYPES] + [(v, k) for k, v in APPLICANT_TYPES.items()]
                           + [(v.split("—")[-1], k) for k, v in APPLICANT_TYPES.items() if k != "natural"]
                           + [("个人", "natural"), ("公民", "natural")])
CHANNEL_LOOKUP = _lookup([(k, k) for k in CHANNELS] + [(v, k) for k, v in CHANNELS.items()] + [
    ("当面", "in_person"), ("现场", "in_person"), ("现场提交", "in_person"), ("当面申请", "in_person"),
    ("邮寄", "registered_post"), ("挂号信", "registered_post"), ("快递", "registered_post"),
    ("EMS", "registered_post"), ("平信", "ordinary_post"), ("信函", "ordinary_post"),
    ("互联网", "online"), ("网上", "online"), ("网上申请", "online"), ("在线申请", "online"),
    ("网络", "online"), ("电子邮件", "online"), ("邮件", "online")])
_ROW_FIRST_OUTCOME = {}
for _o in OUTCOMES:
    _ROW_FIRST_OUTCOME.setdefault(_o.row, _o.code)
OUTCOME_LOOKUP = _lookup([(o.code, o.code) for o in OUTCOMES] + [(o.label, o.code) for o in OUTCOMES]
                         + [(k, c) for k, c in _ROW_FIRST_OUTCOME.items()])


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def _date(v: Any) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    s = unicodedata.normalize("NFKC", _text(v))
    m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", s)
    if not m:
        raise ValueError("日期格式无法识别，请填写如 2024-03-15 的日期")
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise ValueError(f"“{s}”不是有效日期") from None


# ---------------------------------------------------------------- reading the file

_FORBIDDEN_MARKUP = tuple(m.encode(enc) for m in ("<!DOCTYPE", "<!ENTITY")
                          for enc in ("utf-8", "utf-16-le", "utf-16-be"))
_SCAN_CHUNK = 1 << 20


def _check_package(data: bytes) -> None:
    """Refuse anything that is not a real, reasonably sized .xlsx package before any XML is parsed:
    no zip bomb (sizes as declared; zipfile never inflates a member beyond its declared size) and
    no DTD or entity declaration in any part (an .xlsx never needs one; they are how billion-laughs
    and external-entity attacks start)."""
    if len(data) > MAX_BYTES:
        raise BadFile(f"文件过大：不能超过 {MAX_BYTES // 1024 // 1024} MB")
    if not data.startswith(b"PK\x03\x04"):
        raise BadFile("文件不是 Excel .xlsx 格式（旧版 .xls 或其他格式请先另存为 .xlsx）")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            names = {i.filename for i in infos}
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise BadFile("文件不是有效的 Excel .xlsx 工作簿")
            if sum(i.file_size for i in infos) > MAX_UNPACKED:
                raise BadFile("文件解压后过大，拒绝处理（可能是压缩炸弹）")
            for info in infos:
                with z.open(info) as part:
                    tail = b""
                    while chunk := part.read(_SCAN_CHUNK):
                        window = tail + chunk
                        if any(m in window for m in _FORBIDDEN_MARKUP):
                            raise BadFile(f"文件中的“{info.filename[:80]}”含有文档类型（DTD）或实体声明，"
                                          "为安全起见拒绝处理；请在 Excel 中另存为新的 .xlsx 后再上传")
                        tail = window[-20:]
    except BadFile:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, EOFError, OSError,
            ValueError, RuntimeError):  # broken archive or stream, bad CRC, unsupported compression or encryption
        raise BadFile("无法读取该 .xlsx 文件，文件可能已损坏") from None


def read_sheet(data: bytes) -> list[tuple[int, tuple]]:
    """(row number, values) of the first sheet's non-empty rows, the header first.

    Everything openpyxl parses is read here, inside one guard: broken XML, a part openpyxl does
    not understand, or a declaration defusedxml refuses is a BadFile (422), never a 500."""
    if not data:
        raise ServiceError("请选择要上传的 .xlsx 文件", "file")
    _check_package(data)
    rows: list[tuple[int, tuple]] = []
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            if not wb.worksheets:
                raise BadFile("工作簿中没有工作表")
            for n, values in enumerate(wb.worksheets[0].iter_rows(values_only=True), start=1):
                if values is None or all(_text(v) == "" for v in values):
                    continue
                rows.append((n, tuple(values)))
                if len(rows) > MAX_ROWS + 1:
                    raise BadFile(f"一次最多导入 {MAX_ROWS} 行，请分批导入")
        finally:
            wb.close()
    except BadFile:
        raise
    except Exception:  # XML syntax errors, defusedxml refusals, openpyxl's own errors on odd parts
        raise BadFile("无法读取该 .xlsx 文件：文件内容已损坏或不是 Excel 生成的工作簿") from None
    return rows


def _header_map(header_row) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, v in enumerate(header_row):
        name = re.sub(r"[*＊]|（(必填|选填)）|\((必填|选填)\)", "", _text(v)).strip()
        if name in HEADERS:
            if HEADERS[name].key in found:
                raise BadFile(f"表头“{name}”出现了两次")
            found[HEADERS[name].key] = i
    missing = [c.header for c in COLUMNS if c.required and c.key not in found]
    if missing:
        raise BadFile("第1行表头缺少以下列：" + "、".join(missing) + "（请使用下载的导入模板）")
    return found


def _users(agency_id: int) -> tuple[dict[str, User], set[str]]:
    users = list(db.session.scalars(db.select(User).where(User.agency_id == agency_id)))
    by_name: dict[str, list[User]] = {}
    for u in users:
        by_name.setdefault(u.name.strip(), []).append(u)
    lookup = {u.username: u for u in users}
    ambiguous = set()
    for name, us in by_name.items():
        handlers = [u for u in us if u.has_role("handler")] or us
        if len(handlers) > 1:
            ambiguous.add(name)
        else:
            lookup.setdefault(name, handlers[0])
    return lookup, ambiguous


def parse_rows(actor: User, sheet: list[tuple[int, tuple]]) -> tuple[list[dict], ImportResult]:
    if not sheet:
        raise BadFile("工作表是空的")
    cols = _header_map(sheet[0][1])
    users, ambiguous = _users(actor.agency_id)
    today = _today()
    result, parsed = ImportResult(), []
    for n, values in sheet[1:]:
        result.rows += 1
        if result.rows > MAX_ROWS:
            raise BadFile(f"一次最多导入 {MAX_ROWS} 行，请分批导入")
        cell = {k: (values[i] if i < len(values) else None) for k, i in cols.items()}
        errs: list[RowError] = []

        def err(key: str, msg: str) -> None:
            errs.append(RowError(n, next(c.header for c in COLUMNS if c.key == key), msg))

        rec: dict[str, Any] = {"row": n}
        for key, limit in (("applicant_name", 200), ("description", 5000), ("reply_number", 100),
                           ("doc_number", 100), ("original_number", 100)):
            v = _text(cell.get(key))
            if not v and HEADERS_BY_KEY[key].required:
                err(key, "不能为空")
            elif len(v) > limit:
                err(key, f"不能超过{limit}字")
            rec[key] = v
        for key, lookup, what in (("applicant_type", APPLICANT_LOOKUP, "申请人类型"),
                                  ("channel", CHANNEL_LOOKUP, "申请方式")):
            v = _text(cell.get(key))
            if not v:
                err(key, "不能为空")
            elif _norm(v) not in lookup:
                err(key, f"未知的{what}“{v}”")
            else:
                rec[key] = lookup[_norm(v)]
        for key in ("received_on", "closed_on"):
            raw = cell.get(key)
            rec[key] = None
            if _text(raw) == "":
                if key == "received_on":
                    err(key, "不能为空")
                continue
            try:
                d = _date(raw)
            except ValueError as e:
                err(key, str(e))
                continue
            if d.year < 2000:
                err(key, "日期早于2000年，请核对")
            elif d > today:
                err(key, f"日期 {d.isoformat()} 晚于今天")
            else:
                rec[key] = d
        if rec["received_on"] and rec["closed_on"] and rec["closed_on"] < rec["received_on"]:
            err("closed_on", f"办结日期 {rec['closed_on'].isoformat()} 早于收到申请日期 {rec['received_on'].isoformat()}")
        outcome = _text(cell.get("outcome"))
        rec["outcome_code"] = None
        if outcome:
            code = OUTCOME_LOOKUP.get(_norm(outcome))
            if code is None:
                err("outcome", f"未知的办理结果“{outcome}”（请从下拉列表选择）")
            rec["outcome_code"] = code
        has_closed = _text(cell.get("closed_on")) != ""
        if has_closed and not outcome:
            err("outcome", "填写了办结日期的，必须填写办理结果")
        if outcome and not has_closed:
            err("closed_on", "填写了办理结果的，必须填写办结日期")
        handler = _text(cell.get("handler"))
        rec["handler_id"] = None
        if handler:
            if handler in ambiguous and handler not in users:
                err("handler", f"本机关有多名用户叫“{handler}”，请改填用户名")
            elif handler not in users:
                err("handler", f"本机关没有用户“{handler}”")
            else:
                rec["handler_id"] = users[handler].id
        if errs:
            result.errors.extend(errs)
        else:
            parsed.append(rec)
    if result.rows == 0:
        raise BadFile("文件中没有可导入的数据行")
    return parsed, result


HEADERS_BY_KEY = {c.key: c for c in COLUMNS}


# ---------------------------------------------------------------- importing

def row_key(rec: dict) -> str:
    """The identity of a ledger row: its original number, or (without one) who asked for what when."""
    if rec["original_number"]:
        return "no:" + _norm(rec["original_number"])[:100]
    digest = hashlib.sha256("\x1f".join((applicant_key(rec["applicant_name"]), rec["received_on"].isoformat(),
                                          _norm(rec["description"]))).encode()).hexdigest()
    return "fp:" + digest[:64]


def _existing(agency_id: int, records: list[dict]) -> tuple[dict[str, Case], dict[str, Case]]:
    """Cases of the agency already holding these rows: by import key, and by case number
    (a ledger exported from this system and imported again carries its own numbers)."""
    by_key: dict[str, Case] = {}
    by_number: dict[str, Case] = {}
    keys = sorted({r["key"] for r in records})
    numbers = sorted({r["original_number"] for r in records if r["original_number"]})
    for i in range(0, len(keys), 500):
        for c in db.session.scalars(db.select(Case).where(Case.agency_id == agency_id,
                                                          Case.import_key.in_(keys[i:i + 500]))):
            by_key[c.import_key] = c
    for i in range(0, len(numbers), 500):
        for c in db.session.scalars(db.select(Case).where(Case.agency_id == agency_id,
                                                          Case.number.in_(numbers[i:i + 500]))):
            by_number[c.number] = c
    return by_key, by_number


def _worked_on(case_ids: list[int]) -> set[int]:
    """Imported cases somebody has acted on since (any event but the import itself)."""
    out: set[int] = set()
    for i in range(0, len(case_ids), 500):
        out.update(db.session.scalars(db.select(Event.case_id).where(
            Event.case_id.in_(case_ids[i:i + 500]), Event.action.not_in(("import", "import_update"))).distinct()))
    return out


def plan_rows(actor: User, records: list[dict], on_existing: str) -> list[RowPlan]:
    for rec in records:
        rec["key"] = row_key(rec)
    by_key, by_number = _existing(actor.agency_id, records)
    matched = [c.id for c in by_key.values()]
    busy = _worked_on(matched) if on_existing == "update" else set()
    seen: dict[str, int] = {}
    plan = []
    for rec in records:
        key = rec["key"]
        if key in seen:
            plan.append(RowPlan(rec["row"], "refuse", f"与第{seen[key]}行是同一件申请（原编号或内容相同）", rec=rec))
            continue
        seen[key] = rec["row"]
        case = by_key.get(key)
        if case is None and rec["original_number"] in by_number:
            c = by_number[rec["original_number"]]
            plan.append(RowPlan(rec["row"], "refuse", f"原编号“{rec['original_number']}”已是本机关案件 {c.number} 的编号",
                                c.id, c.number, rec=rec))
            continue
        if case is None:
            plan.append(RowPlan(rec["row"], "create", rec=rec))
            continue
        what = f"原编号“{rec['original_number']}”" if rec["original_number"] else "相同申请人、收到日期和申请内容的行"
        if on_existing != "update":
            plan.append(RowPlan(rec["row"], "refuse", f"{what}已导入为案件 {case.number}", case.id, case.number, rec=rec))
        elif case.id in busy:
            plan.append(RowPlan(rec["row"], "refuse", f"{what}已导入为案件 {case.number}，该案件导入后已有办理记录，"
                                "不能用台账覆盖", case.id, case.number, rec=rec))
        elif case.year != rec["received_on"].year:
            plan.append(RowPlan(rec["row"], "refuse", f"{what}已导入为案件 {case.number}，收到申请日期的年度不同"
                                "（编号按年度编排），请核对", case.id, case.number, rec=rec))
        elif _unchanged(case, rec):
            plan.append(RowPlan(rec["row"], "unchanged", f"{what}已导入为案件 {case.number}，内容相同",
                                case.id, case.number, rec=rec))
        else:
            plan.append(RowPlan(rec["row"], "update", f"将更新已导入的案件 {case.number}", case.id, case.number, rec=rec))
    return plan


def _unchanged(case: Case, rec: dict) -> bool:
    from ..services.cases import IMPORT_FIELDS
    return all(getattr(case, k) == rec[k] for k in IMPORT_FIELDS)


def import_ledger(actor: User, file_bytes: bytes, *, dry_run: bool = False, on_existing: str = "refuse",
                  progress: Callable[..., None] | None = None) -> ImportResult:
    """Validate every row (any invalid row imports nothing); then create the new rows' cases,
    refuse (or, on_existing="update", update) rows already imported, in one transaction.
    A dry run reports the same plan and writes nothing.

    ``progress(done, total, commit=False)`` (the job's, which leaves this transaction open) is
    told the rows checked, then the rows written: total is twice the rows."""
    if not actor.has_role("admin"):
        raise Forbidden("只有管理员可以导入历史台账")
    if on_existing not in ON_EXISTING:
        raise ServiceError("已存在的行的处理方式无效（refuse 或 update）", "on_existing")
    records, result = parse_rows(actor, read_sheet(file_bytes))
    result.dry_run, result.on_existing = dry_run, on_existing
    total = 2 * result.rows
    if progress:
        progress(result.rows, total, commit=False)
    if result.errors:
        return result
    result.plan = plan_rows(actor, records, on_existing)
    if dry_run:
        return result
    today = _today()
    try:
        # Numbers follow the order of receipt within each year of receipt.
        ordered = sorted(result.plan, key=lambda p: (p.rec["received_on"], p.row))
        creates = [p for p in ordered if p.action == "create"]
        rest = result.rows - len(creates)

        def written(n: int) -> None:
            if progress:
                progress(result.rows + rest + n, total, commit=False)

        for p in ordered:
            if p.action == "update":
                update_imported_case(actor, db.session.get(Case, p.case_id), p.rec, today)
        made = register_imported_cases(actor, [p.rec for p in creates], today, batch=WRITE_BATCH, on_batch=written)
        for p, (case_id, number) in zip(creates, made):
            p.case_id, p.number = case_id, number
            result.case_ids.append(case_id)
        written(len(creates))
        db.session.commit()
        if progress:  # SQLite: the writes above held the one write lock; the count is stored now
            progress(total, total)
    except IntegrityError:
        db.session.rollback()
        result.case_ids.clear()
        raise Conflict("另一次导入同时写入了相同的行，本次未导入任何数据；请重新上传以查看哪些行已存在", "file") from None
    except Exception:
        db.session.rollback()
        result.case_ids.clear()
        raise
    return result


def error_report(result: ImportResult, limit: int = 200) -> str:
    """The rejected rows, one a line (a failed import job shows it)."""
    rows = len({e.row for e in result.errors})
    lines = [f"校验未通过：共 {result.rows} 行数据，其中 {rows} 行有误，未导入任何数据。请修改以下各行后重新上传整份文件。"]
    lines += [str(e) for e in result.errors[:limit]]
    if len(result.errors) > limit:
        lines.append(f"……另有 {len(result.errors) - limit} 处错误未列出")
    return "\n".join(lines)


# ---------------------------------------------------------------- the confirmed import: a job

KIND = "ledger_import"


def submit(actor: User, token: str, on_existing: str) -> Job:
    """Confirm a previewed import: the staged file is kept for the job (out of the preview's
    expiry) until the job ends; the worker validates, plans and writes it in one transaction."""
    if not actor.has_role("admin"):
        raise Forbidden("只有管理员可以导入历史台账")
    if on_existing not in ON_EXISTING:
        raise ServiceError("已存在的行的处理方式无效（refuse 或 update）", "on_existing")
    data = staged(actor, token)  # checks the token, the expiry and the hash
    rows = _count_rows(data)
    path = _staged_path(actor, token)
    try:
        os.replace(path, _job_file(actor.id, token))  # a second confirmation finds no preview
    except FileNotFoundError:
        raise ServiceError("该预览已确认导入，请在“我的后台任务”中查看", "file") from None
    return background.submit(KIND, actor, {"token": token, "on_existing": on_existing, "rows": rows}, 2 * rows,
                             audit_data=None)


def _count_rows(data: bytes) -> int:
    return max(0, len(read_sheet(data)) - 1)


def _job_file(user_id: int, token: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{64}", token or ""):
        raise ServiceError("导入文件标识无效", "file")
    return os.path.join(_staging_dir(), f"{user_id}-{token}.job.xlsx")


def _run_job(job: Job, progress) -> background.Result:
    """The worker's part. Killed mid-way, nothing was committed: the rerun starts again from the
    file, which stays until the job ends (done or failed)."""
    actor = db.session.get(User, job.requested_by_id)
    path = _job_file(job.requested_by_id, job.params["token"])
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise ServiceError("导入的文件已不存在（任务已结束或文件已清理），请重新上传") from None
    if hashlib.sha256(data).hexdigest() != job.params["token"]:
        raise ServiceError("导入的文件已损坏，请重新上传")
    try:
        result = import_ledger(actor, data, on_existing=job.params.get("on_existing", "refuse"), progress=progress)
    except background.Interrupted:
        raise  # declared interrupted (a rerun has it): the file stays for that run
    except Exception:
        _drop(path)
        raise
    _drop(path)
    if not result.ok:
        raise ServiceError(error_report(result))
    summary = result.as_dict()
    summary.pop("plan")
    summary["refused_rows"] = [p.as_dict() for p in result.refused][:500]
    return background.Result(data=summary)


def _drop(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _resubmit(job: Job, actor: User) -> Job:
    path = _job_file(job.requested_by_id, job.params["token"])
    if job.requested_by_id != actor.id or not os.path.exists(path):
        raise ServiceError("导入任务结束后文件已删除，不能重新提交；请重新上传文件并预览", "job")
    return background.submit(KIND, actor, dict(job.params), job.total)


def _describe(job: Job) -> str:
    r = job.result if job.status == "done" else None
    if r:
        extra = "".join(f"，{label} {r[k]:,} 行" for k, label in (("updated", "更新"), ("refused", "拒绝"),
                                                                  ("unchanged", "内容相同")) if r.get(k))
        return f"已导入 {r['created']:,} 件历史申请（共 {r['rows']:,} 行{extra}）"
    return f"校验并写入 {job.params.get('rows', 0):,} 行（进度先计校验的行，再计写入的行；全部成功才导入）"


background.define(KIND, "历史台账导入", _run_job, resubmit=_resubmit, describe=_describe,
                  roles=("admin",))


# ---------------------------------------------------------------- the file between preview and import

STAGING_HOURS = 2  # a previewed file not confirmed within this time must be uploaded again


def _staging_dir() -> str:
    path = current_app.config["IMPORT_STAGING_DIR"] or os.path.join(current_app.instance_path, "import-staging")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def _staged_path(actor: User, token: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{64}", token or ""):
        raise ServiceError("预览已失效，请重新上传文件", "file")
    return os.path.join(_staging_dir(), f"{actor.id}-{token}.xlsx")


def stage(actor: User, data: bytes) -> str:
    """Keep a previewed file for its confirmation; the token is its SHA-256 (per user)."""
    token = hashlib.sha256(data).hexdigest()
    folder = _staging_dir()
    cutoff = time.time() - STAGING_HOURS * 3600
    for name in os.listdir(folder):  # the ledger holds personal data: stale previews go
        full = os.path.join(folder, name)
        if not name.endswith(".job.xlsx") and os.path.getmtime(full) < cutoff:  # a job's file: until it ends
            os.unlink(full)
    tmp = _staged_path(actor, token) + ".part"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, _staged_path(actor, token))
    return token


def staged(actor: User, token: str) -> bytes:
    path = _staged_path(actor, token)
    try:
        if os.path.getmtime(path) < time.time() - STAGING_HOURS * 3600:
            raise FileNotFoundError(path)
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise ServiceError("预览已失效（超过 2 小时或已导入），请重新上传文件", "file") from None
    if hashlib.sha256(data).hexdigest() != token:
        raise ServiceError("预览的文件已损坏，请重新上传", "file")
    return data


def unstage(actor: User, token: str) -> None:
    try:
        os.unlink(_staged_path(actor, token))
    except (FileNotFoundError, ServiceError):
        pass


# ---------------------------------------------------------------- the template

def template_xlsx(actor: User) -> bytes:
    """An empty ledger with the expected headers, dropdowns and a sheet of instructions."""
    wb = Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append([c.header for c in COLUMNS])
    for i, c in enumerate(COLUMNS):
        cell = ws.cell(row=1, column=i + 1)
        cell.font = Font(bold=True, color="9C0006" if c.required else "000000")
        cell.fill = PatternFill("solid", fgColor="DDE4EE")
        ws.column_dimensions[LETTERS[i]].width = c.width
    ws.freeze_panes = "A2"

    opts = wb.create_sheet("选项")
    handlers = [u.name for u in db.session.scalars(
        db.select(User).where(User.agency_id == actor.agency_id).order_by(User.id)) if u.has_role("handler")]
    lists = {"applicant_type": list(APPLICANT_TYPES.values()), "channel": list(CHANNELS.values()),
             "outcome": [o.label for o in OUTCOMES], "handler": handlers}
    for j, (key, values) in enumerate(lists.items()):
        opts.cell(row=1, column=j + 1, value=HEADERS_BY_KEY[key].header)
        for k, v in enumerate(values, start=2):
            put(opts, k, j + 1, v)  # handler names are typed by users
    opts.sheet_state = "hidden"

    last = TEMPLATE_ROWS + 1
    for j, (key, values) in enumerate(lists.items()):
        if not values:
            continue
        col = LETTERS[[c.key for c in COLUMNS].index(key)]
        src = LETTERS[j]
        dv = DataValidation(type="list", formula1=f"'选项'!${src}$2:${src}${len(values) + 1}",
                            allow_blank=not HEADERS_BY_KEY[key].required, showErrorMessage=key != "handler")
        dv.error, dv.errorTitle = "请从下拉列表中选择", "取值无效"
        dv.prompt, dv.promptTitle = HEADERS_BY_KEY[key].hint[:250], HEADERS_BY_KEY[key].header
        ws.add_data_validation(dv)
        dv.add(f"{col}2:{col}{last}")
    for key in ("received_on", "closed_on"):
        col = LETTERS[[c.key for c in COLUMNS].index(key)]
        dv = DataValidation(type="date", operator="between", formula1="DATE(2000,1,1)", formula2="DATE(2100,12,31)",
                            allow_blank=True, showErrorMessage=True)
        dv.error, dv.errorTitle = "请填写日期，如 2024-03-15", "日期无效"
        dv.prompt, dv.promptTitle = HEADERS_BY_KEY[key].hint, HEADERS_BY_KEY[key].header
        ws.add_data_validation(dv)
        dv.add(f"{col}2:{col}{last}")
        for r in range(2, last + 1):
            ws[f"{col}{r}"].number_format = "yyyy-mm-dd"

    info = wb.create_sheet("填写说明")
    info.append(["列", "要求"])
    for c in COLUMNS:
        info.append([c.header, c.hint])
    info.append([])
    for line in ("导入规则：逐行校验，全部通过才导入；任何一行有误则整份文件都不导入，并列出每一错误行的行号和原因。",
                 "重复导入：原编号（或在未填原编号时，申请人、收到申请日期和申请内容）与已导入的案件相同的行不会再次导入，并逐行说明；上传后先预览，确认后才导入。",
                 "已办结的申请须同时填写办结日期和办理结果；未办结的两者都留空，导入后进入“历史导入待分拣”清单，由登记员或负责人分拣后才进入办理队列。",
                 "办理结果也可填写年度报告表三的栏目编号，如“三(一)”“三(四)1”。",
                 f"每次最多导入 {MAX_ROWS} 行，文件不超过 {MAX_BYTES // 1024 // 1024} MB。",
                 "导入的案件标记为“历史导入”，编号按收到申请的年度顺序编排。"):
        info.append([line])
    info.column_dimensions["A"].width = 16
    info.column_dimensions["B"].width = 100
    for cell in info[1]:
        cell.font = Font(bold=True)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
