"""The applicant's status page, no login (issue 13): look-up by 登记编号 and query code or by
phone and a one-time SMS code; issued letters; the answer to a correction notice.

A successful look-up puts the case ids in the visitor's session (signed cookie) for
LOOKUP_MINUTES of inactivity; every page below checks them."""
from __future__ import annotations

import time

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for

from ..applicant import status as S
from ..extensions import limiter
from ..services.errors import NotFound, ServiceError
from ..casefile.redaction import release_pdf
from ..services.integrity import letter_pdf
from ..services.time import today
from .letters import pdf_response

bp = Blueprint("status", __name__, url_prefix="/gk")

SESSION_KEY = "gk_lookup"
LOOKUP_MINUTES = 30


def _agency(code: str):
    try:
        return S.public_agency(code)
    except NotFound:
        abort(404)


def _allowed(agency) -> list[int]:
    """The case ids this visitor has proven to be the applicant of, at this agency."""
    held = session.get(SESSION_KEY) or {}
    if held.get("agency") != agency.id or time.time() - held.get("at", 0) > LOOKUP_MINUTES * 60:
        return []
    held["at"] = time.time()  # idle time counts from the last page
    session[SESSION_KEY] = held
    return list(held.get("cases") or [])


def _grant(agency, ids: list[int]) -> None:
    session[SESSION_KEY] = {"agency": agency.id, "cases": ids[:50], "at": time.time()}


def _case(agency, case_id: int):
    if case_id not in _allowed(agency):
        flash("请先输入登记编号和查询码（或手机验证码）查询。", "info")
        return None
    try:
        return S.public_case(agency, case_id)
    except NotFound:
        abort(404)


def _lookup_limit() -> str:
    return current_app.config["PUBLIC_LOOKUP_LIMIT"]


def _sms_limit() -> str:
    return current_app.config["PUBLIC_SMS_LIMIT"]


def _phone_of_request() -> str:
    return "phone:" + S.phone_key(request.form.get("phone", ""))


@bp.route("/<code>/query", methods=["GET", "POST"])
@limiter.limit(_lookup_limit, methods=["POST"])
def lookup(code: str):
    agency = _agency(code)
    form = {"number": request.form.get("number", "").strip()[:60], "phone": request.form.get("phone", "").strip()[:30]}
    error = None
    if request.method == "POST":
        case = S.find_case(agency, form["number"], request.form.get("query_code", ""))
        if case is not None:
            _grant(agency, [case.id])
            return redirect(url_for("status.case", code=code, case_id=case.id))
        error = S.LOOKUP_FAILED
    return render_template("public/lookup.html", agency=agency, form=form, error=error), 400 if error else 200


@bp.route("/<code>/query/sms", methods=["POST"])
@limiter.limit(_sms_limit)
@limiter.limit(_sms_limit, key_func=_phone_of_request)
def sms_send(code: str):
    agency = _agency(code)
    phone = request.form.get("phone", "").strip()[:30]
    try:
        S.send_sms_code(agency, phone)
    except ServiceError as e:
        return render_template("public/lookup.html", agency=agency, form={"phone": phone, "number": ""},
                               sms_error=e.message, sms_step=False), 400
    return render_template("public/lookup.html", agency=agency, form={"phone": phone, "number": ""},
                           sms_step=True, sms_note=S.SMS_SENT)


@bp.route("/<code>/query/sms/verify", methods=["POST"])
@limiter.limit(_lookup_limit)
def sms_verify(code: str):
    agency = _agency(code)
    phone = request.form.get("phone", "").strip()[:30]
    try:
        ids = S.verify_sms_code(agency, phone, request.form.get("sms_code", ""))
    except ServiceError as e:
        return render_template("public/lookup.html", agency=agency, form={"phone": phone, "number": ""},
                               sms_step=True, sms_error=e.message), 400
    _grant(agency, ids)
    if len(ids) == 1:
        return redirect(url_for("status.case", code=code, case_id=ids[0]))
    return redirect(url_for("status.mine", code=code))


@bp.route("/<code>/mine")
def mine(code: str):
    agency = _agency(code)
    ids = _allowed(agency)
    if not ids:
        flash("请先通过手机验证码查询。", "info")
        return redirect(url_for("status.lookup", code=code))
    cases = S.cases_by_ids(agency, ids)
    return render_template("public/mine.html", agency=agency, cases=cases, stages=S.PUBLIC_STAGES)


@bp.route("/<code>/status/<int:case_id>")
def case(code: str, case_id: int):
    agency = _agency(code)
    c = _case(agency, case_id)
    if c is None:
        return redirect(url_for("status.lookup", code=code))
    return render_template("public/status.html", agency=agency, v=S.public_view(c, today()),
                           max_files=S.MAX_REPLY_FILES, typed="")


@bp.route("/<code>/status/<int:case_id>/letters/<int:letter_id>.pdf")
def letter(code: str, case_id: int, letter_id: int):
    agency = _agency(code)
    c = _case(agency, case_id)
    if c is None:
        return redirect(url_for("status.lookup", code=code))
    try:
        row = S.applicant_letter(c, letter_id)
    except NotFound:
        abort(404)
    name = "-".join(filter(None, (c.number, row.title))) + ".pdf"
    return pdf_response(letter_pdf(row, None), name, inline=False)


@bp.route("/<code>/status/<int:case_id>/released/<int:release_id>.pdf")
def released(code: str, case_id: int, release_id: int):
    agency = _agency(code)
    c = _case(agency, case_id)
    if c is None:
        return redirect(url_for("status.lookup", code=code))
    try:
        rel = S.applicant_release(c, release_id)
    except NotFound:
        abort(404)
    return pdf_response(release_pdf(rel, None), f"{c.number}-提供的信息（删除处理版）.pdf", inline=False)


@bp.route("/<code>/status/<int:case_id>/correction", methods=["POST"])
@limiter.limit(_lookup_limit)
def correction(code: str, case_id: int):
    agency = _agency(code)
    c = _case(agency, case_id)
    if c is None:
        return redirect(url_for("status.lookup", code=code))
    files = [(f.read(), f.filename) for f in request.files.getlist("files") if f and f.filename]
    text = request.form.get("text", "")
    try:
        S.submit_correction(c, text, files)
    except ServiceError as e:
        return render_template("public/status.html", agency=agency, v=S.public_view(c, today()),
                               max_files=S.MAX_REPLY_FILES, typed=text, correction_error=e.message), 400
    flash("补正材料已提交。工作人员登记收到后，答复期限自收到补正之日起重新计算。", "success")
    return redirect(url_for("status.case", code=code, case_id=case_id))


@bp.route("/<code>/query/end", methods=["POST"])
def end(code: str):
    session.pop(SESSION_KEY, None)
    flash("已退出查询。", "info")
    return redirect(url_for("status.lookup", code=code))
