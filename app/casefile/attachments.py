"""Scans attached to a case: upload (validated, stored by content, audited) and lookup."""
from __future__ import annotations

import re
import unicodedata

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..models import Attachment, Case, User
from ..models.attachment import ATTACHMENT_CATEGORIES
from ..services import integrity
from ..services.audit import record
from ..services.cases import get_case
from ..services.errors import Forbidden, NotFound, ServiceError
from ..services import storage
from . import ocr, uploads

UPLOAD_ROLES = ("clerk", "handler", "archivist")
ARCHIVED_MESSAGE = "该案件已归档，案卷不能再修改（包括上传附件）。如确需修改，请由管理员先撤销归档。"


def can_upload(user: User) -> bool:
    return user.has_role(*UPLOAD_ROLES)


def ensure_changeable(case: Case) -> None:
    """Archived files are read-only; only the reopen action (admin) changes them again."""
    if case.state == "archived":
        raise ServiceError(ARCHIVED_MESSAGE, "case")


def clean_filename(name: str | None) -> str:
    """The name the user gave, for display only: no path, no control characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip(" .")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:190] + dot + ext[:9]) if dot and len(ext) <= 9 else name[:200]
    return name or "扫描件"


def add_attachment(case_id: int, actor: User, data: bytes, filename: str | None, category: str,
                   title: str | None = None) -> Attachment:
    """上传附件: check the actor, the case, the category and the bytes; store; record; commit.

    A refused upload (role, archived case, category, size, type, broken file) leaves no row,
    no event and no stored file. If the database step fails after the file was stored, the
    file stays: it is named by its content, harmless, and the next upload of it reuses it.
    """
    if not can_upload(actor):
        raise Forbidden("只有登记员、承办人或档案员可以上传附件")
    case = get_case(case_id, actor)
    ensure_changeable(case)
    if category not in ATTACHMENT_CATEGORIES:
        raise ServiceError("请选择附件类别", "category")
    title = (title or "").strip()
    if len(title) > 200:
        raise ServiceError("附件标题不能超过200字", "title")
    title = title or ATTACHMENT_CATEGORIES[category]
    detected = uploads.check(data, filename)
    digest = storage.store(data)
    try:
        # Lock the case row (PostgreSQL) and look again: an archiving that committed meanwhile wins.
        state = db.session.execute(db.select(Case.state).where(Case.id == case.id).with_for_update()).scalar_one()
        if state == "archived":
            raise ServiceError(ARCHIVED_MESSAGE, "case")
        att = Attachment(case_id=case.id, category=category, title=title, filename=clean_filename(filename),
                         content_type=detected.content_type, size=len(data), sha256=digest,
                         pages=detected.pages, uploaded_by_id=actor.id)
        db.session.add(att)
        db.session.flush()
        record(case, actor, "attach", "上传附件", state, state, {
            "attachment_id": att.id, "category": category, "category_label": ATTACHMENT_CATEGORIES[category],
            "title": title, "filename": att.filename, "content_type": detected.content_type,
            "size": len(data), "pages": detected.pages, "sha256": digest,
        })
        job = ocr.queue(att)  # recognised by the worker, never in the request
        db.session.commit()
    except ServiceError:
        db.session.rollback()
        raise
    except SQLAlchemyError:
        db.session.rollback()
        raise ServiceError("保存附件时数据库出错，附件未登记，请重试") from None
    if current_app.config["OCR_AUTOSTART"]:
        ocr.enqueue(job)
    return att


def get_attachment(attachment_id: int, actor: User) -> Attachment:
    att = db.session.get(Attachment, attachment_id)
    if att is None or att.case.agency_id != actor.agency_id:
        raise NotFound("附件不存在")
    return att


def read_attachment(att: Attachment, actor: User | None) -> bytes:
    """The scan's bytes, checked against its SHA-256 (a mismatch is refused and logged)."""
    return integrity.attachment_bytes(att, actor)
