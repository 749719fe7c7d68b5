"""The case workflow as an explicit state machine (handbook §1, §8).

Tables, not if-statements: ACTIONS says which roles may take an action from which stages
and where it leads; ``check`` adds the guards that depend on the case's facts. Views,
the API and the access-matrix tests all read the same tables.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .clock import MAX_EXTENSION_DAYS

ROLES = {
    "clerk": "登记员",
    "handler": "承办人",
    "legal": "法律顾问",
    "head": "负责人",
    "archivist": "档案员",
    "admin": "管理员",
    # The supervising office (政府信息公开工作主管部门, Art. 3): a user of the supervising agency who
    # sees the clock counts and annual reports of the agencies it supervises. Not an agency role:
    # it opens no case, letter or file, not even of its own agency (staff who handle cases hold both).
    "supervisor": "公开主管部门",
    # The platform's administrator: owns national data (the work calendar). Not an agency role:
    # an agency administrator cannot grant it (only the deployment's CLI can).
    "sysadmin": "系统管理员",
}
PLATFORM_ROLES = frozenset({"sysadmin"})
SUPERVISION_ROLES = frozenset({"supervisor"})
# Roles that work on an agency's cases; a platform or supervision role sees no agency's case data.
AGENCY_ROLES = frozenset(ROLES) - PLATFORM_ROLES - SUPERVISION_ROLES

STATES = {
    "registered": "已登记",
    "correction": "待补正",
    "handling": "办理中",
    "review": "法制审核中",
    "signoff": "待签发",
    "signed": "已签发待答复",
    "replied": "已答复待送达",
    "delivered": "已送达",
    "closed": "已终止",
    "archived": "已归档",
}
OPEN_STATES = frozenset({"registered", "correction", "handling", "review", "signoff", "signed"})
# After these the reply has gone out (or the request ended): the reply clock no longer runs.
FINISHED_STATES = frozenset({"replied", "delivered", "closed", "archived"})


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    roles: frozenset[str]
    sources: frozenset[str]
    target: str | None  # None: the stage does not change


def _a(name: str, label: str, roles: str, sources: str, target: str | None) -> Action:
    return Action(name, label, frozenset(roles.split()), frozenset(sources.split()), target)


ACTIONS: dict[str, Action] = {a.name: a for a in (
    _a("assign", "分派承办人", "clerk head", "registered correction handling", None),
    # 分办: the receiving agency hands a registered request, before handling starts, to the agency
    # that answers it (the case moves; docs/decisions.md).
    _a("transfer", "分办至答复机关", "clerk head", "registered", None),
    _a("start", "开始办理", "handler", "registered", "handling"),
    _a("request_correction", "发出补正告知", "handler", "registered handling", "correction"),
    _a("receive_correction", "登记补正材料", "handler clerk", "correction", "handling"),
    _a("correction_lapsed", "逾期未补正，终止办理", "handler", "correction", "closed"),
    _a("consult", "征求意见", "handler", "registered handling", "handling"),
    _a("consultation_reply", "登记征求意见结果", "handler", "handling", "handling"),
    _a("request_reasons", "要求说明理由（第三十五条）", "handler", "registered handling", "handling"),
    _a("reasons_reply", "登记说明理由结果", "handler", "handling", "handling"),
    _a("fee_notice", "发出收费通知", "handler", "handling", "handling"),
    _a("fee_paid", "登记缴费", "handler clerk", "handling", "handling"),
    _a("fee_lapsed", "逾期未缴费，终止办理", "handler", "handling", "closed"),
    _a("cohandle", "发出协办函", "handler", "registered handling", "handling"),
    _a("cohandle_reply", "登记协办回复", "handler", "handling", "handling"),
    _a("request_extension", "申请延期答复", "handler", "registered handling review signoff", None),
    _a("extend", "批准延期答复", "head", "registered handling review signoff", None),
    _a("decline_extension", "不批准延期", "head", "registered handling review signoff", None),
    _a("save_draft", "起草答复", "handler", "registered handling", "handling"),
    _a("submit_draft", "提交法制审核", "handler", "handling", "review"),
    _a("approve", "审核通过", "legal", "review", "signoff"),
    _a("return_draft", "退回修改", "legal", "review", "handling"),
    _a("sign_off", "签发", "head", "signoff", "signed"),
    _a("reject_signoff", "退回承办人", "head", "signoff", "handling"),
    _a("issue", "出具答复", "handler", "signed", "replied"),
    _a("deliver", "登记送达", "handler clerk", "replied", "delivered"),
    _a("withdraw", "申请人撤回", "handler clerk", "registered correction handling review signoff", "closed"),
    _a("archive", "归档", "archivist", "delivered closed", "archived"),
    # Archived files are read-only; only an administrator may reopen one (audited).
    _a("reopen", "撤销归档", "admin", "archived", None),
)}


class TransitionError(Exception):
    """A step the law or the workflow does not allow; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class CaseFacts:
    """What the guards need to know about a case, as plain values."""

    state: str
    today: date
    correction_notices: int = 0
    correction_notice_due: date | None = None  # 7 working days after receipt
    correction_period_end: date | None = None
    open_consultations: int = 0
    reasons_pending: bool = False
    reasons_due: date | None = None
    fee_pending: bool = False
    fee_due: date | None = None
    fee_unissued: bool = False  # a 收费通知书 decided but not yet issued (awaiting review or issue)
    open_cohandlings: int = 0
    extension_days: int = 0
    extension_requested: bool = False  # a handler's 延期申请 waits for the head
    reply_due: date | None = None
    clock_paused: bool = False
    has_draft: bool = False
    draft_hash: str | None = None
    approved_hash: str | None = None
    signed_hash: str | None = None
    drafted_by: int | None = None  # user who saved the current draft revision
    approved_by: int | None = None  # user who approved it in legal review
    separation_relaxed: bool = False  # the agency's setting for one-person offices


