"""Attachments, archiving and the printed case file (案卷).

* attachments.py — upload scans (validated by content, stored by SHA-256, audited)
* checklist.py   — what the file must hold; ``archive_blockers`` for the archive action
* assemble.py    — the case file PDF (documents.py: items and order; render.py: generated
                   pages; app/pdf/pdffonts.py: each font embedded once)
* jobs.py        — printing many case files in a background thread

The pages are app/web/casefile.py (the web layer), so this package never imports the views.
"""
