"""Routes: ledger, dashboard, annual report, import, high-frequency requests, remedy records."""
from __future__ import annotations

import os
from urllib.parse import quote

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..domain.clock import STATUS_LABELS
from ..domain.intake import APPLICANT_TYPES, CHANNELS
from ..domain.outcomes import OUTCOMES
from ..domain.workflow import STATES
from ..extensions import db
from ..models import User
from ..models.remedy import REMEDY_KINDS, REMEDY_RESULTS
from ..services import remedies as remedy_service
from ..services.audit import record_export
from ..services.cases import get_case
from ..services.errors import ServiceError
from ..services.params import Params
from ..services.time import today as _today
from ..reports import annual, annual_entry, annual_export, dashboard as dash, highfreq, importer, ledger, svg
from ..reports.annual_text import TEXT_MAX, TEXT_SECTIONS
from ..reports import ledger_export as ledger_export_service
from .report_access import (IMPORT_ROLES, READ_ROLES, REMEDY_WRITE_ROLES, register_error_handlers, require_role,
                            roles_required)

bp = Blueprint("reports", __name__)
register_error_handlers(bp)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _disposition(filename: str, ascii_name: str) -> str:
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def _args() -> dict:
    return request.args.to_dict(flat=True)


def _strict(allowed: set[str]) -> dict:
    raw = _args()
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ServiceError(f"不支持的参数：{'、'.join(unknown)}", unknown[0])
    return raw


def _handlers() -> list[User]:
    users = db.session.scalars(db.select(User).where(User.agency_id == current_user.agency_id).order_by(User.id))
    return [u for u in users if u.has_role("handler")]


# ---------------------------------------------------------------- ledger