def allowed(action: str, state: str, roles: set[str] | frozenset[str]) -> bool:
    a = ACTIONS[action]
    return state in a.sources and bool(a.roles & set(roles))


def available_actions(state: str, roles: set[str] | frozenset[str]) -> list[Action]:
    return [a for a in ACTIONS.values() if allowed(a.name, state, roles)]


# Separation of duties (三员分立 spirit): on one draft revision the drafter does not approve it and
# the approver does not sign it off. action -> (the CaseFacts field naming who may not act, refusal).
SEPARATED: dict[str, tuple[str, str]] = {
    "approve": ("drafted_by", "起草人不能审核自己起草的稿件（职责分离）"),
    "sign_off": ("approved_by", "审核人不能签发自己审核通过的稿件（职责分离）"),
}
# Procedural notices reviewed by legal (services/letters.approve_notice): who prepared one does not approve it.
NOTICE_SEPARATION = "制作该文书的人不能审核该文书（职责分离）"
# What the case history says when an agency's relaxed setting let the same person take both steps.
RELAXED_NOTES = {
    "approve": "起草人与审核人为同一人（本机关已放宽职责分离）",
    "sign_off": "审核人与签发人为同一人（本机关已放宽职责分离）",
    "approve_notice": "文书制作人与审核人为同一人（本机关已放宽职责分离）",
}


def separation(step: str, refusal: str, actor_id: int | None, barred: set[int | None] | frozenset,
               relaxed: bool) -> str | None:
    """Apply the separation-of-duties rule to one step: raise if the actor is barred, or return
    the note to record when the agency's relaxed setting allows it (None: no conflict)."""
    if actor_id is None or actor_id not in barred:
        return None
    if not relaxed:
        raise TransitionError(refusal)
    return RELAXED_NOTES[step]


def duty_conflict(action: str, facts: CaseFacts, actor_id: int | None) -> str | None:
    """For a workflow action: raise, or the relaxed-rule note to record, or None."""
    rule = SEPARATED.get(action)
    if rule is None:
        return None
    barred = getattr(facts, rule[0])
    return separation(action, rule[1], actor_id, {barred} if barred is not None else set(),
                      facts.separation_relaxed)


def check(action: str, facts: CaseFacts, roles: set[str] | frozenset[str], *, guards: bool = True,
          actor_id: int | None = None, **params) -> str:
    """Raise TransitionError if the step is not allowed; return the stage it leads to.

    With ``actor_id`` the separation of duties is checked as well (see SEPARATED)."""
    if action not in ACTIONS:
        raise TransitionError(f"未知操作：{action}")
    a = ACTIONS[action]
    if not a.roles & set(roles):
        need = "、".join(ROLES[r] for r in sorted(a.roles))
        raise TransitionError(f"“{a.label}”只能由{need}办理")
    if facts.state not in a.sources:
        raise TransitionError(f"案件当前状态为“{STATES[facts.state]}”，不能{a.label}")
    guard = _GUARDS.get(action)
    if guard and guards:
        guard(facts, params)
    if guards:
        duty_conflict(action, facts, actor_id)
    return a.target or facts.state


def _g_correction(f: CaseFacts, p: dict) -> None:
    if f.correction_notices:
        raise TransitionError("补正告知只能发出一次（第三十条：一次性告知）")
    on = p.get("notice_date", f.today)
    if f.correction_notice_due and on > f.correction_notice_due:
        raise TransitionError(
            f"补正告知应在收到申请之日起7个工作日内（{f.correction_notice_due.isoformat()}前）发出，已超过期限",
            "notice_date")
    end = p.get("period_end")
    if end is not None and end <= on:
        raise TransitionError("补正期限必须晚于告知日期", "period_end")


def _g_correction_lapsed(f: CaseFacts, p: dict) -> None:
    if f.correction_period_end is None:
        raise TransitionError("补正告知未载明补正期限，不能按逾期未补正终止")
    if f.today <= f.correction_period_end:
        raise TransitionError(f"补正期限（{f.correction_period_end.isoformat()}）尚未届满")


def _g_consultation_reply(f: CaseFacts, p: dict) -> None:
    if not f.open_consultations:
        raise TransitionError("没有尚未答复的征求意见")


