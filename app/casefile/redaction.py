"""Redaction for partial disclosure (Art. 37): source documents, boxes, search and suggestions,
and the released copy (删除处理版) made in the background.

Marking is open to the case's handlers while a draft may be saved (登记、办理中); every change is a
case event, and a change sent with the redaction hash the user saw (``set_hash``) is refused when
someone else changed the set meanwhile (409), so no edit silently overwrites another. The released
copy is made only for an approved 部分公开 draft whose redaction hash is the set's hash now; the
workflow refuses to issue the reply without it (app/services/redaction.py).
"""
from __future__ import annotations

import io
import logging
from datetime import datetime

from flask import render_template_string
from pypdf import PdfWriter

from ..extensions import db
from ..models import Case, Job, Redaction, Release, SourceDocument, User
from ..pdf import redact
from ..services import jobs as background
from ..services import redaction as R
from ..services import storage
from ..services.audit import record
from ..services.base import get_case
from ..services.errors import Conflict, Forbidden, NotFound, ServiceError, conflict_is_409
from ..services.integrity import stored_bytes
from ..services.memo import Memo
from . import uploads
from .attachments import clean_filename
from .images import image_page

log = logging.getLogger(__name__)

KIND = "redaction_release"
MAX_DOCUMENTS = 50
MAX_BOXES = 5000  # per case
PAGE_WIDTHS = (400, 800, 1100, 1400, 1800)  # page view sizes (a few, so the memo is reused)
CONFLICT = "删除处理标注已被他人修改，请刷新页面后重试；您的这次改动未保存。"
_PAGES: Memo[bytes] = Memo(96)


# ---------------------------------------------------------------- who may do what

def can_mark(user: User) -> bool:
    return user.has_role(*R.EDIT_ROLES)


def editable(case: Case, user: User | None = None) -> bool:
    return case.state in R.EDIT_STATES and (user is None or can_mark(user))


def _editable_case(case_id: int, actor: User, set_hash: str | None) -> Case:
    case = get_case(case_id, actor)
    if not can_mark(actor):
        raise Forbidden("只有承办人可以上传原件和标注删除处理")
    # Lock the case row (PostgreSQL): concurrent changes of one set take turns, the second sees the first.
    db.session.execute(db.select(Case.id).where(Case.id == case.id).with_for_update())
    db.session.refresh(case)
    if case.state not in R.EDIT_STATES:
        raise ServiceError("当前阶段不能修改删除处理标注：稿件已提交审核或答复已出具（退回修改后可再标注）", "redaction")
    if set_hash is not None and set_hash != R.redaction_hash(case):
        raise Conflict(CONFLICT, "set_hash")
    return case


def _event(case: Case, actor: User, action: str, label: str, data: dict) -> None:
    record(case, actor, action, label, case.state, case.state, {**data, "redaction_hash": R.redaction_hash(case)})


# ---------------------------------------------------------------- source documents

def get_document(document_id: int, actor: User) -> SourceDocument:
    doc = db.session.get(SourceDocument, document_id)
    if doc is None or doc.case.agency_id != actor.agency_id:
        raise NotFound("原件不存在")
    return doc


def document_pdf(doc: SourceDocument, actor: User | None) -> bytes:
    return stored_bytes("source_document", doc.id, doc.case.agency_id, doc.pdf_sha256, actor)


def _as_pdf(data: bytes, content_type: str) -> bytes:
    if content_type == uploads.PDF:
        return data
    writer = PdfWriter()
    writer.add_page(image_page(writer, data, content_type))
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


