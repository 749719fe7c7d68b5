"""Administration: the working-day calendar and the agency's users."""
from __future__ import annotations

import os

from flask import Blueprint, Response, abort, flash, make_response, redirect, render_template, request, url_for

from ..domain.workflow import ROLES
from ..reports import security_log as seclog
from ..reports.ledger import stream_file
from .reports import XLSX, _disposition
from ..services import accounts
from ..services import auth as auth_service
from ..services import calendar as cal_service
from ..services import views
from ..services.errors import ServiceError
from ..services.time import today
from .decorators import me, roles_required
from .forms import (CalendarDecisionForm, CalendarForm, CalendarRequestForm, ContactsForm, RolesForm, UserForm,
                    put_error)

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/calendar", methods=["GET", "POST"])
@roles_required("admin", "sysadmin")
def calendar():
    # National data: every administrator sees it, only the system administrator changes it.
    if request.method == "POST" and not me().has_role("sysadmin"):
        abort(403)
    if request.method == "GET" and request.args.get("year", "").isdigit():
        form = CalendarForm(data=views.year_text(int(request.args["year"])) or {"year": request.args["year"]})
    else:
        form = CalendarForm()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            year = int((form.year.data or "").strip())
        except ValueError:
            form.year.errors = ["请填写四位数年份，如 2027"]
            error, status = "保存未成功，请检查标出的内容。", 400
        else:
            try:
                row, pending, job = cal_service.save_year(me(), year, form.holidays.data or "",
                                                          form.makeup.data or "", form.source.data or "")
            except ServiceError as e:
                error = put_error(form, e, ("year", "holidays", "makeup", "source")) or "保存未成功，请检查标出的内容。"
                status = e.status
            else:
                if job is None:
                    flash(f"已保存 {row.year} 年工作日历（第{row.revision}版），没有在办案件的期限涉及该年度", "success")
                    return redirect(url_for("admin.calendar"))
                # The recompute runs in the worker: its page shows the progress.
                flash(f"已保存 {row.year} 年工作日历（第{row.revision}版）。{pending} 件在办案件的答复期限"
                      "正在后台重新计算，每件的变化记入该案件的办理记录", "success")
                return redirect(url_for("jobs.job_page", job_id=job.id))
    return _calendar_page(form=form, error=error), status


def _calendar_page(**kw):
    kw.setdefault("form", CalendarForm(formdata=None))
    kw.setdefault("request_form", CalendarRequestForm(formdata=None))
    rows, missing = views.calendar_overview(today())
    return render_template("admin/calendar.html", rows=rows, missing=missing,
                           requests=cal_service.change_requests(me()), decision_form=CalendarDecisionForm(formdata=None),
                           **kw)


@bp.route("/calendar/requests", methods=["POST"])
@roles_required("admin")
def calendar_request():
    form = CalendarRequestForm()
    error = None
    if form.validate_on_submit():
        try:
            req = cal_service.request_change(me(), form.year.data, form.dates.data, form.note.data)
        except ServiceError as e:
            error = put_error(form, e, ("year", "dates", "note")) or "提交未成功，请检查标出的内容。"
            return _calendar_page(request_form=form, request_error=error), e.status
        flash(f"已提交 {req.year} 年工作日历修改申请，系统管理员处理后可在本页查看结果", "success")
        return redirect(url_for("admin.calendar") + "#calendar-requests")
    return _calendar_page(request_form=form, request_error="提交未成功，请刷新页面后重试。"), 400


@bp.route("/calendar/requests/<int:request_id>/<op>", methods=["POST"])
@roles_required("sysadmin")
def calendar_decide(request_id: int, op: str):
    if op not in ("done", "declined"):
        abort(404)
    form = CalendarDecisionForm()
    if not form.validate_on_submit():
        flash("提交未成功，请刷新页面后重试。", "error")
        return redirect(url_for("admin.calendar") + "#calendar-requests")
    try:
        req = cal_service.decide_request(me(), request_id, op, form.note.data or "")
    except ServiceError as e:
        if e.status == 404:
            abort(404)
        flash(e.message, "error")
    else:
        flash(f"已将 {req.agency.name} 的 {req.year} 年修改申请标记为“{req.status_label}”", "success")
    return redirect(url_for("admin.calendar") + "#calendar-requests")


@bp.route("/users", methods=["GET", "POST"])
@roles_required("admin")
def users():
    form = UserForm()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            u = views.create_user(me(), {"username": form.username.data, "name": form.name.data,
                                                 "password": form.password.data, "roles": form.roles.data})
        except ServiceError as e:
            error = put_error(form, e, ("username", "name", "password", "roles")) or "创建未成功，请检查标出的内容。"
            status = e.status
        else:
            flash(f"已创建用户 {u.username}（{u.name}，{u.role_labels}），首次登录须修改初始密码", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/users.html", form=form, users=views.agency_users(me()),
                           roles=ROLES, error=error, is_locked=auth_service.is_locked,
                           change_reason=accounts.password_change_reason), status