def _g_reasons(f: CaseFacts, p: dict) -> None:
    if f.reasons_pending:
        raise TransitionError("已发出说明理由告知，尚待申请人答复")


def _g_reasons_reply(f: CaseFacts, p: dict) -> None:
    if not f.reasons_pending:
        raise TransitionError("没有待答复的说明理由告知")


def _g_fee_notice(f: CaseFacts, p: dict) -> None:
    if f.fee_unissued:
        raise TransitionError("已有尚未出具的收费通知书")
    if f.fee_pending:
        raise TransitionError("已有待缴费的收费通知")


def _g_fee_paid(f: CaseFacts, p: dict) -> None:
    if not f.fee_pending and f.fee_unissued:
        raise TransitionError("收费通知书尚未出具（须经法制审核后出具），出具后才能登记缴费")
    if not f.fee_pending:
        raise TransitionError("没有待缴费的收费通知")


def _g_fee_lapsed(f: CaseFacts, p: dict) -> None:
    _g_fee_paid(f, p)
    if f.fee_due and f.today <= f.fee_due:
        raise TransitionError(f"缴费期限（{f.fee_due.isoformat()}）尚未届满")


def _g_cohandle_reply(f: CaseFacts, p: dict) -> None:
    if not f.open_cohandlings:
        raise TransitionError("没有尚未回复的协办")


def _g_extend(f: CaseFacts, p: dict) -> None:
    if f.extension_days:
        raise TransitionError("答复期限只能延长一次（第三十三条）")
    days = p.get("days")
    if not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
        raise TransitionError(f"延长期限应为1至{MAX_EXTENSION_DAYS}个工作日", "days")
    if f.reply_due is None or f.clock_paused:
        raise TransitionError("计时暂停或停止期间不能批准延期")
    if f.today > f.reply_due:
        raise TransitionError(f"答复期限已于{f.reply_due.isoformat()}届满，延期须在期限届满前批准")


def _g_request_extension(f: CaseFacts, p: dict) -> None:
    if f.extension_requested:
        raise TransitionError("已提出延期申请，尚待负责人审批")
    _g_extend(f, p)
    if not (p.get("reason") or "").strip():
        raise TransitionError("请写明延期理由", "reason")


def _g_decline_extension(f: CaseFacts, p: dict) -> None:
    if not f.extension_requested:
        raise TransitionError("没有待审批的延期申请")
    if not (p.get("comments") or "").strip():
        raise TransitionError("不批准延期须写明意见", "comments")


def _g_submit(f: CaseFacts, p: dict) -> None:
    if not f.has_draft:
        raise TransitionError("尚未起草答复")
    if f.open_consultations:
        raise TransitionError("尚有征求意见未结束，不能提交审核")
    if f.reasons_pending:
        raise TransitionError("申请人尚未说明理由，不能提交审核")
    if f.fee_pending:
        raise TransitionError("申请人尚未缴费，不能提交审核")
    if f.fee_unissued:
        raise TransitionError("收费通知书尚未出具，不能提交审核")


def _g_approve(f: CaseFacts, p: dict) -> None:
    if not p.get("secrecy_reviewed"):
        raise TransitionError("须先完成保密审查（第十七条：先审查、后公开）", "secrecy_reviewed")
    if p.get("draft_hash") and p["draft_hash"] != f.draft_hash:
        raise TransitionError("审核的稿件已被修改，请刷新后重新审核", "draft_hash")


def _g_reopen(f: CaseFacts, p: dict) -> None:
    if not (p.get("reason") or "").strip():
        raise TransitionError("撤销归档须说明理由", "reason")


def _g_return(f: CaseFacts, p: dict) -> None:
    if not (p.get("comments") or "").strip():
        raise TransitionError("退回须填写意见", "comments")


def _g_sign(f: CaseFacts, p: dict) -> None:
    if not f.approved_hash or f.approved_hash != f.draft_hash:
        raise TransitionError("当前稿件未经法制审核通过，不能签发")


def _g_issue(f: CaseFacts, p: dict) -> None:
    if not f.draft_hash or not (f.draft_hash == f.approved_hash == f.signed_hash):
        raise TransitionError("出具的答复必须是法制审核通过并签发的同一稿件")


_GUARDS = {
    "request_correction": _g_correction,
    "correction_lapsed": _g_correction_lapsed,
    "consultation_reply": _g_consultation_reply,
    "request_reasons": _g_reasons,
    "reasons_reply": _g_reasons_reply,
    "fee_notice": _g_fee_notice,
    "fee_paid": _g_fee_paid,
    "fee_lapsed": _g_fee_lapsed,
    "cohandle_reply": _g_cohandle_reply,
    "extend": _g_extend,
    "request_extension": _g_request_extension,
    "decline_extension": _g_decline_extension,
    "submit_draft": _g_submit,
    "approve": _g_approve,
    "return_draft": _g_return,
    "reject_signoff": _g_return,
    "sign_off": _g_sign,
    "issue": _g_issue,
    "reopen": _g_reopen,
}
