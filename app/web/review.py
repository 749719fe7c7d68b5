"""The review screens' parts: the draft reply's pages as images (法制审核, 签发) and what those screens
show beside the form (decided parts, the change from the previous revision)."""
from __future__ import annotations

from flask import Blueprint, Response, abort

from ..models import Case
from ..services import redaction as RD
from ..services import review as R
from ..services.errors import NotFound, ServiceError
from ..services.cases import get_case
from .decorators import me, roles_required
from .redaction import groups

bp = Blueprint("review", __name__)

# The steps taken on a draft by someone who did not write it: they see what they decide on.
REVIEW_STEPS = frozenset({"approve", "return_draft", "sign_off", "reject_signoff"})
PREVIEW_ROLES = ("handler", "legal", "head")


def review_view(case: Case) -> dict:
    """What a review page shows besides the form; empty without a draft."""
    d = case.current_draft
    if d is None:
        return {}
    prev = R.previous_revision(case, d)
    try:
        pages, preview_error = len(R.preview_pages(case, d)), None
    except ServiceError as e:
        pages, preview_error = 0, e.message
    return {"decided": R.decided_parts(case, d), "diff": R.draft_diff(prev, d) if prev else None,
            "preview_pages": pages, "preview_error": preview_error, "draft": d,
            "redaction": redaction_review(case, d)}


def redaction_review(case: Case, d) -> dict | None:
    """For a 部分公开 draft over source documents: what was marked, to be approved with the draft."""
    docs = RD.documents(case)
    if d.outcome_code != RD.OUTCOME or not docs:
        return None
    now, bound = RD.redaction_hash(case), RD.bound_hash(d)
    marked = {}
    for b in RD.boxes(case):
        marked.setdefault((b.document_id, b.page), []).append(b)
    pages = []
    for doc in docs:
        for page in sorted(p for (i, p) in marked if i == doc.id):
            w, h = doc.size_of(page)
            pages.append({"doc": doc, "page": page, "w": round(w, 2), "h": round(h, 2), "boxes": [
                {"x": round(b.x0 * w, 2), "y": round(b.y0 * h, 2), "w": round((b.x1 - b.x0) * w, 2),
                 "h": round((b.y1 - b.y0) * h, 2), "basis": b.basis, "note": b.note} for b in marked[(doc.id, page)]]})
    return {"documents": docs, "groups": groups(case), "pages": pages, "hash": now, "bound": bound,
            "stale": bound != now}


@bp.route("/cases/<int:case_id>/drafts/<int:revision>/page-<int:page>.png")
@roles_required(*PREVIEW_ROLES)
def page_png(case_id: int, revision: int, page: int):
    try:
        case = get_case(case_id, me())
    except NotFound:
        abort(404)
    d = next((x for x in case.drafts if x.revision == revision), None)
    if d is None:
        abort(404)
    try:
        pages = R.preview_pages(case, d)
    except ServiceError:
        abort(404)
    if not 1 <= page <= len(pages):
        abort(404)
    return Response(pages[page - 1], mimetype="image/png", headers={"Cache-Control": "private, no-store"})
