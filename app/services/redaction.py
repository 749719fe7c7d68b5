"""The redaction record of a partial disclosure (Art. 37) as the workflow sees it: the hash that binds
the marked boxes to the reply draft, the withheld rows and attachment lines generated from them, and
the guards that keep a changed redaction set from being approved, signed or issued.

The draft of a 部分公开 reply carries the hash of the redaction set it was written for
(``fields["redaction"]``), so the approval (bound to the draft's content hash) covers both; a box
changed afterwards makes the draft stale until it is saved again and approved again. Marking and
the release job live in app/casefile/redaction.py (uploads are checked there)."""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict

from ..domain.outcomes import WITHHOLDING_BASES
from ..extensions import db
from ..models import Case, Draft, Redaction, Release, SourceDocument
from .errors import ServiceError

BASES = {b.articles: b for b in WITHHOLDING_BASES}
EDIT_STATES = ("registered", "handling")  # where a draft may be saved
EDIT_ROLES = ("handler",)  # as for drafts
RELEASE_STATES = ("signoff", "signed")  # after legal approval, before the reply is issued
RELEASE_ROLES = ("handler", "legal", "head")
OUTCOME = "partial"
GUARDED = ("submit_draft", "approve", "sign_off", "issue")

# What each provision's rows say by default; the handler edits the wording in the draft.
DEFAULT_REASONS = {
    "第十四条": "该部分属于依法确定的国家秘密、法律和行政法规禁止公开的信息，或者公开后可能危及国家安全、"
              "公共安全、经济安全、社会稳定的信息。",
    "第十五条": "该部分涉及个人隐私（或者商业秘密），公开会对第三方合法权益造成损害。",
    "第十六条第一款": "该部分属于人事管理、后勤管理、内部工作流程等方面的内部事务信息。",
    "第十六条第二款": "该部分属于行政机关在履行行政管理职能过程中形成的讨论记录、过程稿、磋商信函、请示报告等"
                  "过程性信息（或者行政执法案卷信息）。",
    "第二条": "该部分不属于行政机关在履行行政管理职能过程中制作或者获取的政府信息。",
}
KIND_LABELS = {"id_number": "身份证号码", "mobile": "手机号码", "bank_card": "银行卡号", "address": "住址"}


def basis_label(articles: str) -> str:
    b = BASES.get(articles)
    return f"{articles}（{b.ground}）" if b else articles


def documents(case: Case) -> list[SourceDocument]:
    return list(db.session.scalars(db.select(SourceDocument).where(SourceDocument.case_id == case.id)
                                   .order_by(SourceDocument.position, SourceDocument.id)))


def boxes(case: Case) -> list[Redaction]:
    return list(db.session.scalars(db.select(Redaction).where(Redaction.case_id == case.id)
                                   .order_by(Redaction.document_id, Redaction.page, Redaction.y0,
                                             Redaction.x0, Redaction.id)))


def _canonical(docs: list[SourceDocument], marks: list[Redaction]) -> list:
    pos = {d.id: n for n, d in enumerate(docs, 1)}
    return [
        [[d.pdf_sha256, d.title] for d in docs],
        sorted([pos.get(b.document_id, 0), b.page, round(b.x0, 5), round(b.y0, 5), round(b.x1, 5), round(b.y1, 5),
                b.basis, b.note] for b in marks),
    ]


