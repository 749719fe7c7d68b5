"""OGI Desk: 政府信息依申请公开办理系统."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from .config import ROOT, Config, normalise_db_url
from .extensions import csrf, db, login_manager, migrate


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"),
                instance_path=str(ROOT / "instance"))
    app.config.from_object(Config)
    if test_config:
        app.config.update(test_config)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_db_url(app.config["SQLALCHEMY_DATABASE_URI"])
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


def _sqlite_pragmas(app: Flask) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return

    @event.listens_for(Engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - trivial
        if type(dbapi_conn).__module__.startswith("sqlite3"):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()
