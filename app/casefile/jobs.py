"""Printing many case files at once (year-end filing), as a background job (app/services/jobs.py).

The request that asks for it only records the job; ``flask worker`` builds one case file at a time
and records its progress after each, so the progress page can show it and nobody waits for the
batch. A worker killed mid-way leaves the job to the next one's sweep, which prints it again from
the start. The result is a ZIP of PDFs (one per case) or one merged PDF, kept under CASEFILE_JOB_DIR.
"""
from __future__ import annotations

import io
import logging
import os
import re
import unicodedata
import zipfile

from pypdf import PdfWriter

from ..extensions import db
from ..models import Case, Job, User
from ..services import jobs as background
from ..services.errors import ServiceError
from .assemble import build_casefile

log = logging.getLogger(__name__)

KIND = "casefile_print"
PRINT_ROLES = ("archivist", "head", "admin")
FORMATS = {"zip": "ZIP 压缩包（每案一个 PDF）", "pdf": "合并为一个 PDF"}
SCOPES = {"ready": "待归档（已送达、已终止）", "archived": "已归档", "finished": "待归档和已归档"}
SCOPE_STATES = {"ready": ("delivered", "closed"), "archived": ("archived",),
                "finished": ("delivered", "closed", "archived")}
STATUS_LABELS = {"queued": "排队中", "running": "正在生成", "done": "已完成", "failed": "失败"}
MAX_CASES = 2000


# Chosen by filters (the batch page): whether the case already has its 档号.
NUMBERED = {"": "不限", "1": "已编档号", "0": "尚未编档号"}
PREVIEW_SHOWN = 500  # case numbers listed on the preview; the count covers them all


def cases_matching(actor: User, where, scope: str, numbered: str = "") -> list[tuple[int, str]]:
    """(id, 登记编号) of the actor's agency's cases matching ``where`` (the ledger's filter condition,
    app/reports/ledger.py) in the chosen scope, in filing order (closing date, then number).
    More than MAX_CASES is refused: a batch that size takes hours and one file that size is unusable."""
    if scope not in SCOPES:
        raise ServiceError("请选择案件范围", "scope")
    if numbered not in NUMBERED:
        raise ServiceError("请选择是否已有档号", "numbered")
    conds = [Case.agency_id == actor.agency_id, where, Case.state.in_(SCOPE_STATES[scope])]
    if numbered:
        has = db.func.coalesce(Case.archive_number, "") != ""
        conds.append(has if numbered == "1" else db.not_(has))
    n = db.session.scalar(db.select(db.func.count()).select_from(Case).where(*conds)) or 0
    if n > MAX_CASES:
        raise ServiceError(f"符合条件的案件共 {n} 件，超过一次打印的上限 {MAX_CASES} 件；"
                           "请缩小办结日期范围，或按承办人、是否已有档号分批打印", "closed_from")
    q = (db.select(Case.id, Case.number).where(*conds)
         .order_by(Case.closed_on.is_(None), Case.closed_on, Case.year, Case.seq, Case.id))
    return [(r.id, r.number) for r in db.session.execute(q)]


def numbers_for_ids(actor: User, ids: list[int]) -> list[tuple[int, str]]:
    """(id, 登记编号) of the actor's agency's cases, in the order given (the preview of typed numbers)."""
    found = dict(db.session.execute(db.select(Case.id, Case.number).where(Case.agency_id == actor.agency_id,
                                                                          Case.id.in_(ids))).all()) if ids else {}
    return [(i, found[i]) for i in ids if i in found]


def ids_for_numbers(actor: User, text: str) -> list[int]:
    """The cases named by their 登记编号 (as printed on every letter), in the order given, each once;
    separated by commas, 、, semicolons, spaces or lines. An unknown number is named in the refusal."""
    wanted = list(dict.fromkeys(t for t in re.split(r"[\s,，、;；]+", unicodedata.normalize("NFKC", text or ""))
                                if t))
    if not wanted:
        return []
    if len(wanted) > MAX_CASES:
        raise ServiceError(f"一次最多打印{MAX_CASES}件案卷", "case_ids")
    found = dict(db.session.execute(db.select(Case.number, Case.id).where(Case.agency_id == actor.agency_id,
                                                                          Case.number.in_(wanted))).all())
    missing = [n for n in wanted if n not in found]
    if missing:
        raise ServiceError("本机关没有以下登记编号的案件：" + "、".join(missing[:10])
                           + ("等" if len(missing) > 10 else "") + "（请填写文书上的登记编号）", "case_ids")
    return [found[n] for n in wanted]


