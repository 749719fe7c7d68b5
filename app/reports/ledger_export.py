"""Ledger exports (台账导出): a small one is written during the request; a larger one (more than
LEDGER_EXPORT_DIRECT_ROWS rows: a year of 30,000 rows takes about ten seconds) becomes a background
job (app/services/jobs.py) whose page shows the rows written and offers the file when done."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping

from flask import current_app

from ..extensions import db
from ..models import Job, User
from ..services import jobs as background
from ..services.audit import record_export
from ..services.errors import ServiceError
from ..services.time import local
from . import ledger

KIND = "ledger_export"


@dataclass
class Export:
    rows: int
    path: str | None = None  # written now: the caller streams and deletes it
    job: Job | None = None  # or: handed to the worker


def filename(day) -> str:
    return f"政府信息公开申请台账_{day.strftime('%Y%m%d')}.xlsx"


def _filters(raw: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in raw.items() if k not in ("page", "per_page") and v not in (None, "")}


def check(actor: User, raw: Mapping[str, Any]) -> tuple[ledger.LedgerFilter, int]:
    """The filter and its row count, refused (ServiceError) beyond the export limit."""
    f = ledger.parse_filters(actor.agency_id, _filters(raw), paging=False)
    n = ledger.count(f)
    if n > ledger.MAX_EXPORT_ROWS:
        raise ServiceError(f"当前条件下共 {n:,} 件，超过单次导出上限 {ledger.MAX_EXPORT_ROWS:,} 件；"
                           "请按收到申请日期分段（例如逐年）导出", "received_from")
    return f, n


def is_direct(rows: int) -> bool:
    return rows <= int(current_app.config["LEDGER_EXPORT_DIRECT_ROWS"])


def export(actor: User, raw: Mapping[str, Any], *, background_only: bool = False) -> Export:
    """Export the ledger view ``raw`` (the ledger page's query): at once when small (and not
    ``background_only``, as the API asks), else as a job. Audited either way."""
    f, n = check(actor, raw)
    labels = "；".join(f.labels) or "全部"
    if is_direct(n) and not background_only:
        path, n = ledger.export_to_tempfile(f)
        record_export(actor, "ledger_export", {"filters": labels, "rows": n})
        return Export(n, path=path)
    job = background.submit(KIND, actor, {"filters": _filters(raw), "labels": labels}, n,
                            audit_data={"filters": labels, "rows": n})
    return Export(n, job=job)


def run(job: Job, progress) -> background.Result:
    """Write the workbook (rewritten from the start by a rerun)."""
    f = ledger.parse_filters(job.agency_id, job.params.get("filters", {}), paging=False)
    total = ledger.count(f)
    db.session.rollback()
    progress(0, total)
    final = background.result_path(job, ".xlsx")
    tmp = final.with_name(f".{final.name}.part")
    try:
        # Rows are streamed from an open cursor: progress goes through a connection of its own.
        n = ledger.write_xlsx(f, str(tmp), progress=lambda k: progress(k, commit=False))
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    db.session.rollback()
    progress(n, n)
    return background.Result(path=final, name=filename(local(job.created_at).date()),
                             data={"rows": n})


def _describe(job: Job) -> str:
    return f"台账导出（{job.params.get('labels') or '全部'}）"


background.define(KIND, "导出台账", run, audit="ledger_export", describe=_describe)
