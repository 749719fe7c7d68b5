"""Attachments, archiving and the printed case file (案卷).

* attachments.py — upload scans (validated by content, stored by SHA-256, audited)
* checklist.py   — what the file must hold; ``archive_blockers`` for the archive action
* assemble.py    — the case file PDF (documents.py: items and order; render.py: generated
                   pages; app/pdf/pdffonts.py: each font embedded once)
* jobs.py        — printing many case files in a background thread
* ocr.py         — the OCR text layer of each uploaded scan, recognised in a background job
* images.py      — scans on A4 pages (fitted, never enlarged), OCR text laid over them
PDF/A-3b, image de-duplication and Tesseract itself are in app.pdf (no Flask, no models).

The pages are app/web/casefile.py (the web layer), so this package never imports the views.
"""