@conflict_is_409()
def add_document(case_id: int, actor: User, data: bytes, filename: str | None, title: str | None = None,
                 set_hash: str | None = None) -> SourceDocument:
    """上传原件: a PDF or a scanned image (checked by content), kept as uploaded and as the PDF marked."""
    case = _editable_case(case_id, actor, set_hash)
    title = (title or "").strip() or (clean_filename(filename).rsplit(".", 1)[0] if filename else "")
    if not title:
        raise ServiceError("请填写原件名称（将写入答复书附件）", "title")
    if len(title) > 100:
        raise ServiceError("原件名称不能超过100字", "title")
    docs = R.documents(case)
    if len(docs) >= MAX_DOCUMENTS:
        raise ServiceError(f"每件最多上传{MAX_DOCUMENTS}份原件", "file")
    detected = uploads.check(data, filename)
    pdf = _as_pdf(data, detected.content_type)
    try:
        pages = redact.inspect(pdf)
    except Exception:
        log.warning("source document could not be opened", exc_info=True)
        raise ServiceError("无法打开该文件的页面（文件损坏或已加密），未上传。", "file") from None
    if not pages:
        raise ServiceError("该文件没有页面，未上传。", "file")
    original = storage.store(data)
    pdf_sha = storage.store(pdf) if pdf is not data else original
    doc = SourceDocument(case_id=case.id, position=max((d.position for d in docs), default=0) + 1, title=title,
                         filename=clean_filename(filename), content_type=detected.content_type, size=len(data),
                         original_sha256=original, pdf_sha256=pdf_sha, pages=len(pages),
                         page_sizes=";".join(f"{p.width:.2f}x{p.height:.2f}" for p in pages),
                         text_pages=sum(1 for p in pages if p.has_text), uploaded_by_id=actor.id)
    db.session.add(doc)
    db.session.flush()
    _event(case, actor, "source_added", "上传删除处理原件", {
        "document_id": doc.id, "title": title, "filename": doc.filename, "content_type": doc.content_type,
        "pages": doc.pages, "sha256": original})
    db.session.commit()
    return doc


@conflict_is_409()
def remove_document(case_id: int, actor: User, document_id: int, set_hash: str | None = None) -> None:
    case = _editable_case(case_id, actor, set_hash)
    doc = get_document(document_id, actor)
    if doc.case_id != case.id:
        raise NotFound("原件不存在")
    data = {"document_id": doc.id, "title": doc.title, "boxes": len(doc.boxes), "sha256": doc.original_sha256}
    db.session.delete(doc)
    db.session.flush()
    _event(case, actor, "source_removed", "删除删除处理原件", data)
    db.session.commit()


def page_image(doc: SourceDocument, page: int, width: int, actor: User | None) -> bytes:
    """A page of the source as an image for the page view, rendered once per size."""
    if not 0 <= page < doc.pages:
        raise NotFound("页码不存在")
    width = min(PAGE_WIDTHS, key=lambda w: abs(w - width))
    return _PAGES.get(f"{doc.pdf_sha256}:{page}:{width}",
                      lambda: redact.render_page(document_pdf(doc, actor), page, width))


# ---------------------------------------------------------------- boxes

def _coords(raw: dict) -> tuple[float, float, float, float]:
    try:
        x0, y0, x1, y1 = (float(raw[k]) for k in ("x0", "y0", "x1", "y1"))
    except (KeyError, TypeError, ValueError):
        raise ServiceError("标注框坐标无效", "box") from None
    x0, x1 = sorted((max(0.0, min(1.0, x0)), max(0.0, min(1.0, x1))))
    y0, y1 = sorted((max(0.0, min(1.0, y0)), max(0.0, min(1.0, y1))))
    if x1 - x0 < 0.002 or y1 - y0 < 0.002:
        raise ServiceError("标注框太小：请拖出一个覆盖要遮盖内容的矩形", "box")
    return x0, y0, x1, y1


def _basis(basis: str | None) -> str:
    if basis not in R.BASES:
        raise ServiceError("请为标注选择不予公开的依据（第十四条、第十五条、第十六条第一款或第二款、第二条）", "basis")
    return basis


def _note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > 200:
        raise ServiceError("说明不能超过200字", "note")
    return note


KINDS = ("manual", "search", *R.KIND_LABELS)
FOUND_BY = {"manual": "手工框选", "search": "查找文字", **{k: f"个人信息建议（{v}）" for k, v in R.KIND_LABELS.items()}}


