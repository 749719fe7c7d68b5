"""Tamper evidence for stored files: every issued letter PDF, attachment and case-file result is
checked against the SHA-256 recorded when it was stored, on every download and by ``flask verify``
(``verify_all``, which a scheduled job can call too).

A download whose bytes do not match is refused (409, nothing served) and logged as the security
event ``hash_mismatch``: the stored copy was changed outside the application (on disk or in the
database) and must be restored from a backup.
"""
from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..extensions import db
from ..models import Agency, Attachment, Case, Job, Letter, Release, SourceDocument, User
from .audit import record_security
from .errors import NotFound, ServiceError

MISMATCH_MESSAGE = ("文件校验不符：存储的文件与登记时的 SHA-256 校验值不一致，可能已被篡改，"
                    "系统已拒绝提供并记录。请联系系统管理员从备份恢复。")
KIND_LABELS = {"letter": "已出具文书", "attachment": "附件", "casefile_result": "案卷打印结果",
               "job_result": "后台任务结果", "case_tally": "统计汇总", "source_document": "删除处理原件",
               "release": "删除处理版"}
_CHUNK = 1024 * 1024


class HashMismatch(ServiceError):
    status = 409

    def __init__(self, message: str = MISMATCH_MESSAGE) -> None:
        super().__init__(message, None)


def sha256_file(fh: BinaryIO) -> str:
    h = hashlib.sha256()
    for chunk in iter(lambda: fh.read(_CHUNK), b""):
        h.update(chunk)
    return h.hexdigest()


def sha256_path(path: Path) -> str:
    with open(path, "rb") as fh:
        return sha256_file(fh)


def _refuse(agency_id: int, actor: User | None, kind: str, ref: int, expected: str, actual: str | None):
    """Log the mismatch in its own commit (the download fails, the record stays) and refuse."""
    db.session.rollback()
    record_security(agency_id, actor, "hash_mismatch", {
        "kind": kind, "kind_label": KIND_LABELS[kind], "id": ref, "expected_sha256": expected,
        "actual_sha256": actual})
    db.session.commit()
    raise HashMismatch()


def letter_pdf(letter: Letter, actor: User | None) -> bytes:
    """The stored PDF of an issued letter, if it still matches its SHA-256."""
    data = letter.pdf
    actual = hashlib.sha256(data).hexdigest()
    if actual != letter.sha256:
        _refuse(letter.agency_id, actor, "letter", letter.id, letter.sha256, actual)
    return data


def attachment_bytes(att: Attachment, actor: User | None) -> bytes:
    """The stored scan, if its bytes still hash to the name and the row's SHA-256."""
    from . import storage

    try:
        data = storage.read(att.sha256)
    except FileNotFoundError:
        raise NotFound("附件文件缺失，请联系管理员") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != att.sha256:
        _refuse(att.case.agency_id, actor, "attachment", att.id, att.sha256, actual)
    return data


def stored_bytes(kind: str, ref: int, agency_id: int, sha256: str, actor: User | None) -> bytes:
    """A file of the content-addressed store (a redaction source or release), if it still hashes to
    its name and the row's SHA-256."""
    from . import storage

    try:
        data = storage.read(sha256)
    except FileNotFoundError:
        raise NotFound(f"{KIND_LABELS[kind]}文件缺失，请联系管理员") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        _refuse(agency_id, actor, kind, ref, sha256, actual)
    return data


def _job_kind(job_kind: str) -> str:
    return "casefile_result" if job_kind == "casefile_print" else "job_result"


def job_result(job: Job, actor: User | None) -> BinaryIO:
    """The result file of a background job, opened, checked and rewound: the handle that was checked
    is the one served. A result without a recorded hash (made before hashes were kept) is refused
    too: it cannot be checked, and printing it again is cheap."""
    try:
        fh = open(job.result_path, "rb")
    except FileNotFoundError:
        raise NotFound("任务结果文件已不存在，请重新提交任务") from None
    actual = sha256_file(fh)
    if not job.result_sha256 or actual != job.result_sha256:
        fh.close()
        _refuse(job.agency_id, actor, _job_kind(job.kind), job.id, job.result_sha256, actual)
    fh.seek(0)
    return fh


# ---------------------------------------------------------------- verification of everything stored

@dataclass
class Problem:
    kind: str
    id: int
    agency_id: int
    reason: str  # "mismatch" or "missing"
    expected: str
    actual: str | None = None
    detail: str = ""

    def describe(self) -> str:
        if self.detail:
            return f"{KIND_LABELS[self.kind]}：{self.detail}"
        what = "文件缺失" if self.reason == "missing" else f"校验不符（实际 {self.actual}）"
        return f"{KIND_LABELS[self.kind]} #{self.id}：{what}，登记值 {self.expected or '（无）'}"


