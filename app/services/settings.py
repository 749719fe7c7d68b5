"""Agency settings and letter wording: saved with their security event in one transaction.

The forms validate first (app/web/letters.py); these functions only change and record.
"""
from __future__ import annotations

import difflib
from datetime import datetime
from typing import Mapping

from ..extensions import db
from ..letters.seal import fit_seal
from ..models import LetterTemplateOverride, LetterTemplateVersion, User
from .audit import record_security
from .errors import NotFound, ServiceError


def save_agency_settings(actor: User, fields: tuple[tuple[str, str], ...], values: Mapping[str, str],
                         seal_png: bytes | None = None, remove_seal: bool = False) -> list[str]:
    """Set the agency's fields ((name, label) pairs) to values; returns the labels that changed.

    The seal is stored at its printed size (42 mm at 300 dpi at most, see letters/seal.py).
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
        seal, agency.seal_png = "已更换", fit_seal(seal_png)  # stored at its printed size
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
    """Save the agency's wording for a letter type (already validated) as its next version."""
    row = _override(actor, key)
    existed = row is not None
    before = row.source if row else default_source
    if before == source:
        return
    _set_wording(actor, key, row, source)
    version = _add_version(actor, key, source, "saved" if existed else "created")
    record_security(actor.agency_id, actor, "template_changed", {
        "letter": key, "letter_name": f"《{letter_name}》", "change": "saved" if existed else "created",
        "version": version.version, "summary": diff_summary(before, source)})
    db.session.commit()


def reset_template(actor: User, key: str, letter_name: str, default_source: str) -> bool:
    """Back to the system wording (a version of its own); False when there was nothing to reset."""
    row = _override(actor, key)
    if row is None:
        return False
    version = _add_version(actor, key, None, "reset")
    record_security(actor.agency_id, actor, "template_changed", {
        "letter": key, "letter_name": f"《{letter_name}》", "change": "reset", "version": version.version,
        "summary": diff_summary(row.source, default_source)})
    db.session.delete(row)
    db.session.commit()
    return True


def rollback_template(actor: User, key: str, letter_name: str, to_version: int, default_source: str) -> int:
    """Make an earlier version's wording the one in use again, as a new version; returns its number.
    The wording is stored as it was saved (it passed the checks then; the letter's fields may since
    have changed, so the caller checks it again before calling this)."""
    target = template_version(actor, key, to_version)
    if target is None:
        raise NotFound(f"《{letter_name}》没有第{to_version}版")
    row = _override(actor, key)
    before = row.source if row else default_source
    after = target.source if target.source is not None else default_source
    if before == after:
        raise ServiceError(f"当前措辞与第{to_version}版相同，无需回滚")
    if target.source is None:
        db.session.delete(row)
    else:
        _set_wording(actor, key, row, target.source)
    version = _add_version(actor, key, target.source, "rollback", rolled_back_to=to_version)
    record_security(actor.agency_id, actor, "template_changed", {
        "letter": key, "letter_name": f"《{letter_name}》", "change": "rollback", "version": version.version,
        "rolled_back_to": to_version, "summary": diff_summary(before, after)})
    db.session.commit()
    return version.version


def template_versions(actor: User, key: str) -> list[LetterTemplateVersion]:
    """The agency's versions of a letter's wording, newest first."""
    return list(db.session.scalars(db.select(LetterTemplateVersion).where(
        LetterTemplateVersion.agency_id == actor.agency_id, LetterTemplateVersion.key == key)
        .order_by(LetterTemplateVersion.version.desc())))


def template_version(actor: User, key: str, version: int) -> LetterTemplateVersion | None:
    return db.session.scalar(db.select(LetterTemplateVersion).where(
        LetterTemplateVersion.agency_id == actor.agency_id, LetterTemplateVersion.key == key,
        LetterTemplateVersion.version == version))


def version_diff(old: str, new: str, old_label: str, new_label: str) -> list[tuple[str, str]]:
    """A line diff for the template page: (kind, line) with kind 'head', 'hunk', 'add', 'del' or 'same'."""
    out: list[tuple[str, str]] = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), old_label, new_label, lineterm="", n=2):
        if line.startswith(("---", "+++")):
            out.append(("head", line))
        elif line.startswith("@@"):
            out.append(("hunk", line))
        elif line.startswith("+"):
            out.append(("add", line))
        elif line.startswith("-"):
            out.append(("del", line))
        else:
            out.append(("same", line))
    return out


def _set_wording(actor: User, key: str, row: LetterTemplateOverride | None, source: str) -> None:
    if row is None:
        row = LetterTemplateOverride(agency_id=actor.agency_id, key=key, source=source)
        db.session.add(row)
    row.source, row.updated_by_id, row.updated_at = source, actor.id, datetime.utcnow()


def _add_version(actor: User, key: str, source: str | None, change: str,
                 rolled_back_to: int | None = None) -> LetterTemplateVersion:
    last = db.session.scalar(db.select(db.func.max(LetterTemplateVersion.version)).where(
        LetterTemplateVersion.agency_id == actor.agency_id, LetterTemplateVersion.key == key)) or 0
    version = LetterTemplateVersion(agency_id=actor.agency_id, key=key, version=last + 1, source=source,
                                    change=change, rolled_back_to=rolled_back_to, created_by_id=actor.id,
                                    created_at=datetime.utcnow())
    db.session.add(version)
    return version


def _override(actor: User, key: str) -> LetterTemplateOverride | None:
    return db.session.scalar(db.select(LetterTemplateOverride).where(
        LetterTemplateOverride.agency_id == actor.agency_id, LetterTemplateOverride.key == key))
