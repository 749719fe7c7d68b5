"""Server-rendered UI (Simplified Chinese)."""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, flash, g, jsonify, redirect, request, session, url_for
from flask_login import current_user

from ..extensions import login_manager
from ..services import sessions

# The signed cookie's key for the server-side session id (services/sessions.py).
SESSION_ID = "_sid"
# What a user who must change the password may still open.
PASSWORD_GATE_OPEN = {"account.password", "auth.logout", "auth.login", "static", "health.healthz", "health.readyz"}
STATIC_MAX_AGE = 365 * 24 * 3600
# The one Cache-Control a response may keep instead of no-store (with an ETag: draft previews).
REVALIDATE = "private, no-cache"
EXPIRED_TEXT = {"idle": "长时间未操作，会话已失效，请重新登录",
                "absolute": "登录已超过最长时限，请重新登录"}
# Only our own scripts and styles (static/js/app.js, static/css): no inline code, no other site.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")


def init_web(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def _load(user_id: str):
        # A cookie counts only with a live server-side session of the same user.
        try:
            uid = int(user_id)
        except (TypeError, ValueError):
            return None
        user, expired = sessions.resume(uid, session.get(SESSION_ID))
        if user is None:
            session.pop(SESSION_ID, None)
            g.session_expired = expired
        return user

    @login_manager.unauthorized_handler
    def _unauthorized():
        # The API answers in JSON; only pages send people to the login form.
        if request.path.startswith("/api/"):
            return jsonify({"error": {"message": "请先登录或提供有效的API令牌", "field": None}}), 401
        expired = g.get("session_expired")
        if expired:
            flash(EXPIRED_TEXT[expired], "warning")
        else:
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
    from .health import bp as health_bp
    from .jobs import bp as jobs_bp
    from .review import bp as review_bp
    from .online import bp as online_bp
    from .outbox import bp as outbox_bp
    from .public import bp as public_bp
    from .redaction import bp as redaction_bp
    from .status import bp as status_bp
    from .applicant_staff import bp as applicant_staff_bp
    from .supervision import bp as supervision_bp
    from .transfers import bp as transfers_bp
    from .requests import bp as requests_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(letters_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(status_bp)
    app.register_blueprint(online_bp)
    app.register_blueprint(applicant_staff_bp)
    app.register_blueprint(outbox_bp)
    app.register_blueprint(redaction_bp)
    app.register_blueprint(supervision_bp)
    app.register_blueprint(transfers_bp)
    app.register_blueprint(requests_bp)
    register_display(app)
    register_error_handlers(app)

    @app.before_request
    def _password_gate():
        # A one-time, demo or expired password opens only the page that replaces it.
        if request.path.startswith("/api/") or request.endpoint in PASSWORD_GATE_OPEN:
            return None
        if current_user.is_authenticated:
            from ..services.accounts import password_change_reason
            if password_change_reason(current_user._get_current_object()):
                return redirect(url_for("account.password"))
        return None

    # Static files are addressed by their content (?v=): a browser keeps them for a year instead
    # of revalidating app.css and app.js with every page, and an upgrade changes the address.
    versions: dict[tuple, str] = {}

    def static_version(filename: str) -> str | None:
        path = Path(app.static_folder) / filename
        try:
            st = path.stat()
        except (OSError, ValueError):
            return None
        key = (filename, st.st_mtime_ns, st.st_size)
        if key not in versions:
            versions[key] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        return versions[key]

    @app.url_defaults
    def _static_version(endpoint, values):
        if endpoint == "static" and "v" not in values and values.get("filename"):
            version = static_version(values["filename"])
            if version:
                values["v"] = version

    def max_age(filename: str | None) -> int | None:
        # Only the current content's address is kept long; any other asks again each time.
        if filename and request.args.get("v") and request.args.get("v") == static_version(filename):
            return STATIC_MAX_AGE
        return None

    app.get_send_file_max_age = max_age

    @app.after_request
    def _headers(resp):
        h = resp.headers
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "SAMEORIGIN")
        h.setdefault("Referrer-Policy", "same-origin")
        if resp.mimetype == "text/html":
            h.setdefault("Content-Security-Policy", CSP)
        if request.is_secure:
            h.setdefault("Strict-Transport-Security", "max-age=31536000")
        # Pages and API answers carry personal data: never kept by a browser or proxy cache, but
        # for a draft letter's PDF, kept by the asking browser only to revalidate by its ETag.
        cache = h.get("Cache-Control", "")
        if request.endpoint != "static" and "no-store" not in cache and not (
                cache == REVALIDATE and "ETag" in h):
            h["Cache-Control"] = "no-store"
        return resp
