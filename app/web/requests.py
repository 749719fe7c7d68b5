"""收到的协办函/征求意见 (issue 16 item 2): the target agency's page for one request. It shows the
letter only (matter, dates, the asking agency), never the asking case; other agencies: 404."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from ..models.agency_request import REQUEST_STATES
from ..services import agency_requests as AR, integrity
from ..services.errors import ServiceError
from ..services.time import today as _today
from .decorators import me, roles_required
from .letters import pdf_response

bp = Blueprint("requests", __name__, url_prefix="/requests")

OPS = {"save": AR.save_answer, "submit": AR.submit_answer, "approve": AR.approve_answer,
       "return": AR.return_answer, "issue": AR.issue_answer}
DONE = {"save": "答复已保存", "submit": "已提交法制审核", "approve": "审核通过", "return": "已退回承办人修改",
        "issue": "答复已出具，来函机关的案件已登记答复日期"}


def _page(request_id: int, status: int = 200, typed: dict | None = None, error: str | None = None,
          error_field: str | None = None):
    try:
        r = AR.get_request(request_id, me())
    except ServiceError:
        abort(404)
    return render_template("requests/detail.html", r=r, today=_today(), typed=typed or {}, error=error,
                           error_field=error_field, letter=AR.request_letter(r), states=REQUEST_STATES, answers=AR.CONSULTATION_ANSWERS,
                           target=r.to_agency_id == me().agency_id, events=AR.request_events(r)), status


@bp.route("/<int:request_id>")
@roles_required(*AR.VIEW_ROLES)
def detail(request_id: int):
    return _page(request_id)


@bp.route("/<int:request_id>/letter.pdf")
@roles_required(*AR.VIEW_ROLES)
def letter(request_id: int):
    """The issued 协办函/征求意见书 itself (its stored, hash-checked PDF); none issued yet: 404."""
    try:
        r = AR.get_request(request_id, me())
    except ServiceError:
        abort(404)
    row = AR.request_letter(r)
    if row is None:
        abort(404)
    return pdf_response(integrity.letter_pdf(row, me()), "-".join(filter(None, (row.number, row.title))) + ".pdf")


@bp.route("/<int:request_id>/<op>", methods=["POST"])
@roles_required(*(AR.ANSWER_ROLES | AR.REVIEW_ROLES))
def act(request_id: int, op: str):
    if op not in OPS:
        abort(404)
    try:
        AR.get_request(request_id, me())
    except ServiceError:
        abort(404)
    if not FlaskForm().validate_on_submit():  # the CSRF token
        return _page(request_id, 400, request.form.to_dict(), "提交未成功，请刷新页面后重试。")
    raw = request.form.to_dict()
    version = request.form.get("version", type=int)
    try:
        if op == "submit":
            AR.submit_answer(me(), request_id, version)
        else:
            OPS[op](me(), request_id, raw, version)
    except ServiceError as e:
        if e.status == 404:
            abort(404)
        return _page(request_id, e.status if e.status != 403 else 400, raw, e.message, e.field)
    flash(DONE[op], "success")
    return redirect(url_for("requests.detail", request_id=request_id))