@bp.route("/ledger")
@roles_required(*READ_ROLES)
def ledger_view():
    options = {"states": STATES, "state_groups": ledger.STATE_GROUPS, "channels": CHANNELS,
               "applicant_types": APPLICANT_TYPES, "outcomes": OUTCOMES, "clock_filters": ledger.CLOCK_FILTERS,
               "sorts": ledger.SORTS, "directions": ledger.DIRECTIONS, "handlers": _handlers()}
    raw = _args()
    try:
        f = ledger.parse_filters(current_user.agency_id, raw)
        rows, total, capped = ledger.page(f)
    except ServiceError as e:
        return render_template("reports/ledger.html", error=e.message, raw=raw, f=None, rows=[], total=0,
                               capped=False, **options), e.status
    pages = max(1, -(-total // f.per_page))
    has_next = f.page < pages or (capped and len(rows) == f.per_page)
    return render_template("reports/ledger.html", error=None, raw=raw, f=f, rows=rows, total=total, pages=pages,
                           capped=capped, has_next=has_next, **options)


@bp.route("/ledger/export.xlsx")
@roles_required(*READ_ROLES)
def ledger_export():
    """A small export downloads at once; a larger one asks for a confirmation (a POST) before it
    becomes a background job: a link must not start work by itself."""
    raw = {k: v for k, v in _args().items() if k not in ("page", "per_page")}
    f, n = ledger_export_service.check(current_user, raw)
    if not ledger_export_service.is_direct(n):
        return render_template("reports/export_confirm.html", rows=n, raw=raw, labels="；".join(f.labels) or "全部",
                               direct=current_app.config["LEDGER_EXPORT_DIRECT_ROWS"])
    return _export(raw)


@bp.route("/ledger/export", methods=["POST"])
@roles_required(*READ_ROLES)
def ledger_export_start():
    raw = {k: v for k, v in request.form.items() if k != "csrf_token"}
    return _export(raw)


def _export(raw: dict):
    out = ledger_export_service.export(current_user._get_current_object(), raw)
    if out.job is not None:
        flash(f"共 {out.rows:,} 件，正在后台生成导出文件；完成后在本页下载。", "success")
        return redirect(url_for("jobs.job_page", job_id=out.job.id))
    stamp = _today()
    return Response(ledger.stream_file(out.path), mimetype=XLSX, direct_passthrough=True, headers={
        "Content-Length": str(os.path.getsize(out.path)),
        "Content-Disposition": _disposition(ledger_export_service.filename(stamp),
                                            f"ledger-{stamp.strftime('%Y%m%d')}.xlsx"),
        "Cache-Control": "no-store"})


# ---------------------------------------------------------------- dashboard

@bp.route("/dashboard")
@roles_required(*READ_ROLES)
def dashboard_view():
    _strict(set())
    today = _today()
    s = dash.stats(current_user.agency_id, today)
    month_chart = svg.column_chart(
        [(m["label"], m["count"], url_for(".ledger_view", received_from=m["from"].isoformat(),
                                          received_to=m["to"].isoformat())) for m in s["months"]],
        title="近12个月每月收到申请数")
    outcome_chart = svg.bar_chart(
        [(o["label"], o["count"], url_for(".ledger_view", outcome=o["code"], closed_from=s["window"].isoformat(),
                                          closed_to=today.isoformat()) if o["code"] in {x.code for x in OUTCOMES} else None)
         for o in s["outcomes"]], title="近12个月办结申请的办理结果")
    load_chart = svg.bar_chart(
        [(r["name"], r["open"], url_for(".ledger_view", state="open", handler_id=r["handler_id"] or "none"))
         for r in s["load"]], title="承办人在办案件数", label_width=120)
    return render_template("reports/dashboard.html", s=s, month_chart=month_chart, outcome_chart=outcome_chart,
                           load_chart=load_chart, status_labels=STATUS_LABELS)


# ---------------------------------------------------------------- annual report

def _year(raw: dict) -> int:
    default = annual.due_year(_today())
    return Params(raw).integer("year", "年度", default=default, lo=2000, hi=2100)


@bp.route("/annual-report")
@roles_required(*READ_ROLES)
def annual_report():
    raw = _strict({"year", "start"})
    return _annual_page(_year(raw), start=raw.get("start") == "1")


def _annual_page(year: int, status: int = 200, *, form: dict | None = None, texts: dict | None = None,
                 errors: dict | None = None, error: str | None = None, start: bool = False):
    """The report page; after a refused form, with what was typed (form, texts) and the messages."""
    today = _today()
    doc = annual_entry.document(current_user.agency_id, year, today)
    rep = annual_export.report_of(doc)
    entry = annual_entry.get_entry(current_user.agency_id, year)
    may_edit = current_user.has_role(*annual_entry.ENTRY_ROLES) and not doc["submitted"]
    return render_template(
        "reports/annual_report.html", rep=rep, doc=doc, years=annual.data_years(current_user.agency_id),
        agency=current_user.agency, cell_key=annual.cell_key, today=today, start=start,
        form=form if form is not None else annual_entry.form_values(entry),
        texts=texts if texts is not None else doc["texts"], errors=errors or {}, error=error,
        may_edit=may_edit, may_submit=current_user.has_role(*annual_entry.SUBMIT_ROLES),
        may_reopen=current_user.has_role(*annual_entry.REOPEN_ROLES), text_sections=TEXT_SECTIONS,
        text_digest=annual_entry.text_digest,
        text_max=TEXT_MAX, **annual_export.template_context()), status


def _posted_year() -> int:
    return Params(request.form).integer("year", "年度", required=True, lo=2000, hi=2100)


def _back(year: int):
    return redirect(url_for(".annual_report", year=year))


@bp.route("/annual-report/entry", methods=["POST"])
@roles_required(*annual_entry.ENTRY_ROLES)
def annual_save():
    """Table 二 and the written sections; a refused form comes back as typed."""
    year = _posted_year()
    typed = request.form.to_dict()
    try:
        annual_entry.save(current_user, year, typed)
    except ServiceError as e:
        if e.status not in (400, 409):
            raise
        texts = {k: typed.get(f"text_{k}", "") for k in TEXT_SECTIONS}
        return _annual_page(year, e.status, form=typed, texts=texts, error=e.message,
                            errors=getattr(e, "errors", None), start=True)
    flash(f"已保存{year}年度报告", "success")
    return _back(year)


@bp.route("/annual-report/import", methods=["POST"])
@roles_required(*annual_entry.ENTRY_ROLES)
def annual_import():
    """Table 二 from an .xlsx in the layout of the exported sheet “表二 主动公开”."""
    year = _posted_year()
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise ServiceError("请选择要上传的 .xlsx 文件", "file")
        if not upload.filename.lower().endswith(".xlsx"):
            raise importer.BadFile("只接受 Excel .xlsx 文件（请使用本页导出的 Excel 中的“表二 主动公开”工作表）")
        data = upload.read(annual_entry.IMPORT_MAX_BYTES + 1)
        annual_entry.import_table2(current_user, year, data, request.form.get("version"))
    except ServiceError as e:
        if e.status not in (400, 409, 422):
            raise
        return _annual_page(year, e.status, error=f"导入表二失败：{e.message}", errors=getattr(e, "errors", None),
                            form=getattr(e, "typed", None), start=True)
    flash("已从 Excel 导入表二（主动公开政府信息情况），请核对", "success")
    return _back(year)


@bp.route("/annual-report/copy-in-force", methods=["POST"])
@roles_required(*annual_entry.ENTRY_ROLES)
def annual_copy_in_force():
    year = _posted_year()
    try:
        annual_entry.copy_in_force(current_user, year, request.form.get("version"))
    except ServiceError as e:
        if e.status not in (400, 409):
            raise
        return _annual_page(year, e.status, error=e.message, start=True)
    flash(f"已沿用{year - 1}年度的“现行有效件数”，请核对后保存", "success")
    return _back(year)


@bp.route("/annual-report/submit", methods=["POST"])
@roles_required(*annual_entry.SUBMIT_ROLES)
def annual_submit():
    year = _posted_year()
    try:
        entry = annual_entry.submit(current_user, year, request.form.get("version"))
    except ServiceError as e:
        if e.status not in (400, 409):
            raise
        return _annual_page(year, e.status, error=e.message, start=True)
    late = _today() > annual_entry.deadline(entry.year)
    flash(f"已报送{year}年度报告" + ("（已超过报送期限）" if late else ""), "success")
    return _back(year)


@bp.route("/annual-report/reopen", methods=["POST"])
@roles_required(*annual_entry.REOPEN_ROLES)
def annual_reopen():
    year = _posted_year()
    try:
        annual_entry.reopen(current_user, year, request.form.get("version"), request.form.get("reason"))
    except ServiceError as e:
        if e.status not in (400, 409):
            raise
        return _annual_page(year, e.status, error=e.message, start=True)
    flash(f"已撤回{year}年度报告的报送，可以修改后重新报送", "success")
    return _back(year)


def _document_for_export() -> dict:
    year = _year(_strict({"year"}))
    doc = annual_entry.document(current_user.agency_id, year, _today())
    if not doc["has_data"]:
        raise ServiceError(f"{year}年没有任何政府信息公开申请或复议诉讼数据，无法导出年度报告")
    return doc


@bp.route("/annual-report/export.xlsx")
@roles_required(*READ_ROLES)
def annual_xlsx():
    doc = _document_for_export()
    data = annual_export.report_xlsx(annual_export.report_of(doc), current_user.agency.name, doc["table2"])
    record_export(current_user, "annual_export", {"year": doc["year"], "format": "xlsx"})
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": _disposition(f"{doc['year']}年政府信息公开工作年度报告表格.xlsx",
                                            f"annual-report-{doc['year']}.xlsx")})


