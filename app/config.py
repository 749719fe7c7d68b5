"""Settings from the environment; the defaults run on an embedded SQLite database."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{ROOT / 'instance' / 'ogidesk.sqlite3'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    WTF_CSRF_TIME_LIMIT = None  # a clerk keeps the intake form open for hours
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    # Handbook §8.3 / §8.5 settings (per deployment; per agency later).
    ONLINE_NON_WORKDAY_ROLLS_FORWARD = True
    REASONS_PAUSES_CLOCK = True
    # Fixed "today" for demos and tests of clocks; empty = the real date.
    OGI_TODAY = os.environ.get("OGI_TODAY", "")
    JSON_SORT_KEYS = False
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024  # uploads are checked further by type and size
    # A previewed ledger import waits here for its confirmation (empty: instance/import-staging).
    IMPORT_STAGING_DIR = os.environ.get("IMPORT_STAGING_DIR", "")


def normalise_db_url(url: str) -> str:
    # psycopg 3 is the driver we ship; plain postgresql:// URLs would ask for psycopg2.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url
