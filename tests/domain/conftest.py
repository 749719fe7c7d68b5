"""Fixtures for the pure domain tests (no Flask, no SQLAlchemy, no database)."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.domain.calendar import WorkCalendar

from .support import build_calendar

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.no_db)


@pytest.fixture(autouse=True)
def fresh_db():
    """Domain tests need no database: shadow the project-wide per-test database fixture."""
    yield


@pytest.fixture(scope="session")
def cal() -> WorkCalendar:
    return build_calendar()
