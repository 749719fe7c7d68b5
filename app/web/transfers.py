"""The sending agency's read-only view of the requests it transferred (分办, issue 16 item 1): the
transfer record and the 分办告知书 it issued, never the rest of the case (which now belongs to the
answering agency; its own pages answer 404 here)."""
from __future__ import annotations

from flask import Blueprint, render_template

from ..domain.workflow import AGENCY_ROLES
from ..services import integrity, transfer as T
from .decorators import me, roles_required
from .letters import pdf_response

bp = Blueprint("transfers", __name__, url_prefix="/transfers")


@bp.route("")
@roles_required(*AGENCY_ROLES)
def sent():
    return render_template("transfers/sent.html", rows=T.sent(me()))


@bp.route("/<int:transfer_id>")
@roles_required(*AGENCY_ROLES)
def record(transfer_id: int):
    return render_template("transfers/record.html", t=T.sent_record(me(), transfer_id))


@bp.route("/<int:transfer_id>/letter.pdf")
@roles_required(*AGENCY_ROLES)
def letter(transfer_id: int):
    row = T.sent_letter(me(), transfer_id)
    return pdf_response(integrity.letter_pdf(row, me()), "-".join(filter(None, (row.number, row.title))) + ".pdf")
