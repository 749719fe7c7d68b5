"""Archiving: the checklist, the blockers the archive action must respect, archived files are
read-only, and only an administrator's audited reopen changes them again."""
from __future__ import annotations

import io

import pytest

from app.casefile import attachments as A
from app.services.checklist import archive_blockers, checklist
from app.domain.workflow import ACTIONS
from app.extensions import db
from app.models import Attachment, Delivery
from app.services import cases as S
from app.services.errors import ServiceError
from tests.casefile.conftest import add_letter, drop_letters, ensure_reply_letter, png_bytes, scan_pdf
from tests.conftest import user
from tests.factories import (
    act,
    archive,
    build_case,
    events,
    reload,
    snapshot,
    to_correction,
)


def labels(case) -> dict[str, str]:
    return {c.label: c.status for c in checklist(reload(case))}


# ------------------------------------------------------------------ blockers

def test_delivered_case_without_reply_letter_is_blocked(actx):
    case = build_case("delivered")
    drop_letters(case)
    blockers = archive_blockers(reload(case))
    assert len(blockers) == 1 and "答复书" in blockers[0]
    assert labels(case)["答复书（已出具的答复文书）"] == "missing"
    assert labels(case)["送达凭证（送达回证、邮寄回执或平台记录）"] == "ok"  # EMS number recorded at delivery


def test_reply_letter_and_proof_of_service_clear_the_blockers(actx):
    case = build_case("delivered")
    drop_letters(case)
    add_letter(case, "政府信息公开申请答复书", draft_id=case.issued_draft_id)
    assert archive_blockers(reload(case)) == []
    checks = labels(case)
    assert checks["审批记录（法制审核通过并经负责人签发的稿件）"] == "ok"
    # Recommended, not mandatory: the scans.
    assert checks["申请材料（申请表或申请书）"] == "warning"
    assert checks["送达凭证扫描件"] == "warning"
    A.add_attachment(case.id, user("clerk"), scan_pdf("送达回证"), "回证.pdf", "proof_of_service", "送达回证")
    assert "送达凭证扫描件" not in labels(case)


def test_proof_of_service_can_be_a_scan_instead_of_a_recorded_number(actx):
    case = build_case("delivered")
    ensure_reply_letter(case)
    d = db.session.scalar(db.select(Delivery).where(Delivery.case_id == case.id))
    d.proof = ""  # e.g. a delivery recorded before proofs were required
    db.session.commit()
    blockers = archive_blockers(reload(case))
    assert len(blockers) == 1 and "送达凭证" in blockers[0]
    A.add_attachment(case.id, user("clerk"), png_bytes(), "回执.png", "proof_of_service", "邮寄回执")
    assert archive_blockers(reload(case)) == []


def test_closed_case_has_no_mandatory_items(actx):
    case = build_case("closed")
    assert archive_blockers(reload(case)) == []
    assert "答复书（已出具的答复文书）" not in labels(case)


def test_checklist_follows_the_steps_of_the_case(actx):
    """Correction, consultation, fee and extension steps each ask for their documents."""
    case = build_case("registered")
    to_correction(case)
    act(case, "handler", "receive_correction", {"received_on": "2026-11-06"})
    act(case, "handler", "consult", {"kind": "third_party", "party": "示范建设有限公司", "matter": "涉及商业秘密",
                                     "sent_on": "2026-11-09"})
    checks = labels(case)
    assert checks["补正告知书"] == "warning"
    assert checks["补正后的申请材料"] == "warning"
    assert checks["征求意见书（示范建设有限公司）"] == "warning"
    assert checks["示范建设有限公司的意见"] == "warning"  # still open
    act(case, "handler", "consultation_reply", {"step_id": reload(case).steps[-1].id, "result": "agree",
                                                "answered_on": "2026-11-16"})
    act(case, "head", "extend", {"days": 10, "reason": "需要调取档案"})
    add_letter(case, "政府信息公开申请补正告知书", key="correction_notice")
    add_letter(case, "政府信息公开申请征求意见书", key="consultation_third_party")
    A.add_attachment(case.id, user("clerk"), scan_pdf("申请表"), "a.pdf", "application_form", "申请表")
    A.add_attachment(case.id, user("clerk"), scan_pdf("补正材料"), "b.pdf", "application_form", "补正后的申请表")
    A.add_attachment(case.id, user("handler"), scan_pdf("确认函"), "c.pdf", "third_party_reply",
                     "示范建设有限公司确认函")
    checks = labels(case)
    assert checks["补正告知书"] == "ok" and checks["补正后的申请材料"] == "ok"
    assert checks["征求意见书（示范建设有限公司）"] == "ok"
    assert checks["示范建设有限公司的意见（同意公开）"] == "ok"
    assert checks["延期答复告知书（延长 10 个工作日）"] == "warning"
    add_letter(case, "政府信息公开申请延期答复告知书", key="extension_notice")
    assert labels(case)["延期答复告知书（延长 10 个工作日）"] == "ok"


