"""我的后台任务: every background job of the user (printing, exports, imports...), its page with
progress (refreshed by static/js/jobs.js), its result and 重新提交. Kinds with pages of their own
(batch printing) render the same page through ``job_page_response``."""
from __future__ import annotations

import mimetypes

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, send_file, url_for

from ..services import jobs as background
from ..services.errors import NotFound, ServiceError
from .decorators import me, roles_required

bp = Blueprint("jobs", __name__)


@bp.app_context_processor
def _globals():
    return {"job_status_label": background.status_label}


def job_url(job) -> str:
    """The page of a job: its kind's own page if it has one, else /jobs/<id>."""
    k = background.kind_of(job)
    return url_for(k.page if k and k.page else "jobs.job_page", job_id=job.id)


def result_url(job) -> str:
    k = background.kind_of(job)
    endpoint = k.extra.get("result_endpoint") if k else None
    return url_for(endpoint or "jobs.job_result", job_id=job.id)


def job_or_404(job_id: int, kind: str | None = None):
    try:
        return background.get_job(job_id, me(), kind)
    except NotFound:
        abort(404)


def job_json(job) -> dict:
    out = background.as_dict(job)
    out["url"] = job_url(job)
    out["result_url"] = result_url(job) if out["has_result"] else None
    out["queue_problem"] = background.queue_problem() if job.active else None
    return out


def job_page_response(job, back: tuple[str, str] | None = None, resubmit_endpoint: str = "jobs.job_resubmit"):
    return render_template("jobs/job.html", job=job, info=job_json(job), kind=background.kind_of(job),
                           back=back, resubmit_url=url_for(resubmit_endpoint, job_id=job.id),
                           status_url=url_for("jobs.job_status", job_id=job.id))


def send_result(job):
    try:
        fh = background.open_result(job, me())
    except NotFound:
        abort(404)
    name = background.download_name(job)
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return send_file(fh, mimetype=mimetype, as_attachment=True, download_name=name, max_age=0)


def resubmit_response(job):
    try:
        new = background.resubmit(job, me())
    except ServiceError as e:
        flash(e.message, "error")
        return redirect(job_url(job))
    flash(f"已重新提交为任务 #{new.id}", "success")
    return redirect(job_url(new))


@bp.route("/jobs")
@roles_required()
def my_jobs():
    jobs = background.my_jobs(me())
    return render_template("jobs/list.html", jobs=[(j, job_json(j)) for j in jobs], kinds=background.kinds())


@bp.route("/jobs/<int:job_id>")
@roles_required()
def job_page(job_id: int):
    return job_page_response(job_or_404(job_id))


@bp.route("/jobs/<int:job_id>.json")
@roles_required()
def job_status(job_id: int):
    return jsonify(job_json(job_or_404(job_id)))


@bp.route("/jobs/<int:job_id>/result")
@roles_required()
def job_result(job_id: int):
    return send_result(job_or_404(job_id))


@bp.route("/jobs/<int:job_id>/resubmit", methods=["POST"])
@roles_required()
def job_resubmit(job_id: int):
    return resubmit_response(job_or_404(job_id))
