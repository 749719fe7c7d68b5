"""Settings from the environment; the defaults run on an embedded SQLite database."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# The key the app used to fall back on: published in the code, so never accepted outside development.
OLD_DEFAULT_SECRET_KEY = "dev-only-change-me"
MIN_SECRET_KEY_LENGTH = 16


class Config:
    # SECRET_KEY signs the session cookie. Outside development and tests it must be set, here or in
    # SECRET_KEY_FILE (`make run` writes a random one there once); see app.load_secret_key.
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    SECRET_KEY_FILE = os.environ.get("SECRET_KEY_FILE", str(ROOT / "instance" / "secret_key"))
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{ROOT / 'instance' / 'ogidesk.sqlite3'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    WTF_CSRF_TIME_LIMIT = None  # a clerk keeps the intake form open for hours
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Secure is added by itself on requests that came over HTTPS; True forces it always.
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    # Behind a reverse proxy that terminates HTTPS: how many proxies' X-Forwarded-For/-Proto to trust.
    OGI_TRUSTED_PROXIES = int(os.environ.get("OGI_TRUSTED_PROXIES", "0") or 0)
    # Sign-in (GB/T 22239 身份鉴别), see docs/decisions.md "Accounts and sessions".
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "30"))
    SESSION_MAX_HOURS = float(os.environ.get("SESSION_MAX_HOURS", "12"))
    PASSWORD_MAX_AGE_DAYS = int(os.environ.get("PASSWORD_MAX_AGE_DAYS", "90"))
    LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
    LOGIN_LOCK_MINUTES = int(os.environ.get("LOGIN_LOCK_MINUTES", "15"))
    # Handbook §8.3 / §8.5 settings (per deployment; per agency later).
    ONLINE_NON_WORKDAY_ROLLS_FORWARD = True
    REASONS_PAUSES_CLOCK = True
    # Fixed "today" for demos and tests of clocks; empty = the real date.
    OGI_TODAY = os.environ.get("OGI_TODAY", "")
    OGI_NOW = ""  # tests only: a fixed UTC date-time for sessions and password age
    JSON_SORT_KEYS = False
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024  # uploads are checked further by type and size
    # Stored scans and case-file print results; empty = under instance/ (README, docs/operations.md).
    ATTACHMENT_DIR = os.environ.get("ATTACHMENT_DIR", "")
    CASEFILE_JOB_DIR = os.environ.get("CASEFILE_JOB_DIR", "")
    # A hanging or unreachable database must give the 503 page within seconds, not hold a request
    # (and a worker) for minutes: libpq connect timeout, PostgreSQL statement timeout (which also
    # bounds waiting for a lock), SQLite busy timeout. Applied to the engine in create_app.
    DB_CONNECT_TIMEOUT = int(os.environ.get("DB_CONNECT_TIMEOUT", "5"))  # seconds (libpq: at least 2)
    DB_STATEMENT_TIMEOUT_MS = int(os.environ.get("DB_STATEMENT_TIMEOUT_MS", "30000"))  # 0 = none
    DB_BUSY_TIMEOUT_MS = int(os.environ.get("DB_BUSY_TIMEOUT_MS", "5000"))  # SQLite
    # A previewed ledger import waits here for its confirmation (empty: instance/import-staging).
    IMPORT_STAGING_DIR = os.environ.get("IMPORT_STAGING_DIR", "")


def engine_options(config) -> dict:
    """SQLAlchemy engine options with the PostgreSQL timeouts of ``config`` (SQLite's busy
    timeout is a pragma set on connect, in create_app)."""
    opts = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    url = config["SQLALCHEMY_DATABASE_URI"]
    connect_args = dict(opts.get("connect_args") or {})
    if url.startswith("postgresql"):
        connect_args.setdefault("connect_timeout", int(config["DB_CONNECT_TIMEOUT"]))
        statement_ms = int(config["DB_STATEMENT_TIMEOUT_MS"])
        if statement_ms:
            # Set at connection start-up, so every pooled connection carries it.
            # Kept beside any options the URL itself carries (e.g. a search_path): libpq takes the
            # keyword argument instead of the URL's, not both.
            from sqlalchemy.engine import make_url

            url_options = make_url(url).query.get("options", "")
            if isinstance(url_options, tuple):
                url_options = " ".join(url_options)
            options = " ".join(filter(None, (url_options, connect_args.get("options", ""))))
            connect_args["options"] = f"{options} -c statement_timeout={statement_ms}".strip()
    opts["connect_args"] = connect_args
    return opts


def normalise_db_url(url: str) -> str:
    # psycopg 3 is the driver we ship; plain postgresql:// URLs would ask for psycopg2.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url
