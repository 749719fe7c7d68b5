"""删除处理 (Art. 37): the workspace where handlers upload the source documents, mark what is
withheld and make the released copy; read-only for the reviewers. The marking tool is
static/js/redact.js, talking to the JSON routes below; every write is a service call that takes
the redaction hash the page showed (``set_hash``) and answers 409 when the set changed meanwhile."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from ..casefile import redaction as C
from ..casefile import uploads
from ..services import jobs as background
from ..services import redaction as R
from ..services.cases import get_case
from ..services.errors import NotFound, ServiceError
from . import REVALIDATE
from .casefile import _download_name
from .decorators import me, roles_required
from .errors import MESSAGES, TITLES, error_response

bp = Blueprint("redaction", __name__)

# Who may open the workspace (the originals, the boxes): the handler marks; legal review, the head and
# the archivist read. The clerk, who delivers the reply, may download the released copy only.
VIEW_ROLES = ("handler", "legal", "head", "archivist")
DOWNLOAD_ROLES = (*VIEW_ROLES, "clerk")
KIND_LABELS = {"manual": "手工框选", "search": "查找标注", **R.KIND_LABELS}


def basis_class(articles: str) -> str:
    """The colour of a provision's boxes (static/css/app.css .basis-0 … .basis-4)."""
    return f"basis-{list(R.BASES).index(articles)}" if articles in R.BASES else "basis-x"


def released_copy(case):
    """The released copy that goes (or went) out with the reply, for the case page's link."""
    if case.issued_draft_id is not None:
        return R.issued_release(case)
    d = case.current_draft
    rel = R.current_release(case) if d is not None and d.outcome_code == R.OUTCOME else None
    return rel if rel is not None and rel.status == "done" else None


@bp.app_context_processor
def _globals():
    return {"REDACTION_VIEW_ROLES": VIEW_ROLES, "REDACTION_DOWNLOAD_ROLES": DOWNLOAD_ROLES,
            "redaction_release": released_copy, "basis_class": basis_class, "REDACTION_KINDS": KIND_LABELS}


# The routes static/js/redact.js talks to: their refusals are JSON {"error": message, "field": name}.
JSON_ROUTES = {"state", "search", "suggestions", "releases_json", "add_boxes", "update_box", "remove_boxes"}


def _wants_json() -> bool:
    return (request.endpoint or "").removeprefix("redaction.") in JSON_ROUTES


@bp.errorhandler(ServiceError)
def _service_error(e: ServiceError):
    if _wants_json():
        return jsonify({"error": e.message, "field": e.field}), e.status
    return error_response(e.status, e.message, e.field)


@bp.errorhandler(HTTPException)
def _http_error(e: HTTPException):
    status = e.code or 500
    if _wants_json():
        return jsonify({"error": f"{TITLES.get(status, '出错了')}：{MESSAGES.get(status, '')}", "field": None}), status
    return error_response(status)


def _case(case_id: int):
    try:
        return get_case(case_id, me())
    except NotFound:
        abort(404)


def _document(case, document_id: int):
    doc = C.get_document(document_id, me())  # NotFound (404) for another agency's
    if doc.case_id != case.id:
        abort(404)
    return doc


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ServiceError("请求内容应为 JSON 对象", "body")
    if not isinstance(body.get("set_hash"), str):
        raise ServiceError("缺少页面所显示标注的校验值（set_hash），请刷新页面后重试", "set_hash")
    return body


def _payload(case_id: int) -> dict:
    """The page view's state, plus the withheld rows and attachment lines it previews."""
    case = _case(case_id)
    out = C.state(case, me())
    out.update(rows=R.generated_rows(case), attachments=R.attachment_lines(case))
    return out


def _read_only_reason(case) -> str | None:
    if not C.can_mark(me()):
        return "您可以查看原件和删除处理标注；上传原件和标注由承办人进行。"
    if not C.editable(case):
        return (f"案件当前为“{case.state_label}”，不能修改删除处理标注：稿件已提交审核或答复已出具"
                "（退回修改后可再标注）。")
    return None


def groups(case) -> list[tuple[str, list]]:
    """The boxes by provision, in the order of the withholding table."""
    marks = R.boxes(case)
    return [(R.basis_label(a), [b for b in marks if b.basis == a])
            for a in [*R.BASES, *sorted({b.basis for b in marks} - set(R.BASES))] if any(b.basis == a for b in marks)]


# ---------------------------------------------------------------- the workspace

def _workspace(case, error: ServiceError | None = None, form: dict | None = None, status: int = 200):
    releases = C.releases(case)
    current = R.current_release(case)
    marked = groups(case)
    return render_template(
        "redaction/workspace.html", case=case, documents=R.documents(case), groups=marked,
        box_count=sum(len(marks) for _, marks in marked), bases=list(R.BASES), basis_label=R.basis_label,
        hash=R.redaction_hash(case), editable=C.editable(case, me()), read_only=_read_only_reason(case),
        rows=R.generated_rows(case), attachments=R.attachment_lines(case), releases=releases, current=current,
        blocker=C.release_blocker(case), can_release=C.can_release(me()), error=error,
        form=form or {"title": ""}, limit=uploads.human_size(uploads.max_bytes()),
        active=any(r.status in ("queued", "running") for r in releases), job_of=_job_info), status


def _job_info(rel) -> dict | None:
    if rel.job is None:
        return None
    info = background.as_dict(rel.job)
    return {k: info[k] for k in ("status", "status_label", "done", "total", "waiting", "error")}


@bp.route("/cases/<int:case_id>/redaction")
@roles_required(*VIEW_ROLES)
def workspace(case_id: int):
    return _workspace(_case(case_id))


