"""Import of an office's historical Excel ledger (历史台账导入): validate every row, then all or nothing.

import_ledger(actor, file_bytes) is the service entry point (the web view and the API call it).
Imported cases carry Case.imported=True and an audit event "import"; finished ones have no
cached due date (the history does not say how their clock ran), open ones get their clock
computed from the receipt date.
"""
from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from ..domain.intake import APPLICANT_TYPES, CHANNELS
from ..domain.outcomes import OUTCOME_BY_CODE, OUTCOMES
from ..extensions import db
from ..models import Case, User
from ..services.audit import record
from ..services.clocks import refresh_clock
from ..services.errors import Forbidden, ServiceError
from ..services.numbering import next_number
from ..services.time import today as _today
from .xlsxsafe import put

MAX_BYTES = 5 * 1024 * 1024
MAX_UNPACKED = 100 * 1024 * 1024  # refuses zip bombs before openpyxl inflates anything
MAX_ROWS = 10_000
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
)
HEADERS = {c.header: c for c in COLUMNS}
LETTERS = "ABCDEFGHIJ"


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"第{self.row}行" + (f"“{self.column}”" if self.column else "") + f"：{self.message}"


@dataclass
class ImportResult:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    case_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def created(self) -> int:
        return len(self.case_ids)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "rows": self.rows, "created": self.created, "case_ids": self.case_ids,
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

def open_workbook(data: bytes):
    """Refuse anything that is not a real, reasonably sized .xlsx before parsing it."""
    if not data:
        raise ServiceError("请选择要上传的 .xlsx 文件", "file")
    if len(data) > MAX_BYTES:
        raise ServiceError(f"文件过大：不能超过 {MAX_BYTES // 1024 // 1024} MB", "file")
    if not data.startswith(b"PK\x03\x04"):
        raise ServiceError("文件不是 Excel .xlsx 格式（旧版 .xls 或其他格式请先另存为 .xlsx）", "file")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise ServiceError("文件不是有效的 Excel .xlsx 工作簿", "file")
            if sum(i.file_size for i in z.infolist()) > MAX_UNPACKED:
                raise ServiceError("文件解压后过大，拒绝处理", "file")
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ServiceError:
        raise
    except Exception:  # zipfile.BadZipFile, XML errors, openpyxl's own exceptions
        raise ServiceError("无法读取该 .xlsx 文件，文件可能已损坏", "file") from None


def _header_map(header_row) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, v in enumerate(header_row):
        name = re.sub(r"[*＊]|（(必填|选填)）|\((必填|选填)\)", "", _text(v)).strip()
        if name in HEADERS:
            if HEADERS[name].key in found:
                raise ServiceError(f"表头“{name}”出现了两次", "file")
            found[HEADERS[name].key] = i
    missing = [c.header for c in COLUMNS if c.required and c.key not in found]
    if missing:
        raise ServiceError("第1行表头缺少以下列：" + "、".join(missing) + "（请使用下载的导入模板）", "file")
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


def parse_rows(actor: User, wb) -> tuple[list[dict], ImportResult]:
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise ServiceError("工作表是空的", "file")
    cols = _header_map(header)
    users, ambiguous = _users(actor.agency_id)
    today = _today()
    result, parsed = ImportResult(), []
    for n, values in enumerate(rows, start=2):
        if values is None or all(_text(v) == "" for v in values):
            continue
        result.rows += 1
        if result.rows > MAX_ROWS:
            raise ServiceError(f"一次最多导入 {MAX_ROWS} 行，请分批导入", "file")
        cell = {k: (values[i] if i < len(values) else None) for k, i in cols.items()}
        errs: list[RowError] = []

        def err(key: str, msg: str) -> None:
            errs.append(RowError(n, next(c.header for c in COLUMNS if c.key == key), msg))

        rec: dict[str, Any] = {"row": n}
        for key, limit in (("applicant_name", 200), ("description", 5000), ("reply_number", 100),
                           ("doc_number", 100)):
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
        raise ServiceError("文件中没有可导入的数据行", "file")
    return parsed, result


HEADERS_BY_KEY = {c.key: c for c in COLUMNS}


# ---------------------------------------------------------------- importing

def import_ledger(actor: User, file_bytes: bytes) -> ImportResult:
    """Validate every row; import all rows in one transaction, or none if any row is refused."""
    if not actor.has_role("admin"):
        raise Forbidden("只有管理员可以导入历史台账")
    wb = open_workbook(file_bytes)
    try:
        records, result = parse_rows(actor, wb)
    finally:
        wb.close()
    if result.errors:
        return result
    today = _today()
    code = actor.agency.code
    try:
        # Numbers follow the order of receipt within each year of receipt.
        for rec in sorted(records, key=lambda r: (r["received_on"], r["row"])):
            year = rec["received_on"].year
            seq = next_number(actor.agency_id, "case", year)
            closed = rec["closed_on"] is not None
            if closed:
                state = "delivered" if OUTCOME_BY_CODE[rec["outcome_code"]].drafted else "closed"
            else:
                state = "handling"
            case = Case(
                agency_id=actor.agency_id, year=year, seq=seq, number=f"{code}-{year}-{seq:04d}", state=state,
                channel=rec["channel"], arrived_on=rec["received_on"], confirmed_on=None,
                received_on=rec["received_on"], receipt_basis="历史台账导入：收到申请日期以原台账记载为准",
                logged_at=datetime.utcnow(), applicant_type=rec["applicant_type"],
                applicant_name=rec["applicant_name"], description=rec["description"],
                doc_number=rec["doc_number"], handler_id=rec["handler_id"], created_by_id=actor.id,
                clock_start=rec["received_on"], extension_days=0, outcome_code=rec["outcome_code"],
                closed_on=rec["closed_on"], imported=True, reply_due=None, calendar_version="",
            )
            db.session.add(case)
            db.session.flush()
            if not closed:
                refresh_clock(case, today)
            record(case, actor, "import", "历史台账导入", None, state, {
                "imported": True, "row": rec["row"], "number": case.number,
                "received_on": rec["received_on"], "closed_on": rec["closed_on"],
                "outcome": rec["outcome_code"], "reply_number": rec["reply_number"],
                "reply_due": case.reply_due,
            })
            result.case_ids.append(case.id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        result.case_ids.clear()
        raise
    return result


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
                 "已办结的申请须同时填写办结日期和办理结果；未办结的两者都留空，导入后进入“办理中”并按收到申请日期计算答复期限。",
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