# ------------------------------------------------------------------ archived files are read-only

def _archived():
    case = build_case("delivered")
    ensure_reply_letter(case)
    return archive(case)


def test_archived_case_refuses_uploads(actx, stores):
    case = _archived()
    before = snapshot(case.id)
    for username in ("clerk", "handler", "archivist"):
        with pytest.raises(ServiceError) as e:
            A.add_attachment(case.id, user(username), png_bytes(), "a.png", "identity", "")
        assert e.value.message == A.ARCHIVED_MESSAGE and "撤销归档" in e.value.message
    assert snapshot(case.id) == before
    assert db.session.scalar(db.select(db.func.count()).select_from(Attachment)) == 0
    assert not (stores / "attachments").exists()


@pytest.mark.parametrize("action", sorted(a for a in ACTIONS if a != "reopen"))
def test_archived_case_refuses_every_workflow_action_but_reopen(actx, action):
    case = _archived()
    before = snapshot(case.id)
    for username in ("clerk", "handler", "legal", "head", "archivist", "admin"):
        with pytest.raises(ServiceError):
            S.perform(case.id, user(username), action, {})
    assert snapshot(case.id) == before


def test_reopen_by_admin_is_audited_and_makes_the_file_changeable_again(actx):
    case = _archived()
    for username in ("clerk", "handler", "legal", "head", "archivist"):
        with pytest.raises(ServiceError):
            S.perform(case.id, user(username), "reopen", {"reason": "补充送达回证"})
    with pytest.raises(ServiceError, match="撤销归档须说明理由"):
        S.perform(case.id, user("admin"), "reopen", {})
    S.perform(case.id, user("admin"), "reopen", {"reason": "补充送达回证"})
    case = reload(case)
    assert (case.state, case.archive_number, case.archived_on) == ("delivered", "", None)
    ev = events(case.id)[-1]
    assert (ev.action, ev.actor_id, ev.from_state) == ("reopen", user("admin").id, "archived")
    assert ev.data["reason"] == "补充送达回证" and ev.data["archive_number"] == f"OGI-{case.number}"
    att = A.add_attachment(case.id, user("clerk"), png_bytes(), "回证.png", "proof_of_service", "送达回证")
    assert att.case_id == case.id


# ------------------------------------------------------------------ the pages

def test_archive_page_lists_ready_cases_with_their_checklists(web):
    ids = web.run(lambda: _ready_cases())
    web.as_user("archivist")
    html = web.client.get("/archive").get_data(as_text=True)
    blocked, ready, closed, handling = ids
    assert f'id="case-{blocked}"' in html and f'id="archive-{blocked}-blocked"' in html
    assert f'href="/cases/{ready}/action/archive"' in html
    assert f'href="/cases/{closed}/action/archive"' in html
    assert f'id="case-{handling}"' not in html
    assert "不能归档：缺少 1 项必备材料" in html
    single = web.client.get(f"/archive/{blocked}").get_data(as_text=True)
    assert "暂不能归档" in single and "答复书" in single


def _ready_cases():
    blocked = build_case("delivered")
    drop_letters(blocked)
    blocked = blocked.id
    ready = build_case("delivered")
    ensure_reply_letter(ready)
    closed = build_case("closed").id
    handling = build_case("handling").id
    return blocked, ready.id, closed, handling


@pytest.mark.parametrize("username,status", [("clerk", 403), ("handler", 403), ("legal", 403), ("head", 200),
                                             ("archivist", 200), ("admin", 200)])
def test_archive_pages_roles(web, username, status):
    case_id = web.run(lambda: build_case("delivered").id)
    web.as_user(username)
    assert web.client.get("/archive").status_code == status
    assert web.client.get(f"/archive/{case_id}").status_code == status


def test_archive_pages_need_a_login(web):
    case_id = web.run(lambda: build_case("delivered").id)
    assert web.client.get("/archive").status_code == 302
    assert web.client.get(f"/archive/{case_id}").status_code == 302


def test_archived_case_page_shows_no_upload_form(web):
    case_id = web.run(lambda: _archived().id)
    web.as_user("clerk")
    html = web.client.get(f"/cases/{case_id}/attachments").get_data(as_text=True)
    assert A.ARCHIVED_MESSAGE in html and 'id="upload"' not in html
    r = web.client.post(f"/cases/{case_id}/attachments", content_type="multipart/form-data",
                        data={"category": "identity", "file": (io.BytesIO(png_bytes()), "a.png")})
    assert r.status_code == 400 and A.ARCHIVED_MESSAGE in r.get_data(as_text=True)
