"""Server-rendered UI (Simplified Chinese)."""
from __future__ import annotations

from flask import Flask, flash, jsonify, redirect, request, url_for

from ..extensions import db, login_manager
from ..models import User


def init_web(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def _load(user_id: str):
        return db.session.get(User, int(user_id))

    @login_manager.unauthorized_handler
    def _unauthorized():
        # The API answers in JSON; only pages send people to the login form.
        if request.path.startswith("/api/"):
            return jsonify({"error": {"message": "请先登录或提供有效的API令牌", "field": None}}), 401
        flash(login_manager.login_message, login_manager.login_message_category)
        nxt = request.full_path if request.query_string else request.path
        return redirect(url_for("auth.login", next=nxt))

    from .account import bp as account_bp
    from .admin import bp as admin_bp
    from .auth import bp as auth_bp
    from .cases import bp as cases_bp
    from .display import register_display
    from .errors import register_error_handlers
    from .letters import bp as letters_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(letters_bp)
    register_display(app)
    register_error_handlers(app)

    @app.after_request
    def _headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        return resp
