"""Settings: every key is declared once in Config, and the README's configuration tables list
exactly those keys (environment variables in the first table, fixed settings in the second)."""
from __future__ import annotations

import re
import subprocess

from app.config import ENVIRONMENT, ROOT, Config


def _readme_tables() -> list[set[str]]:
    """The names in the first column of each table of the README's Configuration section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    tables: list[set[str]] = []
    in_table = False
    for line in section.splitlines():
        if line.startswith("|"):
            if not in_table:
                tables.append(set())
                in_table = True
            first = line.split("|")[1]
            tables[-1].update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first))
        else:
            in_table = False
    return tables


def _config_keys() -> set[str]:
    return {k for k in vars(Config) if k.isupper()}


def test_readme_lists_every_environment_variable_and_no_other():
    env_table, _ = _readme_tables()
    assert env_table == set(ENVIRONMENT)


def test_readme_lists_every_fixed_setting_and_no_other():
    _, fixed_table = _readme_tables()
    assert fixed_table == _config_keys() - set(ENVIRONMENT.values())


def test_every_environment_variable_sets_a_config_key():
    assert set(ENVIRONMENT.values()) <= _config_keys()


def test_no_inline_defaults_outside_config():
    """Code reads config["KEY"]: a .get("KEY", default) would be a second, silent default."""
    found = subprocess.run(
        ["grep", "-rnE", r"config\.get\(\s*['\"][A-Z_]+['\"]\s*,|environ(\.get\(|\[)", "app", "wsgi.py",
         "--include=*.py"], cwd=ROOT, capture_output=True, text=True).stdout.splitlines()
    stray = [line for line in found if not line.startswith("app/config.py:") and "{**os.environ" not in line]
    assert stray == []


def test_keys_read_in_code_are_declared():
    """Every config["KEY"] the app reads is a Config key or one of Flask's/extensions' own."""
    found = subprocess.run(["grep", "-rHoE", r"config\[\"[A-Z_]+\"\]", "app", "wsgi.py", "--include=*.py"],
                           cwd=ROOT, capture_output=True, text=True).stdout.split()
    read = {re.search(r'"([A-Z_]+)"', x).group(1) for x in found if not x.startswith("app/config.py:")}
    assert "OGI_TIMEZONE" in read  # the search itself works
    assert read - _config_keys() == set()
