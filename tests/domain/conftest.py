"""Fixtures for the pure domain tests (no Flask, no SQLAlchemy)."""
from __future__ import annotations

import pytest

from app.domain.calendar import WorkCalendar

from .support import build_calendar


@pytest.fixture(scope="session")
def cal() -> WorkCalendar:
    return build_calendar()
