"""The letter catalogue: which letter serves which workflow step and outcome, and what it needs.

Everything is data under ``letter_templates/<key>/meta.json`` (handbook §4.3); this module
loads it once, checks it against the domain tables (outcomes, workflow actions) and answers
questions about it. Field names are dotted paths into the render context
(``agency.name``, ``applicant.name``, ``fee.amount``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from ..config import ROOT
from ..domain.outcomes import OUTCOME_BY_CODE, OUTCOMES
from ..domain.workflow import ACTIONS

TEMPLATES_DIR = ROOT / "letter_templates"

KINDS = ("procedural", "substantive")
REMEDIES = ("none", "standard", "reconsideration_first")
FIELD_TYPES = ("text", "date", "int", "money", "list", "items", "bytes", "choice")
# Steps outside the workflow ACTIONS table: registration happens in register_case().
EXTRA_STEPS = ("register",)
EXTRA_STEP_LABELS = {"register": "登记申请"}


class CatalogueError(Exception):
    """A template's meta.json is inconsistent (a programming/configuration error)."""


@dataclass(frozen=True)
class Field:
    name: str  # dotted path in the context, e.g. "agency.name"
    label: str  # Chinese label used in error messages and forms
    type: str = "text"
    required: bool | str = False  # True, False or "final" (required unless a draft)
    choices: tuple[str, ...] = ()
    # What a person sees for each choice (forms, API reference); codes never reach a clerk's screen.
    choice_labels: tuple[tuple[str, str], ...] = ()
    help: str = ""
    item_fields: tuple[Field, ...] = ()  # for type "items": the keys of each item
    # Required only in some variants of the letter: (other field, "in" | "not_in", values),
    # e.g. the competent agency when a correction request was forwarded to it.
    required_if: tuple[str, str, tuple[str, ...]] | None = None

    def required_for(self, draft: bool) -> bool:
        return self.required is True or (self.required == "final" and not draft)

    def required_by(self, value_of, draft: bool) -> bool:
        """Required for this letter, given ``value_of(name)`` for the other fields."""
        if self.required_for(draft):
            return True
        if self.required_if is None:
            return False
        other, op, values = self.required_if
        return (value_of(other) in values) == (op == "in")

    def as_dict(self) -> dict:
        out = {"name": self.name, "label": self.label, "type": self.type,
               "required": self.required, "choices": list(self.choices), "help": self.help}
        if self.choice_labels:
            out["choice_labels"] = dict(self.choice_labels)
        if self.item_fields:
            out["item_fields"] = [f.as_dict() for f in self.item_fields]
        if self.required_if:
            other, op, values = self.required_if
            out["required_if"] = {"field": other, op: list(values)}
        return out


@dataclass(frozen=True)
class Letter:
    key: str
    title: str  # the title printed on the letter
    name: str  # catalogue name (handbook §4.3), e.g. "征求意见书（第三方）"
    kind: str
    needs_review: bool
    remedy: str
    outcomes: tuple[str, ...]
    steps: tuple[str, ...]
    fields: tuple[Field, ...]
    numbered: bool
    noun: str  # how the letter calls itself: "本答复书", "本告知书"
    outcome_letter: str | None  # Outcome.letter value this template carries
    example: dict = field(repr=False, compare=False, default_factory=dict)
    directory: Path = field(repr=False, compare=False, default=TEMPLATES_DIR)

    @property
    def template_name(self) -> str:
        return f"{self.key}/template.html.j2"

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def required_fields(self, draft: bool = False) -> list[Field]:
        return [f for f in self.fields if f.required_for(draft)]

    def as_dict(self) -> dict:
        """Plain description for the UI/API: what the letter is and which fields it needs."""
        return {"key": self.key, "title": self.title, "name": self.name, "kind": self.kind,
                "needs_review": self.needs_review, "remedy": self.remedy,
                "outcomes": list(self.outcomes), "steps": list(self.steps),
                "numbered": self.numbered, "fields": [f.as_dict() for f in self.fields]}