def create_job(actor: User, case_ids: list[int], fmt: str = "zip", order: str | None = None) -> Job:
    if fmt not in FORMATS:
        raise ServiceError("请选择输出格式", "format")
    ids = list(dict.fromkeys(case_ids))
    if not ids:
        raise ServiceError("没有符合条件的案件", "case_ids")
    if len(ids) > MAX_CASES:
        raise ServiceError(f"一次最多打印 {MAX_CASES} 件案卷", "case_ids")
    found = set(db.session.scalars(db.select(Case.id).where(Case.id.in_(ids), Case.agency_id == actor.agency_id)))
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise ServiceError(f"案件不存在：{'、'.join(map(str, unknown[:10]))}", "case_ids")
    return background.submit(KIND, actor, {"ids": ids, "format": fmt, "order": order}, len(ids),
                             audit_data={"count": len(ids), "format": fmt})


def get_job(job_id: int, actor: User) -> Job:
    return background.get_job(job_id, actor, kind=KIND)


def recent_jobs(actor: User, limit: int = 20) -> list[Job]:
    return background.agency_jobs(actor, KIND, limit)


def resubmit(job: Job, actor: User) -> Job:
    """The same cases, format and order again, as a new job (the old one stays on record)."""
    if not (job.status == "failed" or job.expired):
        raise ServiceError("只有失败、中断或已过期的任务可以重新提交", "job")
    params = job_params(job)
    return create_job(actor, params["ids"], params.get("format", "zip"), params.get("order"))


def job_params(job: Job) -> dict:
    raw = job.params or {}
    if isinstance(raw, list):  # rows printed before the format was kept
        return {"ids": raw, "format": "zip", "order": None}
    return raw


def run(job: Job, progress) -> background.Result:
    """Build the job's case files into one result file (rewritten from the start by a rerun)."""
    params = job_params(job)
    actor = db.session.get(User, job.requested_by_id) if job.requested_by_id else None
    agency_id = job.agency_id
    fmt = params.get("format", "zip")
    final = background.result_path(job, f".{fmt}")
    tmp = final.with_name(f".{final.name}.part")
    errors = []
    merged = PdfWriter() if fmt == "pdf" else None
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) if fmt == "zip" else _null() as zf:
            for i, case_id in enumerate(params["ids"], start=1):
                case = db.session.get(Case, case_id)
                if case is None or case.agency_id != agency_id:
                    errors.append(f"所选的第 {i} 件案件已不存在")
                else:
                    try:
                        cf = build_casefile(case, actor, order=params.get("order"))
                    except Exception as e:  # one broken case must not sink the batch
                        log.exception("case file %s failed", case_id)
                        errors.append(f"{case.number}：生成失败（{e}）")  # the exception type is in the log
                    else:
                        if zf is not None:
                            zf.writestr(f"{case.number}.pdf", cf.pdf)
                        else:
                            merged.append(io.BytesIO(cf.pdf))
                db.session.rollback()  # drop what the build loaded; keep the session small
                progress(i)
        if merged is not None:
            with open(tmp, "wb") as fh:
                merged.write(fh)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return background.Result(path=final, name=f"案卷-任务{job.id}.{fmt}", note="\n".join(errors))


def _describe(job: Job) -> str:
    params = job_params(job)
    return f"{len(params.get('ids', []))} 件案卷，{FORMATS.get(params.get('format', 'zip'), '')}"


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


background.define(KIND, "批量打印案卷", run, roles=PRINT_ROLES, audit="casefile_print", resubmit=resubmit,
                  describe=_describe, page="casefile.job_page",
                  extra={"status_labels": STATUS_LABELS, "result_endpoint": "casefile.job_result"})
