"""High-frequency requests (Art. 44): documents and topics asked for again and again.

Documents are grouped by their normalised 文号; topics by similar request texts. Similarity uses
character 3-gram blocking (only pairs sharing enough rare 3-grams are compared) and then
difflib's ratio, so a year's requests are grouped without comparing every pair.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from ..extensions import db
from ..models import Case

MAX_CASES = 5000  # most recent requests of the year whose texts are compared
MAX_DOC_ROWS = 100_000  # requests naming a 文号 (grouping them is cheap)
SIMILARITY = 0.6  # same threshold as the intake repeat hint (services.cases.intake_hints)
GRAM = 3

_BRACKETS = str.maketrans({"[": "〔", "]": "〕", "【": "〔", "】": "〕", "(": "〔", ")": "〕", "﹝": "〔", "﹞": "〕",
                           "〖": "〔", "〗": "〕", "（": "〔", "）": "〕"})
_FILLER = ("申请公开", "请求公开", "要求公开", "依申请", "政府信息", "请提供", "申请", "公开", "关于", "有关",
           "相关", "提供", "本人", "我们", "我", "贵单位", "贵机关", "贵局", "信息", "文件", "的")
_PUNCT = re.compile(r"[\W_]+", re.UNICODE)


def normalise_doc_number(s: str) -> str:
    s = unicodedata.normalize("NFKC", s or "").translate(_BRACKETS)
    s = re.sub(r"\s+", "", s)
    s = re.sub(r"第(?=\d)", "", s)
    s = re.sub(r"(?<=〕)0+(?=\d)", "", s)
    return s


def normalise_text(s: str) -> str:
    s = unicodedata.normalize("NFKC", s or "").lower()
    s = _PUNCT.sub("", s)
    for w in _FILLER:
        s = s.replace(w, "")
    return s


@dataclass
class Group:
    key: str
    ids: list[int] = field(default_factory=list)
    applicants: set[str] = field(default_factory=set)
    first: date | None = None
    last: date | None = None
    samples: list[str] = field(default_factory=list)
    doc_numbers: Counter = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return len(self.ids)

    def add(self, r) -> None:
        self.ids.append(r.id)
        self.applicants.add(r.applicant_name)
        self.first = min(self.first or r.received_on, r.received_on)
        self.last = max(self.last or r.received_on, r.received_on)
        if len(self.samples) < 3 and r.description not in self.samples:
            self.samples.append(r.description)
        if r.doc_number:
            self.doc_numbers[r.doc_number.strip()] += 1


COLUMNS = (Case.id, Case.received_on, Case.applicant_name, Case.description, Case.doc_number)


def _year(agency_id: int, year: int):
    return (Case.agency_id == agency_id, Case.received_on.between(date(year, 1, 1), date(year, 12, 31)))


def _load(agency_id: int, year: int, *conds, limit: int):
    q = (select(*COLUMNS).where(*_year(agency_id, year), *conds)
         .order_by(Case.received_on.desc(), Case.id.desc()).limit(limit + 1))
    rows = db.session.execute(q).all()
    return rows[:limit], len(rows) > limit


def by_doc_number(rows, min_count: int) -> list[Group]:
    groups: dict[str, Group] = {}
    for r in rows:
        key = normalise_doc_number(r.doc_number)
        if key:
            groups.setdefault(key, Group(key)).add(r)
    return sorted((g for g in groups.values() if g.count >= min_count), key=lambda g: (-g.count, g.key))


def by_topic(rows, min_count: int) -> list[Group]:
    texts = [normalise_text(r.description) for r in rows]
    grams = [{t[i:i + GRAM] for i in range(len(t) - GRAM + 1)} or ({t} if t else set()) for t in texts]
    index: dict[str, list[int]] = defaultdict(list)
    for i, gs in enumerate(grams):
        for g in gs:
            index[g].append(i)
    too_common = max(50, len(rows) // 20)  # boilerplate 3-grams would link everything to everything
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, gs in enumerate(grams):
        if not gs:
            continue
        shared: Counter = Counter()
        for g in gs:
            post = index[g]
            if len(post) > too_common:
                continue
            for j in post:
                if j > i:
                    shared[j] += 1
        need = max(2, int(len(gs) * 0.3))
        for j, n in shared.items():
            if n < need or find(i) == find(j):
                continue
            if texts[i] == texts[j] or difflib.SequenceMatcher(None, texts[i], texts[j], autojunk=False).ratio() >= SIMILARITY:
                parent[find(j)] = find(i)

    members: dict[int, list[int]] = defaultdict(list)
    for i in range(len(rows)):
        members[find(i)].append(i)
    out = []
    for idx in members.values():
        if len(idx) < min_count:
            continue
        g = Group(common_phrase([rows[i].description for i in idx]))
        for i in idx:
            g.add(rows[i])
        out.append(g)
    return sorted(out, key=lambda g: (-g.count, g.first or date.min))


def common_phrase(descriptions: list[str]) -> str:
    """The longest stretch of text the group's first request shares with the others."""
    base = unicodedata.normalize("NFKC", descriptions[0])
    best = base
    for other in descriptions[1:6]:
        other = unicodedata.normalize("NFKC", other)
        m = difflib.SequenceMatcher(None, best, other, autojunk=False).find_longest_match(0, len(best), 0, len(other))
        if m.size >= 4:
            best = best[m.a:m.a + m.size]
    return best.strip(" ，。；、,.;") or base[:40]


def analyse(agency_id: int, year: int, min_count: int = 3) -> dict:
    total = db.session.scalar(select(func.count()).select_from(Case).where(*_year(agency_id, year))) or 0
    doc_rows, _ = _load(agency_id, year, Case.doc_number != "", limit=MAX_DOC_ROWS)
    text_rows, truncated = _load(agency_id, year, limit=MAX_CASES)
    return {"year": year, "total": total, "compared": len(text_rows), "truncated": truncated,
            "min_count": min_count, "max_cases": MAX_CASES,
            "documents": by_doc_number(doc_rows, min_count), "topics": by_topic(text_rows, min_count)}