@conflict_is_409()
def add_boxes(case_id: int, actor: User, document_id: int, boxes: list[dict], basis: str | None,
              note: str | None = None, set_hash: str | None = None) -> list[Redaction]:
    """Mark one or more boxes (a drawn box, every hit of a search, a suggestion) with one basis."""
    case = _editable_case(case_id, actor, set_hash)
    doc = get_document(document_id, actor)
    if doc.case_id != case.id:
        raise NotFound("原件不存在")
    basis, note = _basis(basis), _note(note)
    if not isinstance(boxes, list) or not boxes:
        raise ServiceError("没有要标注的区域", "box")
    if len(R.boxes(case)) + len(boxes) > MAX_BOXES:
        raise ServiceError(f"每件最多{MAX_BOXES}个标注框", "box")
    rows = []
    for raw in boxes:
        if not isinstance(raw, dict):
            raise ServiceError("标注框无效", "box")
        try:
            page = int(raw.get("page"))
        except (TypeError, ValueError):
            raise ServiceError("标注框页码无效", "box") from None
        if not 0 <= page < doc.pages:
            raise ServiceError("标注框页码超出原件页数", "box")
        x0, y0, x1, y1 = _coords(raw)
        kind = raw.get("kind") if raw.get("kind") in KINDS else "manual"
        rows.append(Redaction(case_id=case.id, document_id=doc.id, page=page, x0=x0, y0=y0, x1=x1, y1=y1,
                              basis=basis, note=note, kind=kind, matched=str(raw.get("text") or "")[:500],
                              created_by_id=actor.id))
    db.session.add_all(rows)
    db.session.flush()
    _event(case, actor, "redaction_added", "标注删除处理", {
        "document_id": doc.id, "title": doc.title, "boxes": len(rows), "page_numbers": "、".join(str(p) for p in sorted({r.page + 1 for r in rows})),
        "basis": basis, "note": note, "found_by": FOUND_BY.get(rows[0].kind, rows[0].kind)})
    db.session.commit()
    return rows


def _box(case: Case, box_id: int) -> Redaction:
    box = db.session.get(Redaction, box_id)
    if box is None or box.case_id != case.id:
        raise NotFound("标注不存在")
    return box


@conflict_is_409()
def update_box(case_id: int, actor: User, box_id: int, basis: str | None, note: str | None,
               set_hash: str | None = None, coords: dict | None = None) -> Redaction:
    case = _editable_case(case_id, actor, set_hash)
    box = _box(case, box_id)
    before = {"basis": box.basis, "note": box.note, "box": [box.x0, box.y0, box.x1, box.y1]}
    box.basis, box.note = _basis(basis), _note(note)
    if coords:
        box.x0, box.y0, box.x1, box.y1 = _coords(coords)
    db.session.flush()
    _event(case, actor, "redaction_changed", "修改删除处理标注", {
        "box_id": box.id, "document_id": box.document_id, "page": box.page + 1, "before": before,
        "basis": box.basis, "note": box.note, "box": [box.x0, box.y0, box.x1, box.y1]})
    db.session.commit()
    return box


@conflict_is_409()
def remove_boxes(case_id: int, actor: User, box_ids: list[int], set_hash: str | None = None) -> int:
    case = _editable_case(case_id, actor, set_hash)
    found = [_box(case, int(i)) for i in box_ids]
    for box in found:
        db.session.delete(box)
    db.session.flush()
    _event(case, actor, "redaction_removed", "取消删除处理标注", {
        "boxes": len(found), "box_ids": [b.id for b in found],
        "page_numbers": "、".join(str(p) for p in sorted({b.page + 1 for b in found}))})
    db.session.commit()
    return len(found)


# ---------------------------------------------------------------- search and suggestions

def _hits(case: Case, actor: User, find) -> list[dict]:
    out = []
    for doc in R.documents(case):
        if not doc.text_pages:
            continue
        for hit in find(document_pdf(doc, actor)):
            out.append({"document_id": doc.id, "title": doc.title, "page": hit.page, "text": hit.text,
                        "kind": hit.kind, "label": hit.label,
                        "boxes": [{"page": b.page, "x0": b.x0, "y0": b.y0, "x1": b.x1, "y1": b.y1}
                                  for b in hit.boxes]})
    return out


