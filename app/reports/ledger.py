"""The ledger (台账): every case of an agency, filtered, sorted, paged and exported.

Filters come from untrusted query strings: anything unknown or impossible is refused with a
Chinese message (ServiceError → 400) instead of silently showing an empty table.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Callable, Iterator, Mapping

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import and_, func, select

from ..domain.clock import DUE_SOON_DAYS, STATUS_LABELS, clock_status
from ..domain.intake import APPLICANT_TYPES, CHANNELS
from ..domain.outcomes import OUTCOME_BY_CODE, OUTCOMES
from ..domain.workflow import OPEN_STATES, STATES
from ..extensions import db
from ..models import Case, User
from ..services.calendar import load_calendar
from ..services.clocks import clock_bounds, clock_condition  # noqa: F401 (the ledger's filters)
from ..services import search
from ..services.errors import ServiceError
from ..services.params import Params
from ..services.time import today as _today
from .xlsxsafe import safe_row

# Pseudo-states offered next to the real ones.
STATE_GROUPS = {"open": "全部未办结", "finished": "全部已办结"}
FINISHED = tuple(s for s in STATES if s not in OPEN_STATES)

CLOCK_FILTERS = {
    "running": "正常计时",
    "due_soon": f"即将到期（剩余≤{DUE_SOON_DAYS}个工作日）",
    "overdue": "已超期",
    "paused": "暂停计时",
    "stopped": "停止计时（待补正）",
    "triage": "历史导入待分拣",
}
TRIAGE_LABEL = "历史导入待分拣"

SORTS = {
    "received_on": "收到申请日期",
    "number": "编号",
    "closed_on": "办结日期",
    "reply_due": "答复期限",
    "applicant": "申请人",
    "state": "状态",
}
DIRECTIONS = {"asc": "升序", "desc": "降序"}

FILTER_PARAMS = ("state", "received_from", "received_to", "closed_from", "closed_to", "channel",
                 "applicant_type", "outcome", "handler_id", "clock", "q", "imported")
HIDDEN_PARAMS = ("report_year", "report_cell", "ids")
PAGING_PARAMS = ("sort", "dir", "page", "per_page", "exact")
ALLOWED_PARAMS = frozenset(FILTER_PARAMS + HIDDEN_PARAMS + PAGING_PARAMS)
MAX_IDS = 1000
COUNT_CAP = 10_000  # the page counts at most this many matches unless an exact total is asked for
# A search verifies each match it counts (a table row read per candidate): it counts fewer.
SEARCH_COUNT_CAP = 1_000
# Beyond SEARCH_COUNT_CAP, the first cases of the list in its order are checked first: when the
# page's matches lie among them, that is the page. A term matching at least one case in
# DENSE_EVERY of them is walked in list order for later pages too; a rarer one goes by the index.
SEARCH_PREFIX = 2_000
DENSE_EVERY = 100


@dataclass
class LedgerFilter:
    agency_id: int
    conds: list = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # active filters, in words
    args: dict[str, str] = field(default_factory=dict)  # normalised non-empty filter args (for links)
    sort: str = "received_on"
    direction: str = "desc"
    page: int = 1
    per_page: int = 50
    cell_label: str | None = None  # drill-down from the annual report
    today: date | None = None
    soon_bound: date | None = None  # first date that is no longer "due soon"
    exact: bool = False  # count every match (drill-downs, or asked for) instead of stopping at COUNT_CAP
    search_at: int | None = None  # position of the `q` condition in conds

    def where(self):
        return and_(Case.agency_id == self.agency_id, *self.conds)

    def link_args(self, **over: Any) -> dict[str, Any]:
        out = dict(self.args)
        if self.sort != "received_on" or self.direction != "desc":
            out.update(sort=self.sort, dir=self.direction)
        if self.per_page != 50:
            out["per_page"] = self.per_page
        if self.exact and not self.cell_label and "ids" not in self.args:
            out["exact"] = "1"
        out.update({k: v for k, v in over.items()})
        return {k: v for k, v in out.items() if v not in (None, "")}


def clock_display(state: str, reply_due: date | None, today: date, bound: date,
                  needs_triage: bool = False, paused_until: date | None = None) -> tuple[str, str, int | None]:
    """The same rule as clock_condition, for one row: (code, label, working days left)."""
    if state not in OPEN_STATES:
        return "", "", None
    if needs_triage:
        return "triage", TRIAGE_LABEL, None
    code, left = clock_status(load_calendar(), reply_due, paused_until, today, stopped=state == "correction")
    return code, STATUS_LABELS[code], left


def parse_filters(agency_id: int, raw: Mapping[str, Any], *, paging: bool = True) -> LedgerFilter:
    unknown = sorted(set(raw) - ALLOWED_PARAMS)
    if unknown:
        raise ServiceError(f"不支持的筛选条件：{'、'.join(unknown)}", unknown[0])
    p = Params(raw)
    f = LedgerFilter(agency_id=agency_id)
    f.today = _today()
    f.soon_bound = clock_bounds(f.today)

    def keep(name: str, value: Any, label: str) -> None:
        f.args[name] = value if isinstance(value, str) else str(value)
        f.labels.append(label)

    state = p.choice("state", "状态", {**STATES, **STATE_GROUPS}, required=False)
    if state == "open":
        f.conds.append(Case.state.in_(sorted(OPEN_STATES)))
    elif state == "finished":
        f.conds.append(Case.state.in_(FINISHED))
    elif state:
        f.conds.append(Case.state == state)
    if state:
        keep("state", state, f"状态：{({**STATES, **STATE_GROUPS})[state]}")

    for prefix, column, label in (("received", Case.received_on, "收到申请日期"),
                                  ("closed", Case.closed_on, "办结日期")):
        lo = p.date(f"{prefix}_from", f"{label}起")
        hi = p.date(f"{prefix}_to", f"{label}止")
        if lo and hi and hi < lo:
            raise ServiceError(f"{label}止（{hi.isoformat()}）不能早于{label}起（{lo.isoformat()}）",
                               f"{prefix}_to")
        if lo:
            f.conds.append(column >= lo)
            keep(f"{prefix}_from", lo.isoformat(), f"{label}不早于 {lo.isoformat()}")
        if hi:
            f.conds.append(column <= hi)
            keep(f"{prefix}_to", hi.isoformat(), f"{label}不晚于 {hi.isoformat()}")
    rf, ct = f.args.get("received_from"), f.args.get("closed_to")
    if rf and ct and ct < rf:
        raise ServiceError(f"办结日期止（{ct}）早于收到申请日期起（{rf}）：案件不可能在收到之前办结", "closed_to")

    channel = p.choice("channel", "申请方式", CHANNELS, required=False)
    if channel:
        f.conds.append(Case.channel == channel)
        keep("channel", channel, f"申请方式：{CHANNELS[channel]}")
    atype = p.choice("applicant_type", "申请人类型", APPLICANT_TYPES, required=False)
    if atype:
        f.conds.append(Case.applicant_type == atype)
        keep("applicant_type", atype, f"申请人类型：{APPLICANT_TYPES[atype]}")
    outcome = p.choice("outcome", "办理结果", {o.code: o.label for o in OUTCOMES}, required=False)
    if outcome:
        f.conds.append(Case.outcome_code == outcome)
        keep("outcome", outcome, f"办理结果：{OUTCOME_BY_CODE[outcome].label}")

    handler = p.text("handler_id", "承办人", max_len=20)
    if handler == "none":
        f.conds.append(Case.handler_id.is_(None))
        keep("handler_id", "none", "承办人：未分派")
    elif handler:
        hid = p.integer("handler_id", "承办人")
        u = db.session.get(User, hid)
        if u is None or u.agency_id != agency_id:
            raise ServiceError("承办人不存在：请从列表中选择本机关的承办人", "handler_id")
        f.conds.append(Case.handler_id == hid)
        keep("handler_id", str(hid), f"承办人：{u.name}")

    clock = p.choice("clock", "计时状态", CLOCK_FILTERS, required=False)
    if clock:
        f.conds.append(clock_condition(clock, f.today, f.soon_bound))
        keep("clock", clock, f"计时状态：{CLOCK_FILTERS[clock]}")

    text = p.text("q", "关键词", max_len=100)
    if text:
        f.search_at = len(f.conds)
        f.conds.append(search.condition(text))  # the API's search too (services.search)
        keep("q", text, f"关键词：{text}")

    imported = p.choice("imported", "数据来源", {"1": "历史导入", "0": "系统登记"}, required=False)
    if imported:
        f.conds.append(Case.imported.is_(imported == "1"))
        keep("imported", imported, "数据来源：" + ("历史导入" if imported == "1" else "系统登记"))

    ids_raw = p.text("ids", "案件编号列表", max_len=20000)
    if ids_raw:
        try:
            ids = sorted({int(x) for x in ids_raw.split(",") if x.strip()})
        except ValueError:
            raise ServiceError("案件列表参数无效", "ids") from None
        if not ids or len(ids) > MAX_IDS:
            raise ServiceError(f"案件列表须包含1至{MAX_IDS}件案件", "ids")
        f.conds.append(Case.id.in_(ids))
        keep("ids", ",".join(map(str, ids)), f"指定的 {len(ids)} 件案件")

    year = p.integer("report_year", "报告年度", lo=2000, hi=2100)
    cell = p.text("report_cell", "报表单元格", max_len=60)
    if (year is None) != (not cell):
        raise ServiceError("报表穿透查询须同时指定报告年度和单元格", "report_cell")
    if cell:
        from .annual import cell_condition
        cond, label = cell_condition(agency_id, year, cell)
        f.conds.append(cond)
        f.args["report_year"], f.args["report_cell"] = str(year), cell
        f.cell_label = label
        f.labels.append(label)

    f.sort = p.choice("sort", "排序字段", SORTS, default="received_on")
    f.direction = p.choice("dir", "排序方向", DIRECTIONS, default="desc")
    f.exact = p.flag("exact") or bool(cell) or bool(ids_raw)
    if paging:
        f.page = p.integer("page", "页码", default=1, lo=1, hi=1_000_000)
        f.per_page = p.integer("per_page", "每页条数", default=50, lo=10, hi=200)
    return f


def _order_by(f: LedgerFilter) -> list:
    col = {"received_on": [Case.received_on], "number": [Case.year, Case.seq], "closed_on": [Case.closed_on],
           "reply_due": [Case.reply_due], "applicant": [Case.applicant_name], "state": [Case.state]}[f.sort]
    out = []
    for c in col:
        # Same NULL placement on SQLite and PostgreSQL: empty values always last.
        if f.sort in ("closed_on", "reply_due"):
            out.append(c.is_(None))
        out.append(c.desc() if f.direction == "desc" else c.asc())
    out.append(Case.id.desc() if f.direction == "desc" else Case.id.asc())
    return out


ROW_COLUMNS = (Case.id, Case.number, Case.received_on, Case.applicant_name, Case.applicant_type, Case.channel,
               Case.description, Case.doc_number, Case.state, Case.reply_due, Case.paused_until, Case.due_provisional,
               Case.closed_on, Case.outcome_code, Case.imported, Case.needs_triage,
               User.name.label("handler_name"))


def _rows_query(f: LedgerFilter):
    return (select(*ROW_COLUMNS).select_from(Case).outerjoin(User, User.id == Case.handler_id)
            .where(f.where()).order_by(*_order_by(f)))


def count(f: LedgerFilter, cap: int | None = None) -> int:
    """Matching cases; with cap, counting stops after cap + 1 (a large office's full ledger
    would otherwise be counted row by row on every page view)."""
    if cap is None:
        return db.session.scalar(select(func.count()).select_from(Case).where(f.where())) or 0
    sub = select(Case.id).where(f.where()).limit(cap + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(sub)) or 0


def page(f: LedgerFilter) -> tuple[list[dict], int, bool]:
    """(rows of the page, total, whether the total is only a lower bound)."""
    order = _order_by(f)
    if f.sort == "received_on" and {"closed_from", "closed_to", "report_cell"} & set(f.args):
        # A closing-date range lies far back in receipt order (March's closures among a year and a
        # half of later receipts): PostgreSQL, assuming no correlation, would walk ix_case_received
        # backwards through them all (1.8 s at 2,000,000 cases). The same order written as an
        # expression no index provides makes it read the range from ix_case_closed and sort it.
        order = [func.coalesce(Case.received_on, Case.received_on).desc() if f.direction == "desc"
                 else func.coalesce(Case.received_on, Case.received_on).asc()] + order[1:]
    offset = (f.page - 1) * f.per_page
    ids = total = capped = None
    found: list[int] = []
    if f.search_at is not None and not f.exact:
        # A search first checks the first SEARCH_PREFIX cases of the list in its order. A common
        # term fills the page from them, and its total is given as "at least": counting its
        # matches through the token index would read every one of them (旧城改造 at 2,000,000
        # cases: 133,000), as would ordering them for the page.
        walk = list(f.conds)
        walk[f.search_at] = search.substring_check(f.args["q"])
        unfiltered = replace(f, conds=[c for i, c in enumerate(f.conds) if i != f.search_at])
        listed = select(Case.id).where(unfiltered.where()).order_by(*order).limit(SEARCH_PREFIX).subquery()
        found = list(db.session.scalars(select(Case.id).join(listed, listed.c.id == Case.id)
                                        .where(walk[f.search_at]).order_by(*order)))
        if len(found) >= offset + f.per_page and len(found) * DENSE_EVERY >= SEARCH_PREFIX:
            ids, total, capped = found[offset:offset + f.per_page], len(found), True
    if ids is None:
        cap = SEARCH_COUNT_CAP if f.search_at is not None else COUNT_CAP
        total = count(f, None if f.exact else cap)
        capped = total > cap and not f.exact
        if capped:
            total = cap
        if f.search_at is not None and capped and len(found) * DENSE_EVERY >= SEARCH_PREFIX:
            f = replace(f, conds=walk)  # dense, a later page: walk the list in order to it
        # The page's ids are chosen from an index where one covers the filter and the order (the
        # default order, a closing-date range: ix_case_received / ix_case_closed hold the id), and
        # only those rows are read: 50 table rows per page instead of every matching case sorted.
        ids = list(db.session.scalars(select(Case.id).where(f.where()).order_by(*order)
                                      .offset(offset).limit(f.per_page)))
    q = (select(*ROW_COLUMNS).select_from(Case).where(Case.id.in_(ids))
         .outerjoin(User, User.id == Case.handler_id).order_by(*_order_by(f)))
    rows = [display_row(r, f) for r in db.session.execute(q)] if ids else []
    return rows, total, capped


def display_row(r, f: LedgerFilter) -> dict:
    code, label, left = clock_display(r.state, r.reply_due, f.today, f.soon_bound, r.needs_triage, r.paused_until)
    oc = OUTCOME_BY_CODE.get(r.outcome_code) if r.outcome_code else None
    return {
        "id": r.id, "number": r.number, "received_on": r.received_on, "applicant_name": r.applicant_name,
        "applicant_type": APPLICANT_TYPES.get(r.applicant_type, r.applicant_type),
        "channel": CHANNELS.get(r.channel, r.channel), "description": r.description, "doc_number": r.doc_number,
        "state": STATES.get(r.state, r.state), "state_code": r.state, "reply_due": r.reply_due,
        "provisional": r.due_provisional, "closed_on": r.closed_on,
        "outcome": oc.label if oc else (r.outcome_code or ""), "row": oc.row if oc else "",
        "imported": r.imported, "handler": r.handler_name or "", "clock": code, "clock_label": label,
        "days_left": left,
    }


# ---------------------------------------------------------------- .xlsx export

EXPORT_COLUMNS = (  # header, width (in Excel character units; CJK counts double), kind
    ("编号", 18, "text"),
    ("收到申请日期", 14, "date"),
    ("申请人姓名/名称", 24, "text"),
    ("申请人类型", 26, "text"),
    ("申请方式", 14, "text"),
    ("申请内容", 60, "text"),
    ("所需信息文号", 24, "text"),
    ("承办人", 12, "text"),
    ("状态", 14, "text"),
    ("答复期限", 14, "date"),
    ("计时状态", 12, "text"),
    ("办结日期", 14, "date"),
    ("办理结果", 34, "text"),
    ("年报栏目", 12, "text"),
    ("数据来源", 10, "text"),
)
EXPORT_CHUNK = 2000
MAX_EXPORT_ROWS = 100_000  # beyond this the workbook takes minutes to build; export in parts instead


def export_rows(f: LedgerFilter) -> Iterator[list]:
    """Values for each exported row, fetched from the database in chunks (never all at once)."""
    q = _rows_query(f).execution_options(yield_per=EXPORT_CHUNK)
    for r in db.session.execute(q):
        d = display_row(r, f)
        yield [d["number"], d["received_on"], d["applicant_name"], d["applicant_type"], d["channel"],
               d["description"], d["doc_number"], d["handler"], d["state"], d["reply_due"], d["clock_label"],
               d["closed_on"], d["outcome"], d["row"], "历史导入" if d["imported"] else "系统登记"]


def write_xlsx(f: LedgerFilter, path: str, progress: Callable[[int], None] | None = None) -> int:
    """Write the current view to path as a write-only (streaming) workbook; returns the row count.
    ``progress(rows written)`` is called every EXPORT_CHUNK rows (a background export)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("台账")
    ws.freeze_panes = "A2"
    for i, (_, width, _) in enumerate(EXPORT_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDE4EE")
    header = []
    for name, _, _ in EXPORT_COLUMNS:
        c = WriteOnlyCell(ws, value=name)
        c.font, c.fill = head_font, head_fill
        header.append(c)
    ws.append(header)
    n = 0
    for values in export_rows(f):
        # Plain date values become date cells formatted yyyy-mm-dd (openpyxl's default for date);
        # empty strings are left out so that empty cells stay empty; typed text never becomes a formula.
        ws.append(safe_row(ws, [None if v == "" else (v[:32000] if isinstance(v, str) else v) for v in values]))
        n += 1
        if progress is not None and n % EXPORT_CHUNK == 0:
            progress(n)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(EXPORT_COLUMNS))}{n + 1}"
    wb.save(path)
    return n


def stream_file(path: str, chunk: int = 64 * 1024) -> Iterator[bytes]:
    """Yield a temporary file in chunks and delete it afterwards."""
    try:
        with open(path, "rb") as fh:
            while True:
                block = fh.read(chunk)
                if not block:
                    break
                yield block
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


def export_to_tempfile(f: LedgerFilter) -> tuple[str, int]:
    n = count(f)
    if n > MAX_EXPORT_ROWS:
        raise ServiceError(f"当前条件下共 {n:,} 件，超过单次导出上限 {MAX_EXPORT_ROWS:,} 件；"
                           "请按收到申请日期分段（例如逐年）导出", "received_from")
    fd, path = tempfile.mkstemp(prefix="ogidesk-ledger-", suffix=".xlsx")
    os.close(fd)
    try:
        n = write_xlsx(f, path)
    except BaseException:
        os.unlink(path)
        raise
    return path, n
