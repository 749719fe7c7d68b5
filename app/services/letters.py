"""Letters of a case: context from the case, draft previews, and issue (number + PDF, once).

The catalogue (app/letters) says which letter serves which outcome or step and which fields it
needs; this module only maps a stored case onto those fields.
"""
from __future__ import annotations

import hashlib
import json
import re
import string
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Mapping

from flask import current_app
from sqlalchemy.orm.attributes import flag_modified

from ..domain.clock import FEE_PAYMENT_DAYS, format_cn_date
from ..domain.workflow import NOTICE_SEPARATION, TransitionError, separation
from ..extensions import db
from ..letters import (LetterError, example_context, get_letter, letter_for_outcome, prepare_context, render_html,
                       render_pdf, repeated_sentences, validate_template, with_example_values)
from ..letters.catalogue import Field, Letter as LetterType
from ..models import Case, Draft, Letter, LetterTemplateOverride, Step, User
from ..models.case import UNISSUED
from .base import commit_step as _commit, get_case
from .errors import Conflict, NotFound, ServiceError, conflict_is_409
from . import notify
from .memo import FileMemo, Memo
from .numbering import next_number
from .time import today

# Letters the applicant is told of by SMS/e-mail when first issued (the reply: any letter of ref "reply").
APPLICANT_NOTICES = {"correction_notice": "correction", "extension_notice": "extended"}

# Supplied by the case, the agency and the issue itself, never typed into a draft.
CASE_SUPPLIED = ("agency.", "number", "issued_on", "contact.", "applicant.", "received_on", "request",
                 "case_ref", "basis", "outcome")


def _case_supplied(name: str) -> bool:
    return any(name == p or (p.endswith(".") and name.startswith(p)) for p in CASE_SUPPLIED)


def reply_letter(outcome_code: str) -> LetterType | None:
    return letter_for_outcome(outcome_code)


def form_name(field_name: str) -> str:
    """Form and JSON key of a dotted letter field (earlier.replied_on → earlier__replied_on)."""
    return field_name.replace(".", "__")


def draft_fields(letter: LetterType) -> list[Field]:
    """The fields a handler writes for this letter (the rest come from the case)."""
    return [f for f in letter.fields if not _case_supplied(f.name)]


def read_letter_fields(letter: LetterType, raw: Mapping[str, Any]) -> dict:
    """Flat {dotted name: value} from a form or JSON body; text as typed, items parsed from lines
    (the form) or taken from objects (JSON), stored the same way either way."""
    out: dict[str, Any] = {}
    for f in draft_fields(letter):
        v = raw.get(form_name(f.name), raw.get(f.name))
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        if f.type == "items":
            v = _items(f, v)
            if not v:
                continue
        elif isinstance(v, str):
            v = v.strip()
        out[f.name] = v
    return out


def _items(f: Field, v: Any) -> list[dict]:
    keys = [s.name for s in f.item_fields] or ["part", "reason", "basis"]
    if isinstance(v, str):
        # One item per line, values separated by "｜" in the declared order (trailing ones optional).
        rows = [[p.strip() for p in line.replace("|", "｜").split("｜")] for line in v.splitlines() if line.strip()]
        v = [dict(zip(keys, row)) for row in rows]
    if not isinstance(v, (list, tuple)):
        return v
    out = []
    for item in v:
        if not isinstance(item, Mapping):
            return list(v)  # not items at all: the letter check names the field
        values = {k: str(item.get(k) or "").strip() for k in keys}
        if any(values.values()):
            out.append(values)
    return out


def _nest(flat: Mapping[str, Any]) -> dict:
    out: dict = {}
    for name, value in flat.items():
        node = out
        *parents, leaf = name.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def case_context(case: Case, extra: Mapping[str, Any] | None = None, *, number: str | None = None,
                 issued_on: date | None = None, outcome: str | None = None) -> dict:
    a = case.agency
    ctx = _nest(extra or {})
    ctx.update({
        "agency": {"name": a.name, "reconsideration_body": a.reconsideration_body or None,
                   "court": a.court or None, "address": a.address or None, "phone": a.phone or None,
                   "seal_png": a.seal_png},
        "applicant": {"name": case.applicant_name,
                      "kind": "person" if case.applicant_type == "natural" else "organisation"},
        "received_on": case.received_on,
        "request": case.description,
        "case_ref": case.number,
        "contact": {"name": case.handler.name if case.handler else None, "phone": a.phone or None},
        "number": number,
        "issued_on": issued_on,
    })
    if outcome:
        ctx["outcome"] = outcome
    return ctx