@bp.route("/cases/<int:case_id>/redaction/documents", methods=["POST"])
@roles_required(*VIEW_ROLES)
def upload(case_id: int):
    case = _case(case_id)
    if not C.can_mark(me()):
        abort(403)
    form = {"title": request.form.get("title", "")}
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise ServiceError("请选择原件（PDF、JPEG 或 PNG）", "file")
        data = uploads.read_limited(upload.stream, uploads.max_bytes())
        doc = C.add_document(case.id, me(), data, upload.filename, form["title"])
    except ServiceError as e:
        return _workspace(_case(case_id), e, form, e.status)
    flash(f"已上传原件：{doc.title}（{doc.pages} 页）", "success")
    return redirect(url_for("redaction.workspace", case_id=case.id))


@bp.route("/cases/<int:case_id>/redaction/documents/<int:document_id>/remove", methods=["POST"])
@roles_required(*VIEW_ROLES)
def remove_document(case_id: int, document_id: int):
    case = _case(case_id)
    doc = _document(case, document_id)
    if not C.can_mark(me()):
        abort(403)
    title = doc.title
    try:
        C.remove_document(case.id, me(), doc.id, set_hash=request.form.get("set_hash", ""))
    except ServiceError as e:
        if e.status == 404:
            raise
        flash(e.message, "error")
    else:
        flash(f"已删除原件：{title}（连同其上的标注）", "success")
    return redirect(url_for("redaction.workspace", case_id=case.id))


@bp.route("/cases/<int:case_id>/redaction/release", methods=["POST"])
@roles_required(*VIEW_ROLES)
def start_release(case_id: int):
    case = _case(case_id)
    try:
        C.start_release(case.id, me())
    except ServiceError as e:
        if e.status == 404:
            raise
        flash(e.message, "error")
    else:
        flash("已提交生成删除处理版，完成后可在此下载", "success")
    return redirect(url_for("redaction.workspace", case_id=case.id) + "#release")


@bp.route("/cases/<int:case_id>/redaction/releases.json")
@roles_required(*VIEW_ROLES)
def releases_json(case_id: int):
    case = _case(case_id)
    return jsonify({"releases": [{"id": r.id, "status": r.status, "job": _job_info(r)} for r in C.releases(case)]})


@bp.route("/cases/<int:case_id>/redaction/releases/<int:release_id>.pdf")
@roles_required(*DOWNLOAD_ROLES)
def release_pdf(case_id: int, release_id: int):
    case = _case(case_id)
    rel = C.get_release(release_id, me())
    if rel.case_id != case.id or rel.status != "done":
        abort(404)
    return Response(C.release_pdf(rel, me()), mimetype="application/pdf",
                    headers={**_download_name(C.release_filename(rel)), "Cache-Control": "private, no-store"})


# ---------------------------------------------------------------- the page view (JSON, images)

@bp.route("/cases/<int:case_id>/redaction/state.json")
@roles_required(*VIEW_ROLES)
def state(case_id: int):
    return jsonify(_payload(case_id))


@bp.route("/cases/<int:case_id>/redaction/documents/<int:document_id>/pages/<int:page>.png")
@roles_required(*VIEW_ROLES)
def page_png(case_id: int, document_id: int, page: int):
    doc = _document(_case(case_id), document_id)
    width = request.args.get("w", 1100, type=int) or 1100
    # The page of a stored file never changes: its content hash, the page and the size name it.
    etag = f"{doc.pdf_sha256[:32]}-{page}-{width}"
    if etag in request.if_none_match:
        resp = Response(status=304)
    else:
        resp = Response(C.page_image(doc, page - 1, width, me()), mimetype="image/png")
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = REVALIDATE
    return resp


@bp.route("/cases/<int:case_id>/redaction/search.json")
@roles_required(*VIEW_ROLES)
def search(case_id: int):
    case = _case(case_id)
    return jsonify({"hits": C.search(case.id, me(), request.args.get("q", ""))})


@bp.route("/cases/<int:case_id>/redaction/suggestions.json")
@roles_required(*VIEW_ROLES)
def suggestions(case_id: int):
    case = _case(case_id)
    return jsonify({"suggestions": C.suggestions(case.id, me())})


@bp.route("/cases/<int:case_id>/redaction/boxes", methods=["POST"])
@roles_required(*VIEW_ROLES)
def add_boxes(case_id: int):
    case = _case(case_id)
    body = _body()
    try:
        document_id = int(body.get("document_id"))
    except (TypeError, ValueError):
        raise ServiceError("请指明原件", "document_id") from None
    C.add_boxes(case.id, me(), document_id, body.get("boxes"), body.get("basis"), body.get("note"),
                set_hash=body["set_hash"])
    return jsonify(_payload(case_id))


@bp.route("/cases/<int:case_id>/redaction/boxes/<int:box_id>", methods=["POST"])
@roles_required(*VIEW_ROLES)
def update_box(case_id: int, box_id: int):
    case = _case(case_id)
    body = _body()
    C.update_box(case.id, me(), box_id, body.get("basis"), body.get("note"), set_hash=body["set_hash"],
                 coords=body.get("box") if isinstance(body.get("box"), dict) else None)
    return jsonify(_payload(case_id))


@bp.route("/cases/<int:case_id>/redaction/boxes/remove", methods=["POST"])
@roles_required(*VIEW_ROLES)
def remove_boxes(case_id: int):
    case = _case(case_id)
    body = _body()
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, int) for i in ids):
        raise ServiceError("请指明要取消的标注", "ids")
    C.remove_boxes(case.id, me(), ids, set_hash=body["set_hash"])
    return jsonify(_payload(case_id))
