"""The pages the system writes into a case file: cover, catalogue, approval slip, service
record, timeline (办理过程记录) and the 备考表, typeset by WeasyPrint in one pass."""
from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app, render_template

from ..letters.sandbox import url_fetcher
from ..models import Case, Event
from ..models.case import CONSULTATION_RESULTS, DELIVERY_METHODS, STEP_KINDS
from ..services.redaction import KIND_LABELS
from ..services.cases import RETENTIONS
from ..services.operations import REASONS_RESULTS
from ..services.operations import draft_rows
from .documents import Item, approved_draft, local

log = logging.getLogger(__name__)

PX_TO_PT = 0.75  # CSS px → PDF points

# CSS font-family lists; "faces" may hold @font-face rules (CASEFILE_FONTS config).
# One face by default: each face WeasyPrint embeds costs a subsetting pass (~0.1 s for Noto CJK).
DEFAULT_FONTS = {"body": '"Noto Serif CJK SC", serif', "heading": '"Noto Serif CJK SC", serif',
                 "heading_weight": "normal", "faces": ""}


@dataclass
class Slot:
    """Where a number is stamped: page index (in the rendered document), box in PDF points."""

    page: int
    x: float
    baseline: float  # from the bottom of the page
    width: float
    size: float


@dataclass
class Rendered:
    pdf: bytes
    sections: dict[str, list[int]]  # section id → page indexes in ``pdf``
    slots: dict[str, Slot]


def cn_date(d: date | datetime | None) -> str:
    """GB/T 9704 dates: Arabic numerals, no leading zeros (2026年11月2日)."""
    if not d:
        return ""
    return f"{d.year}年{d.month}月{d.day}日"


def cn_time(dt: datetime | None) -> str:
    dt = local(dt)
    return f"{cn_date(dt)} {dt:%H:%M}" if dt else ""


# Event data keys in plain Chinese. A key not named here (nor as an input of its step) is an
# internal one (hashes, ids, references) and is left out of the printed record.
_DATA_LABELS = {
    "received_on": "收到日期", "reply_due": "答复期限", "handler": "承办人",
    "notice_date": "告知日期", "period_end": "补正期限", "items": "补正事项", "party": "对象", "sent_on": "发出日期",
    "due_on": "期限", "result": "结果", "answered_on": "答复日期", "amount": "金额（元）", "paid_on": "缴费日期",
    "receipt_no": "票据号码", "days": "延长工作日数", "reason": "理由", "revision": "稿件", "comments": "意见",
    "note": "说明", "notes": "说明", "issued_on": "答复日期", "delivered_on": "送达日期", "proof": "送达凭证",
    "recipient": "签收人", "withdrawn_on": "撤回日期", "archive_number": "档号", "retention": "保管期限",
    "title": "标题", "category_label": "类别", "filename": "文件名", "pages": "页数",
    "secrecy_note": "保密审查意见", "outcome": "办理结果", "method": "方式", "kind": "类型", "key": "文书",
    "from_agency": "答复机关", "matter": "征求意见事项", "new_due": "新的答复期限", "decided_on": "决定日期", "consulted_on": "征求意见日期",
    "opinion": "意见", "objection": "异议", "override_reason": "公开理由", "reasons_due": "说明理由期限",
    "replaces_number": "原文号", "reply_number": "答复书文号", "letter_number": "文书文号",
    "original_number": "原编号", "decision": "决定", "agency": "机关", "name": "名称", "text": "内容",
    "description": "申请内容", "remarks": "备注", "date": "日期", "applicant_name": "申请人",
}
# "number" is the case number when a case is registered or imported, a letter's 文号 otherwise.
_CASE_NUMBER_ACTIONS = frozenset({"register", "import", "import_update", "triage"})
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[_\-][A-Za-z0-9]+)*")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def _value_labels(action: str) -> tuple[dict[str, str], dict[str, dict]]:
    """Labels and choices of the step's declared inputs (services.operations)."""
    from ..services.operations import operations

    op = operations().get(action)
    if op is None:
        return {}, {}
    return ({i.name: i.label for i in op.inputs},
            {i.name: dict(i.choices) for i in op.inputs if i.choices})


def _letter_name(key: str) -> str:
    from ..letters.catalogue import get_letter

    try:
        return get_letter(key).name
    except Exception:  # an unknown or retired letter type
        return ""