def _letter_fields(case: Case, letter: LetterType | None, fields: Mapping[str, Any]) -> dict:
    """A draft's fields as its letter reads them: older generic fields mapped, unknown ones dropped,
    and what the case already knows filled in where the draft is silent."""
    fields = dict(fields)
    # Older generic draft fields feed the letter fields of the same meaning.
    if "responsible_agency" in fields:
        fields.setdefault("responsible.name", fields.pop("responsible_agency"))
    if "earlier_reply" in fields:
        fields.setdefault("earlier.number", fields.pop("earlier_reply"))
    known = {f.name for f in letter.fields} if letter else set()
    fields = {k: v for k, v in fields.items() if k in known}
    if "reasons_result" in known:
        # Art. 35: whether the applicant explained (unreasonably) or never answered, as recorded.
        step = next((s for s in reversed(case.steps) if s.kind == "reasons"
                     and s.result in ("unreasonable", "no_answer")), None)
        if step is not None:
            fields.setdefault("reasons_result", step.result)
            fields.setdefault("reasons_notice.due", step.due_on)
    return fields


def draft_context(case: Case, draft: Draft, **kw) -> dict:
    letter = reply_letter(draft.outcome_code)
    return case_context(case, _letter_fields(case, letter, draft.fields), outcome=draft.outcome_code, **kw)


def _plain(message: str) -> str:
    # The letter layer names fields as "标签（name）"; a person reads only the Chinese label.
    return re.sub(r"（[A-Za-z0-9_.]+）", "", message)


def check_draft(case: Case, outcome_code: str, fields: Mapping[str, Any]) -> None:
    """Refuse a draft whose letter could not be produced, naming the missing field, or whose text
    repeats a sentence the letter already prints (the letter states the decision once)."""
    letter = reply_letter(outcome_code)
    if letter is None:
        return
    letter_fields = _letter_fields(case, letter, fields)
    ctx = case_context(case, letter_fields, outcome=outcome_code)
    try:
        prepare_context(letter.key, ctx, draft=True)
    except LetterError as e:
        field = e.field or ""
        if field.startswith("agency."):
            raise ServiceError(f"{e.message}。请管理员在“机关设置”中补充。", "outcome") from None
        raise ServiceError(_plain(e.message), form_name(field.split(".")[0] if field.count(".") > 1 else field)) from None
    try:
        html = render_html(letter.key, ctx, _overrides(case, letter.key), draft=True)
    except LetterError:
        return  # a broken agency template is reported when the letter is previewed or issued
    for sentence in repeated_sentences(html):
        for name, value in letter_fields.items():
            if isinstance(value, str) and sentence in re.sub(r"[\s\u3000]+", "", value):
                f = letter.field(name)
                raise ServiceError(f"“{f.label if f else name}”与答复书中的其他内容重复：“{sentence}”。"
                                   f"答复书只写一次，请删去重复的内容。", form_name(name))


# Where a missing element of a letter is supplied, for the message that names it.
_WHERE = (("agency.", "请管理员在“机关设置”中补充"),
          ("applicant.", "请在案件登记信息中补充"), ("received_on", "请在案件登记信息中补充"),
          ("request", "请在案件登记信息中补充"))


def check_letter(case: Case, key: str, ctx: dict, verb: str) -> None:
    """Refuse to sign off or issue a letter that would print an empty required element (or could
    not be produced at all), naming the element by its label; nothing is changed."""
    letter = get_letter(key)
    ctx = {**ctx, "number": ctx.get("number") or ("（签发后编号）" if letter.numbered else None),
           "issued_on": ctx.get("issued_on") or today()}
    try:
        prepare_context(key, ctx, draft=False)
    except LetterError as e:
        if not e.missing:
            raise ServiceError(f"《{letter.name}》无法生成，不能{verb}：{_plain(e.message)}", e.field) from None
        labels = "、".join(f"“{f.label}”" for f in e.missing)
        first = e.missing[0].name
        hint = next((h for p, h in _WHERE if first == p or (p.endswith(".") and first.startswith(p))),
                    "请退回承办人在答复稿中补充" if letter.kind == "substantive" else "请在相应的办理环节中补充")
        raise ServiceError(f"《{letter.name}》缺少{labels}，不能{verb}。{hint}。", form_name(first)) from None


