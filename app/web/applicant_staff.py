"""Staff side of the status lookup: a query code for a case (told to the applicant once), and the
correction answers applicants sent online, recorded as received without retyping."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, request, url_for

from ..applicant import status as S
from ..domain.workflow import ACTIONS
from ..services.errors import Forbidden, NotFound, ServiceError
from .decorators import me, roles_required

bp = Blueprint("applicant_staff", __name__)


@bp.app_template_global()
def online_replies(case) -> list[dict]:
    """The case's correction answers sent online, with their files, for the case page."""
    rows = []
    for r in S.replies_of(case):
        files = [a for a in case.attachments if a.id in set(r.attachment_ids)]
        rows.append({"reply": r, "files": files, "submitted_on": S.submitted_on(r.submitted_at)})
    return rows


@bp.route("/cases/<int:case_id>/query-code", methods=["POST"])
@roles_required(*S.QUERY_CODE_ROLES)
def query_code(case_id: int):
    try:
        code = S.issue_query_code(me(), case_id)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    flash(f"查询码：{S.format_code(code)}（仅显示这一次，请告知申请人；申请人凭登记编号和查询码在本机关公开页面查询办理情况，"
          f"此前的查询码已失效）", "success")
    return redirect(url_for("cases.detail", case_id=case_id) + "#applicant-online")


@bp.route("/cases/<int:case_id>/online-replies/<int:reply_id>/record", methods=["POST"])
@roles_required(*ACTIONS["receive_correction"].roles)
def record_reply(case_id: int, reply_id: int):
    raw = request.form.get("received_on", "")
    try:
        received = date.fromisoformat(raw) if raw else None
    except ValueError:
        flash("收到补正材料日期格式不正确", "error")
        return redirect(url_for("cases.detail", case_id=case_id) + "#applicant-online")
    try:
        reply = S.reply_of_case(me(), case_id, reply_id)
        S.record_correction(me(), reply.id, received, expected_version=request.form.get("version", type=int))
    except NotFound:
        abort(404)
    except ServiceError as e:
        flash(e.message, "error")
        return redirect(url_for("cases.detail", case_id=case_id) + "#applicant-online")
    flash("已登记收到补正材料，答复期限自收到补正之日起重新计算（第三十条）", "success")
    return redirect(url_for("cases.detail", case_id=case_id))
