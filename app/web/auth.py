"""Login and logout."""
from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..services import sessions
from ..services.accounts import password_change_reason
from ..services.auth import LoginRefused, authenticate
from . import SESSION_ID
from .decorators import me
from .forms import LoginForm

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (the caller's default page).

    Browsers drop TAB/CR/LF inside URLs and read a backslash as a slash, so ``/%09/evil.example``
    arrives as ``/\t/evil.example`` and would be followed as ``//evil.example``. Refused: any
    control, whitespace or format character; a scheme or host; a backslash or a leading ``//``,
    also once percent-decoded with such characters dropped (for any layer that decodes again).
    """
    if not isinstance(target, str) or not target or len(target) > 2000:
        return None
    if any(_invisible(ch) for ch in target):
        return None
    decoded = "".join(ch for ch in unquote(target) if not _invisible(ch))
    for form in (target, decoded):
        path = form.split("?", 1)[0].split("#", 1)[0]
        if not form.startswith("/") or form.startswith("//") or "\\" in path:
            return None
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return None
    return target


def _invisible(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch)[0] == "C"


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
            if password_change_reason(user):  # the password page says why, once
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