def check_reply(case: Case, draft: Draft | None, verb: str) -> None:
    """check_letter for the reply a draft produces (at sign-off and at issue)."""
    if draft is None:
        return
    letter = reply_letter(draft.outcome_code)
    if letter is not None:
        check_letter(case, letter.key, draft_context(case, draft), verb)


def _overrides(case: Case, key: str) -> dict | None:
    row = db.session.scalar(db.select(LetterTemplateOverride).where(
        LetterTemplateOverride.agency_id == case.agency_id, LetterTemplateOverride.key == key))
    return {key: row.source} if row else None


# A draft letter is a pure function of its content, the agency's wording and the letter templates
# this version ships: previews are memoised per process and, for the other workers of the host,
# in files (an issued letter is rendered once and stored, so it never comes here twice).
_DRAFTS: Memo[bytes] = Memo(64)
_DRAFT_FILES = FileMemo(lambda: _preview_dir(), max_files=512)
_SHIPPED: str | None = None


def _preview_dir() -> Path:
    configured = current_app.config["LETTER_PREVIEW_DIR"]
    return Path(configured) if configured else Path(current_app.instance_path) / "letter-previews"


def _shipped() -> str:
    """A digest of what else a draft's PDF depends on: the letter templates and the renderer as
    installed, and the font map. An upgrade changes it, so no browser keeps an old rendering."""
    global _SHIPPED
    if _SHIPPED is None:
        from ..letters.catalogue import TEMPLATES_DIR

        h = hashlib.sha256(current_app.config["OGI_LETTER_FONTS"].encode())
        files = [p for p in sorted(Path(TEMPLATES_DIR).rglob("*")) if p.is_file()]
        files += sorted((Path(__file__).parent.parent / "letters").glob("*.py"))
        for p in files:
            h.update(p.name.encode() + b"\0" + p.read_bytes())
        _SHIPPED = h.hexdigest()
    return _SHIPPED


@dataclass
class DraftPdf:
    """A draft letter's PDF, named by its content (``etag``) before it is rendered or fetched."""

    etag: str
    pdf: Callable[[], bytes]


def draft_pdf(case: Case, key: str, ctx: dict) -> DraftPdf:
    overrides = _overrides(case, key)
    memo_key = hashlib.sha256("\0".join((_shipped(), key, content_hash(ctx), str(ctx.get("number")),
                                          str(ctx.get("issued_on")),
                                          json.dumps(overrides, sort_keys=True, default=str))).encode()).hexdigest()

    def make() -> bytes:
        try:
            return render_pdf(key, ctx, draft=True, overrides=overrides)
        except LetterError as e:
            raise ServiceError(f"无法生成文书：{e.message}", e.field) from None

    return DraftPdf(memo_key, lambda: _DRAFTS.get(memo_key, lambda: _DRAFT_FILES.get(memo_key, make)))


def render(case: Case, key: str, ctx: dict, *, draft: bool) -> bytes:
    if draft:
        return draft_pdf(case, key, ctx).pdf()
    try:
        return render_pdf(key, ctx, draft=False, overrides=_overrides(case, key))
    except LetterError as e:
        raise ServiceError(f"无法生成文书：{e.message}", e.field) from None


def reply_draft(case: Case) -> tuple[str, DraftPdf]:
    """The current draft's letter title and its PDF marked 草稿 (rendered when asked for)."""
    d = case.current_draft
    if d is None:
        raise ServiceError("尚未起草答复")
    letter = reply_letter(d.outcome_code)
    if letter is None:
        raise ServiceError("该办理结果不出具答复书")
    return letter.title, draft_pdf(case, letter.key, draft_context(case, d))


def preview_reply(case: Case) -> tuple[str, bytes]:
    """The current draft as a PDF marked 草稿."""
    title, draft = reply_draft(case)
    return title, draft.pdf()


# The fields a letter number pattern may use, and the format specs each accepts: the code as it
# is; year and sequence as integers, optionally zero-padded to a width of at most 9 ({seq:03d}).
NUMBER_FIELDS = {"code": re.compile(r""), "year": re.compile(r"(0[1-9])?d?"), "seq": re.compile(r"(0[1-9])?d?")}
NUMBER_PATTERN_HELP = "可用 {code}（发文代字）、{year}（年度）、{seq}（序号），序号可补零如 {seq:03d}"