def _user_page(user, form=None, error=None, status=200, otp=None, contacts_form=None, contacts_error=None):
    contacts_form = contacts_form or ContactsForm(formdata=None, data={"email": user.email, "mobile": user.mobile})
    resp = make_response(render_template(
        "admin/user.html", u=user, form=form or RolesForm(data={"roles": sorted(user.roles)}), error=error,
        otp=otp, me_id=me().id, contacts_form=contacts_form, contacts_error=contacts_error, is_locked=auth_service.is_locked,
        change_reason=accounts.password_change_reason(user)), status)
    resp.headers["Cache-Control"] = "no-store"  # a one-time password is shown once
    return resp


def _managed_or_404(user_id: int):
    try:
        return accounts.managed_user(me(), user_id)
    except ServiceError:
        abort(404)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def user(user_id: int):
    """One user: roles, password reset, deactivation."""
    u = _managed_or_404(user_id)
    form = RolesForm()
    if form.validate_on_submit():
        try:
            accounts.set_roles(me(), user_id, form.roles.data)
        except ServiceError as e:
            return _user_page(u, form, put_error(form, e, ("roles",)) or e.message, e.status)
        flash(f"已将 {u.username} 的角色改为：{u.role_labels}", "success")
        return redirect(url_for("admin.user", user_id=user_id))
    return _user_page(u, None if request.method == "GET" else form)


@bp.route("/users/<int:user_id>/contacts", methods=["POST"])
@roles_required("admin")
def user_contacts(user_id: int):
    """Where the user's notifications go (e-mail, mobile)."""
    u = _managed_or_404(user_id)
    form = ContactsForm()
    if not form.validate_on_submit():
        return _user_page(u, contacts_form=form, contacts_error="提交未成功，请刷新页面后重试。", status=400)
    try:
        accounts.set_contacts(me(), user_id, form.email.data, form.mobile.data)
    except ServiceError as e:
        db_error = put_error(form, e, ("email", "mobile")) or "保存未成功，请检查标出的内容。"
        return _user_page(u, contacts_form=form, contacts_error=db_error, status=e.status)
    flash(f"已保存 {u.username} 的联系方式", "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@roles_required("admin")
def reset_password(user_id: int):
    _managed_or_404(user_id)
    try:
        u, otp = accounts.reset_password(me(), user_id)
    except ServiceError as e:
        flash(e.message, "error")
        return redirect(url_for("admin.user", user_id=user_id))
    return _user_page(u, otp=otp)


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@roles_required("admin")
def deactivate_user(user_id: int):
    _managed_or_404(user_id)
    try:
        u = accounts.deactivate(me(), user_id)
    except ServiceError as e:
        flash(e.message, "error")
    else:
        flash(f"已停用账号 {u.username}（{u.name}），其登录和 API 令牌已立即失效", "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@roles_required("admin")
def reactivate_user(user_id: int):
    _managed_or_404(user_id)
    try:
        u = accounts.reactivate(me(), user_id)
    except ServiceError as e:
        flash(e.message, "error")
    else:
        flash(f"已启用账号 {u.username}（{u.name}）", "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@roles_required("admin")
def unlock_user(user_id: int):
    try:
        u = auth_service.unlock(me(), user_id)
    except ServiceError as e:
        if e.status == 404:
            abort(404)
        flash(e.message, "error")
    else:
        flash(f"已解锁账号 {u.username}（{u.name}）", "success")
    return redirect(url_for("admin.users"))


# ---------------------------------------------------------------- security log

def _seclog_options() -> dict:
    return {"categories": seclog.SECURITY_CATEGORIES, "actions": seclog.action_choices()}


@bp.route("/security-log")
@roles_required(*seclog.LOG_ROLES)
def security_log():
    raw = request.args.to_dict(flat=True)
    try:
        f = seclog.parse_filters(me(), raw)
        rows, total = seclog.page(f)
    except ServiceError as e:
        return render_template("admin/security_log.html", error=e.message, raw=raw, f=None, rows=[], total=0,
                               pages=1, **_seclog_options()), e.status
    pages = max(1, -(-total // f.per_page))
    return render_template("admin/security_log.html", error=None, raw=raw, f=f, rows=rows, total=total,
                           pages=pages, verify=seclog.last_verifications(me()), **_seclog_options())


@bp.route("/security-log/export.xlsx")
@roles_required(*seclog.LOG_ROLES)
def security_log_export():
    raw = {k: v for k, v in request.args.to_dict(flat=True).items() if k not in seclog.PAGING_PARAMS}
    try:
        f = seclog.parse_filters(me(), raw, paging=False)
        path, _ = seclog.export(me(), f)
    except ServiceError as e:
        return render_template("admin/security_log.html", error=e.message, raw=raw, f=None, rows=[], total=0,
                               pages=1, **_seclog_options()), e.status
    stamp = today().strftime("%Y%m%d")
    return Response(stream_file(path), mimetype=XLSX, direct_passthrough=True, headers={
        "Content-Length": str(os.path.getsize(path)),
        "Content-Disposition": _disposition(f"安全审计日志_{stamp}.xlsx", f"security-log-{stamp}.xlsx"),
        "Cache-Control": "no-store"})
