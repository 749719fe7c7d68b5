"""Login and logout."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..services import sessions
from ..services.accounts import REASON_TEXT, password_change_reason
from ..services.auth import LoginRefused, authenticate
from . import SESSION_ID
from .decorators import me
from .forms import LoginForm

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    # Only local paths: never send a user on to another site after login.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("cases.queue"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data, form.password.data, via="web", ip=request.remote_addr)
        except LoginRefused as e:
            error = e.message
        else:
            session.clear()  # nothing from before the login carries over
            session[SESSION_ID] = sessions.start(user)
            login_user(user, remember=False)
            reason = password_change_reason(user)
            if reason:
                flash(REASON_TEXT[reason], "warning")
                return redirect(url_for("account.password"))
            flash(f"欢迎，{user.name}", "success")
            return redirect(_safe_next(request.args.get("next")) or url_for("cases.queue"))
    return render_template("auth/login.html", form=form, error=error)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    sessions.end(me(), session.pop(SESSION_ID, None), ip=request.remote_addr)
    logout_user()
    flash("已安全退出", "info")
    return redirect(url_for("auth.login"))