def check_number_pattern(pattern: str) -> str | None:
    """None if ``pattern`` is a usable letter number pattern, else why not (Chinese).

    Only the documented fields with integer widths: str.format would otherwise read attributes
    and items of the values ({code.__class__}, {code[0]}) or raise on other fields.
    """
    if not isinstance(pattern, str) or not pattern.strip():
        return "文号格式不能为空"
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError:
        return "文号格式中的花括号不成对（字面的花括号请写成 {{ 或 }}）"
    fields = []
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in NUMBER_FIELDS:
            return f"文号格式中的“{{{name}}}”不可用"
        if conversion or not NUMBER_FIELDS[name].fullmatch(spec or ""):
            shown = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            return f"文号格式中的“{{{shown}}}”格式不可用"
        fields.append(name)
    if "seq" not in fields:
        return "文号格式须包含序号 {seq}"
    return None


def format_number(pattern: str, code: str, year: int, seq: int) -> str:
    problem = check_number_pattern(pattern)  # again here: a stored pattern may predate the check
    if problem:
        raise ServiceError(f"{problem}（{NUMBER_PATTERN_HELP}）", "number_pattern")
    return pattern.format(code=code, year=int(year), seq=int(seq))


def issue_letter(case: Case, actor: User, key: str, ctx: dict, *, content_hash: str, on: date, ref: str,
                 draft: Draft | None = None, supersedes: Letter | None = None,
                 reason: str | None = None) -> Letter:
    """Number (if its type carries a 文号), render once and store, inside the caller's transaction:
    a failure rolls the number back with everything else, so no number is consumed without its
    stored PDF. ``ref`` is what of the case the letter belongs to; with ``supersedes`` it is the
    next re-issue of that letter, else the first issue (the unique key refuses a second one)."""
    letter = get_letter(key)
    number = seq = None
    if letter.numbered:
        seq = next_number(case.agency_id, "letter", on.year)
        number = format_number(case.agency.number_pattern, case.agency.doc_code or case.agency.code, on.year, seq)
    ctx = {**ctx, "number": number, "issued_on": on}
    pdf = render(case, key, ctx, draft=False)
    row = Letter(agency_id=case.agency_id, case_id=case.id, draft_id=draft.id if draft else None, key=key,
                 title=letter.title, number=number, year=on.year, seq=seq, content_hash=content_hash, pdf=pdf,
                 sha256=hashlib.sha256(pdf).hexdigest(), pages=_pages(pdf), issued_by_id=actor.id,
                 issued_at=datetime.utcnow(), notice_ref=ref,
                 reissue_no=supersedes.reissue_no + 1 if supersedes else 0,
                 supersedes_id=supersedes.id if supersedes else None, reissue_reason=reason)
    case.letters.append(row)
    db.session.flush()
    if supersedes is None:  # the applicant hears of a letter once, not of its corrections
        event = APPLICANT_NOTICES.get(key) or ("replied" if ref == "reply" else None)
        if event:
            notify.to_applicant(case, event)
    return row


def _pages(pdf: bytes) -> int:
    """Pages of a rendered letter, from its page tree (WeasyPrint puts the page objects in
    compressed object streams, where counting "/Type /Page" in the bytes finds none)."""
    from io import BytesIO

    from pypdf import PdfReader

    return len(PdfReader(BytesIO(pdf)).pages)


# ---------------------------------------------------------------- procedural letters of steps

STEP_LETTERS = {
    "correction": "correction_notice",
    "consultation_third_party": "consult_third_party",
    "consultation_agency": "consult_agency",
    "reasons": "reasons_notice",
    "fee": "fee_notice",
    "cohandle": "cohandle",
}


