"""Staff pages of the applicant's side: 网上申请待确认 (confirm or reject an online request) and
the correction answers sent online, recorded as received without retyping; the administrator's
公开指南 page."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ..applicant import online as O
from ..applicant.status import format_code
from ..services.errors import NotFound, ServiceError
from ..services.time import today
from .casefile import _download_name
from .decorators import me, roles_required
from .display import has_endpoint

bp = Blueprint("online", __name__)

# Confirming registers a case: the clerk's work, as intake is (REGISTRATION.roles).
CLERK = ("clerk",)


@bp.app_context_processor
def _pending():
    def online_pending() -> int:
        if not current_user.is_authenticated or not current_user.has_role(*CLERK):
            return 0
        if "online_pending" not in g:  # the nav and the 工作台 ask in one page: counted once
            g.online_pending = O.pending_count(current_user.agency_id)
        return g.online_pending
    return {"online_pending": online_pending}


def _request(request_id: int):
    try:
        return O.get_request(me(), request_id)
    except NotFound:
        abort(404)


@bp.route("/online")
@roles_required(*CLERK)
def pending():
    return render_template("online/list.html", rows=O.pending(me()), decided=O.recent_decided(me()),
                           submitted_on=O.submitted_on)


@bp.route("/online/<int:request_id>")
@roles_required(*CLERK)
def detail(request_id: int, error: str | None = None, errors: dict | None = None, status: int = 200,
           values: dict | None = None):
    req = _request(request_id)
    values = values or {"confirmed_on": today().isoformat(), "reason": ""}
    return render_template("online/detail.html", req=req, f=req.fields, error=error, errors=errors or {},
                           values=values, submitted_on=O.submitted_on(req), today=today(),
                           file_labels=O.FILE_CATEGORIES, case_link=has_endpoint("cases.detail")), status


@bp.route("/online/<int:request_id>/confirm", methods=["POST"])
@roles_required(*CLERK)
def confirm(request_id: int):
    _request(request_id)
    values = {"confirmed_on": request.form.get("confirmed_on", ""), "reason": ""}
    try:
        case, code = O.confirm(me(), request_id, request.form)
    except ServiceError as e:
        if e.status == 404:
            abort(404)
        return detail(request_id, error=e.message, errors={e.field: e.message} if e.field else {},
                      status=e.status, values=values)
    flash(f"已确认并登记，案号 {case.number}，收到申请之日 {case.received_on.isoformat()}。"
          f"查询码 {format_code(code)}（仅此一次显示，可电话告知申请人；已同时通过短信或电子邮件发送）", "success")
    return redirect(url_for("cases.detail", case_id=case.id))


@bp.route("/online/<int:request_id>/reject", methods=["POST"])
@roles_required(*CLERK)
def reject(request_id: int):
    _request(request_id)
    values = {"confirmed_on": today().isoformat(), "reason": request.form.get("reason", "")}
    try:
        req = O.reject(me(), request_id, request.form)
    except ServiceError as e:
        if e.status == 404:
            abort(404)
        return detail(request_id, error=e.message, errors={e.field: e.message} if e.field else {},
                      status=e.status, values=values)
    flash(f"已退回网上申请 {req.reference}", "success")
    return redirect(url_for("online.pending"))


@bp.route("/online/files/<int:file_id>")
@roles_required(*CLERK)
def download(file_id: int):
    try:
        f, data = O.get_file(me(), file_id)
    except NotFound:
        abort(404)
    resp = Response(data, mimetype=f.content_type, headers=_download_name(f.filename))
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


# ---------------------------------------------------------------- the guide (administrator)

@bp.route("/admin/guide", methods=["GET", "POST"])
@roles_required("admin")
def guide_settings():
    agency = me().agency
    values, enabled, error, errors, status = O.guide(agency), agency.online_enabled, None, {}, 200
    if request.method == "POST":
        values = {k: (request.form.get(k) or "").strip() for k, _, _ in O.GUIDE_FIELDS}
        enabled = bool(request.form.get("online_enabled"))
        try:
            changed = O.save_guide(me(), values, enabled)
        except ServiceError as e:
            error, status = e.message, e.status
            if e.field:
                errors[e.field] = e.message
        else:
            flash("公开指南已保存" + (f"（修改：{'、'.join(changed)}）" if changed else "（未修改）"), "success")
            return redirect(url_for("online.guide_settings"))
    return render_template("online/guide.html", agency=agency, fields=O.GUIDE_FIELDS, values=values,
                           enabled=enabled, error=error, errors=errors), status