@bp.route("/annual-report/export.pdf")
@roles_required(*READ_ROLES)
def annual_pdf():
    doc = _document_for_export()
    data = annual_export.document_pdf(doc)
    record_export(current_user, "annual_export", {"year": doc["year"], "format": "pdf"})
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": _disposition(f"{doc['title']}.pdf", f"annual-report-{doc['year']}.pdf")})


@bp.route("/annual-report/export.docx")
@roles_required(*READ_ROLES)
def annual_docx():
    doc = _document_for_export()
    data = annual_export.document_docx(doc)
    record_export(current_user, "annual_export", {"year": doc["year"], "format": "docx"})
    return Response(data, mimetype=DOCX, headers={
        "Content-Disposition": _disposition(f"{doc['title']}.docx", f"annual-report-{doc['year']}.docx")})


# ---------------------------------------------------------------- import

def _import_page(status: int = 200, **kw):
    kw.setdefault("result", None)
    kw.setdefault("error", None)
    return render_template("reports/import.html", columns=importer.COLUMNS, max_rows=importer.MAX_ROWS,
                           max_mb=importer.MAX_BYTES // 1024 // 1024, on_existing_choices=importer.ON_EXISTING,
                           **kw), status


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*IMPORT_ROLES)
def import_page():
    """Step 1: upload → dry run. The file is kept (staging) only until it is confirmed or expires."""
    if request.method == "GET":
        return _import_page()
    upload = request.files.get("file")
    on_existing = request.form.get("on_existing", "refuse")
    try:
        if upload is None or not upload.filename:
            raise ServiceError("请选择要上传的 .xlsx 文件", "file")
        if not upload.filename.lower().endswith(".xlsx"):
            raise importer.BadFile("只接受 Excel .xlsx 文件（请使用下载的导入模板）")
        data = upload.read(importer.MAX_BYTES + 1)
        result = importer.import_ledger(current_user, data, dry_run=True, on_existing=on_existing)
    except ServiceError as e:
        return _import_page(e.status, error=e.message, on_existing=on_existing)
    if not result.ok:
        return _import_page(400, result=result, on_existing=on_existing)
    token = importer.stage(current_user, data) if result.count("create") or result.count("update") else ""
    return _import_page(result=result, token=token, on_existing=on_existing)


