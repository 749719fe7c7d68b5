"""The user's own account: API token."""
from __future__ import annotations

from flask import Blueprint, make_response, render_template
from flask_login import current_user

from ..services.views import issue_api_token
from .decorators import me, roles_required
from .forms import TokenForm

bp = Blueprint("account", __name__, url_prefix="/account")


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
