"""Work queue, intake, case page and the workflow action forms."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from ..domain.workflow import ACTIONS, AGENCY_ROLES, STATES, allowed, available_actions
from ..services import cases as S
from ..services import digest, worklist
from ..services.clocks import case_clock
from ..services.errors import Conflict, NotFound, ServiceError
from ..services.operations import REGISTRATION
from ..services.time import today
from ..services.views import agency_handlers, correction_notice_due
from .actions import (GENERATE, INTROS, SHOW_IF, SHOWS_DRAFT, apply_form_op, archive_suggestions, build_form,
                      build_intake_form, draft_form_view, fields_for, form_values, intake_values, is_form_op,
                      unavailable_reason)
from .decorators import me, roles_required
from .forms import put_error
from .review import REVIEW_STEPS, review_view

bp = Blueprint("cases", __name__)


def load_case(case_id: int):
    try:
        return S.get_case(case_id, me())
    except NotFound:
        abort(404)


def due_text(case) -> str:
    if not case.reply_due:
        return "暂无（计时暂停或停止）"
    return case.reply_due.isoformat() + ("（暂定）" if case.due_provisional else "")


# ---------------------------------------------------------------- queue and search

@bp.route("/")
@roles_required()
def queue():
    if not current_user.has_role(*AGENCY_ROLES):
        if current_user.has_role("supervisor"):
            return redirect(url_for("supervision.overview"))  # the supervising office has no case queue
        return redirect(url_for("admin.calendar"))  # the system administrator works on national data only
    per = 50  # a screenful; the rest are further down the queue by due date
    page = max(1, request.args.get("page", 1, type=int) or 1)
    rows = S.work_queue(me(), limit=per, offset=(page - 1) * per)
    total = S.work_queue_count(me())
    # Clerk and head are told about imported history waiting for them in the triage list.
    triage = S.triage_count(me()) if current_user.has_role(*S.TRIAGE_ROLES) else 0
    # 今日提醒: the morning digest (GET /api/v1/digest shows the same), on the first page only.
    reminders = digest.today_for(me()) if page == 1 and current_user.has_role(*digest.DIGEST_ROLES) else None
    # Each role's own work first (待审核, 待签发, 延期申请 …), on the first page.
    sections = worklist.my_work(me()) if page == 1 else []
    return render_template("cases/queue.html", rows=rows, today=today(), page=page, total=total,
                           pages=max(1, -(-total // per)), triage=triage, reminders=reminders,
                           panel_items=digest.PANEL_ITEMS, sections=sections)


@bp.route("/cases")
@roles_required(*AGENCY_ROLES)
def search():
    raw = {k: v for k, v in request.args.items() if k in ("q", "state", "page") and v.strip()}
    error = None
    try:
        cases, total = S.list_cases(me(), raw)
    except ServiceError as e:
        cases, total, error = [], 0, e.message
    page = int(raw.get("page", 1)) if str(raw.get("page", "1")).isdigit() else 1
    from ..services.transfer import sent_matching
    return render_template("cases/search.html", cases=cases, total=total, error=error, args=raw,
                           page=page, per_page=50, transferred=sent_matching(me(), raw.get("q", "")))


# ---------------------------------------------------------------- intake

@bp.route("/cases/new", methods=["GET", "POST"])
@roles_required(*REGISTRATION.roles)
def intake():
    form = build_intake_form(me(), today(), fresh=request.method != "POST")
    error = None
    if form.validate_on_submit():
        try:
            case = REGISTRATION.effect(me(), intake_values(form))
        except ServiceError as e:
            error = put_error(form, e, S.INTAKE_FIELDS) or "登记未成功，请检查标出的内容。"
            return render_template("cases/intake.html", form=form, error=error, show_if=SHOW_IF), e.status
        flash(f"已登记，案号 {case.number}，答复期限 {due_text(case)}", "success")
        return redirect(url_for("cases.detail", case_id=case.id))
    return render_template("cases/intake.html", form=form, error=error, show_if=SHOW_IF)


@bp.route("/cases/intake-hints", methods=["POST"])
@roles_required(*REGISTRATION.roles)
def intake_hints():
    # POST (with the form's CSRF token): a long description does not fit in a URL.
    a = request.form
    hints = S.intake_hints(me(), a.get("applicant_name", ""), a.get("id_number", ""),
                           a.get("description", ""), a.get("doc_number", ""),
                           exclude_id=a.get("exclude_id", type=int), phone=a.get("contact_phone", ""))
    for group in ("month_cases", "possible_repeats"):
        for row in hints[group]:
            row["url"] = url_for("cases.detail", case_id=row["id"])
    return jsonify(hints)


@bp.route("/cases/<int:case_id>/hints", methods=["POST"])
@roles_required("clerk", "handler", "head")
def refresh_hints(case_id: int):
    load_case(case_id)
    S.refresh_case_hints(me(), case_id)
    flash("已重新计算本月申请及可能重复的申请", "success")
    return redirect(url_for("cases.detail", case_id=case_id) + "#hints")


# ---------------------------------------------------------------- case page

@bp.route("/cases/<int:case_id>")
@roles_required(*AGENCY_ROLES)
def detail(case_id: int):
    case = load_case(case_id)
    clock = case_clock(case)
    actions = [] if case.needs_triage else [  # untriaged history: triage first (services.cases.perform)
        (a, unavailable_reason(a.name, case, current_user.id))
        for a in available_actions(case.state, current_user.roles)]
    correction_due = None
    if case.state in ("registered", "handling") and not case.steps_of("correction"):
        correction_due = correction_notice_due(case)
    hints = case.hints  # stored at intake (or on demand); never recomputed on a page view
    from ..services.letters import notice_status
    from ..services.letters import notices as case_notices
    notices = [notice_status(case, n) for n in case_notices(case)]
    return render_template("cases/detail.html", case=case, clock=clock, actions=actions,
                           correction_due=correction_due, hints=hints, today=today(), notices=notices)


# ---------------------------------------------------------------- actions

@bp.route("/cases/<int:case_id>/action/<name>", methods=["GET", "POST"])
@roles_required(*AGENCY_ROLES)
def action(case_id: int, name: str):
    if name not in ACTIONS:
        abort(404)
    act = ACTIONS[name]
    case = load_case(case_id)
    if not current_user.has_role(*act.roles):
        abort(403)
    error = notice = None
    status = 200
    if request.method == "GET":
        if not allowed(name, case.state, current_user.roles):
            flash(f"案件当前状态为“{STATES[case.state]}”，不能{act.label}", "warning")
            return redirect(url_for("cases.detail", case_id=case.id))
        form = build_form(name, case, me(), today(), fresh=True)
    elif is_form_op(request.form):
        # Add, remove or move a row, or show the fields of another outcome: the form again, nothing saved.
        form = build_form(name, case, me(), today(), fresh=False, formdata=apply_form_op(name, request.form, case))
        if request.form.get("form_op") == GENERATE:
            notice = "已按删除处理标注填入“不予公开的部分”和附件清单，请核对、修改措辞后保存。"
    else:
        form = build_form(name, case, me(), today(), fresh=False)
        if form.validate_on_submit():
            try:
                expected = int(form.version.data or "")
            except ValueError:
                expected = -1  # a form without its version cannot prove it saw the current case
            try:
                case = S.perform(case.id, me(), name, form_values(name, form), expected_version=expected)
            except Conflict as e:
                case = load_case(case_id)
                error, status = e.message, e.status
                # Keep what was typed; the page now shows the case as it is, so the user can
                # check it and submit again deliberately.
                form.version.data = str(case.version)
                notice = "页面已显示案件的最新情况。如仍需办理，请核对后再次提交。"
            except ServiceError as e:
                error = put_error(form, e, {f.name for f in fields_for(name)})
                if error is None:
                    error = "提交未成功，请检查标出的内容。"
                status = e.status
            else:
                if case.agency_id != me().agency_id:
                    # 分办: the case is now the answering agency's; the sender keeps the transfer record.
                    from ..services.transfer import last_sent
                    t = last_sent(me(), case.id)
                    flash(f"已分办至{t.to_agency.name}，并已出具《分办告知书》（{t.letter.number_text}）", "success")
                    return redirect(url_for("transfers.record", transfer_id=t.id))
                flash(f"已办理：{act.label}。案件状态：{case.state_label}；答复期限：{due_text(case)}", "success")
                return redirect(url_for("cases.detail", case_id=case.id))
        else:
            status = 400
            error = "提交未成功，请检查标出的内容。"
    review = review_view(case) if name in REVIEW_STEPS else {}
    return render_template("cases/action.html", case=case, action=act, form=form, fields=fields_for(name),
                           error=error, notice=notice, intro=INTROS.get(name), review=review,
                           show_draft=name in SHOWS_DRAFT, clock=case_clock(case),
                           archive_suggestions=archive_suggestions(case) if name == "archive" else None,
                           **draft_form_view(name, form, case)), status
