"""Attachments, archiving and the printed case file (案卷).

* attachments.py — upload scans (validated by content, stored by SHA-256, audited)
* checklist.py   — what the file must hold; ``archive_blockers`` for the archive action
* assemble.py    — the case file PDF (documents.py: items and order; render.py: generated
                   pages; pdffonts.py, cff.py, truetype.py: each font embedded once)
* jobs.py        — printing many case files in a background thread
* routes.py      — the Blueprint ``bp``

``bp`` and ``archive_blockers`` are loaded on first use, so app.services may import
``app.casefile.checklist`` without pulling in the views (which import app.services).
"""
from __future__ import annotations

import importlib

__all__ = ["bp", "archive_blockers"]


def __getattr__(name: str):
    if name == "bp":
        return importlib.import_module(".routes", __name__).bp
    if name == "archive_blockers":
        return importlib.import_module(".checklist", __name__).archive_blockers
    raise AttributeError(name)
