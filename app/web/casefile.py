"""Pages for attachments, archiving and printing case files."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from ..models.attachment import ATTACHMENT_CATEGORIES
from ..services.audit import record_export
from ..services.cases import RETENTIONS, get_case
from ..reports import ledger
from ..services.errors import Conflict, NotFound, ServiceError
from ..services.time import today
from ..services.views import agency_users
from ..casefile import attachments as A
from ..casefile import jobs as J
from ..casefile.assemble import build_casefile, casefile_filename
from ..services.checklist import archive_blockers, checklist, ready_cases
from ..casefile.documents import ORDERS, order_setting
from ..casefile.uploads import human_size, max_bytes
from .decorators import roles_required
from .jobs import job_json, job_or_404, job_page_response, resubmit_response, send_result

bp = Blueprint("casefile", __name__)

PRINT_ROLES = J.PRINT_ROLES


# Logged in and one of the roles (none: any role); the agency is checked per object.
roles = roles_required


def _case_or_404(case_id: int):
    try:
        return get_case(case_id, current_user)
    except NotFound:
        abort(404)


def _download_name(name: str) -> dict:
    # RFC 6266/5987: an ASCII fallback plus the UTF-8 name.
    ascii_name = name.encode("ascii", "ignore").decode() or "file"
    return {"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"}


@bp.app_context_processor
def _globals():
    return {"case_url": lambda case_id: f"/cases/{case_id}",
            "archive_action_url": lambda case_id: f"/cases/{case_id}/action/archive"}


# ---------------------------------------------------------------- attachments

@bp.route("/cases/<int:case_id>/attachments", methods=["GET", "POST"])
@roles()
def attachments(case_id: int):
    case = _case_or_404(case_id)
    error, status = None, 200
    form = {"category": "", "title": ""}
    if request.method == "POST":
        if not A.can_upload(current_user):
            abort(403)
        form = {"category": request.form.get("category", ""), "title": request.form.get("title", "")}
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise ServiceError("请选择要上传的扫描件（PDF、JPEG 或 PNG）", "file")
            data = A.uploads.read_limited(upload.stream, max_bytes())
            att = A.add_attachment(case.id, current_user, data, upload.filename, form["category"], form["title"])
        except ServiceError as e:
            error, status = e, e.status
        else:
            flash(f"已上传附件：{att.title}（{att.pages} 页）", "success")
            return redirect(url_for("casefile.attachments", case_id=case.id))
    return render_template("casefile/attachments.html", case=case, categories=ATTACHMENT_CATEGORIES,
                           ocr=A.ocr.status_labels(case.attachments),
                           can_upload=A.can_upload(current_user) and case.state != "archived",
                           archived_message=A.ARCHIVED_MESSAGE, error=error, form=form,
                           limit=human_size(max_bytes())), status


@bp.route("/attachments/<int:attachment_id>")
@roles()
def download(attachment_id: int):
    try:
        att = A.get_attachment(attachment_id, current_user)
        data = A.read_attachment(att, current_user._get_current_object())
    except NotFound:
        abort(404)
    resp = Response(data, mimetype=att.content_type, headers=_download_name(att.filename))
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


# ---------------------------------------------------------------- archiving

@bp.route("/archive")
@roles(*PRINT_ROLES)
def archive_list():
    rows = [(c, checklist(c), archive_blockers(c)) for c in ready_cases(current_user)]
    return render_template("casefile/archive.html", rows=rows, can_archive=current_user.has_role("archivist"))


@bp.route("/archive/<int:case_id>")
@roles(*PRINT_ROLES)
def archive_case(case_id: int):
    case = _case_or_404(case_id)
    return render_template("casefile/checklist.html", case=case, checks=checklist(case),
                           blockers=archive_blockers(case), can_archive=current_user.has_role("archivist"),
                           retentions=RETENTIONS, orders=ORDERS)


# ---------------------------------------------------------------- case file PDF

@bp.route("/cases/<int:case_id>/casefile.pdf")
@roles(*PRINT_ROLES)
def casefile_pdf(case_id: int):
    case = _case_or_404(case_id)
    order = request.args.get("order")
    if order and order not in ORDERS:
        abort(400)
    cf = build_casefile(case, current_user, order=order_setting(order))
    record_export(current_user, "casefile_print", {"case": case.number, "format": "pdf"})
    resp = Response(cf.pdf, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = (
        f"inline; filename=\"casefile-{case.id}.pdf\"; filename*=UTF-8''{quote(casefile_filename(case))}")
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


# ---------------------------------------------------------------- batches

# Chosen by 登记编号 (typed) or by filters (the ledger's conditions, plus the scope and whether the
# case has its 档号); the preview shows which cases a batch would print before it is started.
BATCH_FILTERS = ("year", "closed_from", "closed_to", "scope", "numbered", "handler_id")


@dataclass
class Selection:
    cases: list  # (id, 登记编号)
    labels: list[str]  # the conditions, in words
    by_numbers: bool
    period: str = ""  # the year or range, for "没有符合条件的案件"

    def none_message(self) -> str:
        return f"{self.period}没有符合条件的案件（{'；'.join(self.labels)}）"

    @property
    def ids(self) -> list[int]:
        return [i for i, _ in self.cases]

    @property
    def key(self) -> str:
        """What the preview showed, to tell at the start whether the matching cases have changed since."""
        return hashlib.sha256(",".join(map(str, self.ids)).encode()).hexdigest()[:16]


def _selection(form) -> Selection:
    ids = J.ids_for_numbers(current_user, form.get("case_ids", ""))
    if ids:
        return Selection(J.numbers_for_ids(current_user, ids), [f"指定的 {len(ids)} 件案件"], True)
    year_raw = (form.get("year") or "").strip()
    raw = {k: (form.get(k) or "").strip() for k in ("closed_from", "closed_to", "handler_id")}
    if year_raw:
        if raw["closed_from"] or raw["closed_to"]:
            raise ServiceError("结案年度和办结日期范围请只填一项", "year")
        if not year_raw.isdigit() or not 2000 <= int(year_raw) <= 2100:
            raise ServiceError("结案年度须为2000至2100之间的年份（例如 2026）", "year")
        raw.update(closed_from=f"{year_raw}-01-01", closed_to=f"{year_raw}-12-31")
    elif not (raw["closed_from"] or raw["closed_to"]):
        raise ServiceError("请填写年度（结案年度，例如 2026）或办结日期范围，或填写登记编号", "year")
    f = ledger.parse_filters(current_user.agency_id, {k: v for k, v in raw.items() if v}, paging=False)
    scope, numbered = form.get("scope") or "ready", form.get("numbered") or ""
    cases = J.cases_matching(current_user, f.where(), scope, numbered)
    labels = ([f"结案年度：{year_raw}年"] if year_raw else [x for x in f.labels if x.startswith("办结日期")]) \
        + [f"案件范围：{J.SCOPES[scope]}"] + ([f"档号：{J.NUMBERED[numbered]}"] if numbered else []) \
        + [x for x in f.labels if x.startswith("承办人")]
    return Selection(cases, labels, False, f"{year_raw}年" if year_raw else "所选办结日期范围内")


def _batch_page(error=None, typed=None, preview: Selection | None = None, status: int = 200):
    handlers = [u for u in agency_users(current_user) if u.has_role("handler")]
    return render_template("casefile/batch.html", jobs=J.recent_jobs(current_user), scopes=J.SCOPES,
                           formats=J.FORMATS, orders=ORDERS, numbered=J.NUMBERED, handlers=handlers,
                           year=today().year, status_labels=J.STATUS_LABELS, error=error, typed=typed or {},
                           preview=preview, shown=J.PREVIEW_SHOWN, max_cases=J.MAX_CASES), status


@bp.route("/casefiles")
@roles(*PRINT_ROLES)
def batches():
    return _batch_page()


@bp.route("/casefiles/preview", methods=["POST"])
@roles(*PRINT_ROLES)
def batch_preview():
    """The cases a batch would print (count and 登记编号), nothing started."""
    try:
        sel = _selection(request.form)
    except ServiceError as e:
        return _batch_page(error=e, typed=request.form, status=e.status)
    return _batch_page(typed=request.form, preview=sel)


@bp.route("/casefiles/batch", methods=["POST"])
@roles(*PRINT_ROLES)
def batch_create():
    sel = None
    try:
        sel = _selection(request.form)
        if not sel.cases:
            raise ServiceError(sel.none_message(), "year")
        seen = request.form.get("preview_key")
        if seen and seen != sel.key:
            raise Conflict("符合条件的案件在预览后有变化（例如有案件已归档），请核对下面的新名单后再开始生成")
        order = request.form.get("order") or None
        if order and order not in ORDERS:
            raise ServiceError("排列顺序无效", "order")
        job = J.create_job(current_user, sel.ids, request.form.get("format", "zip"), order)
    except ServiceError as e:
        if request.accept_mimetypes.best == "application/json":
            return jsonify({"error": {"message": e.message, "field": e.field}}), e.status
        return _batch_page(error=e, typed=request.form, preview=sel if isinstance(e, Conflict) else None,
                           status=e.status)
    return redirect(url_for("casefile.job_page", job_id=job.id))


def _job_or_404(job_id: int):
    return job_or_404(job_id, J.KIND)


@bp.route("/casefiles/jobs/<int:job_id>")
@roles(*PRINT_ROLES)
def job_page(job_id: int):
    return job_page_response(_job_or_404(job_id), back=(url_for("casefile.batches"), "批量打印案卷"),
                             resubmit_endpoint="casefile.job_resubmit")


@bp.route("/casefiles/jobs/<int:job_id>/resubmit", methods=["POST"])
@roles(*PRINT_ROLES)
def job_resubmit(job_id: int):
    return resubmit_response(_job_or_404(job_id))


@bp.route("/casefiles/jobs/<int:job_id>.json")
@roles(*PRINT_ROLES)
def job_status(job_id: int):
    return jsonify(job_json(_job_or_404(job_id)))


@bp.route("/casefiles/jobs/<int:job_id>/result")
@roles(*PRINT_ROLES)
def job_result(job_id: int):
    return send_result(_job_or_404(job_id))
