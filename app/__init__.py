"""OGI Desk: 政府信息依申请公开办理系统."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

from .config import MIN_SECRET_KEY_LENGTH, OLD_DEFAULT_SECRET_KEY, ROOT, Config, engine_options, normalise_db_url
from .extensions import csrf, db, limiter, login_manager, migrate


class SecretKeyMissing(RuntimeError):
    """Raised at start-up outside development and tests when no usable SECRET_KEY is configured."""


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"),
                instance_path=str(ROOT / "instance"))
    app.config.from_object(Config)
    if test_config:
        app.config.update(test_config)
    load_secret_key(app)
    app.session_interface = _SessionInterface()
    if app.config["OGI_TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix
        n = int(app.config["OGI_TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_db_url(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    _sqlite_pragmas(app)

    from . import models  # noqa: F401  (register tables)
    from .services import search  # noqa: F401  (the flush hook that keeps case search tokens current)
    from .web import init_web
    from .api import bp as api_bp
    from .web.reports import bp as reports_bp
    from .web.casefile import bp as casefile_bp
    from .cli import register_cli

    init_web(app)
    app.register_blueprint(reports_bp)
    app.register_blueprint(casefile_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # the API authenticates by bearer token, not cookies
    register_cli(app)
    return app


def load_secret_key(app: Flask) -> None:
    """SECRET_KEY from the configuration or, failing that, from SECRET_KEY_FILE. Outside development
    (FLASK_DEBUG) and tests the app refuses to start without one: a known key lets anyone sign a
    session cookie. In development and tests a random key for this process stands in."""
    key = app.config["SECRET_KEY"]
    path = Path(app.config["SECRET_KEY_FILE"] or "")
    if not key and str(path) not in ("", ".") and path.is_file():
        key = path.read_text(encoding="utf-8").strip()
    if key and key != OLD_DEFAULT_SECRET_KEY and len(key) >= MIN_SECRET_KEY_LENGTH:
        app.config["SECRET_KEY"] = key
        return
    if app.config.get("TESTING") or app.config.get("DEBUG"):
        app.config["SECRET_KEY"] = key or secrets.token_hex(32)
        return
    problem = "未设置" if not key else ("是代码中公开的旧默认值" if key == OLD_DEFAULT_SECRET_KEY
                                    else f"过短（至少{MIN_SECRET_KEY_LENGTH}个字符）")
    raise SecretKeyMissing(
        f"SECRET_KEY {problem}，系统拒绝启动：知道密钥的人可以伪造登录会话。请把环境变量 SECRET_KEY 设为一个"
        f"长随机值，或写入文件 {path}（make run 会自动生成），例如：\n"
        f"  python3 -c 'import secrets; print(secrets.token_hex(32))' > {path}\n"
        "仅在开发时（FLASK_DEBUG=1）可以不设置。")


class _SessionInterface(SecureCookieSessionInterface):
    """The session cookie gets Secure whenever the request came over HTTPS (or always, by setting)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or (has_request_context() and request.is_secure))


def warm_up(app: Flask) -> None:
    """Ready a serving process before its first request (``make run`` and wsgi.py with
    OGI_WARM_UP=1; a pre-fork server calls it per worker): fonts and both PDF engines are set up
    and one letter and one page are rendered, so the first letter or case file is as fast as the
    rest. Then everything loaded so far is moved out of the garbage collector's way
    (``gc.freeze``): the full collections that otherwise walk this long-lived heap stalled a
    case file by 0.1–0.2 s at random (measured in bench/bench_casefile.py)."""
    import gc

    from .casefile.render import warm_up as casefile_warm_up
    from .letters import warm_up as letters_warm_up

    with app.app_context():
        try:
            letters_warm_up()
            casefile_warm_up()
        except Exception:  # a missing font shows on the letter that needs it, with its message
            app.logger.warning("warm-up failed; the first letter will set up the fonts", exc_info=True)
    gc.collect()
    gc.freeze()


def _sqlite_pragmas(app: Flask) -> None:
    from sqlalchemy import event

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    busy_ms = int(app.config["DB_BUSY_TIMEOUT_MS"])

    # On this app's engine only: a second app in the same process (tests, restore) has its own.
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - trivial
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.close()
