"""The domain layer is pure Python: no Flask, no SQLAlchemy, nothing from app outside app/domain."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "app" / "domain"
ALLOWED_THIRD_PARTY = {"chinese_calendar", "cnlunar"}  # pure-Python data packages


def imported_modules(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.append(node.module or "")
    return names


@pytest.mark.parametrize("path", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_domain_module_imports_only_stdlib_and_calendar_data(path):
    bad = [m for m in imported_modules(path)
           if m.split(".")[0] not in sys.stdlib_module_names and m.split(".")[0] not in ALLOWED_THIRD_PARTY]
    assert bad == []


def test_domain_package_has_the_expected_modules():
    names = {p.stem for p in DOMAIN.glob("*.py")}
    assert {"calendar", "clock", "outcomes", "intake", "fees", "workflow"} <= names
