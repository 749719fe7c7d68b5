"""Settings from the environment; the defaults run on an embedded SQLite database."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# The key the app used to fall back on: published in the code, so never accepted outside development.
OLD_DEFAULT_SECRET_KEY = "dev-only-change-me"
MIN_SECRET_KEY_LENGTH = 16


# Environment variable -> the Config key it sets. Filled by _env below; the README's configuration
# table is checked against it (tests/test_config.py).
ENVIRONMENT: dict[str, str] = {}


def _env(name: str, default, cast=str, key: str | None = None):
    """The environment variable ``name`` cast to the type of its setting, ``default`` if unset or empty."""
    ENVIRONMENT[name] = key or name
    raw = os.environ.get(name, "")
    return cast(raw) if raw != "" else default


def _flag(raw: str) -> bool:
    return raw == "1"


class Config:
    """Every setting the app reads, declared once with its default and meaning. Code reads
    ``current_app.config["KEY"]`` (never ``.get("KEY", default)``): the default lives here only.
    Keys set from the environment are listed in the README's first configuration table, the
    others in the second (a test keeps both in step with this class)."""

    # --- from the environment -------------------------------------------------------------
    # SECRET_KEY signs the session cookie. Outside development and tests it must be set, here or in
    # SECRET_KEY_FILE (`make run` writes a random one there once); see app.load_secret_key.
    SECRET_KEY = _env("SECRET_KEY", None)
    SECRET_KEY_FILE = _env("SECRET_KEY_FILE", str(ROOT / "instance" / "secret_key"))
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{ROOT / 'instance' / 'ogidesk.sqlite3'}",
                                   key="SQLALCHEMY_DATABASE_URI")
    # Secure is added by itself on requests that came over HTTPS; True forces it always.
    SESSION_COOKIE_SECURE = _env("SESSION_COOKIE_SECURE", False, _flag)
    # Behind a reverse proxy that terminates HTTPS: how many proxies' X-Forwarded-For/-Proto to trust.
    OGI_TRUSTED_PROXIES = _env("OGI_TRUSTED_PROXIES", 0, int)
    # Sign-in (GB/T 22239 身份鉴别), see docs/decisions.md "Accounts and sessions".
    SESSION_IDLE_MINUTES = _env("SESSION_IDLE_MINUTES", 30, int)
    SESSION_MAX_HOURS = _env("SESSION_MAX_HOURS", 12.0, float)
    PASSWORD_MAX_AGE_DAYS = _env("PASSWORD_MAX_AGE_DAYS", 90, int)  # 0 = never expires
    LOGIN_MAX_FAILURES = _env("LOGIN_MAX_FAILURES", 5, int)
    LOGIN_LOCK_MINUTES = _env("LOGIN_LOCK_MINUTES", 15, int)
    # Fixed "today" for demos and tests of clocks; empty = the real date.
    OGI_TODAY = _env("OGI_TODAY", "")
    # Letter fonts (JSON font map) and where prepared fonts are kept; read by app.letters.fonts.
    OGI_LETTER_FONTS = _env("OGI_LETTER_FONTS", "")
    OGI_FONT_CACHE = _env("OGI_FONT_CACHE", "")
    # Stored scans and case-file print results; empty = under instance/ (README, docs/operations.md).
    ATTACHMENT_DIR = _env("ATTACHMENT_DIR", "")
    CASEFILE_JOB_DIR = _env("CASEFILE_JOB_DIR", "")
    # A hanging or unreachable database must give the 503 page within seconds, not hold a request
    # (and a worker) for minutes: libpq connect timeout, PostgreSQL statement timeout (which also
    # bounds waiting for a lock), SQLite busy timeout. Applied to the engine in create_app.
    DB_CONNECT_TIMEOUT = _env("DB_CONNECT_TIMEOUT", 5, int)  # seconds (libpq: at least 2)
    DB_STATEMENT_TIMEOUT_MS = _env("DB_STATEMENT_TIMEOUT_MS", 30000, int)  # 0 = none
    DB_BUSY_TIMEOUT_MS = _env("DB_BUSY_TIMEOUT_MS", 5000, int)  # SQLite
    # Directory of pg_dump/pg_restore for backups; empty = the server's version under /usr/lib/postgresql.
    PG_BIN_DIR = _env("PG_BIN_DIR", "")
    # A previewed ledger import waits here for its confirmation (empty: instance/import-staging).
    IMPORT_STAGING_DIR = _env("IMPORT_STAGING_DIR", "")
    # Draft letters rendered once for every worker of the host (by content hash, at most 512
    # files, mode 0700; empty: instance/letter-previews).
    LETTER_PREVIEW_DIR = _env("LETTER_PREVIEW_DIR", "")
    # A serving process warms fonts and PDF engines up before the first request (wsgi.py).
    OGI_WARM_UP = _env("OGI_WARM_UP", False, _flag)
    # gunicorn (gunicorn.conf.py; `make run PORT=…` sets OGI_BIND): address, worker processes
    # (0 = from the cores), threads per worker, and how long a request may run before its worker
    # is replaced (a 60-page case file takes about a second; batch printing runs in a job).
    OGI_BIND = _env("OGI_BIND", "127.0.0.1:5000")
    WEB_WORKERS = _env("WEB_WORKERS", 0, int)
    WEB_THREADS = _env("WEB_THREADS", 4, int)
    WEB_TIMEOUT = _env("WEB_TIMEOUT", 120, int)
    # The task queue (Huey, app/services/queue.py) and `flask worker`: empty = an embedded SQLite
    # file instance/queue.sqlite3 (one host); redis://host:6379/0 for several hosts. The name keeps
    # two deployments on one Redis apart; threads = tasks the worker runs at once.
    QUEUE_URL = _env("QUEUE_URL", "")
    QUEUE_NAME = _env("QUEUE_NAME", "ogidesk")
    WORKER_THREADS = _env("WORKER_THREADS", 2, int)
    # Scheduled work of the worker, at these local times (OGI_TIMEZONE, "HH:MM"): the morning
    # digest of cases due within 3 working days or overdue, and the nightly sweep and `flask verify`.
    DIGEST_AT = _env("DIGEST_AT", "07:30")
    NIGHTLY_AT = _env("NIGHTLY_AT", "02:30")
    # Result files of background jobs (printed case files, exports) are deleted after this many days.
    JOB_RESULT_DAYS = _env("JOB_RESULT_DAYS", 7, int)
    # The recompute after a calendar change loads, recomputes and commits this many open cases at a
    # time (a worker killed mid-way loses at most one chunk; the rerun skips the ones done).
    CALENDAR_RECOMPUTE_CHUNK = _env("CALENDAR_RECOMPUTE_CHUNK", 500, int)
    # The applicant's side (public pages, services.notify). The address the public pages are
    # reached at, for links in e-mails and SMS (empty: the links are left out).
    OGI_PUBLIC_URL = _env("OGI_PUBLIC_URL", "")
    # Rate limits of the public pages (Flask-Limiter) are counted here: memory:// per process, or
    # redis://host:6379/1 shared by every process and host.
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    # E-mail by SMTP; empty SMTP_HOST = messages stay in the local outbox (development).
    SMTP_HOST = _env("SMTP_HOST", "")
    SMTP_PORT = _env("SMTP_PORT", 25, int)
    SMTP_USER = _env("SMTP_USER", "")
    SMTP_PASSWORD = _env("SMTP_PASSWORD", "")
    SMTP_STARTTLS = _env("SMTP_STARTTLS", False, _flag)
    MAIL_FROM = _env("MAIL_FROM", "ogidesk@localhost")
    # SMS by an HTTP gateway: a JSON POST {"phone", "text"} with the token as a Bearer header;
    # empty = messages stay in the local outbox.
    SMS_GATEWAY_URL = _env("SMS_GATEWAY_URL", "")
    SMS_GATEWAY_TOKEN = _env("SMS_GATEWAY_TOKEN", "")

    # --- fixed here (a deployment or a test overrides them in create_app's config) ----------
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    WTF_CSRF_TIME_LIMIT = None  # a clerk keeps the intake form open for hours
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    JSON_SORT_KEYS = False
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024  # uploads are checked further by type and size
    # Handbook §8.3 / §8.5 settings (per deployment; per agency later).
    ONLINE_NON_WORKDAY_ROLLS_FORWARD = True
    REASONS_PAUSES_CLOCK = True
    OGI_NOW = ""  # tests only: a fixed UTC date-time for sessions and password age
    OGI_TIMEZONE = "Asia/Shanghai"  # stored times are naive UTC; shown in this zone
    PASSWORD_HASH_METHOD = "scrypt"  # werkzeug method; the tests use a cheap pbkdf2
    # One scan: at most this many bytes and pixels (decompression bombs).
    ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
    ATTACHMENT_MAX_PIXELS = 50_000_000
    # Case file (案卷): order of documents ("dat22": DA/T 22 by kind; "chronological"), originals
    # embedded after the generated pages, fonts ("auto", "system" or {"family": ..., "faces": ...}).
    CASEFILE_ORDER = "dat22"
    CASEFILE_EMBED_ORIGINALS = True
    CASEFILE_FONTS = "auto"
    # Background jobs (app/services/jobs.py): a running job without progress for this long lost its
    # worker and is queued again by the worker's sweep (one case file or 2,000 exported rows take
    # about a second).
    JOB_STALE_SECONDS = 300
    # A ledger export of at most this many rows is sent at once; a larger one becomes a job.
    LEDGER_EXPORT_DIRECT_ROWS = 2000
    # OCR of uploaded scans (Tesseract): handed to the worker's queue after each upload; the
    # languages Tesseract reads (Debian: tesseract-ocr-chi-sim). A job "running" for longer than
    # OCR_JOB_STALE_SECONDS lost its worker and is queued again by the worker's sweep.
    OCR_AUTOSTART = True
    OCR_JOB_STALE_SECONDS = 600
    OCR_LANGUAGES = "chi_sim"
    # Public pages: per client address (and per phone for SMS codes), in Flask-Limiter's notation.
    PUBLIC_SUBMIT_LIMIT = "5 per hour;20 per day"
    PUBLIC_LOOKUP_LIMIT = "30 per 10 minutes"
    PUBLIC_SMS_LIMIT = "3 per hour"
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = False


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