def search(case_id: int, actor: User, needle: str) -> list[dict]:
    """Every occurrence of the words in the documents' text layers (scans without one are not searched)."""
    case = get_case(case_id, actor)
    needle = (needle or "").strip()
    if not needle:
        raise ServiceError("请输入要查找的文字", "q")
    if len(needle) > 100:
        raise ServiceError("查找的文字不能超过100字", "q")
    return _hits(case, actor, lambda pdf: redact.find_text(pdf, needle))


def suggestions(case_id: int, actor: User) -> list[dict]:
    """Personal data Art. 15 protects (ID numbers with a valid checksum, mobile numbers, bank cards,
    addresses after 住址) not yet covered by a box."""
    case = get_case(case_id, actor)
    marked = R.boxes(case)

    def covered(doc_id: int, b: dict) -> bool:
        return any(m.document_id == doc_id and m.page == b["page"] and m.x0 <= b["x0"] + 0.002
                   and m.y0 <= b["y0"] + 0.002 and m.x1 >= b["x1"] - 0.002 and m.y1 >= b["y1"] - 0.002
                   for m in marked)
    return [h for h in _hits(case, actor, redact.find_personal_data)
            if not all(covered(h["document_id"], b) for b in h["boxes"])]


def state(case: Case, actor: User) -> dict:
    """Everything the page view needs, as JSON."""
    return {
        "hash": R.redaction_hash(case), "editable": editable(case, actor), "state": case.state,
        "bases": [{"value": a, "label": R.basis_label(a)} for a in R.BASES],
        "documents": [{
            "id": d.id, "title": d.title, "pages": d.pages, "text_pages": d.text_pages,
            "sizes": [list(d.size_of(i)) for i in range(d.pages)],
            "boxes": [{"id": b.id, "page": b.page, "x0": b.x0, "y0": b.y0, "x1": b.x1, "y1": b.y1,
                       "basis": b.basis, "basis_label": R.basis_label(b.basis), "note": b.note, "kind": b.kind,
                       "matched": b.matched} for b in d.boxes],
        } for d in R.documents(case)],
    }


# ---------------------------------------------------------------- the released copy

def releases(case: Case) -> list[Release]:
    return list(db.session.scalars(db.select(Release).where(Release.case_id == case.id).order_by(Release.id.desc())))


def can_release(user: User) -> bool:
    return user.has_role(*R.RELEASE_ROLES)


def release_blocker(case: Case) -> str | None:
    """Why the released copy cannot be made now, or None."""
    draft = case.current_draft
    if case.state not in R.RELEASE_STATES:
        return "删除处理版在法制审核通过后、出具答复前生成"
    if draft is None or draft.outcome_code != R.OUTCOME:
        return "当前稿件不是部分公开答复"
    if not R.documents(case):
        return "尚未上传原件"
    if draft.approved_hash is None or draft.approved_hash != draft.content_hash:
        return "稿件（含删除处理标注）尚未经法制审核通过"
    if R.bound_hash(draft) != R.redaction_hash(case):
        return "删除处理标注与审核通过的版本不一致，须重新保存稿件并重新审核"
    return None


def start_release(case_id: int, actor: User) -> Release:
    """生成删除处理版: recorded here, made by the worker (progress on the job)."""
    case = get_case(case_id, actor)
    if not can_release(actor):
        raise Forbidden("只有承办人、法制审核人员或负责人可以生成删除处理版")
    why = release_blocker(case)
    if why:
        raise ServiceError(why, "redaction")
    existing = R.current_release(case)
    if existing is not None and existing.status in ("queued", "running", "done"):
        return existing
    draft = case.current_draft
    rel = Release(case_id=case.id, draft_id=draft.id, redaction_hash=R.redaction_hash(case), status="queued",
                  created_by_id=actor.id)
    db.session.add(rel)
    db.session.flush()
    record(case, actor, "release_requested", "生成删除处理版", case.state, case.state,
           {"release_id": rel.id, "revision": draft.revision, "redaction_hash": rel.redaction_hash})
    pages = sum(d.pages for d in R.documents(case))
    job = background.submit(KIND, actor, {"release_id": rel.id, "case_id": case.id}, total=pages)  # commits
    rel.job_id = job.id
    db.session.commit()
    return rel


