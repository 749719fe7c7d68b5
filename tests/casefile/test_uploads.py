"""Uploading scans: type by content, size limit, content-addressed storage, audit, roles."""
from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from pathlib import Path

import pytest

from app.casefile import attachments as A
from app.services import storage
from app.extensions import db
from app.models import Attachment, Event
from app.services.errors import Forbidden, ServiceError
from tests.casefile.conftest import jpeg_bytes, png_bytes, scan_pdf
from tests.conftest import user
from tests.factories import build_case, events, other_agency, snapshot


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def huge_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid PNG header declaring 10 gigapixels, with a tiny (truncated) data stream."""
    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(b"\0" * 1000))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + idat + chunk(b"IEND", b"")


def encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter(clone_from=PdfReader(io.BytesIO(scan_pdf("加密的扫描件"))))
    w.encrypt("secret")
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


# ------------------------------------------------------------------ accepted files

@pytest.mark.parametrize("name,data,ctype,pages", [
    ("申请表.pdf", lambda: scan_pdf("申请表扫描件", 2), "application/pdf", 2),
    ("身份证.png", png_bytes, "image/png", 1),
    ("回执.jpg", jpeg_bytes, "image/jpeg", 1),
    ("无扩展名的扫描件", jpeg_bytes, "image/jpeg", 1),
])
def test_accepted_scan_is_stored_by_hash_and_audited(actx, stores, name, data, ctype, pages):
    data = data()
    case = build_case("handling")
    before = len(events(case.id))
    att = A.add_attachment(case.id, user("clerk"), data, name, "application_form", "")
    digest = hashlib.sha256(data).hexdigest()
    assert (att.content_type, att.pages, att.size, att.sha256) == (ctype, pages, len(data), digest)
    assert att.title == "申请表"  # the category when no title is given
    path = stores / "attachments" / digest[:2] / digest[2:4] / digest
    assert path.read_bytes() == data
    assert stored_files(stores / "attachments") == [path]  # no temporary file left behind
    evs = events(case.id)
    assert len(evs) == before + 1
    ev = evs[-1]
    assert (ev.action, ev.label, ev.actor_id) == ("attach", "上传附件", user("clerk").id)
    assert ev.data["sha256"] == digest and ev.data["attachment_id"] == att.id and ev.data["filename"] == name


def test_same_scan_twice_is_stored_once_and_never_rewritten(actx, stores):
    case = build_case("handling")
    data = scan_pdf("送达回证")
    a1 = A.add_attachment(case.id, user("clerk"), data, "a.pdf", "proof_of_service", "回证")
    path = storage.path_for(a1.sha256)
    inode, mtime = path.stat().st_ino, path.stat().st_mtime_ns
    a2 = A.add_attachment(case.id, user("handler"), data, "b.pdf", "proof_of_service", "回证（复印）")
    assert a1.id != a2.id and a1.sha256 == a2.sha256
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (inode, mtime)
    assert len(stored_files(stores / "attachments")) == 1


def test_failure_after_storing_keeps_file_but_records_nothing(actx, stores, monkeypatch):
    """The database step fails (here: the audit write): no row, no event; the stored file stays."""
    case = build_case("handling")
    before = snapshot(case.id)
    data = png_bytes(color=(1, 2, 3))

    def broken_record(*a, **kw):
        raise ServiceError("审计记录写入失败")
    monkeypatch.setattr("app.casefile.attachments.record", broken_record)
    with pytest.raises(ServiceError):
        A.add_attachment(case.id, user("clerk"), data, "x.png", "identity", "")
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count()).select_from(Attachment)) == 0
    assert snapshot(case.id) == before
    assert storage.path_for(hashlib.sha256(data).hexdigest()).read_bytes() == data
    monkeypatch.undo()
    att = A.add_attachment(case.id, user("clerk"), data, "x.png", "identity", "")  # reuses the stored file
    assert att.sha256 == hashlib.sha256(data).hexdigest()
    assert len(stored_files(stores / "attachments")) == 1


# ------------------------------------------------------------------ refused files

def _garbage(n: int = 4000) -> bytes:
    return bytes((i * 7919 + 13) % 251 for i in range(n))


FORGED = [
    ("a .pdf name with PNG bytes", "申请表.pdf", png_bytes, "与文件名“.pdf”不符"),
    ("a .pdf name with random bytes", "申请表.pdf", _garbage, "文件类型不支持"),
    ("a JPEG header followed by garbage", "回执.jpg", lambda: b"\xff\xd8\xff\xe0" + _garbage(), "已损坏或无法读取"),
    ("a PDF header followed by garbage", "回执.pdf", lambda: b"%PDF-1.7\n" + _garbage(), "已损坏或无法读取"),
    ("a zero-byte file", "空文件.pdf", lambda: b"", "文件为空"),
    ("an image bomb", "炸弹.png", huge_png, "图片尺寸过大"),
    ("an encrypted PDF", "加密.pdf", encrypted_pdf, "已加密"),
    ("a truncated PNG", "截断.png", lambda: png_bytes(size=(400, 400))[:-40], "已损坏或无法读取"),
]


@pytest.mark.parametrize("what,name,data,message", FORGED, ids=[f[0] for f in FORGED])
def test_forged_upload_is_refused_and_leaves_the_case_as_it_was(actx, stores, what, name, data, message):
    case = build_case("handling")
    before = snapshot(case.id)
    with pytest.raises(ServiceError) as e:
        A.add_attachment(case.id, user("clerk"), data(), name, "application_form", "申请表")
    assert message in e.value.message and e.value.field == "file"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in e.value.message)  # a Chinese sentence
    db.session.expire_all()
    assert snapshot(case.id) == before  # no event, same version
    assert db.session.scalar(db.select(db.func.count()).select_from(Attachment)) == 0
    assert stored_files(stores / "attachments") == []


def test_oversized_upload_is_refused(app, actx, stores):
    app.config["ATTACHMENT_MAX_BYTES"] = 2048
    case = build_case("handling")
    before = snapshot(case.id)
    with pytest.raises(ServiceError) as e:
        A.add_attachment(case.id, user("clerk"), scan_pdf("很大的扫描件"), "big.pdf", "other", "")
    assert "文件过大" in e.value.message and "2 KB" in e.value.message
    db.session.expire_all()
    assert snapshot(case.id) == before
    assert stored_files(stores / "attachments") == []


def test_pixel_limit_is_a_setting(app, actx):
    app.config["ATTACHMENT_MAX_PIXELS"] = 100 * 100
    case = build_case("handling")
    with pytest.raises(ServiceError, match="图片尺寸过大"):
        A.add_attachment(case.id, user("clerk"), png_bytes(size=(101, 100)), "a.png", "identity", "")
    A.add_attachment(case.id, user("clerk"), png_bytes(size=(100, 100)), "a.png", "identity", "")


def test_unknown_category_and_long_title_refused(actx):
    case = build_case("handling")
    with pytest.raises(ServiceError) as e:
        A.add_attachment(case.id, user("clerk"), png_bytes(), "a.png", "nonsense", "")
    assert e.value.field == "category"
    with pytest.raises(ServiceError) as e:
        A.add_attachment(case.id, user("clerk"), png_bytes(), "a.png", "identity", "题" * 201)
    assert e.value.field == "title"


@pytest.mark.parametrize("username", ["legal", "head", "admin"])
def test_only_clerk_handler_archivist_may_upload(actx, username):
    case = build_case("handling")
    with pytest.raises(Forbidden):
        A.add_attachment(case.id, user(username), png_bytes(), "a.png", "identity", "")


def test_other_agency_cannot_upload(actx):
    case = build_case("handling")
    _agency, others = other_agency()
    with pytest.raises(ServiceError, match="案件不存在"):
        A.add_attachment(case.id, others["clerk"], png_bytes(), "a.png", "identity", "")


def test_read_limited_stops_after_the_limit():
    stream = io.BytesIO(b"x" * 10_000)
    assert len(A.uploads.read_limited(stream, 100)) == 101
    assert len(A.uploads.read_limited(io.BytesIO(b"abc"), 100)) == 3


def test_storage_refuses_a_path_that_is_not_a_digest(actx):
    with pytest.raises(ValueError):
        storage.path_for("../../etc/passwd")
    assert os.sep not in storage.path_for("a" * 64).name


# ------------------------------------------------------------------ the pages

def _post(web, case_id, data, name, category="application_form", title="申请表"):
    return web.client.post(f"/cases/{case_id}/attachments", content_type="multipart/form-data",
                           data={"category": category, "title": title, "file": (io.BytesIO(data), name)})


def test_upload_page_accepts_a_scan(web):
    case_id = web.run(lambda: build_case("handling").id)
    web.as_user("clerk")
    r = _post(web, case_id, scan_pdf("申请表扫描件"), "申请表.pdf")
    assert r.status_code == 302
    page = web.client.get(f"/cases/{case_id}/attachments")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "申请表.pdf" in html and "上传扫描件" in html


def test_upload_page_shows_the_refusal_in_chinese(web):
    case_id = web.run(lambda: build_case("handling").id)
    web.as_user("handler")
    r = _post(web, case_id, png_bytes(), "申请表.pdf")
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "与文件名“.pdf”不符" in html
    assert web.run(lambda: db.session.scalar(db.select(db.func.count()).select_from(Attachment))) == 0
    r = web.client.post(f"/cases/{case_id}/attachments", data={"category": "identity"})
    assert r.status_code == 400 and "请选择要上传的扫描件" in r.get_data(as_text=True)


@pytest.mark.parametrize("username,status", [("clerk", 302), ("handler", 302), ("archivist", 302),
                                             ("legal", 403), ("head", 403), ("admin", 403)])
def test_upload_route_roles(web, username, status):
    case_id = web.run(lambda: build_case("handling").id)
    web.as_user(username)
    assert _post(web, case_id, png_bytes(), "a.png", "identity", "身份证").status_code == status
    assert web.client.get(f"/cases/{case_id}/attachments").status_code == 200  # everyone may look


def test_attachment_pages_need_a_login_and_the_same_agency(web):
    case_id = web.run(lambda: build_case("handling").id)
    att_id = web.run(lambda: A.add_attachment(case_id, user("clerk"), png_bytes(), "a.png", "identity", "").id)
    assert web.client.get(f"/cases/{case_id}/attachments").status_code == 302  # to the login page
    assert web.client.get(f"/attachments/{att_id}").status_code == 302
    web.run(other_agency)
    web.as_user("other_clerk")
    assert web.client.get(f"/cases/{case_id}/attachments").status_code == 404
    assert web.client.get(f"/attachments/{att_id}").status_code == 404
    assert _post(web, case_id, png_bytes(), "a.png", "identity").status_code == 404


@pytest.mark.parametrize("username", ["clerk", "handler", "handler2", "legal", "head", "archivist", "admin"])
def test_download_for_every_user_of_the_agency(web, username):
    data = jpeg_bytes()
    case_id = web.run(lambda: build_case("handling").id)
    att_id = web.run(lambda: A.add_attachment(case_id, user("clerk"), data, "送达回证.jpg", "proof_of_service", "").id)
    web.as_user(username)
    r = web.client.get(f"/attachments/{att_id}")
    assert r.status_code == 200 and r.data == data and r.mimetype == "image/jpeg"
    assert "attachment;" in r.headers["Content-Disposition"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert web.client.get("/attachments/999999").status_code == 404


def test_no_event_for_a_refused_upload_through_the_page(web):
    case_id = web.run(lambda: build_case("handling").id)
    n = web.run(lambda: db.session.scalar(db.select(db.func.count()).select_from(Event)))
    web.as_user("clerk")
    assert _post(web, case_id, b"\xff\xd8\xff\xe0garbage" * 50, "x.jpg").status_code == 400
    assert web.run(lambda: db.session.scalar(db.select(db.func.count()).select_from(Event))) == n