def step_context(case: Case, step: Step) -> dict:
    d = step.details
    extra: dict[str, Any] = {}
    if step.kind == "correction":
        extra = {"items": [i for i in (d.get("items") or "").splitlines() if i.strip()],
                 "guidance": d.get("guidance") or None, "correction_due": step.due_on}
    elif step.kind == "consultation_third_party":
        extra = {"third_party.name": step.party, "information": case.description, "why": d.get("matter"),
                 "reply_days": 15, "reply_due": step.due_on}
    elif step.kind == "consultation_agency":
        # The information asked for is the request; the matter typed at the step says what is asked.
        extra = {"consulted_agency.name": step.party, "information": case.description, "why": d.get("matter"),
                 "reply_days": 15, "reply_due": step.due_on}
    elif step.kind == "reasons":
        extra = {"facts": d.get("matter"), "reasons_due": step.due_on}
    elif step.kind == "fee":
        extra = {**fee_wording(case, d), "fee.method": d.get("method"), "fee.amount": d.get("amount"),
                 "fee.payment": "请按本机关另行提供的缴款通知，通过非税收入收缴系统缴纳",
                 # The period runs from receipt of the notice, unknown when it is reviewed: the letter
                 # states the rule; only a fee recorded as already sent (before review) names a date.
                 "fee.due": step.due_on if not step.notice_state else None}
    elif step.kind == "cohandle":
        extra = {"cohandler.name": step.party, "tasks": d.get("matter"), "reply_due": step.due_on}
    return case_context(case, extra)


