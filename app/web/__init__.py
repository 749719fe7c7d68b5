"""Server-rendered UI (Simplified Chinese)."""
from __future__ import annotations

from flask import Flask

from ..extensions import db, login_manager
from ..models import User


def init_web(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"

    @login_manager.user_loader
    def _load(user_id: str):
        return db.session.get(User, int(user_id))

    from .auth import bp as auth_bp
    app.register_blueprint(auth_bp)
