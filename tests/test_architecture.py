"""The import contracts of .importlinter (docs/architecture.md): the domain is pure, the layers
point one way, no cycles. Run with import-linter itself, so a broken contract fails the suite."""
from __future__ import annotations

import configparser
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import app as app_package
from app.config import ROOT


def _lint() -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "lint-imports"
    return subprocess.run([str(exe), "--no-cache", "--config", str(ROOT / ".importlinter")], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)


def test_import_contracts_are_kept():
    result = _lint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


@pytest.mark.parametrize("contract, allowed", [("domain", {"app.domain"}), ("pdf", {"app.pdf", "app.domain"})])
def test_library_contracts_name_every_other_package(contract, allowed):
    """A new package under app/ cannot escape "the domain imports nothing of ours" nor "app.pdf
    imports only the domain"."""
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter", encoding="utf-8")
    forbidden = set(config[f"importlinter:contract:{contract}"]["forbidden_modules"].split())
    ours = {f"app.{m.name}" for m in pkgutil.iter_modules(app_package.__path__)} - allowed
    assert ours <= forbidden


def test_pdf_is_a_layer_below_letters_and_casefile():
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter", encoding="utf-8")
    layers = [line.strip() for line in config["importlinter:contract:layers"]["layers"].split("\n") if line.strip()]
    pdf = layers.index("app.pdf")
    assert pdf == layers.index("app.domain") - 1
    assert pdf > next(i for i, layer in enumerate(layers) if "app.letters" in layer)
    assert pdf > next(i for i, layer in enumerate(layers) if "app.casefile" in layer)


def test_no_imports_hidden_from_the_linter():
    """importlib.import_module or a module __getattr__ would import where the linter cannot see."""
    found = subprocess.run(["grep", "-rnE", r"import_module|__import__\(|^def __getattr__", "app", "--include=*.py"],
                           cwd=ROOT, capture_output=True, text=True).stdout
    assert found == ""


# Where a write may happen: the services (app/services) and the feature services of the printed
# case file and the reports (app/casefile, app/reports), which hold no views. The rest only
# calls them (docs/architecture.md); rolling back a failed request is not a write.
ADAPTERS = ("app/web", "app/api", "app/cli.py", "app/demo.py", "app/__init__.py", "app/models", "app/letters",
            "app/domain", "wsgi.py")


def test_writes_only_in_services():
    found = subprocess.run(["grep", "-rnE", r"session\.(commit|add|add_all|delete|flush|merge)\(", *ADAPTERS,
                            "--include=*.py"], cwd=ROOT, capture_output=True, text=True).stdout
    assert found == ""


def test_the_write_search_finds_writes():
    found = subprocess.run(["grep", "-rlE", r"session\.(commit|add|add_all|delete|flush|merge)\(", "app/services"],
                           cwd=ROOT, capture_output=True, text=True).stdout
    assert "app/services/cases.py" in found
