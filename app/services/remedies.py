"""Reconsideration and litigation records of a case (annual report table 四; handbook §1.12, §3.3)."""
from __future__ import annotations

from typing import Any, Mapping

from ..extensions import db
from ..models import Remedy, User
from ..models.remedy import REMEDY_KINDS, REMEDY_RESULTS
from .audit import record
from .cases import get_case
from .errors import Forbidden, NotFound, ServiceError
from .params import Params
from .time import today as _today

WRITE_ROLES = ("handler", "head", "admin")


def _may_write(actor: User) -> None:
    if not actor.has_role(*WRITE_ROLES):
        raise Forbidden("只有承办人、负责人或管理员可以登记复议诉讼情况")


def list_remedies(actor: User, case_id: int) -> list[Remedy]:
    return list(get_case(case_id, actor).remedies)


def _result_fields(p: Params, filed_on, default_result: str = "pending"):
    result = p.choice("result", "办理结果", REMEDY_RESULTS, default=default_result)
    decided = p.date("decided_on", "决定或裁判日期")
    if result == "pending":
        if decided:
            raise ServiceError("尚未审结的，不填写决定或裁判日期", "decided_on")
    else:
        if decided is None:
            raise ServiceError("已审结的，请填写决定或裁判日期（年度报告按此日期判断是否已审结）", "decided_on")
        if decided < filed_on:
            raise ServiceError("决定或裁判日期不能早于申请或起诉日期", "decided_on")
        if decided > _today():
            raise ServiceError("决定或裁判日期不能晚于今天", "decided_on")
    return result, decided


def add_remedy(actor: User, case_id: int, raw: Mapping[str, Any]) -> Remedy:
    _may_write(actor)
    case = get_case(case_id, actor)
    p = Params(raw)
    kind = p.choice("kind", "类型", REMEDY_KINDS)
    filed = p.date("filed_on", "申请复议或起诉日期", required=True)
    if filed > _today():
        raise ServiceError("申请复议或起诉日期不能晚于今天", "filed_on")
    if filed < case.received_on:
        raise ServiceError("申请复议或起诉日期不能早于收到政府信息公开申请的日期", "filed_on")
    body = p.text("body", "复议机关或人民法院", max_len=200,
                  default=(case.agency.reconsideration_body if kind == "reconsideration" else case.agency.court) or "")
    result, decided = _result_fields(p, filed)
    notes = p.text("notes", "备注", max_len=2000)
    r = Remedy(case_id=case.id, kind=kind, filed_on=filed, body=body, result=result, decided_on=decided,
               notes=notes, created_by_id=actor.id)
    db.session.add(r)
    db.session.flush()
    record(case, actor, "remedy_add", f"登记{REMEDY_KINDS[kind]}", case.state, case.state, {
        "remedy_id": r.id, "kind": kind, "filed_on": filed, "body": body, "result": result,
        "decided_on": decided, "notes": notes})
    db.session.commit()
    return r


def update_remedy(actor: User, case_id: int, remedy_id: int, raw: Mapping[str, Any]) -> Remedy:
    """Record the result of a reconsideration or lawsuit (or correct it); the change is audited."""
    _may_write(actor)
    case = get_case(case_id, actor)
    r = db.session.get(Remedy, remedy_id)
    if r is None or r.case_id != case.id:
        raise NotFound("复议诉讼记录不存在")
    p = Params(raw)
    result, decided = _result_fields(p, r.filed_on, default_result=r.result)
    body = p.text("body", "复议机关或人民法院", max_len=200, default=r.body)
    notes = p.text("notes", "备注", max_len=2000, default=r.notes)
    before = {"result": r.result, "decided_on": r.decided_on, "body": r.body, "notes": r.notes}
    after = {"result": result, "decided_on": decided, "body": body, "notes": notes}
    if before == after:
        raise ServiceError("没有需要保存的修改")
    r.result, r.decided_on, r.body, r.notes = result, decided, body, notes
    record(case, actor, "remedy_update", f"更新{REMEDY_KINDS.get(r.kind, r.kind)}结果", case.state, case.state, {
        "remedy_id": r.id, "kind": r.kind, "before": before, "after": after})
    db.session.commit()
    return r