def fee_wording(case: Case, d: Mapping[str, Any]) -> dict:
    """Why, under which article of 国办函〔2020〕109号 (Art. 4 per request, Art. 5 per volume; the
    template names the measure) and how the fee of a fee step was computed, in the letter's words."""
    from ..domain.fees import per_request_fee

    you = "您" if case.applicant_type == "natural" else "贵单位"
    if d.get("method") == "per_request":
        n = int(d.get("nth_in_month") or 0)
        lo, hi = (11, 30) if n <= 30 else (31 + (n - 31) // 10 * 10, 40 + (n - 31) // 10 * 10)
        return {"fee.reason": f"{you}本月已累计提交政府信息公开申请{n}件，申请数量、频次明显超过合理范围",
                "fee.basis": "第四条",
                "fee.calculation": f"按件计收，本件为{you}本月提交的第{n}件申请，"
                                   f"第{lo}件至第{hi}件每件{per_request_fee(max(n, 11))}元"}
    pages = int(d.get("pages") or 0)
    parts = []
    for lo, hi, rate in ((31, 100, 10), (101, 200, 20), (201, None, 40)):
        if pages >= lo:
            top = pages if hi is None else min(pages, hi)
            parts.append(f"第{lo}页至第{top}页每页{rate}元" if top > lo else f"第{lo}页{rate}元")
    return {"fee.reason": f"{you}申请提供的政府信息共{pages}页，数量明显超过合理范围",
            "fee.basis": "第五条",
            "fee.calculation": f"按量计收，共{pages}页，30页以内免费，" + "，".join(parts)}


def content_hash(ctx: Mapping[str, Any]) -> str:
    plain = {k: v for k, v in ctx.items() if k not in ("number", "issued_on")}
    if isinstance(plain.get("agency"), dict):
        plain["agency"] = {k: v for k, v in plain["agency"].items() if k != "seal_png"}
    return hashlib.sha256(json.dumps(plain, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


def cn(d: date | None) -> str:
    return format_cn_date(d) if d else ""


# ---------------------------------------------------------------- every notice a case can produce

RECEIPT_CHANNELS = {"in_person": "in_person", "registered_post": "post", "ordinary_post": "post",
                    "online": "online", "fax": "fax"}


@dataclass(frozen=True)
class Notice:
    """One procedural letter a case can produce now, addressed by a stable reference."""

    ref: str  # "receipt", "extension", "step-12", "step-12-applicant", "delivery-3" …
    key: str  # letter type in the catalogue
    label: str  # what it is about, for the case page
    build: Callable[[], dict]  # its context, from the case as it is now


def notices(case: Case) -> list[Notice]:
    out = [Notice("receipt", "receipt", "登记", lambda: case_context(case, {
        "channel": RECEIPT_CHANNELS.get(case.channel, "in_person"),
        "expected_reply_by": case.reply_due or load_calendar_due(case)}))]
    for s in case.steps:
        key = STEP_LETTERS.get(s.kind)
        if key:
            out.append(Notice(f"step-{s.id}", key, f"{s.kind_label}{'（' + s.party + '）' if s.party else ''}",
                              (lambda s=s: step_context(case, s))))
        if s.kind in ("consultation_third_party", "consultation_agency"):
            out.append(Notice(f"step-{s.id}-applicant", "consult_applicant_notice", f"{s.kind_label}（告知申请人）",
                              (lambda s=s: case_context(case, {
                                  "consulted": s.party, "consulted_on": s.started_on,
                                  "consult_kind": "third_party" if s.kind == "consultation_third_party" else "agency"}))))
        if s.kind == "consultation_third_party":
            out.append(Notice(f"step-{s.id}-confirmation", "consult_confirmation", f"{s.kind_label}（确认函）",
                              (lambda s=s: case_context(case, {"third_party.name": s.party,
                                                               "information": case.description}))))
            if s.details.get("public_interest_override"):
                out.append(Notice(f"step-{s.id}-override", "disclosure_notice_third_party",
                                  f"{s.kind_label}（公共利益决定公开）", (lambda s=s: case_context(case, {
                                      "third_party.name": s.party, "information": case.description,
                                      "objection": s.details.get("opinion") or None, "objected_on": s.answered_on,
                                      "reasons": s.details.get("override_reason"), "consulted_on": s.started_on}))))
    if case.extension_days:
        ev = next((e for e in reversed(case.events) if e.action == "extend"), None)
        data = ev.data if ev else {}
        out.append(Notice("extension", "extension_notice", f"延期{case.extension_days}个工作日", lambda: case_context(case, {
            "reason": data.get("reason") or "需要延长答复期限", "original_due": data.get("old_due"),
            # The due date as the extension set it (recorded on the event), not as later pauses moved it.
            "new_due": data.get("reply_due") or case.reply_due, "extension_days": case.extension_days})))
    reply = next((l for l in case.letters if l.draft_id and l.draft_id == case.issued_draft_id), None)
    for dl in case.deliveries:
        out.append(Notice(f"delivery-{dl.id}", "service_record", f"送达（{dl.method_label}）", (lambda dl=dl: case_context(case, {
            "document.title": reply.title if reply else "政府信息公开申请答复书",
            "document.number": reply.number if reply else None, "recipient": dl.recipient or case.applicant_name,
            "address": case.contact_address or None, "method": dl.method_label, "delivered_on": dl.delivered_on,
            "remarks": dl.notes or None}))))
    return out


def load_calendar_due(case: Case):
    from .calendar import load_calendar
    return load_calendar().add_working_days(case.clock_start, 20 + case.extension_days).due


def find_notice(case: Case, ref: str) -> Notice:
    n = next((n for n in notices(case) if n.ref == ref), None)
    if n is None:
        raise NotFound("该文书不存在")
    return n


def current_letter(case: Case, ref: str) -> Letter | None:
    """The letter in force for a notice: its latest issue (earlier ones are 已重新出具)."""
    mine = [l for l in case.letters if l.notice_ref == ref]
    return max(mine, key=lambda l: l.reissue_no) if mine else None


def notice_status(case: Case, n: Notice) -> dict:
    """Approvals (by content hash) and the issued letter of one notice.

    A notice is issued once and stays issued: it is found by its reference, not by its content,
    so a later change of the case (a paused clock moving the due date, another handler) never
    makes it look un-issued; ``changed`` says the case now reads differently, for a re-issue."""
    letter = get_letter(n.key)
    h = content_hash(n.build())
    approved = any(e.data.get("ref") == n.ref and e.data.get("content_hash") == h
                   for e in case.events if e.action == "approve_notice")
    issued = current_letter(case, n.ref)
    return {"notice": n, "letter": letter, "hash": h, "approved": approved, "issued": issued,
            "changed": bool(issued and issued.content_hash != h), "needs_review": letter.needs_review}


def _open_for_change(case: Case) -> None:
    if case.state == "archived":
        raise ServiceError("案件已归档，不能再修改")


@conflict_is_409()
def approve_notice(case_id: int, actor: User, ref: str) -> None:
    from .audit import record

    case = get_case(case_id, actor)
    if not actor.has_role("legal"):
        raise ServiceError("文书审核只能由法律顾问办理")
    _open_for_change(case)
    st = notice_status(case, find_notice(case, ref))
    if not st["needs_review"]:
        raise ServiceError(f"《{st['letter'].name}》无需法制审核")
    try:
        relaxed = separation("approve_notice", NOTICE_SEPARATION, actor.id, notice_preparers(case, ref),
                             case.agency.separation_relaxed)
    except TransitionError as e:
        raise ServiceError(e.message) from None
    data = {"ref": ref, "key": st["letter"].key, "content_hash": st["hash"]}
    if relaxed:
        data["separation_relaxed"] = relaxed
    step = notice_step(case, ref)
    if step is not None and step.notice_state == "review":
        step.notice_state = "approved"
    record(case, actor, "approve_notice", f"审核通过《{st['letter'].name}》", case.state, case.state, data)
    _commit()


def notice_step(case: Case, ref: str) -> Step | None:
    """The step whose reviewed notice ref is ("step-12", "step-12-override"), if any."""
    if not ref.startswith("step-"):
        return None
    sid, _, part = ref[len("step-"):].partition("-")
    if part not in ("", "override"):
        return None
    step = next((st for st in case.steps if str(st.id) == sid), None)
    if step is None or (part == "override") != (step.kind == "consultation_third_party"):
        return None
    return step


def _take_effect(case: Case, ref: str, on: date) -> dict:
    """Issuing a reviewed notice puts its step in force: a fee notice pauses the clock from the day
    it is issued and the applicant has 20 working days to pay (109号)."""
    step = notice_step(case, ref)
    if step is None or step.notice_state not in UNISSUED:
        return {}
    step.notice_state = "issued"
    if step.kind != "fee":
        return {}
    from .calendar import load_calendar
    from .clocks import refresh_clock
    step.started_on = step.received_on = on
    step.due_on = load_calendar().add_working_days(on, FEE_PAYMENT_DAYS).due
    refresh_clock(case)
    return {"fee_due": step.due_on, "reply_due": case.reply_due}


def notice_preparers(case: Case, ref: str) -> set[int]:
    """Who made the notice: recorded the step, the delivery, the extension, or (for the
    public-interest disclosure notice) decided to override the third party's objection."""
    who: set[int | None] = set()
    if ref == "receipt":
        who.add(case.created_by_id)
    elif ref == "extension":
        who.update(e.actor_id for e in case.events if e.action == "extend")
    elif ref.startswith("delivery-"):
        who.update(d.created_by_id for d in case.deliveries if f"delivery-{d.id}" == ref)
    elif ref.startswith("step-"):
        sid, _, part = ref[len("step-"):].partition("-")
        step = next((st for st in case.steps if str(st.id) == sid), None)
        if step is not None and part == "override":
            who.update(e.actor_id for e in case.events if e.action == "consultation_reply"
                       and e.data.get("step_id") == step.id and e.data.get("public_interest_override"))
        elif step is not None:
            who.add(step.created_by_id)
    who.discard(None)
    return who


def _issuable(case_id: int, actor: User, ref: str) -> tuple[Case, Notice, dict]:

    case = get_case(case_id, actor)
    if not actor.has_role("handler", "clerk"):
        raise ServiceError("文书只能由承办人或登记员出具")
    _open_for_change(case)
    n = find_notice(case, ref)
    if case.handler is None and ref != "receipt":
        raise ServiceError("该案件尚未分派承办人：文书须写明联系人（承办人），请先分派承办人或由承办人开始办理")
    st = notice_status(case, n)
    if st["needs_review"] and not st["approved"]:
        raise ServiceError(f"《{st['letter'].name}》须经法制审核通过后出具，且内容须与审核时一致")
    return case, n, st


def _already(st: dict) -> str:
    old = st["issued"]
    return (f"《{st['letter'].name}》已出具（{old.number or '不编号'}，{old.issued_at:%Y-%m-%d %H:%M}），"
            f"不能再次出具；如需更正，请“重新出具”并写明理由")


ISSUE_CONFLICT = "该文书刚刚已由他人出具，未重复出具或编号；请刷新页面查看。"


@conflict_is_409(ISSUE_CONFLICT)
def issue_notice(case_id: int, actor: User, ref: str, on: date) -> Letter:
    """Issue a notice for the first time. Issued already: refused (409), naming the letter."""
    from .audit import record

    case, n, st = _issuable(case_id, actor, ref)
    if st["issued"] is not None:
        raise Conflict(_already(st), None)
    check_letter(case, n.key, n.build(), "出具")
    try:
        row = issue_letter(case, actor, n.key, n.build(), content_hash=st["hash"], on=on, ref=ref)
        effect = _take_effect(case, ref, on)
        if effect:
            flag_modified(case, "state")  # a step put in force changes the case: its version moves
        record(case, actor, "issue_notice", f"出具《{st['letter'].name}》", case.state, case.state,
               {"ref": ref, "key": row.key, "number": row.number, "sha256": row.sha256, **effect})
        db.session.commit()
    except ServiceError:
        db.session.rollback()
        raise
    return row


@conflict_is_409("该文书刚刚已由他人重新出具；请刷新页面查看后再决定是否需要再次重新出具。")
def reissue_notice(case_id: int, actor: User, ref: str, on: date, reason: str | None,
                   replaces_id: int | None = None) -> Letter:
    """重新出具: a new letter from the case as it is now, referring to the one it replaces, which
    stays on file (shown 已重新出具). ``replaces_id`` is the letter the user saw: if another
    re-issue came first, the request is a conflict rather than a second re-issue."""
    from .audit import record

    case, n, st = _issuable(case_id, actor, ref)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("请写明重新出具的理由", "reason")
    if len(reason) > 1000:
        raise ServiceError("重新出具的理由不能超过1000字", "reason")
    old = st["issued"]
    if old is None:
        raise ServiceError(f"《{st['letter'].name}》尚未出具，请直接出具")
    if replaces_id is not None and replaces_id != old.id:
        raise Conflict("该文书已被重新出具，页面显示的不是现行文书；请刷新页面查看。", None)
    check_letter(case, n.key, n.build(), "重新出具")
    try:
        row = issue_letter(case, actor, n.key, n.build(), content_hash=st["hash"], on=on, ref=ref,
                           supersedes=old, reason=reason)
        record(case, actor, "reissue_notice", f"重新出具《{st['letter'].name}》", case.state, case.state,
               {"ref": ref, "key": row.key, "number": row.number, "sha256": row.sha256, "reason": reason,
                "replaces": old.id, "replaces_number": old.number, "reissue_no": row.reissue_no})
        db.session.commit()
    except ServiceError:
        db.session.rollback()
        raise
    return row


# ---------------------------------------------------------------- previews of unsaved wording

PREVIEW_CASES = 30  # recent cases offered for a preview of wording


def preview_cases(actor: User, limit: int = PREVIEW_CASES) -> list[Case]:
    """The agency's most recently registered cases, to preview wording on."""
    return list(db.session.scalars(db.select(Case).where(Case.agency_id == actor.agency_id)
                                   .order_by(Case.id.desc()).limit(limit)))


def case_by_number(actor: User, number: str) -> Case:
    """A case of the actor's agency by its 登记编号; NotFound otherwise (another agency's too)."""
    case = db.session.scalar(db.select(Case).where(Case.agency_id == actor.agency_id,
                                                   Case.number == number.strip()))
    if case is None:
        raise NotFound(f"本机关没有登记编号为“{number.strip()}”的案件")
    return case


def preview_context(case: Case, key: str) -> tuple[dict, list[Field]]:
    """The context letter ``key`` gets from this case: the reply from the current draft when it carries
    this letter, a notice from the latest step that produces it, otherwise what the case itself says.
    What the letter needs and the case does not have yet is taken from the letter's example (returned,
    so the preview can say so); what the case and the agency supply never is."""
    letter = get_letter(key)
    d = case.current_draft
    if letter.outcomes and d is not None and d.outcome_code in letter.outcomes:
        ctx = draft_context(case, d)
    else:
        n = next((n for n in reversed(notices(case)) if n.key == key), None)
        ctx = n.build() if n else case_context(case)
    return with_example_values(key, ctx, skip=_case_supplied)


@dataclass
class WordingPreview:
    pdf: bytes
    example_fields: list[str]  # labels of what came from the letter's example, not the case


def preview_wording(actor: User, key: str, source: str, case: Case | None = None) -> WordingPreview:
    """Unsaved wording of letter ``key`` as the draft PDF it would make for ``case`` (a case of the
    actor's agency) or for the letter's example. Nothing is stored, numbered or recorded: the same
    render path as a letter, with the wording passed as the agency's override."""
    if case is not None and case.agency_id != actor.agency_id:
        raise NotFound("案件不存在")
    error = validate_template(source, key)
    if error:
        raise ServiceError(error, "source")
    ctx, filled = preview_context(case, key) if case is not None else (example_context(key), [])
    try:
        pdf = render_pdf(key, ctx, draft=True, overrides={key: source})
    except LetterError as e:
        if e.field == "template":
            raise ServiceError(e.message, "source") from None
        if (e.field or "").startswith("agency."):
            raise ServiceError(f"{_plain(e.message)}。请在“机关设置”中补充后再预览。", "source") from None
        raise ServiceError(_plain(e.message), "source") from None
    return WordingPreview(pdf, [f.label for f in filled])