def _plain(key: str, value, choices: dict[str, dict]) -> str:
    """A data value as a person reads it; "" when it is an internal code with no Chinese name."""
    from ..domain.outcomes import OUTCOME_BY_CODE

    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (list, tuple)):
        return "、".join(filter(None, (_plain(key, v, choices) for v in value)))
    if isinstance(value, dict):
        return ""
    text = str(value)
    named = {"outcome": {k: o.label for k, o in OUTCOME_BY_CODE.items()}, "retention": RETENTIONS,
             "method": DELIVERY_METHODS, "kind": STEP_KINDS, "result": {**CONSULTATION_RESULTS, **REASONS_RESULTS},
             **choices}.get(key, {})
    if text in named:
        return str(named[text])
    if key == "key":
        return _letter_name(text)
    if key == "revision" and text.isdigit():
        return f"第{text}稿"
    if _IDENTIFIER.fullmatch(text) and not any(c.isupper() for c in text):
        return ""  # an internal code (receipt, step-3, third_party): never printed raw
    m = _ISO_DATE.fullmatch(text)
    if m:
        return f"{int(m[1])}年{int(m[2])}月{int(m[3])}日"
    return text


def _event_summary(ev: Event) -> str:
    parts = []
    try:
        data = json.loads(ev.data_json or "{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        return ""
    labels, choices = _value_labels(ev.action)
    for key, value in data.items():
        if key == "number":
            label = "案件编号" if ev.action in _CASE_NUMBER_ACTIONS else "文号"
        else:
            label = _DATA_LABELS.get(key) or labels.get(key)
        if key == "id" or key.endswith("_id") or key.endswith("_ids"):
            continue  # row ids: internal
        if not label or value in (None, "", [], {}):
            continue
        text = _plain(key, value, choices)
        if not text:
            continue
        if len(text) > 80:
            text = text[:80] + "……"
        parts.append(f"{label}：{text}")
    return "；".join(parts)


def _action_label(action: str) -> str:
    from ..domain.workflow import ACTIONS

    rule = ACTIONS.get(action)
    return rule.label if rule is not None else ""


def _events(case: Case) -> list[dict]:
    from ..domain.workflow import STATES

    rows = []
    for ev in case.events:
        if ev.from_state and ev.to_state and ev.from_state != ev.to_state:
            states = f"{STATES.get(ev.from_state, ev.from_state)}→{STATES.get(ev.to_state, ev.to_state)}"
        else:
            states = STATES.get(ev.to_state or "", "")
        at = local(ev.at)
        rows.append({"at": at.strftime("%Y-%m-%d %H:%M") if at else "", "actor": ev.actor.name if ev.actor else "系统",
                     "label": ev.label or _action_label(ev.action), "states": states, "summary": _event_summary(ev)})
    return rows


# A small user-agent stylesheet: the display rules the case-file template needs. WeasyPrint's
# full HTML5 stylesheet costs a noticeable share of the typesetting to cascade.
UA_CSS = """
html, body, div, p, h1, h2, section, ul, li { display: block }
head, title, meta, style, script, link { display: none }
table { display: table; border-collapse: separate; box-sizing: border-box; text-indent: initial }
colgroup { display: table-column-group } col { display: table-column }
thead { display: table-header-group } tbody { display: table-row-group }
tr { display: table-row } td, th { display: table-cell }
thead, tbody, tr, td, th { vertical-align: inherit }
br::before { content: "\\A"; white-space: pre-line }
"""


class _Engine:
    """A WeasyPrint set-up kept for the life of the process: fonts, lock, user-agent styles."""

    def __init__(self, families: dict[str, str], font_config=None, lock=None) -> None:
        from weasyprint import CSS, HTML

        self.families = families
        self.font_config = font_config
        self.lock = lock or threading.Lock()
        ua = CSS(string=UA_CSS, url_fetcher=url_fetcher())

        class CaseFileHTML(HTML):
            def _ua_stylesheets(self, forms=False):
                return [ua]

        self.html_class = CaseFileHTML


_engines: dict[str, _Engine] = {}
_engines_lock = threading.Lock()


def _letters_engine() -> _Engine:
    """The letters engine's prepared fonts, Fontconfig set-up and lock: the generated pages then
    share one font program with the letters (one embedded font) and take turns with them."""
    from ..letters import render as letter_render

    engine = letter_render._get_engine()  # prepares the fonts on first use, like the first letter
    key = f"letters:{engine.prepared.directory}"
    with _engines_lock:
        if key not in _engines:
            body = engine.prepared.css_family("fangsong", "serif")
            _engines.pop(next((k for k in _engines if k.startswith("letters:")), ""), None)
            _engines[key] = _Engine({**DEFAULT_FONTS, "body": body, "heading": body},
                                    engine.font_config, engine.lock)
        return _engines[key]


def letter_font_dir():
    """The letter font cache's prepared faces (a Path), or None when the letters engine has none
    or the case file is set to system fonts (then the letters engine is not started for it)."""
    from ..letters import render as letter_render

    if current_app.config["CASEFILE_FONTS"] not in ("auto", "letters"):
        return None
    try:
        return letter_render._get_engine().prepared.directory
    except Exception:  # no prepared fonts on this machine: the caller uses system stand-ins
        log.warning("case file: letter fonts unavailable for the page numbers", exc_info=True)
        return None


OCR_NOTE = "（文字由OCR识别，仅供检索）"


def _engine() -> _Engine:
    """CASEFILE_FONTS: "auto" (default: the letters engine's fonts, else Noto Serif CJK SC),
    "letters" (the letters engine's fonts, errors are errors), "system" (Noto Serif CJK SC), or
    a dict of CSS {"body", "heading", "heading_weight", "faces" (@font-face rules)}."""
    setting = current_app.config["CASEFILE_FONTS"] or "system"
    if setting == "letters":
        return _letters_engine()
    if setting == "auto":
        try:
            return _letters_engine()
        except Exception:  # no letters engine or no usable prepared fonts: the system's Noto
            log.warning("case file: letter fonts unavailable, using Noto Serif CJK SC", exc_info=True)
            setting = {}
    families = {**DEFAULT_FONTS, **(setting if isinstance(setting, dict) else {})}
    key = repr(sorted(families.items()))
    with _engines_lock:
        if key not in _engines:
            config = None
            if families.get("faces"):
                from weasyprint.text.fonts import FontConfiguration
                config = FontConfiguration()
            _engines[key] = _Engine(families, config)
        return _engines[key]


def warm_up() -> None:
    """Set up the engine and typeset one page, so the first case file of a process is not slower."""
    engine = _engine()
    with engine.lock:
        engine.html_class(string=f"<p style='font-family: {engine.families['body']}'>案卷 1</p>",
                          url_fetcher=url_fetcher()).render(
            font_config=engine.font_config).write_pdf()


def fonts() -> dict[str, str]:
    return _engine().families


def render_generated(case: Case, items: list[Item], *, notes: list[str], originals: list, filer: str,
                     filed_on: date | None) -> Rendered:
    """Typeset every generated section; report where each landed and where the slots are."""
    sections = []
    for n, it in enumerate(items):
        if it.kind == "generated" or it.meta.get("problem"):
            key = f"item{n}"
            it.meta["section_key"] = f"sec-{key}"
            sections.append({"key": key, "section": "missing" if it.meta.get("problem") else it.section,
                             "item": it, "draft": approved_draft(case) if it.section == "approval" else None})
    reply_letters = [it.letter for it in items if it.kind == "letter" and it.group == "reply"]
    html = render_template(
        "casefile/print/casefile.html", case=case, items=items, sections=sections, events=_events(case),
        notes=notes, originals=originals, filer=filer, filed_on=filed_on, fonts=fonts(),
        retention=RETENTIONS.get(case.retention, case.retention), draft_rows=draft_rows,
        reply_letters=reply_letters, cn_date=cn_date, cn_time=cn_time, ocr_note=OCR_NOTE,
        kind_labels={**KIND_LABELS, "search": "查找标注", "manual": "手工框选"})
    engine = _engine()
    with engine.lock:
        document = engine.html_class(string=html, url_fetcher=url_fetcher()).render(font_config=engine.font_config)
        return _collect(document)


def _collect(document) -> Rendered:
    owner: dict[str, list[int]] = {}
    slots: dict[str, Slot] = {}
    current = None
    for i, page in enumerate(document.pages):
        height_pt = page.height * PX_TO_PT
        starts = [a for a in page.anchors if a.startswith("sec-")]
        if starts:
            # A section starts on a fresh page (break-before: page), so one start per page.
            current = starts[0]
        owner.setdefault(current, []).append(i)
        for name, pos in page.anchors.items():
            if name.startswith("slot-"):
                slots[name] = _slot(document, i, name, pos[0], pos[1], height_pt)
    return Rendered(document.write_pdf(), owner, slots)


def _slot(document, page_index: int, name: str, x: float, y: float, height_pt: float) -> Slot:
    """The empty inline box's bottom edge is the baseline of its line (CSS 2.1 §10.8.1)."""
    box = _find_box(document.pages[page_index]._page_box, name)
    if box is None:
        return Slot(page_index, x * PX_TO_PT, height_pt - (y + 12) * PX_TO_PT, 40, 10.5)
    font_px = box.style["font_size"]
    width = box.width if isinstance(box.width, (int, float)) else 0
    bottom = box.position_y + box.margin_height()
    return Slot(page_index, box.position_x * PX_TO_PT, height_pt - bottom * PX_TO_PT, width * PX_TO_PT,
                font_px * PX_TO_PT)


def _find_box(box, anchor: str):
    if getattr(box, "style", None) is not None and box.style["anchor"] == anchor:
        return box
    for child in getattr(box, "children", ()) or ():
        found = _find_box(child, anchor)
        if found is not None:
            return found
    return None
