"""Agency settings and letter wording: saved with their security event in one transaction.

The forms validate first (app/web/letters.py); these functions only change and record.
"""
from __future__ import annotations

import difflib
from datetime import datetime
from typing import Mapping

from ..extensions import db
from ..models import LetterTemplateOverride, User
from .audit import record_security


def save_agency_settings(actor: User, fields: tuple[tuple[str, str], ...], values: Mapping[str, str],
                         seal_png: bytes | None = None, remove_seal: bool = False) -> list[str]:
    """Set the agency's fields ((name, label) pairs) to values; returns the labels that changed.

    The event lists each changed field as label: old → new, and whether the seal was replaced or removed
    (the image itself is not logged)."""
    agency = actor.agency
    changes = []
    for k, label in fields:
        old, new = getattr(agency, k) or "", values[k]
        if old != new:
            changes.append({"field": k, "label": label, "old": old, "new": new})
            setattr(agency, k, new)
    seal = None
    if seal_png is not None:
        seal, agency.seal_png = "已更换", seal_png
    if remove_seal and agency.seal_png is not None:
        seal, agency.seal_png = "已删除", None
    if changes or seal:
        data: dict = {"changes": changes}
        if seal:
            data["seal"] = seal
        record_security(agency.id, actor, "agency_settings_changed", data)
    db.session.commit()
    return [c["label"] for c in changes]


def diff_summary(old: str, new: str) -> str:
    """增加 n 行，删除 m 行 (a changed line counts as one of each)."""
    added = removed = 0
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0):
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return f"增加 {added} 行，删除 {removed} 行" if added or removed else "内容未变"


def save_template(actor: User, key: str, letter_name: str, source: str, default_source: str) -> None:
    """Save the agency's wording for a letter type (already validated)."""
    row = _override(actor, key)
    existed = row is not None
    before = row.source if row else default_source
    if row is None:
        row = LetterTemplateOverride(agency_id=actor.agency_id, key=key, source=source)
        db.session.add(row)
    row.source, row.updated_by_id, row.updated_at = source, actor.id, datetime.utcnow()
    if before != source:
        record_security(actor.agency_id, actor, "template_changed", {
            "letter": key, "letter_name": f"《{letter_name}》", "change": "saved" if existed else "created",
            "summary": diff_summary(before, source)})
    db.session.commit()


def reset_template(actor: User, key: str, letter_name: str, default_source: str) -> bool:
    """Back to the system wording; False when there was nothing to reset."""
    row = _override(actor, key)
    if row is None:
        return False
    record_security(actor.agency_id, actor, "template_changed", {
        "letter": key, "letter_name": f"《{letter_name}》", "change": "reset",
        "summary": diff_summary(row.source, default_source)})
    db.session.delete(row)
    db.session.commit()
    return True


def _override(actor: User, key: str) -> LetterTemplateOverride | None:
    return db.session.scalar(db.select(LetterTemplateOverride).where(
        LetterTemplateOverride.agency_id == actor.agency_id, LetterTemplateOverride.key == key))
