"""消息发件箱: the agency's e-mail and SMS notifications (services.notify), newest first, with 重新发送
for a failed one. Without SMTP_HOST / SMS_GATEWAY_URL (development) this is where they are read."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from ..models.public import MESSAGE_CHANNELS, MESSAGE_STATUSES
from ..services import notify
from ..services.errors import ServiceError
from .decorators import me, roles_required

bp = Blueprint("outbox", __name__)


@bp.app_context_processor
def _globals():
    # The case page's 通知记录 (templates/outbox/_case.html): recipients masked.
    return {"case_messages": notify.case_messages, "mask_recipient": notify.mask}


def _filters() -> dict:
    out = {k: request.args.get(k, "") for k in ("status", "channel")}
    return {k: v for k, v in out.items() if v}


@bp.route("/outbox")
@roles_required(*notify.OUTBOX_ROLES)
def index():
    args = _filters()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    error, status = None, 200
    try:
        rows, total = notify.outbox(me(), args.get("status", ""), args.get("channel", ""), page)
    except ServiceError as e:
        rows, total, error, status = [], 0, e.message, e.status
    return render_template("outbox/index.html", rows=rows, total=total, page=page, args=args, error=error,
                           pages=max(1, -(-total // notify.PER_PAGE)), statuses=MESSAGE_STATUSES,
                           channels=MESSAGE_CHANNELS, events=notify.EVENT_LABELS,
                           max_attempts=notify.MAX_ATTEMPTS), status


@bp.route("/outbox/<int:message_id>/resend", methods=["POST"])
@roles_required(*notify.OUTBOX_ROLES)
def resend(message_id: int):
    if not FlaskForm().validate_on_submit():  # the CSRF token
        flash("提交未成功，请刷新页面后重试。", "error")
        return redirect(url_for("outbox.index"))
    try:
        msg = notify.resend(me(), message_id)
    except ServiceError as e:
        if e.status == 404:
            abort(404)
        flash(e.message, "error")
    else:
        flash(f"已重新排队发送给 {msg.recipient} 的{msg.channel_label}", "success")
    return redirect(url_for("outbox.index", **_filters()))