def _required_if(key: str, raw: dict | None) -> tuple[str, str, tuple[str, ...]] | None:
    if raw is None:
        return None
    ops = [op for op in ("in", "not_in") if op in raw]
    if not isinstance(raw, dict) or "field" not in raw or len(ops) != 1 or not isinstance(raw[ops[0]], list):
        raise CatalogueError(f"{key}: required_if needs a field and either \"in\" or \"not_in\" (a list)")
    return raw["field"], ops[0], tuple(raw[ops[0]])


def _parse_field(key: str, raw: dict) -> Field:
    try:
        f = Field(name=raw["name"], label=raw["label"], type=raw.get("type", "text"),
                  required=raw.get("required", False), choices=tuple(raw.get("choices", ())),
                  choice_labels=tuple(raw.get("choice_labels", {}).items()), help=raw.get("help", ""),
                  item_fields=tuple(_parse_field(key, f) for f in raw.get("item_fields", ())),
                  required_if=_required_if(key, raw.get("required_if")))
    except KeyError as exc:
        raise CatalogueError(f"{key}: field without {exc}") from None
    if f.type not in FIELD_TYPES:
        raise CatalogueError(f"{key}: field {f.name}: unknown type {f.type}")
    if f.required not in (True, False, "final"):
        raise CatalogueError(f"{key}: field {f.name}: required must be true, false or \"final\"")
    if f.type == "choice" and not f.choices:
        raise CatalogueError(f"{key}: field {f.name}: a choice needs choices")
    if f.type == "choice" and [c for c, _ in f.choice_labels] != list(f.choices):
        raise CatalogueError(f"{key}: field {f.name}: choice_labels must label each choice, in order")
    return f


def _parse(directory: Path) -> Letter:
    key = directory.name
    try:
        raw = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CatalogueError(f"{key}: cannot read meta.json: {exc}") from None
    if raw.get("key") != key:
        raise CatalogueError(f"{key}: meta.json key {raw.get('key')!r} differs from its folder")
    if not (directory / "template.html.j2").is_file():
        raise CatalogueError(f"{key}: template.html.j2 missing")
    try:
        letter = Letter(
            key=key, title=raw["title"], name=raw.get("name", raw["title"]), kind=raw["kind"],
            needs_review=bool(raw["needs_review"]), remedy=raw["remedy"],
            outcomes=tuple(raw.get("outcomes", ())), steps=tuple(raw["steps"]),
            fields=tuple(_parse_field(key, f) for f in raw["fields"]),
            numbered=bool(raw.get("numbered", True)), noun=raw.get("noun", "本文书"),
            outcome_letter=raw.get("outcome_letter"), example=raw.get("example", {}),
            directory=directory,
        )
    except KeyError as exc:
        raise CatalogueError(f"{key}: meta.json lacks {exc}") from None
    _check(letter)
    return letter


def _check(letter: Letter) -> None:
    key = letter.key
    if letter.kind not in KINDS:
        raise CatalogueError(f"{key}: kind must be one of {KINDS}")
    if letter.remedy not in REMEDIES:
        raise CatalogueError(f"{key}: remedy must be one of {REMEDIES}")
    for step in letter.steps:
        if step not in ACTIONS and step not in EXTRA_STEPS:
            raise CatalogueError(f"{key}: unknown workflow step {step}")
    for code in letter.outcomes:
        if code not in OUTCOME_BY_CODE:
            raise CatalogueError(f"{key}: unknown outcome {code}")
        if letter.outcome_letter and OUTCOME_BY_CODE[code].letter != letter.outcome_letter:
            raise CatalogueError(f"{key}: outcome {code} is carried by "
                                 f"{OUTCOME_BY_CODE[code].letter}, not {letter.outcome_letter}")
    if letter.kind == "substantive":
        if not letter.outcomes or not letter.outcome_letter:
            raise CatalogueError(f"{key}: a substantive letter serves outcomes")
        if letter.remedy == "none":
            raise CatalogueError(f"{key}: a substantive reply tells the applicant the remedies")
        refusal = {OUTCOME_BY_CODE[c].refusal for c in letter.outcomes}
        if refusal == {True} and letter.remedy != "reconsideration_first":
            raise CatalogueError(f"{key}: a refusal must say reconsideration comes first")
        if True not in refusal and letter.remedy == "reconsideration_first":
            raise CatalogueError(f"{key}: reconsideration first only applies to refusals")
    names = [f.name for f in letter.fields]
    if len(names) != len(set(names)):
        raise CatalogueError(f"{key}: duplicate field names")
    for f in letter.fields:
        if f.required_if and f.required_if[0] not in names + ["outcome"]:
            raise CatalogueError(f"{key}: field {f.name}: required_if names unknown field {f.required_if[0]}")
    needed = ["agency.name"]
    if letter.remedy != "none":
        needed.append("agency.reconsideration_body")
    if letter.remedy == "standard" or letter.key == "reply_partial":
        needed.append("agency.court")
    for name in needed:
        f = letter.field(name)
        if f is None or f.required is not True:
            raise CatalogueError(f"{key}: {name} must be a required field")
    if letter.numbered and letter.field("number") is None:
        raise CatalogueError(f"{key}: a numbered letter declares the number field")