@dataclass
class VerifyReport:
    checked: dict[str, int] = field(default_factory=lambda: {k: 0 for k in KIND_LABELS})
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        counts = "，".join(f"{KIND_LABELS[k]} {n} {'项' if k == 'case_tally' else '份'}"
                          for k, n in self.checked.items())
        if self.ok:
            return f"校验完成：{counts}，文件全部与登记的 SHA-256 一致，统计汇总与申请一致。"
        return f"校验完成：{counts}；发现 {len(self.problems)} 处不符或缺失。"


def tally_detail(key, want, have) -> str:
    _agency, received, closed, atype, code = key
    where = f"{received // 100}年{received % 100}月收到、" + (
        f"{closed // 100}年{closed % 100}月办结" if closed else "未办结") + f"、申请人类型 {atype}、办理结果 {code or '无'}"
    return (f"{where}：汇总为 {have[0]} 件（有期限 {have[1]}，按期 {have[2]}），按申请重算为 {want[0]} 件"
            f"（有期限 {want[1]}，按期 {want[2]}）；请运行 flask tally-rebuild 重建")


TRIGGERS = {"cli": "命令行 flask verify", "nightly": "夜间定时校验"}


def verify_all(actor: User | None = None, *, trigger: str = "cli") -> VerifyReport:
    """Check every stored letter, attachment file and case-file result against its SHA-256 and
    record one 'verify_run' event per agency with its counts, problems, what ran it (TRIGGERS) and
    how long it took. Reads in batches, so it runs in bounded memory on a large database."""
    from . import storage

    started = time.monotonic()

    report = VerifyReport()
    per_agency: dict[int, dict] = defaultdict(lambda: {"checked": {k: 0 for k in KIND_LABELS}, "problems": []})

    def note(agency_id: int, kind: str, problem: Problem | None) -> None:
        report.checked[kind] += 1
        per_agency[agency_id]["checked"][kind] += 1
        if problem is not None:
            report.problems.append(problem)
            per_agency[agency_id]["problems"].append(problem)

    q = db.select(Letter.id, Letter.agency_id, Letter.sha256, Letter.pdf).order_by(Letter.id)
    for lid, agency_id, expected, pdf in db.session.execute(q.execution_options(yield_per=50)):
        actual = hashlib.sha256(pdf).hexdigest()
        note(agency_id, "letter", None if actual == expected else
             Problem("letter", lid, agency_id, "mismatch", expected, actual))

    # Scans, redaction sources and released copies share the content-addressed store.
    stored = [("attachment", db.select(Attachment.id, Case.agency_id, Attachment.sha256)
               .join(Case, Case.id == Attachment.case_id).order_by(Attachment.id)),
              ("source_document", db.select(SourceDocument.id, Case.agency_id, SourceDocument.pdf_sha256)
               .join(Case, Case.id == SourceDocument.case_id).order_by(SourceDocument.id)),
              ("release", db.select(Release.id, Case.agency_id, Release.sha256).join(Case, Case.id == Release.case_id)
               .where(Release.status == "done").order_by(Release.id))]
    file_hashes: dict[str, str | None] = {}  # one read per stored file, however many rows share it
    for kind, q in stored:
        for rid, agency_id, expected in db.session.execute(q).all():
            if expected not in file_hashes:
                try:
                    file_hashes[expected] = sha256_path(storage.path_for(expected))
                except (FileNotFoundError, ValueError):
                    file_hashes[expected] = None
            actual = file_hashes[expected]
            note(agency_id, kind, None if actual == expected else
                 Problem(kind, rid, agency_id, "missing" if actual is None else "mismatch", expected, actual))

    q = (db.select(Job.id, Job.agency_id, Job.result_path, Job.result_sha256, Job.kind)
         .where(Job.status == "done", Job.result_path != "").order_by(Job.id))
    for jid, agency_id, path, expected, job_kind in db.session.execute(q).all():
        kind = _job_kind(job_kind)
        try:
            actual = sha256_path(Path(path))
        except FileNotFoundError:
            actual = None  # results may be cleared away; a missing one is reported, not fatal
        note(agency_id, kind, None if actual == expected and expected else
             Problem(kind, jid, agency_id, "missing" if actual is None else "mismatch", expected, actual))

    # The tally the annual report and the dashboard read, against a recount of the cases.
    from .tally import compare
    for key, want, have in compare():
        note(key[0], "case_tally", None if want == have else Problem(
            "case_tally", key[1], key[0], "mismatch", "", detail=tally_detail(key, want, have)))

    seconds = round(time.monotonic() - started, 3)
    for agency_id in db.session.scalars(db.select(Agency.id).order_by(Agency.id)):
        mine = per_agency[agency_id]
        record_security(agency_id, actor, "verify_run", {
            "ok": not mine["problems"], "checked": mine["checked"], "trigger": trigger, "seconds": seconds,
            "problems": [p.describe() for p in mine["problems"][:50]],
            "problem_count": len(mine["problems"])})
    db.session.commit()
    return report
