"""Fixtures for attachments, archiving and case files: per-test file stores, logins, issued
letters rendered by WeasyPrint (as the letters engine will store them) and scans."""
from __future__ import annotations

import hashlib
import io
from datetime import datetime
from functools import lru_cache

import pytest

from app.extensions import db
from app.models import Letter
from tests.web.conftest import Web


@pytest.fixture(autouse=True)
def stores(app, tmp_path):
    """Every test gets empty attachment and job directories."""
    saved = {k: app.config.get(k) for k in ("ATTACHMENT_DIR", "CASEFILE_JOB_DIR", "ATTACHMENT_MAX_BYTES",
                                            "ATTACHMENT_MAX_PIXELS", "CASEFILE_ORDER")}
    app.config["ATTACHMENT_DIR"] = str(tmp_path / "attachments")
    app.config["CASEFILE_JOB_DIR"] = str(tmp_path / "jobs")
    yield tmp_path
    for k, v in saved.items():
        if v is None:
            app.config.pop(k, None)
        else:
            app.config[k] = v


@pytest.fixture
def web(app, client):
    return Web(app, client)


@pytest.fixture
def actx(app):
    """An application context for service-level tests (no requests made inside it)."""
    with app.app_context():
        yield
        db.session.remove()


# ------------------------------------------------------------------ letters

LETTER_CSS = """
@page { size: A4; margin: 37mm 26mm 35mm 28mm;
        @bottom-center { content: "— " counter(page) " —"; font-family: "Noto Serif CJK SC"; font-size: 14pt; } }
body { font-family: "Noto Serif CJK SC"; font-size: 16pt; line-height: 28.95pt; }
h1 { font-size: 22pt; text-align: center; font-weight: bold; line-height: 1.4; margin: 0 0 8pt; }
.no { text-align: center; margin: 0 0 16pt; }
p { text-indent: 2em; margin: 0; }
.fill { break-before: page; }
"""

BODY = ("本机关于2026年11月2日收到您提出的政府信息公开申请，您申请获取“{subject}”。经审查，现答复如下："
        "您申请的信息属于本机关公开的政府信息，根据《中华人民共和国政府信息公开条例》第三十六条第（二）项的规定，"
        "现予以公开，随本答复书邮寄提供复印件。如对本答复不服，可以自收到本答复之日起六十日内向示范市人民政府申请"
        "行政复议，或者在六个月内向示范市示范区人民法院提起行政诉讼。")


@lru_cache(maxsize=64)
def letter_pdf(title: str, number: str, pages: int = 1, subject: str = "征收补偿方案") -> bytes:
    """A letter as WeasyPrint renders it: title, number, body; ``pages`` pages long."""
    from weasyprint import CSS, HTML

    body = f"<h1>{title}</h1><p class='no'>{number}</p><p>{BODY.format(subject=subject)}</p>"
    for k in range(1, pages):
        body += f"<p class='fill'>（{number} 第{k + 1}页）{BODY.format(subject=subject)}</p>"
    return HTML(string=f"<html><body>{body}</body></html>").write_pdf(stylesheets=[CSS(string=LETTER_CSS)])


def add_letter(case, title: str, key: str = "reply_disclose", *, pages: int = 1, seq: int | None = None,
               issued_at: datetime | None = None, draft_id: int | None = None, pdf: bytes | None = None) -> Letter:
    """An issued letter row, as the letters engine creates it at issue (``pdf``: other stored bytes)."""
    from pypdf import PdfReader

    seq = seq or (db.session.scalar(db.select(db.func.count()).select_from(Letter)) + 1)
    number = f"示自然资规公开〔2026〕{seq}号"
    pages = pages if pdf is None else 1
    pdf = pdf if pdf is not None else letter_pdf(title, number, pages)
    letter = Letter(agency_id=case.agency_id, case_id=case.id, draft_id=draft_id, key=key, title=title, number=number,
                    notice_ref="reply" if draft_id else f"{key}-{seq}", year=2026, seq=seq,
                    content_hash=hashlib.sha256(title.encode()).hexdigest(), pdf=pdf,
                    sha256=hashlib.sha256(pdf).hexdigest(), pages=_pages(pdf, pages),
                    issued_at=issued_at or datetime(2026, 11, 20, 2, 0, 0))
    db.session.add(letter)
    db.session.commit()
    return letter


def _pages(pdf: bytes, default: int) -> int:
    from pypdf import PdfReader

    try:
        return len(PdfReader(io.BytesIO(pdf)).pages)
    except Exception:  # an unreadable stored PDF (tests of what the case file does with one)
        return default


def ensure_reply_letter(case, pages: int = 1) -> Letter:
    """The issued reply letter: the one the issue step produced (letters engine), or one made here."""
    for letter in case.letters:
        if letter.draft_id is not None and letter.draft_id == case.issued_draft_id:
            return letter
    return add_letter(case, "政府信息公开申请答复书", pages=pages, draft_id=case.issued_draft_id,
                      issued_at=datetime(2026, 11, 23, 2))


def drop_letters(case) -> None:
    """Remove the case's issued letters (to see what the checklist says when one is missing): the
    database refuses it to the application, so the immutability triggers are off for this."""
    from tests.conftest import triggers_off

    with triggers_off("letter"):
        db.session.execute(db.delete(Letter).where(Letter.case_id == case.id))
    db.session.commit()
    db.session.expire_all()


# ------------------------------------------------------------------ scans

def png_bytes(size=(120, 160), color=(200, 30, 30), mode="RGB") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new(mode, size, color if mode != "L" else 128).save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes(size=(160, 120), color=(30, 90, 200)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG", quality=85)
    return buf.getvalue()


@lru_cache(maxsize=16)
def scan_pdf(text: str, pages: int = 1) -> bytes:
    """A 'scanned' PDF whose pages carry text, so a test can find them in the case file."""
    from weasyprint import CSS, HTML

    body = "".join(f"<p style='break-before: {'page' if k else 'auto'}'>{text} 第{k + 1}页</p>" for k in range(pages))
    return HTML(string=f"<html><body>{body}</body></html>").write_pdf(
        stylesheets=[CSS(string="@page { size: A4; margin: 20mm } "
                                "body { font-family: 'Noto Serif CJK SC'; font-size: 14pt }")])