@lru_cache(maxsize=1)
def _load_all() -> dict[str, Letter]:
    letters: dict[str, Letter] = {}
    for directory in sorted(p for p in TEMPLATES_DIR.iterdir() if p.is_dir()):
        if (directory / "meta.json").exists():
            letter = _parse(directory)
            letters[letter.key] = letter
    # Every outcome that is answered by a drafted letter has exactly one template.
    by_outcome: dict[str, str] = {}
    for letter in letters.values():
        for code in letter.outcomes:
            if code in by_outcome:
                raise CatalogueError(f"outcome {code} served by {by_outcome[code]} and {letter.key}")
            by_outcome[code] = letter.key
    for o in OUTCOMES:
        if o.letter != "—" and o.code not in by_outcome:
            raise CatalogueError(f"outcome {o.code} ({o.letter}) has no letter template")
    return letters


def reload() -> None:
    """Forget the loaded catalogue (after editing meta.json files)."""
    _load_all.cache_clear()


def all_letters() -> list[Letter]:
    return list(_load_all().values())


def get_letter(key: str) -> Letter:
    try:
        return _load_all()[key]
    except KeyError:
        raise KeyError(f"未知的文书类型：{key}") from None


def letter_for_outcome(code: str) -> Letter | None:
    """The reply letter that carries an outcome; None for outcomes without one (withdrawn)."""
    if code not in OUTCOME_BY_CODE:
        raise ValueError(f"未知的办理结果：{code}")
    return next((letter for letter in _load_all().values() if code in letter.outcomes), None)


def letters_for_step(action: str) -> list[Letter]:
    """The letters a workflow action issues (e.g. "consult" → three consultation letters)."""
    if action not in ACTIONS and action not in EXTRA_STEPS:
        raise ValueError(f"未知的办理步骤：{action}")
    return [letter for letter in _load_all().values() if action in letter.steps]


def step_label(step: str) -> str:
    """A step's name as the case page shows it (出具答复, 发出补正告知 …)."""
    return EXTRA_STEP_LABELS[step] if step in EXTRA_STEP_LABELS else ACTIONS[step].label


def applies_to(letter: Letter) -> str:
    """When the letter is produced, in words: its steps, and for a reply the outcomes it carries."""
    parts = []
    for step in letter.steps:
        if step == "issue" and letter.outcomes:
            outcomes = "、".join(f"“{OUTCOME_BY_CODE[c].label}”" for c in letter.outcomes)
            parts.append(f"{step_label(step)}，办理结果为{outcomes}")
        else:
            parts.append(step_label(step))
    return "；".join(parts)


def example_context(key: str) -> dict:
    """A realistic context for the letter (from meta.json "example"), dates as ``date``."""
    letter = get_letter(key)
    return _with_dates(letter, json.loads(json.dumps(letter.example)))


def _with_dates(letter: Letter, context: dict) -> dict:
    for f in letter.fields:
        if f.type != "date":
            continue
        parent, _, leaf = f.name.rpartition(".")
        holder = context
        for part in parent.split(".") if parent else ():
            holder = holder.get(part) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and isinstance(holder.get(leaf), str):
            holder[leaf] = date.fromisoformat(holder[leaf])
    return context
