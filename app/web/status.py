"""The applicant's status page, no login (issue 13): look-up by 登记编号 and query code or by
phone and a one-time SMS code; issued letters; the answer to a correction notice."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("status", __name__, url_prefix="/gk")


@bp.route("/<code>/query")
def lookup(code: str):
    # Placeholder until the status lookup lands (another branch); it replaces this view.
    from flask import abort
    abort(404)