def get_release(release_id: int, actor: User) -> Release:
    rel = db.session.get(Release, release_id)
    if rel is None or rel.case.agency_id != actor.agency_id:
        raise NotFound("删除处理版不存在")
    return rel


def release_pdf(rel: Release, actor: User | None) -> bytes:
    if rel.status != "done":
        raise ServiceError("删除处理版尚未生成完成")
    return stored_bytes("release", rel.id, rel.case.agency_id, rel.sha256, actor)


def release_filename(rel: Release) -> str:
    return f"{rel.case.number}-删除处理版.pdf"


STAMP_HTML = """<!doctype html><html><head><style>
@page { size: 160mm 6mm; margin: 0 }
html, body { margin: 0; padding: 0 }
p { margin: 0; height: 6mm; line-height: 6mm; text-align: center; font-size: 8pt; color: #444;
    font-family: {{ family }}; letter-spacing: 0.5pt }
</style></head><body><p>{{ text }}</p></body></html>"""


def stamp_pdf(case: Case) -> bytes:
    """The margin stamp (case number and 依申请公开) in the letters' face."""
    from .render import _engine, url_fetcher

    engine = _engine()
    html = render_template_string(STAMP_HTML, family=engine.families["heading"],
                                  text=f"依申请公开　{case.agency.name}　{case.number}")
    with engine.lock:
        return engine.html_class(string=html, url_fetcher=url_fetcher()).render(
            font_config=engine.font_config).write_pdf()


def _documents_for(case: Case) -> list[tuple[bytes, list[redact.Box]]]:
    out = []
    for d in R.documents(case):
        out.append((document_pdf(d, None), [redact.Box(b.page, b.x0, b.y0, b.x1, b.y1) for b in d.boxes]))
    return out


def run(job: Job, progress) -> background.Result:
    rel = db.session.get(Release, job.params["release_id"])
    if rel is None:
        raise ServiceError("删除处理版记录不存在")
    case = rel.case
    if rel.redaction_hash != R.redaction_hash(case):
        rel.status, rel.error = "failed", "删除处理标注已改动，未生成"
        db.session.commit()
        raise ServiceError(rel.error)
    rel.status = "running"
    db.session.commit()
    try:
        docs = _documents_for(case)
        out = redact.release(docs, stamp_pdf(case), progress=lambda done, total: progress(done, total))
        digest = storage.store(out.pdf)
    except background.Interrupted:
        raise
    except Exception as e:
        db.session.rollback()
        rel = db.session.get(Release, job.params["release_id"])
        rel.status, rel.error = "failed", f"{type(e).__name__}: {e}"[:500]
        db.session.commit()
        raise
    rel = db.session.get(Release, job.params["release_id"])
    rel.status, rel.sha256, rel.pages, rel.size = "done", digest, out.pages, len(out.pdf)
    rel.redacted_pages, rel.finished_at = len(out.redacted_pages), datetime.utcnow()
    requester = db.session.get(User, job.requested_by_id) if job.requested_by_id else None
    record(case, requester, "release_done", "删除处理版已生成", case.state, case.state, {
        "release_id": rel.id, "sha256": digest, "pages": out.pages, "redacted_pages": len(out.redacted_pages),
        "redaction_hash": rel.redaction_hash})
    db.session.commit()
    return background.Result(data={"release_id": rel.id, "sha256": digest, "pages": out.pages,
                                   "redacted_pages": len(out.redacted_pages)})


def _describe(job: Job) -> str:
    rel = db.session.get(Release, (job.params or {}).get("release_id"))
    return f"{rel.case.number} 删除处理版" if rel else "删除处理版"


background.define(KIND, "生成删除处理版", run, roles=R.RELEASE_ROLES, describe=_describe)