@bp.route("/import/confirm", methods=["POST"])
@roles_required(*IMPORT_ROLES)
def import_confirm():
    """Step 2: hand the previewed file to the worker (validated and planned again there: the ledger
    may have changed)."""
    on_existing = request.form.get("on_existing", "refuse")
    try:
        job = importer.submit(current_user._get_current_object(), request.form.get("token", ""), on_existing)
    except ServiceError as e:
        return _import_page(e.status, error=e.message, on_existing=on_existing)
    # The worker checks the file again and writes every row in one transaction: its page shows how far.
    flash(f"已确认导入 {job.params['rows']:,} 行：后台正在校验并写入，全部成功才导入（任何一行有误则一件不导入）。", "success")
    return redirect(url_for("jobs.job_page", job_id=job.id))


TRIAGE_VIEW_ROLES = ("clerk", "head", "admin")


def _triage_page(status: int = 200, error: str | None = None, error_case: int | None = None,
                 typed: dict | None = None):
    from ..services.cases import TRIAGE_DECISIONS, TRIAGE_ROLES, triage_queue
    from ..services.views import agency_handlers
    per = 50
    page = max(1, request.args.get("page", 1, type=int) or 1)
    rows, total = triage_queue(current_user, limit=per, offset=(page - 1) * per)
    return render_template("reports/triage.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // per)), decisions=TRIAGE_DECISIONS, outcomes=OUTCOMES,
                           handlers=agency_handlers(current_user), may_triage=current_user.has_role(*TRIAGE_ROLES),
                           error=error, error_case=error_case, typed=typed or {}, today=_today()), status


@bp.route("/import/triage")
@roles_required(*TRIAGE_VIEW_ROLES)
def triage_list():
    return _triage_page()


@bp.route("/cases/<int:case_id>/triage", methods=["POST"])
@roles_required("clerk", "head")
def triage(case_id: int):
    from ..services.cases import TRIAGE_DECISIONS, triage_imported
    typed = request.form.to_dict()
    try:
        case = triage_imported(current_user, case_id, typed)
    except ServiceError as e:
        if e.status != 400:
            raise
        return _triage_page(400, e.message, case_id, typed)
    flash(f"已分拣：{case.number} {TRIAGE_DECISIONS[typed['decision']]}（{case.state_label}）", "success")
    return redirect(url_for(".triage_list"))


@bp.route("/import/template.xlsx")
@roles_required(*IMPORT_ROLES)
def import_template():
    return Response(importer.template_xlsx(current_user), mimetype=XLSX, headers={
        "Content-Disposition": _disposition("政府信息公开申请台账导入模板.xlsx", "ledger-import-template.xlsx")})


# ---------------------------------------------------------------- high-frequency requests

@bp.route("/high-frequency")
@roles_required(*READ_ROLES)
def high_frequency():
    p = Params(_strict({"year", "min"}))
    year = p.integer("year", "年度", default=_today().year, lo=2000, hi=2100)
    min_count = p.integer("min", "最少申请次数", default=3, lo=2, hi=50)
    result = highfreq.analyse(current_user.agency_id, year, min_count)
    return render_template("reports/high_frequency.html", r=result, years=annual.data_years(current_user.agency_id),
                           max_ids=ledger.MAX_IDS)


# ---------------------------------------------------------------- remedies of a case

def _remedies_page(case_id: int, error: str | None = None, form: dict | None = None, status: int = 200,
                   error_remedy: int | None = None):
    case = get_case(case_id, current_user)
    return render_template("reports/remedies.html", case=case, remedies=list(case.remedies), kinds=REMEDY_KINDS,
                           results=REMEDY_RESULTS, error=error, form=form or {}, error_remedy=error_remedy,
                           may_write=current_user.has_role(*REMEDY_WRITE_ROLES),
                           today=_today()), status


@bp.route("/cases/<int:case_id>/remedies", methods=["GET", "POST"])
@roles_required(*READ_ROLES)
def remedies(case_id: int):
    if request.method == "GET":
        return _remedies_page(case_id)
    require_role(*REMEDY_WRITE_ROLES)
    try:
        remedy_service.add_remedy(current_user, case_id, request.form.to_dict())
    except ServiceError as e:
        if e.status != 400:
            raise
        return _remedies_page(case_id, e.message, request.form.to_dict(), 400)
    flash("已登记复议诉讼情况", "success")
    return redirect(url_for(".remedies", case_id=case_id))


@bp.route("/cases/<int:case_id>/remedies/<int:remedy_id>", methods=["POST"])
@roles_required(*READ_ROLES)
def remedy_update(case_id: int, remedy_id: int):
    require_role(*REMEDY_WRITE_ROLES)
    try:
        remedy_service.update_remedy(current_user, case_id, remedy_id, request.form.to_dict())
    except ServiceError as e:
        if e.status != 400:
            raise
        return _remedies_page(case_id, e.message, None, 400, error_remedy=remedy_id)
    flash("已更新复议诉讼结果", "success")
    return redirect(url_for(".remedies", case_id=case_id))
