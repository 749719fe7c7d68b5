"""The user's own account: password and API token."""
from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user

from ..services import accounts
from ..services.auth import WRONG, LoginRefused
from ..services.errors import ServiceError
from ..services.views import issue_api_token
from . import SESSION_ID
from .decorators import me, roles_required
from .forms import PasswordChangeForm, TokenForm, put_error

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/password", methods=["GET", "POST"])
@roles_required()
def password():
    form = PasswordChangeForm()
    reason = accounts.password_change_reason(me())
    error, status = None, 200
    if form.validate_on_submit():
        try:
            accounts.change_password(me(), form.current_password.data or "", form.new_password.data or "",
                                     form.confirm_password.data or "", keep_sid=session.get(SESSION_ID),
                                     via="web", ip=request.remote_addr)
        except LoginRefused as e:  # the current password was wrong, or the account is now locked
            form.current_password.errors = ["当前密码不正确" if e.message == WRONG else e.message]
            error, status = "修改未成功，请检查标出的内容。", 400
        except ServiceError as e:
            error = put_error(form, e, ("current_password", "new_password", "confirm_password")) \
                or "修改未成功，请检查标出的内容。"
            status = e.status
        else:
            flash("密码已修改。您在其他地方的登录和 API 令牌已失效。", "success")
            return redirect(url_for("cases.queue"))
    return render_template("account/password.html", form=form, error=error,
                           reason=accounts.REASON_TEXT.get(reason)), status


@bp.route("/token", methods=["GET", "POST"])
@roles_required()
def token():
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        new_token = issue_api_token(me())
    resp = make_response(render_template("account/token.html", form=form, token=new_token,
                                         has_token=bool(current_user.token_hash)))
    resp.headers["Cache-Control"] = "no-store"  # the token is shown once and must not be cached
    return resp
