"""OGI Desk: 政府信息依申请公开办理系统."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from .config import ROOT, Config, engine_options, normalise_db_url
from .extensions import csrf, db, login_manager, migrate


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"),
                instance_path=str(ROOT / "instance"))
    app.config.from_object(Config)
    if test_config:
        app.config.update(test_config)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_db_url(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    _sqlite_pragmas(app)

    from . import models  # noqa: F401  (register tables)
    from .web import init_web
    from .api import bp as api_bp
    from .reports import bp as reports_bp
    from .casefile import bp as casefile_bp
    from .cli import register_cli

    init_web(app)
    app.register_blueprint(reports_bp)
    app.register_blueprint(casefile_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # the API authenticates by bearer token, not cookies
    register_cli(app)
    return app


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
