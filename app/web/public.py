"""Public pages of each agency, no login (issue 13): the 政府信息公开指南 and the online application
form. Mobile-first (templates/public/), offline assets, rate-limited (app.extensions.limiter)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import MultipleFileField, StringField

from ..applicant import online as O
from ..applicant.status import public_agency
from ..casefile import uploads
from ..extensions import limiter
from ..services.errors import NotFound, ServiceError
from ..services.time import local, utcnow
from .actions import INTAKE_FIELDS, _wtf
from .forms import choices

bp = Blueprint("public", __name__, url_prefix="/gk")

# The public wording where it differs from the clerk's intake form (same fields, same rules).
_PUBLIC_TEXT = {
    "applicant_name": ("姓名或名称", "法人或其他组织填写全称"),
    "contact_phone": ("联系电话", "必填：工作人员将通过此电话与您确认申请"),
    "contact_email": ("电子邮箱", "选填：登记编号和查询码也将发送至此邮箱"),
    "contact_address": ("通信地址", "需要邮寄答复或信息的，请填写详细地址"),
}
_DONE = "online_done"  # the session's note of the last submission, for the done page


def _field(f):
    label, hint = _PUBLIC_TEXT.get(f.name, (f.label, f.hint))
    return _wtf(replace(f, label=label, hint=hint, required=f.required or f.name == "contact_phone"),
                mark_selects=True)


ApplyForm: type[FlaskForm] = type("ApplyForm", (FlaskForm,), {
    **{f.name: _field(f) for f in INTAKE_FIELDS if f.name in O.ONLINE_FIELDS},
    **{f"{cat}_files": MultipleFileField(label) for cat, label in O.FILE_CATEGORIES.items()},
    # A honeypot: hidden from people by CSS (hp-field), filled in by form-filling bots.
    "website": StringField("请勿填写", render_kw={"autocomplete": "off", "tabindex": "-1"}),
})


def _form(fresh: bool) -> FlaskForm:
    specs = {f.name: f for f in INTAKE_FIELDS}
    form = ApplyForm(data={n: specs[n].initial for n in O.ONLINE_FIELDS if specs[n].initial}) if fresh else ApplyForm()
    for name in O.ONLINE_FIELDS:
        f = specs[name]
        if f.kind == "select":
            form[name].choices = choices(f.choices or {}, None if f.initial else "请选择")
    return form


def _agency(code: str):
    try:
        return public_agency(code)
    except NotFound:
        abort(404)


@bp.route("/")
def index():
    return render_template("public/index.html", agencies=O.online_agencies(), agency=None)


@bp.route("/<code>/")
def guide(code: str):
    agency = _agency(code)
    return render_template("public/guide.html", agency=agency, guide=O.guide(agency),
                           fields=O.GUIDE_FIELDS)


def _uploads() -> list[O.Upload]:
    out = []
    for cat in O.FILE_CATEGORIES:
        for fs in request.files.getlist(f"{cat}_files"):
            if fs and fs.filename:
                # At most the limit and one byte: an oversized file is refused without holding it whole.
                out.append(O.Upload(cat, fs.filename, uploads.read_limited(fs.stream, uploads.max_bytes())))
    return out


@bp.route("/<code>/apply", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PUBLIC_SUBMIT_LIMIT"], methods=["POST"])
def apply(code: str):
    agency = _agency(code)
    if not agency.online_enabled:
        return render_template("public/closed.html", agency=agency), 404
    form = _form(fresh=request.method != "POST")
    error, status = None, 200
    if form.validate_on_submit():
        if (form.website.data or "").strip():
            # A bot: it is told what a person would be told, and nothing is kept.
            now = utcnow()
            return _done(agency, O.new_reference(local(now).date()), now, form)
        files = _uploads()
        raw = {n: form[n].data for n in O.ONLINE_FIELDS}
        try:
            req = O.submit(agency, raw, files, request.remote_addr or "")
        except O.SubmissionRefused as e:
            error, status = e.message, 400
            for name, message in e.errors.items():
                if name in form:
                    form[name].errors = [message]
                else:  # not one field's (too many files): said above the form
                    error += message + "。"
        except ServiceError as e:
            error, status = e.message, e.status
        else:
            return _done(agency, req.reference, req.submitted_at, form)
        if files:
            error += "为安全起见，已选择的文件需要重新选择。"
    elif request.method == "POST":
        error, status = "页面已过期，请重新填写后提交。", 400
    return render_template("public/apply.html", agency=agency, form=form, error=error,
                           file_categories=O.FILE_CATEGORIES, max_files=O.MAX_FILES,
                           max_size=uploads.human_size(uploads.max_bytes())), status


def _done(agency, reference: str, submitted_at: datetime, form: FlaskForm):
    # The signed cookie carries only what the done page shows: the ID number masked.
    session[_DONE] = {"agency": agency.code, "reference": reference, "at": submitted_at.isoformat(),
                      "name": (form.applicant_name.data or "")[:50], "id": O.mask_id_number(form.id_number.data or "")}
    return redirect(url_for("public.done", code=agency.code))


@bp.route("/<code>/apply/done")
def done(code: str):
    agency = _agency(code)
    note = session.get(_DONE)
    if not note or note.get("agency") != agency.code:
        return redirect(url_for("public.apply", code=agency.code))
    return render_template("public/done.html", agency=agency, reference=note["reference"],
                           submitted_at=datetime.fromisoformat(note["at"]), name=note.get("name", ""),
                           id_masked=note.get("id", ""))


@bp.errorhandler(429)
def too_many(e):
    code = (request.view_args or {}).get("code")
    agency = None
    if code:
        try:
            agency = public_agency(code)
        except NotFound:
            pass
    return render_template("public/limited.html", agency=agency), 429