def redaction_hash(case: Case) -> str:
    """SHA-256 of the documents (content and order) and every box with its basis and note; "" when
    the case has no source documents."""
    docs = documents(case)
    if not docs:
        return ""
    canonical = json.dumps(_canonical(docs, boxes(case)), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def binding(case: Case) -> dict | None:
    """What a 部分公开 draft records of the redaction set it was written for."""
    docs = documents(case)
    if not docs:
        return None
    marks = boxes(case)
    return {"hash": redaction_hash(case), "documents": len(docs), "pages": sum(d.pages for d in docs),
            "boxes": len(marks), "redacted_pages": len({(b.document_id, b.page) for b in marks})}


def bound_hash(draft: Draft | None) -> str:
    if draft is None:
        return ""
    r = draft.fields.get("redaction")
    return r.get("hash", "") if isinstance(r, dict) else ""


def _pages_text(pages: list[int]) -> str:
    """1-based page numbers as 第3页、第5—7页."""
    out, run = [], []
    for p in sorted(set(pages)):
        if run and p == run[-1] + 1:
            run.append(p)
            continue
        if run:
            out.append(run)
        run = [p]
    if run:
        out.append(run)
    return "、".join(f"第{r[0]}页" if len(r) == 1 else f"第{r[0]}—{r[-1]}页" for r in out)


def generated_rows(case: Case) -> list[dict]:
    """The 不予公开的部分 rows from the boxes, one per provision in the order of the table: which
    document and pages, what was covered (the notes, else what the suggestions found), and the
    provision's default reason."""
    docs = {d.id: d for d in documents(case)}
    by_basis: dict[str, dict[int, list[Redaction]]] = defaultdict(lambda: defaultdict(list))
    for b in boxes(case):
        by_basis[b.basis][b.document_id].append(b)
    rows = []
    for articles in [b.articles for b in WITHHOLDING_BASES] + sorted(set(by_basis) - set(BASES)):
        if articles not in by_basis:
            continue
        parts = []
        for doc_id, marks in sorted(by_basis[articles].items(), key=lambda kv: docs[kv[0]].position):
            what = list(dict.fromkeys(m.note.strip() for m in marks if m.note.strip()))
            what += [KIND_LABELS[k] for k in dict.fromkeys(m.kind for m in marks if not m.note.strip())
                     if k in KIND_LABELS]
            desc = "、".join(what) if what else "遮盖处理的内容"
            parts.append(f"《{docs[doc_id].title}》{_pages_text([m.page + 1 for m in marks])}中的{desc}")
        b = BASES.get(articles)
        rows.append({"part": "；".join(parts), "reason": DEFAULT_REASONS.get(articles, ""),
                     "basis": b.text if b else articles})
    return rows


def attachment_lines(case: Case) -> list[str]:
    """The released package as the letter's 附件: each document with its page count."""
    return [f"{d.title}（删除处理版，共{d.pages}页）" for d in documents(case)]


def check_rows(case: Case, withheld) -> None:
    """Every provision a box rests on is stated among the draft's withheld parts."""
    used = {b.basis for b in boxes(case)}
    stated = {item.get("basis") for item in withheld or () if isinstance(item, dict)}
    missing = [a for a in [b.articles for b in WITHHOLDING_BASES] if a in used and BASES[a].text not in stated]
    if missing:
        raise ServiceError("删除处理标注依据" + "、".join(missing) + "的部分未在“不予公开的部分”中说明理由："
                           "可用“按删除处理标注生成”填入", "withheld")


def draft_binding(case: Case, outcome_code: str, fields: dict) -> dict:
    """The fields a draft saved now adds: the redaction set it is written for (部分公开 only)."""
    if outcome_code != OUTCOME:
        return {}
    bound = binding(case)
    if bound is None:
        return {}
    check_rows(case, fields.get("withheld"))
    return {"redaction": bound}


def current_release(case: Case, draft: Draft | None = None) -> Release | None:
    """The latest release made for this draft (default: the current one) and the redaction set now."""
    draft = draft or case.current_draft
    if draft is None:
        return None
    return db.session.scalar(db.select(Release).where(Release.case_id == case.id, Release.draft_id == draft.id,
                                                      Release.redaction_hash == redaction_hash(case))
                             .order_by(Release.id.desc()).limit(1))


def issued_release(case: Case) -> Release | None:
    """The release that went out with the issued reply, if any."""
    if case.issued_draft_id is None:
        return None
    draft = db.session.get(Draft, case.issued_draft_id)
    h = bound_hash(draft)
    if not h:
        return None
    return db.session.scalar(db.select(Release).where(Release.case_id == case.id, Release.draft_id == draft.id,
                                                      Release.redaction_hash == h, Release.status == "done")
                             .order_by(Release.id.desc()).limit(1))


def check_step(case: Case, draft: Draft | None, action: str) -> None:
    """Refuse submitting, approving, signing or issuing a 部分公开 draft whose redaction set changed
    since it was saved; refuse issuing it before its released copy exists."""
    if action not in GUARDED or draft is None or draft.outcome_code != OUTCOME:
        return
    bound, now = bound_hash(draft), redaction_hash(case)
    if bound != now:
        raise ServiceError("删除处理标注在保存答复稿件后有改动（或稿件保存时尚未标注）：请重新保存答复稿件，"
                           "改动须重新经法制审核", "redaction")
    if action == "issue" and now:
        rel = current_release(case, draft)
        if rel is None or rel.status != "done":
            raise ServiceError("删除处理版尚未生成完成：请先在“删除处理”页生成删除处理版，再出具答复", "redaction")
