"""docs/security.md names, for each GB/T 22239 requirement, the tests that show it: every test and
test file it names must exist, so the map cannot drift from the suite."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "security.md"
# tests/x/test_y.py::test_z, then ", ::test_w" for more tests of the same file
REF = re.compile(r"(tests/[\w/]+\.py)((?:::\w+|, ::\w+)*)")


def _names(path: Path) -> set[str]:
    return {n.name for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.FunctionDef)}


def _refs() -> list[tuple[str, str | None]]:
    out = []
    for m in REF.finditer(DOC.read_text()):
        path, tail = m.group(1), m.group(2)
        tests = re.findall(r"::(\w+)", tail)
        out += [(path, t) for t in tests] or [(path, None)]
    return out


@pytest.mark.no_db
def test_the_security_map_names_tests_that_exist():
    refs = _refs()
    assert len(refs) > 40
    missing = []
    for path, test in refs:
        f = ROOT / path
        if not f.exists() or (test and test not in _names(f)):
            missing.append(f"{path}::{test}" if test else path)
    assert not missing, missing


@pytest.mark.no_db
def test_every_level_3_section_is_there():
    text = DOC.read_text()
    for section in ("身份鉴别", "访问控制", "安全审计", "入侵防范", "数据完整性", "数据保密性", "数据备份恢复",
                    "剩余信息保护", "个人信息保护", "Left to the deployment"):
        assert f"## {section}" in text, section
