"""Routes of the supervising office (公开主管部门, issue 16 item 4): the supervised agencies' clock
counts, the case numbers behind them, the area's annual report. Read-only; no page here links to a
case, and an agency the user's agency does not supervise does not exist (404)."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, render_template, request

from ..reports import annual, annual_export, supervision as SV
from ..services.audit import record_export
from ..services.errors import ServiceError
from ..services.params import Params
from ..services.time import today as _today
from .decorators import me, roles_required

bp = Blueprint("supervision", __name__, url_prefix="/supervision")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _params(allowed: set[str]) -> Params:
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        raise ServiceError(f"不支持的参数：{'、'.join(unknown)}", unknown[0])
    return Params(request.args.to_dict(flat=True))


def _year(p: Params) -> int:
    return p.integer("year", "年度", default=SV.report_year(_today()), lo=2000, hi=2100)


@bp.route("")
@roles_required(SV.SUPERVISOR_ROLE)
def overview():
    _params(set())
    today = _today()
    rows, year = SV.overview(me(), today)
    totals = {m: sum(getattr(r, m) for r in rows) for m in SV.MEASURES}
    return render_template("supervision/overview.html", rows=rows, year=year, totals=totals, today=today,
                           measures=SV.MEASURES, deadline=SV.report_deadline(year))


@bp.route("/agencies/<int:agency_id>/cases")
@roles_required(SV.SUPERVISOR_ROLE)
def cases(agency_id: int):
    p = _params({"status", "page"})
    status = p.choice("status", "案件类别", SV.MEASURES)
    page = p.integer("page", "页码", default=1, lo=1, hi=100000)
    today = _today()
    agency, rows, total = SV.agency_cases(me(), agency_id, status, today, page)
    return render_template("supervision/cases.html", agency=agency, rows=rows, total=total, status=status,
                           measures=SV.MEASURES, page=page, pages=max(1, -(-total // SV.PER_PAGE)), today=today)


@bp.route("/annual-report")
@roles_required(SV.SUPERVISOR_ROLE)
def annual_report():
    year = _year(_params({"year"}))
    today = _today()
    area, parts = SV.area_report(me(), year, today)
    return render_template("supervision/annual_report.html", rep=area, parts=parts,
                           years=SV.report_years(me(), today, year),
                           deadline=SV.report_deadline(year), cell_key=annual.cell_key,
                           **annual_export.template_context())


@bp.route("/annual-report/export.xlsx")
@roles_required(SV.SUPERVISOR_ROLE)
def annual_xlsx():
    year = _year(_params({"year"}))
    actor = me()
    area, parts = SV.area_report(actor, year, _today())
    if not area.has_data:
        raise ServiceError(f"所辖机关{year}年没有任何政府信息公开申请或复议诉讼数据，无法导出汇总表")
    data = annual_export.report_xlsx(area, f"{actor.agency.name}所辖{len(parts)}个机关汇总")
    record_export(actor, "annual_export", {"year": year, "format": "xlsx", "area": [p.agency.code for p in parts]})
    name = f"{year}年所辖机关政府信息公开工作年度报告汇总表.xlsx"
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"area-annual-report-{year}.xlsx\"; "
                               f"filename*=UTF-8''{quote(name)}"})


@bp.route("/agencies/<int:agency_id>/annual-report")
@roles_required(SV.SUPERVISOR_ROLE)
def agency_report(agency_id: int):
    year = _year(_params({"year"}))
    agency, rep, state = SV.agency_report(me(), agency_id, year, _today())
    return render_template("supervision/agency_report.html", agency=agency, rep=rep, state=state,
                           deadline=SV.report_deadline(year), **annual_export.template_context())

