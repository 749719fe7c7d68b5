"""What legal review (法制审核) and sign-off (签发) look at: the parts disclosed and withheld with their
legal bases, the change from the previous revision, and the letter as it will read (draft pages)."""
from __future__ import annotations

import difflib
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..domain.outcomes import WITHHOLDING_BY_TEXT
from ..models import Case, Draft
from . import letters as L
from .errors import ServiceError
from .memo import Memo
from .operations import draft_rows


# ---------------------------------------------------------------- disclosed and withheld parts

@dataclass(frozen=True)
class Part:
    what: str  # the information (or part of it)
    basis: str  # the provision, as printed
    ground: str = ""  # what the provision covers (for a withheld part) or the outcome
    reason: str = ""
    how: str = ""  # how a disclosed part is obtained


@dataclass(frozen=True)
class Decided:
    outcome: str  # the outcome's label
    basis: str  # the decision's legal basis, as printed
    disclosed: list[Part] = field(default_factory=list)
    withheld: list[Part] = field(default_factory=list)
    neither: bool = False  # the reply decides no disclosure (不存在, 非本机关, 重复申请 …)


def decided_parts(case: Case, draft: Draft) -> Decided:
    o = draft.outcome
    f = draft.fields
    request = case.description
    out = Decided(o.label, o.basis)
    if draft.outcome_code == "disclose":
        out.disclosed.append(Part("申请公开的全部信息：" + request, o.basis, how=f.get("obtain", "")))
    elif draft.outcome_code == "already_public":
        out.disclosed.append(Part("申请公开的全部信息（已主动公开）：" + request, o.basis, how=f.get("public_source", "")))
    elif draft.outcome_code == "partial":
        out.disclosed.append(Part(f.get("disclosed", ""), o.basis, how=f.get("obtain", "")))
        for item in f.get("withheld") or ():
            if not isinstance(item, dict):
                continue
            b = WITHHOLDING_BY_TEXT.get(item.get("basis", ""))
            out.withheld.append(Part(item.get("part", ""), item.get("basis", ""),
                                     b.ground if b else "（不在可选依据中）", item.get("reason", "")))
    elif o.refusal:
        ground = o.label.removeprefix("不予公开（").removesuffix("）")
        out.withheld.append(Part("申请公开的全部信息：" + request, o.basis, ground, f.get("reasons", "")))
    else:
        return Decided(o.label, o.basis, neither=True)
    return out


# ---------------------------------------------------------------- the change from the previous revision

@dataclass(frozen=True)
class Seg:
    text: str
    changed: bool


@dataclass(frozen=True)
class DiffLine:
    old: list[Seg] | None  # None: no line on this side
    new: list[Seg] | None
    kind: str  # same | changed | removed | added


@dataclass(frozen=True)
class DiffRow:
    label: str
    lines: list[DiffLine]

    @property
    def changed(self) -> bool:
        return any(line.kind != "same" for line in self.lines)


@dataclass(frozen=True)
class Diff:
    old_revision: int
    new_revision: int
    rows: list[DiffRow]

    @property
    def changed(self) -> bool:
        return any(r.changed for r in self.rows)


def previous_revision(case: Case, draft: Draft) -> Draft | None:
    return next((d for d in case.drafts if d.revision == draft.revision - 1), None)


def _chars(a: str, b: str) -> tuple[list[Seg], list[Seg]]:
    """One changed line pair, character by character (Chinese has no word boundaries to diff on)."""
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    left: list[Seg] = []
    right: list[Seg] = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if a[i1:i2]:
            left.append(Seg(a[i1:i2], op != "equal"))
        if b[j1:j2]:
            right.append(Seg(b[j1:j2], op != "equal"))
    return left, right


def _lines(old: str, new: str) -> list[DiffLine]:
    a, b = old.splitlines(), new.splitlines()
    out: list[DiffLine] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out += [DiffLine([Seg(x, False)], [Seg(x, False)], "same") for x in a[i1:i2]]
            continue
        olds, news = a[i1:i2], b[j1:j2]
        for k in range(max(len(olds), len(news))):
            x = olds[k] if k < len(olds) else None
            y = news[k] if k < len(news) else None
            if x is not None and y is not None:
                left, right = _chars(x, y)
                out.append(DiffLine(left, right, "changed"))
            elif x is not None:
                out.append(DiffLine([Seg(x, True)], None, "removed"))
            else:
                out.append(DiffLine(None, [Seg(y, True)], "added"))
    return out


def _readable(d: Draft) -> list[tuple[str, str]]:
    return [("办理结果", d.outcome.label), ("法律依据", d.outcome.basis), *draft_rows(d.fields)]


def draft_diff(old: Draft, new: Draft) -> Diff:
    """Every field of both revisions side by side, by its Chinese label, changed characters marked."""
    a, b = dict(_readable(old)), dict(_readable(new))
    labels = list(b) + [k for k in a if k not in b]
    return Diff(old.revision, new.revision, [DiffRow(k, _lines(a.get(k, ""), b.get(k, ""))) for k in labels])


# ---------------------------------------------------------------- the letter as it will read

PREVIEW_DPI = 110
_PAGES: Memo[list[bytes]] = Memo(16)


def preview_pages(case: Case, draft: Draft) -> list[bytes]:
    """The draft reply as page images (PNG, marked 草稿, no seal), rendered once per content."""
    letter = L.reply_letter(draft.outcome_code)
    if letter is None:
        raise ServiceError("该办理结果不出具答复书")
    pdf = L.draft_pdf(case, letter.key, L.draft_context(case, draft))
    return _PAGES.get(pdf.etag, lambda: _rasterise(pdf.pdf()))


def _rasterise(pdf: bytes) -> list[bytes]:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "draft.pdf"
        src.write_bytes(pdf)
        try:
            subprocess.run(["pdftoppm", "-r", str(PREVIEW_DPI), "-png", str(src), str(Path(tmp) / "p")],
                           check=True, capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as e:
            raise ServiceError(f"无法生成预览图（pdftoppm）：{e}") from None
        return [p.read_bytes() for p in sorted(Path(tmp).glob("p-*.png"), key=lambda p: int(p.stem.split("-")[-1]))]
