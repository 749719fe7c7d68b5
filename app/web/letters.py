"""Letters on the case page: previews marked 草稿, issued PDFs as stored, step notices;
agency letter settings and template wording for administrators."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from . import REVALIDATE
from ..domain import archive_number as AN
from ..domain.workflow import AGENCY_ROLES
from ..extensions import db
from ..letters import all_letters, get_letter, validate_template
from ..letters import variables
from ..letters.catalogue import TEMPLATES_DIR, CatalogueError, applies_to
from ..models import Letter, LetterTemplateOverride
from ..services import integrity
from ..services import agency as agency_service
from ..services import letters as L
from ..services.cases import get_case
from ..services.clocks import case_clock
from ..services.errors import Conflict, NotFound, ServiceError
from ..services.settings import (reset_template, rollback_template, save_agency_settings, save_template,
                                template_version, template_versions, version_diff)
from ..services.time import today
from .decorators import me, roles_required
from .forms import ReissueForm, put_error

bp = Blueprint("letters", __name__)


def _case(case_id: int):
    try:
        return get_case(case_id, me())
    except NotFound:
        abort(404)


def pdf_response(data: bytes, filename: str, *, inline: bool = True) -> Response:
    from urllib.parse import quote
    disp = "inline" if inline else "attachment"
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f"{disp}; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "private, no-store"})


# A draft preview may stay in the browser that asked for it, only to be revalidated: a reload
# whose ETag (the draft's content key) still matches is a 304, with nothing rendered or sent.


def _draft_pdf(draft: L.DraftPdf, filename: str) -> Response:
    if request.if_none_match.contains_weak(draft.etag):
        resp = Response(status=304)
    else:
        resp = pdf_response(draft.pdf(), filename)
    resp.set_etag(draft.etag, weak=True)
    resp.headers["Cache-Control"] = REVALIDATE
    return resp


@bp.route("/cases/<int:case_id>/reply-preview.pdf")
@roles_required("handler", "legal", "head")
def reply_preview(case_id: int):
    case = _case(case_id)
    try:
        title, draft = L.reply_draft(case)
        return _draft_pdf(draft, f"{case.number}-{title}-草稿.pdf")
    except ServiceError as e:
        flash(e.message, "error")
        return redirect(url_for("cases.detail", case_id=case.id))


@bp.route("/cases/<int:case_id>/letters/<int:letter_id>.pdf")
@roles_required(*AGENCY_ROLES)
def issued(case_id: int, letter_id: int):
    case = _case(case_id)
    row = db.session.get(Letter, letter_id)
    if row is None or row.case_id != case.id:
        abort(404)
    return pdf_response(integrity.letter_pdf(row, me()), "-".join(filter(None, (row.number, row.title))) + ".pdf")


@bp.route("/cases/<int:case_id>/notices/<ref>.pdf")
@roles_required("handler", "legal", "head", "clerk")
def notice_preview(case_id: int, ref: str):
    case = _case(case_id)
    try:
        n = L.find_notice(case, ref)
        return _draft_pdf(L.draft_pdf(case, n.key, n.build()), f"{case.number}-{get_letter(n.key).name}-草稿.pdf")
    except NotFound:
        abort(404)
    except ServiceError as e:
        flash(e.message, "error")
        return redirect(url_for("cases.detail", case_id=case.id))


def _issued_text(row: Letter) -> str:
    return f"《{row.title}》，文号 {row.number}" if row.number else f"《{row.title}》（该类文书不编文号）"


@bp.route("/cases/<int:case_id>/notices/<ref>/<op>", methods=["POST"])
@roles_required("handler", "clerk", "legal")
def notice_op(case_id: int, ref: str, op: str):
    if op not in ("approve", "issue"):
        abort(404)
    case = _case(case_id)
    try:
        if op == "approve":
            L.approve_notice(case.id, me(), ref)
            flash("文书已审核通过", "success")
        else:
            row = L.issue_notice(case.id, me(), ref, today())
            flash(f"已出具{_issued_text(row)}", "success")
    except NotFound:
        abort(404)
    except Conflict as e:
        # A second click or another tab: the case page as it is now, with why, answered 409.
        from .cases import detail
        flash(e.message, "error")
        return detail(case_id=case.id), e.status
    except ServiceError as e:
        flash(e.message, "error")
    return redirect(url_for("cases.detail", case_id=case.id) + "#letters")


@bp.route("/cases/<int:case_id>/notices/<ref>/reissue", methods=["GET", "POST"])
@roles_required("handler", "clerk")
def notice_reissue(case_id: int, ref: str):
    """重新出具 with a reason; a refused or conflicting submission keeps the typed reason."""
    case = _case(case_id)
    try:
        st = L.notice_status(case, L.find_notice(case, ref))
    except NotFound:
        abort(404)
    if st["issued"] is None:
        flash(f"《{st['letter'].name}》尚未出具，请直接出具", "warning")
        return redirect(url_for("cases.detail", case_id=case.id) + "#letters")
    form = ReissueForm() if request.method == "POST" else ReissueForm(data={"letter_id": str(st["issued"].id)})
    error, status = None, 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                seen = int(form.letter_id.data) if (form.letter_id.data or "").isdigit() else None
                row = L.reissue_notice(case.id, me(), ref, today(), form.reason.data, replaces_id=seen)
            except NotFound:
                abort(404)
            except ServiceError as e:
                error, status = put_error(form, e, {"reason"}), e.status
                case = _case(case_id)  # rolled back: show the case as it is now
                st = L.notice_status(case, L.find_notice(case, ref))
                if isinstance(e, Conflict):
                    # The page now shows the letter in force; submitting again is a deliberate choice.
                    form.letter_id.data = str(st["issued"].id)
            else:
                flash(f"已重新出具{_issued_text(row)}；原文书 {st['issued'].number_text} 保留，标注为已重新出具", "success")
                return redirect(url_for("cases.detail", case_id=case.id) + "#letters")
        else:
            error, status = "提交未成功，请检查标出的内容。", 400
    return render_template("letters/reissue.html", case=case, st=st, form=form, error=error,
                           clock=case_clock(case)), status


# ---------------------------------------------------------------- administration

AGENCY_FIELDS = (
    ("name", "机关名称", 200), ("doc_code", "发文代字（文号中的机关代字）", 50),
    ("number_pattern", "文号格式", 100), ("reconsideration_body", "行政复议机关", 200),
    ("court", "管辖人民法院", 200), ("address", "机关地址", 300), ("phone", "联系电话", 50),
    ("fonds_code", "全宗号", 32), ("archive_pattern", "档号规则", 100),
)


@bp.route("/admin/agency", methods=["GET", "POST"])
@roles_required("admin")
def agency_settings():
    agency = me().agency
    errors: dict[str, str] = {}
    values = {k: getattr(agency, k) or "" for k, _, _ in AGENCY_FIELDS}
    relaxed = agency.separation_relaxed
    if request.method == "POST":
        values = {k: (request.form.get(k) or "").strip() for k, _, _ in AGENCY_FIELDS}
        for k in ("fonds_code", "archive_pattern"):  # added later: a form without them leaves them as they are
            if k not in request.form:
                values[k] = getattr(agency, k) or ""
        relaxed = bool(request.form.get("separation_relaxed"))
        for k, label, n in AGENCY_FIELDS:
            if k in ("name", "number_pattern", "archive_pattern") and not values[k]:
                errors[k] = f"请填写{label}"
            elif len(values[k]) > n:
                errors[k] = f"{label}不能超过{n}字"
        if "number_pattern" not in errors:
            problem = L.check_number_pattern(values["number_pattern"])
            if problem:
                errors["number_pattern"] = f"{problem}（{L.NUMBER_PATTERN_HELP}）"
        for k, check, help_text in (("archive_pattern", AN.check_pattern, AN.HELP),
                                    ("fonds_code", AN.check_fonds, "")):
            problem = None if k in errors else check(values[k])
            if problem:
                errors[k] = f"{problem}（{help_text}）" if help_text else problem
        seal = request.files.get("seal_png")
        seal_bytes = seal.read() if seal and seal.filename else None
        if seal_bytes is not None:
            msg = _check_seal(seal_bytes)
            if msg:
                errors["seal_png"] = msg
        if not errors:
            relaxed_changed = agency_service.set_separation_relaxed(me(), relaxed, commit=False)
            changed = save_agency_settings(me(), tuple((k, label) for k, label, _ in AGENCY_FIELDS), values,
                                           seal_bytes, bool(request.form.get("remove_seal")))
            if relaxed_changed:
                changed.append("放宽职责分离" if relaxed else "恢复职责分离")
            flash("机关设置已保存" + (f"（修改：{'、'.join(changed)}）" if changed else ""), "success")
            return redirect(url_for("letters.agency_settings"))
    return render_template("letters/agency.html", fields=AGENCY_FIELDS, values=values, errors=errors,
                           agency=agency, relaxed=relaxed, archive_example=_archive_example(values, agency),
                           archive_help=AN.HELP, today_year=today().year), (400 if errors else 200)


def _archive_example(values: dict, agency) -> str:
    """示例 for the rule as typed (this year, 定期10年, 件号 1); empty while the rule is unusable."""
    pattern, fonds = values.get("archive_pattern", ""), values.get("fonds_code") or agency.code
    if AN.check_pattern(pattern) or AN.check_fonds(values.get("fonds_code", "")):
        return ""
    return AN.format_number(pattern, fonds, today().year, AN.PERIOD_CODES["10y"], 1)


def _check_seal(data: bytes) -> str | None:
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "印章须为PNG图片"
    if len(data) > 2 * 1024 * 1024:
        return "印章图片不能超过2MB"
    try:
        from io import BytesIO

        from PIL import Image
        img = Image.open(BytesIO(data))
        img.verify()
        img = Image.open(BytesIO(data))
        if img.width > 4000 or img.height > 4000:
            return "印章图片尺寸过大"
        if img.mode not in ("RGBA", "LA", "P") and "transparency" not in img.info:
            return "印章图片须有透明背景（RGBA PNG）"
    except Exception:
        return "印章图片已损坏，无法读取"
    return None


@bp.route("/admin/letter-templates")
@roles_required("admin")
def templates_index():
    rows = {o.key: o for o in db.session.scalars(db.select(LetterTemplateOverride).where(
        LetterTemplateOverride.agency_id == me().agency_id))}
    return render_template("letters/templates.html", letters=all_letters(), overrides=rows, applies_to=applies_to)


def _template_letter(key: str):
    try:
        letter = get_letter(key)
    except (CatalogueError, KeyError, LookupError):
        abort(404)
    return letter, (TEMPLATES_DIR / letter.template_name).read_text(encoding="utf-8")


@bp.route("/admin/letter-templates/<key>", methods=["GET", "POST"])
@roles_required("admin")
def template_edit(key: str):
    letter, default_source = _template_letter(key)
    row = db.session.scalar(db.select(LetterTemplateOverride).where(
        LetterTemplateOverride.agency_id == me().agency_id, LetterTemplateOverride.key == key))
    source = row.source if row else default_source
    error = None
    if request.method == "POST":
        if request.form.get("reset"):
            reset_template(me(), key, letter.name, default_source)
            flash(f"《{letter.name}》已恢复为系统默认措辞", "success")
            return redirect(url_for("letters.templates_index"))
        source = request.form.get("source") or ""
        error = validate_template(source, key)
        if error is None:
            save_template(me(), key, letter.name, source, default_source)
            flash(f"《{letter.name}》的措辞已保存，之后生成的文书将使用新措辞", "success")
            return redirect(url_for("letters.templates_index"))
    return _template_page(letter, default_source, source, error, row is not None, 400 if error else 200)


def _template_page(letter, default_source: str, source: str, error: str | None, overridden: bool, status: int):
    """The edit form and the history: each version with its differences from the one before."""
    versions = template_versions(me(), letter.key)
    history = []
    for i, v in enumerate(versions):
        before = versions[i + 1] if i + 1 < len(versions) else None
        old = before.source if before and before.source is not None else default_source
        new = v.source if v.source is not None else default_source
        old_label = f"第{before.version}版" if before else "系统默认措辞"
        history.append({"v": v, "diff": version_diff(old, new, old_label, f"第{v.version}版")})
    return render_template("letters/template_edit.html", letter=letter, source=source, error=error,
                           overridden=overridden, history=history, applies=applies_to(letter),
                           sections=variables.sections(letter), cases=L.preview_cases(me()),
                           preview_case=request.form.get("preview_case") or "",
                           preview_number=request.form.get("preview_number") or ""), status


@bp.route("/admin/letter-templates/<key>/preview", methods=["POST"])
@roles_required("admin")
def template_preview(key: str):
    """The wording as typed (unsaved) as a draft PDF for a case of the agency or the example, shown in the
    editor's frame; a mistake in the wording or an unknown case is a short Chinese page there instead."""
    from urllib.parse import quote

    letter, _default = _template_letter(key)
    number = (request.form.get("preview_number") or "").strip()
    chosen = (request.form.get("preview_case") or "").strip()
    try:
        case = None
        if number:
            case = L.case_by_number(me(), number)
        elif chosen:
            if not chosen.isdigit():
                raise NotFound("案件不存在")
            case = get_case(int(chosen), me())
        preview = L.preview_wording(me(), key, request.form.get("source") or "", case)
    except NotFound as e:
        return render_template("letters/template_preview_error.html", letter=letter, error=e.message), 404
    except ServiceError as e:
        return render_template("letters/template_preview_error.html", letter=letter, error=e.message), 400
    resp = pdf_response(preview.pdf, f"{letter.name}-预览-草稿.pdf")
    if preview.example_fields:
        # Which parts are the example's, not the case's (percent-encoded UTF-8: headers are Latin-1).
        resp.headers["X-Example-Fields"] = quote("、".join(preview.example_fields))
    return resp


@bp.route("/admin/letter-templates/<key>/rollback", methods=["POST"])
@roles_required("admin")
def template_rollback(key: str):
    letter, default_source = _template_letter(key)
    try:
        to_version = int(request.form.get("version") or "")
    except ValueError:
        abort(400)
    target = template_version(me(), key, to_version)
    if target is None:
        abort(404)
    # The letter's fields may have changed since that version was saved: check it again.
    error = validate_template(target.source, key) if target.source is not None else None
    if error is None:
        try:
            new = rollback_template(me(), key, letter.name, to_version, default_source)
        except ServiceError as e:
            error = e.message
        else:
            flash(f"《{letter.name}》已回滚到第{to_version}版的措辞（记为第{new}版）", "success")
            return redirect(url_for("letters.template_edit", key=key))
    else:
        error = f"第{to_version}版的措辞不能再使用：{error}"
    row = db.session.scalar(db.select(LetterTemplateOverride).where(
        LetterTemplateOverride.agency_id == me().agency_id, LetterTemplateOverride.key == key))
    return _template_page(letter, default_source, row.source if row else default_source, error,
                          row is not None, 400)
